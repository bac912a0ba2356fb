// The two example providers of sdk/examples, built in this tree, through
// coffer::Store: what the documentation promises about them holds.
#define BOOST_TEST_MODULE sdk_examples_tests
#include <boost/test/unit_test.hpp>

#include <map>

#include "sdk_test_support.hpp"

using namespace coffer;
using namespace coffer::sdk_test;

BOOST_AUTO_TEST_SUITE(hello)

const char *const kConfig = R"({"values": {"Demo.Greeting": "hello, world", "Demo.Other": "x"}})";

BOOST_AUTO_TEST_CASE(serves_configured_values) {
  Store store = open_test_plugin("hello", kConfig);
  Secret greeting = store.get("Demo.Greeting");
  BOOST_TEST(greeting.reveal() == "hello, world");
  // No provider version: the core's keyed digest stands in.
  BOOST_TEST(!greeting.version().empty());
  Result missing = store.try_get("Demo.Missing");
  BOOST_TEST((missing.code == Code::not_found));
  BOOST_TEST(contains(missing.message, "Demo.Missing"), missing.message);
  BOOST_TEST(contains(missing.message, "/values/Demo.Missing"), missing.message);
}

BOOST_AUTO_TEST_CASE(key_name_is_where_the_value_lives_in_the_config) {
  Store store = open_test_plugin("hello", kConfig);
  BOOST_TEST(store.key_name("Demo.Greeting", "p") == "/values/Demo.Greeting");
}

BOOST_AUTO_TEST_CASE(lists_names_without_values) {
  Store store = open_test_plugin("hello", kConfig);
  auto entries = store.list("p");
  BOOST_TEST_REQUIRE(entries.size() == 2u);
  BOOST_TEST(entries[0].key == "Demo.Greeting");
  BOOST_TEST(entries[0].name == "/values/Demo.Greeting");
  BOOST_TEST(entries[1].key == "Demo.Other");
}

BOOST_AUTO_TEST_CASE(is_read_only) {
  Store store = open_test_plugin("hello", kConfig);
  Failure put = failure_of([&] { (void)store.put("Demo.Greeting", Secret::copy_of("x")); });
  BOOST_TEST((put.code == Code::unsupported), put.message);
}

BOOST_AUTO_TEST_CASE(bad_configurations_name_the_field_never_the_value) {
  struct Case {
    const char *config;
    const char *expected;
  };
  const Case cases[] = {
      {R"({})", "field 'config.values' must be an object"},
      {R"({"values": {"Demo.Greeting": "x"}, "valeus": {}})",
       "unknown field 'config.valeus' (did you mean 'config.values'?)"},
      {R"({"values": {"not a key": "s3cr3t-value"}})",
       "field 'config.values' holds 'not a key', which is not a canonical key"},
      {R"({"values": {"Demo.Number": 12345}})",
       "field 'config.values.Demo.Number' must be a string"},
  };
  for (const auto &c : cases) BOOST_TEST_CONTEXT(c.config) {
      Failure f = failure_of([&] { (void)open_test_plugin("hello", c.config); });
      BOOST_TEST_REQUIRE(f.thrown);
      BOOST_TEST((f.code == Code::invalid_config));
      BOOST_TEST(contains(f.message, c.expected), f.message);
      BOOST_TEST(!contains(f.message, "s3cr3t-value"), f.message);
      BOOST_TEST(!contains(f.message, "12345"), f.message);
    }
}

BOOST_AUTO_TEST_CASE(logs_without_values) {
  LogLines log;
  Store store = open_test_plugin("hello", kConfig, &log);
  (void)store.get("Demo.Greeting");
  BOOST_TEST(log.contains("serving 2 value(s) from the configuration"));
  BOOST_TEST(!log.contains("hello, world"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(secret_files)

struct Mounted {
  TempDir dir;
  Mounted() {
    dir.write("VCS.GithubAdminPAT", "ghp-token\n");
    dir.write("Email.SMTPPassword", std::string("binary\0value", 12));
    dir.write("not-a-key.txt", "listed without a key");
    dir.write(".hidden", "never listed");
  }
  std::string config() const { return R"({"directory": )" + quoted(dir.path()) + "}"; }
};

BOOST_AUTO_TEST_CASE(serves_files_byte_for_byte) {
  Mounted mounted;
  Store store = open_test_plugin("secret_files", mounted.config());
  BOOST_TEST(store.get("VCS.GithubAdminPAT").reveal() == "ghp-token\n");
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == std::string_view("binary\0value", 12));
  Result missing = store.try_get("VCS.GitlabAdminPAT");
  BOOST_TEST((missing.code == Code::not_found));
  BOOST_TEST(contains(missing.message, (mounted.dir.path() / "VCS.GitlabAdminPAT").string()),
             missing.message);
}

BOOST_AUTO_TEST_CASE(lists_regular_files_and_maps_keys_to_paths) {
  Mounted mounted;
  Store store = open_test_plugin("secret_files", mounted.config());
  auto entries = store.list("p");
  BOOST_TEST_REQUIRE(entries.size() == 3u);
  std::map<std::string, std::string> by_name;
  for (const auto &e : entries) by_name[e.name] = e.key;
  BOOST_TEST(by_name.at("VCS.GithubAdminPAT") == "VCS.GithubAdminPAT");
  BOOST_TEST(by_name.at("Email.SMTPPassword") == "Email.SMTPPassword");
  BOOST_TEST(by_name.at("not-a-key.txt").empty());
  BOOST_TEST(store.key_name("VCS.GithubAdminPAT", "p") ==
             (mounted.dir.path() / "VCS.GithubAdminPAT").string());
}

BOOST_AUTO_TEST_CASE(a_relative_directory_resolves_against_the_policy) {
  Mounted mounted;
  auto policy = mounted.dir.write(
      "policy.json", R"({"coffer": 1, "plugin_dirs": [)" + quoted(plugin_dir("secret_files")) +
                         R"(], "providers": {"p": {"plugin": "secret_files",
                         "config": {"directory": "."}}}, "routes": {"*": "p"}})");
  Store store = Store::open(policy, test_options());
  BOOST_TEST(store.get("VCS.GithubAdminPAT").reveal() == "ghp-token\n");
}

BOOST_AUTO_TEST_CASE(bad_configurations_are_refused) {
  Mounted mounted;
  struct Case {
    std::string config;
    const char *expected;
  };
  const Case cases[] = {
      {R"({})", "config.directory: required"},
      {R"({"directory": "/nonexistent/coffer-test"})", "cannot open /nonexistent/coffer-test"},
      {R"({"directory": 5})", "config.directory: expected a non-empty path string"},
      {R"({"dir": "/tmp"})", "config.dir: unknown field"},
  };
  for (const auto &c : cases) BOOST_TEST_CONTEXT(c.config) {
      Failure f = failure_of([&] { (void)open_test_plugin("secret_files", c.config); });
      BOOST_TEST_REQUIRE(f.thrown);
      BOOST_TEST((f.code == Code::invalid_config));
      BOOST_TEST(contains(f.message, c.expected), f.message);
    }
}

BOOST_AUTO_TEST_CASE(named_versions_are_unsupported) {
  Mounted mounted;
  Store store = open_test_plugin("secret_files", mounted.config());
  GetOptions options;
  options.version = "3";
  BOOST_TEST((store.try_get("VCS.GithubAdminPAT", options).code == Code::unsupported));
}

BOOST_AUTO_TEST_SUITE_END()
