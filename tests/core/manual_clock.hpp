// A coffer::Clock that stands still until a test moves it, so that cache
// lifetimes expire on cue instead of after a sleep.
#ifndef COFFER_TESTS_CORE_MANUAL_CLOCK_HPP
#define COFFER_TESTS_CORE_MANUAL_CLOCK_HPP

#include <coffer/clock.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace coffer::test {

class ManualClock final : public coffer::Clock {
 public:
  // Starts where the monotonic clock is, so that lifetimes computed by either
  // clock are comparable.
  ManualClock() : ns_(std::chrono::steady_clock::now().time_since_epoch().count()) {}
  [[nodiscard]] time_point now() const noexcept override {
    return time_point(time_point::duration(ns_.load()));
  }
  void advance(std::chrono::nanoseconds by) { ns_ += by.count(); }

 private:
  std::atomic<std::int64_t> ns_;
};

}  // namespace coffer::test

#endif  // COFFER_TESTS_CORE_MANUAL_CLOCK_HPP
