// What the suites of `coffer run` and the credential helpers share: a
// temporary directory with an env file and a policy (CliFixture), a fake
// agent beside it, and a way to run a program with the default agent socket
// replaced by one of the test's own.
#ifndef COFFER_TESTS_TOOLS_TOOLS_FIXTURE_HPP
#define COFFER_TESTS_TOOLS_TOOLS_FIXTURE_HPP

#include <coffer/error.hpp>

#include <sys/types.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli_fixture.hpp"

namespace coffer {
// Codes print by name in failed assertions.
inline std::ostream &boost_test_print_type(std::ostream &out, Code code) {
  return out << to_string(code);
}
}  // namespace coffer

namespace coffer::test {

inline bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

inline std::string describe(const ProcessResult &r) {
  return "status " + std::to_string(r.status) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// Whether this test may give a program a private mount namespace in which
// a directory of the test's stands at /run/coffer (root with unshare(1)).
boost::test_tools::assertion_result can_replace_run_coffer(boost::unit_test::test_unit_id);

// `coffer --policy POLICY serve --socket SOCKET ARGS...`, the real agent, as a
// child process with its log in a file. The constructor returns once the
// socket accepts connections (30 s at most, then it throws with the log);
// the destructor stops it with SIGTERM (SIGKILL after 30 s).
class RealAgent {
 public:
  RealAgent(const std::string &cli, const std::filesystem::path &directory,
            const std::filesystem::path &policy, const std::filesystem::path &socket,
            const std::vector<std::string> &arguments = {});
  ~RealAgent();
  RealAgent(const RealAgent &) = delete;
  RealAgent &operator=(const RealAgent &) = delete;

  [[nodiscard]] std::string log() const;

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_file_;
};

struct ToolsFixture : CliFixture {
  ToolsFixture();

  // The path of a program built beside `coffer` (COFFER_BINARY_DIR/bin).
  [[nodiscard]] static std::string built(const std::string &name);

  // Runs `program` in the directory with `arguments`, standard input
  // `input`, COFFER_POLICY, COFFER_PLUGIN_PATH and COFFER_AGENT_SOCKET unset
  // unless `environment` sets them.
  ProcessResult run_program(
      const std::string &program, const std::vector<std::string> &arguments,
      const std::string &input = {},
      std::map<std::string, std::optional<std::string>> environment = {}) const;
  // The same, in a private mount namespace where `run_coffer` (a directory)
  // stands at /run/coffer: what the program finds at the default agent socket.
  ProcessResult run_with_run_coffer(
      const std::filesystem::path &run_coffer, const std::string &program,
      const std::vector<std::string> &arguments, const std::string &input = {},
      std::map<std::string, std::optional<std::string>> environment = {}) const;
};

}  // namespace coffer::test

#endif  // COFFER_TESTS_TOOLS_TOOLS_FIXTURE_HPP
