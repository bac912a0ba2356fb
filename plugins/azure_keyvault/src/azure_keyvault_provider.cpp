#include "azure_keyvault_provider.hpp"

#include "bundle_store.hpp"
#include "credential.hpp"
#include "http.hpp"
#include "names.hpp"
#include "secret_memory.hpp"
#include "vault_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <optional>

namespace coffer::azure {
namespace {

using coffer::provider::DoneCompletion;
using coffer::provider::Error;
using coffer::provider::GetCompletion;
using coffer::provider::ListCompletion;
using coffer::provider::SecretBytes;
using coffer::provider::VersionsCompletion;

constexpr std::size_t kMaxSecretBytes = 25 * 1024;

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Runs `body`; answers `done` with the Error it throws.
template <class Completion, class Body>
asio::awaitable<void> answering(Completion &done, Body body) {
  try {
    co_await body();
  } catch (const Error &error) {
    done.fail(error.status(), error.what());
  } catch (const std::exception &error) {
    done.fail(COFFER_STATUS_INTERNAL, std::string("internal error: ") + error.what());
  }
}

void check_value(const std::string &key, const SecretBytes &value) {
  if (value.size() > kMaxSecretBytes)
    throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                "the value for key " + key + " has " + std::to_string(value.size()) +
                    " bytes; Key Vault stores at most " + std::to_string(kMaxSecretBytes) +
                    " bytes per secret");
  if (!is_valid_utf8(value.view()))
    throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                "the value for key " + key +
                    " is not valid UTF-8 text; Key Vault stores secrets as text (encode binary "
                    "values, e.g. as base64, before storing them)");
}

}  // namespace

struct KeyVaultProvider::State {
  State(const coffer::provider::Host &host_in, Config config_in, EnvironmentLookup environment)
      : host(host_in), config(std::move(config_in)), work(asio::make_work_guard(io)) {
    HttpClientOptions options;
    options.ca_file = config.ca_file;
    options.connect_timeout = config.connect_timeout;
    options.request_timeout = config.request_timeout;
    options.max_connections_per_host = config.max_connections_per_host;
    options.proxy = std::move(config.proxy);
    options.connect_to = config.connect_to;
    options.connect_to_for = config.vault.endpoint;
    options.user_agent = "coffer-azure-keyvault/0.1";
    options.lanes_for = config.vault.endpoint;
    http = std::make_unique<HttpClient>(io, std::move(options), host);
    credential = make_credential(config, std::move(environment), host);
    vault = std::make_unique<VaultClient>(config, host, io, *http, *credential,
                                          [this] { return now(); });
    if (config.bundle_secret) bundle = std::make_unique<BundleStore>(config, *vault);
    thread = std::thread([this] { io.run(); });
  }

  ~State() {
    cancel();
    work.reset();
    if (thread.joinable()) thread.join();
  }

  // Fails what is running (waits, token exchanges, requests) with
  // UNAVAILABLE "the instance is closing", and everything started later.
  void cancel() {
    if (closing.exchange(true)) return;
    asio::post(io, [this] {
      if (bundle) bundle->shutdown();
      vault->shutdown();
      http->shutdown();
    });
  }

  [[nodiscard]] int64_t now() const {
    int64_t now = host.now_unix_ms();
    return now != 0 ? now : system_now_ms();
  }

  [[nodiscard]] Deadline deadline(uint32_t timeout_ms = 0) const {
    auto budget =
        timeout_ms != 0 ? std::chrono::milliseconds(timeout_ms) : config.retry.operation_timeout;
    return SteadyClock::now() + budget;
  }

  void check_open() const {
    if (closing) throw Error(COFFER_STATUS_UNAVAILABLE, "the instance is closing");
  }

  template <class Awaitable>
  void spawn(Awaitable operation) {
    asio::co_spawn(io, std::move(operation), asio::detached);
  }

  // The operations, on the I/O thread. Arguments are copies: the coroutine
  // owns them.
  asio::awaitable<void> get(std::string name, std::string key, std::string version,
                            Deadline deadline, GetCompletion done) {
    co_await answering(done, [&]() -> asio::awaitable<void> {
      if (bundle) {
        BundleStore::Value value = co_await bundle->get(name, key, version, deadline);
        done.succeed(value.bytes, value.version);
      } else {
        SecretBundle secret = co_await vault->get_secret(name, version, key, deadline);
        done.succeed(secret.value, secret.version, secret.created_unix_ms);
      }
    });
  }

  // A get whose caller waits for the answer anyway, on the caller's thread
  // (VaultClient::get_secret_here); the json_bundle layout, whose bundle
  // lives on the I/O thread, and a caller on that thread use get().
  [[nodiscard]] bool gets_here() { return !bundle && !io.get_executor().running_in_this_thread(); }
  void get_here(const std::string &name, const std::string &key, const std::string &version,
                Deadline deadline, GetCompletion &done) {
    try {
      SecretBundle secret = vault->get_secret_here(name, version, key, deadline);
      done.succeed(secret.value, secret.version, secret.created_unix_ms);
    } catch (const Error &error) {
      done.fail(error.status(), error.what());
    } catch (const std::exception &error) {
      done.fail(COFFER_STATUS_INTERNAL, std::string("internal error: ") + error.what());
    }
  }

  asio::awaitable<void> put(std::string name, std::string key, SecretBytes value, Deadline deadline,
                            DoneCompletion done) {
    co_await answering(done, [&]() -> asio::awaitable<void> {
      if (bundle) {
        const std::string version = co_await bundle->put(name, key, value, deadline);
        done.succeed(version);
      } else {
        SecretBundle written = co_await vault->set_secret(name, value, key, deadline);
        done.succeed(written.version);
      }
    });
  }

  asio::awaitable<void> remove(std::string name, std::string key, Deadline deadline,
                               DoneCompletion done) {
    co_await answering(done, [&]() -> asio::awaitable<void> {
      if (bundle)
        co_await bundle->remove(name, key, deadline);
      else
        co_await vault->delete_secret(name, key, deadline);
      done.succeed();
    });
  }

  asio::awaitable<void> list(Deadline deadline, ListCompletion done) {
    co_await answering(done, [&]() -> asio::awaitable<void> {
      std::vector<coffer::provider::ListEntry> entries;
      if (bundle) {
        auto [members, version] = co_await bundle->members(deadline);
        for (std::string &member : members)
          entries.push_back({key_for_secret_name(member).value_or(""), member, version});
      } else {
        std::vector<SecretItem> items = co_await vault->list_secrets(deadline);
        for (SecretItem &item : items)
          entries.push_back({key_for_secret_name(item.name).value_or(""), item.name, ""});
      }
      std::sort(entries.begin(), entries.end(),
                [](const auto &a, const auto &b) { return a.name < b.name; });
      done.succeed(entries);
    });
  }

  asio::awaitable<void> versions(std::string name, std::string key, Deadline deadline,
                                 VersionsCompletion done) {
    co_await answering(done, [&]() -> asio::awaitable<void> {
      std::vector<coffer::provider::VersionEntry> entries;
      for (SecretItem &item : co_await vault->list_versions(name, key, deadline)) {
        if (item.version.empty()) continue;
        entries.push_back({.version = std::move(item.version),
                           .created_unix_ms = item.created_unix_ms,
                           .enabled = item.enabled});
      }
      done.succeed(entries);
    });
  }

  asio::awaitable<void> purge(std::string name, std::string key, Deadline deadline,
                              DoneCompletion done) {
    co_await answering(done, [&]() -> asio::awaitable<void> {
      co_await vault->purge_secret(name, key, deadline);
      done.succeed();
    });
  }

  // The json_bundle layout keeps every key in one secret.
  void refuse_for_bundle(const char *what) const {
    if (bundle)
      throw Error(COFFER_STATUS_UNSUPPORTED,
                  std::string("the json_bundle layout keeps every key in the secret '") +
                      *config.bundle_secret + "', " + what);
  }

  asio::awaitable<void> health(Deadline deadline, DoneCompletion done) {
    co_await answering(done, [&]() -> asio::awaitable<void> {
      if (bundle)
        co_await bundle->probe(deadline);
      else
        (void)co_await vault->list_secrets(deadline, true);
      done.succeed({}, "vault " + config.vault.endpoint.origin() + " answered with a token from " +
                           credential->describe());
    });
  }

  const coffer::provider::Host &host;
  Config config;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::unique_ptr<HttpClient> http;
  std::unique_ptr<Credential> credential;
  std::unique_ptr<VaultClient> vault;
  std::unique_ptr<BundleStore> bundle;
  std::atomic<bool> closing{false};
  std::thread thread;  // last: started when everything else exists
};

KeyVaultProvider::KeyVaultProvider(const coffer::provider::Host &host,
                                   const coffer::provider::OpenParams &params)
    : KeyVaultProvider(host, params, process_environment()) {}

KeyVaultProvider::KeyVaultProvider(const coffer::provider::Host &host,
                                   const coffer::provider::OpenParams &params,
                                   EnvironmentLookup environment) {
  Config config = parse_config(params.config_json, params.base_directory, environment);
  config.instance_name = params.instance_name;
  const std::string summary =
      "vault " + config.vault.endpoint.origin() + " (cloud " + std::string(config.cloud->name) +
      "), authority " + config.authority.endpoint.origin() + ", api-version " + config.api_version +
      ", layout " +
      (config.bundle_secret ? "json_bundle '" + *config.bundle_secret + "'"
                            : std::string("per_key")) +
      ", proxy " + config.proxy.describe() +
      (config.connect_to ? ", connect_to " + config.connect_to->authority() : std::string()) +
      (config.verify_challenge_resource ? "" : ", challenge resource verification OFF");
  state_ = std::make_unique<State>(host, std::move(config), std::move(environment));
  host.info("azure_keyvault instance '" + params.instance_name + "': " + summary + ", credential " +
            state_->credential->describe());
}

KeyVaultProvider::~KeyVaultProvider() = default;

void KeyVaultProvider::cancel() {
  state_->cancel();
}

std::string KeyVaultProvider::key_name(const std::string &key) {
  return secret_name_for_key(key);
}

void KeyVaultProvider::get(const coffer::provider::GetRequest &request, GetCompletion &&done) {
  state_->check_open();
  std::string name = secret_name_for_key(request.key);
  if (!request.version.empty() && !is_valid_version(request.version))
    throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                "'" + request.version.substr(0, 80) + "' is not a Key Vault version of key " +
                    request.key + " (versions are 32 hexadecimal digits)");
  if (request.caller_waits && state_->gets_here()) {
    state_->get_here(name, request.key, request.version, state_->deadline(request.timeout_ms),
                     done);
    return;
  }
  state_->spawn(state_->get(std::move(name), request.key, request.version,
                            state_->deadline(request.timeout_ms), std::move(done)));
}

void KeyVaultProvider::put(const std::string &key, const SecretBytes &value,
                           DoneCompletion &&done) {
  state_->check_open();
  std::string name = secret_name_for_key(key);
  check_value(key, value);
  state_->spawn(
      state_->put(std::move(name), key, value.clone(), state_->deadline(), std::move(done)));
}

void KeyVaultProvider::remove(const std::string &key, DoneCompletion &&done) {
  state_->check_open();
  std::string name = secret_name_for_key(key);
  state_->spawn(state_->remove(std::move(name), key, state_->deadline(), std::move(done)));
}

void KeyVaultProvider::list(ListCompletion &&done) {
  state_->check_open();
  state_->spawn(state_->list(state_->deadline(), std::move(done)));
}

void KeyVaultProvider::versions(const std::string &key, VersionsCompletion &&done) {
  state_->check_open();
  std::string name = secret_name_for_key(key);
  state_->refuse_for_bundle("whose versions are the bundle's, not the key's");
  state_->spawn(state_->versions(std::move(name), key, state_->deadline(), std::move(done)));
}

void KeyVaultProvider::purge(const std::string &key, DoneCompletion &&done) {
  state_->check_open();
  std::string name = secret_name_for_key(key);
  state_->refuse_for_bundle("and a key removed from it is gone at once: there is nothing to purge");
  state_->spawn(state_->purge(std::move(name), key, state_->deadline(), std::move(done)));
}

void KeyVaultProvider::health(DoneCompletion &&done) {
  state_->check_open();
  state_->spawn(state_->health(state_->deadline(), std::move(done)));
}

}  // namespace coffer::azure
