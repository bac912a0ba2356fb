// coffer::Clock: the time a Store reads for its cache's lifetimes (the TTL,
// refresh-ahead, stale-if-error and the memory of a not-found).
//
// The default (StoreOptions::clock left empty) is the monotonic clock, read
// at tick resolution on the cache-hit path. A host or a test may supply its
// own to move time without waiting. now() is called from many threads at
// once, on the cache-hit path: it must be thread-safe, must not block and
// should be cheap. It must never go backwards. Deadlines of calls into
// providers, the subscription refresh and latency metrics keep to the
// system's monotonic clock.
#ifndef COFFER_CLOCK_HPP
#define COFFER_CLOCK_HPP

#include <chrono>

namespace coffer {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  [[nodiscard]] virtual time_point now() const noexcept = 0;
};

}  // namespace coffer

#endif  // COFFER_CLOCK_HPP
