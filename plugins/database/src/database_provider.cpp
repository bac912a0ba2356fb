// The database provider's operations (database_provider.hpp): each runs on
// the store through the executor and answers its completion.
#include "database_provider.hpp"

#include <charconv>
#include <optional>

#include "keys/master_key.hpp"
#include "store/admin.hpp"
#include "store/open_store.hpp"

namespace coffer::database {

using namespace coffer::provider;

namespace {

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

}  // namespace

DatabaseProvider::DatabaseProvider(const Host &host, const OpenParams &params)
    : host_(host),
      base_directory_(params.base_directory),
      config_(parse_config(params.config_json, base_directory_)),
      store_(open_credential_store(
          config_, [host](int32_t level, const std::string &message) { host.log(level, message); },
          [host] {
            int64_t now = host.now_unix_ms();
            return now != 0 ? now : system_now_ms();
          },
          [host](const char *counter, uint64_t delta) { host.count(counter, delta); })),
      executor_(config_.backend == Config::Backend::postgres ? config_.pool_size : 0) {
  check_master_key_source(config_.master_key);
}

void DatabaseProvider::cancel() {
  store_->storage().cancel();
}

template <class Completion, class Body>
void DatabaseProvider::run(Completion &&done, Body body) {
  if (executor_.is_inline()) {
    answer(done, body);
    return;
  }
  auto completion = std::make_shared<std::decay_t<Completion>>(std::move(done));
  executor_.post(
      [completion, body = std::move(body)]() mutable noexcept { answer(*completion, body); });
}

template <class Completion, class Body>
void DatabaseProvider::answer(Completion &completion, Body &body) noexcept {
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

void DatabaseProvider::get(const GetRequest &request, GetCompletion &&done) {
  // Inline (SQLite; or a caller that waits anyway, COFFER_GET_CALLER_WAITS,
  // which saves PostgreSQL's two thread hand-offs) the request outlives the
  // call; on a worker it is copied.
  if (executor_.is_inline() || request.caller_waits) {
    auto body = [this, &request](GetCompletion &completion) { read(request, completion); };
    answer(done, body);
    return;
  }
  run(std::move(done), [this, request](GetCompletion &completion) { read(request, completion); });
}

void DatabaseProvider::read(const GetRequest &request, GetCompletion &completion) {
  std::optional<RetryBudget> budget;
  if (request.timeout_ms > 0) budget.emplace(std::chrono::milliseconds(request.timeout_ms));
  auto value = store_->get(request.key, parse_version(request.key, request.version));
  char version[24];
  auto written = std::to_chars(version, version + sizeof version, value.version);
  completion.succeed(value.bytes.data(), value.bytes.size(),
                     std::string_view(version, static_cast<std::size_t>(written.ptr - version)),
                     value.created_at);
}

void DatabaseProvider::put(const std::string &key, const SecretBytes &value,
                           DoneCompletion &&done) {
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

void DatabaseProvider::remove(const std::string &key, DoneCompletion &&done) {
  run(std::move(done), [this, key](DoneCompletion &completion) {
    store_->remove(key);
    completion.succeed();
  });
}

void DatabaseProvider::list(ListCompletion &&done) {
  run(std::move(done), [this](ListCompletion &completion) {
    std::vector<ListEntry> entries;
    for (const auto &summary : store_->list())
      entries.push_back({summary.key, summary.key, std::to_string(summary.latest_version)});
    completion.succeed(entries);
  });
}

void DatabaseProvider::versions(const std::string &key, VersionsCompletion &&done) {
  run(std::move(done), [this, key](VersionsCompletion &completion) {
    std::vector<VersionEntry> entries;
    for (const auto &row : store_->versions(key))
      entries.push_back({.version = std::to_string(row.version),
                         .created_unix_ms = row.created_at,
                         .enabled = true});
    completion.succeed(entries);
  });
}

void DatabaseProvider::health(DoneCompletion &&done) {
  run(std::move(done),
      [this](DoneCompletion &completion) { completion.succeed({}, store_->health()); });
}

void DatabaseProvider::admin(const std::string &command, const std::string &arguments_json,
                             AdminCompletion &&done) {
  run(std::move(done), [this, command, arguments_json](AdminCompletion &completion) {
    completion.succeed(run_admin_command(*store_, command, arguments_json, base_directory_));
  });
}

std::string DatabaseProvider::key_name(const std::string &key) {
  if (!is_canonical_key(key))
    throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                "'" + key + "' is not a canonical key (Category.Name)");
  return key;
}

}  // namespace coffer::database
