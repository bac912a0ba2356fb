// Shared by the SDK's conformance suites: where the test plugins are, policies
// that load one of them through coffer::Store, temporary directories, and
// checks on error messages.
#ifndef COFFER_TESTS_SDK_TEST_SUPPORT_HPP
#define COFFER_TESTS_SDK_TEST_SUPPORT_HPP

#include <coffer/provider.h>
#include <unistd.h>
#include <coffer/store.hpp>

#include "temp_directory.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace coffer::sdk_test {

// ${PROJECT_BINARY_DIR}/test-plugins, set by CTest.
inline std::filesystem::path test_plugins_root() {
  const char *dir = std::getenv("COFFER_TEST_SDK_PLUGINS");
  if (dir == nullptr)
    throw std::runtime_error("COFFER_TEST_SDK_PLUGINS is not set (run via ctest)");
  return dir;
}

// The directory of one test case's plugin: test-plugins/<name>/.
inline std::filesystem::path plugin_dir(const std::string &name) {
  return test_plugins_root() / name;
}

inline std::filesystem::path plugin_file(const std::string &name) {
  return plugin_dir(name) / ("lib" + name + ".so");
}

// A JSON string literal for a path.
inline std::string quoted(const std::filesystem::path &path) {
  return "\"" + path.string() + "\"";
}

// A policy with one provider `p` using `plugin`, found in `dir`, routing
// every category to it.
inline std::string one_provider_policy(const std::filesystem::path &dir, const std::string &plugin,
                                       const std::string &config_json = "{}",
                                       const std::string &sha256 = {}) {
  std::string pin = sha256.empty() ? "" : ", \"sha256\": \"" + sha256 + "\"";
  return R"({"coffer": 1, "plugin_dirs": [)" + quoted(dir) +
         R"(], "providers": {"p": {"plugin": ")" + plugin + R"(", "config": )" + config_json + pin +
         R"(}}, "routes": {"*": "p"}})";
}

// Collects the Store's log lines.
struct LogLines {
  std::mutex mutex;
  std::vector<std::string> lines;
  LogSink sink() {
    return [this](LogLevel, std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
    };
  }
  bool contains(const std::string &text) {
    std::lock_guard lock(mutex);
    for (const auto &line : lines)
      if (line.find(text) != std::string::npos) return true;
    return false;
  }
};

// Options for test stores: test keys are not in the built-in catalog, and a
// plugin that does not load or open fails the Store's open (the suites check
// those refusals; isolation has its own tests in tests/core).
inline StoreOptions test_options(LogLines *log = nullptr) {
  StoreOptions options;
  options.allow_unknown_keys = true;
  options.open_failures = OpenFailures::fail;
  options.log_level = LogLevel::debug;
  if (log != nullptr)
    options.log = log->sink();
  else
    options.log = [](LogLevel, std::string_view) {};
  return options;
}

// Opens a Store over one plugin of the test plugins.
inline Store open_test_plugin(const std::string &plugin, const std::string &config_json = "{}",
                              LogLines *log = nullptr) {
  return Store::from_string(one_provider_policy(plugin_dir(plugin), plugin, config_json),
                            test_options(log));
}

// A get past the Store's cache, so that every call reaches the provider (for
// the suites of the SDK's wrappers).
inline Result get(Store &store, const std::string &key) {
  GetOptions options;
  options.bypass_cache = true;
  return store.try_get(key, options);
}

// What Store::open / from_string threw, or "" when it did not throw.
struct Failure {
  bool thrown = false;
  Code code = Code::ok;
  std::string message;
};

template <class Body>
Failure failure_of(Body &&body) {
  Failure failure;
  try {
    body();
  } catch (const Error &e) {
    failure.thrown = true;
    failure.code = e.code();
    failure.message = e.what();
  }
  return failure;
}

inline bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

// A fresh private directory (0700), removed with everything in it, that can
// also hold copies of plugins.
class TempDir : public coffer::test::TempDirectory {
 public:
  TempDir() : TempDirectory("coffer-sdk-test") {}
  // Copies a file in (mode 0755, like an installed plugin).
  std::filesystem::path copy(const std::filesystem::path &from, const std::string &name) const {
    auto file = path() / name;
    std::filesystem::copy_file(from, file, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::permissions(
        file, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                  std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                  std::filesystem::perms::others_exec);
    return file;
  }
};

}  // namespace coffer::sdk_test

#endif  // COFFER_TESTS_SDK_TEST_SUPPORT_HPP
