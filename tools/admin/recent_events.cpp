#include "recent_events.hpp"

namespace coffer::admin {
namespace {

std::string describe(const Peer *peer) {
  if (peer == nullptr) return {};
  if (!peer->client.empty()) return "client " + peer->client;
  return "uid " + std::to_string(peer->uid) + " gid " + std::to_string(peer->gid) + " pid " +
         std::to_string(peer->pid);
}

}  // namespace

void RecentEvents::on_access(const AccessEvent &event) noexcept {
  try {
    RecordedEvent recorded{.time = std::chrono::system_clock::now(),
                           .key = std::string(event.key),
                           .provider = std::string(event.provider),
                           .operation = std::string(event.operation),
                           .outcome = event.outcome,
                           .message = std::string(event.message),
                           .caller = std::string(event.caller),
                           .peer = describe(event.peer)};
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(recorded));
    while (events_.size() > capacity_) events_.pop_front();
  } catch (...) {  // an observer must not throw; an event lost here is still in the audit log
  }
}

std::vector<RecordedEvent> RecentEvents::events() const {
  std::lock_guard lock(mutex_);
  return {events_.begin(), events_.end()};
}

}  // namespace coffer::admin
