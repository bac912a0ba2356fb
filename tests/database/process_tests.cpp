// Processes against one store (COFFER_DB_BACKEND): a writer SIGKILLed at
// random moments 100 times loses no acknowledged write and leaves a store that
// verifies; a rekey killed midway resumes; two processes with two threads
// each read and write without losing or duplicating a version.
//
// Randomised with a printed seed: rerun a failure with COFFER_TEST_SEED=<seed>.
#define BOOST_TEST_MODULE database_process
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "provider_fixture.hpp"

extern char **environ;

using namespace coffer::database::test;

namespace {

struct Ack {
  std::string key;
  uint64_t version = 0;
  std::string value;
};

// A child process (database_test_child) whose stdout we read. Killed and
// reaped when destroyed, whatever happened.
class Child {
 public:
  explicit Child(const std::vector<std::string> &arguments) {
    const char *program = std::getenv("COFFER_DB_TEST_CHILD");
    BOOST_REQUIRE_MESSAGE(program != nullptr, "COFFER_DB_TEST_CHILD is not set");
    int fds[2];
    BOOST_REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    std::vector<char *> argv;
    std::string path = program;
    argv.push_back(path.data());
    std::vector<std::string> copies = arguments;
    for (auto &argument : copies) argv.push_back(argument.data());
    argv.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, program, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    BOOST_REQUIRE_MESSAGE(rc == 0, "posix_spawn failed");
    out_ = fds[0];
  }
  Child(const Child &) = delete;
  Child &operator=(const Child &) = delete;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }

  // Waits up to `timeout` for the first byte of output; false on timeout or EOF.
  bool wait_for_output(std::chrono::milliseconds timeout) {
    pollfd fd{out_, POLLIN, 0};
    return ::poll(&fd, 1, static_cast<int>(timeout.count())) == 1 && (fd.revents & POLLIN) != 0;
  }
  void kill() { ::kill(pid_, SIGKILL); }
  // Waits for the exit; returns the raw wait status.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  // Everything the child wrote (call after it exited).
  std::string drain() {
    std::string text;
    char buffer[4096];
    for (;;) {
      ssize_t n = ::read(out_, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

std::vector<Ack> parse_acks(const std::string &text) {
  std::vector<Ack> acks;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    Ack ack;
    fields >> ack.key >> ack.version >> ack.value;
    if (!ack.key.empty()) acks.push_back(ack);
  }
  return acks;
}

// The children's config: on PostgreSQL their connections carry an
// application_name, so that the test can wait for the server to finish
// whatever a killed child left (a transaction commits or rolls back only when
// the server notices the dead client).
std::string child_config(const TestStore &store, const std::string &extra) {
  if (store.which() == Backend::sqlite) return store.file_config(extra);
  return store.config(
      store.file_key(), extra,
      store.conninfo("application_name=coffer_child_" + std::to_string(::getpid())));
}

void wait_until_children_are_gone(const TestStore &store) {
  if (store.which() == Backend::sqlite) return;  // the kernel releases the locks at once
  const std::string sql =
      "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
      "'coffer_child_" +
      std::to_string(::getpid()) + "'";
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (store.query(sql)[0] != "0") {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until,
                          "the server kept a killed child's connection");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

uint64_t latest_version(Instance &db, const std::string &key) {
  Outcome got = db.get(key);
  BOOST_REQUIRE_MESSAGE(got.ok(), "get " << key << ": " << got.message);
  return std::stoull(got.version);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_writer_killed_at_random_moments_loses_no_acknowledged_write) {
  const uint64_t seed = test_seed(20240611);
  BOOST_TEST_MESSAGE("seed " << seed << " (COFFER_TEST_SEED)");
  BOOST_TEST_CONTEXT("seed " << seed << " backend " << backend_name()) {
    std::mt19937_64 random(seed);
    TestStore store;
    const std::string config = store.file_config(", \"history\": 10");
    const std::string writer_config = child_config(store, ", \"history\": 10");
    open_initialised(config);
    std::vector<Ack> all;
    int killed_mid_loop = 0;
    for (int round = 0; round < 100; ++round) {
      BOOST_TEST_CONTEXT("round " << round) {
        {
          Child child({"writer", writer_config, "r" + std::to_string(round)});
          // Once it writes, kill it 0-8 ms later: mostly in the middle of a put.
          if (child.wait_for_output(std::chrono::seconds(20))) ++killed_mid_loop;
          std::this_thread::sleep_for(std::chrono::microseconds(random() % 8000));
          child.kill();
          child.wait();
          wait_until_children_are_gone(store);
          auto acks = parse_acks(child.drain());
          all.insert(all.end(), acks.begin(), acks.end());
        }
        auto db = open_instance(config);
        Outcome verify = db->admin("verify");
        BOOST_REQUIRE_MESSAGE(verify.ok(),
                              "verify after the kill: " << verify.message << " " << verify.result);
        std::map<std::string, uint64_t> latest;
        for (const auto &ack : all) {
          if (!latest.contains(ack.key)) latest[ack.key] = latest_version(*db, ack.key);
          BOOST_TEST(latest[ack.key] >= ack.version, ack.key);
          if (ack.version + 10 <= latest[ack.key]) continue;  // pruned by history
          Outcome got = db->get(ack.key, std::to_string(ack.version).c_str());
          BOOST_TEST(got.ok(), ack.key << " version " << ack.version << ": " << got.message);
          BOOST_TEST(got.value == ack.value, ack.key << " version " << ack.version);
        }
      }
    }
    BOOST_TEST(killed_mid_loop == 100);
    BOOST_TEST(all.size() > 100u);
    BOOST_TEST_MESSAGE(all.size() << " acknowledged writes over 100 kills");
  }
}

BOOST_AUTO_TEST_CASE(a_rekey_killed_midway_resumes_and_loses_nothing) {
  const uint64_t seed = test_seed(20240612);
  BOOST_TEST_MESSAGE("seed " << seed << " (COFFER_TEST_SEED)");
  BOOST_TEST_CONTEXT("seed " << seed << " backend " << backend_name()) {
    std::mt19937_64 random(seed);
    TestStore store;
    const std::string config = store.file_config();
    auto db = open_initialised(config);
    std::map<std::pair<std::string, std::string>, std::string> written;
    for (int i = 0; i < 40; ++i) {
      std::string key = "VCS.Key" + std::to_string(i % 20);
      std::string value = "value-" + std::to_string(i);
      Outcome put = db->put(key, value);
      BOOST_REQUIRE(put.ok());
      written[{key, put.version}] = value;
    }
    int interrupted = 0;
    for (int round = 0; round < 6; ++round) {
      {
        Child child({"rekey", child_config(store, {}), "1"});
        // Kill once the rekey has started (its new data key is active).
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < until &&
               store.query("SELECT count(*) FROM coffer_data_keys")[0] == "1")
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        std::this_thread::sleep_for(std::chrono::microseconds(random() % 4000));
        child.kill();
        child.wait();
        wait_until_children_are_gone(store);
      }
      bool midway = store.query("SELECT count(*) FROM coffer_data_keys")[0] != "1";
      interrupted += midway ? 1 : 0;
      Outcome rekey = db->admin("rekey");
      BOOST_REQUIRE_MESSAGE(rekey.ok(), rekey.message);
      BOOST_TEST(parse_object(rekey.result).at("resumed").as_bool() == midway);
      BOOST_TEST(store.query("SELECT count(*) FROM coffer_data_keys")[0] == "1");
      auto fresh = open_instance(config);
      BOOST_REQUIRE(fresh->admin("verify").ok());
      for (const auto &[where, value] : written)
        BOOST_TEST(require_get(*fresh, where.first, where.second.c_str()) == value);
    }
    BOOST_TEST(interrupted > 0);
    BOOST_TEST_MESSAGE(interrupted << " of 6 rekeys were interrupted midway");
  }
}

BOOST_AUTO_TEST_CASE(two_processes_with_two_threads_each_share_one_store) {
  TestStore store;
  const std::string config = store.file_config(", \"history\": 1000");
  open_initialised(config);
  constexpr int rounds = 30;
  std::vector<Ack> acks;
  {
    Child first({"worker", config, "1", std::to_string(rounds)});
    Child second({"worker", config, "2", std::to_string(rounds)});
    for (Child *child : {&first, &second}) {
      std::string output = child->drain();  // until the child closes its stdout
      int status = child->wait();
      BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0), "a worker failed: " << status);
      auto parsed = parse_acks(output);
      acks.insert(acks.end(), parsed.begin(), parsed.end());
    }
  }
  BOOST_TEST(acks.size() == static_cast<std::size_t>(2 * 2 * rounds * 2));
  std::map<std::string, std::set<uint64_t>> versions;
  for (const auto &ack : acks) {
    BOOST_TEST(versions[ack.key].insert(ack.version).second,
               "version " << ack.version << " of " << ack.key << " was given twice");
  }
  // The shared key: every put got its own version, none lost.
  BOOST_TEST(versions["Email.SharedKey"].size() == static_cast<std::size_t>(2 * 2 * rounds));
  auto db = open_instance(config);
  BOOST_TEST(latest_version(*db, "Email.SharedKey") == static_cast<uint64_t>(2 * 2 * rounds));
  for (const auto &ack : acks)
    BOOST_TEST(require_get(*db, ack.key, std::to_string(ack.version).c_str()) == ack.value);
  BOOST_TEST(db->admin("verify").ok());
}
