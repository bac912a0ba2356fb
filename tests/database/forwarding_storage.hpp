// A Storage that forwards to another one, for fault injection in tests:
// subclasses override a method to fail or to change what it does.
#ifndef COFFER_TESTS_DATABASE_FORWARDING_STORAGE_HPP
#define COFFER_TESTS_DATABASE_FORWARDING_STORAGE_HPP

#include <memory>

#include "storage/storage.hpp"

namespace coffer::database::test {

class ForwardingStorage : public Storage {
 public:
  explicit ForwardingStorage(std::unique_ptr<Storage> inner) : inner_(std::move(inner)) {}

  [[nodiscard]] std::string location() const override { return inner_->location(); }
  bool exists() override { return inner_->exists(); }
  void create() override { inner_->create(); }
  int schema_version() override { return inner_->schema_version(); }
  void migrate(int target) override { inner_->migrate(target); }
  std::optional<StoreRow> read_store() override { return inner_->read_store(); }
  std::vector<MasterKeySlot> read_slots() override { return inner_->read_slots(); }
  std::vector<DataKeyRow> read_data_keys() override { return inner_->read_data_keys(); }
  std::vector<WrappedKey> read_wrapped_keys(ByteView slot_id) override {
    return inner_->read_wrapped_keys(slot_id);
  }
  bool initialise(const NewStore &store) override { return inner_->initialise(store); }
  LatestRecord read_latest(const std::string &key, RecordVisitor &visitor) override {
    return inner_->read_latest(key, visitor);
  }
  std::optional<RecordRow> read_version(const std::string &key, uint64_t version) override {
    return inner_->read_version(key, version);
  }
  PutOutcome put(const std::string &key, uint32_t history, int64_t now_ms, int64_t active,
                 const Sealer &seal) override {
    return inner_->put(key, history, now_ms, active, seal);
  }
  bool remove(const std::string &key, int64_t now_ms) override {
    return inner_->remove(key, now_ms);
  }
  std::vector<KeySummary> list_keys() override { return inner_->list_keys(); }
  std::vector<VersionRow> read_versions(const std::string &key) override {
    return inner_->read_versions(key);
  }
  std::vector<RecordRow> scan_records(const std::string &after_key, uint64_t after_version,
                                      std::size_t limit) override {
    return inner_->scan_records(after_key, after_version, limit);
  }
  std::vector<KeySummary> keys_missing_latest() override { return inner_->keys_missing_latest(); }
  bool add_master_key(const MasterKeySlot &slot, const std::vector<WrappedKey> &wraps,
                      bool drop_others) override {
    return inner_->add_master_key(slot, wraps, drop_others);
  }
  std::size_t drop_master_keys_except(ByteView keep) override {
    return inner_->drop_master_keys_except(keep);
  }
  RekeyStart begin_rekey(int64_t now_ms, const DataKeyWrapper &wrap) override {
    return inner_->begin_rekey(now_ms, wrap);
  }
  std::vector<RecordRow> records_not_under(int64_t data_key_id, std::size_t limit) override {
    return inner_->records_not_under(data_key_id, limit);
  }
  std::size_t count_records_not_under(int64_t data_key_id) override {
    return inner_->count_records_not_under(data_key_id);
  }
  std::size_t replace_records(const std::vector<ReencryptedRecord> &records, int64_t data_key_id,
                              int64_t now_ms) override {
    return inner_->replace_records(records, data_key_id, now_ms);
  }
  RekeyFinish finish_rekey(int64_t active) override { return inner_->finish_rekey(active); }
  void compact() override { inner_->compact(); }
  std::string integrity_check() override { return inner_->integrity_check(); }

 protected:
  std::unique_ptr<Storage> inner_;
};

}  // namespace coffer::database::test

#endif  // COFFER_TESTS_DATABASE_FORWARDING_STORAGE_HPP
