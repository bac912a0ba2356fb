#include "storage/sqlite_storage.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <coffer/provider.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>
#include <unordered_map>

#include "keys/private_files.hpp"
#include "storage/schema.hpp"

namespace coffer::database {

using coffer::provider::Error;

namespace {

// The files SQLite opens beside the database, by name, as it finds them.
constexpr std::array<std::string_view, 3> kCompanions = {"-wal", "-shm", "-journal"};

// SQLite opens the store by path: first make sure that no other user can
// swap, redirect or read any of its files.
void check_store_files(const std::filesystem::path &path, const std::string &location) {
  try {
    check_private_files(path, kCompanions);
  } catch (const Error &error) {
    throw Error(error.status(), location + ": refusing to open the store: " + error.what());
  }
}

}  // namespace

// One SQLite connection with its prepared statements. Used by one thread at
// a time (the pool hands it out), hence SQLITE_OPEN_NOMUTEX.
class SqliteStorage::Connection {
 public:
  Connection(const std::filesystem::path &path, uint32_t busy_timeout_ms, std::string location)
      : location_(std::move(location)) {
    check_store_files(path, location_);
    int rc =
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string detail = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw Error(COFFER_STATUS_UNAVAILABLE, location_ + ": cannot open the database: " + detail);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout_ms));
    exec("PRAGMA foreign_keys = ON");
    exec("PRAGMA secure_delete = ON");
    exec("PRAGMA trusted_schema = OFF");
    exec("PRAGMA journal_mode = WAL");
    exec("PRAGMA synchronous = FULL");
  }
  Connection(const Connection &) = delete;
  Connection &operator=(const Connection &) = delete;
  ~Connection() {
    for (auto &entry : statements_) sqlite3_finalize(entry.second);
    sqlite3_close_v2(db_);
  }

  sqlite3_stmt *prepare(const char *sql) {
    auto found = statements_.find(sql);
    if (found != statements_.end()) return found->second;
    sqlite3_stmt *statement = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    if (rc != SQLITE_OK) fail(rc, "cannot prepare a statement");
    statements_.emplace(sql, statement);
    return statement;
  }

  void exec(const char *sql) {
    char *message = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
    sqlite3_free(message);
    if (rc != SQLITE_OK) fail(rc, sql);
  }

  [[noreturn]] void fail(int rc, const std::string &what) const {
    std::string detail = sqlite3_errmsg(db_);
    int primary = rc & 0xFF;
    coffer_status status = COFFER_STATUS_INTERNAL;
    std::string message = location_ + ": " + what + ": " + detail;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
      status = COFFER_STATUS_UNAVAILABLE;
      message = location_ + ": the database is locked by another writer beyond busy_timeout_ms (" +
                detail + ")";
    } else if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
      status = COFFER_STATUS_DATA_ERROR;
      message = location_ + ": the database file is corrupt or not a coffer store (" + detail + ")";
    } else if (primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN ||
               primary == SQLITE_READONLY || primary == SQLITE_PERM || primary == SQLITE_NOMEM) {
      status = COFFER_STATUS_UNAVAILABLE;
    }
    throw Error(status, message);
  }

  [[nodiscard]] sqlite3 *handle() const { return db_; }
  [[nodiscard]] const std::string &location() const { return location_; }

 private:
  sqlite3 *db_ = nullptr;
  std::string location_;
  std::unordered_map<const char *, sqlite3_stmt *> statements_;
};

namespace {

using Connection = SqliteStorage::Connection;

// One execution of a cached statement; resets it when done.
class Query {
 public:
  Query(Connection &connection, const char *sql)
      : connection_(connection), statement_(connection.prepare(sql)) {}
  Query(const Query &) = delete;
  Query &operator=(const Query &) = delete;
  ~Query() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }

  Query &bind(int index, int64_t value) {
    check(sqlite3_bind_int64(statement_, index, value));
    return *this;
  }
  Query &bind(int index, std::string_view text) {
    check(sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                            SQLITE_STATIC));
    return *this;
  }
  Query &bind(int index, ByteView blob) {
    // A zero-length blob must still be a blob, not NULL.
    static const unsigned char empty = 0;
    check(sqlite3_bind_blob(statement_, index, blob.empty() ? &empty : blob.data(),
                            static_cast<int>(blob.size()), SQLITE_STATIC));
    return *this;
  }
  Query &bind_null(int index) {
    check(sqlite3_bind_null(statement_, index));
    return *this;
  }

  // true: a row is ready; false: done.
  bool step() {
    int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    last_error_ = rc;
    connection_.fail(rc, "query failed");
  }
  // Steps through a statement that returns no rows.
  void run() {
    while (step()) {
    }
  }
  // The extended result code of a failing step, for callers that catch.
  [[nodiscard]] int last_error() const { return last_error_; }

  [[nodiscard]] int64_t integer(int column) const {
    return sqlite3_column_int64(statement_, column);
  }
  [[nodiscard]] bool is_null(int column) const {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
  }
  [[nodiscard]] std::string text(int column) const {
    const auto *data = sqlite3_column_text(statement_, column);
    int size = sqlite3_column_bytes(statement_, column);
    return data == nullptr ? std::string()
                           : std::string(reinterpret_cast<const char *>(data), size);
  }
  // Valid until the statement steps, resets or is finalised.
  [[nodiscard]] ByteView blob_view(int column) const {
    const auto *data = static_cast<const unsigned char *>(sqlite3_column_blob(statement_, column));
    int size = sqlite3_column_bytes(statement_, column);
    return data == nullptr ? ByteView() : ByteView(data, static_cast<std::size_t>(size));
  }
  [[nodiscard]] Bytes blob(int column) const {
    const ByteView data = blob_view(column);
    return Bytes(data.begin(), data.end());
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) connection_.fail(rc, "cannot bind a parameter");
  }
  Connection &connection_;
  sqlite3_stmt *statement_;
  int last_error_ = SQLITE_OK;
};

// A transaction that rolls back unless committed. Writers take the write lock
// at BEGIN (IMMEDIATE), so a read never has to be upgraded under contention.
class Transaction {
 public:
  Transaction(Connection &connection, bool write) : connection_(connection) {
    Query(connection_, write ? "BEGIN IMMEDIATE" : "BEGIN").run();
  }
  Transaction(const Transaction &) = delete;
  Transaction &operator=(const Transaction &) = delete;
  ~Transaction() {
    if (!done_) sqlite3_exec(connection_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    Query(connection_, "COMMIT").run();
    done_ = true;
  }

 private:
  Connection &connection_;
  bool done_ = false;
};

RecordRow record_from(const Query &q, int first) {
  RecordRow row;
  row.key = q.text(first);
  row.version = static_cast<uint64_t>(q.integer(first + 1));
  row.data_key_id = q.integer(first + 2);
  row.nonce = q.blob(first + 3);
  row.ciphertext = q.blob(first + 4);
  row.created_at = q.integer(first + 5);
  row.updated_at = q.integer(first + 6);
  return row;
}

[[noreturn]] void encryption_limit_reached(const std::string &location, int64_t data_key_id) {
  throw Error(COFFER_STATUS_UNAVAILABLE,
              location + ": data key " + std::to_string(data_key_id) + " has sealed " +
                  std::to_string(data_key_encryption_limit) +
                  " values, the most one key may; run `coffer db rekey` to start a new data key");
}

}  // namespace

SqliteStorage::SqliteStorage(std::filesystem::path path, std::size_t pool_size,
                             uint32_t busy_timeout_ms, Log log)
    : path_(std::move(path)),
      busy_timeout_ms_(busy_timeout_ms),
      log_(std::move(log)),
      pool_(pool_size,
            [this] { return std::make_unique<Connection>(path_, busy_timeout_ms_, location()); }) {}

SqliteStorage::~SqliteStorage() = default;

std::string SqliteStorage::location() const {
  return "sqlite://" + path_.string();
}

bool SqliteStorage::exists() {
  struct stat info {};
  if (::stat(path_.c_str(), &info) != 0) return false;
  check_store_files(path_, location());
  if ((info.st_mode & 077) != 0 && !warned_about_mode_.exchange(true) && log_) {
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    log_(COFFER_LOG_WARNING,
         location() + ": the database file has mode " + octal +
             "; others can read its metadata (key names, versions): chmod 600 '" + path_.string() +
             "'");
  }
  return true;
}

void SqliteStorage::create() {
  try {
    create_empty_private_file(path_, kCompanions);
  } catch (const Error &error) {
    throw Error(error.status(), location() + ": cannot create the store: " + error.what());
  }
  auto connection = pool_.acquire();  // opening it switches the file to WAL mode
}

int SqliteStorage::schema_version() {
  auto connection = pool_.acquire();
  {
    Query exists(
        *connection,
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'coffer_schema'");
    if (!exists.step() || exists.integer(0) == 0) return 0;
  }
  Query q(*connection, "SELECT max(version) FROM coffer_schema");
  return q.step() && !q.is_null(0) ? static_cast<int>(q.integer(0)) : 0;
}

void SqliteStorage::migrate(int target) {
  auto connection = pool_.acquire();
  Transaction transaction(*connection, true);
  connection->exec("CREATE TABLE IF NOT EXISTS coffer_schema (version INTEGER NOT NULL)");
  int current = 0;
  {
    Query q(*connection, "SELECT max(version) FROM coffer_schema");
    if (q.step() && !q.is_null(0)) current = static_cast<int>(q.integer(0));
  }
  if (current > target)
    throw Error(COFFER_STATUS_INVALID_CONFIG,
                location() + ": the store has schema version " + std::to_string(current) +
                    ", newer than this coffer knows (" + std::to_string(target) +
                    "); upgrade coffer on this host");
  if (current == target) return;
  for (const auto &migration : sqlite_migrations()) {
    if (migration.version <= current || migration.version > target) continue;
    for (auto statement : migration.statements) connection->exec(std::string(statement).c_str());
  }
  connection->exec("DELETE FROM coffer_schema");
  Query(*connection, "INSERT INTO coffer_schema (version) VALUES (?1)")
      .bind(1, int64_t{target})
      .run();
  transaction.commit();
  if (log_)
    log_(COFFER_LOG_INFO, location() + ": schema upgraded from version " + std::to_string(current) +
                              " to " + std::to_string(target));
}

std::optional<StoreRow> SqliteStorage::read_store() {
  auto connection = pool_.acquire();
  Query q(*connection,
          "SELECT store_id, active_data_key, rekey_in_progress, created_at FROM coffer_store "
          "WHERE id = 1");
  if (!q.step()) return std::nullopt;
  StoreRow row;
  row.store_id = q.blob(0);
  row.active_data_key = q.integer(1);
  row.rekey_in_progress = q.integer(2) != 0;
  row.created_at = q.integer(3);
  return row;
}

std::vector<MasterKeySlot> SqliteStorage::read_slots() {
  auto connection = pool_.acquire();
  Query q(*connection,
          "SELECT slot_id, kind, scrypt_salt, scrypt_n, scrypt_r, scrypt_p, created_at "
          "FROM coffer_master_keys ORDER BY created_at, slot_id");
  std::vector<MasterKeySlot> slots;
  while (q.step()) {
    MasterKeySlot slot;
    slot.slot_id = q.blob(0);
    slot.passphrase = q.text(1) == "passphrase";
    if (slot.passphrase) {
      slot.scrypt_salt = q.blob(2);
      slot.scrypt.n = static_cast<uint64_t>(q.integer(3));
      slot.scrypt.r = stored_scrypt_factor(q.integer(4));
      slot.scrypt.p = stored_scrypt_factor(q.integer(5));
    }
    slot.created_at = q.integer(6);
    slots.push_back(std::move(slot));
  }
  return slots;
}

std::vector<DataKeyRow> SqliteStorage::read_data_keys() {
  auto connection = pool_.acquire();
  Query q(*connection,
          "SELECT data_key_id, encryptions, created_at FROM coffer_data_keys ORDER BY data_key_id");
  std::vector<DataKeyRow> keys;
  while (q.step())
    keys.push_back({q.integer(0), static_cast<uint64_t>(q.integer(1)), q.integer(2)});
  return keys;
}

std::vector<WrappedKey> SqliteStorage::read_wrapped_keys(ByteView slot_id) {
  auto connection = pool_.acquire();
  Query q(*connection,
          "SELECT data_key_id, slot_id, nonce, wrapped FROM coffer_wrapped_keys WHERE slot_id = ?1 "
          "ORDER BY data_key_id");
  q.bind(1, slot_id);
  std::vector<WrappedKey> wraps;
  while (q.step()) wraps.push_back({q.integer(0), q.blob(1), q.blob(2), q.blob(3)});
  return wraps;
}

namespace {

void insert_slot(Connection &connection, const MasterKeySlot &slot) {
  Query q(connection,
          "INSERT INTO coffer_master_keys (slot_id, kind, scrypt_salt, scrypt_n, scrypt_r, "
          "scrypt_p, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  q.bind(1, ByteView(slot.slot_id))
      .bind(2, std::string_view(slot.passphrase ? "passphrase" : "key"));
  if (slot.passphrase) {
    q.bind(3, ByteView(slot.scrypt_salt))
        .bind(4, static_cast<int64_t>(slot.scrypt.n))
        .bind(5, static_cast<int64_t>(slot.scrypt.r))
        .bind(6, static_cast<int64_t>(slot.scrypt.p));
  } else {
    q.bind_null(3).bind_null(4).bind_null(5).bind_null(6);
  }
  q.bind(7, slot.created_at).run();
}

void insert_wrap(Connection &connection, const WrappedKey &wrap) {
  Query(connection,
        "INSERT INTO coffer_wrapped_keys (data_key_id, slot_id, nonce, wrapped) "
        "VALUES (?1, ?2, ?3, ?4)")
      .bind(1, wrap.data_key_id)
      .bind(2, ByteView(wrap.slot_id))
      .bind(3, ByteView(wrap.nonce))
      .bind(4, ByteView(wrap.wrapped))
      .run();
}

void insert_data_key(Connection &connection, const DataKeyRow &key) {
  Query(connection,
        "INSERT INTO coffer_data_keys (data_key_id, encryptions, created_at) VALUES (?1, ?2, ?3)")
      .bind(1, key.data_key_id)
      .bind(2, static_cast<int64_t>(key.encryptions))
      .bind(3, key.created_at)
      .run();
}

}  // namespace

bool SqliteStorage::initialise(const NewStore &store) {
  auto connection = pool_.acquire();
  Transaction transaction(*connection, true);
  {
    Query q(*connection, "SELECT count(*) FROM coffer_store");
    if (q.step() && q.integer(0) > 0) return false;
  }
  insert_data_key(*connection, store.data_key);
  insert_slot(*connection, store.slot);
  insert_wrap(*connection, store.wrapped_key);
  Query(*connection,
        "INSERT INTO coffer_store (id, store_id, format, active_data_key, rekey_in_progress, "
        "created_at) VALUES (1, ?1, ?2, ?3, 0, ?4)")
      .bind(1, ByteView(store.store.store_id))
      .bind(2, int64_t{envelope_format})
      .bind(3, store.store.active_data_key)
      .bind(4, store.store.created_at)
      .run();
  transaction.commit();
  return true;
}

LatestRecord SqliteStorage::read_latest(const std::string &key, RecordVisitor &visitor) {
  auto connection = pool_.acquire();
  LatestRecord latest;
  {
    Query newest(*connection,
                 "SELECT version, data_key_id, nonce, ciphertext, created_at, updated_at, latest "
                 "FROM coffer_records WHERE key = ?1 ORDER BY version DESC LIMIT 1");
    newest.bind(1, std::string_view(key));
    if (newest.step() && newest.integer(6) == 1) {
      latest.state = LatestRecord::State::found;
      latest.version = static_cast<uint64_t>(newest.integer(0));
      visitor.visit({key, latest.version, newest.integer(1), newest.blob_view(2),
                     newest.blob_view(3), newest.integer(4), newest.integer(5)});
      return latest;
    }
  }
  Query q(*connection,
          "SELECT k.latest_version, r.data_key_id, r.nonce, r.ciphertext, r.created_at, "
          "r.updated_at FROM coffer_keys k LEFT JOIN coffer_records r "
          "ON r.key = k.key AND r.version = k.latest_version WHERE k.key = ?1 AND k.removed = 0");
  q.bind(1, std::string_view(key));
  if (!q.step()) return latest;
  latest.version = static_cast<uint64_t>(q.integer(0));
  if (q.is_null(1)) {
    latest.state = LatestRecord::State::missing_record;
    return latest;
  }
  latest.state = LatestRecord::State::found;
  visitor.visit({key, latest.version, q.integer(1), q.blob_view(2), q.blob_view(3), q.integer(4),
                 q.integer(5)});
  return latest;
}

std::optional<RecordRow> SqliteStorage::read_version(const std::string &key, uint64_t version) {
  auto connection = pool_.acquire();
  Query q(*connection,
          "SELECT key, version, data_key_id, nonce, ciphertext, created_at, updated_at "
          "FROM coffer_records WHERE key = ?1 AND version = ?2");
  q.bind(1, std::string_view(key)).bind(2, static_cast<int64_t>(version));
  if (!q.step()) return std::nullopt;
  return record_from(q, 0);
}

PutOutcome SqliteStorage::put(const std::string &key, uint32_t history, int64_t now_ms,
                              int64_t /*active_data_key*/, const Sealer &seal) {
  // The write lock is held from BEGIN IMMEDIATE, so the version and data key
  // read here are the ones the commit will see.
  auto connection = pool_.acquire();
  Transaction transaction(*connection, true);
  PutOutcome outcome;
  {
    Query q(*connection, "SELECT active_data_key FROM coffer_store WHERE id = 1");
    if (!q.step())
      throw Error(COFFER_STATUS_UNAVAILABLE,
                  location() + ": the store is not initialised; run `coffer db init`");
    outcome.data_key_id = q.integer(0);
  }
  uint64_t head = 0;
  {
    Query q(*connection, "SELECT latest_version FROM coffer_keys WHERE key = ?1");
    q.bind(1, std::string_view(key));
    if (q.step()) head = static_cast<uint64_t>(q.integer(0));
  }
  outcome.version = head + 1;
  auto sealed = seal(outcome.version, outcome.data_key_id);
  if (!sealed) return outcome;  // rolls back; the caller loads the data key

  {
    Query q(*connection,
            "UPDATE coffer_data_keys SET encryptions = encryptions + 1 WHERE data_key_id = ?1");
    q.bind(1, outcome.data_key_id);
    try {
      q.run();
    } catch (const Error &) {
      if (q.last_error() == SQLITE_CONSTRAINT_CHECK)
        encryption_limit_reached(location(), outcome.data_key_id);
      throw;
    }
  }
  Query(*connection,
        "INSERT INTO coffer_keys (key, latest_version, removed, updated_at) VALUES (?1, ?2, 0, ?3) "
        "ON CONFLICT (key) DO UPDATE SET latest_version = excluded.latest_version, removed = 0, "
        "updated_at = excluded.updated_at")
      .bind(1, std::string_view(key))
      .bind(2, static_cast<int64_t>(outcome.version))
      .bind(3, now_ms)
      .run();
  Query(*connection,
        "UPDATE coffer_records SET latest = 0 WHERE key = ?1 AND latest = 1 AND version < ?2")
      .bind(1, std::string_view(key))
      .bind(2, static_cast<int64_t>(outcome.version))
      .run();
  Query(*connection,
        "INSERT INTO coffer_records (key, version, data_key_id, nonce, ciphertext, created_at, "
        "updated_at, latest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1)")
      .bind(1, std::string_view(key))
      .bind(2, static_cast<int64_t>(outcome.version))
      .bind(3, outcome.data_key_id)
      .bind(4, ByteView(sealed->nonce))
      .bind(5, ByteView(sealed->ciphertext))
      .bind(6, now_ms)
      .run();
  if (outcome.version > history) {
    Query(*connection, "DELETE FROM coffer_records WHERE key = ?1 AND version <= ?2")
        .bind(1, std::string_view(key))
        .bind(2, static_cast<int64_t>(outcome.version - history))
        .run();
  }
  transaction.commit();
  outcome.stored = true;
  return outcome;
}

bool SqliteStorage::remove(const std::string &key, int64_t now_ms) {
  auto connection = pool_.acquire();
  Transaction transaction(*connection, true);
  Query(*connection,
        "UPDATE coffer_keys SET removed = 1, updated_at = ?2 WHERE key = ?1 AND removed = 0")
      .bind(1, std::string_view(key))
      .bind(2, now_ms)
      .run();
  if (sqlite3_changes(connection->handle()) == 0) return false;
  Query(*connection, "DELETE FROM coffer_records WHERE key = ?1")
      .bind(1, std::string_view(key))
      .run();
  transaction.commit();
  return true;
}

std::vector<KeySummary> SqliteStorage::list_keys() {
  auto connection = pool_.acquire();
  Query q(*connection,
          "SELECT key, latest_version FROM coffer_keys WHERE removed = 0 ORDER BY key");
  std::vector<KeySummary> keys;
  while (q.step()) keys.push_back({q.text(0), static_cast<uint64_t>(q.integer(1))});
  return keys;
}

std::vector<VersionRow> SqliteStorage::read_versions(const std::string &key) {
  auto connection = pool_.acquire();
  Query q(*connection,
          "SELECT r.version, r.created_at FROM coffer_records r JOIN coffer_keys k "
          "ON k.key = r.key WHERE r.key = ?1 AND k.removed = 0 ORDER BY r.version DESC");
  q.bind(1, std::string_view(key));
  std::vector<VersionRow> versions;
  while (q.step()) versions.push_back({static_cast<uint64_t>(q.integer(0)), q.integer(1)});
  return versions;
}

std::vector<RecordRow> SqliteStorage::scan_records(const std::string &after_key,
                                                   uint64_t after_version, std::size_t limit) {
  auto connection = pool_.acquire();
  Query q(*connection,
          "SELECT key, version, data_key_id, nonce, ciphertext, created_at, updated_at "
          "FROM coffer_records WHERE (key, version) > (?1, ?2) ORDER BY key, version LIMIT ?3");
  q.bind(1, std::string_view(after_key))
      .bind(2, static_cast<int64_t>(after_version))
      .bind(3, static_cast<int64_t>(limit));
  std::vector<RecordRow> rows;
  while (q.step()) rows.push_back(record_from(q, 0));
  return rows;
}

std::vector<KeySummary> SqliteStorage::keys_missing_latest() {
  auto connection = pool_.acquire();
  Query q(*connection,
          "SELECT k.key, k.latest_version FROM coffer_keys k WHERE k.removed = 0 AND NOT EXISTS "
          "(SELECT 1 FROM coffer_records r WHERE r.key = k.key AND r.version = k.latest_version) "
          "ORDER BY k.key");
  std::vector<KeySummary> keys;
  while (q.step()) keys.push_back({q.text(0), static_cast<uint64_t>(q.integer(1))});
  return keys;
}

bool SqliteStorage::add_master_key(const MasterKeySlot &slot, const std::vector<WrappedKey> &wraps,
                                   bool drop_others) {
  auto connection = pool_.acquire();
  Transaction transaction(*connection, true);
  std::vector<int64_t> stored, wrapped;
  {
    Query q(*connection, "SELECT data_key_id FROM coffer_data_keys ORDER BY data_key_id");
    while (q.step()) stored.push_back(q.integer(0));
  }
  for (const auto &wrap : wraps) wrapped.push_back(wrap.data_key_id);
  std::sort(wrapped.begin(), wrapped.end());
  if (stored != wrapped) return false;
  insert_slot(*connection, slot);
  for (const auto &wrap : wraps) insert_wrap(*connection, wrap);
  if (drop_others)
    Query(*connection, "DELETE FROM coffer_master_keys WHERE slot_id <> ?1")
        .bind(1, ByteView(slot.slot_id))
        .run();
  transaction.commit();
  return true;
}

std::size_t SqliteStorage::drop_master_keys_except(ByteView keep) {
  auto connection = pool_.acquire();
  Transaction transaction(*connection, true);
  Query(*connection, "DELETE FROM coffer_master_keys WHERE slot_id <> ?1").bind(1, keep).run();
  auto dropped = static_cast<std::size_t>(sqlite3_changes(connection->handle()));
  transaction.commit();
  return dropped;
}

RekeyStart SqliteStorage::begin_rekey(int64_t now_ms, const DataKeyWrapper &wrap) {
  auto connection = pool_.acquire();
  Transaction transaction(*connection, true);
  RekeyStart start;
  {
    Query q(*connection,
            "SELECT active_data_key, rekey_in_progress FROM coffer_store WHERE id = 1");
    if (!q.step())
      throw Error(COFFER_STATUS_UNAVAILABLE,
                  location() + ": the store is not initialised; run `coffer db init`");
    if (q.integer(1) != 0) {
      start.data_key_id = q.integer(0);
      start.resumed = true;
    }
  }
  if (start.resumed) return start;
  {
    Query q(*connection, "SELECT count(*) FROM coffer_master_keys");
    int64_t slots = q.step() ? q.integer(0) : 0;
    if (slots != 1)
      throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                  location() + ": the store has " + std::to_string(slots) +
                      " master keys (a staged master key rotation is in progress); finish it with "
                      "rotate-master-key {\"drop_old\": true} before rekey");
  }
  {
    Query q(*connection, "SELECT coalesce(max(data_key_id), 0) FROM coffer_data_keys");
    q.step();
    start.data_key_id = q.integer(0) + 1;
  }
  WrappedKey wrapped = wrap(start.data_key_id);
  insert_data_key(*connection, {start.data_key_id, 0, now_ms});
  insert_wrap(*connection, wrapped);
  Query(*connection,
        "UPDATE coffer_store SET active_data_key = ?1, rekey_in_progress = 1 WHERE id = 1")
      .bind(1, start.data_key_id)
      .run();
  transaction.commit();
  return start;
}

std::vector<RecordRow> SqliteStorage::records_not_under(int64_t data_key_id, std::size_t limit) {
  auto connection = pool_.acquire();
  Query q(*connection,
          "SELECT key, version, data_key_id, nonce, ciphertext, created_at, updated_at "
          "FROM coffer_records WHERE data_key_id <> ?1 ORDER BY key, version LIMIT ?2");
  q.bind(1, data_key_id).bind(2, static_cast<int64_t>(limit));
  std::vector<RecordRow> rows;
  while (q.step()) rows.push_back(record_from(q, 0));
  return rows;
}

std::size_t SqliteStorage::count_records_not_under(int64_t data_key_id) {
  auto connection = pool_.acquire();
  Query q(*connection, "SELECT count(*) FROM coffer_records WHERE data_key_id <> ?1");
  q.bind(1, data_key_id);
  return q.step() ? static_cast<std::size_t>(q.integer(0)) : 0;
}

std::size_t SqliteStorage::replace_records(const std::vector<ReencryptedRecord> &records,
                                           int64_t data_key_id, int64_t now_ms) {
  auto connection = pool_.acquire();
  Transaction transaction(*connection, true);
  {
    Query q(*connection,
            "UPDATE coffer_data_keys SET encryptions = encryptions + ?2 WHERE data_key_id = ?1");
    q.bind(1, data_key_id).bind(2, static_cast<int64_t>(records.size()));
    try {
      q.run();
    } catch (const Error &) {
      if (q.last_error() == SQLITE_CONSTRAINT_CHECK)
        encryption_limit_reached(location(), data_key_id);
      throw;
    }
  }
  std::size_t changed = 0;
  for (const auto &record : records) {
    Query(
        *connection,
        "UPDATE coffer_records SET data_key_id = ?1, nonce = ?2, ciphertext = ?3, updated_at = ?4 "
        "WHERE key = ?5 AND version = ?6 AND nonce = ?7")
        .bind(1, data_key_id)
        .bind(2, ByteView(record.nonce))
        .bind(3, ByteView(record.ciphertext))
        .bind(4, now_ms)
        .bind(5, std::string_view(record.key))
        .bind(6, static_cast<int64_t>(record.version))
        .bind(7, ByteView(record.old_nonce))
        .run();
    changed += static_cast<std::size_t>(sqlite3_changes(connection->handle()));
  }
  transaction.commit();
  return changed;
}

RekeyFinish SqliteStorage::finish_rekey(int64_t active) {
  auto connection = pool_.acquire();
  Transaction transaction(*connection, true);
  RekeyFinish finish;
  {
    Query q(*connection,
            "DELETE FROM coffer_data_keys WHERE data_key_id <> ?1 AND NOT EXISTS "
            "(SELECT 1 FROM coffer_records r WHERE r.data_key_id = coffer_data_keys.data_key_id) "
            "RETURNING data_key_id");
    q.bind(1, active);
    while (q.step()) finish.retired.push_back(q.integer(0));
  }
  {
    Query q(*connection, "SELECT count(*) FROM coffer_data_keys WHERE data_key_id <> ?1");
    q.bind(1, active);
    finish.finished = q.step() && q.integer(0) == 0;
  }
  if (finish.finished)
    Query(*connection, "UPDATE coffer_store SET rekey_in_progress = 0 WHERE id = 1").run();
  transaction.commit();
  std::sort(finish.retired.begin(), finish.retired.end());
  return finish;
}

void SqliteStorage::compact() {
  auto connection = pool_.acquire();
  connection->exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

std::string SqliteStorage::integrity_check() {
  auto connection = pool_.acquire();
  // The full check: quick_check would not see an index that disagrees with
  // its table. At most 100 findings.
  Query q(*connection, "PRAGMA integrity_check(100)");
  std::string findings;
  while (q.step()) {
    if (!findings.empty()) findings += "; ";
    findings += q.text(0);
  }
  return findings;
}

}  // namespace coffer::database
