// Builds a CredentialStore for a configuration: the storage backend its url
// names, with the provider's pool size and timeouts.
#ifndef COFFER_DATABASE_STORE_OPEN_STORE_HPP
#define COFFER_DATABASE_STORE_OPEN_STORE_HPP

#include <memory>

#include "store/config.hpp"
#include "store/credential_store.hpp"

namespace coffer::database {

// `count` receives the backend's counters (PostgreSQL: "retries", "reconnects").
[[nodiscard]] std::unique_ptr<Storage> open_storage(const Config &config, Log log,
                                                    Count count = {});
[[nodiscard]] std::unique_ptr<CredentialStore> open_credential_store(const Config &config, Log log,
                                                                     CredentialStore::Clock clock,
                                                                     Count count = {});
// The system clock in Unix milliseconds.
[[nodiscard]] int64_t system_now_ms();

}  // namespace coffer::database

#endif  // COFFER_DATABASE_STORE_OPEN_STORE_HPP
