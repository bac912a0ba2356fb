// The panel's view of the audit trail: an Observer that keeps the last
// accesses and administrative actions the Store reports (who read or changed
// what, from which peer, with what outcome; never a value), newest last.
//
// serve opens the Store with it (alone or beside other observers) so that
// the panel can show what happened since the agent started; the audit log
// file remains the record.
//
// Threading: every method may be called from many threads at once.
#ifndef COFFER_ADMIN_RECENT_EVENTS_HPP
#define COFFER_ADMIN_RECENT_EVENTS_HPP

#include <coffer/store.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace coffer::admin {

struct RecordedEvent {
  std::chrono::system_clock::time_point time;
  std::string key;
  std::string provider;
  std::string operation;
  Code outcome = Code::ok;
  std::string message;
  std::string caller;
  std::string peer;  // "client NAME", "uid U gid G pid P", or empty
};

class RecentEvents : public Observer {
 public:
  explicit RecentEvents(std::size_t capacity = 200) : capacity_(capacity) {}

  void on_access(const AccessEvent &event) noexcept override;
  // The events kept, oldest first.
  [[nodiscard]] std::vector<RecordedEvent> events() const;

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<RecordedEvent> events_;
};

// Passes every event to each observer in turn (e.g. the agent's policy
// reporter and RecentEvents).
class ObserverFanOut : public Observer {
 public:
  explicit ObserverFanOut(std::vector<std::shared_ptr<Observer>> observers)
      : observers_(std::move(observers)) {}
  void on_access(const AccessEvent &event) noexcept override {
    for (const auto &observer : observers_) observer->on_access(event);
  }
  void on_policy(const PolicyEvent &event) noexcept override {
    for (const auto &observer : observers_) observer->on_policy(event);
  }

 private:
  std::vector<std::shared_ptr<Observer>> observers_;
};

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_RECENT_EVENTS_HPP
