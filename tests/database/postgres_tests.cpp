// PostgreSQL only: TLS with sslmode=verify-full and an explicit CA (and the
// failures when the CA or host name is wrong), and a server restart in the
// middle of reads: unavailable, then recovery, and nothing lost.
#define BOOST_TEST_MODULE database_postgres
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "provider_fixture.hpp"

using namespace coffer::database::test;

namespace {

std::string port_of(const fs::path &state) {
  return trim(read_file(state / "port"));
}

// The store's conninfo with another host part and TLS settings.
std::string tls_url(const TestStore &store, const std::string &host, const std::string &ca,
                    const std::string &application = "coffer") {
  return "host=" + host + " port=" + port_of(store.pg_state()) +
         " user=postgres dbname=coffer_test sslmode=verify-full sslrootcert=" +
         (store.pg_state() / ca).string() + " application_name=" + application +
         " options=" + store.conninfo().substr(store.conninfo().find("-csearch_path="));
}

int run_script(const std::string &command, const fs::path &state) {
  std::string line =
      "'" + postgres_script().string() + "' " + command + " '" + state.string() + "'";
  return std::system(line.c_str());
}

// A server of the test's own, so that stopping it disturbs no other test.
// Stopped when destroyed; the suite's cleanup fixture (stop-all) stops it
// too should this process die first.
class PrivateServer {
 public:
  PrivateServer() {
    const char *root = std::getenv("COFFER_DB_PG_ROOT");
    BOOST_REQUIRE_MESSAGE(root != nullptr, "COFFER_DB_PG_ROOT is not set (run through ctest)");
    state_ = fs::path(root) / ("private-" + std::to_string(::getpid()));
    BOOST_REQUIRE_MESSAGE(run_script("start", state_) == 0, "could not start a server");
  }
  PrivateServer(const PrivateServer &) = delete;
  PrivateServer &operator=(const PrivateServer &) = delete;
  ~PrivateServer() { run_script("stop", state_); }
  void halt() { BOOST_REQUIRE(run_script("halt", state_) == 0); }
  void resume() { BOOST_REQUIRE(run_script("resume", state_) == 0); }
  [[nodiscard]] const fs::path &state() const { return state_; }

 private:
  fs::path state_;
};

// A private server holding Email.SMTPPassword = "smtp", read once (so that
// pooled connections exist), then stopped, its raw connection closed; `db`
// retries for `retry_timeout_ms`.
struct StoppedServer {
  explicit StoppedServer(int retry_timeout_ms)
      : store(Backend::postgres, server.state()),
        db(open_initialised(
            store.file_config(", \"retry_timeout_ms\": " + std::to_string(retry_timeout_ms)))) {
    require_put(*db, "Email.SMTPPassword", "smtp");
    BOOST_TEST(require_get(*db, "Email.SMTPPassword") == "smtp");
    server.halt();
    store.close_raw();
  }
  PrivateServer server;
  TestStore store;
  std::unique_ptr<Instance> db;
};

}  // namespace

BOOST_AUTO_TEST_CASE(verify_full_with_an_explicit_ca) {
  TestStore store(Backend::postgres);
  const std::string application = "coffer_tls_" + std::to_string(::getpid());
  for (const char *host : {"localhost", "127.0.0.1"}) {
    auto db = open_instance(
        store.config(store.file_key(), {}, tls_url(store, host, "ca.pem", application)));
    Outcome init = db->admin("init");
    BOOST_REQUIRE_MESSAGE(init.ok(), host << ": " << init.message);
    require_put(*db, "VCS.GithubAdminPAT", std::string("over tls to ") + host);
    BOOST_TEST(require_get(*db, "VCS.GithubAdminPAT") == std::string("over tls to ") + host);
    // The server sees this instance's connections as TLS ones.
    auto encrypted = store.query(
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
        "WHERE a.application_name = '" +
        application + "' AND s.ssl");
    BOOST_TEST(std::stoi(encrypted[0]) >= 1);
  }
}

BOOST_AUTO_TEST_CASE(a_certificate_from_another_ca_or_for_another_host_is_refused) {
  TestStore store(Backend::postgres);
  auto other_ca = open_instance(
      store.config(store.file_key(), {}, tls_url(store, "localhost", "other-ca.pem")));
  Outcome refused = other_ca->admin("init");
  BOOST_TEST(refused.status == COFFER_STATUS_UNAVAILABLE);
  BOOST_TEST(contains(refused.message, "certificate verify failed"), refused.message);

  std::string wrong_host = tls_url(store, "wrong.example", "ca.pem");
  wrong_host.insert(0, "hostaddr=127.0.0.1 ");
  auto mismatch = open_instance(store.config(store.file_key(), {}, wrong_host));
  Outcome named = mismatch->admin("init");
  BOOST_TEST(named.status == COFFER_STATUS_UNAVAILABLE);
  BOOST_TEST(contains(named.message, "does not match host name"), named.message);

  // TLS that checks nothing is refused before any connection.
  std::string require = tls_url(store, "localhost", "ca.pem");
  require.replace(require.find("verify-full"), 11, "require");
  coffer::test::Instance unverified(plugin(), store.config(store.file_key(), {}, require));
  BOOST_TEST(unverified.open_status() == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(contains(unverified.open_error(), "sslmode=require"), unverified.open_error());
}

BOOST_AUTO_TEST_CASE(a_restart_in_the_middle_of_reads_is_unavailable_then_recovers) {
  PrivateServer server;
  TestStore store(Backend::postgres, server.state());
  // Short retries, so that the outage shows as UNAVAILABLE.
  auto db = open_initialised(store.file_config(", \"retry_timeout_ms\": 200"));
  constexpr int keys = 20;
  auto key_of = [](int i) { return "VCS.Restart" + std::to_string(i); };
  for (int i = 0; i < keys; ++i) require_put(*db, key_of(i), "value-" + std::to_string(i));

  std::atomic<bool> stop{false}, resumed{false};
  std::atomic<int> ok{0}, unavailable{0}, wrong{0}, ok_after_resume{0};
  std::string unexpected;
  std::thread reader([&] {
    for (int i = 0; !stop; ++i) {
      Outcome got = db->get(key_of(i % keys));
      if (got.ok()) {
        ++ok;
        if (resumed) ++ok_after_resume;
        if (got.value != "value-" + std::to_string(i % keys)) ++wrong;
      } else if (got.status == COFFER_STATUS_UNAVAILABLE) {
        ++unavailable;
      } else {
        ++wrong;
        unexpected = got.message;
      }
    }
  });
  auto wait_for = [](auto condition) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!condition() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return condition();
  };
  BOOST_REQUIRE(wait_for([&] { return ok > 50; }));
  // New connections before anything broke are not reconnects.
  BOOST_TEST(db->logs().counter("reconnects") == 0u);
  server.halt();
  store.close_raw();
  BOOST_REQUIRE(wait_for([&] { return unavailable > 3; }));
  Outcome down = db->get(key_of(0));
  BOOST_TEST(down.status == COFFER_STATUS_UNAVAILABLE);
  BOOST_TEST(contains(down.message, "PostgreSQL"), down.message);
  Outcome write_down = db->put(key_of(0), "lost?");
  BOOST_TEST(write_down.status == COFFER_STATUS_UNAVAILABLE);

  server.resume();
  resumed = true;
  BOOST_TEST(wait_for([&] { return ok_after_resume > 50; }));
  stop = true;
  reader.join();
  BOOST_TEST(wrong == 0, unexpected);
  BOOST_TEST_MESSAGE(ok << " reads served, " << unavailable << " unavailable during the outage");
  // The host's metrics hear of it: connections replaced, operations retried.
  BOOST_TEST(db->logs().counter("reconnects") >= 1u);
  BOOST_TEST(db->logs().counter("retries") >= 1u);

  // Nothing lost; writing works again.
  for (int i = 0; i < keys; ++i)
    BOOST_TEST(require_get(*db, key_of(i)) == "value-" + std::to_string(i));
  require_put(*db, key_of(0), "after the restart");
  BOOST_TEST(db->get(key_of(0)).version == "2");
  BOOST_TEST(db->admin("verify").ok());
}

BOOST_AUTO_TEST_CASE(idempotent_operations_are_retried_across_a_restart) {
  StoppedServer stopped(30000);
  auto &server = stopped.server;
  auto &db = stopped.db;
  Outcome during;
  std::thread reader([&] { during = db->get("Email.SMTPPassword"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  server.resume();
  reader.join();
  // The get waited out the restart: reconnected and retried with backoff.
  BOOST_TEST(during.ok(), during.message);
  BOOST_TEST(during.value == "smtp");
  BOOST_TEST(db->logs().counter("retries") >= 1u);
  BOOST_TEST(db->logs().counter("reconnects") >= 1u);
  std::lock_guard lock(db->logs().mutex);
  bool retried = false;
  for (const auto &[level, line] : db->logs().lines)
    retried = retried || contains(line, "retrying after");
  BOOST_TEST(retried);
}

BOOST_AUTO_TEST_CASE(cancel_stops_the_retries_of_a_get_while_the_server_is_down) {
  // What a closing Store calls: a get that would retry for 30 s against a
  // stopped server ends now, as unavailable, saying why.
  StoppedServer stopped(30000);
  auto &db = stopped.db;
  Outcome during;
  std::thread reader([&] { during = db->get("Email.SMTPPassword"); });
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (db->logs().counter("retries") == 0 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  BOOST_TEST_REQUIRE(db->logs().counter("retries") >= 1u);  // inside the retry loop
  BOOST_REQUIRE(db->table()->cancel != nullptr);
  db->table()->cancel(db->raw());
  reader.join();
  stopped.server.resume();
  BOOST_TEST(during.status == COFFER_STATUS_UNAVAILABLE, during.message);
  BOOST_TEST(contains(during.message, "the instance is closing"), during.message);
}

BOOST_AUTO_TEST_CASE(a_get_with_its_own_timeout_stops_retrying_at_it) {
  StoppedServer stopped(600000);
  Outcome got = stopped.db->get("Email.SMTPPassword", nullptr, 300);
  BOOST_TEST(got.status == COFFER_STATUS_UNAVAILABLE, got.message);
}
