// Retries and single flights against the emulator's fault injection: a
// thousand cold gets make one token request, transient faults (429 with and
// without Retry-After, 503, resets) cost no failed get, Retry-After is obeyed
// in both of its forms, and attempts and deadlines bound the retries.
#define BOOST_TEST_MODULE azure_keyvault_resilience
#include <boost/test/unit_test.hpp>

#include "kv_fixture.hpp"

#include <atomic>
#include <ctime>
#include <thread>

using coffer::test::Instance;
using coffer::test::Outcome;
using coffer::test::Plugin;
using kvtest::contains;
using kvtest::World;
using Clock = std::chrono::steady_clock;

namespace {

Plugin &plugin() {
  static Plugin loaded("azure_keyvault");
  return loaded;
}

std::vector<std::string> seed(coffer::test::Emulator &akv, int count) {
  std::vector<std::string> keys;
  for (int i = 0; i < count; ++i) {
    akv.set_secret("Load-Secret" + std::to_string(i), "value-" + std::to_string(i));
    keys.push_back("Load.Secret" + std::to_string(i));
  }
  return keys;
}

long elapsed_ms(Clock::time_point start) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

// Runs `test` with the emulator, an instance (`overrides` in its
// configuration) and the key of one seeded secret, once a first get has
// learnt the token and the challenge: the faults the test injects then meet
// a warm instance. Twice: gets answered from the I/O thread, then gets whose
// caller waits (COFFER_GET_CALLER_WAITS), whose first attempt runs on the
// caller's thread.
template <class Test>
void with_warm_vault(const boost::json::object &overrides, Test test) {
  for (const uint32_t flags : {0u, static_cast<uint32_t>(COFFER_GET_CALLER_WAITS)}) {
    BOOST_TEST_CONTEXT("caller waits " << (flags != 0)) {
      World world;
      auto &akv = world.emulator();
      const std::string key = seed(akv, 1)[0];
      Instance vault(plugin(), world.config(overrides));
      vault.set_get_flags(flags);
      BOOST_TEST_REQUIRE(vault.get(key).ok());
      test(akv, vault, key);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_thousand_cold_gets_make_one_token_request) {
  World world;
  auto &akv = world.emulator();
  auto keys = seed(akv, 50);
  std::vector<std::string> requests;
  for (int i = 0; i < 1000; ++i)
    requests.push_back(keys[static_cast<std::size_t>(i) % keys.size()]);
  // Learning the challenge first, then sending the token first.
  for (const bool token_first : {false, true}) {
    BOOST_TEST_CONTEXT("send_token_first " << token_first) {
      akv.reset_stats();
      // All thousand deadlines start now, and the connection cap queues most
      // of the gets: a sanitizer build on a busy machine needs more than the
      // default to drain the queue, and the deadline is not what is tested.
      Instance vault(plugin(), world.config({{"operation_timeout_ms", 120000},
                                             {"send_token_first", token_first}}));
      auto outcomes = kvtest::get_concurrently(vault, requests);
      for (std::size_t i = 0; i < outcomes.size(); ++i) {
        BOOST_TEST_REQUIRE(outcomes[i].ok(), outcomes[i].message);
        BOOST_TEST(outcomes[i].value == "value-" + std::to_string(i % keys.size()));
      }
      BOOST_TEST(akv.requests("token") == 1u);
      // One probe learnt the challenge for all, or none was needed.
      BOOST_TEST(akv.requests("unauthenticated") == (token_first ? 0u : 1u));
      BOOST_TEST(akv.requests("get") == (token_first ? 1000u : 1001u));
    }
  }
}

BOOST_AUTO_TEST_CASE(waiting_callers_on_many_threads_share_one_token_request) {
  World world;
  auto &akv = world.emulator();
  auto keys = seed(akv, 20);
  // Two lanes (half of four connections): most callers find them busy and
  // hand their get to the I/O thread.
  Instance vault(plugin(), world.config({{"max_connections_per_host", 4}}));
  vault.set_get_flags(COFFER_GET_CALLER_WAITS);
  std::atomic<int> wrong = 0;
  std::atomic<int> here = 0;
  std::vector<std::thread> callers;
  for (int t = 0; t < 8; ++t)
    callers.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::size_t k = static_cast<std::size_t>(t * 25 + i) % keys.size();
        Outcome got = vault.get(keys[k]);
        if (!got.ok() || got.value != "value-" + std::to_string(k)) ++wrong;
        if (got.answered_on == std::this_thread::get_id()) ++here;
      }
    });
  for (auto &caller : callers) caller.join();
  BOOST_TEST(wrong.load() == 0);
  BOOST_TEST(here.load() > 0);
  BOOST_TEST(akv.requests("token") == 1u);
  BOOST_TEST(akv.requests("get") == 200u);
}

BOOST_AUTO_TEST_CASE(no_failed_get_under_thirty_percent_transient_faults) {
  World world;
  auto &akv = world.emulator();
  auto keys = seed(akv, 20);
  Instance vault(plugin(), world.config({{"max_attempts", 12}, {"operation_timeout_ms", 60000}}));
  BOOST_TEST_REQUIRE(vault.get(keys[0]).ok());
  akv.reset_stats();
  for (const char *fault : {"429", "503", "reset"})
    akv.inject_rule(
        boost::json::object{{"route", "get"}, {"fault", fault}, {"probability", 0.075}});
  akv.inject_rule(boost::json::object{{"route", "get"},
                                      {"fault", "429-retry-after"},
                                      {"probability", 0.075},
                                      {"retry_after", "1"}});
  std::vector<std::string> requests;
  for (int round = 0; round < 15; ++round)
    requests.insert(requests.end(), keys.begin(), keys.end());
  auto outcomes = kvtest::get_concurrently(vault, requests);
  std::size_t failed = 0;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (!outcomes[i].ok()) {
      ++failed;
      BOOST_TEST_MESSAGE("failed: " << outcomes[i].message);
    } else {
      BOOST_TEST(outcomes[i].value == "value-" + std::to_string(i % keys.size()));
    }
  }
  BOOST_TEST(failed == 0u);
  const auto faults = akv.stats().at("faults_injected").to_number<uint64_t>();
  BOOST_TEST(faults >= 40u);  // 300 gets at 30%: the faults really happened
  BOOST_TEST(akv.requests("get") == 300u + faults);
}

BOOST_AUTO_TEST_CASE(retry_after_in_seconds_is_obeyed) {
  with_warm_vault({}, [](auto &akv, auto &vault, const auto &key) {
    akv.reset_stats();
    akv.inject_rule(boost::json::object{
        {"route", "get"}, {"fault", "429-retry-after"}, {"count", 1}, {"retry_after", "1"}});
    const auto start = Clock::now();
    Outcome got = vault.get(key);
    BOOST_TEST_REQUIRE(got.ok(), got.message);
    BOOST_TEST(elapsed_ms(start) >= 1000);  // the configured backoff alone is at most 40 ms
    BOOST_TEST(akv.requests("get") == 2u);
  });
}

BOOST_AUTO_TEST_CASE(retry_after_as_an_http_date_is_obeyed) {
  with_warm_vault({}, [](auto &akv, auto &vault, const auto &key) {
    std::time_t when = std::time(nullptr) + 3;  // 2 to 3 s ahead, at a second's granularity
    std::tm parts{};
    ::gmtime_r(&when, &parts);
    char date[64];
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    akv.inject_rule(boost::json::object{
        {"route", "get"}, {"fault", "429-retry-after"}, {"count", 1}, {"retry_after", date}});
    const auto start = Clock::now();
    Outcome got = vault.get(key);
    BOOST_TEST_REQUIRE(got.ok(), got.message);
    BOOST_TEST(elapsed_ms(start) >= 1000);
  });
}

BOOST_AUTO_TEST_CASE(a_429_without_retry_after_is_retried_anyway) {
  with_warm_vault({}, [](auto &akv, auto &vault, const auto &key) {
    akv.reset_stats();
    akv.inject("get", "429", 2);
    Outcome got = vault.get(key);
    BOOST_TEST_REQUIRE(got.ok(), got.message);
    BOOST_TEST(akv.requests("get") == 3u);
  });
}

BOOST_AUTO_TEST_CASE(attempts_are_bounded_then_unavailable) {
  with_warm_vault({{"max_attempts", 3}}, [](auto &akv, auto &vault, const auto &key) {
    akv.reset_stats();
    akv.inject("get", "503", 10);
    Outcome failed = vault.get(key);
    BOOST_TEST(failed.status == COFFER_STATUS_UNAVAILABLE);
    BOOST_TEST(contains(failed.message, "after 3 attempts"), failed.message);
    BOOST_TEST(contains(failed.message, "503"));
    BOOST_TEST(akv.requests("get") == 3u);
  });
}

BOOST_AUTO_TEST_CASE(a_retry_after_beyond_the_deadline_gives_up_at_once) {
  with_warm_vault({{"operation_timeout_ms", 2000}}, [](auto &akv, auto &vault, const auto &key) {
    akv.inject_rule(boost::json::object{
        {"route", "get"}, {"fault", "429-retry-after"}, {"count", 1}, {"retry_after", "30"}});
    akv.reset_stats();
    Outcome failed = vault.get(key);
    BOOST_TEST(failed.status == COFFER_STATUS_UNAVAILABLE);
    BOOST_TEST(contains(failed.message, "after 1 attempt "), failed.message);
    BOOST_TEST(akv.requests("get") == 1u);  // no wait was started that would end past the deadline
  });
}

BOOST_AUTO_TEST_CASE(the_callers_deadline_bounds_a_stalled_request) {
  with_warm_vault({}, [](auto &akv, auto &vault, const auto &key) {
    akv.inject_rule(boost::json::object{
        {"route", "get"}, {"fault", "stall"}, {"count", 5}, {"stall_ms", 20000}});
    Outcome late = vault.get(key, nullptr, 300);
    BOOST_TEST(late.status == COFFER_STATUS_TIMEOUT, late.message);
  });
}

BOOST_AUTO_TEST_CASE(cancel_ends_a_stalled_request_at_once_and_refuses_later_ones) {
  // What the core calls when a Store closes: a request the vault would keep
  // for 20 s (and then retry) ends now, as unavailable.
  with_warm_vault({}, [](auto &akv, auto &vault, const auto &key) {
    akv.reset_stats();
    akv.inject_rule(boost::json::object{
        {"route", "get"}, {"fault", "stall"}, {"count", 5}, {"stall_ms", 20000}});
    Outcome stalled;
    std::thread getter([&] { stalled = vault.get(key); });
    auto give_up = Clock::now() + std::chrono::seconds(10);
    while (akv.requests("get") == 0 && Clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    BOOST_TEST_REQUIRE(akv.requests("get") >= 1u);  // the vault holds the request
    BOOST_REQUIRE(vault.table()->cancel != nullptr);
    vault.table()->cancel(vault.raw());
    getter.join();
    BOOST_TEST(stalled.status == COFFER_STATUS_UNAVAILABLE, stalled.message);
    BOOST_TEST(contains(stalled.message, "closing"), stalled.message);
    Outcome later = vault.get(key);
    BOOST_TEST(later.status == COFFER_STATUS_UNAVAILABLE);
    BOOST_TEST(contains(later.message, "closing"), later.message);
  });
}

BOOST_AUTO_TEST_CASE(garbled_answers_are_retried) {
  with_warm_vault({}, [](auto &akv, auto &vault, const auto &key) {
    akv.reset_stats();
    akv.inject("get", "truncate", 1);
    akv.inject("get", "malformed-json", 1);
    akv.inject("get", "500", 1);
    Outcome got = vault.get(key);
    BOOST_TEST_REQUIRE(got.ok(), got.message);
    BOOST_TEST(got.value == "value-0");
    BOOST_TEST(akv.requests("get") == 4u);
  });
}

BOOST_AUTO_TEST_CASE(transient_token_endpoint_failures_are_retried) {
  World world;
  auto &akv = world.emulator();
  auto keys = seed(akv, 1);
  akv.inject("token", "503", 2);
  Instance vault(plugin(), world.config());
  Outcome got = vault.get(keys[0]);
  BOOST_TEST_REQUIRE(got.ok(), got.message);
  BOOST_TEST(akv.requests("token") == 3u);
}

BOOST_AUTO_TEST_CASE(an_expired_token_is_replaced_once) {
  with_warm_vault({}, [](auto &akv, auto &vault, const auto &key) {
    akv.inject("get", "expired-token", 1);
    BOOST_TEST(vault.get(key).ok());
    BOOST_TEST(akv.requests("token") == 2u);
    akv.inject("get", "expired-token", 5);  // refused again after a fresh token: denied
    Outcome refused = vault.get(key);
    BOOST_TEST(refused.status == COFFER_STATUS_DENIED);
    BOOST_TEST(contains(refused.message, "fresh access token"), refused.message);
    BOOST_TEST(akv.requests("token") == 3u);
  });
}
