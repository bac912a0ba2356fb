// Canonical keys and env file names: `Category.Name` is the variable
// `<prefix>Category__Name` (a valid shell identifier; case kept).
//
// Threading: pure functions.
#ifndef COFFER_ENV_FILE_KEY_MAPPING_HPP
#define COFFER_ENV_FILE_KEY_MAPPING_HPP

#include <coffer/provider_helpers.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace coffer::env_file {

// Whether `key` is canonical (the SDK's one grammar, <coffer/provider.h>).
using coffer::provider::is_canonical_key;

// Whether `prefix` may start a variable name: empty, or [A-Za-z_][A-Za-z0-9_]*.
bool is_valid_prefix(std::string_view prefix) noexcept;

// `<prefix>Category__Name`. Throws coffer::provider::Error
// (COFFER_STATUS_INVALID_ARGUMENT) naming `key` when it is not canonical.
std::string variable_name(std::string_view prefix, std::string_view key);

// The canonical key that `name` stands for, or nothing when it does not have
// the form `<prefix>Category__Name`.
std::optional<std::string> canonical_key(std::string_view prefix, std::string_view name);

}  // namespace coffer::env_file

#endif  // COFFER_ENV_FILE_KEY_MAPPING_HPP
