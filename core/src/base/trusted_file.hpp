// Files coffer trusts as code or configuration: plugins, policies, catalogs.
//
// One rule for all of them (docs/security.md, "Files coffer trusts"): the file
// belongs to root or to the user running coffer and nobody else may write it;
// its own directory likewise; every directory above it belongs to root or to
// that user and is writable by nobody else, except a root-owned sticky
// directory such as /tmp (others may create files there but not replace
// ours). Symbolic links are allowed (a Kubernetes ConfigMap mount is a chain
// of root-owned links); the directories holding each link are checked too.
#ifndef COFFER_CORE_TRUSTED_FILE_HPP
#define COFFER_CORE_TRUSTED_FILE_HPP

#include <sys/stat.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace coffer::detail {

// Why a file with this status may not be trusted (empty: it may). `path`
// names it in the message, which ends with the command that fixes it.
std::string untrusted_file_reason(const struct stat &st, const std::filesystem::path &path);

// Why `directory` (the directory that holds a trusted file) or any directory
// above it may not be trusted (empty: they may). Checks the path as written
// and the path with every symbolic link resolved.
std::string untrusted_directory_reason(const std::filesystem::path &directory);

// Why the directories leading to `file` may not be trusted: those of the path
// as written and, when it is a symbolic link, those of the file it resolves to.
std::string untrusted_location_reason(const std::filesystem::path &file);

struct TrustedFileLimits {
  std::string_view what;  // "policy file", "catalog file": names the file in errors
  std::size_t max_bytes;  // larger files are refused
};

// Reads a whole trusted file: opened without blocking (a FIFO or device is
// refused, not waited on), checked through the descriptor (a regular file,
// at most `max_bytes`, owner and mode as above) and its directories checked.
// Throws Error(invalid_config) naming the file, the rule and the fix.
std::string read_trusted_file(const std::filesystem::path &file, const TrustedFileLimits &limits);

// "0644"
std::string mode_text(mode_t mode);

}  // namespace coffer::detail

#endif  // COFFER_CORE_TRUSTED_FILE_HPP
