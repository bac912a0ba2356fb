// The configuration of an env_file instance (the policy's
// `providers.NAME.config` object). Field names are a stable interface:
//   path             the env file; relative to the policy file's directory
//   source           "file" (default) or "environment"
//   prefix           prepended to every variable name ("" by default)
//   writable         allow put and remove (false by default)
//   require_private  refuse a file that group or others may access (false)
//   expand           expand ${NAME} references in values (false)
#ifndef COFFER_ENV_FILE_CONFIG_HPP
#define COFFER_ENV_FILE_CONFIG_HPP

#include <filesystem>
#include <string>
#include <string_view>

namespace coffer::env_file {

enum class SourceKind { file, environment };

struct Config {
  SourceKind source = SourceKind::file;
  std::filesystem::path path;  // absolute and normalised; empty for the environment
  std::string prefix;
  bool writable = false;
  bool require_private = false;
  bool expand = false;
};

// Parses and checks the config JSON. A relative `path` resolves against
// `base_directory`, or the current directory when that is empty. Throws
// coffer::provider::Error (COFFER_STATUS_INVALID_CONFIG) naming the field at
// fault; an unknown field is named with the nearest known one.
Config parse_config(std::string_view json, const std::filesystem::path &base_directory);

}  // namespace coffer::env_file

#endif  // COFFER_ENV_FILE_CONFIG_HPP
