#include "token_cache.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace coffer::azure {
namespace {

using coffer::provider::Error;

// A failed background refresh is not repeated sooner than this.
constexpr int64_t kRefreshRetryMs = 5000;

Error closing() {
  return Error(COFFER_STATUS_UNAVAILABLE, "the instance is closing");
}

}  // namespace

int64_t usable_until(const AccessToken &token) {
  int64_t life = token.expires_at_ms - token.obtained_at_ms;
  return token.expires_at_ms - std::min<int64_t>(5000, std::max<int64_t>(life / 10, 0));
}

TokenCache::TokenCache(Fetch fetch, Now now, const coffer::provider::Host &log,
                       std::chrono::milliseconds background_timeout)
    : fetch_(std::move(fetch)),
      now_(std::move(now)),
      log_(log),
      background_timeout_(background_timeout) {}

bool TokenCache::usable(const Entry &entry, const AccessToken *stale, int64_t now) const {
  return entry.token && entry.token.get() != stale && now < usable_until(*entry.token);
}

asio::awaitable<std::shared_ptr<const AccessToken>> TokenCache::get(const TokenKey &key,
                                                                    Deadline deadline,
                                                                    const AccessToken *stale) {
  while (true) {
    if (closed_) throw closing();
    Entry &entry = entries_[key];
    const int64_t now = now_();
    if (usable(entry, stale, now)) {
      if (now >= entry.token->refresh_at_ms && !entry.fetching &&
          (entry.failed_at == 0 || now - entry.failed_at >= kRefreshRetryMs)) {
        entry.fetching = true;
        if (log_.enabled(COFFER_LOG_DEBUG))
          log_.debug("refreshing the access token for tenant " + key.tenant + ", scope " +
                     key.scope + " ahead of its expiry");
        auto executor = co_await asio::this_coro::executor;
        asio::co_spawn(executor, refresh(key, SteadyClock::now() + background_timeout_),
                       asio::detached);
      }
      co_return entry.token;
    }
    if (entry.fetching) {
      const uint64_t generation = entry.generation;
      const bool woken = co_await entry.done.wait(deadline);
      if (!woken)
        throw Error(COFFER_STATUS_TIMEOUT, "timed out waiting for an access token for tenant " +
                                               key.tenant + " (scope " + key.scope + ")");
      if (closed_) throw closing();
      Entry &after = entries_[key];
      if (after.generation != generation && after.error && !usable(after, stale, now_()))
        throw *after.error;
      continue;
    }
    entry.fetching = true;
    co_await refresh(key, deadline);
    if (closed_) throw closing();
    Entry &after = entries_[key];
    if (after.error && !usable(after, stale, now_())) throw *after.error;
  }
}

asio::awaitable<void> TokenCache::refresh(TokenKey key, Deadline deadline) {
  ++fetches_;
  log_.count("token_exchanges");
  std::shared_ptr<const AccessToken> fresh;
  std::optional<Error> failure;
  try {
    AccessToken token = co_await fetch_(key, deadline);
    fresh = std::make_shared<const AccessToken>(std::move(token));
  } catch (const Error &error) {
    failure = error;
  } catch (const std::exception &error) {
    failure = Error(COFFER_STATUS_INTERNAL, std::string("token exchange failed: ") + error.what());
  }
  if (closed_) co_return;
  Entry &entry = entries_[key];
  entry.fetching = false;
  ++entry.generation;
  if (fresh) {
    entry.token = std::move(fresh);
    entry.error.reset();
    entry.failed_at = 0;
    if (observer_) observer_(key, entry.token);
  } else {
    entry.error = std::move(failure);
    entry.failed_at = now_();
    if (entry.token)  // a background refresh: the current token still serves
      log_.warning(
          "refreshing the access token for tenant " + key.tenant +
          " failed; the current token stays in use until it expires: " + entry.error->what());
  }
  entry.done.notify_all();
}

void TokenCache::shutdown() {
  closed_ = true;
  for (auto &[key, entry] : entries_) {
    entry.token.reset();
    entry.done.notify_all();
  }
}

}  // namespace coffer::azure
