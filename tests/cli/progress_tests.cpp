// The progress bar of long commands: on a terminal's standard error only,
// never in a pipe, with --json or with --quiet.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "cli_fixture.hpp"

using coffer::test::CliFixture;
using coffer::test::contains;
using coffer::test::describe;

namespace {

struct ProgressFixture : CliFixture {
  ProgressFixture() {
    write("coffer.json", env_policy());
    write_env("target.env", {});
    write("two.json", R"({"coffer": 1, "plugin_dirs": [)" +
                          coffer::test::quoted(plugin_dir.string()) +
                          R"(], "providers": {
        "p": {"plugin": "env_file", "config": {"path": "secrets.env", "writable": true}},
        "q": {"plugin": "env_file", "config": {"path": "target.env", "writable": true}}},
      "routes": {"*": "p"}})");
  }
};

// The bar redrawn in place: a carriage return, "erase line", the label.
std::string bar(const std::string &label) {
  return "\r\033[K" + label + " [";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(progress, ProgressFixture)

BOOST_AUTO_TEST_CASE(check_shows_progress_on_a_terminal_only) {
  auto on_terminal = run_on_terminal({"check"});
  BOOST_TEST(on_terminal.status == 3, describe(on_terminal));  // most catalog keys are absent
  BOOST_TEST(contains(on_terminal.err, bar("check")), on_terminal.err);
  BOOST_TEST(contains(on_terminal.err, "] 30/30"), on_terminal.err);
  // The bar is erased before the report.
  BOOST_TEST(contains(on_terminal.out, "KEY"), on_terminal.out);

  auto piped = run_policy({"check"});
  BOOST_TEST(piped.status == 3, describe(piped));
  BOOST_TEST(!contains(piped.err, "\033"), piped.err);
  BOOST_TEST(!contains(piped.err, "check ["), piped.err);

  for (const char *quiet : {"--json", "--quiet"}) {
    auto r = run_on_terminal({"check", quiet});
    BOOST_TEST(!contains(r.err, "check ["), quiet << ": " << r.err);
  }
}

BOOST_AUTO_TEST_CASE(migrate_shows_progress_on_a_terminal_only) {
  auto piped = run({"--policy", "two.json", "migrate", "--from", "p", "--to", "q", "--dry-run"});
  BOOST_TEST(piped.status == 0, describe(piped));
  BOOST_TEST(!contains(piped.err, "migrate ["), piped.err);
  // run_on_terminal names coffer.json.
  std::filesystem::copy_file(directory / "two.json", directory / "coffer.json",
                             std::filesystem::copy_options::overwrite_existing);
  auto on_terminal = run_on_terminal({"migrate", "--from", "p", "--to", "q", "--dry-run"});
  BOOST_TEST(on_terminal.status == 0, describe(on_terminal));
  BOOST_TEST(contains(on_terminal.err, bar("migrate")), on_terminal.err);
}

// db rekey and db verify run in parts (the provider's max_batches, and
// limit/after) so that the bar moves between them; the result is the one a
// single call gives.
BOOST_AUTO_TEST_CASE(db_rekey_and_db_verify_show_progress_on_a_terminal_only) {
  write("coffer.json", R"({"coffer": 1, "plugin_dirs": [)" +
                           coffer::test::quoted(plugin_dir.string()) +
                           R"(], "providers": {"db": {"plugin": "database", "config": {"url": )" +
                           coffer::test::quoted("sqlite://" + (directory / "creds.db").string()) +
                           R"(, "master_key": {"file": "master.key"}, "history": 30}}},
      "routes": {"*": "db"}})");
  BOOST_TEST_REQUIRE(run_policy({"db", "init"}).status == 0);
  const int versions = 25;
  for (int i = 0; i < versions; ++i) {
    auto put = run_policy({"put", "VCS.GithubAdminPAT"}, "v" + std::to_string(i) + "\n");
    BOOST_TEST_REQUIRE(put.status == 0, describe(put));
  }

  // --batch-size 1: ten records per call, so three calls.
  auto rekey = run_on_terminal({"db", "rekey", "--batch-size", "1"});
  BOOST_TEST(rekey.status == 0, describe(rekey));
  BOOST_TEST(contains(rekey.err, bar("db rekey")), rekey.err);
  BOOST_TEST(contains(rekey.err, "] 10/25"), rekey.err);
  BOOST_TEST(contains(rekey.err, "] 25/25"), rekey.err);
  auto rekeyed = boost::json::parse(rekey.out).as_object();
  BOOST_TEST(rekeyed.at("reencrypted").as_int64() == versions);
  BOOST_TEST(rekeyed.at("finished").as_bool());
  BOOST_TEST(rekeyed.at("retired_data_keys").as_array().size() == 1u);

  auto verify = run_on_terminal({"db", "verify"});
  BOOST_TEST(verify.status == 0, describe(verify));
  BOOST_TEST(contains(verify.err, bar("db verify")), verify.err);
  BOOST_TEST(contains(verify.err, "] 25/25"), verify.err);
  auto report = boost::json::parse(verify.out).as_object();
  BOOST_TEST(report.at("records").as_int64() == versions);
  BOOST_TEST(report.at("ok").as_bool());
  BOOST_TEST(!report.contains("last"));
  BOOST_TEST(!report.contains("finished"));

  for (const char *quiet : {"--json", "--quiet"}) {
    auto r = run_on_terminal({"db", "verify", quiet});
    BOOST_TEST(r.status == 0, describe(r));
    BOOST_TEST(!contains(r.err, "db verify ["), quiet << ": " << r.err);
  }
  auto piped = run_policy({"db", "rekey"});
  BOOST_TEST(piped.status == 0, describe(piped));
  BOOST_TEST(!contains(piped.err, "db rekey ["), piped.err);
  BOOST_TEST(boost::json::parse(piped.out).at("reencrypted").as_int64() == versions);
}

BOOST_AUTO_TEST_SUITE_END()
