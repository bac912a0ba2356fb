// A temporary directory with an env file, policies and a way to run the
// `coffer` tool against them.
#ifndef COFFER_TESTS_CLI_CLI_FIXTURE_HPP
#define COFFER_TESTS_CLI_CLI_FIXTURE_HPP

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "temp_directory.hpp"

namespace coffer::test {

// The values the default env file holds, by canonical key.
const std::map<std::string, std::string> &stored_values();
// `Category.Name` -> `Category__Name`, the env_file plugin's name.
std::string env_name(const std::string &key);
// A JSON string literal.
std::string quoted(const std::string &text);
// Whether `text` contains `part`.
bool contains(const std::string &text, const std::string &part);
// A run's status and outputs, for a failed check's message.
std::string describe(const ProcessResult &result);

struct CliFixture {
  CliFixture();
  ~CliFixture();
  CliFixture(const CliFixture &) = delete;
  CliFixture &operator=(const CliFixture &) = delete;

  // Writes an env file (mode 0600) with these values.
  void write_env(const std::string &file, const std::map<std::string, std::string> &values) const;
  // Writes a file in the directory; returns its path.
  std::filesystem::path write(const std::string &file, const std::string &text) const;
  // A policy with one env_file provider "p" serving `env` for every category,
  // plus `extra` members (e.g. routes) spliced in.
  std::string env_policy(const std::string &env = "secrets.env",
                         const std::string &routes = R"({"*": "p"})") const;

  // Runs the tool in the directory, with COFFER_POLICY and COFFER_PLUGIN_PATH
  // unset unless `environment` sets them.
  ProcessResult run(const std::vector<std::string> &arguments, const std::string &input = {},
                    std::map<std::string, std::optional<std::string>> environment = {}) const;
  // Runs with `--policy coffer.json` first.
  ProcessResult run_policy(const std::vector<std::string> &arguments,
                           const std::string &input = {}) const;
  [[nodiscard]] SpawnOptions options(const std::vector<std::string> &arguments) const;
  // Runs `coffer --policy coffer.json ARGUMENTS` with a pseudo-terminal as
  // standard input and standard error (no controlling terminal), types
  // `typed` once standard error shows `wait_for` (when not empty), and waits
  // for the end. Standard output is a pipe; `err` holds what the terminal
  // showed.
  ProcessResult run_on_terminal(const std::vector<std::string> &arguments,
                                const std::string &wait_for = {},
                                const std::string &typed = {}) const;

  coffer::test::TempDirectory scratch{"coffer-cli"};
  std::filesystem::path directory = scratch.path();
  std::filesystem::path plugin_dir;
  std::string cli;
};

}  // namespace coffer::test

#endif  // COFFER_TESTS_CLI_CLI_FIXTURE_HPP
