#include "storage/schema.hpp"

namespace coffer::database {

// The CHECK on coffer_data_keys.encryptions is data_key_encryption_limit
// (storage.hpp): the database itself refuses a write past it.

const std::vector<Migration> &sqlite_migrations() {
  static const std::vector<Migration> migrations = {
      {1,
       {
           R"(CREATE TABLE coffer_store (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                store_id BLOB NOT NULL,
                format INTEGER NOT NULL,
                active_data_key INTEGER NOT NULL,
                rekey_in_progress INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL))",
           R"(CREATE TABLE coffer_master_keys (
                slot_id BLOB PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind IN ('key', 'passphrase')),
                scrypt_salt BLOB,
                scrypt_n INTEGER,
                scrypt_r INTEGER,
                scrypt_p INTEGER,
                created_at INTEGER NOT NULL))",
           R"(CREATE TABLE coffer_data_keys (
                data_key_id INTEGER PRIMARY KEY,
                encryptions INTEGER NOT NULL DEFAULT 0 CHECK (encryptions <= 3865470566),
                created_at INTEGER NOT NULL))",
           R"(CREATE TABLE coffer_wrapped_keys (
                data_key_id INTEGER NOT NULL
                  REFERENCES coffer_data_keys (data_key_id) ON DELETE CASCADE,
                slot_id BLOB NOT NULL REFERENCES coffer_master_keys (slot_id) ON DELETE CASCADE,
                nonce BLOB NOT NULL,
                wrapped BLOB NOT NULL,
                PRIMARY KEY (data_key_id, slot_id)))",
           R"(CREATE TABLE coffer_keys (
                key TEXT PRIMARY KEY,
                latest_version INTEGER NOT NULL,
                removed INTEGER NOT NULL DEFAULT 0,
                updated_at INTEGER NOT NULL) WITHOUT ROWID)",
           R"(CREATE TABLE coffer_records (
                key TEXT NOT NULL REFERENCES coffer_keys (key),
                version INTEGER NOT NULL,
                data_key_id INTEGER NOT NULL REFERENCES coffer_data_keys (data_key_id),
                nonce BLOB NOT NULL,
                ciphertext BLOB NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (key, version)) WITHOUT ROWID)",
       }},
      {2, {"CREATE INDEX coffer_records_by_data_key ON coffer_records (data_key_id)"}},
      {3,
       {
           "ALTER TABLE coffer_records ADD COLUMN latest INTEGER NOT NULL DEFAULT 0",
           "UPDATE coffer_records SET latest = 1 WHERE EXISTS (SELECT 1 FROM coffer_keys k "
           "WHERE k.key = coffer_records.key AND k.latest_version = coffer_records.version "
           "AND k.removed = 0)",
       }},
  };
  return migrations;
}

const std::vector<Migration> &postgres_migrations() {
  static const std::vector<Migration> migrations = {
      {1,
       {
           R"(CREATE TABLE coffer_store (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                store_id BYTEA NOT NULL,
                format INTEGER NOT NULL,
                active_data_key BIGINT NOT NULL,
                rekey_in_progress BOOLEAN NOT NULL DEFAULT false,
                created_at BIGINT NOT NULL))",
           R"(CREATE TABLE coffer_master_keys (
                slot_id BYTEA PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind IN ('key', 'passphrase')),
                scrypt_salt BYTEA,
                scrypt_n BIGINT,
                scrypt_r BIGINT,
                scrypt_p BIGINT,
                created_at BIGINT NOT NULL))",
           R"(CREATE TABLE coffer_data_keys (
                data_key_id BIGINT PRIMARY KEY,
                encryptions BIGINT NOT NULL DEFAULT 0 CHECK (encryptions <= 3865470566),
                created_at BIGINT NOT NULL))",
           R"(CREATE TABLE coffer_wrapped_keys (
                data_key_id BIGINT NOT NULL
                  REFERENCES coffer_data_keys (data_key_id) ON DELETE CASCADE,
                slot_id BYTEA NOT NULL REFERENCES coffer_master_keys (slot_id) ON DELETE CASCADE,
                nonce BYTEA NOT NULL,
                wrapped BYTEA NOT NULL,
                PRIMARY KEY (data_key_id, slot_id)))",
           R"(CREATE TABLE coffer_keys (
                key TEXT PRIMARY KEY,
                latest_version BIGINT NOT NULL,
                removed BOOLEAN NOT NULL DEFAULT false,
                updated_at BIGINT NOT NULL))",
           R"(CREATE TABLE coffer_records (
                key TEXT NOT NULL REFERENCES coffer_keys (key),
                version BIGINT NOT NULL,
                data_key_id BIGINT NOT NULL REFERENCES coffer_data_keys (data_key_id),
                nonce BYTEA NOT NULL,
                ciphertext BYTEA NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (key, version)))",
       }},
      {2, {"CREATE INDEX coffer_records_by_data_key ON coffer_records (data_key_id)"}},
      {3,
       {
           "ALTER TABLE coffer_records ADD COLUMN latest BOOLEAN NOT NULL DEFAULT false",
           "UPDATE coffer_records r SET latest = true FROM coffer_keys k "
           "WHERE r.key = k.key AND r.version = k.latest_version AND NOT k.removed",
       }},
  };
  return migrations;
}

}  // namespace coffer::database
