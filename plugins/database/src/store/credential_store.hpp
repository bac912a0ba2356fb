// CredentialStore: the encrypted credential store behind the database
// provider. It turns canonical keys and values into sealed records in a
// Storage, and holds the store's unlocked key material in memory.
//
// Opening a CredentialStore touches nothing: the first operation checks that
// the store exists and is initialised (else UNAVAILABLE telling to run
// `coffer db init`), migrates an older schema, and unlocks the store with the
// configured master key (DATA_ERROR "the master key does not match this
// store" when it does not). The master key and the unwrapped data keys then
// stay in memory (SecretBuffer) until the CredentialStore is destroyed.
//
// Thread-safe: every method may be called from many threads at once.
// Errors throw coffer::provider::Error; messages name keys, versions and the
// store's location, never a value or key material.
#ifndef COFFER_DATABASE_STORE_CREDENTIAL_STORE_HPP
#define COFFER_DATABASE_STORE_CREDENTIAL_STORE_HPP

#include <coffer/provider.hpp>
#include <coffer/provider_helpers.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "crypto/aead.hpp"
#include "crypto/aead_key.hpp"
#include "crypto/secret_buffer.hpp"
#include "storage/storage.hpp"
#include "store/config.hpp"

namespace coffer::database {

// The largest value the store accepts.
inline constexpr std::size_t maximum_value_size = 1 << 20;

// Whether `key` is canonical (the SDK's one grammar, <coffer/provider.h>).
using coffer::provider::is_canonical_key;

// An admin command that ran but found problems (verify): the result JSON
// goes back to the caller together with the failure status.
class AdminError : public coffer::provider::Error {
 public:
  AdminError(coffer_status status, std::string message, std::string result_json)
      : Error(status, std::move(message)), result_json_(std::move(result_json)) {}
  [[nodiscard]] const std::string &result_json() const noexcept { return result_json_; }

 private:
  std::string result_json_;
};

struct InitOptions {
  ScryptParams scrypt;  // for a passphrase master key
};

struct InitResult {
  bool created = false;  // false: the store was initialised already (and the key matches)
  bool master_key_file_created = false;
  Bytes store_id;
  int64_t data_key_id = 0;
};

struct RotateOptions {
  std::optional<MasterKeySource> new_master_key;  // absent with drop_old
  bool keep_old = false;
  bool drop_old = false;
  ScryptParams scrypt;
};

struct RotateResult {
  std::size_t rewrapped_data_keys = 0;
  std::size_t dropped_master_keys = 0;
  std::size_t master_keys = 0;  // slots in the store afterwards
  bool master_key_file_created = false;
  // The master keys that open the store afterwards, described by where they
  // come from ("the file '/etc/pmp/master.key'"), never by their bytes.
  std::vector<std::string> kept_master_keys;
};

struct RekeyResult {
  int64_t data_key_id = 0;
  bool resumed = false;
  std::size_t reencrypted = 0;
  std::vector<int64_t> retired_data_keys;
  bool finished = true;       // false: stopped after max_batches; run again to go on
  std::size_t remaining = 0;  // records not yet re-encrypted (when not finished)
};

struct VerifyProblem {
  std::string key;       // empty for a store-level problem
  uint64_t version = 0;  // 0 when not about one version
  std::string error;
};

// A part of a verification: the records after `after_key`/`after_version`
// (from the first when `first`), at most `limit` of them (0: all). The
// store-wide checks run with the first part (the database's integrity check,
// the data keys) and with the last (keys whose latest version is missing,
// the key count).
struct VerifyPart {
  bool first = true;
  std::string after_key;
  uint64_t after_version = 0;
  std::size_t limit = 0;
};

struct VerifyResult {
  bool finished = true;  // false: more records follow `last_key`/`last_version`
  std::string last_key;  // the last record checked
  uint64_t last_version = 0;
  std::size_t total = 0;  // every record of the store, when the part was first
  std::size_t records = 0;
  std::size_t keys = 0;
  std::size_t data_keys = 0;
  std::string integrity_check;  // "ok" or the database's findings
  std::string unlock_error;     // why the store could not be unlocked (nothing else was checked)
  std::vector<VerifyProblem> bad;
  [[nodiscard]] bool ok() const {
    return bad.empty() && unlock_error.empty() && integrity_check == "ok";
  }
};

class CredentialStore {
 public:
  using Clock = std::function<int64_t()>;  // Unix time in milliseconds

  CredentialStore(Config config, std::unique_ptr<Storage> storage, Log log, Clock clock);
  CredentialStore(const CredentialStore &) = delete;
  CredentialStore &operator=(const CredentialStore &) = delete;
  ~CredentialStore();

  struct Value {
    SecretBuffer bytes;
    uint64_t version = 0;
    int64_t created_at = 0;  // when the version was written, ms since the Unix epoch
  };
  // The latest version of `key`, or `version` of it.
  [[nodiscard]] Value get(const std::string &key, std::optional<uint64_t> version = std::nullopt);
  // Writes a new version; returns its number.
  uint64_t put(const std::string &key, ByteView value);
  void remove(const std::string &key);
  [[nodiscard]] std::vector<KeySummary> list();
  // The versions kept of `key` (the config's `history`), newest first; throws
  // NOT_FOUND when the key does not exist or was removed.
  [[nodiscard]] std::vector<VersionRow> versions(const std::string &key);
  // A one-line description of a healthy store; throws otherwise.
  [[nodiscard]] std::string health();

  // Key management (key_management.cpp). Each is safe to run while other
  // processes read and write the store.
  InitResult init(const InitOptions &options);
  RotateResult rotate_master_key(const RotateOptions &options);
  // Re-encrypts `batch_size` records per transaction; with `max_batches`,
  // stops after that many (finished false) and goes on when called again.
  RekeyResult rekey(std::size_t batch_size, std::optional<std::size_t> max_batches = {});
  [[nodiscard]] VerifyResult verify(const VerifyPart &part = {});

  [[nodiscard]] const Config &config() const { return config_; }
  [[nodiscard]] Storage &storage() { return *storage_; }

 private:
  struct Unlocked {
    Bytes store_id;
    Bytes slot_id;
    SecretBuffer master_key;
    std::map<int64_t, std::shared_ptr<const AeadKey>> data_keys;
    int64_t active = 0;
  };

  [[noreturn]] void not_initialised() const;
  // Checks, migrates and unlocks on first use. Returns the store id.
  void ensure_ready();
  Unlocked unlock(const StoreRow &store);
  // Loads data keys created since unlocking (another process rekeyed).
  void refresh_keys();
  [[nodiscard]] std::shared_ptr<const AeadKey> find_data_key(int64_t id) const;
  // The data key, loading new ones from the store if needed; nullptr if the
  // store does not hold it (for this master key).
  [[nodiscard]] std::shared_ptr<const AeadKey> data_key(int64_t id);
  [[nodiscard]] Bytes store_id() const;
  // Decrypts a record with a data key already held; on failure says why
  // (without naming the record), or sets `key_missing` when the store made
  // its data key after this instance loaded its keys. Reads nothing.
  [[nodiscard]] std::optional<SecretBuffer> open_held(const RecordView &record, std::string &why,
                                                      bool &key_missing);
  // Decrypts a record, loading new data keys if it needs one; on failure
  // says why (without naming the record).
  [[nodiscard]] std::optional<SecretBuffer> try_open(const RecordRow &row, std::string &why);
  // Decrypts a record; throws DATA_ERROR naming it.
  [[nodiscard]] SecretBuffer open(const RecordRow &row);
  // The DATA_ERROR for a record that does not open.
  [[nodiscard]] coffer::provider::Error unopenable(std::string_view key, uint64_t version,
                                                   const std::string &why) const;
  void check_key(const std::string &key) const;
  // Master key material for a source: a raw key, or scrypt of a passphrase
  // with `salt` and `params`.
  [[nodiscard]] SecretBuffer derive(const MasterKeySource &source, const MasterKeySlot &slot) const;
  // Throws INVALID_ARGUMENT when another master key slot is as new as, or
  // newer than, the slot `keep` (a drop_old run with the old key).
  void refuse_to_drop_a_newer_master_key(ByteView keep);

  Config config_;
  std::unique_ptr<Storage> storage_;
  Log log_;
  Clock clock_;
  Aes256Gcm aead_;
  mutable std::shared_mutex mutex_;
  std::optional<Unlocked> unlocked_;
};

}  // namespace coffer::database

#endif  // COFFER_DATABASE_STORE_CREDENTIAL_STORE_HPP
