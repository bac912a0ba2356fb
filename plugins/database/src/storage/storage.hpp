// Storage: the tables of an encrypted store, behind one interface with an
// SQLite and a PostgreSQL implementation. Storage sees only ciphertexts,
// wrapped keys and metadata: never a plaintext or an unwrapped key.
//
// Tables (schema.hpp has the SQL): coffer_schema (version), coffer_store (one
// row: store id, active data key, rekey state), coffer_master_keys (one row per
// master key "slot": kind and scrypt parameters, never key material),
// coffer_data_keys (id, encryption counter), coffer_wrapped_keys (each data key
// wrapped under each master key slot), coffer_keys (per key: latest version,
// removed flag) and coffer_records (key, version, data key id, nonce,
// ciphertext, created/updated time, and whether it is the key's latest).
//
// Every method is one transaction (or one read) and may be called from many
// threads at once; implementations pool their connections. Errors throw
// coffer::provider::Error: UNAVAILABLE for a busy or unreachable database
// (after the implementation's own retries of idempotent work), DATA_ERROR for
// a corrupt one, INVALID_CONFIG for a store this code cannot use.
#ifndef COFFER_DATABASE_STORAGE_STORAGE_HPP
#define COFFER_DATABASE_STORAGE_STORAGE_HPP

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crypto/bytes.hpp"
#include "crypto/envelope.hpp"
#include "crypto/scrypt.hpp"

namespace coffer::database {

// Data keys are retired long before GCM's limit of 2^32 random-nonce
// encryptions (NIST SP 800-38D 8.3): the schema refuses a counter above this,
// Vault's threshold of 0.9 * 2^32.
inline constexpr uint64_t data_key_encryption_limit = 3865470566ull;

struct StoreRow {
  Bytes store_id;
  int64_t active_data_key = 0;
  bool rekey_in_progress = false;
  int64_t created_at = 0;
};

struct MasterKeySlot {
  Bytes slot_id;
  bool passphrase = false;  // derived with scrypt from a passphrase (else a 32-byte key)
  Bytes scrypt_salt;        // passphrase slots only
  ScryptParams scrypt;      // passphrase slots only
  int64_t created_at = 0;
};

struct DataKeyRow {
  int64_t data_key_id = 0;
  uint64_t encryptions = 0;
  int64_t created_at = 0;
};

struct WrappedKey {
  int64_t data_key_id = 0;
  Bytes slot_id;
  Bytes nonce;
  Bytes wrapped;
};

// A record as the storage holds it, its bytes borrowed (valid only during
// the call that hands it over).
struct RecordView {
  std::string_view key;
  uint64_t version = 0;
  int64_t data_key_id = 0;
  ByteView nonce;
  ByteView ciphertext;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct RecordRow {
  std::string key;
  uint64_t version = 0;
  int64_t data_key_id = 0;
  Bytes nonce;
  Bytes ciphertext;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  [[nodiscard]] RecordView view() const {
    return {key, version, data_key_id, nonce, ciphertext, created_at, updated_at};
  }
};

// Receives the latest record of a key straight from the row's buffers (no
// copy), while they are valid.
class RecordVisitor {
 public:
  virtual void visit(const RecordView &record) = 0;

 protected:
  ~RecordVisitor() = default;
};

struct LatestRecord {
  enum class State {
    found,          // the visitor was given the latest version
    absent,         // no such key (or it was removed)
    missing_record  // the key's latest version has no record: the store was tampered with
  };
  State state = State::absent;
  uint64_t version = 0;
};

// One version kept of a key: its number and when it was written.
struct VersionRow {
  uint64_t version = 0;
  int64_t created_at = 0;  // milliseconds since the Unix epoch, as coffer_records keeps it
};

struct KeySummary {
  std::string key;
  uint64_t latest_version = 0;
};

// Everything a new store starts with.
struct NewStore {
  StoreRow store;
  MasterKeySlot slot;
  DataKeyRow data_key;
  WrappedKey wrapped_key;
};

// A record re-encrypted by rekey; replaces the row only if it still has `old_nonce`.
struct ReencryptedRecord {
  std::string key;
  uint64_t version = 0;
  Bytes old_nonce;
  Bytes nonce;
  Bytes ciphertext;
};

// Seals a new record for (version, data key id); may be called more than once
// by one put when the first guess of either was stale. Returns std::nullopt
// when it does not hold that data key (another process rekeyed): the put then
// ends unstored so that the caller can load the key and try again. Must not
// call back into the Storage.
using Sealer = std::function<std::optional<Sealed>(uint64_t version, int64_t data_key_id)>;
// Wraps a new data key (for rekey) under the store's single master key slot.
using DataKeyWrapper = std::function<WrappedKey(int64_t data_key_id)>;

struct PutOutcome {
  bool stored = false;      // false: the sealer lacked `data_key_id`
  uint64_t version = 0;     // the version written
  int64_t data_key_id = 0;  // the active data key
};

// Where a storage implementation reports what an operator should know
// (levels as COFFER_LOG_*). Never given secret material.
using Log = std::function<void(int32_t level, const std::string &message)>;
// Where a storage implementation counts events for the host's metrics (the
// ABI's count(): "retries", "reconnects").
using Count = std::function<void(const char *counter, uint64_t delta)>;

struct RekeyStart {
  int64_t data_key_id = 0;
  bool resumed = false;
};

struct RekeyFinish {
  std::vector<int64_t> retired;
  bool finished = false;  // false: records under old data keys appeared meanwhile
};

// Bounds the retries of the storage calls this thread makes while it lives
// (e.g. to a get's own timeout). A nested budget never extends an outer one.
class RetryBudget {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RetryBudget(std::chrono::milliseconds budget);
  RetryBudget(const RetryBudget &) = delete;
  RetryBudget &operator=(const RetryBudget &) = delete;
  ~RetryBudget();
  // The deadline in force on this thread, if any.
  [[nodiscard]] static std::optional<Clock::time_point> deadline();

 private:
  std::optional<Clock::time_point> previous_;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Where the store is, safe to show.
  [[nodiscard]] virtual std::string location() const = 0;
  // The host is closing: stop retrying (waits between retries end now) and
  // fail retryable work with UNAVAILABLE. Thread-safe; must not wait.
  virtual void cancel() {}

  // Whether the store's database exists (an SQLite file; a PostgreSQL
  // database always does). Only init() creates one.
  virtual bool exists() = 0;
  // Creates the database (SQLite: the file, mode 0600, and WAL mode).
  virtual void create() = 0;
  // The schema version, 0 when there is none yet.
  virtual int schema_version() = 0;
  // Upgrades the schema to `target`, serialised against other processes.
  // Throws INVALID_CONFIG when the store's schema is newer than `target`.
  virtual void migrate(int target) = 0;

  virtual std::optional<StoreRow> read_store() = 0;
  virtual std::vector<MasterKeySlot> read_slots() = 0;
  virtual std::vector<DataKeyRow> read_data_keys() = 0;
  virtual std::vector<WrappedKey> read_wrapped_keys(ByteView slot_id) = 0;
  // Writes a new store's first rows; false, changing nothing, when the store
  // is initialised already.
  virtual bool initialise(const NewStore &store) = 0;

  // The key's latest version; when found, hands its record to `visitor`
  // (once, within the call; a retried read may hand it over again). Reads the
  // key's newest record and, unless it is flagged latest (puts flag their
  // record and unflag the others), the key's head, which tells a key that is
  // absent or removed from one whose latest record was deleted.
  virtual LatestRecord read_latest(const std::string &key, RecordVisitor &visitor) = 0;
  virtual std::optional<RecordRow> read_version(const std::string &key, uint64_t version) = 0;
  // Writes the next version of `key` under the active data key (its id
  // guessed as `active_data_key`), counts the encryption against the data key,
  // and drops versions older than the newest `history`. Atomic: either all of
  // it happens or nothing. Throws UNAVAILABLE when the data key has reached
  // data_key_encryption_limit.
  virtual PutOutcome put(const std::string &key, uint32_t history, int64_t now_ms,
                         int64_t active_data_key, const Sealer &seal) = 0;
  // Removes the key's records; false when it does not exist.
  virtual bool remove(const std::string &key, int64_t now_ms) = 0;
  virtual std::vector<KeySummary> list_keys() = 0;
  // The versions kept of a live key, newest first; empty when the key does
  // not exist or was removed.
  virtual std::vector<VersionRow> read_versions(const std::string &key) = 0;
  // Records in (key, version) order after the given position.
  virtual std::vector<RecordRow> scan_records(const std::string &after_key, uint64_t after_version,
                                              std::size_t limit) = 0;
  // Live keys whose latest version has no record.
  virtual std::vector<KeySummary> keys_missing_latest() = 0;

  // Adds a master key slot with a wrap of every data key; with `drop_others`
  // removes every other slot in the same transaction. Returns false, changing
  // nothing, when `wraps` does not cover exactly the store's data keys.
  virtual bool add_master_key(const MasterKeySlot &slot, const std::vector<WrappedKey> &wraps,
                              bool drop_others) = 0;
  // Removes every slot but `keep`; returns how many.
  virtual std::size_t drop_master_keys_except(ByteView keep) = 0;

  // Starts a rekey (a new active data key, wrapped by `wrap`) or, when one is
  // in progress, resumes it. Throws INVALID_ARGUMENT when the store has more
  // than one master key slot.
  virtual RekeyStart begin_rekey(int64_t now_ms, const DataKeyWrapper &wrap) = 0;
  virtual std::vector<RecordRow> records_not_under(int64_t data_key_id, std::size_t limit) = 0;
  // How many records are not under `data_key_id` (0, which no data key has:
  // every record).
  virtual std::size_t count_records_not_under(int64_t data_key_id) = 0;
  // Replaces re-encrypted records (each only if unchanged meanwhile) and counts
  // the encryptions against `data_key_id`; returns how many rows changed.
  virtual std::size_t replace_records(const std::vector<ReencryptedRecord> &records,
                                      int64_t data_key_id, int64_t now_ms) = 0;
  // Deletes the data keys other than `active` that no record uses; when none
  // remains, ends the rekey.
  virtual RekeyFinish finish_rekey(int64_t active) = 0;

  // SQLite: checkpoint and truncate the WAL so that replaced ciphertexts and
  // wrapped keys leave it. PostgreSQL: nothing.
  virtual void compact() = 0;
  // SQLite: PRAGMA integrity_check ("ok" or its first 100 findings).
  // PostgreSQL: "ok".
  virtual std::string integrity_check() = 0;
};

}  // namespace coffer::database

#endif  // COFFER_DATABASE_STORAGE_STORAGE_HPP
