// A child process for the database provider's process tests: it drives the
// plugin through its C ABI (tests/support/plugin_harness.hpp) and reports
// every acknowledged write on stdout as "KEY VERSION VALUE\n".
//
//   database_test_child writer CONFIG_JSON TAG     put in a loop until killed
//   database_test_child rekey CONFIG_JSON BATCH    run one rekey
//   database_test_child worker CONFIG_JSON TAG N   2 threads, N rounds of put and get each
//
// Exits 0 on success; on a failure prints it on stderr and exits 1.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// plugin_harness.hpp trips -Wshadow (a lambda's local named like the caller's).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#include "plugin_harness.hpp"
#pragma GCC diagnostic pop

namespace {

std::mutex output_mutex;

// One write(2) per line, so that a line is never torn by a kill.
void acknowledge(const std::string &key, const std::string &version, const std::string &value) {
  std::string line = key + " " + version + " " + value + "\n";
  std::lock_guard lock(output_mutex);
  if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    std::_Exit(3);
}

[[noreturn]] void fail(const std::string &what) {
  std::cerr << "child: " << what << std::endl;
  std::_Exit(1);
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 4) fail("usage: database_test_child writer|rekey|worker CONFIG_JSON ARG [N]");
  const std::string mode = argv[1], config = argv[2], argument = argv[3];
  coffer::test::Plugin plugin("database");
  coffer::test::Instance db(plugin, config);
  if (!db.opened()) fail("open: " + db.open_error());

  if (mode == "writer") {
    const char *keys[] = {"VCS.GithubAdminPAT", "Email.SMTPPassword", "CIAdmin.AzureAwsS3SK"};
    for (long i = 0;; ++i) {
      const std::string key = keys[i % 3];
      const std::string value = argument + "-" + std::to_string(i);
      auto put = db.put(key, value);
      if (!put.ok()) fail("put " + key + ": " + put.message);
      acknowledge(key, put.version, value);
    }
  }
  if (mode == "rekey") {
    auto rekey = db.admin("rekey", "{\"batch_size\": " + argument + "}");
    if (!rekey.ok()) fail("rekey: " + rekey.message);
    std::cout << rekey.result << std::endl;
    return 0;
  }
  if (mode == "worker") {
    const int rounds = argc > 4 ? std::stoi(argv[4]) : 20;
    std::vector<std::thread> threads;
    std::string error;
    std::mutex error_mutex;
    for (int t = 0; t < 2; ++t)
      threads.emplace_back([&, t] {
        const std::string own = "VCS.Worker" + argument + "T" + std::to_string(t);
        for (int i = 0; i < rounds; ++i) {
          for (const std::string &key : {own, std::string("Email.SharedKey")}) {
            const std::string value = argument + "-" + std::to_string(t) + "-" + std::to_string(i);
            auto put = db.put(key, value);
            if (!put.ok()) {
              std::lock_guard lock(error_mutex);
              error = "put " + key + ": " + put.message;
              return;
            }
            acknowledge(key, put.version, value);
            auto got = db.get(key);
            // Another writer may have written the shared key since: any
            // well-formed value will do; the own key must read back.
            if (!got.ok() || (key == own && got.value != value) || got.value.empty()) {
              std::lock_guard lock(error_mutex);
              error = "get " + key + ": " + (got.ok() ? "unexpected value" : got.message);
              return;
            }
          }
        }
      });
    for (auto &thread : threads) thread.join();
    if (!error.empty()) fail(error);
    return 0;
  }
  fail("unknown mode " + mode);
}
