// Metrics (Prometheus text), the audit log, and change notification across a
// policy switch, over the in-memory test provider.
#include <coffer/audit.hpp>
#include <coffer/store.hpp>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>

#include <condition_variable>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "temp_directory.hpp"
#include "test_policy.hpp"

using coffer::Code;
using coffer::Store;

namespace {

const std::string kValue = "s3cr3t-VALUE-8b1e";  // must never appear in an audit line
const std::string kOther = "0ther-VALUE-77c2";

std::string policy(const std::string &extra = "") {
  return "{\"coffer\": 1, " + coffer::test::plugin_dirs_json() +
         ",\n \"providers\": {\"p\": {\"plugin\": \"memory\", \"config\": {\"values\": "
         "{\"Email.SMTPPassword\": \"" +
         kValue + "\", \"VCS.GithubAdminPAT\": \"" + kOther +
         "\"}, \"fail\": {\"CIAdmin.JenkinsConfigureAPIToken\": \"unavailable\"}}}},\n \"routes\": "
         "{\"*\": "
         "\"p\"}" +
         extra + "}";
}

std::string read_file(const std::filesystem::path &file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The value of one sample line of the exposition, or -1 when absent.
double sample(const std::string &text, const std::string &series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

struct LogLines {
  std::mutex mutex;
  std::vector<std::string> lines;
  coffer::LogSink sink() {
    return [this](coffer::LogLevel, std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
    };
  }
  std::size_t count_containing(const std::string &text) {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const auto &l : lines) n += l.find(text) != std::string::npos ? 1 : 0;
    return n;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(requests_outcomes_hits_and_latency_are_counted_per_provider_and_category) {
  Store store = Store::from_string(policy());
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == kValue);  // miss: asks p
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == kValue);  // hit
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == kValue);  // hit
  BOOST_TEST((store.try_get("VCS.GitlabAdminPAT").code == Code::not_found));
  BOOST_TEST((store.try_get("CIAdmin.JenkinsConfigureAPIToken").code == Code::unavailable));
  store.put("VCS.GithubAdminPAT", coffer::Secret::copy_of(std::string_view("new")));
  std::string text = store.metrics();
  BOOST_TEST_MESSAGE(text);
  BOOST_TEST(sample(text,
                    "coffer_requests_total{provider=\"p\",category=\"Email\",operation="
                    "\"get\",outcome=\"ok\"}") == 3);
  BOOST_TEST(sample(text, "coffer_cache_hits_total{provider=\"p\",category=\"Email\"}") == 2);
  BOOST_TEST(sample(text,
                    "coffer_request_duration_seconds_count{provider=\"p\",category="
                    "\"Email\",operation=\"get\"}") == 1);
  BOOST_TEST(sample(text,
                    "coffer_request_duration_seconds_bucket{provider=\"p\",category="
                    "\"Email\",operation=\"get\",le=\"+Inf\"}") == 1);
  BOOST_TEST(sample(text,
                    "coffer_requests_total{provider=\"p\",category=\"VCS\",operation="
                    "\"get\",outcome=\"not_found\"}") == 1);
  // p failed and the chain went on (to nothing): a fallback.
  BOOST_TEST(sample(text,
                    "coffer_fallbacks_total{provider=\"p\",category=\"CIAdmin\",outcome="
                    "\"unavailable\"}") == 1);
  BOOST_TEST(sample(text,
                    "coffer_requests_total{provider=\"p\",category=\"CIAdmin\",operation="
                    "\"get\",outcome=\"unavailable\"}") == 1);
  BOOST_TEST(sample(text,
                    "coffer_requests_total{provider=\"p\",category=\"VCS\",operation="
                    "\"put\",outcome=\"ok\"}") == 1);
  BOOST_TEST(text.find("# TYPE coffer_request_duration_seconds histogram") != std::string::npos);
  // Labels carry providers and categories only: never key names, never values.
  BOOST_TEST(text.find("SMTPPassword") == std::string::npos);
  BOOST_TEST(text.find(kValue) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(hits_from_many_threads_are_all_counted) {
  Store store = Store::from_string(policy());
  store.get("Email.SMTPPassword");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) store.get("Email.SMTPPassword");
    });
  for (auto &t : threads) t.join();
  BOOST_TEST(sample(store.metrics(),
                    "coffer_cache_hits_total{provider=\"p\",category=\"Email\"}") == 40000);
}

BOOST_AUTO_TEST_CASE(an_observer_that_blocks_on_a_cache_hit_does_not_hold_up_a_reload) {
  // Observers run after the hit's read section: a reload (which waits for
  // every read section open before it) completes while an observer blocks.
  struct Blocking : coffer::Observer {
    std::mutex mutex;
    std::condition_variable changed;
    bool blocking = false;
    bool reloaded = false;
    bool armed = false;
    bool gave_up = false;  // the reload did not complete while this blocked
    void on_access(const coffer::AccessEvent &event) noexcept override {
      if (!event.cache_hit) return;
      std::unique_lock lock(mutex);
      if (!armed) return;
      armed = false;
      blocking = true;
      changed.notify_all();
      gave_up = !changed.wait_for(lock, std::chrono::seconds(5), [&] { return reloaded; });
    }
  };
  auto observer = std::make_shared<Blocking>();
  coffer::StoreOptions options;
  options.observer = observer;
  Store store = Store::from_string(policy(), options);
  store.get("Email.SMTPPassword");  // cached
  {
    std::lock_guard lock(observer->mutex);
    observer->armed = true;
  }
  std::jthread hit([&] { store.get("Email.SMTPPassword"); });
  {
    std::unique_lock lock(observer->mutex);
    BOOST_TEST_REQUIRE(observer->changed.wait_for(lock, std::chrono::seconds(10),
                                                  [&] { return observer->blocking; }),
                       "the observer never saw the cache hit");
  }
  // Would wait for the observer if it ran inside the section; the observer
  // gives up after 5 s, and then the reload completes and the test fails.
  store.reload();
  {
    std::lock_guard lock(observer->mutex);
    observer->reloaded = true;
  }
  observer->changed.notify_all();
  hit.join();
  BOOST_TEST(!observer->gave_up, "the reload waited for an observer of a cache hit");
  BOOST_TEST(store.generation() == 2u);
}

BOOST_AUTO_TEST_CASE(provider_counters_reloads_and_generation_are_exported) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json", policy());
  coffer::StoreOptions options;
  options.log = [](coffer::LogLevel, std::string_view) {};
  Store store = Store::open(file, options);
  store.admin("p", "count", R"({"counter": "retries", "delta": 3})");
  store.admin("p", "count", R"({"counter": "token_exchanges", "delta": 1})");
  store.admin("p", "count", R"({"counter": "Odd Name!", "delta": 2})");
  dir.write("coffer.json", policy(", \"timeout_ms\": 5000"));
  store.reload();
  dir.write("coffer.json", "{ broken");
  BOOST_CHECK_THROW(store.reload(), coffer::Error);
  std::string text = store.metrics();
  BOOST_TEST(sample(text, "coffer_provider_retries_total{provider=\"p\"}") == 3);
  BOOST_TEST(sample(text, "coffer_provider_token_exchanges_total{provider=\"p\"}") == 1);
  BOOST_TEST(sample(text, "coffer_provider_odd_name__total{provider=\"p\"}") == 2);
  // The documented counters are declared even before anything reports them.
  for (const char *name : {"retries", "reconnects", "token_exchanges"})
    BOOST_TEST(text.find(std::string("# TYPE coffer_provider_") + name + "_total counter") !=
                   std::string::npos,
               name);
  BOOST_TEST(sample(text, "coffer_policy_reloads_total{result=\"success\"}") == 1);
  BOOST_TEST(sample(text, "coffer_policy_reloads_total{result=\"failure\"}") == 1);
  BOOST_TEST(sample(text, "coffer_policy_generation") == 2);
  BOOST_TEST(sample(text, "coffer_audit_write_failures_total") == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(audit)

BOOST_AUTO_TEST_CASE(every_access_is_a_json_line_without_the_value_in_a_private_file) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json",
                        policy(",\n \"audit\": {\"file\": \"audit.log\", \"max_bytes\": 0}"));
  coffer::StoreOptions options;
  options.caller = "billing-service";
  {
    Store store = Store::open(file, options);
    store.get("Email.SMTPPassword");
    store.get("Email.SMTPPassword");
    coffer::GetOptions as_batch;
    as_batch.caller = "nightly-batch";
    store.try_get("CIAdmin.JenkinsConfigureAPIToken", as_batch);
    store.put("VCS.GithubAdminPAT", coffer::Secret::copy_of(std::string_view(kOther + "2")));
  }
  auto log = dir.path() / "audit.log";
  struct stat st {};
  BOOST_REQUIRE(::stat(log.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  std::string text = read_file(log);
  BOOST_TEST(text.find(kValue) == std::string::npos);
  BOOST_TEST(text.find(kOther) == std::string::npos);
  std::vector<boost::json::object> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(boost::json::parse(line).as_object());
  BOOST_REQUIRE(lines.size() == 5u);  // the load, two gets, a failed get, a put
  BOOST_TEST(lines[0].at("operation").as_string() == "policy_load");
  const auto &miss = lines[1];
  BOOST_TEST(miss.at("key").as_string() == "Email.SMTPPassword");
  BOOST_TEST(miss.at("category").as_string() == "Email");
  BOOST_TEST(miss.at("provider").as_string() == "p");
  BOOST_TEST(miss.at("operation").as_string() == "get");
  BOOST_TEST(miss.at("outcome").as_string() == "ok");
  BOOST_TEST(miss.at("cache_hit").as_bool() == false);
  BOOST_TEST(miss.at("caller").as_string() == "billing-service");
  BOOST_TEST(miss.contains("latency_us"));
  BOOST_TEST(miss.at("time").as_string().size() == 24u);  // 2026-11-28T08:40:00.123Z
  BOOST_TEST(lines[2].at("cache_hit").as_bool() == true);
  BOOST_TEST(lines[3].at("outcome").as_string() == "unavailable");
  BOOST_TEST(lines[3].at("caller").as_string() == "nightly-batch");
  BOOST_TEST(lines[4].at("operation").as_string() == "put");
}

BOOST_AUTO_TEST_CASE(an_administrative_action_is_a_line_with_who_acted) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json",
                        policy(",\n \"audit\": {\"file\": \"audit.log\", \"max_bytes\": 0}"));
  {
    Store store = Store::open(file);
    coffer::Peer peer;
    peer.client = "admin-panel 127.0.0.1";
    coffer::AccessEvent login;
    login.operation = "login";
    login.outcome = Code::ok;
    login.caller = "admin:admin-token";
    login.peer = &peer;
    BOOST_TEST(store.audit(login));
  }
  std::string text = read_file(dir.path() / "audit.log");
  std::vector<boost::json::object> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(boost::json::parse(line).as_object());
  BOOST_REQUIRE(lines.size() == 2u);  // the load, the login
  BOOST_TEST(lines[1].at("operation").as_string() == "login");
  BOOST_TEST(lines[1].at("caller").as_string() == "admin:admin-token");
  BOOST_TEST(lines[1].at("peer").at("client").as_string() == "admin-panel 127.0.0.1");
  BOOST_TEST(lines[1].at("key").as_string().empty());
}

BOOST_AUTO_TEST_CASE(the_log_rotates_by_size_and_keeps_the_configured_number_of_files) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json",
                        policy(",\n \"audit\": {\"file\": \"audit.log\", \"max_bytes\": 1000, "
                               "\"keep\": 2}"));
  Store store = Store::open(file);
  for (int i = 0; i < 60; ++i) store.get("Email.SMTPPassword");
  auto base = dir.path() / "audit.log";
  for (const auto &f : {base, dir.path() / "audit.log.1", dir.path() / "audit.log.2"}) {
    BOOST_REQUIRE_MESSAGE(std::filesystem::exists(f), f);
    BOOST_TEST(std::filesystem::file_size(f) <= 1000u);
    struct stat st {};
    ::stat(f.c_str(), &st);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    std::string text = read_file(f);
    BOOST_TEST(text.find(kValue) == std::string::npos);
    BOOST_TEST(text.back() == '\n');  // whole lines only
  }
  BOOST_TEST(!std::filesystem::exists(dir.path() / "audit.log.3"));
}

// While it lives, every write that would grow a regular file fails with EFBIG
// (the audit log must be a regular file, so /dev/full cannot stand in for a
// full disk).
struct NoFileGrowth {
  struct rlimit saved {};
  void (*saved_handler)(int) = ::signal(SIGXFSZ, SIG_IGN);
  NoFileGrowth() {
    ::getrlimit(RLIMIT_FSIZE, &saved);
    struct rlimit none = saved;
    none.rlim_cur = 0;
    BOOST_REQUIRE(::setrlimit(RLIMIT_FSIZE, &none) == 0);
  }
  ~NoFileGrowth() {
    ::setrlimit(RLIMIT_FSIZE, &saved);
    ::signal(SIGXFSZ, saved_handler);
  }
};

BOOST_AUTO_TEST_CASE(a_write_failure_is_reported_and_counted_and_gets_go_on) {
  LogLines log;
  coffer::StoreOptions options;
  options.log = log.sink();
  coffer::test::TempDirectory dir;
  auto file = dir.path() / "audit.log";
  Store store =
      Store::from_string(policy(",\n \"audit\": {\"file\": \"" + file.string() + "\"}"), options);
  {
    NoFileGrowth full_disk;
    for (int i = 0; i < 5; ++i) BOOST_TEST(store.get("Email.SMTPPassword").reveal() == kValue);
  }
  // Reported once for the run of failures, counted for every line.
  BOOST_TEST(log.count_containing("audit log " + file.string() + ": cannot write") == 1u);
  BOOST_TEST(sample(store.metrics(), "coffer_audit_write_failures_total") >= 5);
}

BOOST_AUTO_TEST_CASE(an_existing_file_readable_by_others_is_narrowed_to_0600) {
  coffer::test::TempDirectory dir;
  auto log = dir.write("audit.log", "");
  std::filesystem::permissions(log, std::filesystem::perms(0644));
  LogLines lines;
  coffer::AuditLog audit({log}, lines.sink());
  struct stat st {};
  ::stat(log.c_str(), &st);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  BOOST_TEST(lines.count_containing("narrowed to 0600") == 1u);
}

BOOST_AUTO_TEST_CASE(an_audit_file_that_cannot_be_opened_fails_the_load_naming_it) {
  try {
    Store::from_string(policy(",\n \"audit\": {\"file\": \"/nonexistent-dir/audit.log\"}"));
    BOOST_FAIL("expected the load to fail");
  } catch (const coffer::Error &e) {
    BOOST_TEST((e.code() == Code::invalid_config));
    BOOST_TEST(std::string(e.what()).find("/nonexistent-dir/audit.log") != std::string::npos,
               e.what());
  }
}

namespace {
std::vector<boost::json::object> audit_lines(const std::filesystem::path &file) {
  std::vector<boost::json::object> lines;
  std::istringstream in(read_file(file));
  std::string line;
  while (std::getline(in, line)) lines.push_back(boost::json::parse(line).as_object());
  return lines;
}

// A Store whose audit log is DIR/logs/audit.log, failing closed or not.
struct AuditedStore {
  coffer::test::TempDirectory dir;
  std::filesystem::path logs = dir.path() / "logs";
  LogLines log;
  std::optional<Store> store;
  explicit AuditedStore(bool fail_closed) {
    std::filesystem::create_directory(logs);
    coffer::StoreOptions options;
    options.log = log.sink();
    auto file = dir.write("coffer.json", policy(",\n \"audit\": {\"file\": \"logs/audit.log\", "
                                                "\"fail_closed\": " +
                                                std::string(fail_closed ? "true" : "false") + "}"));
    store.emplace(Store::open(file, options));
  }
  [[nodiscard]] std::int64_t puts() {
    return boost::json::parse(store->admin("p", "stats")).as_object().at("puts").as_int64();
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(lines_name_the_process_by_pid_uid_and_executable) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json", policy(",\n \"audit\": {\"file\": \"audit.log\"}"));
  {
    Store store = Store::open(file);
    store.get("Email.SMTPPassword");
  }
  auto lines = audit_lines(dir.path() / "audit.log");
  BOOST_REQUIRE(lines.size() == 2u);  // the load and the get
  auto exe = std::filesystem::read_symlink("/proc/self/exe").string();
  for (const auto &line : lines) {
    BOOST_TEST(line.at("pid").to_number<std::int64_t>() == ::getpid());
    BOOST_TEST(line.at("uid").to_number<std::uint64_t>() == ::getuid());
    BOOST_TEST(line.at("exe").as_string() == exe);
  }
}

BOOST_AUTO_TEST_CASE(fail_closed_refuses_what_the_audit_log_cannot_record) {
  AuditedStore audited(true);
  Store &store = *audited.store;
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == kValue);
  std::filesystem::remove_all(audited.logs);  // lines can go nowhere now
  // A get, even one the cache could answer, withholds the value.
  auto r = store.try_get("Email.SMTPPassword");
  BOOST_TEST((r.code == Code::unavailable), r.message);
  BOOST_TEST(r.secret.empty());
  BOOST_TEST(
      r.message.find("audit.log cannot record the access (audit.fail_closed)") != std::string::npos,
      r.message);
  BOOST_TEST(r.message.find(kValue) == std::string::npos);
  BOOST_CHECK_THROW(store.get("Email.SMTPPassword"), coffer::Error);
  auto from = store.get_from("p", "Email.SMTPPassword");
  BOOST_TEST((from.code == Code::unavailable), from.message);
  BOOST_TEST(from.secret.empty());
  // Writes are not even attempted.
  auto puts = audited.puts();
  try {
    (void)store.put("VCS.GithubAdminPAT", coffer::Secret::copy_of(std::string_view("new")));
    BOOST_FAIL("expected the put to be refused");
  } catch (const coffer::Error &e) {
    BOOST_TEST((e.code() == Code::unavailable));
    BOOST_TEST(std::string(e.what()).find("audit.fail_closed") != std::string::npos, e.what());
  }
  BOOST_CHECK_THROW(store.remove("VCS.GithubAdminPAT"), coffer::Error);
  BOOST_TEST(audited.puts() == puts);
  BOOST_TEST(audited.log.count_containing("accesses are refused") == 1u);
  BOOST_TEST(sample(store.metrics(),
                    "coffer_requests_total{provider=\"p\",category=\"Email\","
                    "operation=\"get\",outcome=\"unavailable\"}") >= 2);
  // Once the log can be written again, accesses are served and recorded.
  std::filesystem::create_directory(audited.logs);
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == kValue);
  auto lines = audit_lines(audited.logs / "audit.log");
  BOOST_REQUIRE(lines.size() == 1u);
  BOOST_TEST(lines[0].at("outcome").as_string() == "ok");
}

BOOST_AUTO_TEST_CASE(without_fail_closed_the_access_is_served_and_the_lost_line_counted) {
  AuditedStore audited(false);
  Store &store = *audited.store;
  std::filesystem::remove_all(audited.logs);
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == kValue);
  BOOST_TEST(
      store.put("VCS.GithubAdminPAT", coffer::Secret::copy_of(std::string_view("new"))).size() >
      0u);
  BOOST_TEST(sample(store.metrics(), "coffer_audit_write_failures_total") >= 2);
  BOOST_TEST(audited.log.count_containing("lines are being lost") == 1u);
}

BOOST_AUTO_TEST_CASE(a_removed_audit_file_is_created_again_at_its_path) {
  AuditedStore audited(false);
  Store &store = *audited.store;
  std::filesystem::remove(audited.logs / "audit.log");
  store.get("Email.SMTPPassword");
  auto lines = audit_lines(audited.logs / "audit.log");
  BOOST_REQUIRE(lines.size() == 1u);
  BOOST_TEST(lines[0].at("key").as_string() == "Email.SMTPPassword");
  struct stat st {};
  BOOST_REQUIRE(::stat((audited.logs / "audit.log").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
}

BOOST_AUTO_TEST_CASE(fail_closed_must_be_a_boolean) {
  try {
    Store::from_string(policy(",\n \"audit\": {\"file\": \"a.log\", \"fail_closed\": \"yes\"}"));
    BOOST_FAIL("expected the load to fail");
  } catch (const coffer::Error &e) {
    std::string what = e.what();
    BOOST_TEST(what.find("<string>:4:") != std::string::npos, what);
    BOOST_TEST(what.find("expected true or false") != std::string::npos, what);
  }
}

BOOST_AUTO_TEST_CASE(unknown_audit_fields_are_named_with_line_and_column) {
  try {
    Store::from_string(policy(",\n \"audit\": {\"file\": \"a.log\", \"max_byte\": 10}"));
    BOOST_FAIL("expected the load to fail");
  } catch (const coffer::Error &e) {
    std::string what = e.what();
    BOOST_TEST(what.find("<string>:4:") != std::string::npos, what);
    BOOST_TEST(what.find("max_bytes") != std::string::npos, what);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(change_notification)

namespace {
std::string two_providers(const std::string &q_value, const std::string &route) {
  return "{\"coffer\": 1, " + coffer::test::plugin_dirs_json() +
         ",\n \"providers\": {\"p\": {\"plugin\": \"memory\", \"config\": {\"values\": "
         "{\"Email.SMTPPassword\": \"" +
         kValue +
         "\"}}},\n \"q\": {\"plugin\": \"memory\", \"config\": {\"values\": "
         "{\"Email.SMTPPassword\": \"" +
         q_value + "\"}}}},\n \"routes\": {\"*\": \"" + route + "\"}}";
}

struct Events {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<coffer::ChangeEvent> seen;
  void add(const coffer::ChangeEvent &e) {
    std::lock_guard lock(mutex);
    seen.push_back(e);
    changed.notify_all();
  }
  bool wait_for(std::size_t n, std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, [&] { return seen.size() >= n; });
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(a_switch_to_a_provider_with_another_value_is_a_change_and_same_value_is_not) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json", two_providers(kValue, "p"));
  coffer::StoreOptions options;
  options.subscription_refresh = std::chrono::milliseconds(100);
  Store store = Store::open(file, options);
  Events events;
  auto subscription =
      store.subscribe("Email", [&](const coffer::ChangeEvent &e) { events.add(e); });
  store.get("Email.SMTPPassword");
  // Same value in q: the switch is not a change.
  dir.write("coffer.json", two_providers(kValue, "q"));
  store.reload();
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == kValue);
  BOOST_TEST(!events.wait_for(1, std::chrono::milliseconds(600)));
  // Back to p, then to a q holding another value: one change, naming q.
  dir.write("coffer.json", two_providers(kOther, "p"));
  store.reload();
  store.get("Email.SMTPPassword");
  BOOST_TEST(!events.wait_for(1, std::chrono::milliseconds(400)));
  dir.write("coffer.json", two_providers(kOther, "q"));
  store.reload();
  BOOST_REQUIRE(events.wait_for(1, std::chrono::seconds(10)));
  std::lock_guard lock(events.mutex);
  BOOST_TEST(events.seen.size() == 1u);
  BOOST_TEST(events.seen[0].key == "Email.SMTPPassword");
  BOOST_TEST(events.seen[0].provider == "q");
  BOOST_TEST(events.seen[0].old_provider == "p");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(audit_reload)

BOOST_AUTO_TEST_CASE(a_reload_that_drops_the_audit_log_is_recorded_in_it) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json", policy(",\n \"audit\": {\"file\": \"audit.log\"}"));
  Store store = Store::open(file);
  store.get("Email.SMTPPassword");
  dir.write("coffer.json", policy());
  store.reload();
  store.get("Email.SMTPPassword");
  std::string text = read_file(dir.path() / "audit.log");
  std::vector<boost::json::object> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(boost::json::parse(line).as_object());
  BOOST_REQUIRE(lines.size() == 3u);  // load, get, the reload that turned it off
  BOOST_TEST(lines[2].at("operation").as_string() == "policy_load");
  BOOST_TEST(lines[2].at("generation").as_int64() == 2);
}

BOOST_AUTO_TEST_SUITE_END()
