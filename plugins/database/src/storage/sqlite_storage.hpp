// Storage in an SQLite file (the embedded default).
//
// The file is created with mode 0600 (its -wal and -shm files inherit the
// mode) and used in WAL mode with synchronous=FULL, so that a commit survives
// a crash of the process and of the machine; writers take the lock up front
// (BEGIN IMMEDIATE) and wait up to busy_timeout_ms for another process's
// writer. A pool of connections serves concurrent callers. The file must be
// on a local file system (WAL needs shared memory).
#ifndef COFFER_DATABASE_STORAGE_SQLITE_STORAGE_HPP
#define COFFER_DATABASE_STORAGE_SQLITE_STORAGE_HPP

#include <atomic>
#include <filesystem>
#include <memory>

#include "storage/connection_pool.hpp"
#include "storage/storage.hpp"

namespace coffer::database {

class SqliteStorage final : public Storage {
 public:
  SqliteStorage(std::filesystem::path path, std::size_t pool_size, uint32_t busy_timeout_ms,
                Log log);
  ~SqliteStorage() override;

  [[nodiscard]] std::string location() const override;
  bool exists() override;
  void create() override;
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
  void compact() override;
  std::string integrity_check() override;

  class Connection;

 private:
  std::filesystem::path path_;
  uint32_t busy_timeout_ms_;
  Log log_;
  std::atomic<bool> warned_about_mode_{false};
  ConnectionPool<Connection> pool_;
};

}  // namespace coffer::database

#endif  // COFFER_DATABASE_STORAGE_SQLITE_STORAGE_HPP
