// A background thread that runs tasks now or at a time: closing provider
// instances (never on a provider's own thread), refreshing subscribed keys,
// delivering change events, watching the policy file; a second one enforces
// the deadlines of calls into providers.
#ifndef COFFER_CORE_WORKER_HPP
#define COFFER_CORE_WORKER_HPP

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace coffer::detail {

class Worker {
 public:
  using Clock = std::chrono::steady_clock;
  Worker();
  // Runs every task already posted, then stops. Tasks posted afterwards run
  // on the posting thread.
  ~Worker();
  Worker(const Worker &) = delete;
  Worker &operator=(const Worker &) = delete;

  // Names a task posted for later, to cancel it.
  struct Timer {
    Clock::time_point when{};
    std::uint64_t id = 0;
  };

  void post(std::function<void()> task);
  Timer post_at(Clock::time_point when, std::function<void()> task);
  // Drops a task that has not started; a no-op for one that ran or runs.
  void cancel(const Timer &timer);
  [[nodiscard]] bool on_worker_thread() const;
  // Waits until every task due now has run.
  void drain();

 private:
  void run();
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  struct Task {
    std::uint64_t id = 0;
    std::function<void()> run;
  };
  std::multimap<Clock::time_point, Task> tasks_;
  std::uint64_t next_id_ = 0;
  // When the thread looks at the tasks next by itself; min() while it runs.
  Clock::time_point wake_at_ = Clock::time_point::min();
  bool stopping_ = false;
  bool stopped_ = false;
  bool busy_ = false;
  std::thread thread_;
};

}  // namespace coffer::detail

#endif  // COFFER_CORE_WORKER_HPP
