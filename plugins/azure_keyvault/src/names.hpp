// Key Vault secret names for coffer's canonical keys.
//
// A canonical key `Category.Name` is stored as the secret `Category-Name`: every
// dot becomes a hyphen. Secret names hold 1 to 127 characters of 0-9, a-z,
// A-Z and '-'. The way back (for list()) is defined only for names with exactly
// one hyphen between two non-empty parts. Pure functions; thread-safe.
#ifndef COFFER_AZURE_NAMES_HPP
#define COFFER_AZURE_NAMES_HPP

#include <optional>
#include <string>
#include <string_view>

namespace coffer::azure {

inline constexpr std::size_t kMaxSecretNameLength = 127;

// True when `name` is a valid Key Vault secret name.
bool is_valid_secret_name(std::string_view name) noexcept;

// The secret name for a canonical key. Throws coffer::provider::Error
// (COFFER_STATUS_INVALID_ARGUMENT) with a message that names the key and the
// first offending character when the key cannot be represented.
std::string secret_name_for_key(std::string_view key);

// The canonical key a secret name stands for, or nothing when the name does
// not have exactly one hyphen between two non-empty parts.
std::optional<std::string> key_for_secret_name(std::string_view name);

// True when `version` looks like a Key Vault version identifier (1 to 64
// characters of 0-9, a-z, A-Z); the service uses 32 hexadecimal digits.
bool is_valid_version(std::string_view version) noexcept;

}  // namespace coffer::azure

#endif  // COFFER_AZURE_NAMES_HPP
