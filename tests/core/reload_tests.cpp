#include <coffer/store.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "temp_directory.hpp"
#include "test_policy.hpp"

using coffer::Code;
using coffer::Store;

namespace {

std::string policy(const std::string &value, const std::string &extra = "") {
  return "{\"coffer\": 1, " + coffer::test::plugin_dirs_json() +
         ", \"providers\": {\"p\": {\"plugin\": \"memory\", \"config\": {\"values\": "
         "{\"Email.SMTPPassword\": \"" +
         value + "\"}}}" + extra + "}, \"routes\": {\"*\": \"p\"}}";
}

struct PolicyRecorder : coffer::Observer {
  std::mutex mutex;
  std::vector<coffer::PolicyEvent> events;
  void on_policy(const coffer::PolicyEvent &e) noexcept override {
    std::lock_guard lock(mutex);
    events.push_back(e);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(reload)

BOOST_AUTO_TEST_CASE(a_catalog_held_across_a_reload_stays_whole) {
  coffer::test::TempDirectory dir;
  dir.write("extra.json", R"({"keys": [{"key": "Extra.HeldKey", "description": "held"}]})");
  auto with_catalog = [](const std::string &catalogs) {
    return "{\"coffer\": 1, " + coffer::test::plugin_dirs_json() + ", \"catalogs\": [" + catalogs +
           "], \"providers\": {\"p\": {\"plugin\": \"memory\"}}, " + "\"routes\": {\"*\": \"p\"}}";
  };
  auto file = dir.write("coffer.json", with_catalog("\"extra.json\""));
  Store store = Store::open(file);
  std::shared_ptr<const coffer::Catalog> held = store.catalog();
  dir.write("coffer.json", with_catalog(""));
  store.reload();
  BOOST_TEST(!store.catalog()->contains("Extra.HeldKey"));
  // The catalog of the previous policy is still whole for whoever holds it.
  BOOST_TEST_REQUIRE(held->contains("Extra.HeldKey"));
  BOOST_TEST(held->find("Extra.HeldKey")->description == "held");
  BOOST_TEST(held->entries().size() == store.catalog()->entries().size() + 1);
}

BOOST_AUTO_TEST_CASE(a_policy_that_fails_to_load_keeps_the_old_one_and_says_so) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json", policy("v1"));
  auto recorder = std::make_shared<PolicyRecorder>();
  std::vector<std::string> log;
  std::mutex log_mutex;
  coffer::StoreOptions options;
  options.observer = recorder;
  options.log = [&](coffer::LogLevel, std::string_view line) {
    std::lock_guard lock(log_mutex);
    log.emplace_back(line);
  };
  Store store = Store::open(file, options);
  BOOST_TEST(store.generation() == 1u);
  dir.write("coffer.json",
            "{\"coffer\": 1,\n \"providers\": {\"p\": {\"plugin\": \"memory\"}},\n \"routes\": "
            "{\"*\": \"q\"}}");
  try {
    store.reload();
    BOOST_FAIL("expected the reload to fail");
  } catch (const coffer::Error &e) {
    BOOST_TEST(std::string(e.what()).find("coffer.json:3:") != std::string::npos, e.what());
  }
  BOOST_TEST(store.generation() == 1u);
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "v1");
  std::lock_guard lock(recorder->mutex);
  BOOST_TEST_REQUIRE(recorder->events.size() == 2u);
  BOOST_TEST(!recorder->events[1].loaded);
  BOOST_TEST(recorder->events[1].message.find("no provider named 'q'") != std::string::npos);
  std::lock_guard log_lock(log_mutex);
  bool logged = false;
  for (const auto &line : log)
    logged = logged || line.find("keeping generation 1") != std::string::npos;
  BOOST_TEST(logged);
}

BOOST_AUTO_TEST_CASE(unchanged_providers_keep_their_instance_and_cache) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json", policy("v1"));
  Store store = Store::open(file);
  (void)store.get("Email.SMTPPassword");
  dir.write("coffer.json", policy("v1", ", \"other\": {\"plugin\": \"memory\"}"));
  store.reload();
  BOOST_TEST(store.generation() == 2u);
  (void)store.get("Email.SMTPPassword");
  // Same instance (its counter kept counting) and its cache survived.
  BOOST_TEST(boost::json::parse(store.admin("p", "stats")).at("gets").as_int64() == 1);
  dir.write("coffer.json", policy("v2"));
  store.reload();
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "v2");
}

BOOST_AUTO_TEST_CASE(fifty_reloads_while_four_threads_get_give_zero_failures) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json", policy("v0"));
  coffer::StoreOptions options;
  options.log_level = coffer::LogLevel::error;
  Store store = Store::open(file, options);
  std::atomic<bool> stop{false};
  std::atomic<long> reads{0};
  std::atomic<long> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        auto r = store.try_get("Email.SMTPPassword");
        if (!r.ok() || r.secret.reveal().substr(0, 1) != "v") ++failures;
        ++reads;
      }
    });
  }
  for (int i = 1; i <= 50; ++i) {
    // Alternate between a changed configuration (a new instance) and a
    // changed cache setting (instance kept).
    dir.write("coffer.json", policy("v" + std::to_string(i)));
    store.reload();
  }
  stop = true;
  for (auto &t : readers) t.join();
  BOOST_TEST(store.generation() == 51u);
  BOOST_TEST(failures == 0);
  BOOST_TEST(reads > 0);
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "v50");
}

BOOST_AUTO_TEST_CASE(watched_policy_file_reloads_on_change) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json", policy("before"));
  coffer::StoreOptions options;
  options.watch_policy = true;
  options.log_level = coffer::LogLevel::error;
  Store store = Store::open(file, options);
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "before");
  // Replace the file the way editors do: write a new one and rename it over.
  dir.write("coffer.json.tmp", policy("after-rename"));
  std::filesystem::rename(dir.path() / "coffer.json.tmp", file);
  for (int i = 0; i < 100 && store.generation() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_TEST(store.generation() == 2u);
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "after-rename");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(watch)

BOOST_AUTO_TEST_CASE(a_bad_edit_keeps_serving_and_is_reported_then_a_fix_loads) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("coffer.json", policy("good"));
  auto recorder = std::make_shared<PolicyRecorder>();
  coffer::StoreOptions options;
  options.watch_policy = true;
  options.observer = recorder;
  options.log = [](coffer::LogLevel, std::string_view) {};
  Store store = Store::open(file, options);
  dir.write("coffer.json",
            "{\"coffer\": 1,\n  \"providers\": {\"p\": {\"plugin\": \"memory\"}},\n  \"routes\": "
            "{\"*\": \"p\"},\n  \"cache\": {\"ttl\": 5}\n}");
  auto failed = [&] {
    std::lock_guard lock(recorder->mutex);
    for (const auto &e : recorder->events)
      if (!e.loaded) return true;
    return false;
  };
  for (int i = 0; i < 100 && !failed(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_TEST_REQUIRE(failed());
  {
    std::lock_guard lock(recorder->mutex);
    const auto &event = recorder->events.back();
    BOOST_TEST(event.message.find("coffer.json:4:") != std::string::npos, event.message);
    BOOST_TEST(event.message.find("did you mean 'ttl_s'") != std::string::npos, event.message);
    BOOST_TEST(event.generation == 1u);
  }
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "good");
  dir.write("coffer.json", policy("fixed"));
  for (int i = 0; i < 100 && store.generation() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "fixed");
}

BOOST_AUTO_TEST_CASE(a_configmap_style_symlink_swap_is_seen) {
  // Kubernetes mounts a ConfigMap as NAME -> ..data/NAME, ..data -> a dated
  // directory, and updates it by renaming a new ..data symlink over the old.
  coffer::test::TempDirectory dir;
  namespace fs = std::filesystem;
  fs::create_directory(dir.path() / "v1");
  fs::create_directory(dir.path() / "v2");
  dir.write("v1/coffer.json", policy("first"));
  dir.write("v2/coffer.json", policy("second"));
  fs::create_directory_symlink("v1", dir.path() / "..data");
  fs::create_symlink("..data/coffer.json", dir.path() / "coffer.json");
  coffer::StoreOptions options;
  options.watch_policy = true;
  options.log_level = coffer::LogLevel::error;
  Store store = Store::open(dir.path() / "coffer.json", options);
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "first");
  fs::create_directory_symlink("v2", dir.path() / "..data_tmp");
  fs::rename(dir.path() / "..data_tmp", dir.path() / "..data");
  for (int i = 0; i < 100 && store.generation() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_TEST(store.generation() == 2u);
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "second");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(health_at_load)

namespace {
std::string with_health(const std::string &health, int delay_ms) {
  return "{\"coffer\": 1, " + coffer::test::plugin_dirs_json() +
         ", \"on_open_failure\": \"fail\", \"providers\": {\"p\": {\"plugin\": \"memory\", "
         "\"config\": {\"values\": {\"Email.SMTPPassword\": \"v\"}, \"health\": \"" +
         health + "\", \"health_delay_ms\": " + std::to_string(delay_ms) +
         "}}}, \"routes\": {\"*\": \"p\"}}";
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_provider_that_promptly_reports_a_configuration_error_fails_the_load) {
  try {
    Store::from_string(with_health("invalid_config", 0));
    BOOST_FAIL("expected the load to fail");
  } catch (const coffer::Error &e) {
    BOOST_TEST((e.code() == Code::invalid_config));
    BOOST_TEST(std::string(e.what()).find("provider 'p'") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(a_slow_health_check_does_not_hold_up_the_load_and_is_logged_when_it_answers) {
  std::mutex mutex;
  std::condition_variable logged;
  std::vector<std::string> lines;
  coffer::StoreOptions options;
  options.log = [&](coffer::LogLevel, std::string_view line) {
    std::lock_guard lock(mutex);
    lines.emplace_back(line);
    logged.notify_all();
  };
  // The provider answers its health check 3 s late; the Store is open and
  // serving long before.
  Store store = Store::from_string(with_health("unavailable", 3000), options);
  BOOST_TEST(store.get("Email.SMTPPassword").reveal() == "v");
  {
    std::lock_guard lock(mutex);
    BOOST_TEST(lines.empty());
  }
  std::unique_lock lock(mutex);
  BOOST_TEST(logged.wait_for(lock, std::chrono::seconds(30), [&] { return !lines.empty(); }));
  BOOST_TEST(lines.front().find("provider 'p' health: unavailable") != std::string::npos,
             lines.front());
}

BOOST_AUTO_TEST_SUITE_END()
