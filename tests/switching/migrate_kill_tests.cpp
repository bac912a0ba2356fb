// `coffer migrate` killed with SIGKILL at random points, then run again: a
// complete, verified copy every time, in both Key Vault layouts, and nothing
// half-written in the vault in between.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <random>
#include <regex>
#include <thread>

#include "switch_fixture.hpp"

using coffer::test::secret_value_for;
using coffer::test::SwitchWorld;

namespace {

// Catalog keys and keys only the source lists (found through its list).
std::map<std::string, std::string> source_values() {
  std::map<std::string, std::string> values;
  for (const char *k : {"VCS.GithubAdminPAT", "VCS.GitlabAdminPAT", "VCS.AzureDevOpsOrgAdminPAT",
                        "Email.SMTPPassword", "CIAdmin.AzureOrgAdminPAT"})
    values[k] = secret_value_for(k);
  for (int i = 0; i < 40; ++i) {
    std::string key = "Bulk.Key" + std::to_string(100 + i);
    values[key] = secret_value_for(key);
  }
  return values;
}

// What the vault holds for each key, read through a Store (absent: not there).
std::map<std::string, std::string> vault_contents(const SwitchWorld &world,
                                                  const std::map<std::string, std::string> &keys) {
  coffer::StoreOptions options;
  options.log_level = coffer::LogLevel::error;
  coffer::Store store = coffer::Store::open(world.policy_file(), options);
  std::map<std::string, std::string> out;
  for (const auto &[key, value] : keys) {
    coffer::Result r = store.get_from("vault", key);
    if (r.ok())
      out[key] = std::string(r.secret.reveal());
    else if (r.code != coffer::Code::not_found)
      throw std::runtime_error("reading the vault failed: " + r.message);
  }
  return out;
}

void kill_and_resume(boost::json::value layout, int rounds, std::mt19937 &random) {
  auto values = source_values();
  int partial = 0;  // rounds killed with some keys copied and some not
  for (int round = 0; round < rounds; ++round) {
    SwitchWorld world(layout);
    world.seed_database(values);
    auto &vault = world.kv().emulator();
    vault.reset_stats();
    // A random point inside the copy: the vault takes `target` writes, each
    // applied at once and answered 20 ms later; the next write is applied and
    // then not answered at all, so that the kill lands between a write and
    // its verification however slowly this process gets to send it.
    std::uniform_int_distribution<std::uint64_t> when(1, values.size() - 1);
    std::uint64_t target = when(random);
    vault.inject_rule(boost::json::object{{"route", "put"},
                                          {"fault", "stall"},
                                          {"count", static_cast<std::int64_t>(target)},
                                          {"stall_ms", 20}});
    vault.inject_rule(boost::json::object{
        {"route", "put"}, {"fault", "stall"}, {"probability", 1.0}, {"stall_ms", 600000}});
    {
      coffer::test::ChildProcess child(
          coffer::test::cli_program(),
          world.spawn_options({"migrate", "--from", "db", "--to", "vault", "--json"}));
      auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (vault.requests("put") < target + 1 && std::chrono::steady_clock::now() < limit)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ::kill(child.pid(), SIGKILL);
      auto killed = child.finish();
      BOOST_TEST_MESSAGE("round " << round << ": killed after " << target << " writes, status "
                                  << killed.status);
      BOOST_TEST(killed.status == 128 + SIGKILL, "round " << round << " finished before the kill");
    }
    vault.reset_faults();
    // Whatever reached the vault is whole: each key holds its right value.
    auto before = vault_contents(world, values);
    for (const auto &[key, value] : before)
      BOOST_TEST(value == values[key], "round " << round << ": " << key << " is half-written");
    if (!before.empty() && before.size() < values.size()) ++partial;
    // The second run completes and verifies everything.
    auto resumed = world.run({"migrate", "--from", "db", "--to", "vault", "--json"});
    BOOST_TEST_REQUIRE(resumed.status == 0, resumed.err + resumed.out);
    auto summary = boost::json::parse(resumed.out).as_object();
    BOOST_TEST(summary.at("failed").as_int64() == 0);
    BOOST_TEST(summary.at("copied").as_int64() + summary.at("skipped").as_int64() ==
               static_cast<std::int64_t>(values.size()));
    auto copy = vault_contents(world, values);
    BOOST_TEST(copy.size() == values.size(), "round " << round);
    for (const auto &[key, value] : values)
      BOOST_TEST(copy[key] == value, "round " << round << ": " << key);
    // A third run has nothing left to do.
    auto third = world.run({"migrate", "--from", "db", "--to", "vault", "--json"});
    auto again = boost::json::parse(third.out).as_object();
    BOOST_TEST(again.at("copied").as_int64() == 0);
    BOOST_TEST(again.at("skipped").as_int64() == static_cast<std::int64_t>(values.size()));
    for (const auto &[key, value] : values) {
      BOOST_TEST(resumed.out.find(value) == std::string::npos);
      BOOST_TEST(resumed.err.find(value) == std::string::npos);
    }
  }
  // The kills did interrupt copies half-way (not only before or after).
  BOOST_TEST(partial >= rounds / 2, partial << " of " << rounds << " rounds were mid-copy");
}

std::mt19937 seeded() {
  std::random_device device;
  unsigned seed = device();
  if (const char *fixed = std::getenv("COFFER_TEST_SEED")) seed = std::stoul(fixed);
  BOOST_TEST_MESSAGE("seed " << seed << " (COFFER_TEST_SEED repeats it)");
  return std::mt19937(seed);
}

}  // namespace

BOOST_AUTO_TEST_CASE(killed_ten_times_into_per_key_secrets_then_resumed) {
  auto random = seeded();
  kill_and_resume("per_key", 10, random);
}

BOOST_AUTO_TEST_CASE(killed_ten_times_into_a_json_bundle_then_resumed) {
  auto random = seeded();
  kill_and_resume(boost::json::object{{"json_bundle", "PMP-Credentials"}, {"refresh_s", 1}}, 10,
                  random);
}

BOOST_AUTO_TEST_CASE(dry_run_writes_nothing_and_says_what_it_would_copy) {
  SwitchWorld world;
  auto values = source_values();
  world.seed_database(values);
  auto dry = world.run({"migrate", "--from", "db", "--to", "vault", "--dry-run", "--json"});
  BOOST_TEST_REQUIRE(dry.status == 0, dry.err);
  auto summary = boost::json::parse(dry.out).as_object();
  BOOST_TEST(summary.at("would_copy").as_int64() == static_cast<std::int64_t>(values.size()));
  BOOST_TEST(summary.at("copied").as_int64() == 0);
  BOOST_TEST(vault_contents(world, values).empty());
}

BOOST_AUTO_TEST_CASE(a_key_the_target_cannot_take_fails_with_a_non_zero_exit) {
  SwitchWorld world;
  world.seed_database({{"VCS.GithubAdminPAT", secret_value_for("VCS.GithubAdminPAT")}});
  world.kv().emulator().deny("VCS-GithubAdminPAT");
  auto run = world.run({"migrate", "--from", "db", "--to", "vault", "--key", "VCS.GithubAdminPAT",
                        "--update-policy", "--json"});
  BOOST_TEST(run.status == 1, run.err);
  auto summary = boost::json::parse(run.out).as_object();
  BOOST_TEST(summary.at("failed").as_int64() == 1);
  BOOST_TEST(summary.at("keys").as_array()[0].at("status").as_string() == "failed");
  BOOST_TEST(!summary.at("policy").at("updated").as_bool());
  BOOST_TEST(run.out.find("VAL-") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_terminal_gets_a_progress_bar_and_json_output_none) {
  SwitchWorld world;
  world.seed_database({{"VCS.GithubAdminPAT", secret_value_for("VCS.GithubAdminPAT")},
                       {"Email.SMTPPassword", secret_value_for("Email.SMTPPassword")}});
  auto [master, terminal] = coffer::test::open_pseudo_terminal();
  BOOST_TEST_REQUIRE(master >= 0);
  BOOST_TEST_REQUIRE(terminal >= 0);
  auto spawn = world.spawn_options({"migrate", "--from", "db", "--to", "vault"});
  spawn.stderr_fd = terminal;
  coffer::test::ProcessResult result;
  {
    coffer::test::ChildProcess child(coffer::test::cli_program(), spawn);
    ::close(terminal);
    result = child.finish();
  }
  std::string screen = coffer::test::drain_and_close(master);
  BOOST_TEST(result.status == 0, result.out);
  // keys done / total and the category being copied, redrawn in place.
  BOOST_TEST(screen.find("migrate [") != std::string::npos, screen);
  BOOST_TEST(screen.find("VCS") != std::string::npos, screen);
  BOOST_TEST(screen.find("] 30/30") != std::string::npos, screen);  // the 30 catalog keys
  BOOST_TEST(screen.find("VAL-") == std::string::npos);
  // Not on a terminal (a pipe): no bar.
  auto piped = world.run({"migrate", "--from", "db", "--to", "vault"});
  BOOST_TEST(piped.err.find("migrate [") == std::string::npos, piped.err);
}

BOOST_AUTO_TEST_CASE(a_policy_that_cannot_be_edited_is_left_alone_and_the_edit_is_printed) {
  SwitchWorld world;
  world.seed_database({{"VCS.GithubAdminPAT", secret_value_for("VCS.GithubAdminPAT")}});
  // A ConfigMap-style mount: the policy file is a symbolic link.
  auto real = world.dir() / "real-policy.json";
  std::filesystem::rename(world.policy_file(), real);
  std::filesystem::create_symlink(real, world.policy_file());
  std::string before = coffer::test::slurp(real);
  auto run = world.run(
      {"migrate", "--from", "db", "--to", "vault", "--category", "VCS", "--update-policy"});
  BOOST_TEST(run.status == 1, run.err);
  BOOST_TEST(run.err.find("the policy was not changed") != std::string::npos, run.err);
  BOOST_TEST(run.err.find("Make this change by hand") != std::string::npos, run.err);
  BOOST_TEST(run.err.find("vault") != std::string::npos, run.err);
  BOOST_TEST(coffer::test::slurp(real) == before);
  BOOST_TEST(std::filesystem::is_symlink(world.policy_file()));
  // The copy itself was made and verified.
  BOOST_TEST(std::regex_search(run.out, std::regex("\nVCS\\.GithubAdminPAT +copied")), run.out);
}
