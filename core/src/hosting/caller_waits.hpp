// Whether the thread starting a provider's get blocks until that get
// completes (a synchronous Store::get): the provider may then complete it on
// this thread (COFFER_GET_CALLER_WAITS, ABI 1.5) instead of handing it to a
// thread of its own and back. Set for the synchronous part of a blocking get
// and cleared where a fetch starts that the caller does not wait for (a
// refresh behind a cache hit); a get started on any other thread (a
// provider's completion moving on to the next provider) sees it unset.
#ifndef COFFER_HOSTING_CALLER_WAITS_HPP
#define COFFER_HOSTING_CALLER_WAITS_HPP

namespace coffer::detail {

class CallerWaits {
 public:
  explicit CallerWaits(bool waits) noexcept : previous_(current_) { current_ = waits; }
  ~CallerWaits() { current_ = previous_; }
  CallerWaits(const CallerWaits &) = delete;
  CallerWaits &operator=(const CallerWaits &) = delete;

  // Whether this thread waits for the get it starts now.
  [[nodiscard]] static bool now() noexcept { return current_; }

 private:
  bool previous_;
  static inline thread_local bool current_ = false;
};

}  // namespace coffer::detail

#endif  // COFFER_HOSTING_CALLER_WAITS_HPP
