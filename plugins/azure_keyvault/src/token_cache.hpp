// Access tokens per (tenant, scope), shared by every request of an instance.
// A token is used until its refresh time, then refreshed in the background
// while it stays valid; a caller that needs a token nobody has waits for the
// one exchange in flight, however many callers there are (single flight).
// Used on the I/O thread only.
#ifndef COFFER_AZURE_TOKEN_CACHE_HPP
#define COFFER_AZURE_TOKEN_CACHE_HPP

#include "async.hpp"
#include "entra.hpp"

#include <coffer/provider.hpp>

#include <compare>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace coffer::azure {

struct TokenKey {
  std::string tenant;
  std::string scope;
  auto operator<=>(const TokenKey &) const = default;
};

// Until when a token is handed out: not in its last moments, min(5 s, a
// tenth of its life) before it expires.
int64_t usable_until(const AccessToken &token);

class TokenCache {
 public:
  // Obtains a new token, or throws coffer::provider::Error.
  using Fetch = std::function<asio::awaitable<AccessToken>(const TokenKey &, Deadline)>;
  // Wall-clock time in Unix milliseconds (the host's clock).
  using Now = std::function<int64_t()>;

  TokenCache(Fetch fetch, Now now, const coffer::provider::Host &log,
             std::chrono::milliseconds background_timeout);
  TokenCache(const TokenCache &) = delete;
  TokenCache &operator=(const TokenCache &) = delete;

  // A usable token for `key`. `stale` is a token the service refused: a
  // different, newer one is returned (fetched if need be). Throws
  // coffer::provider::Error: the exchange's own error, or
  // COFFER_STATUS_TIMEOUT when `deadline` passes while waiting.
  asio::awaitable<std::shared_ptr<const AccessToken>> get(const TokenKey &key, Deadline deadline,
                                                          const AccessToken *stale = nullptr);

  // Called on the I/O thread with every token an exchange brings, refreshes
  // in the background included.
  using Observer =
      std::function<void(const TokenKey &, const std::shared_ptr<const AccessToken> &)>;
  void on_new_token(Observer observer) { observer_ = std::move(observer); }

  // Fails waiting callers and refuses new ones; drops every token.
  void shutdown();

  // How many exchanges were started (for tests).
  [[nodiscard]] uint64_t fetches() const noexcept { return fetches_; }

 private:
  struct Entry {
    std::shared_ptr<const AccessToken> token;
    bool fetching = false;
    uint64_t generation = 0;                       // completed exchanges
    std::optional<coffer::provider::Error> error;  // of the last exchange
    int64_t failed_at = 0;
    Broadcast done;
  };

  [[nodiscard]] bool usable(const Entry &entry, const AccessToken *stale, int64_t now) const;
  asio::awaitable<void> refresh(TokenKey key, Deadline deadline);

  Fetch fetch_;
  Now now_;
  const coffer::provider::Host &log_;
  std::chrono::milliseconds background_timeout_;
  Observer observer_;
  std::map<TokenKey, Entry> entries_;
  uint64_t fetches_ = 0;
  bool closed_ = false;
};

}  // namespace coffer::azure

#endif  // COFFER_AZURE_TOKEN_CACHE_HPP
