#define BOOST_TEST_MODULE core_store_tests
#include <coffer/store.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <thread>

#include "temp_directory.hpp"
#include "test_policy.hpp"

using coffer::Code;
using coffer::Store;
using coffer::test::plugin_dirs_json;

namespace {

// Records every event an Observer receives.
struct Recorder : coffer::Observer {
  std::mutex mutex;
  std::vector<std::tuple<std::string, std::string, Code, bool>>
      accesses;  // key, provider, outcome, hit
  std::vector<coffer::PolicyEvent> policies;
  void on_access(const coffer::AccessEvent &e) noexcept override {
    std::lock_guard lock(mutex);
    accesses.emplace_back(std::string(e.key), std::string(e.provider), e.outcome, e.cache_hit);
  }
  void on_policy(const coffer::PolicyEvent &e) noexcept override {
    std::lock_guard lock(mutex);
    policies.push_back(e);
  }
};

Store open(const std::string &body, coffer::StoreOptions options = {}) {
  options.log_level = coffer::LogLevel::error;
  return Store::from_string("{\"coffer\": 1, " + plugin_dirs_json() + ", " + body + "}",
                            std::move(options));
}

Code code_of_get(Store &store, const std::string &key) {
  return store.try_get(key).code;
}

// The threads this process has now (Linux: /proc/self/task).
std::size_t thread_count() {
  return static_cast<std::size_t>(
      std::distance(std::filesystem::directory_iterator("/proc/self/task"), {}));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(routing)

BOOST_AUTO_TEST_CASE(keys_override_then_category_route_then_star) {
  Store store = open(R"(
    "providers": {
      "a": {"plugin": "memory", "config": {"values": {"VCS.GithubAdminPAT": "from-a", "Email.SMTPPassword": "a-mail"}}},
      "b": {"plugin": "memory", "config": {"values": {"VCS.GithubAdminPAT": "from-b", "VCS.GitlabAdminPAT": "b-gitlab"}}},
      "c": {"plugin": "memory", "config": {"values": {"Email.SMTPPassword": "c-mail"}}}
    },
    "routes": {"VCS": "b", "*": "c"},
    "keys": {"VCS.GithubAdminPAT": "a"})");
  auto r = store.try_get("VCS.GithubAdminPAT");
  BOOST_TEST(r.secret.reveal() == "from-a");
  BOOST_TEST(r.provider == "a");
  BOOST_TEST(store.get("VCS.GitlabAdminPAT").reveal() == "b-gitlab");
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "c-mail");
}

BOOST_AUTO_TEST_CASE(fallback_chain_continues_on_not_found_and_unavailable) {
  Store store = open(R"(
    "providers": {
      "first": {"plugin": "memory", "config": {"values": {}, "fail": {"Email.SMTPPassword": "unavailable"}}},
      "second": {"plugin": "memory", "config": {"values": {"VCS.GithubAdminPAT": "two", "Email.SMTPPassword": "mail-two"}}}
    },
    "routes": {"*": ["first", "second"]})");
  auto r = store.try_get("VCS.GithubAdminPAT");
  BOOST_TEST(r.ok());
  BOOST_TEST(r.provider == "second");
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "mail-two");
}

BOOST_AUTO_TEST_CASE(only_a_blocking_get_tells_the_provider_that_its_caller_waits) {
  // COFFER_GET_CALLER_WAITS (ABI 1.5): the memory provider counts the gets
  // that carried it ("waited").
  Store store = open(R"(
    "providers": {"p": {"plugin": "memory", "config": {"values": {
      "VCS.GithubAdminPAT": "a", "VCS.GitlabAdminPAT": "b", "VCS.GithubOrgOwnerPAT": "c",
      "VCS.GitlabGroupOwnerPAT": "d", "VCS.BitbucketAdminPassword": "e"}}}},
    "routes": {"*": "p"}, "cache": {"ttl_s": 60})");
  auto stats = [&] { return boost::json::parse(store.admin("p", "stats")).as_object(); };
  BOOST_TEST(store.get("VCS.GithubAdminPAT").reveal() == "a");
  BOOST_TEST(store.try_get("VCS.GitlabAdminPAT").ok());
  BOOST_TEST(stats().at("waited").as_int64() == 2);  // both callers blocked
  std::promise<coffer::Result> answered;
  store.get_async("VCS.GithubOrgOwnerPAT",
                  [&](coffer::Result r) { answered.set_value(std::move(r)); });
  BOOST_TEST(answered.get_future().get().ok());
  const std::vector<std::string> many = {"VCS.GitlabGroupOwnerPAT", "VCS.BitbucketAdminPassword"};
  for (const auto &result : store.get_many(many)) BOOST_TEST(result.ok());
  BOOST_TEST(stats().at("gets").as_int64() == 5);
  BOOST_TEST(stats().at("waited").as_int64() == 2);  // get_many keeps its gets concurrent
  (void)store.get("VCS.GithubAdminPAT");             // a hit: no provider call at all
  BOOST_TEST(stats().at("gets").as_int64() == 5);
}

BOOST_AUTO_TEST_CASE(a_provider_answering_from_its_own_thread_passes_no_wait_down_the_chain) {
  // `first` answers NOT_FOUND from its own thread after 20 ms: the get of
  // `second` starts on that thread, which must not block on it.
  Store store = open(R"(
    "providers": {
      "first": {"plugin": "memory", "config": {"delay_ms": 20, "values": {}}},
      "second": {"plugin": "memory", "config": {"values": {"VCS.GithubAdminPAT": "two"}}},
      "third": {"plugin": "memory", "config": {"values": {"VCS.GitlabAdminPAT": "three"}}}
    },
    "routes": {"*": ["third", "second"]}, "keys": {"VCS.GithubAdminPAT": ["first", "second"]})");
  auto waited = [&](const std::string &name) {
    return boost::json::parse(store.admin(name, "stats")).at("waited").as_int64();
  };
  BOOST_TEST(store.get("VCS.GithubAdminPAT").reveal() == "two");
  BOOST_TEST(waited("first") == 1);
  BOOST_TEST(waited("second") == 0);
  // Answered on the caller's thread, the next provider's get still has it waiting.
  BOOST_TEST(store.get("VCS.GitlabAdminPAT").reveal() == "three");
  BOOST_TEST(waited("third") == 1);
}

BOOST_AUTO_TEST_CASE(denial_stops_the_chain_by_default_and_can_continue) {
  const char *providers = R"(
    "providers": {
      "first": {"plugin": "memory", "config": {"fail": {"VCS.GithubAdminPAT": "denied"}}},
      "second": {"plugin": "memory", "config": {"values": {"VCS.GithubAdminPAT": "two"}}}
    },)";
  Store stops = open(std::string(providers) + R"("routes": {"*": ["first", "second"]})");
  auto r = stops.try_get("VCS.GithubAdminPAT");
  BOOST_TEST(static_cast<int>(r.code) == static_cast<int>(Code::denied));
  BOOST_TEST(r.message.find("provider 'first'") != std::string::npos, r.message);
  Store continues =
      open(std::string(providers) +
           R"("routes": {"*": {"providers": ["first", "second"], "on": {"denied": "continue"}}})");
  BOOST_TEST(continues.get("VCS.GithubAdminPAT").reveal() == "two");
}

BOOST_AUTO_TEST_CASE(not_found_everywhere_names_each_provider) {
  Store store = open(R"("providers": {"a": {"plugin": "memory"}, "b": {"plugin": "memory"}},
                        "routes": {"*": ["a", "b"]})");
  auto r = store.try_get("VCS.GithubAdminPAT");
  BOOST_TEST(static_cast<int>(r.code) == static_cast<int>(Code::not_found));
  BOOST_TEST(r.message.find("provider 'a'") != std::string::npos, r.message);
  BOOST_TEST(r.message.find("provider 'b'") != std::string::npos, r.message);
  BOOST_CHECK_THROW(store.get("VCS.GithubAdminPAT"), coffer::Error);
}

BOOST_AUTO_TEST_CASE(allow_and_deny_lists_per_category) {
  Store store = open(R"(
    "providers": {"p": {"plugin": "memory", "config": {"values": {
      "VCS.GithubAdminPAT": "1", "VCS.GitlabAdminPAT": "2", "Email.SMTPPassword": "3"}}}},
    "routes": {"VCS": {"providers": "p", "deny": ["VCS.GitlabAdminPAT"]},
               "Email": {"providers": "p", "allow": ["Email.SMTPPassword"]},
               "*": {"providers": "p", "allow": []}})");
  BOOST_TEST(store.get("VCS.GithubAdminPAT").reveal() == "1");
  auto denied = store.try_get("VCS.GitlabAdminPAT");
  BOOST_TEST(static_cast<int>(denied.code) == static_cast<int>(Code::denied));
  BOOST_TEST(denied.message.find("routes.VCS.deny") != std::string::npos, denied.message);
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "3");
  Store allow_only = open(R"(
    "providers": {"p": {"plugin": "memory", "config": {"values": {"VCS.GithubAdminPAT": "1", "VCS.GitlabAdminPAT": "2"}}}},
    "routes": {"VCS": {"providers": "p", "allow": ["VCS.GithubAdminPAT"]}})");
  BOOST_TEST(allow_only.get("VCS.GithubAdminPAT").reveal() == "1");
  BOOST_TEST(static_cast<int>(code_of_get(allow_only, "VCS.GitlabAdminPAT")) ==
             static_cast<int>(Code::denied));
}

BOOST_AUTO_TEST_CASE(unknown_key_names_the_nearest_known_key) {
  Store store = open(R"("providers": {"p": {"plugin": "memory"}}, "routes": {"*": "p"})");
  auto r = store.try_get("VCS.GitHubAdminPat");
  BOOST_TEST(static_cast<int>(r.code) == static_cast<int>(Code::invalid_argument));
  BOOST_TEST(r.message.find("did you mean 'VCS.GithubAdminPAT'") != std::string::npos, r.message);
  BOOST_TEST(static_cast<int>(code_of_get(store, "not a key")) ==
             static_cast<int>(Code::invalid_argument));
}

BOOST_AUTO_TEST_CASE(unknown_keys_allowed_when_the_host_says_so) {
  coffer::StoreOptions options;
  options.allow_unknown_keys = true;
  Store store =
      open(R"("providers": {"p": {"plugin": "memory", "config": {"values": {"Billing.Key": "k"}}}},
                        "routes": {"*": "p"})",
           options);
  BOOST_TEST(store.get("Billing.Key").reveal() == "k");
}

BOOST_AUTO_TEST_CASE(the_policy_can_turn_the_builtin_catalog_off) {
  coffer::test::TempDirectory dir;
  auto catalog = dir.write("catalog.json", R"({"keys": [{"key": "Billing.Key"}]})");
  std::string providers =
      R"("providers": {"p": {"plugin": "memory", "config": {"values": {"Billing.Key": "k", "VCS.GithubAdminPAT": "v"}}}}, "routes": {"*": "p"}, "catalogs": [")" +
      catalog.string() + "\"]";
  Store with_builtin = open(providers);
  BOOST_TEST(with_builtin.get("VCS.GithubAdminPAT").reveal() == "v");
  // Off: only the host's own keys are known (so `coffer check` covers them alone).
  Store own_only = open(providers + R"(, "builtin_catalog": false)");
  BOOST_TEST(own_only.get("Billing.Key").reveal() == "k");
  BOOST_TEST(static_cast<int>(code_of_get(own_only, "VCS.GithubAdminPAT")) ==
             static_cast<int>(Code::invalid_argument));
  auto report = own_only.check();
  BOOST_TEST(report.keys.size() == 1u);
}

BOOST_AUTO_TEST_CASE(check_reports_its_progress_on_the_calling_thread) {
  Store store = open(
      R"("providers": {"p": {"plugin": "memory", "config": {"values": {"VCS.GithubAdminPAT": "v"}}}},
         "routes": {"*": "p"})");
  std::vector<std::pair<std::size_t, std::size_t>> calls;
  bool elsewhere = false;
  auto caller = std::this_thread::get_id();
  auto report = store.check([&](std::size_t done, std::size_t total) {
    elsewhere = elsewhere || std::this_thread::get_id() != caller;
    calls.emplace_back(done, total);
  });
  std::size_t keys = report.keys.size();
  BOOST_TEST_REQUIRE(keys == 30u);
  BOOST_TEST_REQUIRE(calls.size() >= 2u);
  BOOST_TEST(!elsewhere);
  BOOST_TEST((calls.front() == std::pair<std::size_t, std::size_t>{0, keys}));
  BOOST_TEST((calls.back() == std::pair<std::size_t, std::size_t>{keys, keys}));
  for (std::size_t i = 1; i < calls.size(); ++i) {
    BOOST_TEST(calls[i].first > calls[i - 1].first);
    BOOST_TEST(calls[i].second == keys);
  }
}

BOOST_AUTO_TEST_CASE(category_without_route_is_a_configuration_error) {
  Store store = open(R"("providers": {"p": {"plugin": "memory"}}, "routes": {"VCS": "p"})");
  BOOST_TEST(static_cast<int>(code_of_get(store, "Email.SMTPPassword")) ==
             static_cast<int>(Code::invalid_config));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(operations)

BOOST_AUTO_TEST_CASE(put_remove_list_and_versions) {
  Store store = open(R"("providers": {"p": {"plugin": "memory"}}, "routes": {"*": "p"})");
  std::string v1 = store.put("Email.SMTPPassword", coffer::Secret::copy_of("one"));
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "one");
  std::string v2 = store.put("Email.SMTPPassword", coffer::Secret::copy_of("two"));
  BOOST_TEST(v1 != v2);
  auto latest = store.get("Email.SMTPPassword");  // the put invalidated the cache
  BOOST_TEST(latest.reveal() == "two");
  BOOST_TEST(latest.version() == v2);
  coffer::GetOptions old;
  old.version = v1;
  BOOST_TEST(static_cast<int>(store.try_get("Email.SMTPPassword", old).code) ==
             static_cast<int>(Code::unsupported));  // memory has no COFFER_CAP_VERSIONS
  auto entries = store.list("p");
  BOOST_TEST(entries.size() == 1u);
  BOOST_TEST(entries[0].key == "Email.SMTPPassword");
  BOOST_TEST(entries[0].name == "mem:Email.SMTPPassword");
  store.remove("Email.SMTPPassword");
  BOOST_TEST(static_cast<int>(code_of_get(store, "Email.SMTPPassword")) ==
             static_cast<int>(Code::not_found));
  BOOST_CHECK_THROW(store.list("nope"), coffer::Error);
}

BOOST_AUTO_TEST_CASE(key_names_and_explain) {
  Store store = open(R"(
    "providers": {"a": {"plugin": "memory"}, "b": {"plugin": "memory", "config": {"values": {"VCS.GithubAdminPAT": "x"}}}},
    "routes": {"VCS": ["a", "b"], "*": "a"})");
  BOOST_TEST(store.key_name("VCS.GithubAdminPAT", "a") == "mem:VCS.GithubAdminPAT");
  auto e = store.explain("VCS.GithubAdminPAT");
  BOOST_TEST(e.rule == "routes.VCS");
  BOOST_TEST(e.in_catalog);
  BOOST_TEST_REQUIRE(e.chain.size() == 2u);
  BOOST_TEST(e.chain[0].outcome == "not_found");
  BOOST_TEST(e.chain[0].note.find("continues") != std::string::npos, e.chain[0].note);
  BOOST_TEST(e.chain[1].outcome == "found");
}

BOOST_AUTO_TEST_CASE(route_says_which_rule_and_chain_serve_a_key) {
  Store store = open(R"(
    "providers": {"a": {"plugin": "memory"}, "b": {"plugin": "memory"}},
    "routes": {"VCS": {"providers": ["a", "b"], "deny": ["VCS.AzureAuthSecret"]}, "*": "a"},
    "keys": {"VCS.GithubAdminPAT": "b"})");
  auto github = store.route("VCS.GithubAdminPAT");
  BOOST_TEST(github.rule == "keys.VCS.GithubAdminPAT");
  BOOST_TEST(github.override);
  BOOST_TEST(github.category == "VCS");
  BOOST_TEST(github.chain == std::vector<std::string>{"b"}, boost::test_tools::per_element());
  BOOST_TEST((github.access == Code::ok));

  auto gitlab = store.route("VCS.GitlabAdminPAT");
  BOOST_TEST(gitlab.rule == "routes.VCS");
  BOOST_TEST(!gitlab.override);
  BOOST_TEST(gitlab.chain == (std::vector<std::string>{"a", "b"}),
             boost::test_tools::per_element());

  auto email = store.route("Email.SMTPPassword");
  BOOST_TEST(email.rule == "routes.*");
  BOOST_TEST(email.chain == std::vector<std::string>{"a"}, boost::test_tools::per_element());

  auto denied = store.route("VCS.AzureAuthSecret");
  BOOST_TEST((denied.access == Code::denied));
  BOOST_TEST(denied.message.find("deny") != std::string::npos, denied.message);

  auto unknown = store.route("VCS.NoSuchKey");
  BOOST_TEST((unknown.access == Code::invalid_argument));
  BOOST_TEST(unknown.chain.empty());
}

BOOST_AUTO_TEST_CASE(health_asks_every_provider_and_keeps_policy_order) {
  Store store = open(R"(
    "providers": {"ok": {"plugin": "memory"},
                  "sick": {"plugin": "memory", "config": {"health": "unavailable", "health_delay_ms": 30}}},
    "routes": {"*": ["ok", "sick"]})");
  auto health = store.health();
  BOOST_TEST_REQUIRE(health.size() == 2u);
  BOOST_TEST(health[0].provider == "ok");
  BOOST_TEST(health[0].plugin == "memory");
  BOOST_TEST((health[0].code == Code::ok));
  BOOST_TEST(health[0].message.empty());
  BOOST_TEST(health[0].can_put);
  BOOST_TEST(!health[0].isolated);
  BOOST_TEST(health[1].provider == "sick");
  BOOST_TEST((health[1].code == Code::unavailable));
  BOOST_TEST(health[1].message.find("unhealthy as configured") != std::string::npos,
             health[1].message);
}

BOOST_AUTO_TEST_CASE(get_many_resolves_each_key) {
  Store store =
      open(R"("providers": {"p": {"plugin": "memory", "config": {"delay_ms": 20, "values": {
      "VCS.GithubAdminPAT": "1", "Email.SMTPPassword": "2"}}}}, "routes": {"*": "p"})");
  std::vector<std::string> keys = {"VCS.GithubAdminPAT", "Email.SMTPPassword",
                                   "VCS.GitlabAdminPAT"};
  auto results = store.get_many(keys);
  BOOST_TEST(results[0].secret.reveal() == "1");
  BOOST_TEST(results[1].secret.reveal() == "2");
  BOOST_TEST(static_cast<int>(results[2].code) == static_cast<int>(Code::not_found));
}

BOOST_AUTO_TEST_CASE(check_reports_every_catalog_key) {
  Store store = open(
      R"("providers": {"p": {"plugin": "memory", "config": {"values": {"Email.SMTPPassword": "2"}}}},
                        "routes": {"*": "p"})");
  auto report = store.check();
  BOOST_TEST(report.keys.size() == 30u);
  BOOST_TEST(!report.ok());
  int found = 0;
  for (const auto &k : report.keys) found += k.code == Code::ok ? 1 : 0;
  BOOST_TEST(found == 1);
}

BOOST_AUTO_TEST_CASE(observer_sees_every_access_but_no_value) {
  auto recorder = std::make_shared<Recorder>();
  coffer::StoreOptions options;
  options.observer = recorder;
  Store store = open(
      R"("providers": {"p": {"plugin": "memory", "config": {"values": {"Email.SMTPPassword": "s3cr3t"}}}},
                        "routes": {"*": "p"})",
      options);
  (void)store.try_get("Email.SMTPPassword");
  (void)store.try_get("Email.SMTPPassword");
  (void)store.try_get("VCS.GithubAdminPAT");
  std::lock_guard lock(recorder->mutex);
  BOOST_TEST_REQUIRE(recorder->accesses.size() == 3u);
  BOOST_TEST(std::get<1>(recorder->accesses[0]) == "p");
  BOOST_TEST(!std::get<3>(recorder->accesses[0]));
  BOOST_TEST(std::get<3>(recorder->accesses[1]));  // the second read hit the cache
  BOOST_TEST(static_cast<int>(std::get<2>(recorder->accesses[2])) ==
             static_cast<int>(Code::not_found));
  BOOST_TEST(recorder->policies.size() == 1u);
  BOOST_TEST(recorder->policies[0].loaded);
}

BOOST_AUTO_TEST_CASE(provider_open_failure_names_the_provider) {
  try {
    open(
        R"("on_open_failure": "fail", "providers": {"broken": {"plugin": "memory", "config": {"refuse_open": true}}}, "routes": {"*": "broken"})");
    BOOST_FAIL("expected an error");
  } catch (const coffer::Error &e) {
    std::string m = e.what();
    BOOST_TEST(m.find("provider 'broken'") != std::string::npos, m);
    BOOST_TEST(m.find("refuse_open") != std::string::npos, m);
  }
}

BOOST_AUTO_TEST_CASE(missing_plugin_says_where_it_looked) {
  try {
    open(
        R"("on_open_failure": "fail", "providers": {"x": {"plugin": "no_such_plugin"}}, "routes": {"*": "x"})");
    BOOST_FAIL("expected an error");
  } catch (const coffer::Error &e) {
    std::string m = e.what();
    BOOST_TEST(m.find("libno_such_plugin.so") != std::string::npos, m);
    BOOST_TEST(m.find(coffer::test::core_plugin_dir()) != std::string::npos, m);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(subscriptions)

BOOST_AUTO_TEST_CASE(subscriber_hears_of_a_new_version_never_the_value) {
  coffer::StoreOptions options;
  options.subscription_refresh = std::chrono::milliseconds(50);
  Store store = open(
      R"("providers": {"p": {"plugin": "memory", "config": {"values": {"Email.SMTPPassword": "old"}}}},
                        "routes": {"*": "p"}, "cache": {"ttl_s": 0.05, "refresh_ahead_s": 0.01})",
      options);
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<coffer::ChangeEvent> events;
  auto subscription = store.subscribe("Email", [&](const coffer::ChangeEvent &e) {
    std::lock_guard lock(mutex);
    events.push_back(e);
    changed.notify_all();
  });
  auto first = store.get("Email.SMTPPassword");
  std::string v2 = store.put("Email.SMTPPassword", coffer::Secret::copy_of("new"));
  std::unique_lock lock(mutex);
  BOOST_TEST_REQUIRE(
      changed.wait_for(lock, std::chrono::seconds(10), [&] { return !events.empty(); }));
  BOOST_TEST(events[0].key == "Email.SMTPPassword");
  BOOST_TEST(events[0].old_version == first.version());
  BOOST_TEST(events[0].new_version == v2);
  BOOST_TEST(events[0].provider == "p");
  lock.unlock();
  subscription.cancel();
  BOOST_CHECK_THROW(store.subscribe("Nope", [](const coffer::ChangeEvent &) {}), coffer::Error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(handlers)

// A get_async handler that throws: the exception stops where the core calls
// the handler (the caller's thread on a cache hit, a provider's thread
// otherwise, where it would unwind through the plugin), is logged by its type
// (never its message) and counted, and the Store goes on serving.
BOOST_AUTO_TEST_CASE(a_throwing_get_async_handler_is_caught_logged_and_counted) {
  struct ThrownOnPurpose : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  struct Log {
    std::mutex mutex;
    std::string text;
  };
  auto log = std::make_shared<Log>();
  coffer::StoreOptions options;
  options.log = [log](coffer::LogLevel, std::string_view line) {
    std::lock_guard lock(log->mutex);
    log->text += std::string(line) + "\n";
  };
  // delay_ms: the provider answers from its own thread.
  Store store = open(R"("providers": {"p": {"plugin": "memory", "config": {"delay_ms": 1,
                        "values": {"Email.SMTPPassword": "handler-Value-41d7"}}}},
                        "routes": {"*": "p"})",
                     options);
  auto counted = [&](int n) {
    std::string line = "coffer_handler_exceptions_total " + std::to_string(n) + "\n";
    for (int i = 0; i < 1000; ++i) {
      if (store.metrics().find(line) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  auto throwing = [](coffer::Result r) {
    throw ThrownOnPurpose("the value is " + std::string(r.secret.reveal()));
  };

  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "handler-Value-41d7");
  // A cache hit: the handler runs on this thread, before get_async returns.
  BOOST_CHECK_NO_THROW(store.get_async("Email.SMTPPassword", throwing));
  BOOST_TEST(counted(1));

  // The provider's thread.
  coffer::GetOptions fresh;
  fresh.bypass_cache = true;
  std::promise<void> ran;
  store.get_async(
      "Email.SMTPPassword",
      [&](coffer::Result r) {
        ran.set_value();
        throwing(std::move(r));
      },
      fresh);
  BOOST_TEST_REQUIRE(
      (ran.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready));
  BOOST_TEST(counted(2));

  // The Store is still usable, through the provider too.
  BOOST_TEST(store.get("Email.SMTPPassword", fresh).reveal() == "handler-Value-41d7");
  BOOST_TEST(store.try_get("Email.SMTPPassword").ok());
  std::lock_guard lock(log->mutex);
  BOOST_TEST(log->text.find("ThrownOnPurpose") != std::string::npos, log->text);
  BOOST_TEST(log->text.find("handler-Value-41d7") == std::string::npos, log->text);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lifetime)

BOOST_AUTO_TEST_CASE(a_subscription_may_outlive_its_store) {
  // The Store's registry holds the callback (and what it captured); a
  // Subscription left over does not keep it, so the Store's end releases it,
  // and cancelling afterwards finds nothing to do.
  auto captured = std::make_shared<int>(0);
  std::weak_ptr<int> watch = captured;
  coffer::Subscription kept;
  {
    Store store = open(R"("providers": {"p": {"plugin": "memory"}}, "routes": {"*": "p"})");
    kept = store.subscribe(
        "Email", [captured = std::move(captured)](const coffer::ChangeEvent &) { ++*captured; });
    BOOST_TEST_REQUIRE(!watch.expired());
  }
  BOOST_TEST(watch.expired(), "the Subscription kept its destroyed Store's registry alive");
  kept.cancel();  // must not touch the destroyed Store
  kept.cancel();  // nor do anything the second time
}

BOOST_AUTO_TEST_CASE(stores_answered_from_provider_threads_close_every_instance) {
  // The provider answers on its own thread; destroying the Store right after
  // must still close the instance (its thread joined) on the caller's side:
  // every thread the Stores and their instances started is gone at the end.
  const std::size_t threads_before = thread_count();
  for (int i = 0; i < 30; ++i) {
    Store store = open(R"("providers": {"p": {"plugin": "memory", "config": {"delay_ms": 1,
                          "values": {"Email.SMTPPassword": "x"}}}}, "routes": {"*": "p"})");
    BOOST_TEST_REQUIRE(store.get("Email.SMTPPassword").reveal() == "x");
  }
  BOOST_TEST(thread_count() == threads_before);
}

BOOST_AUTO_TEST_CASE(closing_a_store_cancels_what_its_providers_are_still_doing) {
  // A health probe and a get that the provider would answer in 30 s: closing
  // the Store asks the provider to finish them now (ABI 1.2 cancel), and the
  // get's handler hears "unavailable" instead of a value half a minute later.
  // An instance dropped by a reload, with a get still in flight, is cancelled
  // too.
  std::promise<coffer::Result> current;
  std::promise<coffer::Result> dropped;
  {
    coffer::test::TempDirectory dir;
    auto slow = [](const std::string &name) {
      return "\"" + name +
             "\": {\"plugin\": \"memory\", \"config\": {\"delay_ms\": 30000, "
             "\"health_delay_ms\": 30000, \"values\": {\"Email.SMTPPassword\": \"x\"}}}";
    };
    auto file =
        dir.write("coffer.json", "{\"coffer\": 1, " + plugin_dirs_json() + ", \"providers\": {" +
                                     slow("old") + "}, \"routes\": {\"*\": \"old\"}}");
    coffer::StoreOptions options;
    options.log = [](coffer::LogLevel, std::string_view) {};
    Store store = Store::open(file, options);
    store.get_async("Email.SMTPPassword",
                    [&](coffer::Result r) { dropped.set_value(std::move(r)); });
    dir.write("coffer.json", "{\"coffer\": 1, " + plugin_dirs_json() + ", \"providers\": {" +
                                 slow("new") + "}, \"routes\": {\"*\": \"new\"}}");
    store.reload();
    store.get_async("Email.SMTPPassword",
                    [&](coffer::Result r) { current.set_value(std::move(r)); });
  }
  for (auto *promise : {&current, &dropped}) {
    auto answer = promise->get_future();
    // The Store's end waited for its callers: the answers are there (a
    // provider left to finish would answer after 30 s).
    BOOST_TEST_REQUIRE((answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready));
    coffer::Result r = answer.get();
    BOOST_TEST((r.code == Code::unavailable));
    BOOST_TEST(r.message.find("the instance is closing") != std::string::npos, r.message);
  }
}

BOOST_AUTO_TEST_CASE(move_assignment_shuts_the_old_store_down) {
  Store a = open(
      R"("providers": {"p": {"plugin": "memory", "config": {"values": {"Email.SMTPPassword": "a"}}}}, "routes": {"*": "p"})");
  Store b = open(
      R"("providers": {"p": {"plugin": "memory", "config": {"values": {"Email.SMTPPassword": "b"}}}}, "routes": {"*": "p"})");
  a = std::move(b);
  BOOST_TEST(a.get("Email.SMTPPassword").reveal() == "b");
}

BOOST_AUTO_TEST_SUITE_END()
