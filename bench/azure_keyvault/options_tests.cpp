// The command line of coffer-bench-azure-keyvault: the names scripts rely on
// are accepted, and bad input is refused naming the option at fault.
#define BOOST_TEST_MODULE bench_azure_keyvault_options
#include "options.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using coffer::bench::BenchOptions;
using coffer::bench::parse_bench_options;
using coffer::bench::UsageError;

namespace {

BenchOptions parse(std::vector<std::string_view> arguments) {
  return parse_bench_options(arguments);
}

// The message of the UsageError `arguments` raise ("" when none is raised).
std::string refusal(std::vector<std::string_view> arguments) {
  try {
    parse_bench_options(arguments);
  } catch (const UsageError &error) {
    return error.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(defaults_run_every_client_three_rounds_as_a_table) {
  const BenchOptions options = parse({});
  BOOST_TEST(options.rounds == 3);
  BOOST_TEST(!options.json);
  BOOST_TEST((options.coffer && options.libcurl && options.js_sdk));
}

BOOST_AUTO_TEST_CASE(the_script_options_are_accepted) {
  const BenchOptions options = parse({"--json", "--clients", "libcurl,coffer", "--rounds", "7"});
  BOOST_TEST(options.json);
  BOOST_TEST(options.rounds == 7);
  BOOST_TEST((options.coffer && options.libcurl && !options.js_sdk));
  const BenchOptions joined = parse({"--rounds=2", "--clients=js_sdk"});
  BOOST_TEST(joined.rounds == 2);
  BOOST_TEST((!joined.coffer && !joined.libcurl && joined.js_sdk));
}

BOOST_AUTO_TEST_CASE(the_positional_rounds_is_still_accepted) {
  BOOST_TEST(parse({"5"}).rounds == 5);
}

BOOST_AUTO_TEST_CASE(bad_rounds_are_refused_naming_the_option) {
  BOOST_TEST(refusal({"--rounds"}) == "--rounds: missing value");
  for (std::string_view bad : {"0", "-1", "x", "3x", "", "1001"})
    BOOST_TEST(refusal({"--rounds", bad}).starts_with("--rounds: expected a number of rounds"),
               "--rounds " << bad);
  BOOST_TEST(refusal({"abc"}).starts_with("ROUNDS: expected a number of rounds"));
  BOOST_TEST(refusal({"--rounds", "2", "3"}).find("rounds given twice") != std::string::npos);
  BOOST_TEST(refusal({"3", "--rounds", "2"}).starts_with("--rounds: given twice"));
}

BOOST_AUTO_TEST_CASE(bad_clients_are_refused_naming_the_option) {
  BOOST_TEST(refusal({"--clients", "coffer,curl"}) ==
             "--clients: unknown client 'curl' (known: coffer, libcurl, js_sdk)");
  BOOST_TEST(refusal({"--clients", ""}).starts_with("--clients: expected a list"));
  BOOST_TEST(refusal({"--clients", "coffer,"}).starts_with("--clients: unknown client ''"));
  BOOST_TEST(refusal({"--clients", "coffer,coffer"}) == "--clients: client 'coffer' named twice");
  BOOST_TEST(refusal({"--clients"}) == "--clients: missing value");
}

BOOST_AUTO_TEST_CASE(scenarios_are_picked_by_mode_and_size) {
  const BenchOptions all = parse({});
  BOOST_TEST((all.mode.empty() && all.n == 0u));
  const BenchOptions picked = parse({"--mode", "sequential", "--n=30"});
  BOOST_TEST(picked.mode == "sequential");
  BOOST_TEST(picked.n == 30u);
  BOOST_TEST(refusal({"--mode", "serial"}).starts_with("--mode: expected sequential"));
  BOOST_TEST(refusal({"--n", "0"}).starts_with("--n: expected a number of secrets"));
  BOOST_TEST(refusal({"--n", "x"}).starts_with("--n: expected a number of secrets"));
}

BOOST_AUTO_TEST_CASE(unknown_options_are_refused_by_name) {
  BOOST_TEST(refusal({"--jsn"}) == "--jsn: unknown option");
  BOOST_TEST(refusal({"--json=1"}) == "--json=1: unknown option");
  BOOST_TEST(refusal({"--roundsx"}) == "--roundsx: unknown option");
}
