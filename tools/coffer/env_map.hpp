// The variables `coffer run` sets: NAME=KEY mappings from --env options and
// --env-file MAP files, checked before anything is resolved.
#ifndef COFFER_CLI_ENV_MAP_HPP
#define COFFER_CLI_ENV_MAP_HPP

#include <filesystem>
#include <string>
#include <vector>

namespace coffer::cli {

// One variable of the command's environment and the key whose value it gets.
struct EnvBinding {
  std::string name;    // a valid environment variable name
  std::string key;     // a canonical key
  std::string origin;  // where it was given: "--env" or "FILE:LINE"
};

// Whether `name` is a portable environment variable name: letters, digits
// and '_', not starting with a digit (POSIX, "Environment Variables").
bool is_env_name(std::string_view name) noexcept;

// `text` of one --env option, NAME=KEY. Throws UsageError for `run`.
EnvBinding parse_env_option(std::string_view text);

// The mappings of a MAP file: one NAME=KEY a line, blanks around NAME and KEY
// ignored, blank lines and lines starting with '#' skipped. Throws
// Error(invalid_argument) naming FILE:LINE and what is wrong; a line or part
// that may be a value is described, never repeated.
std::vector<EnvBinding> read_env_file(const std::filesystem::path &file);

// Throws Error(invalid_argument) when a NAME is mapped twice, naming both
// places.
void require_unique_names(const std::vector<EnvBinding> &bindings);

}  // namespace coffer::cli

#endif  // COFFER_CLI_ENV_MAP_HPP
