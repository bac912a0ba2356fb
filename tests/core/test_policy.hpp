// Helpers for the core's tests: policies over the in-memory test provider.
#ifndef COFFER_TESTS_CORE_TEST_POLICY_HPP
#define COFFER_TESTS_CORE_TEST_POLICY_HPP

#include <cstdlib>
#include <string>

namespace coffer::test {

inline std::string core_plugin_dir() {
  const char *dir = std::getenv("COFFER_TEST_CORE_PLUGINS");
  return dir != nullptr ? dir : "test-plugins/core";
}

// `"plugin_dirs": [...]` for a policy.
inline std::string plugin_dirs_json() {
  return "\"plugin_dirs\": [\"" + core_plugin_dir() + "\"]";
}

}  // namespace coffer::test

#endif  // COFFER_TESTS_CORE_TEST_POLICY_HPP
