// Tampering with the stored bytes: every single-bit flip of a record, swapped
// and moved ciphertexts, deleted and altered rows are detected and reported by
// key (and version), never with a value; the store's files never hold a
// plaintext or the master key.
#include <boost/test/unit_test.hpp>

#include <fstream>

#include "provider_fixture.hpp"

using namespace coffer::database;
using namespace coffer::database::test;

namespace {

bool verify_reports(Instance &db, const std::string &key, std::string *result = nullptr) {
  Outcome verify = db.admin("verify");
  if (result != nullptr) *result = verify.result + " " + verify.message;
  if (verify.status != COFFER_STATUS_DATA_ERROR || verify.result.empty()) return false;
  auto json = parse_object(verify.result);
  if (json.at("ok").as_bool()) return false;
  for (const auto &entry : json.at("bad").as_array())
    if (entry.as_object().at("key").is_string() && entry.as_object().at("key").as_string() == key)
      return true;
  return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_single_bit_flip_of_a_stored_record_is_detected) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  const std::string key = "VCS.BitbucketAdminPassword", value = "s3cr3t-value";
  require_put(*db, key, value);
  const TestStore::Record original = store.record(key, 1);
  BOOST_REQUIRE(db->admin("verify").ok());

  std::size_t flips = 0;
  auto check = [&](const TestStore::Record &altered, uint64_t version, const std::string &what) {
    ++flips;
    store.write_record(key, 1, altered, version);
    Outcome latest = db->get(key);
    BOOST_TEST(latest.status == COFFER_STATUS_DATA_ERROR, what << ": " << latest.message);
    BOOST_TEST(!contains(latest.message, value));
    BOOST_TEST(contains(latest.message, key), what << ": " << latest.message);
    if (version != 1 && version < (uint64_t{1} << 63) && version != 0) {
      Outcome named = db->get(key, std::to_string(version).c_str());
      BOOST_TEST(named.status == COFFER_STATUS_DATA_ERROR, what << ": " << named.message);
    }
    std::string report;
    BOOST_TEST(verify_reports(*db, key, &report), what << ": " << report);
    BOOST_TEST(!contains(report, value));
    store.write_record(key, version, original, 1);
  };
  for (std::size_t bit = 0; bit < original.ciphertext.size() * 8; ++bit) {
    auto altered = original;
    altered.ciphertext[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
    check(
        altered, 1,
        std::string(bit < value.size() * 8 ? "ciphertext" : "tag") + " bit " + std::to_string(bit));
  }
  for (std::size_t bit = 0; bit < original.nonce.size() * 8; ++bit) {
    auto altered = original;
    altered.nonce[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
    check(altered, 1, "nonce bit " + std::to_string(bit));
  }
  for (int bit = 0; bit < 64; ++bit) {
    auto altered = original;
    altered.data_key_id =
        static_cast<int64_t>(static_cast<uint64_t>(original.data_key_id) ^ (uint64_t{1} << bit));
    check(altered, 1, "key id bit " + std::to_string(bit));
  }
  for (int bit = 0; bit < 64; ++bit)
    check(original, uint64_t{1} ^ (uint64_t{1} << bit), "version bit " + std::to_string(bit));
  BOOST_TEST(flips == (original.ciphertext.size() + original.nonce.size()) * 8 + 128);
  // Restored: readable again.
  BOOST_TEST(require_get(*db, key) == value);
  BOOST_TEST(db->admin("verify").ok());
}

BOOST_AUTO_TEST_CASE(swapped_ciphertexts_are_detected) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "VCS.GithubOrgOwnerPAT", "owner-token");
  require_put(*db, "VCS.GitlabGroupOwnerPAT", "group-token");
  auto a = store.record("VCS.GithubOrgOwnerPAT", 1);
  auto b = store.record("VCS.GitlabGroupOwnerPAT", 1);
  store.write_record("VCS.GithubOrgOwnerPAT", 1, b, 1);
  store.write_record("VCS.GitlabGroupOwnerPAT", 1, a, 1);
  for (const char *key : {"VCS.GithubOrgOwnerPAT", "VCS.GitlabGroupOwnerPAT"}) {
    Outcome got = db->get(key);
    BOOST_TEST(got.status == COFFER_STATUS_DATA_ERROR);
    BOOST_TEST(contains(got.message, std::string(key) + " version 1"), got.message);
    BOOST_TEST(!contains(got.message, "token"));
    BOOST_TEST(verify_reports(*db, key));
  }
  store.write_record("VCS.GithubOrgOwnerPAT", 1, a, 1);
  store.write_record("VCS.GitlabGroupOwnerPAT", 1, b, 1);
  BOOST_TEST(db->admin("verify").ok());

  // Between two versions of one key (a rollback to an older value).
  require_put(*db, "VCS.GithubOrgOwnerPAT", "owner-token-2");
  auto v1 = store.record("VCS.GithubOrgOwnerPAT", 1);
  auto v2 = store.record("VCS.GithubOrgOwnerPAT", 2);
  store.write_record("VCS.GithubOrgOwnerPAT", 2, v1, 2);
  BOOST_TEST(db->get("VCS.GithubOrgOwnerPAT").status == COFFER_STATUS_DATA_ERROR);
  store.write_record("VCS.GithubOrgOwnerPAT", 1, v2, 1);
  BOOST_TEST(db->get("VCS.GithubOrgOwnerPAT", "1").status == COFFER_STATUS_DATA_ERROR);
}

BOOST_AUTO_TEST_CASE(a_record_moved_to_another_key_is_detected) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "CIAdmin.AzureOrgAdminPAT", "admin-pat");
  require_put(*db, "CIAdmin.AzureAwsS3SK", "low-value");
  store.exec("DELETE FROM coffer_records WHERE key = 'CIAdmin.AzureAwsS3SK'");
  store.exec(
      "UPDATE coffer_records SET key = 'CIAdmin.AzureAwsS3SK' WHERE key = "
      "'CIAdmin.AzureOrgAdminPAT'");
  Outcome got = db->get("CIAdmin.AzureAwsS3SK");
  BOOST_TEST(got.status == COFFER_STATUS_DATA_ERROR, got.message);
  BOOST_TEST(!contains(got.message, "admin-pat"));
  // The key it was taken from lost its latest record: reported, not "not found".
  Outcome source = db->get("CIAdmin.AzureOrgAdminPAT");
  BOOST_TEST(source.status == COFFER_STATUS_DATA_ERROR, source.message);
  BOOST_TEST(contains(source.message, "has no record"), source.message);
  BOOST_TEST(verify_reports(*db, "CIAdmin.AzureOrgAdminPAT"));
  BOOST_TEST(verify_reports(*db, "CIAdmin.AzureAwsS3SK"));
}

// A get reads the key's newest record when it is flagged latest, and the key's
// head otherwise: a newest record without its flag is still found, and the
// deletion of the latest record is still reported, never answered with the
// version before it (whose flag the put that followed it cleared).
BOOST_AUTO_TEST_CASE(a_deleted_latest_record_is_reported_not_replaced_by_the_one_before) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "VCS.GithubAdminPAT", "ghp_one");
  require_put(*db, "VCS.GithubAdminPAT", "ghp_two");
  store.exec("DELETE FROM coffer_records WHERE key = 'VCS.GithubAdminPAT' AND version = 2");
  Outcome missing = db->get("VCS.GithubAdminPAT");
  BOOST_TEST(missing.status == COFFER_STATUS_DATA_ERROR, missing.message);
  BOOST_TEST(contains(missing.message, "VCS.GithubAdminPAT version 2 (its latest) has no record"),
             missing.message);
  BOOST_TEST(!contains(missing.message, "ghp_"), missing.message);

  require_put(*db, "VCS.GithubAdminPAT", "ghp_three");
  store.exec("UPDATE coffer_records SET latest = " +
             std::string(store.which() == Backend::sqlite ? "0" : "false"));
  BOOST_TEST(require_get(*db, "VCS.GithubAdminPAT") == "ghp_three");
}

BOOST_AUTO_TEST_CASE(verify_lists_bad_records_by_key_and_version_never_by_value) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  const std::vector<std::pair<std::string, std::string>> values = {
      {"BuildPackage.FileBasicAuthPassword", "canary-one-4f1e"},
      {"BuildPackage.AwsSecretAccessKey", "canary-two-9b2c"},
      {"MDAStorage.AwsSecretAccessKey", "canary-three-77aa"}};
  for (const auto &[key, value] : values) require_put(*db, key, value);
  require_put(*db, "BuildPackage.AwsSecretAccessKey", "canary-four-1234");

  Outcome clean = db->admin("verify");
  BOOST_REQUIRE_MESSAGE(clean.ok(), clean.message);
  auto good = parse_object(clean.result);
  BOOST_TEST(good.at("ok").as_bool());
  BOOST_TEST(good.at("records").as_int64() == 4);
  BOOST_TEST(good.at("keys").as_int64() == 3);
  BOOST_TEST(good.at("bad").as_array().empty());
  BOOST_TEST(good.at("integrity_check").as_string() == "ok");

  auto record = store.record("BuildPackage.AwsSecretAccessKey", 1);
  record.ciphertext[0] ^= 0x80;
  store.write_record("BuildPackage.AwsSecretAccessKey", 1, record, 1);
  Outcome bad = db->admin("verify");
  BOOST_TEST(bad.status == COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(contains(bad.message, "1 of 4 records failed verification"), bad.message);
  auto report = parse_object(bad.result);
  BOOST_TEST(!report.at("ok").as_bool());
  BOOST_REQUIRE(report.at("bad").as_array().size() == 1u);
  auto entry = report.at("bad").as_array()[0].as_object();
  BOOST_TEST(entry.at("key").as_string() == "BuildPackage.AwsSecretAccessKey");
  BOOST_TEST(entry.at("version").as_int64() == 1);
  BOOST_TEST(contains(std::string(entry.at("error").as_string()), "fails authentication"));
  for (const auto &[key, value] : values) {
    BOOST_TEST(!contains(bad.result, value));
    BOOST_TEST(!contains(bad.message, value));
  }
  // The latest version is still intact and readable.
  BOOST_TEST(require_get(*db, "BuildPackage.AwsSecretAccessKey") == "canary-four-1234");
}

BOOST_AUTO_TEST_CASE(a_tampered_wrapped_data_key_is_detected) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "Email.SMTPPassword", "smtp");
  auto wrapped =
      *from_hex(store.query("SELECT " + store.hex_of("wrapped") + " FROM coffer_wrapped_keys")[0]);
  wrapped[5] ^= 1;
  store.exec("UPDATE coffer_wrapped_keys SET wrapped = " + store.blob_literal(wrapped));
  auto fresh = open_instance(store.file_config());
  Outcome got = fresh->get("Email.SMTPPassword");
  BOOST_TEST(got.status == COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(got.value.empty());
}

BOOST_AUTO_TEST_CASE(a_damaged_store_is_told_apart_from_a_wrong_master_key) {
  TestStore store;
  require_put(*open_initialised(store.file_config()), "Email.SMTPPassword", "smtp");
  const std::string wrapped_hex =
      store.query("SELECT " + store.hex_of("wrapped") + " FROM coffer_wrapped_keys")[0];
  const std::string nonce_hex =
      store.query("SELECT " + store.hex_of("nonce") + " FROM coffer_wrapped_keys")[0];
  const std::string store_id_hex =
      store.query("SELECT " + store.hex_of("store_id") + " FROM coffer_store")[0];
  auto cut = [&](const std::string &hex, std::size_t bytes) {
    Bytes all = *from_hex(hex);
    all.resize(bytes);
    return store.blob_literal(all);
  };
  auto whole = [&](const std::string &hex) { return store.blob_literal(*from_hex(hex)); };
  auto expect = [&](const std::string &what, const std::string &expected) {
    auto db = open_instance(store.file_config());
    Outcome got = db->get("Email.SMTPPassword");
    BOOST_TEST(got.status == COFFER_STATUS_DATA_ERROR, what);
    BOOST_TEST(contains(got.message, expected), what << ": " << got.message);
    const bool damaged = expected != "the master key does not match this store";
    BOOST_TEST(contains(got.message, "the store is damaged") == damaged,
               what << ": " << got.message);
    BOOST_TEST(contains(got.message, "does not match") != damaged, what << ": " << got.message);
    // verify still runs the database's own check and reports why it stopped.
    Outcome verify = db->admin("verify");
    BOOST_TEST(verify.status == COFFER_STATUS_DATA_ERROR, what);
    BOOST_REQUIRE_MESSAGE(!verify.result.empty(), what << ": " << verify.message);
    auto report = parse_object(verify.result);
    BOOST_TEST(!report.at("ok").as_bool());
    BOOST_TEST(!report.at("unlocked").as_bool());
    BOOST_TEST(report.at("integrity_check").as_string() == "ok");
    BOOST_TEST(
        contains(std::string(report.at("bad").as_array().at(0).at("error").as_string()), expected));
    BOOST_TEST(contains(verify.message, "integrity check reports: ok"), verify.message);
  };

  store.exec("UPDATE coffer_wrapped_keys SET wrapped = " + cut(wrapped_hex, 20));
  expect("truncated wrap", "has 20 bytes, not 48");
  store.exec("UPDATE coffer_wrapped_keys SET wrapped = " + whole(wrapped_hex) +
             ", nonce = " + cut(nonce_hex, 4));
  expect("truncated nonce", "has a nonce of 4 bytes, not 12");
  store.exec("UPDATE coffer_wrapped_keys SET nonce = " + whole(nonce_hex));
  store.exec("UPDATE coffer_store SET store_id = " + cut(store_id_hex, 8));
  expect("truncated store id", "its store id has 8 bytes, not 16");
  store.exec("UPDATE coffer_store SET store_id = " + whole(store_id_hex));
  store.exec("UPDATE coffer_store SET active_data_key = active_data_key + 1");
  expect("a missing wrap", "holds no wrap of the active data key 2");
  store.exec("UPDATE coffer_store SET active_data_key = active_data_key - 1");
  BOOST_TEST(require_get(*open_instance(store.file_config()), "Email.SMTPPassword") == "smtp");

  // A whole store and another key: that is a wrong key, and nothing else.
  {
    std::ofstream(store.key_file("other.key")) << std::string(64, '1') << "\n";
    fs::permissions(store.key_file("other.key"), fs::perms::owner_read | fs::perms::owner_write);
  }
  auto wrong = open_instance(store.file_config({}, "other.key"));
  Outcome got = wrong->get("Email.SMTPPassword");
  BOOST_TEST(got.status == COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(contains(got.message, "the master key does not match this store"), got.message);
  BOOST_TEST(!contains(got.message, "damaged"), got.message);
}

namespace {
boost::test_tools::assertion_result on_sqlite(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result result(backend() == Backend::sqlite);
  result.message() << "SQLite's own integrity check; PostgreSQL has none to report";
  return result;
}
}  // namespace

BOOST_AUTO_TEST_CASE(verify_reports_what_sqlites_integrity_check_finds,
                     *boost::unit_test::precondition(on_sqlite)) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "Email.SMTPPassword", "smtp");
  db.reset();
  // The index now claims another column than the one its entries hold: only
  // the full integrity check compares an index with its table.
  store.exec("PRAGMA writable_schema = ON");
  store.exec(
      "UPDATE sqlite_master SET sql = 'CREATE INDEX coffer_records_by_data_key ON coffer_records "
      "(created_at)' WHERE name = 'coffer_records_by_data_key'");
  store.close_raw();
  auto fresh = open_instance(store.file_config());
  Outcome verify = fresh->admin("verify");
  BOOST_TEST(verify.status == COFFER_STATUS_DATA_ERROR);
  BOOST_REQUIRE_MESSAGE(!verify.result.empty(), verify.message);
  auto report = parse_object(verify.result);
  BOOST_TEST(!report.at("ok").as_bool());
  BOOST_TEST(report.at("bad").as_array().empty());
  const std::string findings(report.at("integrity_check").as_string());
  BOOST_TEST(contains(findings, "coffer_records_by_data_key"), findings);
  BOOST_TEST(contains(verify.message, "integrity check reports: "), verify.message);
}

BOOST_AUTO_TEST_CASE(a_truncated_record_is_reported_as_such) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "Email.SMTPPassword", "smtp");
  auto record = store.record("Email.SMTPPassword", 1);
  auto shortened = record;
  shortened.ciphertext.resize(10);
  store.write_record("Email.SMTPPassword", 1, shortened, 1);
  Outcome got = db->get("Email.SMTPPassword");
  BOOST_TEST(got.status == COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(contains(got.message, "version 1 is truncated: its ciphertext has 10 bytes"),
             got.message);
  shortened = record;
  shortened.nonce.resize(11);
  store.write_record("Email.SMTPPassword", 1, shortened, 1);
  got = db->get("Email.SMTPPassword");
  BOOST_TEST(contains(got.message, "version 1 is damaged: its nonce has 11 bytes, not 12"),
             got.message);
  BOOST_TEST(verify_reports(*db, "Email.SMTPPassword"));
}

BOOST_AUTO_TEST_CASE(store_files_never_hold_a_plaintext_or_the_master_key) {
  TestStore store;
  auto db = open_initialised(store.file_config(", \"history\": 2"));
  std::vector<std::string> canaries;
  for (int i = 0; i < 6; ++i) {
    std::string value = "plaintext-canary-" + std::to_string(i) + "-e3b0c44298fc1c14";
    canaries.push_back(value);
    require_put(*db, i % 2 == 0 ? "VCS.GithubAdminPAT" : "Email.SMTPPassword", value);
  }
  // Rewrites that re-encrypt: a rekey and a master key rotation.
  BOOST_REQUIRE(db->admin("rekey").ok());
  BOOST_REQUIRE(db->admin("rotate-master-key", "{\"new_master_key\": {\"file\": " +
                                                   quote(store.key_file("next.key").string()) +
                                                   "}}")
                    .ok());
  require_put(*db, "VCS.GithubAdminPAT", "plaintext-canary-last-e3b0c44298fc1c14");
  canaries.push_back("plaintext-canary-last-e3b0c44298fc1c14");

  std::vector<std::string> master_keys;
  for (const char *name : {"master.key", "next.key"}) {
    std::string raw = read_file(store.key_file(name));
    BOOST_REQUIRE(raw.size() == 32u);
    master_keys.push_back(raw);
    master_keys.push_back(to_hex(as_bytes(raw)));
  }
  auto files = store.files();
  BOOST_REQUIRE(!files.empty());
  for (const auto &file : files) {
    std::string bytes;
    try {
      bytes = read_file(file);
    } catch (const std::exception &) {
      continue;  // a server file that vanished meanwhile
    }
    for (const auto &canary : canaries)
      BOOST_TEST(!contains(bytes, canary), file << ": " << canary);
    for (const auto &key : master_keys) BOOST_TEST(!contains(bytes, key), file << ": master key");
  }
  // Nor do the log lines.
  std::lock_guard lock(db->logs().mutex);
  BOOST_TEST(!db->logs().lines.empty());
  for (const auto &[level, line] : db->logs().lines)
    for (const auto &canary : canaries) BOOST_TEST(!contains(line, canary), line);
}
