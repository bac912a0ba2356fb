#include "cli_fixture.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace coffer::test {

const std::map<std::string, std::string> &stored_values() {
  static const std::map<std::string, std::string> values = {
      {"VCS.GithubAdminPAT", "ghp-Value-Alpha-7f3a9c"},
      {"Email.SMTPPassword", "smtp-Value-Bravo-91be04"},
      {"CIAdmin.JenkinsTriggerAuthToken", "jenkins-Value-Charlie-55d2"},
  };
  return values;
}

std::string env_name(const std::string &key) {
  auto dot = key.find('.');
  return key.substr(0, dot) + "__" + key.substr(dot + 1);
}

std::string quoted(const std::string &text) {
  return boost::json::serialize(boost::json::value(text));
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

std::string describe(const ProcessResult &result) {
  return "status " + std::to_string(result.status) + "\nstdout: " + result.out +
         "\nstderr: " + result.err;
}

CliFixture::CliFixture() {
  const char *cli_path = std::getenv("COFFER_CLI");
  const char *plugins = std::getenv("COFFER_TEST_PLUGIN_DIR");
  if (cli_path == nullptr || plugins == nullptr)
    throw std::runtime_error("COFFER_CLI and COFFER_TEST_PLUGIN_DIR must be set (run via ctest)");
  cli = cli_path;
  plugin_dir = plugins;
  write_env("secrets.env", stored_values());
}

CliFixture::~CliFixture() = default;

void CliFixture::write_env(const std::string &file,
                           const std::map<std::string, std::string> &values) const {
  std::string text;
  for (const auto &[key, value] : values) text += env_name(key) + "=" + value + "\n";
  auto path = write(file, text);
  ::chmod(path.c_str(), 0600);
}

std::filesystem::path CliFixture::write(const std::string &file, const std::string &text) const {
  auto path = directory / file;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
  return path;
}

std::string CliFixture::env_policy(const std::string &env, const std::string &routes) const {
  return R"({"coffer": 1, "plugin_dirs": [)" + quoted(plugin_dir.string()) +
         R"(], "providers": {"p": {"plugin": "env_file", "config": {"path": )" + quoted(env) +
         R"(, "writable": true}}}, "routes": )" + routes + "}";
}

SpawnOptions CliFixture::options(const std::vector<std::string> &arguments) const {
  SpawnOptions options;
  options.arguments = arguments;
  options.directory = directory.string();
  options.environment["COFFER_POLICY"] = std::nullopt;
  options.environment["COFFER_PLUGIN_PATH"] = std::nullopt;
  return options;
}

ProcessResult CliFixture::run(const std::vector<std::string> &arguments, const std::string &input,
                              std::map<std::string, std::optional<std::string>> environment) const {
  SpawnOptions spawn = options(arguments);
  for (auto &[name, value] : environment) spawn.environment[name] = value;
  return run_process(cli, spawn, input);
}

ProcessResult CliFixture::run_policy(const std::vector<std::string> &arguments,
                                     const std::string &input) const {
  std::vector<std::string> all{"--policy", "coffer.json"};
  all.insert(all.end(), arguments.begin(), arguments.end());
  return run(all, input);
}

ProcessResult CliFixture::run_on_terminal(const std::vector<std::string> &arguments,
                                          const std::string &wait_for,
                                          const std::string &typed) const {
  PseudoTerminal pty = open_pseudo_terminal();
  std::vector<std::string> all{"--policy", "coffer.json"};
  all.insert(all.end(), arguments.begin(), arguments.end());
  SpawnOptions spawn = options(all);
  spawn.stdin_fd = pty.terminal;
  spawn.stderr_fd = pty.terminal;
  spawn.detach_from_terminal = true;
  std::string screen;
  ProcessResult result;
  {
    ChildProcess child(cli, spawn);
    ::close(pty.terminal);
    bool answered = wait_for.empty();
    if (answered && !typed.empty() &&
        ::write(pty.master, typed.data(), typed.size()) != static_cast<ssize_t>(typed.size()))
      throw std::runtime_error("cannot type on the terminal");
    // The master side reads until every descriptor of the terminal is
    // closed (EIO), i.e. until the child has exited.
    for (;;) {
      char buffer[4096];
      ssize_t n = ::read(pty.master, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      screen.append(buffer, static_cast<std::size_t>(n));
      if (!answered && screen.find(wait_for) != std::string::npos) {
        answered = true;
        if (::write(pty.master, typed.data(), typed.size()) != static_cast<ssize_t>(typed.size()))
          throw std::runtime_error("cannot type on the terminal");
      }
    }
    result = child.finish();
  }
  ::close(pty.master);
  result.err = screen;
  return result;
}

}  // namespace coffer::test
