#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char **environ;

namespace coffer::test {
namespace {

std::runtime_error system_error(const std::string &what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

void close_fd(int &fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::vector<std::string> environment_of(const SpawnOptions &options) {
  std::vector<std::string> out;
  for (char **entry = environ; *entry != nullptr; ++entry) {
    std::string text(*entry);
    std::string name = text.substr(0, text.find('='));
    if (!options.environment.contains(name)) out.push_back(std::move(text));
  }
  for (const auto &[name, value] : options.environment)
    if (value) out.push_back(name + "=" + *value);
  return out;
}

std::vector<char *> pointers(std::vector<std::string> &texts) {
  std::vector<char *> out;
  for (auto &text : texts) out.push_back(text.data());
  out.push_back(nullptr);
  return out;
}

// Appends what `fd` has; false at end of file.
bool drain(int fd, std::string &into) {
  char buffer[4096];
  ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) return false;
  into.append(buffer, static_cast<std::size_t>(n));
  return true;
}

}  // namespace

ChildProcess::ChildProcess(const std::string &program, const SpawnOptions &options) {
  int in[2] = {-1, -1};
  int out[2];
  int err[2];
  if ((!options.stdin_fd && ::pipe2(in, O_CLOEXEC) != 0) || ::pipe2(out, O_CLOEXEC) != 0 ||
      ::pipe2(err, O_CLOEXEC) != 0)
    throw system_error("pipe");
  std::vector<std::string> argv_texts{program};
  for (const auto &a : options.arguments) argv_texts.push_back(a);
  std::vector<std::string> env_texts = environment_of(options);
  std::vector<char *> argv = pointers(argv_texts);
  std::vector<char *> envp = pointers(env_texts);
  int input = options.stdin_fd ? *options.stdin_fd : in[0];
  pid_ = ::fork();
  if (pid_ < 0) throw system_error("fork");
  if (pid_ == 0) {
    // Only async-signal-safe calls between fork and exec.
    if (options.detach_from_terminal) ::setsid();
    if (!options.directory.empty() && ::chdir(options.directory.c_str()) != 0) ::_exit(126);
    int error_output = options.stderr_fd ? *options.stderr_fd : err[1];
    if (::dup2(input, 0) < 0 || ::dup2(out[1], 1) < 0 || ::dup2(error_output, 2) < 0) ::_exit(126);
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(program.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  close_fd(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  stdin_ = in[1];
  stdout_ = out[0];
  stderr_ = err[0];
  // With standard error elsewhere, the pipe's write end is closed: reading
  // it ends at once.
}

ChildProcess::~ChildProcess() {
  if (!finished_) {
    ::kill(pid_, SIGKILL);
    finish();
  }
  close_fd(stdin_);
  close_fd(stdout_);
  close_fd(stderr_);
}

void ChildProcess::write_stdin(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(stdin_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;  // the child closed its end; it will say why
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void ChildProcess::close_stdin() {
  close_fd(stdin_);
}

std::string ChildProcess::read_stderr_until(std::string_view needle) {
  while (err_.find(needle) == std::string::npos && stderr_ >= 0)
    if (!drain(stderr_, err_)) close_fd(stderr_);
  return err_;
}

std::string ChildProcess::read_stdout_until(std::string_view needle,
                                            std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (out_.find(needle) == std::string::npos && stdout_ >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    // Standard error is read too, so that a child writing much there does
    // not block on a full pipe meanwhile.
    pollfd fds[2] = {{stdout_, POLLIN, 0}, {stderr_, POLLIN, 0}};
    int ready = ::poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw system_error("poll");
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !drain(stdout_, out_))
      close_fd(stdout_);
    if (stderr_ >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
        !drain(stderr_, err_))
      close_fd(stderr_);
  }
  return out_;
}

ProcessResult ChildProcess::finish() {
  ProcessResult result;
  close_stdin();
  std::string out = std::move(out_);
  while (stdout_ >= 0 || stderr_ >= 0) {
    pollfd fds[2] = {{stdout_, POLLIN, 0}, {stderr_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw system_error("poll");
    }
    if (stdout_ >= 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
        !drain(stdout_, out))
      close_fd(stdout_);
    if (stderr_ >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
        !drain(stderr_, err_))
      close_fd(stderr_);
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0)
    if (errno != EINTR) throw system_error("waitpid");
  finished_ = true;
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = std::move(out);
  result.err = err_;
  return result;
}

PseudoTerminal open_pseudo_terminal() {
  PseudoTerminal pty;
  pty.master = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (pty.master < 0) throw system_error("posix_openpt");
  if (::grantpt(pty.master) != 0 || ::unlockpt(pty.master) != 0) {
    ::close(pty.master);
    throw system_error("grantpt/unlockpt");
  }
  pty.terminal = ::open(::ptsname(pty.master), O_RDWR | O_NOCTTY);
  if (pty.terminal < 0) {
    ::close(pty.master);
    throw system_error("open the terminal side");
  }
  return pty;
}

std::string drain_and_close(int fd) {
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;)
    text.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return text;
}

ProcessResult run_process(const std::string &program, const SpawnOptions &options,
                          std::string_view input) {
  ChildProcess child(program, options);
  child.write_stdin(input);
  return child.finish();
}

}  // namespace coffer::test
