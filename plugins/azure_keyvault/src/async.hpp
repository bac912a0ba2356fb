// Small coroutine primitives for the instance's I/O thread. Everything here is
// used from that one thread only (no locking): a Broadcast that coroutines
// wait on with a deadline, which also serves as the shutdown signal that cuts
// every sleep short.
//
// A rule for every coroutine of this plugin: GCC 12 miscompiles `co_await`
// inside a condition (`if (!co_await x)`) and destroys temporaries of a
// `co_await` operand twice. Bind awaited results and arguments to named
// variables first.
#ifndef COFFER_AZURE_ASYNC_HPP
#define COFFER_AZURE_ASYNC_HPP

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <list>

namespace coffer::azure {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;
using Deadline = SteadyClock::time_point;

// Coroutines wait until notify_all() or their deadline, whichever comes first.
class Broadcast {
 public:
  Broadcast() = default;
  Broadcast(const Broadcast &) = delete;
  Broadcast &operator=(const Broadcast &) = delete;
  ~Broadcast() { notify_all(); }

  // True when woken by notify_all(), false when the deadline passed first.
  asio::awaitable<bool> wait(Deadline deadline) {
    asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
    Waiter waiter{&timer, false};
    auto position = waiters_.insert(waiters_.end(), &waiter);
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (!waiter.notified) waiters_.erase(position);
    co_return waiter.notified;
  }

  void notify_all() {
    std::list<Waiter *> waking;
    waking.swap(waiters_);
    for (Waiter *waiter : waking) {
      waiter->notified = true;
      waiter->timer->cancel();
    }
  }

  [[nodiscard]] std::size_t waiting() const noexcept { return waiters_.size(); }

 private:
  struct Waiter {
    asio::steady_timer *timer;
    bool notified;
  };
  std::list<Waiter *> waiters_;
};

inline Deadline earliest(Deadline a, Deadline b) {
  return a < b ? a : b;
}

inline std::chrono::milliseconds remaining(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return left.count() > 0 ? left : std::chrono::milliseconds(0);
}

}  // namespace coffer::azure

#endif  // COFFER_AZURE_ASYNC_HPP
