#include "subscriptions.hpp"

#include <coffer/catalog.hpp>

#include <algorithm>

namespace coffer::detail {

Subscription Subscriptions::add(std::string target,
                                std::function<void(const ChangeEvent &)> on_change) {
  auto entry = std::make_shared<Entry>();
  entry->target = std::move(target);
  entry->callback = std::move(on_change);
  {
    std::lock_guard lock(mutex_);
    entries_.push_back(entry);
    count_ = entries_.size();
  }
  std::weak_ptr<Entry> weak = entry;
  // A Subscription may outlive its Store: then there is nothing to cancel.
  std::weak_ptr<Subscriptions> owner = weak_from_this();
  return Subscription([owner, weak] {
    auto self = owner.lock();
    auto e = weak.lock();
    if (!self || !e) return;
    {
      std::lock_guard lock(self->mutex_);
      self->entries_.erase(std::remove(self->entries_.begin(), self->entries_.end(), e),
                           self->entries_.end());
      self->count_ = self->entries_.size();
    }
    // Wait for a running callback, unless we are inside it.
    if (e->runner == std::this_thread::get_id()) {
      e->cancelled = true;
      return;
    }
    std::lock_guard running(e->running);
    e->cancelled = true;
  });
}

void Subscriptions::observe(const std::string &key, const std::string &provider,
                            const std::string &version) {
  std::vector<std::shared_ptr<Entry>> matches;
  ChangeEvent event;
  {
    std::lock_guard lock(mutex_);
    auto &last = seen_[key];
    bool first = last.second.empty() && last.first.empty();
    if (!first && last.second == version) {
      last.first = provider;
      return;
    }
    event.key = key;
    event.provider = provider;
    event.old_version = last.second;
    event.new_version = version;
    last = {provider, version};
    if (first) return;
    std::string category(category_of(key));
    for (const auto &e : entries_)
      if (e->target == key || e->target == category || e->target == "*") matches.push_back(e);
  }
  for (auto &e : matches) worker_.post([this, e, event] { deliver(e, event); });
}

void Subscriptions::deliver(const std::shared_ptr<Entry> &entry, const ChangeEvent &event) {
  std::lock_guard running(entry->running);
  if (entry->cancelled) return;
  entry->runner = std::this_thread::get_id();
  try {
    entry->callback(event);
  } catch (...) {  // a subscriber's failure must not stop the others
  }
  entry->runner = std::thread::id();
}

std::vector<std::string> Subscriptions::targets() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto &e : entries_) out.push_back(e->target);
  return out;
}

}  // namespace coffer::detail
