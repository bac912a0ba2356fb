#include "vault_client.hpp"

#include "handoff.hpp"
#include "retry.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>

namespace coffer::azure {
namespace {

using coffer::provider::Error;
using coffer::provider::SecretBytes;

Error closing() {
  return Error(COFFER_STATUS_UNAVAILABLE, "the instance is closing");
}

std::string elapsed_since(SteadyClock::time_point start) {
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
  return std::to_string(millis) + " ms";
}

std::string status_text(const HttpResponse &response) {
  VaultError error = parse_vault_error(response.body.view());
  std::string codes = error.code;
  if (!error.inner_code.empty()) codes += (codes.empty() ? "" : "/") + error.inner_code;
  return "HTTP " + std::to_string(response.status) + (codes.empty() ? "" : " " + codes);
}

}  // namespace

VaultClient::VaultClient(const Config &config, const coffer::provider::Host &log,
                         asio::io_context &io, HttpClient &http, Credential &credential,
                         std::function<int64_t()> now)
    : config_(config),
      log_(log),
      io_(io),
      http_(http),
      credential_(credential),
      now_(std::move(now)),
      tokens_([this](const TokenKey &key, Deadline deadline) { return fetch_token(key, deadline); },
              now_, log, config.retry.operation_timeout),
      challenge_(expected_challenge(config)),
      random_(std::random_device{}()) {
  tokens_.on_new_token(
      [this](const TokenKey &key, const std::shared_ptr<const AccessToken> &token) {
        publish(key, token);
      });
  if (challenge_) ready_key_ = TokenKey{challenge_->tenant, challenge_->scope};
  if (challenge_)
    log_.debug("vault " + config.vault.endpoint.host + ": sending a token of tenant " +
               challenge_->tenant + " for scope " + challenge_->scope +
               " with the first request (the vault host's cloud; send_token_first)");
}

void VaultClient::shutdown() {
  closed_ = true;
  {
    std::lock_guard lock(ready_mutex_);
    ready_key_.reset();
    ready_token_.reset();
  }
  challenge_learnt_.notify_all();
  closing_.notify_all();
  tokens_.shutdown();
}

double VaultClient::random01() {
  return std::uniform_real_distribution<double>(0.0, 1.0)(random_);
}

std::string VaultClient::request_id() {
  static constexpr char hex[] = "0123456789abcdef";
  thread_local std::mt19937_64 generator(std::random_device{}());  // any caller's thread
  uint64_t high = generator();
  uint64_t low = generator();
  std::string id;
  for (int i = 0; i < 32; ++i) {
    uint64_t &source = i < 16 ? high : low;
    unsigned nibble = static_cast<unsigned>(source & 0xf);
    source >>= 4;
    if (i == 12) nibble = 4;                 // version 4
    if (i == 16) nibble = 8 | (nibble & 3);  // variant 10xx
    id.push_back(hex[nibble]);
    if (i == 7 || i == 11 || i == 15 || i == 19) id.push_back('-');
  }
  return id;
}

std::string VaultClient::api_query() const {
  return "api-version=" + config_.api_version;
}

std::optional<std::chrono::milliseconds> VaultClient::server_delay(
    const HttpResponse &response) const {
  if (!response.retry_after_ms.empty())
    if (auto delay = parse_retry_after_ms(response.retry_after_ms)) return delay;
  if (!response.retry_after.empty()) return parse_retry_after(response.retry_after, now_());
  return std::nullopt;
}

asio::awaitable<bool> VaultClient::pause(std::chrono::milliseconds delay) {
  bool woken = co_await closing_.wait(SteadyClock::now() + delay);
  co_return !woken && !closed_;
}

VaultClient::ProbeTurn::~ProbeTurn() {
  if (client_ == nullptr) return;
  client_->probing_ = false;
  client_->challenge_learnt_.notify_all();
}

template <class Parse>
asio::awaitable<std::invoke_result_t<Parse &, HttpResponse &>> VaultClient::execute(
    Call &call, Deadline deadline, Parse parse, std::optional<FirstAttempt> first) {
  const std::string subject =
      "vault " + config_.vault.endpoint.host + ": " + describe_operation(call.context);
  const RetryWording wording{.subject = subject, .gave_up = subject + " failed"};
  Attempts attempts = first ? first->attempts : Attempts{};
  ChallengeRound round;
  while (true) {
    Exchange exchange{.next = Exchange::Next::retry, .response = {}};
    if (first) {
      exchange = judge(call, first->result, first->token, attempts, round);
      first.reset();
    } else {
      exchange = co_await exchange_once(call, deadline, attempts, round);
    }
    if (exchange.next == Exchange::Next::ask_again) continue;
    if (exchange.next == Exchange::Next::parse) {
      try {
        co_return parse(exchange.response);
      } catch (const Error &error) {
        if (error.status() != COFFER_STATUS_UNAVAILABLE) throw;
        attempts.last_failure = error.what();  // a garbled answer: worth another attempt
      }
    }
    co_await wait_to_retry(attempts, deadline, wording);
  }
}

asio::awaitable<VaultClient::Exchange> VaultClient::exchange_once(const Call &call,
                                                                  Deadline deadline,
                                                                  Attempts &attempts,
                                                                  ChallengeRound &round) {
  const ProbeTurn turn = co_await take_probe_turn(call, deadline);
  const std::shared_ptr<const AccessToken> token =
      co_await vault_token(deadline, round.refused.get());
  const int attempt = attempts.begin();
  const std::string client_request_id = request_id();
  HttpRequest request = vault_request(call, token.get(), client_request_id);
  const auto sent = SteadyClock::now();
  HttpResult result = co_await http_.send(request, deadline);
  log_exchange(request, result, sent,
               "attempt " + std::to_string(attempt) + (token ? ", with token" : ", without token") +
                   ", client request id " + client_request_id);
  co_return judge(call, result, token, attempts, round);
}

VaultClient::Exchange VaultClient::judge(const Call &call, HttpResult &result,
                                         const std::shared_ptr<const AccessToken> &token,
                                         Attempts &attempts, ChallengeRound &round) {
  if (!result.ok()) {
    if (result.error == TransportError::shutdown) throw closing();
    if (!result.retryable)
      throw Error(COFFER_STATUS_UNAVAILABLE, "vault " + config_.vault.endpoint.host + ": " +
                                                 describe_operation(call.context) +
                                                 " failed: " + result.message);
    attempts.last_failure = result.message;
    return Exchange{.next = Exchange::Next::retry, .response = {}};
  }
  HttpResponse &response = result.response;
  const unsigned status = response.status;
  if (status == 401) {
    learn_challenge(call, response, token != nullptr);
    if (token) {
      if (round.refused) throw describe_vault_failure(status, response.body.view(), call.context);
      round.refused = token;  // get a fresh one and try once more
    } else if (++round.without_token > 2) {
      throw Error(COFFER_STATUS_DENIED, "vault " + config_.vault.endpoint.host +
                                            " keeps answering 401 to requests without a token");
    }
    --attempts.count;  // learning the challenge is not a failed attempt
    return Exchange{.next = Exchange::Next::ask_again, .response = {}};
  }
  if (status / 100 == 2 || (call.also_accept != 0 && status == call.also_accept))
    return Exchange{.next = Exchange::Next::parse, .response = std::move(response)};
  if (!is_retryable_status(status))
    throw describe_vault_failure(status, response.body.view(), call.context);
  attempts.hint = server_delay(response);
  attempts.last_failure = status_text(response);
  return Exchange{.next = Exchange::Next::retry, .response = {}};
}

asio::awaitable<VaultClient::ProbeTurn> VaultClient::take_probe_turn(const Call &call,
                                                                     Deadline deadline) {
  while (true) {
    if (closed_) throw closing();
    if (challenge_) co_return ProbeTurn();
    if (!probing_) {
      probing_ = true;
      co_return ProbeTurn(*this);
    }
    const bool learnt = co_await challenge_learnt_.wait(deadline);
    if (!learnt)
      throw Error(COFFER_STATUS_TIMEOUT, "vault " + config_.vault.endpoint.host + ": " +
                                             describe_operation(call.context) +
                                             " timed out waiting for the vault's authentication "
                                             "challenge");
  }
}

asio::awaitable<std::shared_ptr<const AccessToken>> VaultClient::vault_token(
    Deadline deadline, const AccessToken *refused) {
  if (!challenge_) co_return nullptr;
  // A named key: GCC 12 destroys temporaries in a co_await operand twice.
  const TokenKey key{challenge_->tenant, challenge_->scope};
  std::shared_ptr<const AccessToken> token = co_await tokens_.get(key, deadline, refused);
  publish(key, token);
  co_return token;
}

void VaultClient::publish(const TokenKey &key, const std::shared_ptr<const AccessToken> &token) {
  std::lock_guard lock(ready_mutex_);
  if (ready_token_ == token || !ready_key_ || *ready_key_ != key) return;  // cheapest first
  ready_token_ = token;
  refresh_asked_ = nullptr;  // names the token in force, or none
}

bool VaultClient::challenge_known() {
  std::lock_guard lock(ready_mutex_);
  return ready_key_.has_value();
}

std::shared_ptr<const AccessToken> VaultClient::ready_token() {
  std::shared_ptr<const AccessToken> token;
  bool ask_refresh = false;
  const int64_t now = now_();
  {
    std::lock_guard lock(ready_mutex_);
    if (!ready_token_ || now >= usable_until(*ready_token_)) return nullptr;
    if (now >= ready_token_->refresh_at_ms && refresh_asked_ != ready_token_.get()) {
      refresh_asked_ = ready_token_.get();
      ask_refresh = true;
    }
    token = ready_token_;
  }
  // The token cache refreshes a token it hands out past its refresh time.
  if (ask_refresh)
    asio::co_spawn(
        io_,
        [this]() -> asio::awaitable<void> {
          try {
            (void)co_await vault_token(SteadyClock::now() + config_.retry.operation_timeout,
                                       nullptr);
          } catch (const Error &) {  // the next request that needs it reports it
          }
        },
        asio::detached);
  return token;
}

template <class T>
T VaultClient::on_io_thread(asio::awaitable<T> operation) {
  // Ends by the operation's deadline, or at shutdown.
  return *wait_on_io_thread(io_, std::move(operation));
}

HttpRequest VaultClient::vault_request(const Call &call, const AccessToken *token,
                                       const std::string &client_request_id) const {
  HttpRequest request;
  request.method = call.method;
  request.url = config_.vault;
  const auto question = call.target.find('?');
  request.url.path = call.target.substr(0, question);
  request.url.query =
      question == std::string::npos ? std::string() : call.target.substr(question + 1);
  request.headers.emplace_back("Accept", "application/json");
  request.headers.emplace_back("x-ms-client-request-id", client_request_id);
  if (call.method == "PUT" || call.method == "POST" || call.method == "PATCH")
    request.content_type = "application/json";
  if (token != nullptr) {
    request.authorization.assign("Bearer ");
    request.authorization.append(token->value.view());
    request.body = call.body.clone();
  }  // without a token, the body stays home: the request only learns the challenge
  return request;
}

void VaultClient::learn_challenge(const Call &call, const HttpResponse &response, bool sent_token) {
  const std::string &host = config_.vault.endpoint.host;
  std::optional<Challenge> learnt = parse_challenge(response.www_authenticate);
  if (!learnt && sent_token && challenge_) learnt = challenge_;
  if (!learnt)
    throw Error(COFFER_STATUS_DENIED,
                "vault " + host + " answered 401 to " + describe_operation(call.context) +
                    " without a Bearer challenge naming tenant and resource; is vault_url "
                    "a Key Vault?");
  if (config_.verify_challenge_resource) {
    std::string problem = check_challenge_resource(*learnt, host);
    if (!problem.empty()) throw Error(COFFER_STATUS_DENIED, "vault " + host + ": " + problem);
  }
  if (!credential_.tenant().empty() && to_lower(learnt->tenant) != to_lower(credential_.tenant()))
    throw Error(COFFER_STATUS_DENIED,
                "vault " + host + " belongs to tenant " + learnt->tenant +
                    ", but the credential is for tenant " + credential_.tenant() +
                    "; set credential.tenant_id (or AZURE_TENANT_ID) to the vault's tenant");
  if (!challenge_ || challenge_->tenant != learnt->tenant || challenge_->scope != learnt->scope) {
    log_.info("vault " + host + " asks for a token of tenant " + learnt->tenant + " for scope " +
              learnt->scope);
    challenge_ = learnt;
    std::lock_guard lock(ready_mutex_);
    ready_key_ = TokenKey{challenge_->tenant, challenge_->scope};
    ready_token_.reset();
    refresh_asked_ = nullptr;
  }
}

void VaultClient::log_exchange(const HttpRequest &request, const HttpResult &result,
                               SteadyClock::time_point sent, const std::string &details) const {
  if (!log_.enabled(COFFER_LOG_DEBUG)) return;
  log_.debug(request.method + " " + request.url.endpoint.origin() + request.url.path + " -> " +
             (result.ok() ? std::to_string(result.response.status)
                          : std::string(transport_error_name(result.error))) +
             " in " + elapsed_since(sent) + " (" + details + ")");
}

asio::awaitable<void> VaultClient::wait_to_retry(const Attempts &attempts, Deadline deadline,
                                                 const RetryWording &wording) {
  auto delay = next_retry_delay(config_.retry, attempts.count, attempts.hint, remaining(deadline),
                                random01());
  if (!delay) {
    bool timed_out = remaining(deadline).count() == 0;
    throw Error(timed_out ? COFFER_STATUS_TIMEOUT : COFFER_STATUS_UNAVAILABLE,
                wording.gave_up + " after " + std::to_string(attempts.count) +
                    (attempts.count == 1 ? " attempt" : " attempts") + " in " +
                    elapsed_since(attempts.started) + (timed_out ? " (deadline reached)" : "") +
                    "; last failure: " + attempts.last_failure);
  }
  if (log_.enabled(COFFER_LOG_INFO))
    log_.info(wording.subject + " failed (" + attempts.last_failure + "); retrying in " +
              std::to_string(delay->count()) + " ms" +
              (attempts.hint ? " as the server asked" : "") + " (attempt " +
              std::to_string(attempts.count + 1) + " of " +
              std::to_string(config_.retry.max_attempts) + ")");
  log_.count("retries");
  const bool resumed = co_await pause(*delay);
  if (!resumed) throw closing();
}

asio::awaitable<AccessToken> VaultClient::fetch_token(const TokenKey &key, Deadline deadline) {
  Attempts attempts;
  while (true) {
    if (closed_) throw closing();
    HttpRequest request = credential_.token_request(key.tenant, key.scope);
    const int attempt = attempts.begin();
    const auto sent = SteadyClock::now();
    HttpResult result = co_await http_.send(request, deadline);
    log_exchange(request, result, sent, "token request, attempt " + std::to_string(attempt));
    if (!result.ok()) {
      if (result.error == TransportError::shutdown) throw closing();
      if (!result.retryable)
        throw Error(COFFER_STATUS_UNAVAILABLE, "could not obtain an access token from " +
                                                   credential_.describe() + ": " + result.message);
      attempts.last_failure = result.message;
    } else if (result.response.status == 200) {
      try {
        AccessToken token = parse_token_response(result.response.body.view(), now_());
        log_.info("obtained an access token for tenant " +
                  (key.tenant.empty() ? std::string("(managed identity)") : key.tenant) +
                  ", scope " + key.scope + " from " + credential_.describe() + "; valid for " +
                  std::to_string((token.expires_at_ms - now_()) / 1000) + " s");
        co_return token;
      } catch (const Error &error) {
        attempts.last_failure = error.what();
      }
    } else if (credential_.retryable(result.response.status)) {
      attempts.hint = server_delay(result.response);
      attempts.last_failure = "HTTP " + std::to_string(result.response.status);
    } else {
      throw credential_.failure(result.response.status, result.response.body.view(), key.tenant,
                                key.scope);
    }
    // A named wording: GCC 12 destroys temporaries in a co_await operand twice.
    const RetryWording wording{
        .subject = "token request to " + request.url.endpoint.origin(),
        .gave_up = "could not obtain an access token from " + credential_.describe()};
    co_await wait_to_retry(attempts, deadline, wording);
  }
}

namespace {

// Reads a get's answer.
struct SecretParser {
  std::string what;  // "secret 'name'"
  SecretBundle operator()(HttpResponse &response) const {
    SecretBundle bundle = parse_secret_bundle(response.body.view(), what);
    if (!bundle.has_value)
      throw Error(COFFER_STATUS_UNAVAILABLE, "Key Vault's answer for " + what + " has no value");
    return bundle;
  }
};

}  // namespace

VaultClient::Call VaultClient::get_call(const std::string &name, const std::string &version,
                                        const std::string &key) const {
  Call call;
  call.method = "GET";
  call.target = "/secrets/" + name + "/" + version + "?" + api_query();
  call.context = FailureContext{Operation::get, config_.vault.endpoint.host, name, key};
  return call;
}

asio::awaitable<SecretBundle> VaultClient::get_secret(const std::string &name,
                                                      const std::string &version,
                                                      const std::string &key, Deadline deadline) {
  Call call = get_call(name, version, key);
  const SecretParser parse{"secret '" + name + "'"};
  co_return co_await execute(call, deadline, parse);
}

SecretBundle VaultClient::get_secret_here(const std::string &name, const std::string &version,
                                          const std::string &key, Deadline deadline) {
  std::shared_ptr<const AccessToken> token = ready_token();
  if (!token) {
    if (!challenge_known()) return on_io_thread(get_secret(name, version, key, deadline));
    // A cold instance: the I/O thread fetches the token while this thread
    // connects to the vault.
    Pending<std::shared_ptr<const AccessToken>> coming =
        start_on_io_thread(io_, vault_token(deadline, nullptr));
    http_.open_lane(deadline);
    token = *coming.wait();
    if (!token) return on_io_thread(get_secret(name, version, key, deadline));
  }
  Call call = get_call(name, version, key);
  const SecretParser parse{"secret '" + name + "'"};
  Attempts attempts;
  attempts.begin();
  const std::string client_request_id = request_id();
  HttpRequest request = vault_request(call, token.get(), client_request_id);
  const auto sent = SteadyClock::now();
  std::optional<HttpResult> result = http_.send_here(request, deadline);
  if (!result)  // no lane free
    return on_io_thread(get_secret(name, version, key, deadline));
  log_exchange(request, *result, sent,
               "attempt 1, with token, client request id " + client_request_id +
                   ", on the waiting caller's thread");
  if (result->ok() && result->response.status / 100 == 2) {
    try {
      return parse(result->response);
    } catch (const Error &) {  // garbled: the I/O thread retries it, as any attempt
    }
  }
  return on_io_thread(execute(call, deadline, parse,
                              FirstAttempt{.attempts = std::move(attempts),
                                           .result = std::move(*result),
                                           .token = std::move(token)}));
}

asio::awaitable<SecretBundle> VaultClient::set_secret(const std::string &name,
                                                      const SecretBytes &value,
                                                      const std::string &key, Deadline deadline) {
  Call call;
  call.method = "PUT";
  call.target = "/secrets/" + name + "?" + api_query();
  call.body.append("{\"value\":");
  append_json_string(call.body, value.view());
  call.body.append("}");
  call.context = FailureContext{Operation::put, config_.vault.endpoint.host, name, key};
  const std::string what = "secret '" + name + "'";
  co_return co_await execute(call, deadline, [&what](HttpResponse &response) {
    return parse_secret_bundle(response.body.view(), what);
  });
}

asio::awaitable<void> VaultClient::delete_secret(const std::string &name, const std::string &key,
                                                 Deadline deadline) {
  Call call;
  call.method = "DELETE";
  call.target = "/secrets/" + name + "?" + api_query();
  call.context = FailureContext{Operation::remove, config_.vault.endpoint.host, name, key};
  co_await execute(call, deadline, [](HttpResponse &) {});
}

asio::awaitable<std::vector<SecretItem>> VaultClient::list_secrets(Deadline deadline,
                                                                   bool first_page_only) {
  Call call;
  call.method = "GET";
  // Without maxresults the service answers pages of up to 25 items.
  call.target = "/secrets?" + api_query() + (first_page_only ? "&maxresults=1" : "");
  call.context = FailureContext{first_page_only ? Operation::health : Operation::list,
                                config_.vault.endpoint.host, "", ""};
  co_return co_await list_pages(call, deadline, "/secrets", first_page_only);
}

asio::awaitable<std::vector<SecretItem>> VaultClient::list_versions(const std::string &name,
                                                                    const std::string &key,
                                                                    Deadline deadline) {
  Call call;
  call.method = "GET";
  const std::string path = "/secrets/" + name + "/versions";
  call.target = path + "?" + api_query();
  call.context = FailureContext{Operation::versions, config_.vault.endpoint.host, name, key};
  std::vector<SecretItem> items = co_await list_pages(call, deadline, path, false);
  // A secret has at least one version: an empty listing (what the service
  // may answer for a name it does not hold) is a missing secret.
  if (items.empty())
    throw Error(COFFER_STATUS_NOT_FOUND,
                "secret '" + name + "'" + (key.empty() ? "" : " (key " + key + ")") +
                    " was not found in vault " + config_.vault.endpoint.host);
  // The service lists versions by id, not by age.
  std::stable_sort(items.begin(), items.end(), [](const SecretItem &a, const SecretItem &b) {
    return a.created_unix_ms > b.created_unix_ms;
  });
  co_return items;
}

asio::awaitable<void> VaultClient::purge_secret(const std::string &name, const std::string &key,
                                                Deadline deadline) {
  const auto started = SteadyClock::now();
  Call purge;
  purge.method = "DELETE";
  purge.target = "/deletedsecrets/" + name + "?" + api_query();
  purge.context = FailureContext{Operation::purge, config_.vault.endpoint.host, name, key};
  purge.also_accept = 409;
  Call poll;
  poll.method = "GET";
  poll.target = purge.target;
  poll.context = purge.context;
  poll.also_accept = 404;  // not yet visible: the deletion is still running
  int waits = 0;
  while (true) {
    const bool purged = co_await execute(purge, deadline, [&](HttpResponse &response) {
      if (response.status != 409) return true;
      if (parse_vault_error(response.body.view()).inner_code != "ObjectIsBeingDeleted")
        throw describe_vault_failure(response.status, response.body.view(), purge.context);
      return false;
    });
    if (purged) co_return;
    bool deleted = false;
    while (!deleted) {
      deleted = co_await execute(poll, deadline,
                                 [](HttpResponse &response) { return response.status == 200; });
      if (deleted) break;
      ++waits;
      auto delay =
          next_retry_delay(config_.retry, waits, std::nullopt, remaining(deadline), random01());
      if (!delay)
        throw Error(
            remaining(deadline).count() == 0 ? COFFER_STATUS_TIMEOUT : COFFER_STATUS_UNAVAILABLE,
            "vault " + config_.vault.endpoint.host + " was still deleting secret '" + name +
                "' after " + elapsed_since(started) +
                "; purge it again once the deletion has completed");
      log_.count("retries");
      if (!co_await pause(*delay)) throw closing();
    }
  }
}

asio::awaitable<std::vector<SecretItem>> VaultClient::list_pages(Call &call, Deadline deadline,
                                                                 const std::string &prefix,
                                                                 bool first_page_only) {
  std::vector<SecretItem> items;
  std::string previous;
  for (int page = 0;; ++page) {
    SecretListPage result = co_await execute(call, deadline, [](HttpResponse &response) {
      return parse_secret_list(response.body.view());
    });
    for (SecretItem &item : result.items) items.push_back(std::move(item));
    if (first_page_only || !result.next_link) break;
    auto next = parse_url(*result.next_link);
    if (!next || next->path.rfind(prefix, 0) != 0 || *result.next_link == previous ||
        page >= 100000)
      throw Error(COFFER_STATUS_UNAVAILABLE,
                  "vault " + config_.vault.endpoint.host +
                      " sent a nextLink that does not continue the listing of " + prefix);
    if (next->endpoint.host != config_.vault.endpoint.host && log_.enabled(COFFER_LOG_DEBUG))
      log_.debug("vault " + config_.vault.endpoint.host + ": the nextLink names host " +
                 next->endpoint.host + "; the listing continues on the configured vault");
    previous = *result.next_link;
    // Only the path and query are followed: the token never leaves the vault.
    call.target = next->path + (next->query.empty() ? "" : "?" + next->query);
  }
  co_return items;
}

}  // namespace coffer::azure
