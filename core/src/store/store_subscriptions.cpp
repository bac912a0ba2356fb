// Subscriptions: the periodic refresh of subscribed keys, which tells
// subscribers about changes.
#include "store/store_impl.hpp"

namespace coffer {

using SteadyClock = std::chrono::steady_clock;

void Store::Impl::refresh_subscribed() {
  // Held before closing_ is read: shutdown() sets closing_ and then waits for
  // every hold, so either it waits for this refresh or the refresh sees it.
  auto hold = tracker_.hold();
  if (closing_) return;
  auto snap = current();
  if (!snap) return;
  auto targets = subscriptions_->targets();
  for (const auto &entry : snap->catalog->entries()) {
    bool wanted = false;
    for (const auto &t : targets)
      wanted = wanted || t == entry.key || t == entry.category || t == "*";
    if (!wanted) continue;
    GetOptions options;
    options.bypass_cache = true;
    options.caller = "coffer:subscriptions";
    get_async(
        entry.key, [](Result) {}, options);
  }
}

void Store::Impl::schedule_refresh() {
  if (refresh_scheduled_.exchange(true)) return;
  auto snap = current();
  auto period = options_.subscription_refresh.count() > 0
                    ? options_.subscription_refresh
                    : std::chrono::duration_cast<std::chrono::milliseconds>(snap->policy.cache.ttl);
  if (period.count() <= 0) period = std::chrono::seconds(1);
  std::weak_ptr<Impl> weak = weak_from_this();
  auto tick = std::make_shared<std::function<void()>>();
  *tick = [weak, period, tick_ref = std::weak_ptr<std::function<void()>>(tick)] {
    auto self = weak.lock();
    if (!self || self->closing_) return;
    self->refresh_subscribed();
    if (auto next = tick_ref.lock())
      self->worker_->post_at(SteadyClock::now() + period, [next] { (*next)(); });
  };
  worker_->post_at(SteadyClock::now() + period, [tick] { (*tick)(); });
}

Subscription Store::subscribe(std::string key_or_category,
                              std::function<void(const ChangeEvent &)> on_change) {
  auto snap = impl_->snapshot();
  bool known = key_or_category == "*" || snap->catalog->contains(key_or_category);
  if (!known) {
    for (const auto &c : snap->catalog->categories()) known = known || c == key_or_category;
  }
  if (!known)
    throw Error(Code::invalid_argument, "cannot subscribe to '" + key_or_category +
                                            "': neither a catalog key nor a category");
  auto subscription = impl_->subscriptions_->add(std::move(key_or_category), std::move(on_change));
  impl_->worker_->post([weak = std::weak_ptr<Impl>(impl_)] {
    if (auto self = weak.lock()) self->refresh_subscribed();
  });
  impl_->schedule_refresh();
  return subscription;
}

}  // namespace coffer
