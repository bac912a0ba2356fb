// Key management through the admin commands (rotate-master-key, rekey), the
// data key's encryption limit, and schema migrations.
#include <boost/test/unit_test.hpp>

#include "forwarding_storage.hpp"
#include "provider_fixture.hpp"
#include "store/admin.hpp"
#include "store/open_store.hpp"

using namespace coffer::database;
using namespace coffer::database::test;

namespace {

std::string rotate_to_file(const TestStore &store, const std::string &name, bool keep_old = false) {
  return "{\"new_master_key\": {\"file\": " + quote(store.key_file(name).string()) + "}" +
         (keep_old ? ", \"keep_old\": true" : "") + "}";
}

std::unique_ptr<CredentialStore> library_store(const TestStore &store,
                                               std::unique_ptr<Storage> storage = nullptr,
                                               const std::string &extra = {}) {
  Config config = parse_config(store.file_config(extra), store.dir());
  if (!storage) storage = open_storage(config, {});
  return std::make_unique<CredentialStore>(config, std::move(storage), Log{}, system_now_ms);
}

}  // namespace

BOOST_AUTO_TEST_CASE(rotate_master_key_rewraps_the_data_keys_without_downtime) {
  TestStore store;
  auto writer = open_initialised(store.file_config());
  auto reader = open_instance(store.file_config());
  require_put(*writer, "VCS.GithubAdminPAT", "before");
  BOOST_TEST(require_get(*reader, "VCS.GithubAdminPAT") == "before");

  Outcome rotated = writer->admin("rotate-master-key", rotate_to_file(store, "next.key"));
  BOOST_REQUIRE_MESSAGE(rotated.ok(), rotated.message);
  auto result = parse_object(rotated.result);
  BOOST_TEST(result.at("rewrapped_data_keys").as_int64() == 1);
  BOOST_TEST(result.at("master_key_file_created").as_bool());
  BOOST_TEST(result.at("master_keys").as_int64() == 1);
  BOOST_TEST(file_mode(store.key_file("next.key")) == 0600u);

  // Running instances keep reading and writing: nothing stopped.
  require_put(*writer, "VCS.GithubAdminPAT", "after");
  BOOST_TEST(require_get(*reader, "VCS.GithubAdminPAT") == "after");
  require_put(*reader, "Email.SMTPPassword", "smtp");
  // A new process needs the new key; the old one no longer opens the store.
  auto old_key = open_instance(store.file_config());
  Outcome refused = old_key->get("VCS.GithubAdminPAT");
  BOOST_TEST(refused.status == COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(contains(refused.message, "the master key does not match this store"));
  auto new_key = open_instance(store.file_config({}, "next.key"));
  BOOST_TEST(require_get(*new_key, "VCS.GithubAdminPAT", "1") == "before");
  BOOST_TEST(require_get(*new_key, "Email.SMTPPassword") == "smtp");
  BOOST_TEST(new_key->admin("verify").ok());
  // The old master key is gone from the store: rotating again to it is possible.
  BOOST_TEST(store.query("SELECT count(*) FROM coffer_master_keys")[0] == "1");
  Outcome same = new_key->admin("rotate-master-key", rotate_to_file(store, "next.key"));
  BOOST_TEST(same.status == COFFER_STATUS_INVALID_ARGUMENT);
  BOOST_TEST(contains(same.message, "already in use"), same.message);
}

BOOST_AUTO_TEST_CASE(a_staged_rotation_keeps_both_keys_until_drop_old) {
  TestStore store;
  auto first = open_initialised(store.file_config());
  require_put(*first, "RuntimeBaseImage.PrivateRegistryPassword", "registry");
  Outcome staged = first->admin("rotate-master-key", rotate_to_file(store, "second.key", true));
  BOOST_REQUIRE_MESSAGE(staged.ok(), staged.message);
  BOOST_TEST(parse_object(staged.result).at("master_keys").as_int64() == 2);
  BOOST_TEST(parse_object(staged.result).at("kept_old").as_bool());

  auto with_first = open_instance(store.file_config());
  auto with_second = open_instance(store.file_config({}, "second.key"));
  BOOST_TEST(require_get(*with_first, "RuntimeBaseImage.PrivateRegistryPassword") == "registry");
  BOOST_TEST(require_get(*with_second, "RuntimeBaseImage.PrivateRegistryPassword") == "registry");
  // A rekey would leave one of the keys without the new data key: refused.
  Outcome rekey = with_second->admin("rekey");
  BOOST_TEST(rekey.status == COFFER_STATUS_INVALID_ARGUMENT);
  BOOST_TEST(contains(rekey.message, "drop_old"), rekey.message);
  BOOST_TEST(
      with_second->admin("rotate-master-key", R"({"drop_old": true, "keep_old": true})").status ==
      COFFER_STATUS_INVALID_ARGUMENT);

  Outcome dropped = with_second->admin("rotate-master-key", R"({"drop_old": true})");
  BOOST_REQUIRE_MESSAGE(dropped.ok(), dropped.message);
  BOOST_TEST(parse_object(dropped.result).at("dropped_master_keys").as_int64() == 1);
  BOOST_TEST(
      open_instance(store.file_config())->get("RuntimeBaseImage.PrivateRegistryPassword").status ==
      COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(require_get(*open_instance(store.file_config({}, "second.key")),
                         "RuntimeBaseImage.PrivateRegistryPassword") == "registry");
  BOOST_TEST(with_second->admin("rekey").ok());
}

BOOST_AUTO_TEST_CASE(rotation_to_a_passphrase) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "ClusterSettings.KubernetesAdminPassword", "kube");
  ::setenv("COFFER_TEST_ROTATE_PASSPHRASE", "a long passphrase for the rotation test", 1);
  BOOST_TEST(db->admin("rotate-master-key",
                       R"({"new_master_key": {"file": "/nonexistent/x"}, "scrypt": {"n": 32768}})")
                 .status == COFFER_STATUS_INVALID_ARGUMENT);
  Outcome rotated = db->admin(
      "rotate-master-key",
      R"({"new_master_key": {"passphrase_env": "COFFER_TEST_ROTATE_PASSPHRASE"}, "scrypt": {"n": 32768}})");
  BOOST_REQUIRE_MESSAGE(rotated.ok(), rotated.message);
  auto with_passphrase =
      open_instance(store.config("{\"passphrase_env\": \"COFFER_TEST_ROTATE_PASSPHRASE\"}"));
  BOOST_TEST(require_get(*with_passphrase, "ClusterSettings.KubernetesAdminPassword") == "kube");
}

BOOST_AUTO_TEST_CASE(rekey_reencrypts_every_record_under_a_new_data_key) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  auto other = open_instance(store.file_config());
  std::map<std::pair<std::string, std::string>, std::string> written;
  for (int i = 0; i < 3; ++i)
    for (const char *key :
         {"VCS.GithubAdminPAT", "Email.SMTPPassword", "CIAdmin.JenkinsConfigureAPIToken"}) {
      std::string value = std::string(key) + "#" + std::to_string(i);
      Outcome put = db->put(key, value);
      BOOST_REQUIRE(put.ok());
      written[{key, put.version}] = value;
    }
  BOOST_TEST(require_get(*other, "VCS.GithubAdminPAT") == "VCS.GithubAdminPAT#2");
  auto nonces_before = store.query("SELECT " + store.hex_of("nonce") + " FROM coffer_records");

  Outcome rekey = db->admin("rekey", R"({"batch_size": 4})");
  BOOST_REQUIRE_MESSAGE(rekey.ok(), rekey.message);
  auto result = parse_object(rekey.result);
  BOOST_TEST(result.at("data_key").as_int64() == 2);
  BOOST_TEST(!result.at("resumed").as_bool());
  BOOST_TEST(result.at("reencrypted").as_int64() == 9);
  BOOST_REQUIRE(result.at("retired_data_keys").as_array().size() == 1u);
  BOOST_TEST(result.at("retired_data_keys").as_array()[0].as_int64() == 1);

  BOOST_TEST(store.query("SELECT DISTINCT data_key_id FROM coffer_records") ==
             std::vector<std::string>{"2"});
  BOOST_TEST(store.query("SELECT data_key_id FROM coffer_data_keys") ==
             std::vector<std::string>{"2"});
  for (const auto &nonce : store.query("SELECT " + store.hex_of("nonce") + " FROM coffer_records"))
    BOOST_TEST(
        (std::find(nonces_before.begin(), nonces_before.end(), nonce) == nonces_before.end()));
  // Same values and versions, read by this instance and by one that unlocked before the rekey.
  for (const auto &[where, value] : written) {
    BOOST_TEST(require_get(*db, where.first, where.second.c_str()) == value);
    BOOST_TEST(require_get(*other, where.first, where.second.c_str()) == value);
  }
  require_put(*other, "VCS.GithubAdminPAT", "written by the other instance");
  BOOST_TEST(store.record("VCS.GithubAdminPAT", 4).data_key_id == 2);
  BOOST_TEST(db->admin("verify").ok());
  BOOST_TEST(parse_object(db->admin("rekey").result).at("data_key").as_int64() == 3);
}

// An instance that loaded its data keys before another made a new one reads
// the latest version under the new key: the record is opened after the read,
// once the keys are loaded again.
BOOST_AUTO_TEST_CASE(the_latest_version_under_a_data_key_made_elsewhere_is_read) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "VCS.GithubAdminPAT", "before the rekey");
  auto other = open_instance(store.file_config());
  BOOST_TEST(require_get(*other, "VCS.GithubAdminPAT") == "before the rekey");  // holds key 1
  BOOST_TEST(parse_object(db->admin("rekey").result).at("data_key").as_int64() == 2);
  BOOST_TEST(store.record("VCS.GithubAdminPAT", 1).data_key_id == 2);
  BOOST_TEST(require_get(*other, "VCS.GithubAdminPAT") == "before the rekey");
  require_put(*db, "VCS.GithubAdminPAT", "after the rekey");
  BOOST_TEST(require_get(*other, "VCS.GithubAdminPAT") == "after the rekey");
}

// The parts a host runs to show progress: a rekey stopped after max_batches
// goes on when called again; verify pages through the records after a
// cursor, and a part with a bad record is no failure of its own.
BOOST_AUTO_TEST_CASE(rekey_and_verify_run_in_parts) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  for (int i = 0; i < 3; ++i)
    for (const char *key :
         {"VCS.GithubAdminPAT", "Email.SMTPPassword", "CIAdmin.JenkinsConfigureAPIToken"})
      require_put(*db, key, std::string(key) + "#" + std::to_string(i));

  auto first = parse_object(db->admin("rekey", R"({"batch_size": 2, "max_batches": 2})").result);
  BOOST_TEST(!first.at("finished").as_bool());
  BOOST_TEST(first.at("reencrypted").as_int64() == 4);
  BOOST_TEST(first.at("remaining").as_int64() == 5);
  BOOST_TEST(first.at("retired_data_keys").as_array().empty());
  auto second = parse_object(db->admin("rekey", R"({"batch_size": 2, "max_batches": 2})").result);
  BOOST_TEST(second.at("resumed").as_bool());
  BOOST_TEST(second.at("data_key") == first.at("data_key"));
  BOOST_TEST(second.at("remaining").as_int64() == 1);
  auto last = parse_object(db->admin("rekey", R"({"batch_size": 2, "max_batches": 2})").result);
  BOOST_TEST(last.at("finished").as_bool());
  BOOST_TEST(last.at("reencrypted").as_int64() == 1);
  BOOST_TEST(last.at("remaining").as_int64() == 0);
  BOOST_TEST(last.at("retired_data_keys").as_array().size() == 1u);
  BOOST_TEST(store.query("SELECT DISTINCT data_key_id FROM coffer_records") ==
             std::vector<std::string>{"2"});

  // Damage one record; the parts of 4 find it in the second without failing.
  store.exec("UPDATE coffer_records SET nonce = " + store.blob_literal(Bytes(12, 0x78)) +
             " WHERE key = 'Email.SMTPPassword' AND version = 2");
  std::size_t records = 0;
  std::vector<std::string> bad;
  std::string arguments = R"({"limit": 4})";
  for (int part = 0;; ++part) {
    BOOST_TEST_REQUIRE(part < 5);
    Outcome outcome = db->admin("verify", arguments);
    BOOST_REQUIRE_MESSAGE(outcome.ok(), outcome.message);
    auto report = parse_object(outcome.result);
    if (part == 0) {
      BOOST_TEST(report.at("total").as_int64() == 9);
      BOOST_TEST(report.at("integrity_check") == "ok");
    } else {
      BOOST_TEST(!report.contains("total"));
    }
    records += report.at("records").to_number<std::size_t>();
    for (const auto &entry : report.at("bad").as_array())
      bad.emplace_back(entry.at("key").as_string());
    if (report.at("finished").as_bool()) {
      BOOST_TEST(part == 2);
      BOOST_TEST(report.at("keys").as_int64() == 3);
      break;
    }
    arguments = R"({"limit": 4, "after": )" + boost::json::serialize(report.at("last")) + "}";
  }
  BOOST_TEST(records == 9u);
  BOOST_TEST(bad == std::vector<std::string>{"Email.SMTPPassword"});
  // In one call the same store fails, with the report.
  Outcome whole = db->admin("verify");
  BOOST_TEST(whole.status == COFFER_STATUS_DATA_ERROR);
  BOOST_TEST(db->admin("verify", R"({"after": {"key": "A.B", "version": 1}})").status ==
             COFFER_STATUS_INVALID_ARGUMENT);
}

namespace {
// Fails the second batch of a rekey, as a crash would stop it.
class CrashingRekey : public ForwardingStorage {
 public:
  using ForwardingStorage::ForwardingStorage;
  std::size_t replace_records(const std::vector<ReencryptedRecord> &records, int64_t data_key_id,
                              int64_t now_ms) override {
    if (++batches_ == 2) throw std::runtime_error("simulated crash");
    return ForwardingStorage::replace_records(records, data_key_id, now_ms);
  }

 private:
  int batches_ = 0;
};
}  // namespace

BOOST_AUTO_TEST_CASE(rekey_resumes_after_an_interruption) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  for (int i = 0; i < 8; ++i)
    require_put(*db, "VCS.AzureDevOpsOrgAdminPAT", "pat" + std::to_string(i));

  Config config = parse_config(store.file_config(), store.dir());
  auto crashing = library_store(store, std::make_unique<CrashingRekey>(open_storage(config, {})));
  BOOST_CHECK_THROW(crashing->rekey(3), std::runtime_error);
  // Half done: the new data key is active, some records still under the old one.
  BOOST_TEST(store.query("SELECT count(*) FROM coffer_data_keys")[0] == "2");
  BOOST_TEST(
      std::stoi(store.query("SELECT count(*) FROM coffer_records WHERE data_key_id = 1")[0]) > 0);
  // Reads and writes go on meanwhile.
  BOOST_TEST(require_get(*db, "VCS.AzureDevOpsOrgAdminPAT", "3") == "pat2");
  require_put(*db, "VCS.AzureDevOpsOrgAdminPAT", "pat8");

  Outcome resumed = db->admin("rekey", R"({"batch_size": 3})");
  BOOST_REQUIRE_MESSAGE(resumed.ok(), resumed.message);
  auto result = parse_object(resumed.result);
  BOOST_TEST(result.at("resumed").as_bool());
  BOOST_TEST(result.at("data_key").as_int64() == 2);
  BOOST_TEST(store.query("SELECT DISTINCT data_key_id FROM coffer_records") ==
             std::vector<std::string>{"2"});
  for (int i = 0; i <= 8; ++i)
    BOOST_TEST(require_get(*db, "VCS.AzureDevOpsOrgAdminPAT", std::to_string(i + 1).c_str()) ==
               "pat" + std::to_string(i));
  BOOST_TEST(db->admin("verify").ok());
}

BOOST_AUTO_TEST_CASE(a_data_key_at_its_encryption_limit_refuses_writes_until_rekey) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "Email.SMTPPassword", "one");
  store.exec("UPDATE coffer_data_keys SET encryptions = " +
             std::to_string(data_key_encryption_limit));
  Outcome refused = db->put("Email.SMTPPassword", "two");
  BOOST_TEST(refused.status == COFFER_STATUS_UNAVAILABLE);
  BOOST_TEST(contains(refused.message, "coffer db rekey"), refused.message);
  BOOST_TEST(require_get(*db, "Email.SMTPPassword") == "one");
  BOOST_TEST(store.query("SELECT latest_version FROM coffer_keys")[0] == "1");
  BOOST_REQUIRE(db->admin("rekey").ok());
  Outcome accepted = db->put("Email.SMTPPassword", "two");
  BOOST_TEST(accepted.ok(), accepted.message);
  BOOST_TEST(accepted.version == "2");
}

BOOST_AUTO_TEST_CASE(the_encryption_counter_counts_every_seal) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  for (int i = 0; i < 5; ++i) require_put(*db, "Email.SMTPPassword", "v");
  BOOST_TEST(store.query("SELECT encryptions FROM coffer_data_keys")[0] == "5");
  BOOST_REQUIRE(db->admin("rekey").ok());
  // The rekey sealed the 5 records again under data key 2.
  BOOST_TEST(store.query("SELECT encryptions FROM coffer_data_keys")[0] == "5");
}

// A store of schema version 1, as that release made it: the current tables
// without what versions 2 and 3 added.
BOOST_AUTO_TEST_CASE(an_older_schema_is_migrated_on_first_use) {
  TestStore store;
  {
    auto db = open_initialised(store.file_config());
    require_put(*db, "VCS.GithubAdminPAT", "first");
    require_put(*db, "VCS.GithubAdminPAT", "from schema one");
    require_put(*db, "Email.SMTPPassword", "smtp");
    require_put(*db, "Email.SMTPUser", "gone");
    BOOST_REQUIRE(db->remove("Email.SMTPUser").ok());
  }
  store.exec("DROP INDEX coffer_records_by_data_key");
  store.exec("ALTER TABLE coffer_records DROP COLUMN latest");
  store.exec("UPDATE coffer_schema SET version = 1");

  auto db = open_instance(store.file_config());
  BOOST_TEST(require_get(*db, "VCS.GithubAdminPAT") == "from schema one");
  BOOST_TEST(require_get(*db, "Email.SMTPPassword") == "smtp");
  BOOST_TEST(db->get("Email.SMTPUser").status == COFFER_STATUS_NOT_FOUND);
  BOOST_TEST(store.query("SELECT version FROM coffer_schema")[0] == "3");
  const std::string index_query =
      store.which() == Backend::sqlite
          ? "SELECT name FROM sqlite_master WHERE name = 'coffer_records_by_data_key'"
          : "SELECT indexname::text FROM pg_indexes WHERE indexname = "
            "'coffer_records_by_data_key' AND schemaname = current_schema()";
  BOOST_TEST(store.query(index_query).size() == 1u);
  // Each live key's latest record is flagged, and only it.
  const std::vector<std::string> flagged = {"Email.SMTPPassword 1", "VCS.GithubAdminPAT 2"};
  BOOST_TEST(store.query("SELECT key || ' ' || version FROM coffer_records WHERE latest "
                         "ORDER BY key") == flagged,
             boost::test_tools::per_element());
  std::lock_guard lock(db->logs().mutex);
  bool logged = false;
  for (const auto &[level, line] : db->logs().lines)
    logged = logged || contains(line, "schema upgraded from version 1 to 3");
  BOOST_TEST(logged);
}

// Gets read the key's newest record when it is flagged latest: every write
// keeps exactly one flagged record per live key, the head's version.
BOOST_AUTO_TEST_CASE(each_live_key_has_its_latest_record_flagged_and_no_other) {
  TestStore store;
  auto db = open_initialised(store.file_config(", \"history\": 2"));
  const std::string flagged_query =
      "SELECT key || ' ' || version FROM coffer_records WHERE latest ORDER BY key";
  const std::string heads_query =
      "SELECT key || ' ' || latest_version FROM coffer_keys WHERE NOT removed ORDER BY key";
  auto check = [&](const char *after) {
    BOOST_TEST_CONTEXT(after) {
      BOOST_TEST(store.query(flagged_query) == store.query(heads_query),
                 boost::test_tools::per_element());
    }
  };
  for (int i = 0; i < 4; ++i) require_put(*db, "VCS.GithubAdminPAT", "v" + std::to_string(i));
  require_put(*db, "Email.SMTPPassword", "smtp");
  check("puts past the history");
  BOOST_TEST(store.query(flagged_query).size() == 2u);
  BOOST_REQUIRE(db->remove("VCS.GithubAdminPAT").ok());
  check("a removal");
  require_put(*db, "VCS.GithubAdminPAT", "again");
  check("a put after the removal");
  BOOST_REQUIRE(db->admin("rekey").ok());
  check("a rekey");
  BOOST_TEST(require_get(*db, "VCS.GithubAdminPAT") == "again");
}

BOOST_AUTO_TEST_CASE(a_newer_schema_is_refused) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  require_put(*db, "VCS.GithubAdminPAT", "x");
  store.exec("UPDATE coffer_schema SET version = 99");
  auto fresh = open_instance(store.file_config());
  Outcome got = fresh->get("VCS.GithubAdminPAT");
  BOOST_TEST(got.status == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(got.message, "schema version 99"), got.message);
  BOOST_TEST(contains(got.message, "upgrade coffer"), got.message);
}

BOOST_AUTO_TEST_CASE(admin_commands_and_arguments_are_checked) {
  TestStore store;
  auto db = open_initialised(store.file_config());
  Outcome unknown = db->admin("verfiy");
  BOOST_TEST(unknown.status == COFFER_STATUS_UNSUPPORTED);
  BOOST_TEST(contains(unknown.message, "did you mean 'verify'"), unknown.message);
  Outcome field = db->admin("rekey", R"({"batch_sise": 10})");
  BOOST_TEST(field.status == COFFER_STATUS_INVALID_ARGUMENT);
  BOOST_TEST(contains(field.message, "did you mean 'batch_size'"), field.message);
  BOOST_TEST(db->admin("rekey", R"({"batch_size": 0})").status == COFFER_STATUS_INVALID_ARGUMENT);
  BOOST_TEST(db->admin("rotate-master-key", "{}").status == COFFER_STATUS_INVALID_ARGUMENT);
  BOOST_TEST(db->admin("rotate-master-key", R"({"new_master_key": {"fil": "/x"}})").status ==
             COFFER_STATUS_INVALID_ARGUMENT);
  BOOST_TEST(db->admin("verify", "not json").status == COFFER_STATUS_INVALID_ARGUMENT);
  BOOST_TEST(db->admin("init", R"({"scrypt": {"n": 32768}})").status ==
             COFFER_STATUS_INVALID_ARGUMENT);  // not a passphrase store
}
