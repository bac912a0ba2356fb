#include "storage/postgres_storage.hpp"

#include <coffer/provider.hpp>

#include <algorithm>
#include <random>
#include <thread>

#include "storage/schema.hpp"

namespace coffer::database {

using coffer::provider::Error;
using Clock = RetryBudget::Clock;
using namespace pg_type;

namespace {

// Serialises schema changes and administrative transactions between hosts.
constexpr const char *admin_lock = "SELECT pg_advisory_xact_lock(4354219867301286503)";

const PgStatement read_store_sql{
    "coffer_read_store",
    "SELECT store_id, active_data_key, rekey_in_progress, created_at FROM coffer_store "
    "WHERE id = 1",
    {}};
const PgStatement read_slots_sql{
    "coffer_read_slots",
    "SELECT slot_id, kind, scrypt_salt, scrypt_n, scrypt_r, scrypt_p, created_at "
    "FROM coffer_master_keys ORDER BY created_at, slot_id",
    {}};
const PgStatement read_data_keys_sql{
    "coffer_read_data_keys",
    "SELECT data_key_id, encryptions, created_at FROM coffer_data_keys ORDER BY data_key_id",
    {}};
const PgStatement read_wraps_sql{
    "coffer_read_wraps",
    "SELECT data_key_id, slot_id, nonce, wrapped FROM coffer_wrapped_keys WHERE slot_id = $1 "
    "ORDER BY data_key_id",
    {bytea}};
const PgStatement schema_exists_sql{
    "coffer_schema_exists", "SELECT to_regclass('coffer_schema') IS NOT NULL", {}};
const PgStatement schema_version_sql{
    "coffer_schema_version", "SELECT coalesce(max(version), 0)::bigint FROM coffer_schema", {}};
const PgStatement set_schema_version_sql{
    "coffer_set_schema_version", "INSERT INTO coffer_schema (version) VALUES ($1)", {int8}};
// A get: the key's newest record, by the primary key, and whether it is
// flagged latest. Only when it is not (no such key, a removed key, a deleted
// latest record) does read_latest_sql, through the key's head, tell which.
const PgStatement read_newest_sql{
    "coffer_read_newest",
    "SELECT version, data_key_id, nonce, ciphertext, created_at, updated_at, latest "
    "FROM coffer_records WHERE key = $1 ORDER BY version DESC LIMIT 1",
    {text}};
const PgStatement read_latest_sql{
    "coffer_read_latest",
    "SELECT k.latest_version, r.data_key_id, r.nonce, r.ciphertext, r.created_at, r.updated_at "
    "FROM coffer_keys k LEFT JOIN coffer_records r "
    "ON r.key = k.key AND r.version = k.latest_version WHERE k.key = $1 AND NOT k.removed",
    {text}};
const PgStatement read_version_sql{
    "coffer_read_version",
    "SELECT key, version, data_key_id, nonce, ciphertext, created_at, updated_at "
    "FROM coffer_records WHERE key = $1 AND version = $2",
    {text, int8}};
const PgStatement read_head_sql{
    "coffer_read_head", "SELECT latest_version FROM coffer_keys WHERE key = $1", {text}};
// One round trip: count the encryption against the active data key, move the
// key's head from version-1 to version (or create it at 1), insert the record
// flagged latest, unflag the one before it and prune history, each step only
// if the one before it happened. (The unflagged and the pruned versions never
// overlap: one statement must not change a row twice.) The last
// SELECT reports the head and active data key as of the statement's snapshot,
// for a retry when the guess was stale.
const PgStatement put_sql{
    "coffer_put",
    "WITH counter AS ("
    "  UPDATE coffer_data_keys SET encryptions = encryptions + 1"
    "  WHERE data_key_id = $3"
    "    AND data_key_id = (SELECT active_data_key FROM coffer_store WHERE id = 1)"
    "  RETURNING data_key_id),"
    " head AS ("
    "  INSERT INTO coffer_keys AS k (key, latest_version, removed, updated_at)"
    "  SELECT $1, $2, false, $6 WHERE EXISTS (SELECT 1 FROM counter)"
    "    AND ($2 = 1 OR EXISTS (SELECT 1 FROM coffer_keys WHERE key = $1))"
    "  ON CONFLICT (key) DO UPDATE SET latest_version = EXCLUDED.latest_version,"
    "    removed = false, updated_at = EXCLUDED.updated_at"
    "  WHERE k.latest_version = EXCLUDED.latest_version - 1"
    "  RETURNING latest_version),"
    " record AS ("
    "  INSERT INTO coffer_records (key, version, data_key_id, nonce, ciphertext, created_at,"
    "    updated_at, latest)"
    "  SELECT $1, $2, $3, $4, $5, $6, $6, true WHERE EXISTS (SELECT 1 FROM head)"
    "  RETURNING version),"
    " superseded AS ("
    "  UPDATE coffer_records SET latest = false WHERE key = $1 AND latest"
    "    AND version < $2 AND version > $2 - $7 AND EXISTS (SELECT 1 FROM record)),"
    " pruned AS ("
    "  DELETE FROM coffer_records WHERE key = $1 AND version <= $2 - $7"
    "    AND EXISTS (SELECT 1 FROM record))"
    " SELECT (SELECT count(*) FROM record)::bigint,"
    "  coalesce((SELECT latest_version FROM coffer_keys WHERE key = $1), 0)::bigint,"
    "  coalesce((SELECT active_data_key FROM coffer_store WHERE id = 1), 0)::bigint",
    {text, int8, int8, bytea, bytea, int8, int8}};
const PgStatement remove_sql{
    "coffer_remove",
    "WITH head AS (UPDATE coffer_keys SET removed = true, updated_at = $2"
    "  WHERE key = $1 AND NOT removed RETURNING key),"
    " gone AS (DELETE FROM coffer_records WHERE key = $1 AND EXISTS (SELECT 1 FROM head))"
    " SELECT count(*)::bigint FROM head",
    {text, int8}};
const PgStatement list_sql{
    "coffer_list",
    "SELECT key, latest_version FROM coffer_keys WHERE NOT removed ORDER BY key",
    {}};
const PgStatement read_versions_sql{
    "coffer_read_versions",
    "SELECT r.version, r.created_at FROM coffer_records r JOIN coffer_keys k "
    "ON k.key = r.key WHERE r.key = $1 AND NOT k.removed ORDER BY r.version DESC",
    {text}};
const PgStatement scan_sql{
    "coffer_scan",
    "SELECT key, version, data_key_id, nonce, ciphertext, created_at, updated_at "
    "FROM coffer_records WHERE (key, version) > ($1, $2) ORDER BY key, version LIMIT $3",
    {text, int8, int8}};
const PgStatement missing_latest_sql{
    "coffer_missing_latest",
    "SELECT k.key, k.latest_version FROM coffer_keys k WHERE NOT k.removed AND NOT EXISTS "
    "(SELECT 1 FROM coffer_records r WHERE r.key = k.key AND r.version = k.latest_version) "
    "ORDER BY k.key",
    {}};
const PgStatement insert_slot_sql{
    "coffer_insert_slot",
    "INSERT INTO coffer_master_keys (slot_id, kind, scrypt_salt, scrypt_n, scrypt_r, scrypt_p, "
    "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    {bytea, text, bytea, int8, int8, int8, int8}};
const PgStatement insert_wrap_sql{
    "coffer_insert_wrap",
    "INSERT INTO coffer_wrapped_keys (data_key_id, slot_id, nonce, wrapped) "
    "VALUES ($1, $2, $3, $4)",
    {int8, bytea, bytea, bytea}};
const PgStatement insert_data_key_sql{
    "coffer_insert_data_key",
    "INSERT INTO coffer_data_keys (data_key_id, encryptions, created_at) VALUES ($1, $2, $3)",
    {int8, int8, int8}};
const PgStatement insert_store_sql{
    "coffer_insert_store",
    "INSERT INTO coffer_store (id, store_id, format, active_data_key, rekey_in_progress, "
    "created_at) VALUES (1, $1, $2, $3, false, $4)",
    {bytea, int8, int8, int8}};
const PgStatement count_store_sql{
    "coffer_count_store", "SELECT count(*)::bigint FROM coffer_store", {}};
const PgStatement data_key_ids_sql{
    "coffer_data_key_ids", "SELECT data_key_id FROM coffer_data_keys ORDER BY data_key_id", {}};
const PgStatement slot_exists_sql{
    "coffer_slot_exists",
    "SELECT count(*)::bigint FROM coffer_master_keys WHERE slot_id = $1",
    {bytea}};
const PgStatement drop_slots_sql{
    "coffer_drop_slots", "DELETE FROM coffer_master_keys WHERE slot_id <> $1", {bytea}};
const PgStatement lock_store_sql{
    "coffer_lock_store",
    "SELECT active_data_key, rekey_in_progress FROM coffer_store WHERE id = 1 FOR UPDATE",
    {}};
const PgStatement count_slots_sql{
    "coffer_count_slots", "SELECT count(*)::bigint FROM coffer_master_keys", {}};
const PgStatement max_data_key_sql{
    "coffer_max_data_key",
    "SELECT coalesce(max(data_key_id), 0)::bigint FROM coffer_data_keys",
    {}};
const PgStatement start_rekey_sql{
    "coffer_start_rekey",
    "UPDATE coffer_store SET active_data_key = $1, rekey_in_progress = true WHERE id = 1",
    {int8}};
const PgStatement records_not_under_sql{
    "coffer_records_not_under",
    "SELECT key, version, data_key_id, nonce, ciphertext, created_at, updated_at "
    "FROM coffer_records WHERE data_key_id <> $1 ORDER BY key, version LIMIT $2",
    {int8, int8}};
const PgStatement count_records_not_under_sql{
    "coffer_count_records_not_under",
    "SELECT count(*)::bigint FROM coffer_records WHERE data_key_id <> $1",
    {int8}};
const PgStatement count_encryptions_sql{
    "coffer_count_encryptions",
    "UPDATE coffer_data_keys SET encryptions = encryptions + $2 WHERE data_key_id = $1",
    {int8, int8}};
const PgStatement replace_record_sql{
    "coffer_replace_record",
    "UPDATE coffer_records SET data_key_id = $1, nonce = $2, ciphertext = $3, updated_at = $4 "
    "WHERE key = $5 AND version = $6 AND nonce = $7",
    {int8, bytea, bytea, int8, text, int8, bytea}};
const PgStatement retire_data_keys_sql{
    "coffer_retire_data_keys",
    "DELETE FROM coffer_data_keys d WHERE d.data_key_id <> $1 AND NOT EXISTS "
    "(SELECT 1 FROM coffer_records r WHERE r.data_key_id = d.data_key_id) "
    "RETURNING d.data_key_id",
    {int8}};
const PgStatement other_data_keys_sql{
    "coffer_other_data_keys",
    "SELECT count(*)::bigint FROM coffer_data_keys WHERE data_key_id <> $1",
    {int8}};
const PgStatement end_rekey_sql{
    "coffer_end_rekey", "UPDATE coffer_store SET rekey_in_progress = false WHERE id = 1", {}};

const PgParams no_params;

// Runs `body` between BEGIN and COMMIT; rolls back when it throws.
template <class Body>
auto in_transaction(PgConnection &connection, Body &&body) {
  connection.execute("BEGIN");
  try {
    auto result = body();
    connection.execute("COMMIT");
    return result;
  } catch (...) {
    if (!connection.broken()) {
      try {
        connection.execute("ROLLBACK");
      } catch (const PgFailure &) {  // the original failure matters more
      }
    }
    throw;
  }
}

RecordRow record_from(const PgResult &result, int row) {
  RecordRow record;
  record.key = result.text(row, 0);
  record.version = static_cast<uint64_t>(result.integer(row, 1));
  record.data_key_id = result.integer(row, 2);
  record.nonce = result.bytes(row, 3);
  record.ciphertext = result.bytes(row, 4);
  record.created_at = result.integer(row, 5);
  record.updated_at = result.integer(row, 6);
  return record;
}

void insert_slot(PgConnection &connection, const MasterKeySlot &slot) {
  PgParams params;
  params.add(ByteView(slot.slot_id)).add(std::string_view(slot.passphrase ? "passphrase" : "key"));
  if (slot.passphrase) {
    params.add(ByteView(slot.scrypt_salt))
        .add(static_cast<int64_t>(slot.scrypt.n))
        .add(static_cast<int64_t>(slot.scrypt.r))
        .add(static_cast<int64_t>(slot.scrypt.p));
  } else {
    params.add_null().add_null().add_null().add_null();
  }
  params.add(slot.created_at);
  connection.run(insert_slot_sql, params);
}

void insert_wrap(PgConnection &connection, const WrappedKey &wrap) {
  PgParams params;
  params.add(wrap.data_key_id)
      .add(ByteView(wrap.slot_id))
      .add(ByteView(wrap.nonce))
      .add(ByteView(wrap.wrapped));
  connection.run(insert_wrap_sql, params);
}

void insert_data_key(PgConnection &connection, const DataKeyRow &key) {
  PgParams params;
  params.add(key.data_key_id).add(static_cast<int64_t>(key.encryptions)).add(key.created_at);
  connection.run(insert_data_key_sql, params);
}

[[noreturn]] void encryption_limit_reached(const std::string &location, int64_t data_key_id) {
  throw Error(COFFER_STATUS_UNAVAILABLE,
              location + ": data key " + std::to_string(data_key_id) + " has sealed " +
                  std::to_string(data_key_encryption_limit) +
                  " values, the most one key may; run `coffer db rekey` to start a new data key");
}

}  // namespace

PostgresStorage::PostgresStorage(PostgresSettings settings, std::size_t pool_size,
                                 uint32_t retry_timeout_ms, Log log, Count count)
    : settings_(std::move(settings)),
      retry_timeout_ms_(retry_timeout_ms),
      log_(std::move(log)),
      count_(std::move(count)),
      pool_(pool_size, [this] {
        auto connection = std::make_unique<PgConnection>(settings_, settings_.description);
        // A replacement for a lost connection is a reconnect.
        std::size_t lost = lost_.load();
        while (lost > 0 && !lost_.compare_exchange_weak(lost, lost - 1)) {
        }
        if (lost > 0 && count_) count_("reconnects", 1);
        return connection;
      }) {}

PostgresStorage::~PostgresStorage() = default;

std::string PostgresStorage::location() const {
  return settings_.description;
}

Clock::time_point PostgresStorage::deadline() const {
  auto deadline = Clock::now() + std::chrono::milliseconds(retry_timeout_ms_);
  if (auto budget = RetryBudget::deadline(); budget && *budget < deadline) deadline = *budget;
  return deadline;
}

void PostgresStorage::cancel() {
  {
    std::lock_guard lock(cancel_mutex_);
    cancelled_ = true;
  }
  cancel_wake_.notify_all();
}

void PostgresStorage::pause_for(std::chrono::milliseconds pause) {
  std::unique_lock lock(cancel_mutex_);
  cancel_wake_.wait_for(lock, pause, [&] { return cancelled_.load(); });
}

void PostgresStorage::raise(const PgFailure &failure) const {
  if (cancelled_ && failure.retryable())
    throw Error(COFFER_STATUS_UNAVAILABLE,
                "the instance is closing; last failure: " + std::string(failure.what()));
  switch (failure.kind()) {
    case PgFailure::Kind::connection:
    case PgFailure::Kind::transient:
      throw Error(COFFER_STATUS_UNAVAILABLE, std::string(failure.what()));
    case PgFailure::Kind::denied:
      throw Error(COFFER_STATUS_DENIED, std::string(failure.what()));
    case PgFailure::Kind::timeout:
      throw Error(COFFER_STATUS_TIMEOUT, std::string(failure.what()));
    case PgFailure::Kind::permanent:
      // Without an SQLSTATE the failure came from connecting (e.g. TLS verification).
      throw Error(failure.sqlstate().empty() ? COFFER_STATUS_UNAVAILABLE : COFFER_STATUS_INTERNAL,
                  std::string(failure.what()));
  }
  throw Error(COFFER_STATUS_INTERNAL, std::string(failure.what()));
}

template <class Body>
auto PostgresStorage::once(Body &&body) {
  auto lease = pool_.acquire();
  // A get's own deadline bounds each statement too (its caller may wait on
  // this thread); writes and admin commands without one wait as before.
  lease->set_deadline(RetryBudget::deadline());
  try {
    return body(*lease);
  } catch (const PgFailure &failure) {
    if (failure.kind() == PgFailure::Kind::connection || lease->broken()) {
      lease.discard();
      // The others were most likely cut by the same restart or failover.
      lost_ += 1 + pool_.drop_idle();
    }
    throw;
  }
}

template <class Body>
auto PostgresStorage::with_retries(Body &&body) {
  const auto until = deadline();
  auto backoff = std::chrono::milliseconds(50);
  thread_local std::minstd_rand jitter(std::random_device{}());
  for (int attempt = 0;; ++attempt) {
    try {
      return once(body);
    } catch (const PgFailure &failure) {
      auto now = Clock::now();
      if (!failure.retryable() || now >= until || cancelled_) raise(failure);
      if (log_) log_(COFFER_LOG_DEBUG, std::string("retrying after: ") + failure.what());
      if (count_) count_("retries", 1);
      // The first retry is immediate: a pooled connection may simply have gone stale.
      if (attempt > 0) {
        auto pause = backoff / 2 + std::chrono::milliseconds(jitter() % (backoff.count() / 2 + 1));
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now);
        pause_for(std::min(pause, left));
        backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      }
    }
  }
}

int PostgresStorage::schema_version() {
  return with_retries([](PgConnection &connection) {
    auto exists = connection.run(schema_exists_sql, no_params);
    if (!exists.boolean(0, 0)) return 0;
    auto version = connection.run(schema_version_sql, no_params);
    return static_cast<int>(version.integer(0, 0));
  });
}

void PostgresStorage::migrate(int target) {
  int from = with_retries([&](PgConnection &connection) {
    return in_transaction(connection, [&] {
      connection.execute(admin_lock);
      connection.execute("CREATE TABLE IF NOT EXISTS coffer_schema (version INTEGER NOT NULL)");
      int current = static_cast<int>(connection.run(schema_version_sql, no_params).integer(0, 0));
      if (current > target)
        throw Error(COFFER_STATUS_INVALID_CONFIG,
                    location() + ": the store has schema version " + std::to_string(current) +
                        ", newer than this coffer knows (" + std::to_string(target) +
                        "); upgrade coffer on this host");
      if (current == target) return current;
      for (const auto &migration : postgres_migrations()) {
        if (migration.version <= current || migration.version > target) continue;
        for (auto statement : migration.statements)
          connection.execute(std::string(statement).c_str());
      }
      connection.execute("DELETE FROM coffer_schema");
      PgParams params;
      params.add(int64_t{target});
      connection.run(set_schema_version_sql, params);
      return current;
    });
  });
  if (from != target && log_)
    log_(COFFER_LOG_INFO, location() + ": schema upgraded from version " + std::to_string(from) +
                              " to " + std::to_string(target));
}

std::optional<StoreRow> PostgresStorage::read_store() {
  return with_retries([](PgConnection &connection) -> std::optional<StoreRow> {
    auto result = connection.run(read_store_sql, no_params);
    if (result.rows() == 0) return std::nullopt;
    StoreRow row;
    row.store_id = result.bytes(0, 0);
    row.active_data_key = result.integer(0, 1);
    row.rekey_in_progress = result.boolean(0, 2);
    row.created_at = result.integer(0, 3);
    return row;
  });
}

std::vector<MasterKeySlot> PostgresStorage::read_slots() {
  return with_retries([](PgConnection &connection) {
    auto result = connection.run(read_slots_sql, no_params);
    std::vector<MasterKeySlot> slots;
    for (int row = 0; row < result.rows(); ++row) {
      MasterKeySlot slot;
      slot.slot_id = result.bytes(row, 0);
      slot.passphrase = result.text(row, 1) == "passphrase";
      if (slot.passphrase) {
        slot.scrypt_salt = result.bytes(row, 2);
        slot.scrypt.n = static_cast<uint64_t>(result.integer(row, 3));
        slot.scrypt.r = stored_scrypt_factor(result.integer(row, 4));
        slot.scrypt.p = stored_scrypt_factor(result.integer(row, 5));
      }
      slot.created_at = result.integer(row, 6);
      slots.push_back(std::move(slot));
    }
    return slots;
  });
}

std::vector<DataKeyRow> PostgresStorage::read_data_keys() {
  return with_retries([](PgConnection &connection) {
    auto result = connection.run(read_data_keys_sql, no_params);
    std::vector<DataKeyRow> keys;
    for (int row = 0; row < result.rows(); ++row)
      keys.push_back({result.integer(row, 0), static_cast<uint64_t>(result.integer(row, 1)),
                      result.integer(row, 2)});
    return keys;
  });
}

std::vector<WrappedKey> PostgresStorage::read_wrapped_keys(ByteView slot_id) {
  return with_retries([&](PgConnection &connection) {
    PgParams params;
    params.add(slot_id);
    auto result = connection.run(read_wraps_sql, params);
    std::vector<WrappedKey> wraps;
    for (int row = 0; row < result.rows(); ++row)
      wraps.push_back({result.integer(row, 0), result.bytes(row, 1), result.bytes(row, 2),
                       result.bytes(row, 3)});
    return wraps;
  });
}

bool PostgresStorage::initialise(const NewStore &store) {
  return with_retries([&](PgConnection &connection) {
    return in_transaction(connection, [&] {
      connection.execute(admin_lock);
      if (connection.run(count_store_sql, no_params).integer(0, 0) > 0) return false;
      insert_data_key(connection, store.data_key);
      insert_slot(connection, store.slot);
      insert_wrap(connection, store.wrapped_key);
      PgParams params;
      params.add(ByteView(store.store.store_id))
          .add(int64_t{envelope_format})
          .add(store.store.active_data_key)
          .add(store.store.created_at);
      connection.run(insert_store_sql, params);
      return true;
    });
  });
}

void PostgresStorage::remember_head(const std::string &key, uint64_t version) {
  std::lock_guard lock(heads_mutex_);
  if (heads_.size() > 10000) heads_.clear();  // a hint cache, not a source of truth
  heads_[key] = version;
}

std::optional<uint64_t> PostgresStorage::known_head(const std::string &key) {
  std::lock_guard lock(heads_mutex_);
  auto found = heads_.find(key);
  if (found == heads_.end()) return std::nullopt;
  return found->second;
}

void PostgresStorage::forget_head(const std::string &key) {
  std::lock_guard lock(heads_mutex_);
  heads_.erase(key);
}

LatestRecord PostgresStorage::read_latest(const std::string &key, RecordVisitor &visitor) {
  LatestRecord latest = with_retries([&](PgConnection &connection) {
    PgParams params;
    params.add(std::string_view(key));
    LatestRecord found;
    auto newest = connection.run(read_newest_sql, params);
    if (newest.rows() == 1 && newest.boolean(0, 6)) {
      found.state = LatestRecord::State::found;
      found.version = static_cast<uint64_t>(newest.integer(0, 0));
      visitor.visit({key, found.version, newest.integer(0, 1), newest.bytes_view(0, 2),
                     newest.bytes_view(0, 3), newest.integer(0, 4), newest.integer(0, 5)});
      return found;
    }
    auto result = connection.run(read_latest_sql, params);
    if (result.rows() == 0) return found;
    found.version = static_cast<uint64_t>(result.integer(0, 0));
    if (result.is_null(0, 1)) {
      found.state = LatestRecord::State::missing_record;
      return found;
    }
    found.state = LatestRecord::State::found;
    visitor.visit({key, found.version, result.integer(0, 1), result.bytes_view(0, 2),
                   result.bytes_view(0, 3), result.integer(0, 4), result.integer(0, 5)});
    return found;
  });
  if (latest.state == LatestRecord::State::found) remember_head(key, latest.version);
  return latest;
}

std::optional<RecordRow> PostgresStorage::read_version(const std::string &key, uint64_t version) {
  return with_retries([&](PgConnection &connection) -> std::optional<RecordRow> {
    PgParams params;
    params.add(std::string_view(key)).add(static_cast<int64_t>(version));
    auto result = connection.run(read_version_sql, params);
    if (result.rows() == 0) return std::nullopt;
    return record_from(result, 0);
  });
}

PutOutcome PostgresStorage::put(const std::string &key, uint32_t history, int64_t now_ms,
                                int64_t active_data_key, const Sealer &seal) {
  const auto until = deadline();
  auto hint = known_head(key);
  bool head_known = hint.has_value();
  uint64_t head = hint.value_or(0);
  int64_t active = active_data_key;
  PutOutcome outcome;
  outcome.data_key_id = active;
  // Each pass either writes, or learns the current head and data key; a few
  // passes are enough unless many hosts write the same key at once.
  for (int pass = 0; pass < 100; ++pass) {
    if (!head_known) {
      head = with_retries([&](PgConnection &connection) -> uint64_t {
        PgParams params;
        params.add(std::string_view(key));
        auto result = connection.run(read_head_sql, params);
        return result.rows() == 0 ? 0 : static_cast<uint64_t>(result.integer(0, 0));
      });
      head_known = true;
    }
    outcome.version = head + 1;
    outcome.data_key_id = active;
    auto sealed = seal(outcome.version, active);
    if (!sealed) return outcome;  // unstored: the caller loads data key `active`

    try {
      auto result = once([&](PgConnection &connection) {
        PgParams params;
        params.add(std::string_view(key))
            .add(static_cast<int64_t>(outcome.version))
            .add(active)
            .add(ByteView(sealed->nonce))
            .add(ByteView(sealed->ciphertext))
            .add(now_ms)
            .add(static_cast<int64_t>(history));
        auto row = connection.run(put_sql, params);
        return std::tuple(row.integer(0, 0), row.integer(0, 1), row.integer(0, 2));
      });
      auto [stored, current_head, current_active] = result;
      if (stored == 1) {
        remember_head(key, outcome.version);
        outcome.stored = true;
        return outcome;
      }
      if (current_active == 0)
        throw Error(COFFER_STATUS_UNAVAILABLE,
                    location() + ": the store is not initialised; run `coffer db init`");
      head = static_cast<uint64_t>(current_head);
      head_known = true;
      active = current_active;
      forget_head(key);
    } catch (const PgFailure &failure) {
      if (failure.sqlstate() == "23514") encryption_limit_reached(location(), active);
      if (failure.sqlstate() == "23503" || failure.sqlstate() == "23505") {
        // A data key retired or a version taken meanwhile: look again.
        head_known = false;
        active = read_store().value_or(StoreRow{}).active_data_key;
        continue;
      }
      if (!failure.retryable() || Clock::now() >= until || cancelled_) raise(failure);
      // The outcome is unknown if the connection broke: our nonce in place of
      // the version we wrote means it committed.
      auto landed = read_version(key, outcome.version);
      if (landed && landed->nonce == sealed->nonce) {
        remember_head(key, outcome.version);
        outcome.stored = true;
        return outcome;
      }
      head_known = false;
    }
  }
  throw Error(COFFER_STATUS_UNAVAILABLE,
              location() + ": could not write " + key + ": too many concurrent writers");
}

bool PostgresStorage::remove(const std::string &key, int64_t now_ms) {
  forget_head(key);
  bool uncertain = false;
  const auto until = deadline();
  for (;;) {
    try {
      bool removed = once([&](PgConnection &connection) {
        PgParams params;
        params.add(std::string_view(key)).add(now_ms);
        return connection.run(remove_sql, params).integer(0, 0) > 0;
      });
      // After a broken connection, "nothing to remove" means the first try did it.
      return removed || uncertain;
    } catch (const PgFailure &failure) {
      if (!failure.retryable() || Clock::now() >= until || cancelled_) raise(failure);
      uncertain = uncertain || failure.kind() == PgFailure::Kind::connection;
      pause_for(std::chrono::milliseconds(50));
    }
  }
}

std::vector<KeySummary> PostgresStorage::list_keys() {
  return with_retries([](PgConnection &connection) {
    auto result = connection.run(list_sql, no_params);
    std::vector<KeySummary> keys;
    for (int row = 0; row < result.rows(); ++row)
      keys.push_back({result.text(row, 0), static_cast<uint64_t>(result.integer(row, 1))});
    return keys;
  });
}

std::vector<VersionRow> PostgresStorage::read_versions(const std::string &key) {
  return with_retries([&](PgConnection &connection) {
    PgParams params;
    params.add(std::string_view(key));
    auto result = connection.run(read_versions_sql, params);
    std::vector<VersionRow> versions;
    for (int row = 0; row < result.rows(); ++row)
      versions.push_back({static_cast<uint64_t>(result.integer(row, 0)), result.integer(row, 1)});
    return versions;
  });
}

std::vector<RecordRow> PostgresStorage::scan_records(const std::string &after_key,
                                                     uint64_t after_version, std::size_t limit) {
  return with_retries([&](PgConnection &connection) {
    PgParams params;
    params.add(std::string_view(after_key))
        .add(static_cast<int64_t>(after_version))
        .add(static_cast<int64_t>(limit));
    auto result = connection.run(scan_sql, params);
    std::vector<RecordRow> rows;
    for (int row = 0; row < result.rows(); ++row) rows.push_back(record_from(result, row));
    return rows;
  });
}

std::vector<KeySummary> PostgresStorage::keys_missing_latest() {
  return with_retries([](PgConnection &connection) {
    auto result = connection.run(missing_latest_sql, no_params);
    std::vector<KeySummary> keys;
    for (int row = 0; row < result.rows(); ++row)
      keys.push_back({result.text(row, 0), static_cast<uint64_t>(result.integer(row, 1))});
    return keys;
  });
}

bool PostgresStorage::add_master_key(const MasterKeySlot &slot,
                                     const std::vector<WrappedKey> &wraps, bool drop_others) {
  return with_retries([&](PgConnection &connection) {
    return in_transaction(connection, [&] {
      connection.execute(admin_lock);
      PgParams slot_param;
      slot_param.add(ByteView(slot.slot_id));
      // A retry after an unacknowledged commit finds its own slot: done.
      bool already = connection.run(slot_exists_sql, slot_param).integer(0, 0) > 0;
      if (!already) {
        auto ids = connection.run(data_key_ids_sql, no_params);
        std::vector<int64_t> stored, wrapped;
        for (int row = 0; row < ids.rows(); ++row) stored.push_back(ids.integer(row, 0));
        for (const auto &wrap : wraps) wrapped.push_back(wrap.data_key_id);
        std::sort(wrapped.begin(), wrapped.end());
        if (stored != wrapped) return false;
        insert_slot(connection, slot);
        for (const auto &wrap : wraps) insert_wrap(connection, wrap);
      }
      if (drop_others) connection.run(drop_slots_sql, slot_param);
      return true;
    });
  });
}

std::size_t PostgresStorage::drop_master_keys_except(ByteView keep) {
  return with_retries([&](PgConnection &connection) {
    return in_transaction(connection, [&] {
      connection.execute(admin_lock);
      PgParams params;
      params.add(keep);
      return static_cast<std::size_t>(connection.run(drop_slots_sql, params).affected());
    });
  });
}

RekeyStart PostgresStorage::begin_rekey(int64_t now_ms, const DataKeyWrapper &wrap) {
  return with_retries([&](PgConnection &connection) {
    return in_transaction(connection, [&] {
      connection.execute(admin_lock);
      RekeyStart start;
      auto store = connection.run(lock_store_sql, no_params);
      if (store.rows() == 0)
        throw Error(COFFER_STATUS_UNAVAILABLE,
                    location() + ": the store is not initialised; run `coffer db init`");
      if (store.boolean(0, 1)) {
        start.data_key_id = store.integer(0, 0);
        start.resumed = true;
        return start;
      }
      int64_t slots = connection.run(count_slots_sql, no_params).integer(0, 0);
      if (slots != 1)
        throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                    location() + ": the store has " + std::to_string(slots) +
                        " master keys (a staged master key rotation is in progress); finish it "
                        "with rotate-master-key {\"drop_old\": true} before rekey");
      start.data_key_id = connection.run(max_data_key_sql, no_params).integer(0, 0) + 1;
      WrappedKey wrapped = wrap(start.data_key_id);
      insert_data_key(connection, {start.data_key_id, 0, now_ms});
      insert_wrap(connection, wrapped);
      PgParams params;
      params.add(start.data_key_id);
      connection.run(start_rekey_sql, params);
      return start;
    });
  });
}

std::vector<RecordRow> PostgresStorage::records_not_under(int64_t data_key_id, std::size_t limit) {
  return with_retries([&](PgConnection &connection) {
    PgParams params;
    params.add(data_key_id).add(static_cast<int64_t>(limit));
    auto result = connection.run(records_not_under_sql, params);
    std::vector<RecordRow> rows;
    for (int row = 0; row < result.rows(); ++row) rows.push_back(record_from(result, row));
    return rows;
  });
}

std::size_t PostgresStorage::count_records_not_under(int64_t data_key_id) {
  return with_retries([&](PgConnection &connection) {
    PgParams params;
    params.add(data_key_id);
    return static_cast<std::size_t>(
        connection.run(count_records_not_under_sql, params).integer(0, 0));
  });
}

std::size_t PostgresStorage::replace_records(const std::vector<ReencryptedRecord> &records,
                                             int64_t data_key_id, int64_t now_ms) {
  try {
    return with_retries([&](PgConnection &connection) {
      return in_transaction(connection, [&] {
        PgParams count;
        count.add(data_key_id).add(static_cast<int64_t>(records.size()));
        connection.run(count_encryptions_sql, count);
        std::size_t changed = 0;
        for (const auto &record : records) {
          PgParams params;
          params.add(data_key_id)
              .add(ByteView(record.nonce))
              .add(ByteView(record.ciphertext))
              .add(now_ms)
              .add(std::string_view(record.key))
              .add(static_cast<int64_t>(record.version))
              .add(ByteView(record.old_nonce));
          changed += connection.run(replace_record_sql, params).affected();
        }
        return changed;
      });
    });
  } catch (const Error &error) {
    if (std::string_view(error.what()).find("SQLSTATE 23514") != std::string_view::npos)
      encryption_limit_reached(location(), data_key_id);
    throw;
  }
}

RekeyFinish PostgresStorage::finish_rekey(int64_t active) {
  return with_retries([&](PgConnection &connection) {
    return in_transaction(connection, [&] {
      connection.execute(admin_lock);
      RekeyFinish finish;
      PgParams params;
      params.add(active);
      auto retired = connection.run(retire_data_keys_sql, params);
      for (int row = 0; row < retired.rows(); ++row)
        finish.retired.push_back(retired.integer(row, 0));
      finish.finished = connection.run(other_data_keys_sql, params).integer(0, 0) == 0;
      if (finish.finished) connection.run(end_rekey_sql, no_params);
      std::sort(finish.retired.begin(), finish.retired.end());
      return finish;
    });
  });
}

}  // namespace coffer::database
