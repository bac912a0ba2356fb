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
#include <sstream>
#include <thread>

#include "cli_fixture.hpp"

namespace json = boost::json;
using coffer::test::ChildProcess;
using coffer::test::CliFixture;
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

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

std::string describe(const ProcessResult &r) {
  return "status " + std::to_string(r.status) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

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
  auto r = run_policy({"rm", "Email.SMTPPassword"});
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

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(hygiene, Fixture)

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
      {"rm", "CIAdmin.JenkinsTriggerAuthToken"},
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
