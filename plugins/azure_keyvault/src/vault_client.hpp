// Key Vault's secrets API for one vault: get, set, delete and list, each with
// the challenge flow (the first request goes without a token, the 401 answer
// names tenant and resource, which are checked and remembered), tokens from a
// TokenCache, and retries with backoff on transient failures, bounded by
// attempts and the operation's deadline. Used on the I/O thread only.
#ifndef COFFER_AZURE_VAULT_CLIENT_HPP
#define COFFER_AZURE_VAULT_CLIENT_HPP

#include "async.hpp"
#include "challenge.hpp"
#include "config.hpp"
#include "credential.hpp"
#include "http.hpp"
#include "token_cache.hpp"
#include "vault_response.hpp"

#include <coffer/provider.hpp>

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace coffer::azure {

class VaultClient {
 public:
  // `now` is the host's wall clock (Unix ms), used for token lifetimes and
  // Retry-After dates.
  VaultClient(const Config &config, const coffer::provider::Host &log, HttpClient &http,
              Credential &credential, std::function<int64_t()> now);
  VaultClient(const VaultClient &) = delete;
  VaultClient &operator=(const VaultClient &) = delete;

  // Every operation throws coffer::provider::Error on failure. `key` is the
  // canonical key, for messages (may be empty).
  asio::awaitable<SecretBundle> get_secret(const std::string &name, const std::string &version,
                                           const std::string &key, Deadline deadline);
  asio::awaitable<SecretBundle> set_secret(const std::string &name,
                                           const coffer::provider::SecretBytes &value,
                                           const std::string &key, Deadline deadline);
  asio::awaitable<void> delete_secret(const std::string &name, const std::string &key,
                                      Deadline deadline);
  // Every secret of the vault, following nextLink to the last page; with
  // `first_page_only`, one page of at most one item (a cheap probe).
  asio::awaitable<std::vector<SecretItem>> list_secrets(Deadline deadline,
                                                        bool first_page_only = false);
  // Every version of secret `name` (GET /secrets/{name}/versions, following
  // nextLink), newest first; NOT_FOUND when the secret does not exist.
  asio::awaitable<std::vector<SecretItem>> list_versions(const std::string &name,
                                                         const std::string &key, Deadline deadline);
  // Purges the deleted secret `name` (DELETE /deletedsecrets/{name}). While
  // the vault is still deleting it (409 ObjectIsBeingDeleted), waits for the
  // deleted secret to appear (GET /deletedsecrets/{name}, as the SDKs' delete
  // pollers do) with the retry policy's delays, then purges. NOT_FOUND when
  // the vault holds no deleted secret of that name; DENIED for purge
  // protection or a missing permission.
  asio::awaitable<void> purge_secret(const std::string &name, const std::string &key,
                                     Deadline deadline);

  // Ends sleeps and waits, refuses new requests.
  void shutdown();

  [[nodiscard]] const TokenCache &tokens() const noexcept { return tokens_; }
  [[nodiscard]] const std::string &vault_host() const noexcept {
    return config_.vault.endpoint.host;
  }

 private:
  struct Call {
    std::string method;
    std::string target;  // path and query
    coffer::provider::SecretBytes body;
    FailureContext context;
    unsigned also_accept = 0;  // a status other than 2xx that `parse` answers
  };
  // Follows a listing's nextLink pages; each must continue under `prefix`.
  asio::awaitable<std::vector<SecretItem>> list_pages(Call &call, Deadline deadline,
                                                      const std::string &prefix,
                                                      bool first_page_only);

  template <class Parse>
  asio::awaitable<std::invoke_result_t<Parse &, HttpResponse &>> execute(Call &call,
                                                                         Deadline deadline,
                                                                         Parse parse);
  asio::awaitable<AccessToken> fetch_token(const TokenKey &key, Deadline deadline);
  // Sleeps before a retry; false when the instance closes meanwhile.
  asio::awaitable<bool> pause(std::chrono::milliseconds delay);
  [[nodiscard]] std::optional<std::chrono::milliseconds> server_delay(
      const HttpResponse &response) const;
  [[nodiscard]] double random01();
  [[nodiscard]] std::string request_id();
  std::string api_query() const;

  const Config &config_;
  const coffer::provider::Host &log_;
  HttpClient &http_;
  Credential &credential_;
  std::function<int64_t()> now_;
  TokenCache tokens_;
  std::optional<Challenge> challenge_;  // learnt from the vault's 401
  bool probing_ = false;                // a request is learning the challenge
  Broadcast challenge_learnt_;
  Broadcast closing_;
  bool closed_ = false;
  std::mt19937_64 random_;
};

}  // namespace coffer::azure

#endif  // COFFER_AZURE_VAULT_CLIENT_HPP
