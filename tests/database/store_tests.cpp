// End to end: a host's coffer::Store over a policy whose provider is the
// database plugin (COFFER_DB_BACKEND), including the admin commands the
// `coffer db` CLI runs and a subscriber hearing of a rotation made by
// another process.
#define BOOST_TEST_MODULE database_store
#include <boost/test/unit_test.hpp>

#include <boost/json.hpp>
#include <coffer/store.hpp>

#include <condition_variable>
#include <mutex>

#include "db_test_support.hpp"

using namespace coffer::database::test;

namespace {

std::string plugin_dir() {
  const char *dir = std::getenv("COFFER_TEST_PLUGIN_DIR");
  return dir != nullptr ? dir : "plugins";
}

std::string policy(const TestStore &store, const std::string &master_key) {
  return R"({
    "coffer": 1,
    "plugin_dirs": [")" +
         plugin_dir() + R"("],
    "providers": {
      "db": {"plugin": "database", "config": )" +
         store.config(master_key) + R"(}
    },
    "routes": {"*": "db"}
  })";
}

std::string code(const coffer::Result &result) {
  return std::string(coffer::to_string(result.code));
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_host_initialises_writes_and_reads_an_encrypted_store) {
  TestStore store;
  coffer::Store host = coffer::Store::from_string(policy(store, store.file_key()));

  coffer::Result before = host.try_get("VCS.GithubAdminPAT");
  BOOST_TEST(code(before) == "unavailable");
  BOOST_TEST(contains(before.message, "coffer db init"), before.message);

  auto init = boost::json::parse(host.admin("db", "init")).as_object();
  BOOST_TEST(init.at("created").as_bool());
  BOOST_TEST(init.at("master_key_file_created").as_bool());

  std::string first = host.put("VCS.GithubAdminPAT", coffer::Secret::copy_of("ghp_first"));
  BOOST_TEST(first == "1");
  coffer::Secret secret = host.get("VCS.GithubAdminPAT");
  BOOST_TEST(secret.reveal() == "ghp_first");
  BOOST_TEST(secret.version() == "1");
  BOOST_TEST(host.put("VCS.GithubAdminPAT", coffer::Secret::copy_of("ghp_second")) == "2");
  coffer::GetOptions named;
  named.version = "1";
  BOOST_TEST(host.get("VCS.GithubAdminPAT", named).reveal() == "ghp_first");
  BOOST_TEST(host.key_name("VCS.GithubAdminPAT", "db") == "VCS.GithubAdminPAT");

  auto entries = host.list("db");
  BOOST_REQUIRE(entries.size() == 1u);
  BOOST_TEST(entries[0].key == "VCS.GithubAdminPAT");
  BOOST_TEST(entries[0].version == "2");

  BOOST_TEST(code(host.try_get("Email.SMTPPassword")) == "not_found");
  host.remove("VCS.GithubAdminPAT");
  BOOST_TEST(code(host.try_get("VCS.GithubAdminPAT")) == "not_found");

  auto verify = boost::json::parse(host.admin("db", "verify")).as_object();
  BOOST_TEST(verify.at("ok").as_bool());
}

BOOST_AUTO_TEST_CASE(the_admin_commands_report_failures_as_errors) {
  TestStore store;
  coffer::Store host = coffer::Store::from_string(policy(store, store.file_key()));
  host.admin("db", "init");
  host.put("Email.SMTPPassword", coffer::Secret::copy_of("smtp-canary-7d1e"));
  auto record = store.record("Email.SMTPPassword", 1);
  record.ciphertext[3] ^= 4;
  store.write_record("Email.SMTPPassword", 1, record, 1);
  try {
    host.admin("db", "verify");
    BOOST_FAIL("verify succeeded on a tampered store");
  } catch (const coffer::AdminError &error) {
    BOOST_TEST(coffer::to_string(error.code()) == "data_error");
    BOOST_TEST(contains(error.what(), "1 of 1 records failed verification"), error.what());
    BOOST_TEST(!contains(error.what(), "smtp-canary"), error.what());
    // The report comes as data, not inside the message.
    BOOST_TEST(!contains(error.what(), "\n"), error.what());
    auto report = boost::json::parse(error.report()).as_object();
    BOOST_TEST(report.at("bad").as_array().size() == 1u);
    BOOST_TEST(report.at("bad").at(0).at("key") == "Email.SMTPPassword");
    BOOST_TEST(!contains(error.report(), "smtp-canary"), error.report());
  }
  coffer::GetOptions fresh;
  fresh.bypass_cache = true;
  coffer::Result tampered = host.try_get("Email.SMTPPassword", fresh);
  BOOST_TEST(code(tampered) == "data_error");
  BOOST_TEST(contains(tampered.message, "Email.SMTPPassword version 1"), tampered.message);
  BOOST_TEST(!contains(tampered.message, "smtp-canary"), tampered.message);
}

BOOST_AUTO_TEST_CASE(a_wrong_master_key_reaches_the_host_as_a_data_error) {
  TestStore store;
  coffer::Store::from_string(policy(store, store.file_key())).admin("db", "init");
  ::setenv("COFFER_STORE_TEST_WRONG_KEY", std::string(64, 'a').c_str(), 1);
  coffer::Store host =
      coffer::Store::from_string(policy(store, R"({"env": "COFFER_STORE_TEST_WRONG_KEY"})"));
  coffer::Result result = host.try_get("VCS.GithubAdminPAT");
  BOOST_TEST(code(result) == "data_error");
  BOOST_TEST(contains(result.message, "the master key does not match this store"), result.message);
}

BOOST_AUTO_TEST_CASE(a_subscriber_hears_of_a_rotation_written_by_another_host) {
  TestStore store;
  coffer::StoreOptions options;
  options.subscription_refresh = std::chrono::milliseconds(50);
  coffer::Store reader = coffer::Store::from_string(policy(store, store.file_key()), options);
  coffer::Store writer = coffer::Store::from_string(policy(store, store.file_key()));
  writer.admin("db", "init");
  writer.put("CIAdmin.JenkinsConfigureAPIToken", coffer::Secret::copy_of("jenkins-1"));

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<coffer::ChangeEvent> events;
  auto subscription = reader.subscribe("CIAdmin", [&](const coffer::ChangeEvent &event) {
    std::lock_guard lock(mutex);
    events.push_back(event);
    changed.notify_all();
  });
  BOOST_TEST(reader.get("CIAdmin.JenkinsConfigureAPIToken").version() == "1");
  writer.put("CIAdmin.JenkinsConfigureAPIToken", coffer::Secret::copy_of("jenkins-2"));

  std::unique_lock lock(mutex);
  BOOST_TEST_REQUIRE(
      changed.wait_for(lock, std::chrono::seconds(20), [&] { return !events.empty(); }));
  BOOST_TEST(events[0].key == "CIAdmin.JenkinsConfigureAPIToken");
  BOOST_TEST(events[0].old_version == "1");
  BOOST_TEST(events[0].new_version == "2");
  lock.unlock();
  // A rekey changes no value, so no version: the subscriber hears nothing of it.
  writer.admin("db", "rekey");
  coffer::GetOptions fresh;
  fresh.bypass_cache = true;
  coffer::Secret after = reader.get("CIAdmin.JenkinsConfigureAPIToken", fresh);
  BOOST_TEST(after.reveal() == "jenkins-2");
  BOOST_TEST(after.version() == "2");
}
