// Counts operations in flight so that a Store can wait for them all before it
// closes its providers.
#ifndef COFFER_CORE_TRACKER_HPP
#define COFFER_CORE_TRACKER_HPP

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace coffer::detail {

class Tracker {
 public:
  class Hold {
   public:
    Hold() = default;
    explicit Hold(Tracker *tracker) : tracker_(tracker) {
      if (tracker_ != nullptr) tracker_->enter();
    }
    Hold(Hold &&other) noexcept : tracker_(other.tracker_) { other.tracker_ = nullptr; }
    Hold(const Hold &other) : Hold(other.tracker_) {}
    Hold &operator=(Hold other) noexcept {
      std::swap(tracker_, other.tracker_);
      return *this;
    }
    ~Hold() {
      if (tracker_ != nullptr) tracker_->leave();
    }

   private:
    Tracker *tracker_ = nullptr;
  };

  Hold hold() { return Hold(this); }
  void wait_idle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return count_ == 0; });
  }
  // False when operations are still running after `limit`.
  bool wait_idle_for(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, limit, [&] { return count_ == 0; });
  }
  [[nodiscard]] long running() {
    std::lock_guard lock(mutex_);
    return count_;
  }

 private:
  void enter() {
    std::lock_guard lock(mutex_);
    ++count_;
  }
  void leave() {
    std::lock_guard lock(mutex_);
    if (--count_ == 0) idle_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable idle_;
  long count_ = 0;
};

}  // namespace coffer::detail

#endif  // COFFER_CORE_TRACKER_HPP
