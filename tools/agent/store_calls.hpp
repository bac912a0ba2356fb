// The Store from a coroutine: gets that do not block the connection's
// thread, and the blocking calls (a provider asked directly, bulk reads,
// reloads) run on a pool of their own so that no I/O thread waits on a
// backend.
#ifndef COFFER_AGENT_STORE_CALLS_HPP
#define COFFER_AGENT_STORE_CALLS_HPP

#include <coffer/store.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace coffer::agent {

// Gets whose answer is still to come from a Store or provider thread. The
// answer is posted to the I/O thread's event loop, which therefore must
// outlive it: the agent waits for wait_idle() before it destroys the loop.
class PendingGets {
 public:
  void begin() {
    std::lock_guard lock(mutex_);
    ++count_;
  }
  void end() {
    std::lock_guard lock(mutex_);
    if (--count_ == 0) idle_.notify_all();
  }
  // Returns once no answer is outstanding (each get ends by its deadline).
  void wait_idle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return count_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t count_ = 0;
};

// Store::get_async from a coroutine. A cache hit, which the Store answers
// before get_async returns, completes without leaving the coroutine's
// thread; any other answer resumes the coroutine on its executor. `key`,
// `options` and what it points to must stay alive until the call completes.
boost::asio::awaitable<Result> get_value(Store &store, PendingGets &pending, std::string_view key,
                                         GetOptions options);

// Runs `work` (a callable returning T) on `pool` and resumes with its result
// on the calling coroutine's executor. An exception thrown by `work` is
// rethrown in the caller.
template <class Work>
auto on_pool(boost::asio::thread_pool &pool, Work work)
    -> boost::asio::awaitable<decltype(work())> {
  using T = decltype(work());
  co_return co_await boost::asio::co_spawn(
      pool.get_executor(),
      [work = std::move(work)]() mutable -> boost::asio::awaitable<T> { co_return work(); },
      boost::asio::use_awaitable);
}

}  // namespace coffer::agent

#endif  // COFFER_AGENT_STORE_CALLS_HPP
