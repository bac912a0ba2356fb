#include "store/subscriptions.hpp"

#include <coffer/catalog.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>

#include "base/secure_memory.hpp"

namespace coffer::detail {

Subscriptions::Subscriptions(Worker &worker) : worker_(worker) {
  if (RAND_bytes(digest_key_, sizeof digest_key_) != 1)
    throw Error(Code::internal, "cannot draw random bytes");
}

Subscriptions::~Subscriptions() {
  wipe(digest_key_, sizeof digest_key_);
}

Subscriptions::Digest Subscriptions::digest_of(const Secret &value) const {
  Digest out{};
  auto bytes = value.bytes();
  std::size_t size = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, digest_key_, sizeof digest_key_,
            bytes.data(), bytes.size(), out.data(), out.size(), &size);
  return out;
}

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

std::vector<std::shared_ptr<Subscriptions::Entry>> Subscriptions::subscribers_of(
    const std::string &key) const {
  std::vector<std::shared_ptr<Entry>> matches;
  std::string_view category = category_of(key);
  for (const auto &e : entries_)
    if (e->target == key || e->target == category || e->target == "*") matches.push_back(e);
  return matches;
}

void Subscriptions::observe(const std::string &key, const std::string &provider,
                            const Secret &value) {
  std::vector<std::shared_ptr<Entry>> matches;
  ChangeEvent event;
  const std::string_view version = value.version();
  {
    std::lock_guard lock(mutex_);
    auto found = seen_.find(key);
    bool first = found == seen_.end();
    Seen &last = first ? seen_[key] : found->second;
    if (!first && !last.absent && last.provider == provider && last.version == version) return;
    Digest digest = digest_of(value);
    bool appeared = last.absent;
    bool moved_same_value = !appeared && last.provider != provider && digest == last.digest;
    event.key = key;
    event.provider = provider;
    event.old_provider = last.provider;
    event.old_version = last.version;
    event.new_version = version;
    last = {provider, std::string(version), digest, false};
    if (first || moved_same_value) return;
    matches = subscribers_of(key);
  }
  for (auto &e : matches) worker_.post([this, e, event] { deliver(e, event); });
}

void Subscriptions::observe_gone(const std::string &key) {
  std::vector<std::shared_ptr<Entry>> matches;
  ChangeEvent event;
  {
    std::lock_guard lock(mutex_);
    auto it = seen_.find(key);
    if (it == seen_.end()) {
      // The first read of a subscribed key found nothing: remember that, so
      // that the key's appearance is a change (and not a first read).
      if (!subscribers_of(key).empty()) seen_[key].absent = true;
      return;
    }
    if (it->second.absent) return;
    event.key = key;
    event.old_provider = it->second.provider;
    event.old_version = it->second.version;
    it->second = Seen();
    it->second.absent = true;
    matches = subscribers_of(key);
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
