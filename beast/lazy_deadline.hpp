// A connection's deadline on one timer that is re-armed lazily. Moving the
// deadline later, which every keep-alive request does, touches no timer:
// when the timer fires before the deadline it re-arms itself at it, and
// when the deadline has passed it calls `expire` (the connection cancels its
// socket's operations). Only a deadline brought earlier re-arms at once. A
// timer per read and write (Beast's basic_stream) cost timer-queue work and,
// on most requests, a timerfd_settime system call.
// Used on the connection's event loop only (not thread-safe). Shared by the
// agent's connections and the Key Vault plugin's HTTP client.
#ifndef COFFER_NET_LAZY_DEADLINE_HPP
#define COFFER_NET_LAZY_DEADLINE_HPP

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace coffer::net {

class LazyDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  LazyDeadline(const boost::asio::any_io_executor &executor, std::function<void()> expire);
  // Stops: `expire` is not called after this.
  ~LazyDeadline();
  LazyDeadline(const LazyDeadline &) = delete;
  LazyDeadline &operator=(const LazyDeadline &) = delete;

  // The deadline is `at` from now on; clears expired().
  void set(Clock::time_point at);
  // Whether `expire` was called for the deadline last set.
  [[nodiscard]] bool expired() const noexcept;

 private:
  struct State;
  static void arm(const std::shared_ptr<State> &state, Clock::time_point at);
  std::shared_ptr<State> state_;  // shared with the timer's pending handler
};

}  // namespace coffer::net

#endif  // COFFER_NET_LAZY_DEADLINE_HPP
