// CredentialStore's key management: init, rotate-master-key, rekey, verify.
#include <algorithm>
#include <mutex>
#include <set>

#include "crypto/envelope.hpp"
#include "crypto/scrypt.hpp"
#include "keys/master_key.hpp"
#include "storage/schema.hpp"
#include "store/credential_store.hpp"

namespace coffer::database {

using coffer::provider::Error;

namespace {

// A new master key slot for `source`, with fresh scrypt salt for a passphrase.
MasterKeySlot new_slot(const MasterKeySource &source, const ScryptParams &params, int64_t now) {
  MasterKeySlot slot;
  slot.slot_id = random_bytes(slot_id_size);
  slot.passphrase = source.is_passphrase();
  if (slot.passphrase) {
    slot.scrypt_salt = random_bytes(32);
    slot.scrypt = params;
  }
  slot.created_at = now;
  return slot;
}

}  // namespace

InitResult CredentialStore::init(const InitOptions &options) {
  const auto &source = config_.master_key;
  InitResult result;
  const bool key_file_missing =
      source.kind == MasterKeySource::Kind::file && !master_key_file_exists(source);
  // An initialised store whose key file went missing needs that file back: a
  // new random key created in its place could never open the store.
  if (key_file_missing && storage_->exists() && storage_->schema_version() > 0 &&
      storage_->read_store())
    throw Error(COFFER_STATUS_INVALID_CONFIG,
                source.field_path() + ": '" + source.path.string() + "' does not exist, but " +
                    storage_->location() +
                    " is initialised already: restore the master key file from its backup (a "
                    "new key cannot open this store)");
  if (key_file_missing) {
    result.master_key_file_created = create_master_key_file(source);
    if (result.master_key_file_created && log_)
      log_(COFFER_LOG_INFO, "created a new master key in " + source.describe());
  }
  if (!storage_->exists()) storage_->create();
  storage_->migrate(current_schema_version);

  if (auto existing = storage_->read_store()) {
    ensure_ready();  // throws when the configured master key does not open it
    result.store_id = existing->store_id;
    result.data_key_id = existing->active_data_key;
    return result;
  }

  const int64_t now = clock_();
  NewStore fresh;
  fresh.store.store_id = random_bytes(store_id_size);
  fresh.store.active_data_key = 1;
  fresh.store.created_at = now;
  fresh.slot = new_slot(source, options.scrypt, now);
  fresh.data_key = {1, 0, now};
  SecretBuffer master = derive(source, fresh.slot);
  SecretBuffer data_key(data_key_size);
  fill_random(data_key.writable());
  Sealed wrapped = wrap_data_key(aead_, master.bytes(),
                                 {fresh.store.store_id, 1, fresh.slot.slot_id}, data_key.bytes());
  fresh.wrapped_key = {1, fresh.slot.slot_id, wrapped.nonce, wrapped.ciphertext};

  if (!storage_->initialise(fresh)) {  // another host initialised it meanwhile
    ensure_ready();
    auto store = storage_->read_store();
    result.store_id = store ? store->store_id : Bytes();
    result.data_key_id = store ? store->active_data_key : 0;
    return result;
  }
  {
    std::unique_lock lock(mutex_);
    Unlocked unlocked;
    unlocked.store_id = fresh.store.store_id;
    unlocked.slot_id = fresh.slot.slot_id;
    unlocked.master_key = std::move(master);
    unlocked.active = 1;
    unlocked.data_keys[1] = std::make_shared<const AeadKey>(aead_, std::move(data_key));
    unlocked_ = std::move(unlocked);
  }
  if (log_) log_(COFFER_LOG_INFO, storage_->location() + ": initialised a new store");
  result.created = true;
  result.store_id = fresh.store.store_id;
  result.data_key_id = 1;
  return result;
}

// drop_old keeps the master key this instance opened the store with, the one
// its configuration names. Run where the configuration still names the old
// key of a staged rotation, it would keep that one and drop the new one.
void CredentialStore::refuse_to_drop_a_newer_master_key(ByteView keep) {
  auto slots = storage_->read_slots();
  auto kept = std::find_if(slots.begin(), slots.end(), [&](const MasterKeySlot &slot) {
    return std::equal(slot.slot_id.begin(), slot.slot_id.end(), keep.begin(), keep.end());
  });
  if (kept == slots.end()) return;  // dropped meanwhile: nothing newer to protect
  for (const auto &slot : slots) {
    if (&slot == &*kept || slot.created_at < kept->created_at) continue;
    throw Error(
        COFFER_STATUS_INVALID_ARGUMENT,
        storage_->location() + ": drop_old keeps only the master key that " +
            config_.master_key.field_path() + " names (" + config_.master_key.describe() +
            "), but the store has a newer master key, which it would drop; nothing was "
            "dropped. Point " +
            config_.master_key.field +
            " at the new key first and run "
            "drop_old from there (to abandon the staged rotation instead, rotate to a fresh "
            "key without keep_old)");
  }
}

RotateResult CredentialStore::rotate_master_key(const RotateOptions &options) {
  ensure_ready();
  RotateResult result;
  if (options.drop_old) {
    Bytes keep;
    {
      std::shared_lock lock(mutex_);
      keep = unlocked_->slot_id;
    }
    refuse_to_drop_a_newer_master_key(keep);
    result.dropped_master_keys = storage_->drop_master_keys_except(keep);
    result.kept_master_keys.push_back(config_.master_key.describe());
    storage_->compact();
    result.master_keys = storage_->read_slots().size();
    if (log_)
      log_(COFFER_LOG_INFO, storage_->location() + ": dropped " +
                                std::to_string(result.dropped_master_keys) +
                                " master key(s) other than the one in use");
    return result;
  }

  const MasterKeySource &source = *options.new_master_key;
  if (source.kind == MasterKeySource::Kind::file && !master_key_file_exists(source))
    result.master_key_file_created = create_master_key_file(source);
  MasterKeySlot slot = new_slot(source, options.scrypt, clock_());
  SecretBuffer master = derive(source, slot);
  {
    std::shared_lock lock(mutex_);
    if (!source.is_passphrase() && master.equals(unlocked_->master_key.bytes()))
      throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                  source.field_path() + ": the new master key is the one already in use");
  }

  // Wrap every data key of the store; if one appears meanwhile (a rekey
  // elsewhere), load it and wrap again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    refresh_keys();
    auto rows = storage_->read_data_keys();
    std::vector<WrappedKey> wraps;
    Bytes id = store_id();
    for (const auto &row : rows) {
      auto key = find_data_key(row.data_key_id);
      if (!key)
        throw Error(COFFER_STATUS_DATA_ERROR,
                    storage_->location() + ": data key " + std::to_string(row.data_key_id) +
                        " is not wrapped for the master key in use, so it cannot be re-wrapped");
      Sealed sealed =
          wrap_data_key(aead_, master.bytes(), {id, row.data_key_id, slot.slot_id}, key->bytes());
      wraps.push_back({row.data_key_id, slot.slot_id, sealed.nonce, sealed.ciphertext});
    }
    if (!storage_->add_master_key(slot, wraps, !options.keep_old)) continue;
    result.rewrapped_data_keys = wraps.size();
    if (options.keep_old) result.kept_master_keys.push_back(config_.master_key.describe());
    result.kept_master_keys.push_back(source.describe());
    if (!options.keep_old) {
      std::unique_lock lock(mutex_);
      unlocked_->slot_id = slot.slot_id;
      unlocked_->master_key = std::move(master);
    }
    storage_->compact();
    result.master_keys = storage_->read_slots().size();
    if (log_)
      log_(COFFER_LOG_INFO, storage_->location() + ": re-wrapped " +
                                std::to_string(result.rewrapped_data_keys) + " data key(s) under " +
                                source.describe() +
                                (options.keep_old ? "; the old master key still opens the store"
                                                  : "; the old master key no longer opens it"));
    return result;
  }
  throw Error(COFFER_STATUS_UNAVAILABLE,
              storage_->location() + ": the store's data keys kept changing during the rotation");
}

RekeyResult CredentialStore::rekey(std::size_t batch_size, std::optional<std::size_t> max_batches) {
  ensure_ready();
  RekeyResult result;
  Bytes id = store_id();
  SecretBuffer fresh(data_key_size);
  fill_random(fresh.writable());
  RekeyStart start = storage_->begin_rekey(clock_(), [&](int64_t data_key_id) {
    std::shared_lock lock(mutex_);
    Sealed sealed = wrap_data_key(aead_, unlocked_->master_key.bytes(),
                                  {id, data_key_id, unlocked_->slot_id}, fresh.bytes());
    return WrappedKey{data_key_id, unlocked_->slot_id, sealed.nonce, sealed.ciphertext};
  });
  result.data_key_id = start.data_key_id;
  result.resumed = start.resumed;
  if (!start.resumed) {
    std::unique_lock lock(mutex_);
    unlocked_->data_keys[start.data_key_id] =
        std::make_shared<const AeadKey>(aead_, std::move(fresh));
    unlocked_->active = start.data_key_id;
  } else {
    refresh_keys();
  }
  auto target = data_key(start.data_key_id);
  if (!target)
    throw Error(COFFER_STATUS_DATA_ERROR, storage_->location() + ": the rekey's data key " +
                                              std::to_string(start.data_key_id) +
                                              " is not wrapped for the master key in use");
  if (log_)
    log_(COFFER_LOG_INFO, storage_->location() + (start.resumed ? ": resuming" : ": starting") +
                              " rekey to data key " + std::to_string(start.data_key_id));

  std::size_t batches = 0;
  for (std::size_t pass = 0;; ++pass) {
    if (max_batches && batches == *max_batches) {
      result.finished = false;
      result.remaining = storage_->count_records_not_under(start.data_key_id);
      if (result.remaining > 0) return result;
      result.finished = true;  // the last batch was the last: finish now
    }
    auto rows = storage_->records_not_under(start.data_key_id, batch_size);
    if (rows.empty()) {
      RekeyFinish finish = storage_->finish_rekey(start.data_key_id);
      result.retired_data_keys.insert(result.retired_data_keys.end(), finish.retired.begin(),
                                      finish.retired.end());
      if (finish.finished) break;
      if (pass > 1000000)
        throw Error(COFFER_STATUS_UNAVAILABLE,
                    storage_->location() + ": rekey could not retire the old data keys");
      continue;
    }
    std::vector<ReencryptedRecord> batch;
    batch.reserve(rows.size());
    for (const auto &row : rows) {
      SecretBuffer plain;
      try {
        plain = open(row);
      } catch (const Error &error) {
        throw Error(error.status(),
                    std::string("rekey stopped (run `coffer db verify`): ") + error.what());
      }
      Sealed sealed =
          seal_record(*target, {id, row.key, row.version, start.data_key_id}, plain.bytes());
      batch.push_back({row.key, row.version, row.nonce, sealed.nonce, sealed.ciphertext});
    }
    result.reencrypted += storage_->replace_records(batch, start.data_key_id, clock_());
    ++batches;
  }
  {
    std::unique_lock lock(mutex_);
    for (int64_t retired : result.retired_data_keys) unlocked_->data_keys.erase(retired);
  }
  storage_->compact();
  if (log_)
    log_(COFFER_LOG_INFO,
         storage_->location() + ": rekey done: " + std::to_string(result.reencrypted) +
             " record(s) re-encrypted under data key " + std::to_string(start.data_key_id));
  return result;
}

VerifyResult CredentialStore::verify(const VerifyPart &part) {
  VerifyResult result;
  result.integrity_check = part.first ? storage_->integrity_check() : "ok";
  try {
    ensure_ready();
  } catch (const Error &error) {
    // A store that does not unlock (damaged, or another master key) still
    // gets the database's own verdict, which tells the two apart.
    if (error.status() != COFFER_STATUS_DATA_ERROR) throw;
    result.unlock_error = error.what();
    return result;
  }
  refresh_keys();
  auto data_keys = storage_->read_data_keys();
  result.data_keys = data_keys.size();
  if (part.first) {
    result.total = storage_->count_records_not_under(0);
    for (const auto &row : data_keys) {
      if (!find_data_key(row.data_key_id))
        result.bad.push_back({"", 0,
                              "data key " + std::to_string(row.data_key_id) +
                                  " is not wrapped for the master key in use"});
    }
  }
  std::string after_key = part.first ? std::string() : part.after_key;
  uint64_t after_version = part.first ? 0 : part.after_version;
  for (;;) {
    std::size_t room =
        part.limit == 0 ? 500 : std::min<std::size_t>(500, part.limit - result.records);
    if (room == 0) {
      // A part ends here; it is the last when no record follows.
      result.finished = storage_->scan_records(after_key, after_version, 1).empty();
      if (!result.finished) return result;
      break;
    }
    auto rows = storage_->scan_records(after_key, after_version, room);
    if (rows.empty()) break;
    for (const auto &row : rows) {
      ++result.records;
      std::string why;
      if (!try_open(row, why)) result.bad.push_back({row.key, row.version, why});
    }
    after_key = rows.back().key;
    after_version = rows.back().version;
    result.last_key = after_key;
    result.last_version = after_version;
  }
  for (const auto &missing : storage_->keys_missing_latest())
    result.bad.push_back({missing.key, missing.latest_version,
                          "the latest version has no record (deleted or damaged)"});
  result.keys = storage_->list_keys().size();
  return result;
}

}  // namespace coffer::database
