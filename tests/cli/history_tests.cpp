// `coffer history`, `get --version` and `rm --purge`: the database provider
// for history (a store kept between runs of the tool), the Key Vault emulator
// for soft delete and purge, the env_file provider for what keeps neither.
#define BOOST_TEST_MODULE cli_history_tests
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <regex>

#include "cli_fixture.hpp"
#include "kv_fixture.hpp"

namespace json = boost::json;
using coffer::test::CliFixture;
using coffer::test::contains;
using coffer::test::describe;
using coffer::test::ProcessResult;
using coffer::test::quoted;

namespace {

// db.json: the database at creds.db, initialised; env.json: the env file.
struct DatabaseFixture : CliFixture {
  DatabaseFixture() {
    write("env.json", env_policy());
    const std::string policy =
        R"({"coffer": 1, "plugin_dirs": [)" + quoted(plugin_dir.string()) +
        R"(], "providers": {"db": {"plugin": "database", "config": {"url": )" +
        quoted("sqlite://" + (directory / "creds.db").string()) +
        R"(, "master_key": {"file": "master.key"}}}}, "routes": {"*": "db"}})";
    write("db.json", policy);
    write("coffer.json", policy);  // the policy run_on_terminal names
    auto init = run({"--policy", "db.json", "db", "init"});
    BOOST_TEST_REQUIRE(init.status == 0, describe(init));
  }
  ProcessResult db(std::vector<std::string> arguments, const std::string &input = {}) const {
    arguments.insert(arguments.begin(), {"--policy", "db.json"});
    return run(arguments, input);
  }
};

// kv.json: the emulated vault, with the world's workload identity files.
struct VaultFixture : CliFixture {
  VaultFixture() {
    write("kv.json", R"({"coffer": 1, "plugin_dirs": [)" + quoted(plugin_dir.string()) +
                         R"(], "providers": {"kv": {"plugin": "azure_keyvault", "config": )" +
                         world.config() + R"(}}, "routes": {"*": "kv"}})");
  }
  ProcessResult kv(std::vector<std::string> arguments, const std::string &input = {}) const {
    arguments.insert(arguments.begin(), {"--policy", "kv.json"});
    return run(arguments, input);
  }
  kvtest::World world;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(history, DatabaseFixture)

BOOST_AUTO_TEST_CASE(history_lists_versions_newest_first_with_utc_times) {
  for (const char *value : {"one\n", "two\n", "three\n"})
    BOOST_TEST_REQUIRE(db({"put", "Email.SMTPPassword"}, value).status == 0);
  auto r = db({"history", "Email.SMTPPassword"});
  BOOST_TEST_REQUIRE(r.status == 0, describe(r));
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  BOOST_TEST(std::regex_match(line, std::regex("VERSION +CREATED +ENABLED")), line);
  const std::regex row("([0-9]+) +([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z) +yes");
  std::vector<std::string> versions;
  while (std::getline(lines, line)) {
    std::smatch match;
    BOOST_TEST_REQUIRE(std::regex_match(line, match, row), line);
    versions.push_back(match[1]);
  }
  BOOST_TEST(versions == (std::vector<std::string>{"3", "2", "1"}),
             boost::test_tools::per_element());
  BOOST_TEST(!contains(r.out + r.err, "one"));  // never a value

  auto json_out = db({"history", "Email.SMTPPassword", "--json"});
  BOOST_TEST_REQUIRE(json_out.status == 0, describe(json_out));
  json::value parsed = json::parse(json_out.out);
  const json::array &entries = parsed.at("versions").as_array();
  BOOST_TEST_REQUIRE(entries.size() == 3u);
  BOOST_TEST(entries[0].at("version").as_string() == "3");
  BOOST_TEST(entries[0].at("enabled").as_bool());
  BOOST_TEST(entries[0].at("created_unix_ms").as_int64() > 0);
  BOOST_TEST(std::string(entries[0].at("created").as_string()).back() == 'Z');
}

BOOST_AUTO_TEST_CASE(get_json_carries_when_the_version_was_written) {
  BOOST_TEST_REQUIRE(db({"put", "Email.SMTPPassword"}, "one\n").status == 0);
  BOOST_TEST_REQUIRE(db({"put", "Email.SMTPPassword"}, "two\n").status == 0);
  auto listed = db({"history", "Email.SMTPPassword", "--json"});
  BOOST_TEST_REQUIRE(listed.status == 0, describe(listed));
  const json::value history = json::parse(listed.out);
  const json::value &newest = history.at("versions").at(0);
  const json::value &oldest = history.at("versions").at(1);
  for (const char *flag : {"--json", "--metadata"}) {
    auto r = db({"get", "Email.SMTPPassword", flag});
    BOOST_TEST_REQUIRE(r.status == 0, describe(r));
    json::object object = json::parse(r.out).as_object();
    BOOST_TEST(object.at("version") == newest.at("version"));
    BOOST_TEST(object.at("created") == newest.at("created"));
    BOOST_TEST(object.at("created_unix_ms") == newest.at("created_unix_ms"));
  }
  // A named version carries its own time.
  auto old = db({"get", "Email.SMTPPassword", "--metadata", "--version", "1"});
  BOOST_TEST_REQUIRE(old.status == 0, describe(old));
  BOOST_TEST(json::parse(old.out).at("created_unix_ms") == oldest.at("created_unix_ms"));
  BOOST_TEST(!contains(old.out, "one"));
}

BOOST_AUTO_TEST_CASE(rm_on_a_terminal_counts_the_versions_that_go) {
  for (const char *value : {"one\n", "two\n", "three\n"})
    BOOST_TEST_REQUIRE(db({"put", "Email.SMTPPassword"}, value).status == 0);
  auto r = run_on_terminal({"rm", "Email.SMTPPassword"}, "[y/N] ", "n\n");
  BOOST_TEST(r.status == 6, describe(r));
  BOOST_TEST(contains(r.err, "with all 3 versions the provider keeps of it"), r.err);
  BOOST_TEST(db({"get", "Email.SMTPPassword"}).out == "three\n");
}

BOOST_AUTO_TEST_CASE(get_version_reads_an_earlier_version_like_version_id) {
  BOOST_TEST_REQUIRE(db({"put", "Email.SMTPPassword"}, "one\n").status == 0);
  BOOST_TEST_REQUIRE(db({"put", "Email.SMTPPassword"}, "two\n").status == 0);
  auto old = db({"get", "Email.SMTPPassword", "--version", "1"});
  BOOST_TEST(old.status == 0, describe(old));
  BOOST_TEST(old.out == "one\n");
  auto same = db({"get", "Email.SMTPPassword", "--version", "1", "--version-id", "1"});
  BOOST_TEST(same.out == "one\n", describe(same));
  auto clash = db({"get", "Email.SMTPPassword", "--version", "1", "--version-id", "2"});
  BOOST_TEST(clash.status == 2, describe(clash));
  BOOST_TEST(clash.out.empty());
}

BOOST_AUTO_TEST_CASE(history_has_help_and_rm_documents_purge) {
  auto top = run({"--help"});
  BOOST_TEST(contains(top.out, "\n  history"), top.out);
  auto help = run({"history", "--help"});
  BOOST_TEST(help.status == 0, describe(help));
  BOOST_TEST(contains(help.out, "newest"), help.out);
  auto rm = run({"rm", "--help"});
  BOOST_TEST(contains(rm.out, "--purge"), rm.out);
}

BOOST_AUTO_TEST_CASE(a_missing_key_has_no_history) {
  auto r = db({"history", "Email.SMTPPassword"});
  BOOST_TEST(r.status == 3, describe(r));
}

BOOST_AUTO_TEST_CASE(a_provider_without_history_is_an_error_naming_it) {
  auto r = run({"--policy", "env.json", "history", "Email.SMTPPassword"});
  BOOST_TEST(r.status == 1, describe(r));
  BOOST_TEST(contains(r.err, "provider 'p'"), r.err);
  BOOST_TEST(contains(r.err, "no version history"), r.err);
  BOOST_TEST(r.out.empty());
}

BOOST_AUTO_TEST_CASE(purge_is_refused_before_removing_where_rm_is_final) {
  BOOST_TEST_REQUIRE(db({"put", "Email.SMTPPassword"}, "one\n").status == 0);
  auto r = db({"rm", "--yes", "Email.SMTPPassword", "--purge"});
  BOOST_TEST(r.status == 1, describe(r));
  BOOST_TEST(contains(r.err, "provider 'db'"), r.err);
  BOOST_TEST(contains(r.err, "nothing was removed"), r.err);
  BOOST_TEST(db({"get", "Email.SMTPPassword"}).out == "one\n");
  // Without --purge rm says nothing of recovery: the removal is final.
  auto rm = db({"rm", "--yes", "Email.SMTPPassword"});
  BOOST_TEST(rm.status == 0, describe(rm));
  BOOST_TEST(!contains(rm.err, "recoverable"), rm.err);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(soft_delete, VaultFixture)

BOOST_AUTO_TEST_CASE(rm_says_the_value_stays_recoverable_and_how_to_purge) {
  world.emulator().set_secret("Email-SMTPPassword", "one");
  auto rm = kv({"rm", "--yes", "Email.SMTPPassword"});
  BOOST_TEST_REQUIRE(rm.status == 0, describe(rm));
  BOOST_TEST(contains(rm.err, "recoverable"), rm.err);
  BOOST_TEST(contains(rm.err, "coffer rm --purge Email.SMTPPassword"), rm.err);
  // Still deleted but recoverable: the name cannot be written.
  BOOST_TEST(kv({"put", "Email.SMTPPassword"}, "two\n").status == 4);
  // rm --purge of the removed key purges it; then there is nothing left.
  auto purge = kv({"rm", "--yes", "--purge", "Email.SMTPPassword"});
  BOOST_TEST(purge.status == 0, describe(purge));
  BOOST_TEST(kv({"put", "Email.SMTPPassword"}, "two\n").status == 0);
  BOOST_TEST(kv({"rm", "--yes", "--purge", "VCS.GitlabAdminPAT"}).status == 3);
}

BOOST_AUTO_TEST_CASE(rm_purge_removes_and_purges) {
  world.emulator().set_secret("Email-SMTPPassword", "one");
  auto rm = kv({"rm", "--yes", "Email.SMTPPassword", "--purge"});
  BOOST_TEST_REQUIRE(rm.status == 0, describe(rm));
  BOOST_TEST(!contains(rm.err, "recoverable"), rm.err);
  // Purged: the name is free again.
  auto put = kv({"put", "Email.SMTPPassword"}, "two\n");
  BOOST_TEST(put.status == 0, describe(put));
  auto history = kv({"history", "Email.SMTPPassword"});
  BOOST_TEST(history.status == 0, describe(history));
  BOOST_TEST(std::count(history.out.begin(), history.out.end(), '\n') == 2);  // header, one version
}

BOOST_AUTO_TEST_SUITE_END()
