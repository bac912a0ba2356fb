// End to end: a host's coffer::Store over a policy that routes to an env file.
#define BOOST_TEST_MODULE env_file_store
#include <boost/test/unit_test.hpp>

#include "temp_directory.hpp"

#include <unistd.h>
#include <coffer/store.hpp>

#include <sys/stat.h>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::string plugin_dir() {
  const char *dir = std::getenv("COFFER_TEST_PLUGIN_DIR");
  return dir != nullptr ? dir : "plugins";
}

std::string read_file(const fs::path &file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path &file, const std::string &text) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
  ::chmod(file.c_str(), 0600);
}

struct Deployment {
  coffer::test::TempDirectory scratch{"coffer-env-store"};
  fs::path directory = scratch.path();
  fs::path env_file;
  fs::path policy;
  Deployment() {
    env_file = directory / "credentials.env";
    policy = directory / "coffer.json";
    write_file(env_file,
               "# platform credentials\n"
               "PMP_VCS__GithubAdminPAT=ghp_first\n"
               "PMP_Email__SMTPPassword='smtp pass'\n"
               "UNRELATED=1\n");
    write_file(policy, R"({
      // a policy as an operator writes it
      "coffer": 1,
      "plugin_dirs": [")" + plugin_dir() +
                           R"("],
      "providers": {
        "local": {"plugin": "env_file",
                  "config": {"path": "credentials.env", "prefix": "PMP_", "writable": true}}
      },
      "routes": {"*": "local"},
      "cache": {"ttl_s": 0.05, "refresh_ahead_s": 0.01}
    })");
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_store_reads_writes_and_lists_an_env_file) {
  Deployment deployment;
  coffer::Store store = coffer::Store::open(deployment.policy);

  coffer::Secret secret = store.get("VCS.GithubAdminPAT");
  BOOST_TEST(secret.reveal() == "ghp_first");
  BOOST_TEST(!secret.version().empty());
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "smtp pass");
  BOOST_TEST(store.key_name("VCS.GithubAdminPAT", "local") == "PMP_VCS__GithubAdminPAT");

  coffer::Result missing = store.try_get("CIAdmin.JenkinsTriggerAuthToken");
  BOOST_TEST(coffer::to_string(missing.code) == "not_found");
  BOOST_TEST(missing.message.find("PMP_CIAdmin__JenkinsTriggerAuthToken") != std::string::npos,
             missing.message);

  std::string version =
      store.put("CIAdmin.JenkinsTriggerAuthToken", coffer::Secret::copy_of("t$k"));
  BOOST_TEST(!version.empty());
  BOOST_TEST(store.get("CIAdmin.JenkinsTriggerAuthToken").reveal() == "t$k");
  BOOST_TEST(read_file(deployment.env_file) ==
             "# platform credentials\n"
             "PMP_VCS__GithubAdminPAT=ghp_first\n"
             "PMP_Email__SMTPPassword='smtp pass'\n"
             "UNRELATED=1\n"
             "PMP_CIAdmin__JenkinsTriggerAuthToken=\"t\\$k\"\n");

  std::vector<coffer::ListEntry> entries = store.list("local");
  BOOST_TEST(entries.size() == 4u);
  std::size_t mapped = 0;
  for (const coffer::ListEntry &entry : entries) {
    if (!entry.key.empty()) ++mapped;
    if (entry.name == "UNRELATED") BOOST_TEST(entry.key.empty());
  }
  BOOST_TEST(mapped == 3u);

  store.remove("Email.SMTPPassword");
  BOOST_TEST(coffer::to_string(store.try_get("Email.SMTPPassword").code) == "not_found");
}

BOOST_AUTO_TEST_CASE(a_subscriber_hears_of_a_rotation_made_in_the_file) {
  Deployment deployment;
  coffer::StoreOptions options;
  options.subscription_refresh = std::chrono::milliseconds(50);
  coffer::Store store = coffer::Store::open(deployment.policy, options);
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<coffer::ChangeEvent> events;
  auto subscription = store.subscribe("VCS", [&](const coffer::ChangeEvent &event) {
    std::lock_guard lock(mutex);
    events.push_back(event);
    changed.notify_all();
  });
  const std::string first(store.get("VCS.GithubAdminPAT").version());

  // An operator rotates the token with an editor that renames a new file in.
  fs::path staged = deployment.directory / ".credentials.env.swp";
  write_file(staged, "PMP_VCS__GithubAdminPAT=ghp_second\n");
  fs::rename(staged, deployment.env_file);

  std::unique_lock lock(mutex);
  BOOST_TEST_REQUIRE(
      changed.wait_for(lock, std::chrono::seconds(20), [&] { return !events.empty(); }));
  BOOST_TEST(events[0].key == "VCS.GithubAdminPAT");
  BOOST_TEST(events[0].old_version == first);
  BOOST_TEST(!events[0].new_version.empty());
  BOOST_TEST(events[0].new_version != first);
  BOOST_TEST(events[0].new_version.find("ghp") == std::string::npos);
  lock.unlock();
  BOOST_TEST(store.get("VCS.GithubAdminPAT").reveal() == "ghp_second");
}

BOOST_AUTO_TEST_CASE(a_broken_env_file_fails_the_policy_naming_file_and_line) {
  Deployment deployment;
  write_file(deployment.env_file,
             "PMP_VCS__GithubAdminPAT=ok\nPMP_Email__SMTPPassword=\"s3cr3tv4lue\n");
  coffer::StoreOptions fail_fast;  // the provider's error as the open's, not isolated
  fail_fast.open_failures = coffer::OpenFailures::fail;
  try {
    coffer::Store::open(deployment.policy, fail_fast);
    BOOST_FAIL("the policy opened");
  } catch (const coffer::Error &error) {
    std::string message = error.what();
    BOOST_TEST(coffer::to_string(error.code()) == "invalid_config");
    BOOST_TEST(message.find(deployment.env_file.string() + ": line 2") != std::string::npos,
               message);
    BOOST_TEST(message.find("s3cr3t") == std::string::npos, message);
  }
}
