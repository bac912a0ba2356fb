// Where the provider runs its operations: inline on the caller's thread (an
// SQLite store: local, fast, the SDK's "synchronous provider" case) or on a
// small pool of the provider's own threads (PostgreSQL, where an operation
// waits on the network and may retry for seconds, which the ABI forbids on
// the caller's thread unless the caller waits anyway: a get marked
// COFFER_GET_CALLER_WAITS runs inline, see DatabaseProvider::get). The
// destructor runs every queued task, then joins.
// post() is thread-safe.
#ifndef COFFER_DATABASE_STORE_EXECUTOR_HPP
#define COFFER_DATABASE_STORE_EXECUTOR_HPP

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace coffer::database {

class Executor {
 public:
  // threads == 0: run tasks inline.
  explicit Executor(std::size_t threads);
  Executor(const Executor &) = delete;
  Executor &operator=(const Executor &) = delete;
  ~Executor();

  // Tasks must not throw.
  void post(std::function<void()> task);
  [[nodiscard]] bool is_inline() const noexcept { return threads_.empty(); }

 private:
  void work();
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace coffer::database

#endif  // COFFER_DATABASE_STORE_EXECUTOR_HPP
