// Helpers for the core's tests: policies over the in-memory test provider.
#ifndef COFFER_TESTS_CORE_TEST_POLICY_HPP
#define COFFER_TESTS_CORE_TEST_POLICY_HPP

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
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

// A fresh directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "coffer-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  [[nodiscard]] const std::filesystem::path &path() const { return path_; }
  std::filesystem::path write(const std::string &name, const std::string &text) const {
    auto file = path_ / name;
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
    return file;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace coffer::test

#endif  // COFFER_TESTS_CORE_TEST_POLICY_HPP
