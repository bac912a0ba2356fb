#include "tools_fixture.hpp"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace coffer::test {

boost::test_tools::assertion_result can_replace_run_coffer(boost::unit_test::test_unit_id) {
  bool ok =
      ::geteuid() == 0 && std::system("unshare -m --propagation private true >/dev/null 2>&1") == 0;
  boost::test_tools::assertion_result result(ok);
  result.message() << "skipped: the default agent socket is replaced in a private mount "
                      "namespace, which needs root and unshare(1)";
  return result;
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
