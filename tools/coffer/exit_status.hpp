// Exit statuses of the `coffer` tool, and the one mapping from coffer::Code.
//
// The numbers are part of the interface that scripts rely on (docs/cli.md):
// 0 success, 1 other failure, 2 usage or configuration error, 3 not found,
// 4 denied, 5 unavailable or timed out, 6 declined at a confirmation prompt.
#ifndef COFFER_CLI_EXIT_STATUS_HPP
#define COFFER_CLI_EXIT_STATUS_HPP

#include <coffer/error.hpp>

#include <stdexcept>
#include <string>

namespace coffer::cli {

enum ExitStatus : int {
  exit_success = 0,
  exit_failure = 1,
  exit_usage = 2,
  exit_not_found = 3,
  exit_denied = 4,
  exit_unavailable = 5,
  exit_declined = 6,  // the operator answered no: nothing was done
};

// The exit status for a failure of the given kind.
int exit_status_for(Code code) noexcept;

// A mistake in the command line. Reported with the command's usage line and
// exit status 2. The message never repeats an argument that may be a value.
class UsageError : public std::runtime_error {
 public:
  UsageError(std::string command, const std::string &message)
      : std::runtime_error(message), command_(std::move(command)) {}
  // The command whose usage to show ("" for the tool's).
  [[nodiscard]] const std::string &command() const noexcept { return command_; }

 private:
  std::string command_;
};

}  // namespace coffer::cli

#endif  // COFFER_CLI_EXIT_STATUS_HPP
