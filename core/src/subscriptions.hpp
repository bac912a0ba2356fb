// Subscriptions to keys and categories, and the last version served for each
// key, to tell subscribers when a value changes (never what it is).
#ifndef COFFER_CORE_SUBSCRIPTIONS_HPP
#define COFFER_CORE_SUBSCRIPTIONS_HPP

#include <coffer/store.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "worker.hpp"

namespace coffer::detail {

class Subscriptions : public std::enable_shared_from_this<Subscriptions> {
 public:
  explicit Subscriptions(Worker &worker) : worker_(worker) {}

  Subscription add(std::string target, std::function<void(const ChangeEvent &)> on_change);
  // Records the version served for `key` by `provider`; when it differs from
  // the last one seen, posts a ChangeEvent to the matching subscribers.
  void observe(const std::string &key, const std::string &provider, const std::string &version);
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

  Worker &worker_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Entry>> entries_;
  std::atomic<std::size_t> count_{0};
  std::map<std::string, std::pair<std::string, std::string>> seen_;  // key -> provider, version
};

}  // namespace coffer::detail

#endif  // COFFER_CORE_SUBSCRIPTIONS_HPP
