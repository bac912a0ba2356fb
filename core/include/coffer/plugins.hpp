// Discovery of provider plugins, for `coffer plugins` and diagnostics.
//
// Plugins load only from configured directories. A file or directory that
// group or others may write to, or that belongs to another user than root or
// the process's effective user, is refused; so is a file whose SHA-256 does
// not match a pin, and one whose ABI major version differs from the core's.
#ifndef COFFER_PLUGINS_HPP
#define COFFER_PLUGINS_HPP

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace coffer {

struct PluginInfo {
  std::filesystem::path file;
  bool loadable = false;
  std::string refusal;  // why the file was refused; empty when loadable
  // Known only for loadable files:
  std::string name;
  std::string plugin_version;
  std::string description;
  std::uint32_t abi_version = 0;
  std::vector<std::string> capabilities;  // "get", "put", "list", ...
};

// The core's ABI version, (major << 16) | minor.
std::uint32_t abi_version() noexcept;
// The version of libcoffer, e.g. "0.1.0".
const char *library_version() noexcept;

// The plugin directories in effect when a policy names none: the
// COFFER_PLUGIN_PATH environment variable (colon-separated; ignored in a
// setuid or setgid process), then the plugin directory of the installation
// this libcoffer is part of, found from the library's own path (so that an
// installation moved to another prefix finds its own plugins), then the
// plugin directory of the prefix libcoffer was built for, when that differs.
std::vector<std::filesystem::path> default_plugin_dirs();

// Examines every shared object in `dirs` (loading each to read its table,
// which runs the library's initialisers, after the same safety checks as a
// policy's plugins) and reports on each. Never throws for a bad file; the
// reason goes in `refusal`.
std::vector<PluginInfo> scan_plugins(const std::vector<std::filesystem::path> &dirs);

// The text of a policy file, read under the rules coffer applies to every
// file that chooses what it loads (docs/policy.md, "Files coffer trusts"): a
// regular file (a FIFO or device is refused, never waited on) of at most
// 1 MiB, that only root or the running user can write, in directories nobody
// else can write. For tools that read a policy beside a Store (to edit it, or
// to list plugins when it does not load). Throws Error(invalid_config) naming
// the file, the rule and the fix.
std::string read_policy_file(const std::filesystem::path &file);

}  // namespace coffer

#endif  // COFFER_PLUGINS_HPP
