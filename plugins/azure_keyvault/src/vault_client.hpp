// Key Vault's secrets API for one vault: get, set, delete and list, each with
// the challenge flow (a 401 answer names tenant and resource, which are
// checked and remembered; the first request goes with a token when they are
// known from the configuration, else without one to learn them), tokens from a
// TokenCache, and retries with backoff on transient failures, bounded by
// attempts and the operation's deadline. Used on the I/O thread, but for
// get_secret_here().
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
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace coffer::azure {

class VaultClient {
 public:
  // `io` runs the I/O thread. `now` is the host's wall clock (Unix ms), used
  // for token lifetimes and Retry-After dates.
  VaultClient(const Config &config, const coffer::provider::Host &log, asio::io_context &io,
              HttpClient &http, Credential &credential, std::function<int64_t()> now);
  VaultClient(const VaultClient &) = delete;
  VaultClient &operator=(const VaultClient &) = delete;

  // Every operation throws coffer::provider::Error on failure. `key` is the
  // canonical key, for messages (may be empty).
  asio::awaitable<SecretBundle> get_secret(const std::string &name, const std::string &version,
                                           const std::string &key, Deadline deadline);
  // get_secret() for a caller that blocks until the answer anyway, on its
  // thread: with a token for the known challenge in hand, the request goes
  // out on a lane (HttpClient::send_here) and a 2xx answer is parsed here.
  // The rest runs on the I/O thread as get_secret() does, carrying on from
  // this attempt: the first token, a 401, a retry, a garbled answer, no free
  // lane. Blocks; thread-safe; not on the I/O thread.
  SecretBundle get_secret_here(const std::string &name, const std::string &version,
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

  // The attempts of one call (or token request) so far, for the retry policy
  // and the messages.
  struct Attempts {
    int count = 0;
    SteadyClock::time_point started = SteadyClock::now();
    std::string last_failure;
    std::optional<std::chrono::milliseconds> hint;  // the server's Retry-After
    // Counts an attempt that starts now.
    int begin() {
      hint.reset();
      return ++count;
    }
  };
  // How a retry loop names what it retries: the log line says SUBJECT
  // "failed (...); retrying", the final error GAVE_UP "after N attempts".
  struct RetryWording {
    std::string subject;
    std::string gave_up;
  };
  // What a call learnt about authentication over its attempts.
  struct ChallengeRound {
    std::shared_ptr<const AccessToken> refused;  // a token the vault refused
    int without_token = 0;                       // 401 answers to requests without a token
  };
  // What one request to the vault came to.
  struct Exchange {
    enum class Next { parse, ask_again, retry } next;
    HttpResponse response;  // next == parse: the answer to parse
  };
  // The turn of the one request that learns the vault's challenge while the
  // others wait for it; an inactive turn when the challenge is known. Ends the
  // probe (and wakes the waiters) when destroyed, whichever way the attempt
  // ends.
  class ProbeTurn {
   public:
    ProbeTurn() = default;
    explicit ProbeTurn(VaultClient &client) : client_(&client) {}
    ProbeTurn(ProbeTurn &&other) noexcept : client_(std::exchange(other.client_, nullptr)) {}
    ProbeTurn &operator=(ProbeTurn &&) = delete;
    ~ProbeTurn();

   private:
    VaultClient *client_ = nullptr;
  };

  // An attempt made on a waiting caller's thread, for the I/O thread to
  // carry on from.
  struct FirstAttempt {
    Attempts attempts;
    HttpResult result;
    std::shared_ptr<const AccessToken> token;
  };
  // Sends `call` until the vault answers it, parses the answer with `parse`
  // and returns what it returns; retries per the retry policy. With `first`,
  // starts from that attempt's result.
  template <class Parse>
  asio::awaitable<std::invoke_result_t<Parse &, HttpResponse &>> execute(
      Call &call, Deadline deadline, Parse parse, std::optional<FirstAttempt> first = std::nullopt);
  // One attempt of `call`: a turn at the challenge, a token, the request.
  // Throws for an answer that no retry can change.
  asio::awaitable<Exchange> exchange_once(const Call &call, Deadline deadline, Attempts &attempts,
                                          ChallengeRound &round);
  // What an attempt's result means for the call: parse it, ask again (a 401
  // learnt from) or retry. Throws for an answer that no retry can change.
  Exchange judge(const Call &call, HttpResult &result,
                 const std::shared_ptr<const AccessToken> &token, Attempts &attempts,
                 ChallengeRound &round);
  Call get_call(const std::string &name, const std::string &version, const std::string &key) const;
  // Runs `operation` on the I/O thread; blocks until it ends.
  template <class T>
  T on_io_thread(asio::awaitable<T> operation);
  // The token for the challenge in force while it is usable, for a waiting
  // caller's thread; null without one. Past its refresh time, asks the I/O
  // thread (once) to refresh it.
  std::shared_ptr<const AccessToken> ready_token();
  // Whether the vault's challenge is known (from the configuration or a 401),
  // for a waiting caller's thread.
  bool challenge_known();
  // Offers a token for the waiting callers' threads; kept when it is for the
  // challenge in force.
  void publish(const TokenKey &key, const std::shared_ptr<const AccessToken> &token);
  // Waits while another request learns the challenge; takes the turn when
  // the challenge is unknown and nobody is learning it.
  asio::awaitable<ProbeTurn> take_probe_turn(const Call &call, Deadline deadline);
  // A token for the challenge learnt, other than `refused`; none before that.
  asio::awaitable<std::shared_ptr<const AccessToken>> vault_token(Deadline deadline,
                                                                  const AccessToken *refused);
  HttpRequest vault_request(const Call &call, const AccessToken *token,
                            const std::string &client_request_id) const;
  // Checks and remembers the challenge of a 401 answer; throws DENIED when it
  // is missing, names another resource or another tenant.
  void learn_challenge(const Call &call, const HttpResponse &response, bool sent_token);
  void log_exchange(const HttpRequest &request, const HttpResult &result,
                    SteadyClock::time_point sent, const std::string &details) const;
  // After a failed attempt: waits the retry policy's delay, or throws
  // (TIMEOUT at the deadline, else UNAVAILABLE) when no attempt is left.
  asio::awaitable<void> wait_to_retry(const Attempts &attempts, Deadline deadline,
                                      const RetryWording &wording);
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
  asio::io_context &io_;
  HttpClient &http_;
  Credential &credential_;
  std::function<int64_t()> now_;
  TokenCache tokens_;
  std::optional<Challenge> challenge_;  // expected, or learnt from the vault's 401
  bool probing_ = false;                // a request is learning the challenge
  Broadcast challenge_learnt_;
  Broadcast closing_;
  bool closed_ = false;
  std::mt19937_64 random_;
  // What waiting callers' threads read: the token key of the challenge in
  // force and its current token (see publish()).
  std::mutex ready_mutex_;
  std::optional<TokenKey> ready_key_;
  std::shared_ptr<const AccessToken> ready_token_;
  const AccessToken *refresh_asked_ = nullptr;  // ready_token_, once a refresh was asked for it
};

}  // namespace coffer::azure

#endif  // COFFER_AZURE_VAULT_CLIENT_HPP
