// Test support: `coffer serve` as a child process over a policy in a
// temporary directory, driven as its users drive it. Every wait has a
// deadline; the destructor kills the agent if it still runs.
#ifndef COFFER_TESTS_AGENT_AGENT_PROCESS_HPP
#define COFFER_TESTS_AGENT_AGENT_PROCESS_HPP

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "temp_directory.hpp"

namespace coffer::test {

// The values the default env file holds, by canonical key.
const std::map<std::string, std::string> &agent_values();

// A temporary directory (mode 0711, so that a client run as another user
// can reach a socket below it) with an env file and a policy.
class AgentDirectory {
 public:
  AgentDirectory();
  ~AgentDirectory();
  AgentDirectory(const AgentDirectory &) = delete;
  AgentDirectory &operator=(const AgentDirectory &) = delete;

  // Writes a file (mode 0600); returns its path.
  std::filesystem::path write(const std::string &file, const std::string &text,
                              unsigned mode = 0600) const;
  // Writes an env file with these values.
  void write_env(const std::string &file, const std::map<std::string, std::string> &values) const;
  // A policy with env_file providers "p" (secrets.env) and "q" (other.env),
  // routes `routes` and `extra` members spliced in (e.g. "clients").
  [[nodiscard]] std::string policy(const std::string &routes = R"({"*": "p"})",
                                   const std::string &extra = {}) const;

  coffer::test::TempDirectory scratch{"coffer-agent"};
  std::filesystem::path directory = scratch.path();
  std::filesystem::path plugin_dir;
  std::string cli;
};

class AgentProcess {
 public:
  // Starts `coffer --policy POLICY serve ARGS...` in `directory`, with
  // standard error (the log) in a file; with `listening` >= 0, that listening
  // socket is passed as systemd's socket activation passes one.
  AgentProcess(const AgentDirectory &directory, const std::filesystem::path &policy,
               const std::vector<std::string> &arguments, int listening = -1);
  ~AgentProcess();
  AgentProcess(const AgentProcess &) = delete;
  AgentProcess &operator=(const AgentProcess &) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  // The log so far.
  [[nodiscard]] std::string log() const;
  // Whether the log contains `needle` within `deadline`.
  bool wait_for_log(const std::string &needle, std::chrono::milliseconds deadline = 30s) const;
  // Waits for "ready" in the log; throws with the log when it does not come.
  void wait_ready(std::chrono::milliseconds deadline = 30s) const;
  // The TCP port of the first --listen, from the log.
  [[nodiscard]] int tcp_port() const;
  void signal(int number) const;
  // The exit status (128 + signal when killed), or nullopt when the agent
  // still runs at the deadline.
  std::optional<int> wait_exit(std::chrono::milliseconds deadline = 30s);

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_file_;
  std::optional<int> status_;
};

// Runs `coffer ARGS...` to completion in `directory` (deadline 60 s);
// returns the exit status and what it wrote to standard error.
struct CliOutcome {
  int status = -1;
  std::string err;
};
CliOutcome run_cli(const AgentDirectory &directory, const std::vector<std::string> &arguments);

// Runs `program ARGS...` to completion in `directory` with standard input
// from `input_file` (in the directory).
CliOutcome run_cli_program(const AgentDirectory &directory, const std::string &program,
                           const std::vector<std::string> &arguments,
                           const std::string &input_file);

// Another program in the background (a Prometheus server), stopped by the
// destructor (SIGTERM, then SIGKILL).
class BackgroundProgram {
 public:
  BackgroundProgram(const AgentDirectory &directory, const std::string &program,
                    const std::vector<std::string> &arguments);
  ~BackgroundProgram();
  BackgroundProgram(const BackgroundProgram &) = delete;
  BackgroundProgram &operator=(const BackgroundProgram &) = delete;
  [[nodiscard]] std::string log() const;

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_file_;
};

// Runs `body` in a child process as `uid`/`gid` (the test runs as root);
// returns what the child wrote to its pipe, or throws when it does not end
// within the deadline.
std::string run_as(uid_t uid, gid_t gid, const std::function<std::string()> &body,
                   std::chrono::milliseconds deadline = 30s);

}  // namespace coffer::test

#endif  // COFFER_TESTS_AGENT_AGENT_PROCESS_HPP
