// The `coffer` tool as its users see it: values, exit statuses, policy
// sources, JSON output, diagnostics, help, and that no command but `get`
// ever prints a stored value.
#define BOOST_TEST_MODULE cli_tests
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <regex>
#include <span>
#include <sstream>
#include <thread>

#include "cli_fixture.hpp"

namespace json = boost::json;
using coffer::test::ChildProcess;
using coffer::test::CliFixture;
using coffer::test::contains;
using coffer::test::describe;
using coffer::test::env_name;
using coffer::test::ProcessResult;
using coffer::test::quoted;
using coffer::test::stored_values;

namespace {

struct IgnoreSigpipe {
  IgnoreSigpipe() { ::signal(SIGPIPE, SIG_IGN); }
};
BOOST_TEST_GLOBAL_FIXTURE(IgnoreSigpipe);

// The default set-up: coffer.json routes every category to the env file.
struct Fixture : CliFixture {
  Fixture() { write("coffer.json", env_policy()); }
};

json::value parse_json(const std::string &text) {
  return json::parse(text);
}

std::vector<std::string> catalog_keys(const CliFixture &f) {
  auto r = f.run({"catalog", "--json"});
  std::vector<std::string> keys;
  json::value catalog = json::parse(r.out);
  for (const auto &entry : catalog.at("keys").as_array())
    keys.emplace_back(entry.at("key").as_string());
  return keys;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(values, Fixture)

BOOST_AUTO_TEST_CASE(get_prints_the_value_and_a_newline) {
  auto r = run_policy({"get", "VCS.GithubAdminPAT"});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out == "ghp-Value-Alpha-7f3a9c\n");
  BOOST_TEST(r.err == "");
}

BOOST_AUTO_TEST_CASE(get_n_prints_the_value_without_a_newline) {
  auto r = run_policy({"get", "-n", "VCS.GithubAdminPAT"});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out == "ghp-Value-Alpha-7f3a9c");
  auto after = run_policy({"get", "Email.SMTPPassword", "--no-newline"});
  BOOST_TEST(after.out == "smtp-Value-Bravo-91be04");
}

BOOST_AUTO_TEST_CASE(log_lines_never_reach_standard_output) {
  auto r = run_policy({"--log-level", "debug", "get", "VCS.GithubAdminPAT"});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out == "ghp-Value-Alpha-7f3a9c\n");
}

BOOST_AUTO_TEST_CASE(put_reads_stdin_and_removes_one_final_newline) {
  auto put = run_policy({"put", "BuildPackage.AwsSecretAccessKey"}, "aws-Value-Delta\n");
  BOOST_TEST(put.status == 0, describe(put));
  auto get = run_policy({"get", "-n", "BuildPackage.AwsSecretAccessKey"});
  BOOST_TEST(get.status == 0, describe(get));
  BOOST_TEST(get.out == "aws-Value-Delta");

  // Only one newline goes: a value that itself ends in a newline keeps it.
  run_policy({"put", "BuildPackage.AwsSecretAccessKey"}, "two\nlines\n\n");
  BOOST_TEST(run_policy({"get", "-n", "BuildPackage.AwsSecretAccessKey"}).out == "two\nlines\n");
  run_policy({"put", "BuildPackage.AwsSecretAccessKey"}, "crlf\r\n");
  BOOST_TEST(run_policy({"get", "-n", "BuildPackage.AwsSecretAccessKey"}).out == "crlf");
}

BOOST_AUTO_TEST_CASE(put_raw_keeps_the_bytes_exactly) {
  auto put = run_policy({"put", "--raw", "Email.SMTPPassword"}, "kept-newline\n");
  BOOST_TEST(put.status == 0, describe(put));
  BOOST_TEST(run_policy({"get", "-n", "Email.SMTPPassword"}).out == "kept-newline\n");
}

BOOST_AUTO_TEST_CASE(put_prints_the_new_version_id) {
  // env_file versions are keyed per process: only their shape is known here.
  auto put = run_policy({"put", "Email.SMTPPassword"}, "new-smtp-Value\n");
  BOOST_TEST(put.status == 0, describe(put));
  BOOST_TEST(std::regex_match(put.out, std::regex("[0-9a-f]{32}\n")), put.out);
}

BOOST_AUTO_TEST_CASE(put_refuses_a_value_on_the_command_line) {
  auto r = run_policy({"put", "VCS.GithubAdminPAT", "typed-On-The-Command-Line"});
  BOOST_TEST(r.status == 2, describe(r));
  BOOST_TEST(contains(r.err, "standard input"), r.err);
  BOOST_TEST(!contains(r.out + r.err, "typed-On-The-Command-Line"));
  // Nothing was written.
  BOOST_TEST(run_policy({"get", "VCS.GithubAdminPAT"}).out == "ghp-Value-Alpha-7f3a9c\n");
}

BOOST_AUTO_TEST_CASE(put_does_not_repeat_a_first_argument_that_is_no_key) {
  auto r = run_policy({"put", "maybe-A-Value-Typed-Here"});
  BOOST_TEST(r.status == 2, describe(r));
  BOOST_TEST(!contains(r.out + r.err, "maybe-A-Value-Typed-Here"));
  auto option = run_policy({"put", "VCS.GithubAdminPAT", "--value=secret-In-Option"});
  BOOST_TEST(option.status == 2, describe(option));
  BOOST_TEST(contains(option.err, "--value"), option.err);
  BOOST_TEST(!contains(option.out + option.err, "secret-In-Option"));
}

BOOST_AUTO_TEST_CASE(put_refuses_an_empty_value_unless_asked) {
  auto r = run_policy({"put", "Email.SMTPPassword"}, "\n");
  BOOST_TEST(r.status == 2, describe(r));
  BOOST_TEST(contains(r.err, "empty"), r.err);
  BOOST_TEST(run_policy({"get", "-n", "Email.SMTPPassword"}).out == "smtp-Value-Bravo-91be04");
  auto allowed = run_policy({"put", "--allow-empty", "Email.SMTPPassword"}, "");
  BOOST_TEST(allowed.status == 0, describe(allowed));
  BOOST_TEST(run_policy({"get", "-n", "Email.SMTPPassword"}).out == "");
}

BOOST_AUTO_TEST_CASE(put_refuses_an_unknown_key_before_reading_the_value) {
  auto r = run_policy({"put", "Email.SMTPPasword"}, "never-Stored-Value\n");
  BOOST_TEST(r.status == 2, describe(r));
  BOOST_TEST(contains(r.err, "did you mean 'Email.SMTPPassword'"), r.err);
  BOOST_TEST(!contains(r.out + r.err, "never-Stored-Value"));
}

BOOST_AUTO_TEST_CASE(rm_removes_the_key) {
  auto r = run_policy({"rm", "--yes", "Email.SMTPPassword"});
  BOOST_TEST(r.status == 0, describe(r));
  auto get = run_policy({"get", "Email.SMTPPassword"});
  BOOST_TEST(get.status == 3, describe(get));
  BOOST_TEST(get.out == "");
  std::ifstream env(directory / "secrets.env");
  std::stringstream text;
  text << env.rdbuf();
  BOOST_TEST(!contains(text.str(), "Email__SMTPPassword"), text.str());
  BOOST_TEST(contains(text.str(), "VCS__GithubAdminPAT"), text.str());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(exit_statuses, Fixture)

BOOST_AUTO_TEST_CASE(not_found_is_3) {
  auto r = run_policy({"get", "Marketplace.ImportCDNPassword"});
  BOOST_TEST(r.status == 3, describe(r));
  BOOST_TEST(r.out == "");
  BOOST_TEST(contains(r.err, "coffer: "), r.err);
  BOOST_TEST(contains(r.err, "Marketplace.ImportCDNPassword"), r.err);
}

BOOST_AUTO_TEST_CASE(denied_by_the_policy_is_4) {
  write("coffer.json",
        env_policy("secrets.env",
                   R"({"VCS": {"providers": "p", "deny": ["VCS.GithubAdminPAT"]}, "*": "p"})"));
  auto r = run_policy({"get", "VCS.GithubAdminPAT"});
  BOOST_TEST(r.status == 4, describe(r));
  BOOST_TEST(r.out == "");
  BOOST_TEST(contains(r.err, "denies"), r.err);
  BOOST_TEST(run_policy({"get", "Email.SMTPPassword"}).status == 0);
}

BOOST_AUTO_TEST_CASE(usage_errors_are_2) {
  BOOST_TEST(run({}).status == 2);
  BOOST_TEST(run_policy({"get"}).status == 2);
  BOOST_TEST(run_policy({"get", "A.B", "C.D"}).status == 2);
  BOOST_TEST(run_policy({"get", "--bogus", "VCS.GithubAdminPAT"}).status == 2);
  BOOST_TEST(run_policy({"--log-level", "loud", "version"}).status == 2);
  auto unknown = run_policy({"lsit"});
  BOOST_TEST(unknown.status == 2, describe(unknown));
  BOOST_TEST(contains(unknown.err, "unknown command 'lsit' (did you mean 'list'?)"), unknown.err);
  auto option = run_policy({"catalog", "--jsn"});
  BOOST_TEST(option.status == 2, describe(option));
  BOOST_TEST(contains(option.err, "did you mean '--json'"), option.err);
  BOOST_TEST(contains(option.err, "usage: coffer [OPTIONS] catalog"), option.err);
}

BOOST_AUTO_TEST_CASE(a_required_option_left_out_is_2_and_named) {
  auto missing = run_policy({"migrate", "--from", "local"});
  BOOST_TEST(missing.status == 2, describe(missing));
  BOOST_TEST(contains(missing.err, "'migrate' needs --to PROVIDER"), missing.err);
  BOOST_TEST(
      contains(missing.err, "usage: coffer [OPTIONS] migrate --from PROVIDER --to PROVIDER ["),
      missing.err);
  BOOST_TEST(run_policy({"watch"}).status == 2);
}

BOOST_AUTO_TEST_CASE(unknown_keys_are_2_with_the_nearest_name) {
  auto r = run_policy({"get", "VCS.GithubAdminPA"});
  BOOST_TEST(r.status == 2, describe(r));
  BOOST_TEST(contains(r.err, "VCS.GithubAdminPAT"), r.err);
  BOOST_TEST(run_policy({"explain", "VCS.GithubAdminPA"}).status == 2);
  BOOST_TEST(run_policy({"keyname", "not-a-key"}).status == 2);
}

BOOST_AUTO_TEST_CASE(a_bad_policy_is_2_with_file_line_and_column) {
  write("bad.json",
        "{\n  \"coffer\": 1,\n  \"providers\": {\"p\": {\"plugin\": \"env_file\"}},\n"
        "  \"routes\": {\"*\": \"q\"}\n}\n");
  auto r = run({"--policy", "bad.json", "get", "VCS.GithubAdminPAT"});
  BOOST_TEST(r.status == 2, describe(r));
  BOOST_TEST(std::regex_search(r.err, std::regex("bad\\.json:4:[0-9]+")), r.err);
  write("syntax.json", "{\n  \"coffer\": 1,\n  \"providers\": {\n    \"p\" {}\n}\n");
  auto syntax = run({"--policy", "syntax.json", "list"});
  BOOST_TEST(syntax.status == 2, describe(syntax));
  BOOST_TEST(std::regex_search(syntax.err, std::regex("syntax\\.json:4:[0-9]+")), syntax.err);
}

BOOST_AUTO_TEST_CASE(an_unavailable_provider_is_5) {
  const char *memory = std::getenv("COFFER_TEST_MEMORY_PLUGIN_DIR");
  BOOST_TEST_REQUIRE((memory != nullptr && *memory != '\0'),
                     "the core's memory test plugin is needed to produce unavailable");
  write("memory.json", R"({"coffer": 1, "plugin_dirs": [)" + quoted(memory) + R"(],
    "providers": {"m": {"plugin": "memory", "config": {"fail": {
      "VCS.GithubAdminPAT": "unavailable", "Email.SMTPPassword": "timeout"}}}},
    "routes": {"*": "m"}})");
  auto r = run({"--policy", "memory.json", "get", "VCS.GithubAdminPAT"});
  BOOST_TEST(r.status == 5, describe(r));
  BOOST_TEST(run({"--policy", "memory.json", "get", "Email.SMTPPassword"}).status == 5);
  auto check = run({"--policy", "memory.json", "check"});
  BOOST_TEST(check.status == 1, describe(check));
}

// A migration with --update-policy in which one key fails writes back what
// it overwrote in --to, so --to serves what it served before.
BOOST_AUTO_TEST_CASE(a_failed_migrate_with_update_policy_writes_back_what_it_replaced) {
  const char *memory = std::getenv("COFFER_TEST_MEMORY_PLUGIN_DIR");
  BOOST_TEST_REQUIRE((memory != nullptr && *memory != '\0'),
                     "the core's memory test plugin is needed for a source that fails");
  auto read = [this](const std::string &file) {
    std::ifstream in(directory / file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  write_env("target.env", {{"VCS.GithubAdminPAT", "earlier-Target-Value"}});
  write("migrate.json", R"({"coffer": 1, "plugin_dirs": [)" + quoted(memory) + ", " +
                            quoted(plugin_dir.string()) + R"(],
    "providers": {
      "m": {"plugin": "memory", "config": {
        "values": {"VCS.GithubAdminPAT": "moved-Source-Value", "VCS.GitlabAdminPAT": "x"},
        "fail": {"VCS.GitlabAdminPAT": "unavailable"}}},
      "e": {"plugin": "env_file", "config": {"path": )" +
                            quoted((directory / "target.env").string()) + R"(, "writable": true}}},
    "routes": {"VCS": "m", "*": "e"}})");
  std::string before = read("migrate.json");
  auto r = run({"--policy", "migrate.json", "migrate", "--from", "m", "--to", "e", "--category",
                "VCS", "--update-policy", "--json"});
  BOOST_TEST(r.status == 1, describe(r));
  auto summary = boost::json::parse(r.out).as_object();
  BOOST_TEST(summary.at("failed").as_int64() == 1);
  bool noted = false;
  for (const auto &row : summary.at("keys").as_array())
    if (row.at("key") == "VCS.GithubAdminPAT")
      noted = contains(std::string(row.at("note").as_string()),
                       "its previous value in e was written back");
  BOOST_TEST(noted, r.out);
  BOOST_TEST(!summary.at("policy").at("updated").as_bool());
  BOOST_TEST(read("migrate.json") == before);
  std::string target = read("target.env");
  BOOST_TEST(contains(target, "earlier-Target-Value"), target);
  BOOST_TEST(!contains(target, "moved-Source-Value"), target);
  BOOST_TEST(!contains(r.out + r.err, "Value"), describe(r));
}

BOOST_AUTO_TEST_CASE(a_provider_that_never_answers_is_a_timeout_and_the_tool_exits) {
  const char *memory = std::getenv("COFFER_TEST_MEMORY_PLUGIN_DIR");
  BOOST_TEST_REQUIRE((memory != nullptr && *memory != '\0'),
                     "the core's memory test plugin is needed for a provider that never answers");
  // The provider answers neither the get nor, for a minute, the cancel.
  write("hung.json", R"({"coffer": 1, "plugin_dirs": [)" + quoted(memory) + R"(],
    "timeout_ms": 500, "providers": {"m": {"plugin": "memory", "config": {
      "values": {"VCS.GithubAdminPAT": "never-served"}, "hang": ["get"],
      "cancel_delay_ms": 60000}}},
    "routes": {"*": "m"}})");
  ChildProcess child(cli, options({"--policy", "hung.json", "get", "VCS.GithubAdminPAT"}));
  std::atomic<bool> killed{false};
  std::atomic<bool> done{false};
  std::thread watchdog([&] {  // a failure must not hang the suite
    for (int i = 0; i < 300 && !done; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!done) {
      killed = true;
      ::kill(child.pid(), SIGKILL);
    }
  });
  ProcessResult r = child.finish();
  done = true;
  watchdog.join();
  BOOST_TEST(!killed, "coffer get did not end within 30 s");
  BOOST_TEST(r.status == 5, describe(r));
  BOOST_TEST(contains(r.err, "did not answer within 500 ms"), r.err);
  BOOST_TEST(r.out == "");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(policy_sources, CliFixture)

// Three policies over three env files that give the key three values.
struct ThreePolicies : CliFixture {
  ThreePolicies() {
    for (const char *name : {"option", "environment", "default"}) {
      write_env(std::string(name) + ".env", {{"VCS.GithubAdminPAT", std::string("from-") + name}});
      write(std::string(name) == "default" ? "coffer.json" : std::string(name) + ".json",
            env_policy(std::string(name) + ".env"));
    }
  }
};

BOOST_FIXTURE_TEST_CASE(policy_option_beats_the_environment_beats_the_default, ThreePolicies) {
  auto by_option = run({"--policy", "option.json", "get", "VCS.GithubAdminPAT"}, "",
                       {{"COFFER_POLICY", "environment.json"}});
  BOOST_TEST(by_option.out == "from-option\n", describe(by_option));
  auto by_environment =
      run({"get", "VCS.GithubAdminPAT"}, "", {{"COFFER_POLICY", "environment.json"}});
  BOOST_TEST(by_environment.out == "from-environment\n", describe(by_environment));
  auto by_default = run({"get", "VCS.GithubAdminPAT"});
  BOOST_TEST(by_default.out == "from-default\n", describe(by_default));
  // Global options may also follow the command.
  auto after = run({"get", "VCS.GithubAdminPAT", "--policy=option.json"});
  BOOST_TEST(after.out == "from-option\n", describe(after));
}

BOOST_AUTO_TEST_CASE(a_missing_policy_is_2_and_names_where_it_was_looked_for) {
  auto none = run({"get", "VCS.GithubAdminPAT"});
  BOOST_TEST(none.status == 2, describe(none));
  BOOST_TEST(contains(none.err, "./coffer.json"), none.err);
  auto env = run({"get", "VCS.GithubAdminPAT"}, "", {{"COFFER_POLICY", "nowhere.json"}});
  BOOST_TEST(env.status == 2, describe(env));
  BOOST_TEST(contains(env.err, "nowhere.json (COFFER_POLICY)"), env.err);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(inspection, Fixture)

BOOST_AUTO_TEST_CASE(catalog_json_has_the_30_keys) {
  auto r = run({"catalog", "--json"});
  BOOST_TEST(r.status == 0, describe(r));
  json::value catalog = parse_json(r.out);
  const auto &keys = catalog.at("keys").as_array();
  BOOST_TEST(keys.size() == 30u);
  BOOST_TEST(keys.at(0).at("key") == "VCS.BitbucketProjectAdminPAT");
  BOOST_TEST(keys.at(0).at("category") == "VCS");
  BOOST_TEST(keys.at(0).at("group") == "Version Control");
  BOOST_TEST(keys.at(0).at("service") == "Bitbucket");
  BOOST_TEST(!keys.at(0).at("description").as_string().empty());
  auto text = run_policy({"catalog"});
  BOOST_TEST(text.status == 0, describe(text));
  BOOST_TEST(text.out.rfind("KEY ", 0) == 0u, text.out);
  BOOST_TEST(std::count(text.out.begin(), text.out.end(), '\n') == 31);
}

BOOST_AUTO_TEST_CASE(catalog_includes_the_policys_catalog_files) {
  write("extra.json", R"({"keys": [{"key": "Custom.DeployToken", "description": "a token"}]})");
  write("coffer.json",
        R"({"coffer": 1, "catalogs": ["extra.json"], "plugin_dirs": [)" +
            quoted(plugin_dir.string()) +
            R"(], "providers": {"p": {"plugin": "env_file", "config": {"path": "secrets.env"}}},
       "routes": {"*": "p"}})");
  auto r = run({"catalog", "--json"});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(parse_json(r.out).at("keys").as_array().size() == 31u);
}

BOOST_AUTO_TEST_CASE(keyname_shows_the_providers_name) {
  auto r = run_policy({"keyname", "VCS.GithubAdminPAT"});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(std::regex_search(r.out, std::regex("\np +env_file +VCS__GithubAdminPAT\n")), r.out);
  auto one = run_policy({"keyname", "--provider", "p", "VCS.GithubAdminPAT"});
  BOOST_TEST(one.status == 0, describe(one));
  BOOST_TEST(one.out == "VCS__GithubAdminPAT\n");
  BOOST_TEST(run_policy({"keyname", "--provider", "nope", "VCS.GithubAdminPAT"}).status == 2);
  write("coffer.json",
        env_policy("secrets.env",
                   R"({"VCS": {"providers": "p", "deny": ["VCS.GithubAdminPAT"]}, "*": "p"})"));
  BOOST_TEST(run_policy({"keyname", "VCS.GithubAdminPAT"}).status == 4);
  BOOST_TEST(run_policy({"keyname", "--provider", "p", "VCS.GithubAdminPAT"}).out ==
             "VCS__GithubAdminPAT\n");
}

BOOST_AUTO_TEST_CASE(explain_lists_the_chain_and_why) {
  write_env("empty.env", {});
  write("coffer.json", R"({"coffer": 1, "plugin_dirs": [)" + quoted(plugin_dir.string()) + R"(],
    "providers": {"first": {"plugin": "env_file", "config": {"path": "empty.env"}},
                  "second": {"plugin": "env_file", "config": {"path": "secrets.env"}}},
    "routes": {"VCS": ["first", "second"], "*": "second"}})");
  auto r = run_policy({"explain", "VCS.GithubAdminPAT"});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(contains(r.out, "routes.VCS"), r.out);
  BOOST_TEST(std::regex_search(r.out, std::regex("\n1 +first +env_file +VCS__GithubAdminPAT +"
                                                 "not_found +.*continues")),
             r.out);
  BOOST_TEST(
      std::regex_search(r.out, std::regex("\n2 +second +env_file +VCS__GithubAdminPAT +found")),
      r.out);
  auto as_json = run_policy({"explain", "--json", "VCS.GithubAdminPAT"});
  json::value explained = parse_json(as_json.out);
  const auto &chain = explained.at("chain").as_array();
  BOOST_TEST(chain.size() == 2u);
  BOOST_TEST(chain.at(0).at("outcome") == "not_found");
  BOOST_TEST(chain.at(1).at("outcome") == "found");
  BOOST_TEST(chain.at(1).at("provider") == "second");
}

BOOST_AUTO_TEST_CASE(list_shows_keys_names_and_versions) {
  auto r = run_policy({"list"});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(r.out.rfind("PROVIDER  KEY", 0) == 0u, r.out);
  BOOST_TEST(
      std::regex_search(r.out, std::regex("\np +VCS.GithubAdminPAT +VCS__GithubAdminPAT +\\S+\n")),
      r.out);
  // A name that maps to no canonical key shows "-".
  write("secrets.env", "NOT_A_KEY=x\n");
  ::chmod((directory / "secrets.env").c_str(), 0600);
  auto unmapped = run_policy({"list", "p"});
  BOOST_TEST(std::regex_search(unmapped.out, std::regex("\np +- +NOT_A_KEY")), unmapped.out);
  BOOST_TEST(run_policy({"list", "nope"}).status == 2);
}

BOOST_AUTO_TEST_CASE(version_names_coffer_and_the_abi) {
  auto r = run({"version"});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(
      std::regex_match(
          r.out, std::regex("coffer [0-9]+\\.[0-9]+\\.[0-9]+\nprovider ABI [0-9]+\\.[0-9]+\n")),
      r.out);
  // The one version of the project (CMakeLists.txt), which the packages carry too.
  const char *project_version = std::getenv("COFFER_PROJECT_VERSION");
  BOOST_TEST_REQUIRE(project_version != nullptr);
  BOOST_TEST(r.out.starts_with("coffer " + std::string(project_version) + "\n"), r.out);
  BOOST_TEST(run({"--version"}).out == r.out);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(check, Fixture)

BOOST_AUTO_TEST_CASE(check_passes_when_every_key_resolves) {
  std::map<std::string, std::string> all;
  for (const auto &key : catalog_keys(*this)) all[key] = "value-of-" + key;
  write_env("secrets.env", all);
  auto r = run_policy({"check", "--json"});
  BOOST_TEST(r.status == 0, describe(r));
  auto report = parse_json(r.out);
  BOOST_TEST(report.at("ok") == true);
  BOOST_TEST(report.at("keys").as_array().size() == 30u);
  BOOST_TEST(report.at("summary").at("resolved") == 30);
  for (const auto &key : report.at("keys").as_array()) {
    BOOST_TEST(key.at("status") == "resolved");
    BOOST_TEST(key.at("provider") == "p");
  }
  auto text = run_policy({"check"});
  BOOST_TEST(text.status == 0, describe(text));
  BOOST_TEST(contains(text.out, "30 keys: 30 resolved"), text.out);
}

BOOST_AUTO_TEST_CASE(check_fails_when_keys_are_missing) {
  auto r = run_policy({"check", "--json"});
  BOOST_TEST(r.status == 3, describe(r));
  auto report = parse_json(r.out);
  BOOST_TEST(report.at("ok") == false);
  BOOST_TEST(report.at("summary").at("resolved") == 3);
  BOOST_TEST(report.at("summary").at("not_found") == 27);
  auto text = run_policy({"check"});
  BOOST_TEST(text.status == 3, describe(text));
  BOOST_TEST(std::regex_search(text.out, std::regex("\nVCS.GitlabAdminPAT +not_found")), text.out);
}

BOOST_AUTO_TEST_CASE(keys_the_policy_denies_do_not_fail_the_check) {
  std::map<std::string, std::string> all;
  for (const auto &key : catalog_keys(*this)) all[key] = "value-of-" + key;
  write_env("secrets.env", all);
  write("coffer.json",
        env_policy("secrets.env",
                   R"({"VCS": {"providers": "p", "deny": ["VCS.GithubAdminPAT"]}, "*": "p"})"));
  auto r = run_policy({"check", "--json"});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(parse_json(r.out).at("summary").at("denied_by_policy") == 1);
}

namespace {
// The default policy plus a provider `broken` that cannot open, serving Email.
std::string policy_with_a_broken_provider(const CliFixture &f, const std::string &extra = "") {
  return R"({"coffer": 1, "plugin_dirs": [)" + quoted(f.plugin_dir.string()) + R"(],
    "providers": {
    "p": {"plugin": "env_file", "config": {"path": "secrets.env"}},
    "broken": {"plugin": "env_file", "config": {"path": "secrets.env", "no_such_field": 1}}},
    "routes": {"Email": "broken", "*": "p"})" +
         extra + "}";
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_provider_that_does_not_open_fails_the_check_and_the_others_serve) {
  write("coffer.json", policy_with_a_broken_provider(*this));
  auto r = run_policy({"check", "--json"});
  BOOST_TEST(r.status == 1, describe(r));
  auto report = parse_json(r.out);
  BOOST_TEST(report.at("loaded") == true);
  BOOST_TEST(report.at("ok") == false);
  const auto &problems = report.at("problems").as_array();
  BOOST_TEST_REQUIRE(problems.size() == 1u);
  std::string problem(problems[0].as_string());
  BOOST_TEST(contains(problem, "provider 'broken'"), problem);
  BOOST_TEST(contains(problem, "coffer.json:4:"), problem);
  for (const auto &p : report.at("providers").as_array())
    BOOST_TEST(p.at("isolated") == (p.at("name") == "broken"));
  auto text = run_policy({"check"});
  BOOST_TEST(text.status == 1, describe(text));
  BOOST_TEST(contains(text.out, "provider: broken (plugin env_file) isolated"), text.out);
  // The others serve; the isolated provider's keys are unavailable, saying why.
  BOOST_TEST(run_policy({"get", "VCS.GithubAdminPAT"}).status == 0);
  auto email = run_policy({"get", "Email.SMTPPassword"});
  BOOST_TEST(email.status == 5, describe(email));
  BOOST_TEST(contains(email.err, "no_such_field"), email.err);
}

BOOST_AUTO_TEST_CASE(reading_commands_work_while_a_provider_does_not_open_even_with_fail) {
  write("coffer.json", policy_with_a_broken_provider(*this, R"(, "on_open_failure": "fail")"));
  auto get = run_policy({"get", "VCS.GithubAdminPAT"});
  BOOST_TEST(get.status == 2, describe(get));
  BOOST_TEST(contains(get.err, "provider 'broken'"), get.err);
  auto catalog = run_policy({"catalog"});
  BOOST_TEST(catalog.status == 0, describe(catalog));
  BOOST_TEST(contains(catalog.out, "VCS.GithubAdminPAT"), catalog.out);
  auto keyname = run_policy({"keyname", "VCS.GithubAdminPAT"});
  BOOST_TEST(keyname.status == 0, describe(keyname));
  BOOST_TEST(contains(keyname.out, "VCS__GithubAdminPAT"), keyname.out);
  auto explain = run_policy({"explain", "Email.SMTPPassword"});
  BOOST_TEST(explain.status == 0, describe(explain));
  BOOST_TEST(contains(explain.out, "unavailable"), explain.out);
  BOOST_TEST(contains(explain.out, "no_such_field"), explain.out);
  auto check = run_policy({"check"});
  BOOST_TEST(check.status == 2, describe(check));  // the policy itself asks to fail
}

BOOST_AUTO_TEST_CASE(check_of_a_policy_that_does_not_load_is_2) {
  write("coffer.json", R"({"coffer": 1, "providers": {}})");
  auto r = run_policy({"check", "--json"});
  BOOST_TEST(r.status == 2, describe(r));
  auto report = parse_json(r.out);
  BOOST_TEST(report.at("ok") == false);
  BOOST_TEST(report.at("loaded") == false);
  BOOST_TEST(report.at("problems").as_array().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(plugins, Fixture)

BOOST_AUTO_TEST_CASE(plugins_lists_env_file_and_a_refused_file_with_the_reason) {
  auto unsafe = directory / "unsafe-plugins";
  std::filesystem::create_directory(unsafe);
  ::chmod(unsafe.c_str(), 0700);
  std::filesystem::copy_file(plugin_dir / "libenv_file.so", unsafe / "libcopied.so");
  ::chmod((unsafe / "libcopied.so").c_str(), 0664);
  write("coffer.json", R"({"coffer": 1, "plugin_dirs": [)" + quoted(plugin_dir.string()) +
                           R"(, "unsafe-plugins"], "providers": {"p": {"plugin": "env_file",
       "config": {"path": "secrets.env"}}}, "routes": {"*": "p"}})");
  auto r = run_policy({"plugins"});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(std::regex_search(r.out, std::regex("libenv_file\\.so +env_file +\\S+ +1\\.[0-9]+ +"
                                                 "get,put,remove,list,\\S* +ok")),
             r.out);
  BOOST_TEST(std::regex_search(r.out, std::regex("libcopied\\.so .*refused: .*writable by group")),
             r.out);
  auto as_json = run_policy({"plugins", "--json"});
  bool env_file = false;
  bool refused = false;
  json::value listed = parse_json(as_json.out);
  for (const auto &p : listed.at("plugins").as_array()) {
    if (p.at("loadable") == true && p.at("name") == "env_file") {
      env_file = true;
      const auto &caps = p.at("capabilities").as_array();
      BOOST_TEST((std::find(caps.begin(), caps.end(), json::value("get")) != caps.end()));
    }
    if (p.at("loadable") == false)
      refused = contains(std::string(p.at("refusal").as_string()), "writable");
  }
  BOOST_TEST(env_file);
  BOOST_TEST(refused);
}

BOOST_AUTO_TEST_CASE(plugins_works_when_the_policy_does_not_load) {
  // The only plugin directory holds an unsafe copy: the provider cannot load.
  auto unsafe = directory / "unsafe-plugins";
  std::filesystem::create_directory(unsafe);
  ::chmod(unsafe.c_str(), 0700);
  std::filesystem::copy_file(plugin_dir / "libenv_file.so", unsafe / "libenv_file.so");
  ::chmod((unsafe / "libenv_file.so").c_str(), 0666);
  write("coffer.json", R"({"coffer": 1, "plugin_dirs": ["unsafe-plugins"], "providers":
       {"p": {"plugin": "env_file", "config": {"path": "secrets.env"}}}, "routes": {"*": "p"},
       "on_open_failure": "fail"})");
  BOOST_TEST(run_policy({"get", "VCS.GithubAdminPAT"}).status == 2);
  auto r = run_policy({"plugins"});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(contains(r.err, "did not load"), r.err);
  BOOST_TEST(
      std::regex_search(r.out, std::regex("unsafe-plugins/libenv_file\\.so .*refused: .*writable")),
      r.out);
}

BOOST_AUTO_TEST_CASE(a_fifo_as_the_policy_is_refused_at_once_by_every_command) {
  auto fifo = directory / "fifo.json";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Should a command wait for a writer after all, one comes every 100 ms
  // with a valid policy, so that the test fails on its assertions instead of
  // hanging.
  std::atomic<bool> done{false};
  std::string policy = env_policy();
  std::thread writer([&] {
    while (!done) {
      int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) {
        (void)!::write(fd, policy.data(), policy.size());
        ::close(fd);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  auto get = run({"--policy", "fifo.json", "get", "VCS.GithubAdminPAT"});
  auto plugins = run({"--policy", "fifo.json", "plugins"});
  done = true;
  writer.join();
  BOOST_TEST(get.status == 2, describe(get));
  BOOST_TEST(contains(get.err, "FIFO"), get.err);
  BOOST_TEST(plugins.status == 0, describe(plugins));
  BOOST_TEST(contains(plugins.err, "FIFO"), plugins.err);
}

BOOST_AUTO_TEST_CASE(plugins_says_it_loads_and_where_it_looked_when_it_finds_nothing) {
  std::filesystem::create_directory(directory / "empty");
  std::filesystem::create_directory(directory / "also-empty");
  write("coffer.json", R"({"coffer": 1, "plugin_dirs": ["empty"], "providers": {}, "routes": {}})");
  auto r = run({"--policy", "coffer.json", "plugins"}, "",
               {{"COFFER_PLUGIN_PATH", (directory / "also-empty").string()}});
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(contains(r.err, "loading a library runs its initialisers"), r.err);
  BOOST_TEST(contains(r.err, "no plugin file (*.so) found; directories searched:"), r.err);
  BOOST_TEST(contains(r.err, "\n  " + (directory / "empty").string() + "\n"), r.err);
  BOOST_TEST(contains(r.err, "\n  " + (directory / "also-empty").string() + "\n"), r.err);
  auto as_json = run({"--policy", "coffer.json", "plugins", "--json"}, "",
                     {{"COFFER_PLUGIN_PATH", (directory / "also-empty").string()}});
  json::value listed = parse_json(as_json.out);
  BOOST_TEST(listed.at("plugins").as_array().empty());
  const auto &searched = listed.at("directories").as_array();
  BOOST_TEST_REQUIRE(searched.size() >= 2u);
  BOOST_TEST(searched.at(0) == json::value((directory / "empty").string()));
  BOOST_TEST(searched.at(1) == json::value((directory / "also-empty").string()));
  auto quiet = run({"--policy", "coffer.json", "--quiet", "plugins"});
  BOOST_TEST(!contains(quiet.err, "initialisers"), quiet.err);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(hygiene, Fixture)

// Arguments come back in messages with their control characters escaped, and
// not at all when they are not shaped like what was expected (a key name, a
// command or option name, a provider of the policy): such an argument may be
// a value pasted in the wrong place.
BOOST_AUTO_TEST_CASE(arguments_are_echoed_escaped_or_not_at_all) {
  const std::string value = "ghp-Pasted-Value-9c1e";
  const std::string escape = "VCS.Github\x1b[31mAdminPAT";
  const std::string newline = "VCS.Github\nAdminPAT";
  std::vector<std::vector<std::string>> commands = {
      {"get", value},
      {"get", escape},
      {"rm", newline},
      {"explain", value},
      {"keyname", escape},
      {"keyname", "--provider", value, "VCS.GithubAdminPAT"},
      {"list", value},
      {"list", escape},
      {"watch", value},
      {"watch", "VCS", "Email", escape},
      {"watch", "--interval", value, "VCS"},
      {"migrate", "--from", "p", "--to", value},
      {"migrate", "--from", value, "--to", "p"},
      {"migrate", "--from", "p", "--to", "q", "--key", value},
      {"migrate", "--from", "p", "--to", "q", "--category", escape},
      {"db", "verify", "--provider", value},
      {value},
      {"\x1b]0;title\x07"},
      {"db", value},
      {"help", value},
      {"catalog", "--" + value},
      {"catalog", "--js\x1b[2Jon"},
      {"--log-level", value, "version"},
  };
  for (const auto &command : commands) {
    auto r = run_policy(command);
    std::string shown;
    for (const auto &a : command) shown += " [" + a + "]";
    BOOST_TEST(r.status == 2, shown << "\n" << describe(r));
    BOOST_TEST(!contains(r.out + r.err, value), shown << "\n" << r.err);
    BOOST_TEST(!contains(r.out + r.err, "\x1b"), shown << "\n" << r.err);
    BOOST_TEST(!contains(r.out + r.err, "\x07"), shown << "\n" << r.err);
    BOOST_TEST(!contains(r.out + r.err, "[31m"), shown << "\n" << r.err);
    BOOST_TEST(!contains(r.err, "Github\nAdmin"), shown << "\n" << r.err);
  }
  // What is repeated is escaped: a file name is always shown.
  auto missing = run({"--policy", "no\x1b[2Jsuch\npolicy.json", "get", "VCS.GithubAdminPAT"});
  BOOST_TEST(missing.status == 2, describe(missing));
  BOOST_TEST(contains(missing.err, "no\\x1b[2Jsuch\\npolicy.json"), missing.err);
  BOOST_TEST(!contains(missing.err, "\x1b"), missing.err);
  BOOST_TEST(std::count(missing.err.begin(), missing.err.end(), '\n') == 1, missing.err);
  // Shaped like a name, an unknown command or key is still named, to help.
  BOOST_TEST(contains(run_policy({"lsit"}).err, "'lsit'"));
  BOOST_TEST(contains(run_policy({"get", "VCS.GithubAdminPA"}).err, "'VCS.GithubAdminPA'"));
  BOOST_TEST(contains(run_policy({"list", "q"}).err, "it has: p"));
}

BOOST_AUTO_TEST_CASE(no_command_but_get_prints_a_stored_value) {
  std::vector<std::vector<std::string>> commands = {
      {"list"},
      {"list", "p"},
      {"list", "--json"},
      {"catalog"},
      {"catalog", "--json"},
      {"keyname", "VCS.GithubAdminPAT"},
      {"keyname", "--provider", "p", "Email.SMTPPassword"},
      {"explain", "VCS.GithubAdminPAT"},
      {"explain", "--json", "Email.SMTPPassword"},
      {"explain", "CIAdmin.JenkinsTriggerAuthToken"},
      {"check"},
      {"check", "--json"},
      {"plugins"},
      {"plugins", "--json"},
      {"version"},
      {"db", "verify"},
      {"help", "get"},
      {"put", "Marketplace.ImportCDNPassword"},
      {"put", "Marketplace.ImportCDNPassword", "ghp-Value-Alpha-7f3a9c"},
      {"put", "ghp-Value-Alpha-7f3a9c"},
      {"get", "VCS.GithubAdminPAT", "ghp-Value-Alpha-7f3a9c"},
      {"rm", "--yes", "CIAdmin.JenkinsTriggerAuthToken"},
      {"explain", "CIAdmin.JenkinsTriggerAuthToken"},
  };
  for (const char *level : {"debug", "warning"}) {
    for (const auto &command : commands) {
      std::vector<std::string> arguments{"--log-level", level};
      arguments.insert(arguments.end(), command.begin(), command.end());
      // put stores a value of its own, which must not be echoed either.
      auto r = run_policy(arguments, "Put-Value-Echo-3e1f\n");
      std::string both = r.out + r.err;
      for (const auto &[key, value] : stored_values())
        BOOST_TEST(!contains(both, value), "'" << command.front() << "' printed " << key);
      BOOST_TEST(!contains(both, "Put-Value-Echo-3e1f"), "'" << command.front() << "' echoed");
    }
    write_env("secrets.env", stored_values());
  }
}

BOOST_AUTO_TEST_CASE(core_dumps_are_off_and_the_prompt_does_not_echo) {
  // A pseudo-terminal as standard input: what the terminal echoes shows up
  // on its master side.
  auto [master, terminal] = coffer::test::open_pseudo_terminal();
  BOOST_TEST_REQUIRE(master >= 0);
  BOOST_TEST_REQUIRE(terminal >= 0);
  auto spawn = options({"--policy", "coffer.json", "put", "Marketplace.ImportCDNPassword"});
  spawn.stdin_fd = terminal;
  spawn.detach_from_terminal = true;
  ProcessResult result;
  std::string limits;
  {
    ChildProcess child(cli, spawn);
    ::close(terminal);
    // The prompt appears once echo is off (and long after the process
    // hardened itself).
    child.read_stderr_until("(input hidden): ");
    std::ifstream in("/proc/" + std::to_string(child.pid()) + "/limits");
    std::stringstream text;
    text << in.rdbuf();
    limits = text.str();
    const std::string typed = "Typed-At-The-Prompt-42\n";
    BOOST_TEST(::write(master, typed.data(), typed.size()) == static_cast<ssize_t>(typed.size()));
    child.read_stderr_until("Repeat the value: ");
    BOOST_TEST(::write(master, typed.data(), typed.size()) == static_cast<ssize_t>(typed.size()));
    result = child.finish();
  }
  std::string echoed = coffer::test::drain_and_close(master);
  BOOST_TEST(result.status == 0, describe(result));
  BOOST_TEST(!contains(echoed, "Typed-At"), echoed);
  BOOST_TEST(!contains(result.out + result.err, "Typed-At"));
  BOOST_TEST(std::regex_search(limits, std::regex("Max core file size +0 +0 ")), limits);
  BOOST_TEST(run_policy({"get", "Marketplace.ImportCDNPassword"}).out ==
             "Typed-At-The-Prompt-42\n");
}

BOOST_AUTO_TEST_CASE(two_different_entries_at_the_prompt_store_nothing) {
  auto [master, terminal] = coffer::test::open_pseudo_terminal();
  BOOST_TEST_REQUIRE(master >= 0);
  BOOST_TEST_REQUIRE(terminal >= 0);
  auto spawn = options({"--policy", "coffer.json", "put", "VCS.GithubAdminPAT"});
  spawn.stdin_fd = terminal;
  spawn.detach_from_terminal = true;
  ProcessResult result;
  {
    ChildProcess child(cli, spawn);
    ::close(terminal);
    child.read_stderr_until("(input hidden): ");
    BOOST_TEST(::write(master, "first\n", 6) == 6);
    child.read_stderr_until("Repeat the value: ");
    BOOST_TEST(::write(master, "second\n", 7) == 7);
    result = child.finish();
  }
  ::close(master);
  BOOST_TEST(result.status == 2, describe(result));
  BOOST_TEST(contains(result.err, "differ"), result.err);
  BOOST_TEST(run_policy({"get", "VCS.GithubAdminPAT"}).out == "ghp-Value-Alpha-7f3a9c\n");
}

BOOST_AUTO_TEST_SUITE_END()

// `watch`: a line per change of a watched key, in the format docs/cli.md shows.
struct WatchFixture : Fixture {
  // Changes `key` until `watch` reports it: a line proves that the first read
  // of every watched key (which only sets the baseline) is behind us.
  void wait_for_the_baseline(ChildProcess &watch, const std::string &key) const {
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto put = run_policy({"put", key}, "baseline-" + std::to_string(attempt) + "\n");
      BOOST_TEST_REQUIRE(put.status == 0, describe(put));
      std::string out =
          watch.read_stdout_until("  " + key + "  p:", std::chrono::milliseconds(500));
      if (contains(out, "  " + key + "  p:")) return;
    }
    BOOST_FAIL("watch never reported a change of " + key);
  }
};

BOOST_FIXTURE_TEST_SUITE(watching, WatchFixture)

BOOST_AUTO_TEST_CASE(watch_reports_a_key_that_appears_and_one_that_goes) {
  // VCS.GitlabAdminPAT is in no provider when watch starts.
  ChildProcess watch(cli,
                     options({"--policy", "coffer.json", "watch", "--interval", "0.05", "VCS"}));
  watch.read_stderr_until("watching");
  wait_for_the_baseline(watch, "VCS.GithubAdminPAT");

  auto added = run_policy({"put", "VCS.GitlabAdminPAT"}, "gitlab-Appearing-Value\n");
  BOOST_TEST_REQUIRE(added.status == 0, describe(added));
  std::string out =
      watch.read_stdout_until("  VCS.GitlabAdminPAT  -:- -> p:", std::chrono::seconds(30));
  std::regex appeared("\\S+Z  VCS\\.GitlabAdminPAT  -:- -> p:\\S+\n");
  BOOST_TEST(std::regex_search(out, appeared), out);

  auto removed = run_policy({"rm", "--yes", "VCS.GitlabAdminPAT"});
  BOOST_TEST_REQUIRE(removed.status == 0, describe(removed));
  out = watch.read_stdout_until(" -> -:-\n", std::chrono::seconds(30));
  std::regex gone("\\S+Z  VCS\\.GitlabAdminPAT  p:\\S+ -> -:-\n");
  BOOST_TEST(std::regex_search(out, gone), out);

  ::kill(watch.pid(), SIGTERM);
  ProcessResult r = watch.finish();
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(!contains(r.out + r.err, "Value"), r.out);
}

BOOST_AUTO_TEST_CASE(watch_json_has_null_for_what_is_not_there) {
  ChildProcess watch(cli, options({"--policy", "coffer.json", "watch", "--json", "--interval",
                                   "0.05", "Email.SMTPPassword"}));
  watch.read_stderr_until("watching");
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto put = run_policy({"put", "Email.SMTPPassword"}, "baseline-" + std::to_string(attempt));
    BOOST_TEST_REQUIRE(put.status == 0, describe(put));
    if (contains(watch.read_stdout_until("\n", std::chrono::milliseconds(500)), "\n")) break;
  }
  auto removed = run_policy({"rm", "--yes", "Email.SMTPPassword"});
  BOOST_TEST_REQUIRE(removed.status == 0, describe(removed));
  std::string out = watch.read_stdout_until("\"provider\":null", std::chrono::seconds(30));
  ::kill(watch.pid(), SIGTERM);
  ProcessResult r = watch.finish();
  BOOST_TEST(r.status == 0, describe(r));
  std::istringstream lines(r.out);
  std::vector<json::value> events;
  for (std::string line; std::getline(lines, line);) events.push_back(json::parse(line));
  BOOST_TEST_REQUIRE(events.size() >= 2u, r.out);
  const json::value &gone = events.back();
  BOOST_TEST(gone.at("key") == "Email.SMTPPassword");
  BOOST_TEST(gone.at("provider").is_null(), r.out);
  BOOST_TEST(gone.at("new_version").is_null(), r.out);
  BOOST_TEST(gone.at("old_provider") == "p");
  BOOST_TEST(gone.at("old_version").is_string());
}

BOOST_AUTO_TEST_SUITE_END()

// The examples of docs/cli.md are what the program prints, in a directory set
// up as the examples assume (its path shown as /etc/pmp).
struct DocsFixture : CliFixture {
  // The lines docs/cli.md shows after "$ coffer ARGUMENTS", up to the next
  // "$ " line or the end of the block.
  static std::vector<std::string> example(const std::string &arguments) {
    const char *source = std::getenv("COFFER_SOURCE_DIR");
    BOOST_TEST_REQUIRE(source != nullptr);
    std::ifstream in(std::filesystem::path(source) / "docs" / "cli.md");
    BOOST_TEST_REQUIRE(in.good());
    std::vector<std::string> lines;
    bool block = false;
    bool found = false;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("```", 0) == 0) {
        if (found) return lines;
        block = !block;
      } else if (block && found) {
        if (line.rfind("$ ", 0) == 0) return lines;
        lines.push_back(line);
      } else if (block && line == "$ coffer " + arguments) {
        found = true;
      }
    }
    BOOST_FAIL("docs/cli.md has no example of 'coffer " + arguments + "'");
    return lines;
  }

  // Whether `printed` is what `shown` shows, a "..." line standing for any
  // number of lines.
  static bool shows(std::span<const std::string> shown, std::span<const std::string> printed) {
    if (shown.empty()) return printed.empty();
    if (shown.front() == "...")
      for (std::size_t skip = 0; skip <= printed.size(); ++skip)
        if (shows(shown.subspan(1), printed.subspan(skip))) return true;
    return !printed.empty() && shown.front() == printed.front() &&
           shows(shown.subspan(1), printed.subspan(1));
  }

  // Runs `coffer ARGUMENTS` with COFFER_POLICY naming `policy` and checks its
  // standard output against the documented example.
  void check_example(const std::string &arguments, const std::string &policy) const {
    std::vector<std::string> words;
    std::istringstream split(arguments);
    for (std::string word; split >> word;) words.push_back(word);
    auto r = run(words, "", {{"COFFER_POLICY", (directory / policy).string()}});
    BOOST_TEST_REQUIRE(r.status == 0, describe(r));
    std::string out = std::regex_replace(r.out, std::regex(directory.string()), "/etc/pmp");
    std::vector<std::string> printed;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) printed.push_back(line);
    std::vector<std::string> shown = example(arguments);
    std::string expected;
    for (const auto &line : shown) expected += line + "\n";
    BOOST_TEST(shows(shown, printed), "coffer " << arguments << " prints:\n"
                                                << out << "docs/cli.md shows:\n"
                                                << expected);
  }
};

BOOST_FIXTURE_TEST_SUITE(documented_examples, DocsFixture)

BOOST_AUTO_TEST_CASE(version_and_the_abi_of_plugins) {
  auto version = run({"version"});
  std::string documented;
  for (const auto &line : example("version")) documented += line + "\n";
  BOOST_TEST(version.out == documented);
  std::string abi = version.out.substr(version.out.rfind(' ') + 1);
  abi.pop_back();
  for (const auto &line : example("plugins")) {
    std::smatch row;
    if (std::regex_search(line, row, std::regex("^\\S+ +\\S+ +\\S+ +(\\S+) +\\S+ +ok$")))
      BOOST_TEST(row[1].str() == abi, line);
  }
}

BOOST_AUTO_TEST_CASE(explain) {
  write_env("overrides.env", {});
  write_env("local.env", {{"VCS.GithubAdminPAT", "ghp-Documented-Value"}});
  write("coffer.json", R"({"coffer": 1, "plugin_dirs": [)" + quoted(plugin_dir.string()) + R"(],
    "providers": {"overrides": {"plugin": "env_file", "config": {"path": "overrides.env"}},
                  "local": {"plugin": "env_file", "config": {"path": "local.env"}}},
    "routes": {"VCS": {"providers": ["overrides", "local"], "deny": ["VCS.GitlabAdminPAT"]},
               "*": "local"}})");
  check_example("explain VCS.GithubAdminPAT", "coffer.json");
  check_example("explain VCS.GitlabAdminPAT", "coffer.json");
}

BOOST_AUTO_TEST_CASE(migrate) {
  std::map<std::string, std::string> in_db;
  for (const char *name :
       {"AzureDevOpsOrgAdminPAT", "BitbucketAdminPassword", "BitbucketProjectAdminPAT",
        "GithubAdminPAT", "GithubEnterpriseClientSecret", "GithubOrgOwnerPAT",
        "GitlabGroupOwnerPAT"})
    in_db[std::string("VCS.") + name] = std::string("db-Value-") + name;
  write_env("db.env", in_db);
  write_env("vault.env", {{"VCS.GitlabGroupOwnerPAT", "an-Older-Value"}});
  write("coffer.json", "{\n  \"coffer\": 1,\n  \"plugin_dirs\": [" + quoted(plugin_dir.string()) +
                           "],\n  \"providers\": {\n"
                           "    \"db\": {\"plugin\": \"env_file\", \"config\": "
                           "{\"path\": \"db.env\", \"writable\": true}},\n"
                           "    \"vault\": {\"plugin\": \"env_file\", \"config\": "
                           "{\"path\": \"vault.env\", \"writable\": true}}\n"
                           "  },\n  \"routes\": {\n    \"*\": \"db\"\n  }\n}\n");
  check_example("migrate --from db --to vault --category VCS --dry-run", "coffer.json");
  check_example("migrate --from db --to vault --category VCS --update-policy", "coffer.json");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(help, Fixture)

BOOST_AUTO_TEST_CASE(every_command_has_help) {
  const std::vector<std::vector<std::string>> names = {{"get"},
                                                       {"put"},
                                                       {"rm"},
                                                       {"list"},
                                                       {"catalog"},
                                                       {"keyname"},
                                                       {"explain"},
                                                       {"check"},
                                                       {"plugins"},
                                                       {"version"},
                                                       {"db"},
                                                       {"db", "init"},
                                                       {"db", "rotate-master-key"},
                                                       {"db", "rekey"},
                                                       {"db", "verify"},
                                                       {"help"}};
  auto top = run({"--help"});
  BOOST_TEST(top.status == 0, describe(top));
  for (const auto &name : names) {
    std::string joined = name.size() == 1 ? name[0] : name[0] + " " + name[1];
    BOOST_TEST(contains(top.out, "\n  " + joined), joined);
    std::vector<std::string> with_help = name;
    with_help.push_back("--help");
    std::vector<std::string> via_help{"help"};
    via_help.insert(via_help.end(), name.begin(), name.end());
    for (const auto &arguments : {with_help, via_help}) {
      auto r = run(arguments);
      BOOST_TEST(r.status == 0, joined << ": " << describe(r));
      BOOST_TEST(r.out.rfind("usage: coffer [OPTIONS] " + joined, 0) == 0u, r.out);
    }
  }
  BOOST_TEST(run({"help", "nonsense"}).status == 2);
  BOOST_TEST(run({"-h"}).out == top.out);
}

BOOST_AUTO_TEST_SUITE_END()
