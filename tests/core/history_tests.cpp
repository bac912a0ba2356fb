// A key's version history, the time each version was written, and the purge
// of a removed key (ABI 1.4), through coffer::Store and the in-memory
// provider, which keeps every version and soft-deletes on remove.
#include <coffer/store.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "test_policy.hpp"

using coffer::Code;
using coffer::Store;
using coffer::test::plugin_dirs_json;

namespace {

Store open(const std::string &body, coffer::StoreOptions options = {}) {
  options.log_level = coffer::LogLevel::error;
  return Store::from_string("{\"coffer\": 1, " + plugin_dirs_json() + ", " + body + "}",
                            std::move(options));
}

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The operations and outcomes an Observer hears of.
struct Operations : coffer::Observer {
  std::mutex mutex;
  std::vector<std::pair<std::string, Code>> seen;
  void on_access(const coffer::AccessEvent &e) noexcept override {
    std::lock_guard lock(mutex);
    seen.emplace_back(std::string(e.operation), e.outcome);
  }
  bool saw(const std::string &operation, Code outcome) {
    std::lock_guard lock(mutex);
    for (const auto &[op, code] : seen)
      if (op == operation && code == outcome) return true;
    return false;
  }
};

Code code_of(const std::function<void()> &call, std::string *message = nullptr) {
  try {
    call();
  } catch (const coffer::Error &e) {
    if (message != nullptr) *message = e.what();
    return e.code();
  }
  return Code::ok;
}

constexpr const char *kOneProvider =
    R"("providers": {"p": {"plugin": "memory"}}, "routes": {"*": "p"})";

}  // namespace

BOOST_AUTO_TEST_SUITE(history)

BOOST_AUTO_TEST_CASE(versions_are_listed_newest_first_with_their_times) {
  Store store = open(kOneProvider);
  std::int64_t before = now_unix_ms();
  std::string v1 = store.put("Email.SMTPPassword", coffer::Secret::copy_of("one"));
  std::string v2 = store.put("Email.SMTPPassword", coffer::Secret::copy_of("two"));
  std::int64_t after = now_unix_ms();
  auto versions = store.versions("Email.SMTPPassword");
  BOOST_TEST_REQUIRE(versions.size() == 2u);
  BOOST_TEST(versions[0].version == v2);
  BOOST_TEST(versions[1].version == v1);
  for (const auto &v : versions) {
    BOOST_TEST(v.enabled);
    BOOST_TEST(v.created_unix_ms >= before);
    BOOST_TEST(v.created_unix_ms <= after);
  }
  BOOST_TEST(versions[0].created_unix_ms >= versions[1].created_unix_ms);
  BOOST_TEST(store.versions_from("p", "Email.SMTPPassword").size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_get_carries_when_its_version_was_written) {
  Store store = open(kOneProvider);
  std::int64_t before = now_unix_ms();
  store.put("Email.SMTPPassword", coffer::Secret::copy_of("one"));
  auto versions = store.versions("Email.SMTPPassword");
  BOOST_TEST_REQUIRE(versions.size() == 1u);
  coffer::Secret fetched = store.get("Email.SMTPPassword");
  BOOST_TEST(fetched.created_unix_ms() >= before);
  BOOST_TEST(fetched.created_unix_ms() == versions[0].created_unix_ms);
  // The time is not part of the secret bytes, and a cache hit keeps it.
  BOOST_TEST(fetched.reveal() == "one");
  coffer::Secret cached = store.get("Email.SMTPPassword");
  BOOST_TEST(cached.created_unix_ms() == versions[0].created_unix_ms);
  BOOST_TEST(cached.clone().created_unix_ms() == versions[0].created_unix_ms);
  coffer::Result from = store.get_from("p", "Email.SMTPPassword");
  BOOST_TEST(from.secret.created_unix_ms() == versions[0].created_unix_ms);
}

BOOST_AUTO_TEST_CASE(versions_follow_the_chain_to_the_provider_that_has_the_key) {
  Store store = open(R"(
    "providers": {"a": {"plugin": "memory"},
                  "b": {"plugin": "memory", "config": {"values": {"VCS.GithubAdminPAT": "x"}}}},
    "routes": {"VCS": ["a", "b"], "*": "a"})");
  auto versions = store.versions("VCS.GithubAdminPAT");
  BOOST_TEST_REQUIRE(versions.size() == 1u);
  BOOST_TEST(versions[0].version == store.get("VCS.GithubAdminPAT").version());

  std::string message;
  BOOST_TEST(
      (code_of([&] { (void)store.versions("VCS.GitlabAdminPAT"); }, &message) == Code::not_found));
  BOOST_TEST(message.find("VCS.GitlabAdminPAT") != std::string::npos, message);
  BOOST_TEST(message.find("provider 'a'") != std::string::npos, message);
  BOOST_TEST(message.find("provider 'b'") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(a_removed_key_has_no_versions) {
  Store store = open(kOneProvider);
  store.put("Email.SMTPPassword", coffer::Secret::copy_of("one"));
  store.remove("Email.SMTPPassword");
  BOOST_TEST((code_of([&] { (void)store.versions("Email.SMTPPassword"); }) == Code::not_found));
}

BOOST_AUTO_TEST_CASE(purge_deletes_a_removed_key_for_good_and_is_audited) {
  auto observer = std::make_shared<Operations>();
  coffer::StoreOptions options;
  options.observer = observer;
  Store store = open(kOneProvider, options);
  store.put("Email.SMTPPassword", coffer::Secret::copy_of("one"));
  // Nothing removed yet: nothing to purge.
  BOOST_TEST((code_of([&] { store.purge("Email.SMTPPassword"); }) == Code::not_found));
  store.remove("Email.SMTPPassword");
  BOOST_TEST(store.admin("p", "stats").find("\"removed\":1") != std::string::npos);
  BOOST_TEST((code_of([&] { store.purge("Email.SMTPPassword", "operator"); }) == Code::ok));
  BOOST_TEST(store.admin("p", "stats").find("\"removed\":0") != std::string::npos);
  std::string message;
  BOOST_TEST((code_of([&] { store.purge("Email.SMTPPassword"); }, &message) == Code::not_found));
  BOOST_TEST(message.find("provider 'p'") != std::string::npos, message);
  BOOST_TEST(observer->saw("purge", Code::ok));
  BOOST_TEST(observer->saw("purge", Code::not_found));
}

BOOST_AUTO_TEST_CASE(health_says_which_providers_have_history_and_soft_delete) {
  Store store = open(kOneProvider);
  auto health = store.health();
  BOOST_TEST_REQUIRE(health.size() == 1u);
  BOOST_TEST(health[0].has_history);
  BOOST_TEST(health[0].soft_delete);
  coffer::ProviderFeatures features = store.features("p");
  BOOST_TEST(features.has_history);
  BOOST_TEST(features.soft_delete);
  BOOST_TEST(features.can_put);
  BOOST_TEST((code_of([&] { (void)store.features("nope"); }) == Code::invalid_argument));
}

BOOST_AUTO_TEST_SUITE_END()
