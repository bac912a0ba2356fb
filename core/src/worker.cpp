#include "worker.hpp"

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

void Worker::post_at(Clock::time_point when, std::function<void()> task) {
  {
    std::unique_lock lock(mutex_);
    if (!stopped_) {
      tasks_.emplace(when, std::move(task));
      lock.unlock();
      wake_.notify_all();
      return;
    }
  }
  if (when == Clock::time_point::min()) task();
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
        auto task = std::move(tasks_.begin()->second);
        tasks_.erase(tasks_.begin());
        lock.unlock();
        task();
        lock.lock();
      }
      stopped_ = true;
      tasks_.clear();
      idle_.notify_all();
      return;
    }
    if (tasks_.empty()) {
      idle_.notify_all();
      wake_.wait(lock);
      continue;
    }
    auto due = tasks_.begin()->first;
    if (due > Clock::now()) {
      idle_.notify_all();
      wake_.wait_until(lock, due);
      continue;
    }
    auto task = std::move(tasks_.begin()->second);
    tasks_.erase(tasks_.begin());
    busy_ = true;
    lock.unlock();
    task();
    lock.lock();
    busy_ = false;
  }
}

}  // namespace coffer::detail
