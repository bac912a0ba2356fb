// The database provider's configuration (the policy's `config` object).
//
//   url               "sqlite:///abs/path" (or "sqlite:relative/path", against the
//                     policy's directory), "postgresql://..." or a libpq
//                     keyword/value string. Required.
//   master_key        {"file": PATH} | {"env": NAME} | {"passphrase_env": NAME}. Required.
//   history           versions kept per key, 1..1000, default 10.
//   pool_size         connections (and, for PostgreSQL, worker threads), 1..64, default 4.
//   busy_timeout_ms   SQLite: how long to wait for another writer, default 5000.
//   retry_timeout_ms  PostgreSQL: how long to retry an idempotent operation after a
//                     dropped connection, default 5000 (a get's own timeout wins when shorter).
//   allow_plaintext   PostgreSQL: allow sslmode=disable for a server on another host
//                     (false by default).
//
// parse_config throws coffer::provider::Error(INVALID_CONFIG) naming the field.
#ifndef COFFER_DATABASE_STORE_CONFIG_HPP
#define COFFER_DATABASE_STORE_CONFIG_HPP

#include <coffer/provider.h>
#include <boost/json/value.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "crypto/scrypt.hpp"
#include "keys/master_key.hpp"
#include "storage/postgres_settings.hpp"

namespace coffer::database {

struct Config {
  enum class Backend { sqlite, postgres };
  Backend backend = Backend::sqlite;
  std::filesystem::path sqlite_path;
  PostgresSettings postgres;
  MasterKeySource master_key;
  uint32_t history = 10;
  uint32_t pool_size = 4;
  uint32_t busy_timeout_ms = 5000;
  uint32_t retry_timeout_ms = 5000;

  // Where the store is, safe to show: "sqlite:///abs/path" or "postgresql host=... dbname=...".
  [[nodiscard]] std::string location() const;
};

[[nodiscard]] Config parse_config(std::string_view json,
                                  const std::filesystem::path &base_directory);

// A master key source object; `field` names it in messages ("master_key",
// "new_master_key"). Errors carry `status`.
[[nodiscard]] MasterKeySource parse_master_key_source(const boost::json::value &value,
                                                      const std::string &field,
                                                      const std::filesystem::path &base_directory,
                                                      coffer_status status);

// {"n": N, "r": R, "p": P}, each optional over the defaults (2^17, 8, 1);
// checked against the store's minimums. Errors carry INVALID_ARGUMENT.
[[nodiscard]] ScryptParams parse_scrypt_params(const boost::json::value *value,
                                               const std::string &field);

}  // namespace coffer::database

#endif  // COFFER_DATABASE_STORE_CONFIG_HPP
