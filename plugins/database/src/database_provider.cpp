// The database provider plugin: credentials encrypted at rest in SQLite or
// PostgreSQL (the rest of src/ holds the implementation; this file is the ABI glue).
#include <coffer/provider.hpp>

#include <charconv>
#include <memory>
#include <optional>

#include "keys/master_key.hpp"
#include "store/admin.hpp"
#include "store/config.hpp"
#include "store/credential_store.hpp"
#include "store/executor.hpp"
#include "store/open_store.hpp"

namespace coffer::database {
namespace {

using namespace coffer::provider;

// Reads the master key once at open() so that a missing variable, a file with
// the wrong mode or a malformed key is reported at once (INVALID_CONFIG). A
// key file that does not exist yet is left for `coffer db init` to create.
void check_master_key_source(const MasterKeySource &source) {
  switch (source.kind) {
    case MasterKeySource::Kind::file:
      if (master_key_file_exists(source)) (void)load_master_key(source);
      break;
    case MasterKeySource::Kind::env:
      (void)load_master_key(source);
      break;
    case MasterKeySource::Kind::passphrase_env:
      (void)load_passphrase(source);
      break;
  }
}

std::optional<uint64_t> parse_version(const std::string &key, const std::string &text) {
  if (text.empty()) return std::nullopt;
  uint64_t version = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (error != std::errc() || end != text.data() + text.size() || version == 0 ||
      version > static_cast<uint64_t>(INT64_MAX))
    throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                key + ": '" + text +
                    "' is not a version of the database provider (versions are 1, 2, 3, ...)");
  return version;
}

class DatabaseProvider final : public Provider {
 public:
  static constexpr uint64_t capabilities = COFFER_CAP_PUT | COFFER_CAP_REMOVE | COFFER_CAP_LIST |
                                           COFFER_CAP_HEALTH | COFFER_CAP_VERSIONS |
                                           COFFER_CAP_ADMIN | COFFER_CAP_HISTORY;

  DatabaseProvider(const Host &host, const OpenParams &params)
      : host_(host),
        base_directory_(params.base_directory),
        config_(parse_config(params.config_json, base_directory_)),
        store_(open_credential_store(
            config_,
            [host](int32_t level, const std::string &message) { host.log(level, message); },
            [host] {
              int64_t now = host.now_unix_ms();
              return now != 0 ? now : system_now_ms();
            },
            [host](const char *counter, uint64_t delta) { host.count(counter, delta); })),
        executor_(config_.backend == Config::Backend::postgres ? config_.pool_size : 0) {
    check_master_key_source(config_.master_key);
  }

  // The Store is closing: PostgreSQL retries stop and their waits end now.
  void cancel() override { store_->storage().cancel(); }

  void get(const GetRequest &request, GetCompletion &&done) override {
    // Inline, the request outlives the call; on a worker it is copied.
    if (executor_.is_inline()) {
      run(std::move(done),
          [this, &request](GetCompletion &completion) { read(request, completion); });
      return;
    }
    run(std::move(done), [this, request](GetCompletion &completion) { read(request, completion); });
  }

  void read(const GetRequest &request, GetCompletion &completion) {
    std::optional<RetryBudget> budget;
    if (request.timeout_ms > 0) budget.emplace(std::chrono::milliseconds(request.timeout_ms));
    auto value = store_->get(request.key, parse_version(request.key, request.version));
    char version[24];
    auto written = std::to_chars(version, version + sizeof version, value.version);
    completion.succeed(value.bytes.data(), value.bytes.size(),
                       std::string_view(version, static_cast<std::size_t>(written.ptr - version)),
                       value.created_at);
  }

  void put(const std::string &key, const SecretBytes &value, DoneCompletion &&done) override {
    if (executor_.is_inline()) {
      run(std::move(done), [this, &key, &value](DoneCompletion &completion) {
        completion.succeed(std::to_string(store_->put(key, {value.data(), value.size()})));
      });
      return;
    }
    auto copy = std::make_shared<SecretBytes>(value.clone());
    run(std::move(done), [this, key, copy](DoneCompletion &completion) {
      uint64_t version = store_->put(key, {copy->data(), copy->size()});
      completion.succeed(std::to_string(version));
    });
  }

  void remove(const std::string &key, DoneCompletion &&done) override {
    run(std::move(done), [this, key](DoneCompletion &completion) {
      store_->remove(key);
      completion.succeed();
    });
  }

  void list(ListCompletion &&done) override {
    run(std::move(done), [this](ListCompletion &completion) {
      std::vector<ListEntry> entries;
      for (const auto &summary : store_->list())
        entries.push_back({summary.key, summary.key, std::to_string(summary.latest_version)});
      completion.succeed(entries);
    });
  }

  // Every version coffer_records keeps (the config's `history`); each is
  // served by get, so every one is enabled.
  void versions(const std::string &key, VersionsCompletion &&done) override {
    run(std::move(done), [this, key](VersionsCompletion &completion) {
      std::vector<VersionEntry> entries;
      for (const auto &row : store_->versions(key))
        entries.push_back({.version = std::to_string(row.version),
                           .created_unix_ms = row.created_at,
                           .enabled = true});
      completion.succeed(entries);
    });
  }

  void health(DoneCompletion &&done) override {
    run(std::move(done),
        [this](DoneCompletion &completion) { completion.succeed({}, store_->health()); });
  }

  void admin(const std::string &command, const std::string &arguments_json,
             AdminCompletion &&done) override {
    run(std::move(done), [this, command, arguments_json](AdminCompletion &completion) {
      completion.succeed(run_admin_command(*store_, command, arguments_json, base_directory_));
    });
  }

  std::string key_name(const std::string &key) override {
    if (!is_canonical_key(key))
      throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                  "'" + key + "' is not a canonical key (Category.Name)");
    return key;
  }

 private:
  // Runs `body` with the completion, inline or on the executor's threads,
  // and answers the completion with any exception `body` throws.
  template <class Completion, class Body>
  void run(Completion &&done, Body body) {
    if (executor_.is_inline()) {
      answer(done, body);
      return;
    }
    auto completion = std::make_shared<std::decay_t<Completion>>(std::move(done));
    executor_.post(
        [completion, body = std::move(body)]() mutable noexcept { answer(*completion, body); });
  }

  template <class Completion, class Body>
  static void answer(Completion &completion, Body &body) noexcept {
    try {
      body(completion);
    } catch (const AdminError &error) {
      if constexpr (std::is_same_v<std::decay_t<Completion>, AdminCompletion>)
        completion.fail(error.status(), error.what(), error.result_json());
      else
        completion.fail(error.status(), error.what());
    } catch (const Error &error) {
      completion.fail(error.status(), error.what());
    } catch (const std::exception &error) {
      completion.fail(COFFER_STATUS_INTERNAL, std::string("internal error: ") + error.what());
    } catch (...) {
      completion.fail(COFFER_STATUS_INTERNAL, "internal error: unknown exception");
    }
  }

  Host host_;
  std::filesystem::path base_directory_;
  Config config_;
  std::unique_ptr<CredentialStore> store_;
  Executor executor_;  // last: its threads stop before the store goes away
};

}  // namespace
}  // namespace coffer::database

COFFER_PROVIDER(coffer::database::DatabaseProvider, "database", "0.1.0",
                "credentials encrypted at rest (AES-256-GCM envelope) in SQLite or PostgreSQL")
