// Switching a category from the database to the emulated Key Vault while a
// host reads: `coffer migrate --update-policy`, the Store's policy watch, a
// bad edit on the way, change notification and the audit log.
#define BOOST_TEST_MODULE switching
#include <signal.h>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <condition_variable>
#include <thread>

#include "switch_fixture.hpp"

using coffer::test::secret_value_for;
using coffer::test::slurp;
using coffer::test::SwitchWorld;

namespace {

const std::vector<std::string> kVcs = {"VCS.GithubAdminPAT", "VCS.GitlabAdminPAT",
                                       "VCS.AzureDevOpsOrgAdminPAT", "VCS.BitbucketAdminPassword"};
const std::vector<std::string> kEmail = {"Email.SMTPPassword", "CIAdmin.AzureOrgAdminPAT"};

std::map<std::string, std::string> seed_values() {
  std::map<std::string, std::string> values;
  for (const auto &k : kVcs) values[k] = secret_value_for(k);
  for (const auto &k : kEmail) values[k] = secret_value_for(k);
  return values;
}

struct PolicyEvents : coffer::Observer {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<coffer::PolicyEvent> events;
  void on_policy(const coffer::PolicyEvent &e) noexcept override {
    std::lock_guard lock(mutex);
    events.push_back(e);
    changed.notify_all();
  }
  bool wait_for(const std::function<bool(const coffer::PolicyEvent &)> &match,
                std::chrono::seconds limit) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, [&] {
      for (const auto &e : events)
        if (match(e)) return true;
      return false;
    });
  }
};

// Reads every key in a loop from four threads and checks every value.
class Readers {
 public:
  Readers(coffer::Store &store, std::map<std::string, std::string> expected)
      : store_(store), expected_(std::move(expected)) {
    for (int t = 0; t < 4; ++t) threads_.emplace_back([this] { loop(); });
  }
  ~Readers() { stop(); }
  void stop() {
    running_ = false;
    for (auto &t : threads_)
      if (t.joinable()) t.join();
  }
  std::atomic<long> reads{0};
  std::atomic<long> failures{0};
  std::atomic<long> wrong{0};
  std::atomic<long> from_vault{0};
  std::mutex mutex;
  std::string first_failure;

 private:
  void loop() {
    while (running_) {
      for (const auto &[key, value] : expected_) {
        coffer::Result r = store_.try_get(key);
        ++reads;
        if (!r.ok()) {
          ++failures;
          std::lock_guard lock(mutex);
          if (first_failure.empty()) first_failure = r.message;
        } else if (r.secret.reveal() != value) {
          ++wrong;
        } else if (r.provider == "vault") {
          ++from_vault;
        }
      }
    }
  }
  coffer::Store &store_;
  std::map<std::string, std::string> expected_;
  std::atomic<bool> running_{true};
  std::vector<std::thread> threads_;
};

// Every key routed to the emulated vault, which holds VCS.GithubAdminPAT.
struct VaultWorld {
  VaultWorld() { vault.set_secret("VCS-GithubAdminPAT", secret_value_for("VCS.GithubAdminPAT")); }
  SwitchWorld world{boost::json::value("per_key"), R"("*": "vault")"};
  coffer::test::Emulator &vault = world.kv().emulator();
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_category_moves_from_the_database_to_key_vault_under_load_without_a_failure) {
  SwitchWorld world;
  auto values = seed_values();
  world.seed_database(values);

  auto events = std::make_shared<PolicyEvents>();
  coffer::StoreOptions options;
  options.watch_policy = true;
  options.observer = events;
  options.caller = "switch-test-host";
  options.log_level = coffer::LogLevel::error;
  coffer::Store store = coffer::Store::open(world.policy_file(), options);
  Readers readers(store, values);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  // A bad edit while serving: reported with file, line and column; the old
  // policy stays in force.
  auto good = slurp(world.policy_file());
  {
    auto temp = world.dir() / "broken.json";
    std::ofstream(temp) << "{\n  \"coffer\": 1,\n  \"providers\": {\n    \"db\": {\"plugin\": \n";
    std::filesystem::rename(temp, world.policy_file());
  }
  BOOST_TEST(events->wait_for([](const auto &e) { return !e.loaded; }, std::chrono::seconds(20)));
  {
    std::lock_guard lock(events->mutex);
    std::string message;
    for (const auto &e : events->events)
      if (!e.loaded) message = e.message;
    BOOST_TEST(message.find("coffer.json:5:") != std::string::npos, message);
  }
  BOOST_TEST(store.generation() == 1u);
  {
    auto temp = world.dir() / "restored.json";
    std::ofstream(temp) << good;
    std::filesystem::rename(temp, world.policy_file());
  }

  // Migrate VCS and route it to the vault, while the readers go on.
  auto migrate = world.run({"migrate", "--from", "db", "--to", "vault", "--category", "VCS",
                            "--update-policy", "--json"});
  BOOST_TEST_REQUIRE(migrate.status == 0, migrate.err + migrate.out);
  auto summary = boost::json::parse(migrate.out).as_object();
  BOOST_TEST(summary.at("copied").as_int64() == static_cast<std::int64_t>(kVcs.size()));
  BOOST_TEST(summary.at("failed").as_int64() == 0);
  BOOST_TEST(summary.at("policy").at("updated").as_bool());
  std::string edited = slurp(world.policy_file());
  BOOST_TEST(edited.find("\"VCS\": \"vault\"") != std::string::npos, edited);
  BOOST_TEST(edited.find("/* keep me */") != std::string::npos);
  BOOST_TEST(edited.find("// The switch of VCS") != std::string::npos);

  // The watching Store picks the edit up; VCS is then served by the vault.
  for (int i = 0; i < 200 && readers.from_vault.load() < 100; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  long before = readers.reads.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  readers.stop();
  BOOST_TEST(readers.reads.load() > before);
  BOOST_TEST(readers.failures.load() == 0, readers.first_failure);
  BOOST_TEST(readers.wrong.load() == 0);
  BOOST_TEST(readers.from_vault.load() >= 100);
  BOOST_TEST(store.generation() >= 2u);
  for (const auto &k : kVcs) {
    coffer::Result r = store.try_get(k);
    BOOST_TEST(r.provider == "vault");
    BOOST_TEST(r.secret.reveal() == values[k]);
  }
  BOOST_TEST(store.try_get("Email.SMTPPassword").provider == "db");

  // A second run has nothing to do.
  auto again = world.run({"migrate", "--from", "db", "--to", "vault", "--category", "VCS",
                          "--update-policy", "--json"});
  BOOST_TEST(again.status == 0, again.err);
  auto second = boost::json::parse(again.out).as_object();
  BOOST_TEST(second.at("copied").as_int64() == 0);
  BOOST_TEST(second.at("skipped").as_int64() == static_cast<std::int64_t>(kVcs.size()));
  BOOST_TEST(slurp(world.policy_file()) == edited);

  // No value in the audit log, the tool's output or the emulator's log.
  std::string audit = slurp(world.audit_file());
  BOOST_TEST(audit.find("\"caller\":\"switch-test-host\"") != std::string::npos);
  BOOST_TEST(audit.find("\"caller\":\"coffer:migrate\"") != std::string::npos);
  for (const auto &[key, value] : values) {
    BOOST_TEST(audit.find(value) == std::string::npos, key);
    BOOST_TEST(migrate.out.find(value) == std::string::npos, key);
    BOOST_TEST(migrate.err.find(value) == std::string::npos, key);
  }
}

BOOST_AUTO_TEST_CASE(a_secret_rotated_in_the_vault_reaches_a_subscriber_within_one_refresh) {
  VaultWorld vault_world;
  auto &world = vault_world.world;
  auto &vault = vault_world.vault;
  coffer::StoreOptions options;
  options.log_level = coffer::LogLevel::error;
  const auto period = std::chrono::milliseconds(1000);
  options.subscription_refresh = period;
  coffer::Store store = coffer::Store::open(world.policy_file(), options);
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<coffer::ChangeEvent> seen;
  auto subscription = store.subscribe("VCS.GithubAdminPAT", [&](const coffer::ChangeEvent &e) {
    std::lock_guard lock(mutex);
    seen.push_back(e);
    arrived.notify_all();
  });
  store.get("VCS.GithubAdminPAT");
  std::this_thread::sleep_for(period);  // the subscription's first read is done
  std::string version = vault.set_secret("VCS-GithubAdminPAT", secret_value_for("x", "rotated"));
  std::unique_lock lock(mutex);
  // One refresh period, plus a margin for a loaded machine to run the read.
  BOOST_TEST_REQUIRE(
      arrived.wait_for(lock, period + std::chrono::seconds(2), [&] { return !seen.empty(); }));
  BOOST_TEST(seen[0].key == "VCS.GithubAdminPAT");
  BOOST_TEST(seen[0].provider == "vault");
  BOOST_TEST(seen[0].new_version == version);
  BOOST_TEST(seen[0].old_version != version);
}

BOOST_AUTO_TEST_CASE(coffer_watch_prints_changes_and_reloads_on_sighup) {
  VaultWorld vault_world;
  auto &world = vault_world.world;
  auto &vault = vault_world.vault;
  coffer::test::ChildProcess watch(coffer::test::cli_program(),
                                   world.spawn_options({"watch", "VCS", "--interval", "0.2"}));
  watch.read_stderr_until("watching");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  std::string version = vault.set_secret("VCS-GithubAdminPAT", secret_value_for("x", "rotated"));
  ::kill(watch.pid(), SIGHUP);
  std::string err = watch.read_stderr_until("(generation 2)");
  BOOST_TEST(err.find("loaded (generation 2)") != std::string::npos, err);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(watch.pid(), SIGTERM);
  auto result = watch.finish();
  BOOST_TEST(result.status == 0, result.err);
  BOOST_TEST(result.out.find("VCS.GithubAdminPAT  vault:") != std::string::npos, result.out);
  BOOST_TEST(result.out.find("-> vault:" + version) != std::string::npos, result.out);
  BOOST_TEST(result.out.find("VAL-") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_vault_provider_reports_its_token_exchanges_and_retries_in_the_metrics) {
  VaultWorld vault_world;
  auto &world = vault_world.world;
  auto &vault = vault_world.vault;
  coffer::StoreOptions options;
  options.log_level = coffer::LogLevel::error;
  coffer::Store store = coffer::Store::open(world.policy_file(), options);
  vault.inject("get", "503", 2);  // two failures, then the get goes through
  BOOST_TEST(store.get("VCS.GithubAdminPAT").reveal() == secret_value_for("VCS.GithubAdminPAT"));
  std::string text = store.metrics();
  auto sample = [&](const std::string &series) -> double {
    auto at = text.find("\n" + series + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
  };
  BOOST_TEST(sample("coffer_provider_token_exchanges_total{provider=\"vault\"}") >= 1, text);
  BOOST_TEST(sample("coffer_provider_retries_total{provider=\"vault\"}") >= 2, text);
  BOOST_TEST(sample("coffer_requests_total{provider=\"vault\",category=\"VCS\",operation=\"get\","
                    "outcome=\"ok\"}") == 1,
             text);
  BOOST_TEST(text.find("VAL-") == std::string::npos);
}
