// Storage in a PostgreSQL database shared by several hosts.
//
// The schema is created (and migrated) on first use, serialised between hosts
// by an advisory lock. A pool of connections serves concurrent callers; after
// a dropped connection (restart, failover) it reconnects, and idempotent work
// (reads, and the administrative transactions, which are written to be safe
// to repeat) is retried with capped exponential backoff for up to
// retry_timeout_ms (or the thread's RetryBudget, when shorter) before failing
// with UNAVAILABLE. A put is made idempotent by its version and nonce: after
// a connection broke with the outcome unknown, it looks for its own record
// before trying again, so a retry can neither lose a write nor write it twice.
//
// A put is one statement (one round trip) when this process knows the key's
// latest version: the statement only writes if the version it was sealed for
// is still the next one, and otherwise reports the current one.
#ifndef COFFER_DATABASE_STORAGE_POSTGRES_STORAGE_HPP
#define COFFER_DATABASE_STORAGE_POSTGRES_STORAGE_HPP

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include "storage/connection_pool.hpp"
#include "storage/postgres_connection.hpp"
#include "storage/postgres_settings.hpp"
#include "storage/storage.hpp"

namespace coffer::database {

class PostgresStorage final : public Storage {
 public:
  // `count` receives "retries" (an operation tried again after a retryable
  // failure) and "reconnects" (a connection made to replace one that broke).
  PostgresStorage(PostgresSettings settings, std::size_t pool_size, uint32_t retry_timeout_ms,
                  Log log, Count count = {});
  ~PostgresStorage() override;

  [[nodiscard]] std::string location() const override;
  void cancel() override;
  bool exists() override { return true; }
  void create() override {}
  int schema_version() override;
  void migrate(int target) override;

  std::optional<StoreRow> read_store() override;
  std::vector<MasterKeySlot> read_slots() override;
  std::vector<DataKeyRow> read_data_keys() override;
  std::vector<WrappedKey> read_wrapped_keys(ByteView slot_id) override;
  bool initialise(const NewStore &store) override;

  LatestRecord read_latest(const std::string &key, RecordVisitor &visitor) override;
  std::optional<RecordRow> read_version(const std::string &key, uint64_t version) override;
  PutOutcome put(const std::string &key, uint32_t history, int64_t now_ms, int64_t active_data_key,
                 const Sealer &seal) override;
  bool remove(const std::string &key, int64_t now_ms) override;
  std::vector<KeySummary> list_keys() override;
  std::vector<VersionRow> read_versions(const std::string &key) override;
  std::vector<RecordRow> scan_records(const std::string &after_key, uint64_t after_version,
                                      std::size_t limit) override;
  std::vector<KeySummary> keys_missing_latest() override;

  bool add_master_key(const MasterKeySlot &slot, const std::vector<WrappedKey> &wraps,
                      bool drop_others) override;
  std::size_t drop_master_keys_except(ByteView keep) override;
  RekeyStart begin_rekey(int64_t now_ms, const DataKeyWrapper &wrap) override;
  std::vector<RecordRow> records_not_under(int64_t data_key_id, std::size_t limit) override;
  std::size_t count_records_not_under(int64_t data_key_id) override;
  std::size_t replace_records(const std::vector<ReencryptedRecord> &records, int64_t data_key_id,
                              int64_t now_ms) override;
  RekeyFinish finish_rekey(int64_t active) override;
  void compact() override {}
  std::string integrity_check() override { return "ok"; }

 private:
  // Runs `body` on a pooled connection, retrying retryable failures until the
  // deadline; converts the final failure to coffer::provider::Error.
  template <class Body>
  auto with_retries(Body &&body);
  // Runs `body` once; a broken connection is discarded. PgFailure escapes.
  template <class Body>
  auto once(Body &&body);
  [[nodiscard]] RetryBudget::Clock::time_point deadline() const;
  [[noreturn]] void raise(const PgFailure &failure) const;
  // Sleeps between retries; cancel() ends it early.
  void pause_for(std::chrono::milliseconds pause);
  void remember_head(const std::string &key, uint64_t version);
  std::optional<uint64_t> known_head(const std::string &key);
  void forget_head(const std::string &key);

  PostgresSettings settings_;
  uint32_t retry_timeout_ms_;
  Log log_;
  Count count_;
  // Connections lost (broken or dropped with them) not yet replaced: the next
  // that many new connections are reconnects.
  std::atomic<std::size_t> lost_{0};
  // Set by cancel(): retries stop, waits between them end.
  std::atomic<bool> cancelled_{false};
  std::mutex cancel_mutex_;
  std::condition_variable cancel_wake_;
  ConnectionPool<PgConnection> pool_;
  std::mutex heads_mutex_;
  std::unordered_map<std::string, uint64_t> heads_;
};

}  // namespace coffer::database

#endif  // COFFER_DATABASE_STORAGE_POSTGRES_STORAGE_HPP
