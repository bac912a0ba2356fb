#include "agent_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char **environ;

namespace coffer::test {
namespace {

std::string quoted(const std::string &text) {
  return boost::json::serialize(boost::json::value(text));
}

std::string env_name(const std::string &key) {
  auto dot = key.find('.');
  return key.substr(0, dot) + "__" + key.substr(dot + 1);
}

std::string read_file(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// fork + exec with stdin from /dev/null and stdout, stderr to `log`; with
// `listening` >= 0, that socket is passed as systemd passes one (descriptor 3,
// LISTEN_PID and LISTEN_FDS).
pid_t spawn(const std::string &program, const std::vector<std::string> &arguments,
            const std::filesystem::path &directory, const std::filesystem::path &log,
            const std::filesystem::path &input = "/dev/null", int listening = -1) {
  std::vector<std::string> argv{program};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  std::vector<char *> pointers;
  for (auto &argument : argv) pointers.push_back(argument.data());
  pointers.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int in = ::open(input.c_str(), O_RDONLY);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    if (in < 0 || out < 0 || ::chdir(directory.c_str()) != 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::unsetenv("COFFER_POLICY");
    ::unsetenv("COFFER_PLUGIN_PATH");
    ::unsetenv("COFFER_AGENT_SOCKET");
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    if (listening >= 0) {
      if (::dup2(listening, 3) != 3) ::_exit(127);
      ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
      ::setenv("LISTEN_FDS", "1", 1);
    }
    ::execv(program.c_str(), pointers.data());
    ::_exit(127);
  }
  return pid;
}

std::optional<int> reap(pid_t pid, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (done < 0) return -1;
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

}  // namespace

const std::map<std::string, std::string> &agent_values() {
  static const std::map<std::string, std::string> values = {
      {"VCS.GithubAdminPAT", "ghp-Agent-Alpha-7f3a9c"},
      {"Email.SMTPPassword", "smtp-Agent-Bravo-\"91\\be04"},
      {"CIAdmin.JenkinsTriggerAuthToken", "jenkins-Agent-Charlie-55d2"},
  };
  return values;
}

AgentDirectory::AgentDirectory() {
  const char *cli_path = std::getenv("COFFER_CLI");
  const char *plugins = std::getenv("COFFER_TEST_PLUGIN_DIR");
  if (cli_path == nullptr || plugins == nullptr)
    throw std::runtime_error("COFFER_CLI and COFFER_TEST_PLUGIN_DIR must be set (run via ctest)");
  cli = cli_path;
  plugin_dir = plugins;
  if (::chmod(directory.c_str(), 0711) != 0)
    throw std::runtime_error("chmod " + directory.string() + ": " + std::strerror(errno));
  write_env("secrets.env", agent_values());
  write_env("other.env", {{"VCS.GithubAdminPAT", "ghp-Other-Delta-0042"}});
}

AgentDirectory::~AgentDirectory() = default;

std::filesystem::path AgentDirectory::write(const std::string &file, const std::string &text,
                                            unsigned mode) const {
  auto path = directory / file;
  auto temporary = path;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path.string());
  }
  ::chmod(temporary.c_str(), mode);
  std::filesystem::rename(temporary, path);
  return path;
}

void AgentDirectory::write_env(const std::string &file,
                               const std::map<std::string, std::string> &values) const {
  std::string text;
  for (const auto &[key, value] : values) text += env_name(key) + "=" + quoted(value) + "\n";
  write(file, text);
}

std::string AgentDirectory::policy(const std::string &routes, const std::string &extra) const {
  auto provider = [&](const std::string &file) {
    return R"({"plugin": "env_file", "config": {"path": )" + quoted((directory / file).string()) +
           "}}";
  };
  return R"({"coffer": 1, "plugin_dirs": [)" + quoted(plugin_dir.string()) +
         R"(], "providers": {"p": )" + provider("secrets.env") + R"(, "q": )" +
         provider("other.env") + R"(}, "routes": )" + routes +
         (extra.empty() ? std::string() : ", " + extra) + "}";
}

AgentProcess::AgentProcess(const AgentDirectory &directory, const std::filesystem::path &policy,
                           const std::vector<std::string> &arguments, int listening) {
  static int count = 0;
  log_file_ = directory.directory / ("agent-" + std::to_string(++count) + ".log");
  std::vector<std::string> argv{"--policy", policy.string(), "serve"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  pid_ = spawn(directory.cli, argv, directory.directory, log_file_, "/dev/null", listening);
}

AgentProcess::~AgentProcess() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    reap(pid_, 10s);
  }
}

std::string AgentProcess::log() const {
  return read_file(log_file_);
}

bool AgentProcess::wait_for_log(const std::string &needle,
                                std::chrono::milliseconds deadline) const {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (log().find(needle) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(5ms);
  }
}

void AgentProcess::wait_ready(std::chrono::milliseconds deadline) const {
  if (!wait_for_log(": ready", deadline) && !wait_for_log("\"ready\"", 0ms))
    throw std::runtime_error("the agent did not become ready; its log:\n" + log());
}

int AgentProcess::tcp_port() const {
  std::string text = log();
  auto at = text.find("tcp:127.0.0.1:");
  if (at == std::string::npos) throw std::runtime_error("no TCP address in the log:\n" + text);
  return std::stoi(text.substr(at + 14, 5));
}

void AgentProcess::signal(int number) const {
  ::kill(pid_, number);
}

std::optional<int> AgentProcess::wait_exit(std::chrono::milliseconds deadline) {
  if (!status_) status_ = reap(pid_, deadline);
  return status_;
}

CliOutcome run_cli(const AgentDirectory &directory, const std::vector<std::string> &arguments) {
  static int count = 0;
  auto log = directory.directory / ("cli-" + std::to_string(++count) + ".log");
  pid_t pid = spawn(directory.cli, arguments, directory.directory, log);
  auto status = reap(pid, 60s);
  if (!status) {
    ::kill(pid, SIGKILL);
    reap(pid, 10s);
    throw std::runtime_error("coffer did not end within 60 s:\n" + read_file(log));
  }
  return {*status, read_file(log)};
}

CliOutcome run_cli_program(const AgentDirectory &directory, const std::string &program,
                           const std::vector<std::string> &arguments,
                           const std::string &input_file) {
  static int count = 0;
  auto log = directory.directory / ("program-" + std::to_string(++count) + ".log");
  pid_t pid = spawn(program, arguments, directory.directory, log, directory.directory / input_file);
  auto status = reap(pid, 60s);
  if (!status) {
    ::kill(pid, SIGKILL);
    reap(pid, 10s);
    throw std::runtime_error(program + " did not end within 60 s:\n" + read_file(log));
  }
  return {*status, read_file(log)};
}

BackgroundProgram::BackgroundProgram(const AgentDirectory &directory, const std::string &program,
                                     const std::vector<std::string> &arguments) {
  static int count = 0;
  log_file_ = directory.directory / ("background-" + std::to_string(++count) + ".log");
  pid_ = spawn(program, arguments, directory.directory, log_file_);
}

BackgroundProgram::~BackgroundProgram() {
  ::kill(pid_, SIGTERM);
  if (!reap(pid_, 10s)) {
    ::kill(pid_, SIGKILL);
    reap(pid_, 10s);
  }
}

std::string BackgroundProgram::log() const {
  return read_file(log_file_);
}

std::string run_as(uid_t uid, gid_t gid, const std::function<std::string()> &body,
                   std::chrono::milliseconds deadline) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(pipe_fds[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(126);
    std::string out;
    try {
      out = body();
    } catch (const std::exception &e) {
      out = std::string("exception: ") + e.what();
    }
    std::string_view rest = out;
    while (!rest.empty()) {
      ssize_t n = ::write(pipe_fds[1], rest.data(), rest.size());
      if (n <= 0) break;
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string out;
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{pipe_fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buffer[4096];
    ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  if (!reap(pid, 5s)) {
    ::kill(pid, SIGKILL);
    reap(pid, 5s);
    throw std::runtime_error("the client run as uid " + std::to_string(uid) +
                             " did not end in time");
  }
  return out;
}

}  // namespace coffer::test
