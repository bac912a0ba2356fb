// Runs a program as a child process with pipes for its standard streams, for
// tests that drive the `coffer` tool as its users do.
#ifndef COFFER_TESTS_CLI_CHILD_PROCESS_HPP
#define COFFER_TESTS_CLI_CHILD_PROCESS_HPP

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::test {

struct SpawnOptions {
  std::vector<std::string> arguments;  // without argv[0]
  // Changes to the inherited environment; nullopt removes a variable.
  std::map<std::string, std::optional<std::string>> environment;
  std::string directory;              // the working directory; empty: the current one
  std::optional<int> stdin_fd;        // a descriptor to use as standard input instead of a pipe
  std::optional<int> stderr_fd;       // a descriptor to use as standard error instead of a pipe
  bool detach_from_terminal = false;  // setsid() in the child: no controlling terminal
};

struct ProcessResult {
  int status = -1;  // the exit status, or 128 + signal number
  std::string out;
  std::string err;
};

class ChildProcess {
 public:
  // Starts `program`. Throws std::runtime_error when it cannot.
  ChildProcess(const std::string &program, const SpawnOptions &options);
  ChildProcess(const ChildProcess &) = delete;
  ChildProcess &operator=(const ChildProcess &) = delete;
  ~ChildProcess();

  [[nodiscard]] pid_t pid() const { return pid_; }
  void write_stdin(std::string_view bytes);
  void close_stdin();
  // Reads standard error until it contains `needle` or ends; returns what
  // was read so far (kept for finish()).
  std::string read_stderr_until(std::string_view needle);
  // Reads standard output until it contains `needle`, ends, or `deadline`
  // passes; returns what was read so far (kept for finish()).
  std::string read_stdout_until(std::string_view needle, std::chrono::milliseconds deadline);
  // Closes standard input, reads both outputs to their end and waits.
  ProcessResult finish();

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  int stderr_ = -1;
  std::string out_;
  std::string err_;
  bool finished_ = false;
};

// A pseudo-terminal: give `terminal` to a child as a standard stream (then
// close it here); what the child writes, and what the terminal echoes, is
// read from `master`. Throws std::runtime_error when it cannot be opened.
struct PseudoTerminal {
  int master = -1;
  int terminal = -1;
};
PseudoTerminal open_pseudo_terminal();
// Reads what is available on `fd` without waiting, then closes it.
std::string drain_and_close(int fd);

// Runs `program` to completion with `input` on standard input.
ProcessResult run_process(const std::string &program, const SpawnOptions &options,
                          std::string_view input = {});

}  // namespace coffer::test

#endif  // COFFER_TESTS_CLI_CHILD_PROCESS_HPP
