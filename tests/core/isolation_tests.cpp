// A provider that fails to open is isolated: its routes answer unavailable
// with the open error, the other providers serve, check() and the metrics
// report it, and a reload that fixes it brings it back. "on_open_failure":
// "fail" restores failing the whole load.
#include <coffer/store.hpp>

#include <boost/test/unit_test.hpp>

#include <map>

#include <mutex>
#include <sstream>

#include "temp_directory.hpp"
#include "test_policy.hpp"

using coffer::Code;
using coffer::Store;

namespace {

// `broken` refuses to open; `good` serves VCS and is the fallback of "*".
std::string policy(const std::string &broken_config = R"({"refuse_open": true})",
                   const std::string &extra = "") {
  return "{\"coffer\": 1, " + coffer::test::plugin_dirs_json() + extra +
         ",\n \"providers\": {\n  \"broken\": {\"plugin\": \"memory\", \"config\": " +
         broken_config +
         "},\n  \"good\": {\"plugin\": \"memory\", \"config\": {\"values\": "
         "{\"VCS.GithubAdminPAT\": \"from-good\", \"CIAdmin.JenkinsConfigureAPIToken\": "
         "\"ci-good\"}}}},\n \"routes\": {\"Email\": \"broken\", \"VCS\": \"good\", "
         "\"*\": [\"broken\", \"good\"]}}";
}

struct PolicyRecorder : coffer::Observer {
  std::mutex mutex;
  std::vector<coffer::PolicyEvent> events;
  void on_policy(const coffer::PolicyEvent &e) noexcept override {
    std::lock_guard lock(mutex);
    events.push_back(e);
  }
};

coffer::StoreOptions quiet() {
  coffer::StoreOptions options;
  options.log = [](coffer::LogLevel, std::string_view) {};
  return options;
}

double sample(const std::string &text, const std::string &series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(isolation)

BOOST_AUTO_TEST_CASE(a_provider_that_fails_to_open_is_isolated_and_the_others_serve) {
  auto recorder = std::make_shared<PolicyRecorder>();
  std::vector<std::string> errors;
  coffer::StoreOptions options;
  options.observer = recorder;
  options.log = [&](coffer::LogLevel level, std::string_view line) {
    if (level == coffer::LogLevel::error) errors.emplace_back(line);
  };
  Store store = Store::from_string(policy(), options);
  BOOST_TEST(store.get("VCS.GithubAdminPAT").reveal() == "from-good");
  // A fallback chain goes on past the isolated provider.
  auto fallback = store.try_get("CIAdmin.JenkinsConfigureAPIToken");
  BOOST_TEST(fallback.ok(), fallback.message);
  BOOST_TEST(fallback.provider == "good");
  // Its own route answers unavailable with the open error and where it is.
  auto r = store.try_get("Email.SMTPPassword");
  BOOST_TEST((r.code == Code::unavailable), r.message);
  BOOST_TEST(contains(r.message, "provider 'broken'"), r.message);
  BOOST_TEST(contains(r.message, "<string>:3:"), r.message);
  BOOST_TEST(contains(r.message, "refuse_open"), r.message);

  auto isolated = store.isolated_providers();
  BOOST_TEST_REQUIRE(isolated.size() == 1u);
  BOOST_TEST(isolated[0].provider == "broken");
  BOOST_TEST(contains(isolated[0].error, "failed to open"), isolated[0].error);
  {
    std::lock_guard lock(recorder->mutex);
    BOOST_TEST_REQUIRE(recorder->events.size() == 1u);
    BOOST_TEST(recorder->events[0].loaded);
    BOOST_TEST_REQUIRE(recorder->events[0].isolated.size() == 1u);
    BOOST_TEST(recorder->events[0].isolated[0].provider == "broken");
  }
  BOOST_TEST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(contains(errors[0], "is isolated"), errors[0]);
  BOOST_TEST(sample(store.metrics(), R"(coffer_provider_isolated{provider="broken"})") == 1);
}

BOOST_AUTO_TEST_CASE(a_missing_plugin_is_isolated_with_the_places_searched) {
  Store store = Store::from_string(
      policy().replace(policy().find("\"memory\""), 8, "\"no_such_plugin\""), quiet());
  auto r = store.try_get("Email.SMTPPassword");
  BOOST_TEST((r.code == Code::unavailable), r.message);
  BOOST_TEST(contains(r.message, "libno_such_plugin.so"), r.message);
  BOOST_TEST(store.get("VCS.GithubAdminPAT").reveal() == "from-good");
}

BOOST_AUTO_TEST_CASE(check_names_the_isolated_provider_and_fails) {
  Store store = Store::from_string(policy(), quiet());
  auto report = store.check();
  BOOST_TEST(!report.ok());
  BOOST_TEST_REQUIRE(report.problems.size() == 1u);
  BOOST_TEST(contains(report.problems[0], "provider 'broken'"), report.problems[0]);
  BOOST_TEST(contains(report.problems[0], "refuse_open"), report.problems[0]);
}

BOOST_AUTO_TEST_CASE(health_asks_every_provider_and_reports_the_isolated_one) {
  // "slow" answers after a while, "sick" is open but unhealthy, "hung" never
  // answers (it counts as a timeout), "broken" did not open.
  auto with_more_providers = [](std::string text, const std::string &more) {
    const std::string anchor = R"("providers": {)";
    return text.replace(text.find(anchor), anchor.size(), anchor + more);
  };
  Store store = Store::from_string(
      with_more_providers(policy(R"({"refuse_open": true})", R"(, "timeout_ms": 1000)"),
                          R"("slow": {"plugin": "memory", "config": {"health_delay_ms": 300}},)"
                          R"( "sick": {"plugin": "memory", "config": {"health": "unavailable", )"
                          R"("health_delay_ms": 300}},)"
                          R"( "hung": {"plugin": "memory", "config": {"hang": ["health"]}},)"),
      quiet());
  auto health = store.health();
  BOOST_TEST_REQUIRE(health.size() == 5u);
  std::map<std::string, coffer::ProviderHealth> by_name;
  for (auto &entry : health) by_name[entry.provider] = entry;
  BOOST_TEST((by_name.at("slow").code == Code::ok));
  BOOST_TEST((by_name.at("good").code == Code::ok));
  BOOST_TEST((by_name.at("sick").code == Code::unavailable));
  BOOST_TEST(by_name.at("sick").message == "unhealthy as configured");
  BOOST_TEST(!by_name.at("sick").isolated);
  BOOST_TEST((by_name.at("broken").code == Code::unavailable));
  BOOST_TEST(by_name.at("broken").isolated);
  BOOST_TEST(contains(by_name.at("broken").message, "refuse_open"), by_name.at("broken").message);
  BOOST_TEST((by_name.at("hung").code == Code::timeout), by_name.at("hung").message);
}

BOOST_AUTO_TEST_CASE(health_reports_an_isolated_provider_with_its_open_error) {
  Store store = Store::from_string(policy(), quiet());
  auto health = store.health();
  BOOST_TEST_REQUIRE(health.size() == 2u);
  BOOST_TEST(health[0].provider == "broken");
  BOOST_TEST(health[0].isolated);
  BOOST_TEST((health[0].code == Code::unavailable));
  BOOST_TEST(contains(health[0].message, "refuse_open"), health[0].message);
  BOOST_TEST(!health[1].isolated);
  BOOST_TEST((health[1].code == Code::ok));
}

BOOST_AUTO_TEST_CASE(explain_and_key_name_work_and_say_why) {
  Store store = Store::from_string(policy(), quiet());
  auto e = store.explain("Email.SMTPPassword");
  BOOST_TEST_REQUIRE(e.chain.size() == 1u);
  BOOST_TEST(e.chain[0].outcome == "unavailable");
  BOOST_TEST(contains(e.chain[0].note, "refuse_open"), e.chain[0].note);
  BOOST_TEST(store.key_name("VCS.GithubAdminPAT", "good") == "mem:VCS.GithubAdminPAT");
  try {
    (void)store.key_name("Email.SMTPPassword", "broken");
    BOOST_FAIL("expected an error");
  } catch (const coffer::Error &error) {
    BOOST_TEST((error.code() == Code::unavailable));
    BOOST_TEST(contains(error.what(), "refuse_open"), error.what());
  }
}

BOOST_AUTO_TEST_CASE(a_prompt_configuration_error_from_health_isolates_the_provider) {
  Store store = Store::from_string(policy(R"({"health": "invalid_config"})"), quiet());
  auto r = store.try_get("Email.SMTPPassword");
  BOOST_TEST((r.code == Code::unavailable), r.message);
  BOOST_TEST(contains(r.message, "unhealthy as configured"), r.message);
  BOOST_TEST(contains(r.message, "<string>:3:"), r.message);
  BOOST_TEST(store.get("VCS.GithubAdminPAT").reveal() == "from-good");
  BOOST_TEST(store.isolated_providers().size() == 1u);
}

BOOST_AUTO_TEST_CASE(on_open_failure_fail_fails_the_whole_load) {
  for (const auto &text :
       {policy(R"({"refuse_open": true})", R"(, "on_open_failure": "fail")"),
        policy(R"({"health": "invalid_config"})", R"(, "on_open_failure": "fail")")}) {
    try {
      Store::from_string(text, quiet());
      BOOST_FAIL("expected the load to fail");
    } catch (const coffer::Error &error) {
      BOOST_TEST((error.code() == Code::invalid_config));
      BOOST_TEST(contains(error.what(), "provider 'broken'"), error.what());
    }
  }
}

BOOST_AUTO_TEST_CASE(the_host_can_override_the_policy_either_way) {
  coffer::StoreOptions fail = quiet();
  fail.open_failures = coffer::OpenFailures::fail;
  BOOST_CHECK_THROW(Store::from_string(policy(), fail), coffer::Error);
  coffer::StoreOptions isolate = quiet();
  isolate.open_failures = coffer::OpenFailures::isolate;
  Store store = Store::from_string(
      policy(R"({"refuse_open": true})", R"(, "on_open_failure": "fail")"), isolate);
  BOOST_TEST(store.isolated_providers().size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_unknown_on_open_failure_value_is_named) {
  try {
    Store::from_string(policy(R"({})", R"(, "on_open_failure": "ignore")"), quiet());
    BOOST_FAIL("expected the load to fail");
  } catch (const coffer::Error &error) {
    BOOST_TEST(contains(error.what(), "<string>:1:"), error.what());
    BOOST_TEST(contains(error.what(), "\"isolate\" or \"fail\""), error.what());
  }
}

BOOST_AUTO_TEST_CASE(a_reload_that_fixes_the_provider_brings_it_back) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json", policy());
  Store store = Store::open(file, quiet());
  BOOST_TEST((store.try_get("Email.SMTPPassword").code == Code::unavailable));
  dir.write("coffer.json", policy(R"({"values": {"Email.SMTPPassword": "back"}})"));
  store.reload();
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "back");
  BOOST_TEST(store.isolated_providers().empty());
  BOOST_TEST(!contains(store.metrics(), "coffer_provider_isolated{"));
  // The same failure again, after a reload that changes nothing else, is
  // tried again rather than kept: still isolated, with its error.
  dir.write("coffer.json", policy());
  store.reload();
  store.reload();
  BOOST_TEST(store.isolated_providers().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
