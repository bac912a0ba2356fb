// One loaded plugin file: the shared library and a copy of its provider table
// (zero-filled past the plugin's struct_size, so missing operations are NULL).
#ifndef COFFER_CORE_PLUGIN_LIBRARY_HPP
#define COFFER_CORE_PLUGIN_LIBRARY_HPP

#include <coffer/provider.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace coffer::detail {

class PluginLibrary {
 public:
  // Loads `file` after the safety checks (ownership, permissions, the
  // optional SHA-256 pin) and checks its table (entry symbol, ABI major
  // version, struct size, name). Throws Error(invalid_config) with a message
  // naming the file and what to do.
  static std::shared_ptr<PluginLibrary> load(const std::filesystem::path &file,
                                             const std::optional<std::string> &sha256 = {},
                                             const std::string &expected_name = {});

  ~PluginLibrary();
  PluginLibrary(const PluginLibrary &) = delete;
  PluginLibrary &operator=(const PluginLibrary &) = delete;

  [[nodiscard]] const coffer_provider &table() const { return table_; }
  [[nodiscard]] const std::filesystem::path &file() const { return file_; }
  [[nodiscard]] std::vector<std::string> capability_names() const;

 private:
  PluginLibrary() = default;
  struct Handle;
  std::unique_ptr<Handle> handle_;
  coffer_provider table_{};
  std::filesystem::path file_;
};

// Why a plugin file or directory may not be loaded (empty: it may).
std::string unsafe_reason(const std::filesystem::path &path);

// Finds lib<name>.so or <name>.so in the directories, in order. Throws
// Error(invalid_config) listing where it looked.
std::filesystem::path find_plugin(const std::string &name,
                                  const std::vector<std::filesystem::path> &dirs);

// Lower-case hex SHA-256 of an open file descriptor's content.
std::string sha256_of_fd(int fd);

}  // namespace coffer::detail

#endif  // COFFER_CORE_PLUGIN_LIBRARY_HPP
