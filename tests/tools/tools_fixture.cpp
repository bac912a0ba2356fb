#include "tools_fixture.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace coffer::test {

boost::test_tools::assertion_result can_replace_run_coffer(boost::unit_test::test_unit_id) {
  bool ok =
      ::geteuid() == 0 && std::system("unshare -m --propagation private true >/dev/null 2>&1") == 0;
  boost::test_tools::assertion_result result(ok);
  result.message() << "skipped: the default agent socket is replaced in a private mount "
                      "namespace, which needs root and unshare(1)";
  return result;
}

namespace {

bool accepts(const std::filesystem::path &socket) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket.c_str(), sizeof address.sun_path - 1);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

// The child's status once it ended, or -1 while it runs at the deadline.
int wait_for_exit(pid_t pid, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    if (std::chrono::steady_clock::now() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

RealAgent::RealAgent(const std::string &cli, const std::filesystem::path &directory,
                     const std::filesystem::path &policy, const std::filesystem::path &socket,
                     const std::vector<std::string> &arguments)
    : log_file_(directory / ("agent-" + socket.filename().string() + ".log")) {
  std::vector<std::string> argv{cli,     "--policy", policy.string(),
                                "serve", "--socket", socket.string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  std::vector<char *> pointers;
  for (auto &argument : argv) pointers.push_back(argument.data());
  pointers.push_back(nullptr);
  int log_fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) throw std::runtime_error("cannot create " + log_file_.string());
  pid_ = ::fork();
  if (pid_ == 0) {
    // Only async-signal-safe calls between fork and exec.
    if (::chdir(directory.c_str()) != 0) ::_exit(126);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(cli.c_str(), pointers.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (pid_ < 0) throw std::runtime_error("fork failed");
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!accepts(socket)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("coffer serve ended before it listened:\n" + log());
    }
    if (std::chrono::steady_clock::now() > until)
      throw std::runtime_error("coffer serve did not listen within 30 s:\n" + log());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

RealAgent::~RealAgent() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (wait_for_exit(pid_, std::chrono::seconds(30)) < 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::string RealAgent::log() const {
  std::ifstream in(log_file_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

ToolsFixture::ToolsFixture() {
  write("coffer.json", env_policy());
}

std::string ToolsFixture::built(const std::string &name) {
  const char *binary = std::getenv("COFFER_BINARY_DIR");
  if (binary == nullptr) throw std::runtime_error("COFFER_BINARY_DIR must be set (run via ctest)");
  return (std::filesystem::path(binary) / "bin" / name).string();
}

ProcessResult ToolsFixture::run_program(
    const std::string &program, const std::vector<std::string> &arguments, const std::string &input,
    std::map<std::string, std::optional<std::string>> environment) const {
  SpawnOptions spawn = options(arguments);
  spawn.environment["COFFER_AGENT_SOCKET"] = std::nullopt;
  for (auto &[name, value] : environment) spawn.environment[name] = value;
  return run_process(program, spawn, input);
}

ProcessResult ToolsFixture::run_with_run_coffer(
    const std::filesystem::path &run_coffer, const std::string &program,
    const std::vector<std::string> &arguments, const std::string &input,
    std::map<std::string, std::optional<std::string>> environment) const {
  // A tmpfs over /run (so that /run/coffer can be made whatever the host
  // has there), then the test's directory bound onto /run/coffer.
  std::vector<std::string> wrapped{
      "-m",
      "--propagation",
      "private",
      "sh",
      "-c",
      "mount -t tmpfs none /run && mkdir /run/coffer && mount --bind \"$0\" /run/coffer && "
      "exec \"$@\"",
      run_coffer.string(),
      program};
  wrapped.insert(wrapped.end(), arguments.begin(), arguments.end());
  return run_program("/usr/bin/unshare", wrapped, input, std::move(environment));
}

}  // namespace coffer::test
