// The progress bar of long commands: on a terminal's standard error only,
// never in a pipe, with --json or with --quiet.
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

BOOST_AUTO_TEST_SUITE_END()
