#include "store/open_store.hpp"

#include <chrono>

#include "storage/postgres_storage.hpp"
#include "storage/sqlite_storage.hpp"

namespace coffer::database {

std::unique_ptr<Storage> open_storage(const Config &config, Log log, Count count) {
  if (config.backend == Config::Backend::sqlite)
    return std::make_unique<SqliteStorage>(config.sqlite_path, config.pool_size,
                                           config.busy_timeout_ms, std::move(log));
  return std::make_unique<PostgresStorage>(
      config.postgres, config.pool_size, config.retry_timeout_ms, std::move(log), std::move(count));
}

std::unique_ptr<CredentialStore> open_credential_store(const Config &config, Log log,
                                                       CredentialStore::Clock clock, Count count) {
  auto storage = open_storage(config, log, std::move(count));
  return std::make_unique<CredentialStore>(config, std::move(storage), std::move(log),
                                           std::move(clock));
}

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace coffer::database
