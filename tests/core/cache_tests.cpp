#include <coffer/store.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <condition_variable>
#include <thread>

#include "manual_clock.hpp"
#include "test_policy.hpp"

using coffer::Code;
using coffer::Store;
using coffer::test::ManualClock;
using namespace std::chrono_literals;

namespace {

// `clock`, when given, is the time the cache's lifetimes are measured in.
Store open_cached(const std::string &provider_config, const std::string &cache,
                  std::shared_ptr<const coffer::Clock> clock = nullptr) {
  coffer::StoreOptions options;
  options.log_level = coffer::LogLevel::error;
  options.clock = std::move(clock);
  return Store::from_string(
      "{\"coffer\": 1, " + coffer::test::plugin_dirs_json() +
          ", \"providers\": {\"p\": {\"plugin\": \"memory\", \"config\": " + provider_config +
          "}}, \"routes\": {\"*\": \"p\"}, \"cache\": " + cache + "}",
      options);
}

int64_t gets(Store &store) {
  return boost::json::parse(store.admin("p", "stats")).at("gets").as_int64();
}

void fail(Store &store, const std::string &key, const std::string &status) {
  store.admin("p", "fail", R"({"key": ")" + key + R"(", "status": ")" + status + R"("})");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cache)

BOOST_AUTO_TEST_CASE(values_are_served_from_the_cache_within_the_ttl) {
  Store store = open_cached(R"({"values": {"Email.SMTPPassword": "x"}})", R"({"ttl_s": 60})");
  for (int i = 0; i < 10; ++i) BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "x");
  BOOST_TEST(gets(store) == 1);
}

BOOST_AUTO_TEST_CASE(expired_values_are_fetched_again) {
  auto clock = std::make_shared<ManualClock>();
  Store store = open_cached(R"({"values": {"Email.SMTPPassword": "x"}})",
                            R"({"ttl_s": 60, "refresh_ahead_s": 0})", clock);
  (void)store.get("Email.SMTPPassword");
  clock->advance(59s);
  (void)store.get("Email.SMTPPassword");
  BOOST_TEST(gets(store) == 1);
  clock->advance(2s);
  (void)store.get("Email.SMTPPassword");
  BOOST_TEST(gets(store) == 2);
}

BOOST_AUTO_TEST_CASE(zero_ttl_disables_caching) {
  Store store = open_cached(R"({"values": {"Email.SMTPPassword": "x"}})",
                            R"({"ttl_s": 0, "refresh_ahead_s": 0, "negative_ttl_s": 0})");
  for (int i = 0; i < 3; ++i) (void)store.get("Email.SMTPPassword");
  BOOST_TEST(gets(store) == 3);
}

BOOST_AUTO_TEST_CASE(not_found_is_remembered_briefly) {
  Store store = open_cached(R"({})", R"({"negative_ttl_s": 60})");
  for (int i = 0; i < 5; ++i)
    BOOST_TEST(static_cast<int>(store.try_get("VCS.GithubAdminPAT").code) ==
               static_cast<int>(Code::not_found));
  BOOST_TEST(gets(store) == 1);
  auto clock = std::make_shared<ManualClock>();
  Store short_lived = open_cached(R"({})", R"({"negative_ttl_s": 5})", clock);
  (void)short_lived.try_get("VCS.GithubAdminPAT");
  clock->advance(6s);
  (void)short_lived.try_get("VCS.GithubAdminPAT");
  BOOST_TEST(gets(short_lived) == 2);
}

BOOST_AUTO_TEST_CASE(stale_value_is_served_when_the_provider_is_unavailable) {
  auto clock = std::make_shared<ManualClock>();
  Store store =
      open_cached(R"({"values": {"Email.SMTPPassword": "last-good"}})",
                  R"({"ttl_s": 10, "refresh_ahead_s": 0, "stale_if_error_s": 60})", clock);
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "last-good");
  fail(store, "Email.SMTPPassword", "unavailable");
  clock->advance(11s);
  auto stale = store.try_get("Email.SMTPPassword");
  BOOST_TEST(stale.ok());
  BOOST_TEST(stale.secret.reveal() == "last-good");
  BOOST_TEST(gets(store) == 2);  // it asked the provider first
  // A definitive answer is not masked by the stale value.
  fail(store, "Email.SMTPPassword", "denied");
  clock->advance(11s);
  BOOST_TEST(static_cast<int>(store.try_get("Email.SMTPPassword").code) ==
             static_cast<int>(Code::denied));
}

BOOST_AUTO_TEST_CASE(stale_if_error_has_a_limit) {
  auto clock = std::make_shared<ManualClock>();
  Store store =
      open_cached(R"({"values": {"Email.SMTPPassword": "v"}})",
                  R"({"ttl_s": 10, "refresh_ahead_s": 0, "stale_if_error_s": 30})", clock);
  (void)store.get("Email.SMTPPassword");
  fail(store, "Email.SMTPPassword", "unavailable");
  clock->advance(39s);  // past the TTL, within stale-if-error
  BOOST_TEST(store.try_get("Email.SMTPPassword").ok());
  clock->advance(2s);  // past both
  BOOST_TEST(static_cast<int>(store.try_get("Email.SMTPPassword").code) ==
             static_cast<int>(Code::unavailable));
}

BOOST_AUTO_TEST_CASE(reads_shortly_before_expiry_refresh_in_the_background) {
  auto clock = std::make_shared<ManualClock>();
  Store store = open_cached(R"({"values": {"Email.SMTPPassword": "one"}})",
                            R"({"ttl_s": 40, "refresh_ahead_s": 30})", clock);
  (void)store.get("Email.SMTPPassword");
  store.put("Email.SMTPPassword", coffer::Secret::copy_of("two"));  // invalidates
  (void)store.get("Email.SMTPPassword");
  int64_t before = gets(store);
  clock->advance(5s);  // before the refresh window: a plain hit
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "two");
  BOOST_TEST(gets(store) == before);
  clock->advance(10s);                                            // inside the refresh window
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "two");  // served from the cache ...
  // ... while one refresh runs behind it (on the provider's thread).
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (gets(store) == before && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  BOOST_TEST(gets(store) == before + 1);
}

BOOST_AUTO_TEST_CASE(a_thousand_concurrent_cold_gets_make_one_provider_call) {
  Store store = open_cached(R"({"delay_ms": 300, "values": {"VCS.GithubAdminPAT": "token"}})",
                            R"({"ttl_s": 60})");
  std::atomic<int> ok{0};
  std::atomic<int> done{0};
  std::mutex mutex;
  std::condition_variable all_done;
  for (int i = 0; i < 1000; ++i) {
    store.get_async("VCS.GithubAdminPAT", [&](coffer::Result r) {
      if (r.ok() && r.secret.reveal() == "token") ++ok;
      if (++done == 1000) {
        std::lock_guard lock(mutex);
        all_done.notify_all();
      }
    });
  }
  {
    std::unique_lock lock(mutex);
    BOOST_TEST_REQUIRE(
        all_done.wait_for(lock, std::chrono::seconds(30), [&] { return done == 1000; }));
  }
  BOOST_TEST(ok == 1000);
  BOOST_TEST(gets(store) == 1);
}

BOOST_AUTO_TEST_CASE(concurrent_blocking_gets_from_threads_share_one_fetch) {
  Store store = open_cached(R"({"delay_ms": 200, "values": {"VCS.GithubAdminPAT": "token"}})",
                            R"({"ttl_s": 60})");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i)
    threads.emplace_back(
        [&] { ok += store.get("VCS.GithubAdminPAT").reveal() == "token" ? 1 : 0; });
  for (auto &t : threads) t.join();
  BOOST_TEST(ok == 16);
  BOOST_TEST(gets(store) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
