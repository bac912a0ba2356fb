#include "base/worker.hpp"

namespace coffer::detail {

Worker::Worker() : thread_([this] { run(); }) {}

Worker::~Worker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Worker::post(std::function<void()> task) {
  post_at(Clock::time_point::min(), std::move(task));
}

Worker::Timer Worker::post_at(Clock::time_point when, std::function<void()> task) {
  {
    std::unique_lock lock(mutex_);
    if (!stopped_) {
      Timer timer{when, ++next_id_};
      tasks_.emplace(when, Task{timer.id, std::move(task)});
      // A thread that will look before `when` anyway need not be woken: a
      // steady stream of deadlines, most of them cancelled, wakes it rarely.
      bool wake = when < wake_at_;
      lock.unlock();
      if (wake) wake_.notify_all();
      return timer;
    }
  }
  if (when == Clock::time_point::min()) task();
  return {};
}

void Worker::cancel(const Timer &timer) {
  std::function<void()> dropped;  // destroyed outside the lock: it may own anything
  {
    std::lock_guard lock(mutex_);
    auto [first, last] = tasks_.equal_range(timer.when);
    for (auto it = first; it != last; ++it) {
      if (it->second.id == timer.id) {
        dropped = std::move(it->second.run);
        tasks_.erase(it);
        break;
      }
    }
  }
}

bool Worker::on_worker_thread() const {
  return std::this_thread::get_id() == thread_.get_id();
}

void Worker::drain() {
  if (on_worker_thread()) return;
  std::unique_lock lock(mutex_);
  idle_.wait(lock,
             [&] { return !busy_ && (tasks_.empty() || tasks_.begin()->first > Clock::now()); });
}

void Worker::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) {
      // Run what is due and every immediate task (closes), drop timers.
      while (!tasks_.empty() && tasks_.begin()->first <= Clock::now()) {
        auto task = std::move(tasks_.begin()->second.run);
        tasks_.erase(tasks_.begin());
        lock.unlock();
        task();
        task = nullptr;  // what it owns goes outside the lock
        lock.lock();
      }
      stopped_ = true;
      tasks_.clear();
      idle_.notify_all();
      return;
    }
    if (tasks_.empty()) {
      idle_.notify_all();
      wake_at_ = Clock::time_point::max();
      wake_.wait(lock);
      wake_at_ = Clock::time_point::min();
      continue;
    }
    auto due = tasks_.begin()->first;
    if (due > Clock::now()) {
      idle_.notify_all();
      wake_at_ = due;
      wake_.wait_until(lock, due);
      wake_at_ = Clock::time_point::min();
      continue;
    }
    auto task = std::move(tasks_.begin()->second.run);
    tasks_.erase(tasks_.begin());
    busy_ = true;
    lock.unlock();
    task();
    task = nullptr;
    lock.lock();
    busy_ = false;
  }
}

}  // namespace coffer::detail
