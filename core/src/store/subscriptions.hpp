// Subscriptions to keys and categories, and the last version served for each
// key, to tell subscribers when a value changes (never what it is).
#ifndef COFFER_CORE_SUBSCRIPTIONS_HPP
#define COFFER_CORE_SUBSCRIPTIONS_HPP

#include <coffer/secret.hpp>
#include <coffer/store.hpp>

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/worker.hpp"

namespace coffer::detail {

class Subscriptions : public std::enable_shared_from_this<Subscriptions> {
 public:
  explicit Subscriptions(Worker &worker);
  ~Subscriptions();

  Subscription add(std::string target, std::function<void(const ChangeEvent &)> on_change);
  // Records the value served for `key` by `provider`. Posts a ChangeEvent to
  // the matching subscribers when the same provider now has another version,
  // or when another provider now serves it with a different value (told
  // apart by a keyed digest; a switch to a provider holding the same value is
  // no change).
  void observe(const std::string &key, const std::string &provider, const Secret &value);
  // Records that no provider has `key` (any more); a ChangeEvent with an
  // empty new version goes to the subscribers when it was seen before. A
  // subscribed key that is absent at its first read is remembered as absent,
  // so that its appearance later is a change too (with an empty old version).
  void observe_gone(const std::string &key);
  // The subscribed targets (keys or categories).
  [[nodiscard]] std::vector<std::string> targets() const;
  [[nodiscard]] bool empty() const { return count_.load(std::memory_order_relaxed) == 0; }

 private:
  struct Entry {
    std::string target;
    std::function<void(const ChangeEvent &)> callback;
    std::mutex running;  // held while the callback runs; cancel waits on it
    std::atomic<std::thread::id> runner{};
    bool cancelled = false;
  };
  void deliver(const std::shared_ptr<Entry> &entry, const ChangeEvent &event);
  // The subscriptions whose target covers `key`; the caller holds mutex_.
  std::vector<std::shared_ptr<Entry>> subscribers_of(const std::string &key) const;

  Worker &worker_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Entry>> entries_;
  std::atomic<std::size_t> count_{0};
  using Digest = std::array<unsigned char, 32>;
  struct Seen {
    std::string provider;
    std::string version;
    Digest digest{};
    bool absent = false;  // read, and no provider had it
  };
  Digest digest_of(const Secret &value) const;
  std::map<std::string, Seen> seen_;
  unsigned char digest_key_[32] = {};  // random per Store
};

}  // namespace coffer::detail

#endif  // COFFER_CORE_SUBSCRIPTIONS_HPP
