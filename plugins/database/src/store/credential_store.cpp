#include "store/credential_store.hpp"

#include <mutex>

#include "crypto/envelope.hpp"
#include "crypto/scrypt.hpp"
#include "keys/master_key.hpp"
#include "storage/schema.hpp"

namespace coffer::database {

using coffer::provider::Error;

CredentialStore::CredentialStore(Config config, std::unique_ptr<Storage> storage, Log log,
                                 Clock clock)
    : config_(std::move(config)),
      storage_(std::move(storage)),
      log_(std::move(log)),
      clock_(std::move(clock)) {}

CredentialStore::~CredentialStore() = default;

// UNAVAILABLE rather than INVALID_CONFIG: the policy is right, the store is
// just not there yet, and a host must still be able to load the policy (its
// health probe fails a policy load on INVALID_CONFIG) so that `coffer db init`
// can run through it; a fallback chain moves on meanwhile.
void CredentialStore::not_initialised() const {
  throw Error(COFFER_STATUS_UNAVAILABLE,
              storage_->location() +
                  ": the store is not initialised; run `coffer db init` for this provider");
}

void CredentialStore::check_key(const std::string &key) const {
  if (!is_canonical_key(key))
    throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                "'" + key +
                    "' is not a canonical key: expected Category.Name (ASCII letters and digits, "
                    "each part starting with a letter)");
}

SecretBuffer CredentialStore::derive(const MasterKeySource &source,
                                     const MasterKeySlot &slot) const {
  if (!source.is_passphrase()) return load_master_key(source);
  std::string problem = check_master_key_params(slot.scrypt);
  if (!problem.empty())
    throw Error(COFFER_STATUS_DATA_ERROR, storage_->location() +
                                              ": the store's passphrase parameters are unusable (" +
                                              problem + "); the store may have been tampered with");
  SecretBuffer passphrase = load_passphrase(source);
  return scrypt(passphrase.bytes(), slot.scrypt_salt, slot.scrypt, master_key_size);
}

namespace {

// Why the store's key metadata cannot be what coffer wrote (truncated, cut
// short or rows missing), whatever the master key; empty when it looks whole.
// A wrapped key of the right shape that fails authentication is another
// matter: that is what a wrong master key looks like.
std::string key_metadata_damage(const StoreRow &store, const std::vector<MasterKeySlot> &slots,
                                const std::vector<std::vector<WrappedKey>> &wraps) {
  if (store.store_id.size() != store_id_size)
    return "its store id has " + std::to_string(store.store_id.size()) + " bytes, not " +
           std::to_string(store_id_size);
  if (slots.empty()) return "it has no master key slot";
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const std::string slot = "master key slot " + to_hex(slots[i].slot_id);
    if (slots[i].slot_id.size() != slot_id_size)
      return slot + " has an id of " + std::to_string(slots[i].slot_id.size()) + " bytes, not " +
             std::to_string(slot_id_size);
    bool wraps_active = false;
    for (const auto &wrap : wraps[i]) {
      const std::string which =
          "the wrap of data key " + std::to_string(wrap.data_key_id) + " under " + slot;
      if (wrap.nonce.size() != Aes256Gcm::nonce_size)
        return which + " has a nonce of " + std::to_string(wrap.nonce.size()) + " bytes, not " +
               std::to_string(Aes256Gcm::nonce_size);
      if (wrap.wrapped.size() != data_key_size + Aes256Gcm::tag_size)
        return which + " has " + std::to_string(wrap.wrapped.size()) + " bytes, not " +
               std::to_string(data_key_size + Aes256Gcm::tag_size);
      wraps_active |= wrap.data_key_id == store.active_data_key;
    }
    if (!wraps_active)
      return slot + " holds no wrap of the active data key " +
             std::to_string(store.active_data_key);
  }
  return {};
}

}  // namespace

CredentialStore::Unlocked CredentialStore::unlock(const StoreRow &store) {
  const auto &source = config_.master_key;
  auto slots = storage_->read_slots();
  std::size_t same_kind = 0;
  std::optional<SecretBuffer> raw_key;  // read once for all key slots
  for (const auto &slot : slots) {
    if (slot.passphrase != source.is_passphrase()) continue;
    ++same_kind;
    SecretBuffer master;
    if (source.is_passphrase()) {
      master = derive(source, slot);
    } else {
      if (!raw_key) raw_key = load_master_key(source);
      master = raw_key->clone();
    }
    auto wraps = storage_->read_wrapped_keys(slot.slot_id);
    Unlocked unlocked;
    unlocked.store_id = store.store_id;
    unlocked.slot_id = slot.slot_id;
    unlocked.active = store.active_data_key;
    bool opens_active = false;
    for (const auto &wrap : wraps) {
      if (wrap.data_key_id != store.active_data_key) continue;
      auto key =
          unwrap_data_key(aead_, master.bytes(), {store.store_id, wrap.data_key_id, slot.slot_id},
                          wrap.nonce, wrap.wrapped);
      if (key) {
        unlocked.data_keys[wrap.data_key_id] =
            std::make_shared<const AeadKey>(aead_, std::move(*key));
        opens_active = true;
      }
    }
    if (!opens_active) continue;  // another master key's slot
    for (const auto &wrap : wraps) {
      if (wrap.data_key_id == store.active_data_key) continue;
      auto key =
          unwrap_data_key(aead_, master.bytes(), {store.store_id, wrap.data_key_id, slot.slot_id},
                          wrap.nonce, wrap.wrapped);
      if (!key)
        throw Error(COFFER_STATUS_DATA_ERROR,
                    storage_->location() + ": wrapped data key " +
                        std::to_string(wrap.data_key_id) +
                        " fails authentication although the master key opens the active one; "
                        "the store was tampered with");
      unlocked.data_keys[wrap.data_key_id] =
          std::make_shared<const AeadKey>(aead_, std::move(*key));
    }
    unlocked.master_key = std::move(master);
    return unlocked;
  }
  // No slot opened: a store whose key metadata is cut short or missing rows
  // fails that way whatever the key; only a whole one means a wrong key.
  std::vector<std::vector<WrappedKey>> slot_wraps;
  for (const auto &slot : slots) slot_wraps.push_back(storage_->read_wrapped_keys(slot.slot_id));
  if (std::string damage = key_metadata_damage(store, slots, slot_wraps); !damage.empty())
    throw Error(COFFER_STATUS_DATA_ERROR,
                storage_->location() + ": the store is damaged: " + damage +
                    ", whatever the master key; run `coffer db verify` for the database's own "
                    "integrity check, and restore the store from a backup");
  std::string detail;
  if (same_kind == 0 && !slots.empty())
    detail = source.is_passphrase()
                 ? " (the store was initialised with a 32-byte key, but the policy gives a "
                   "passphrase)"
                 : " (the store was initialised with a passphrase, but the policy gives a "
                   "32-byte key)";
  throw Error(COFFER_STATUS_DATA_ERROR, "the master key does not match this store (" +
                                            storage_->location() + "): " + source.describe() +
                                            " from " + source.field_path() +
                                            " opens none of its master key slots" + detail +
                                            " (its key metadata is whole: if this is the right "
                                            "key, the wrapped keys were altered)");
}

void CredentialStore::ensure_ready() {
  {
    std::shared_lock lock(mutex_);
    if (unlocked_) return;
  }
  std::unique_lock lock(mutex_);
  if (unlocked_) return;
  if (!storage_->exists()) not_initialised();
  int version = storage_->schema_version();
  if (version == 0) not_initialised();
  if (version != current_schema_version) storage_->migrate(current_schema_version);
  auto store = storage_->read_store();
  if (!store) not_initialised();
  unlocked_ = unlock(*store);
}

void CredentialStore::refresh_keys() {
  std::unique_lock lock(mutex_);
  if (!unlocked_) return;
  auto store = storage_->read_store();
  if (!store) not_initialised();
  auto wraps = storage_->read_wrapped_keys(unlocked_->slot_id);
  if (wraps.empty())
    throw Error(COFFER_STATUS_DATA_ERROR,
                "the master key does not match this store (" + storage_->location() +
                    "): it was replaced by rotate-master-key; update master_key in the policy");
  for (const auto &wrap : wraps) {
    if (unlocked_->data_keys.contains(wrap.data_key_id)) continue;
    auto key = unwrap_data_key(aead_, unlocked_->master_key.bytes(),
                               {unlocked_->store_id, wrap.data_key_id, unlocked_->slot_id},
                               wrap.nonce, wrap.wrapped);
    if (!key)
      throw Error(COFFER_STATUS_DATA_ERROR,
                  storage_->location() + ": wrapped data key " + std::to_string(wrap.data_key_id) +
                      " fails authentication; the store was tampered with");
    unlocked_->data_keys[wrap.data_key_id] =
        std::make_shared<const AeadKey>(aead_, std::move(*key));
  }
  unlocked_->active = store->active_data_key;
}

std::shared_ptr<const AeadKey> CredentialStore::find_data_key(int64_t id) const {
  std::shared_lock lock(mutex_);
  if (!unlocked_) return nullptr;
  auto found = unlocked_->data_keys.find(id);
  return found == unlocked_->data_keys.end() ? nullptr : found->second;
}

std::shared_ptr<const AeadKey> CredentialStore::data_key(int64_t id) {
  if (auto found = find_data_key(id)) return found;
  refresh_keys();
  return find_data_key(id);
}

Bytes CredentialStore::store_id() const {
  std::shared_lock lock(mutex_);
  return unlocked_ ? unlocked_->store_id : Bytes();
}

namespace {

// Why a record cannot be what coffer sealed, whatever the key; empty when
// its shape is right.
std::string record_damage(const RecordView &row) {
  if (row.nonce.size() != Aes256Gcm::nonce_size)
    return "is damaged: its nonce has " + std::to_string(row.nonce.size()) + " bytes, not " +
           std::to_string(Aes256Gcm::nonce_size);
  if (row.ciphertext.size() < Aes256Gcm::tag_size)
    return "is truncated: its ciphertext has " + std::to_string(row.ciphertext.size()) +
           " bytes, fewer than its " + std::to_string(Aes256Gcm::tag_size) +
           "-byte authentication tag";
  return {};
}

}  // namespace

std::optional<SecretBuffer> CredentialStore::open_held(const RecordView &record, std::string &why,
                                                       bool &key_missing) {
  std::shared_lock lock(mutex_);
  const AeadKey *data_key = nullptr;
  if (unlocked_)
    if (auto found = unlocked_->data_keys.find(record.data_key_id);
        found != unlocked_->data_keys.end())
      data_key = found->second.get();
  // A locked store has no keys to load; an unlocked one may lack a new one.
  key_missing = data_key == nullptr && unlocked_;
  if (data_key == nullptr) {
    why = "names data key " + std::to_string(record.data_key_id) +
          ", which this store does not hold (the record was altered)";
    return std::nullopt;
  }
  if (std::string damage = record_damage(record); !damage.empty()) {
    why = damage;
    return std::nullopt;
  }
  auto plain =
      open_record(*data_key, {unlocked_->store_id, record.key, record.version, record.data_key_id},
                  record.nonce, record.ciphertext);
  if (!plain)
    why = "fails authentication: the record was altered, or copied from another key or version";
  return plain;
}

std::optional<SecretBuffer> CredentialStore::try_open(const RecordRow &row, std::string &why) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool key_missing = false;
    auto plain = open_held(row.view(), why, key_missing);
    if (!key_missing || attempt == 1) return plain;
    refresh_keys();  // a data key another process made since we unlocked
  }
  return std::nullopt;
}

coffer::provider::Error CredentialStore::unopenable(std::string_view key, uint64_t version,
                                                    const std::string &why) const {
  return Error(COFFER_STATUS_DATA_ERROR, storage_->location() + ": " + std::string(key) +
                                             " version " + std::to_string(version) + " " + why);
}

SecretBuffer CredentialStore::open(const RecordRow &row) {
  std::string why;
  auto plain = try_open(row, why);
  if (!plain) throw unopenable(row.key, row.version, why);
  return std::move(*plain);
}

CredentialStore::Value CredentialStore::get(const std::string &key,
                                            std::optional<uint64_t> version) {
  check_key(key);
  ensure_ready();
  Value value;
  if (version) {
    auto found = storage_->read_version(key, *version);
    if (!found)
      throw Error(COFFER_STATUS_NOT_FOUND, key + " has no version " + std::to_string(*version) +
                                               " in " + storage_->location());
    value.bytes = open(*found);
    value.version = found->version;
    value.created_at = found->created_at;
    return value;
  }
  // The latest version is decrypted straight from the row's buffers. Only a
  // record under a data key this instance does not hold yet is copied, to
  // load the keys once the read has let go of its connection.
  struct Opener final : RecordVisitor {
    explicit Opener(CredentialStore &owner) : store(owner) {}
    void visit(const RecordView &record) override {
      copy.reset();
      why.clear();
      version = record.version;
      created_at = record.created_at;
      bool key_missing = false;
      plain = store.open_held(record, why, key_missing);
      if (key_missing)
        copy = RecordRow{std::string(record.key),
                         record.version,
                         record.data_key_id,
                         Bytes(record.nonce.begin(), record.nonce.end()),
                         Bytes(record.ciphertext.begin(), record.ciphertext.end()),
                         record.created_at,
                         record.updated_at};
    }
    CredentialStore &store;
    std::optional<SecretBuffer> plain;
    std::optional<RecordRow> copy;
    std::string why;
    uint64_t version = 0;
    int64_t created_at = 0;
  } opener(*this);
  auto latest = storage_->read_latest(key, opener);
  if (latest.state == LatestRecord::State::absent)
    throw Error(COFFER_STATUS_NOT_FOUND, key + " is not in " + storage_->location());
  if (latest.state == LatestRecord::State::missing_record)
    throw Error(COFFER_STATUS_DATA_ERROR,
                storage_->location() + ": " + key + " version " + std::to_string(latest.version) +
                    " (its latest) has no record; the store was tampered with or damaged");
  if (opener.copy) {
    value.bytes = open(*opener.copy);
  } else {
    if (!opener.plain) throw unopenable(key, opener.version, opener.why);
    value.bytes = std::move(*opener.plain);
  }
  value.version = opener.version;
  value.created_at = opener.created_at;
  return value;
}

uint64_t CredentialStore::put(const std::string &key, ByteView value) {
  check_key(key);
  if (value.size() > maximum_value_size)
    throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                key + ": the value has " + std::to_string(value.size()) +
                    " bytes; the database provider stores at most " +
                    std::to_string(maximum_value_size));
  ensure_ready();
  Bytes id = store_id();
  for (int attempt = 0; attempt < 4; ++attempt) {
    int64_t active = 0;
    {
      std::shared_lock lock(mutex_);
      active = unlocked_->active;
    }
    Sealer seal = [&](uint64_t version, int64_t data_key_id) -> std::optional<Sealed> {
      auto data_key = find_data_key(data_key_id);
      if (!data_key) return std::nullopt;
      return seal_record(*data_key, {id, key, version, data_key_id}, value);
    };
    PutOutcome outcome = storage_->put(key, config_.history, clock_(), active, seal);
    if (outcome.stored) {
      if (outcome.data_key_id != active) {
        std::unique_lock lock(mutex_);
        unlocked_->active = outcome.data_key_id;
      }
      return outcome.version;
    }
    refresh_keys();  // another process started a new data key
    if (!find_data_key(outcome.data_key_id))
      throw Error(COFFER_STATUS_DATA_ERROR, storage_->location() + ": the active data key " +
                                                std::to_string(outcome.data_key_id) +
                                                " is not wrapped for this master key");
  }
  throw Error(COFFER_STATUS_UNAVAILABLE,
              storage_->location() + ": could not write " + key + ": the data key kept changing");
}

void CredentialStore::remove(const std::string &key) {
  check_key(key);
  ensure_ready();
  if (!storage_->remove(key, clock_()))
    throw Error(COFFER_STATUS_NOT_FOUND, key + " is not in " + storage_->location());
}

std::vector<KeySummary> CredentialStore::list() {
  ensure_ready();
  return storage_->list_keys();
}

std::vector<VersionRow> CredentialStore::versions(const std::string &key) {
  check_key(key);
  ensure_ready();
  auto versions = storage_->read_versions(key);
  if (versions.empty())
    throw Error(COFFER_STATUS_NOT_FOUND, key + " is not in " + storage_->location());
  return versions;
}

std::string CredentialStore::health() {
  ensure_ready();
  auto store = storage_->read_store();
  if (!store) not_initialised();
  auto keys = storage_->read_data_keys();
  std::string text = storage_->location() + ": initialised, schema version " +
                     std::to_string(current_schema_version) + ", " + std::to_string(keys.size()) +
                     " data key(s), active data key " + std::to_string(store->active_data_key);
  for (const auto &key : keys) {
    if (key.data_key_id == store->active_data_key &&
        key.encryptions > data_key_encryption_limit / 10 * 9)
      text += "; the active data key is near its encryption limit: run `coffer db rekey`";
  }
  if (store->rekey_in_progress)
    text += "; a rekey is in progress (run `coffer db rekey` to finish it)";
  return text;
}

}  // namespace coffer::database
