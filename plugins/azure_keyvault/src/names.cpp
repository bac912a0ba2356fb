#include "names.hpp"

#include <coffer/provider.hpp>

namespace coffer::azure {
namespace {

bool is_name_character(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

std::string describe_character(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x21 && byte < 0x7f) return std::string("'") + c + "'";
  static constexpr char hex[] = "0123456789abcdef";
  return std::string("byte 0x") + hex[byte >> 4] + hex[byte & 0xf];
}

}  // namespace

bool is_valid_secret_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxSecretNameLength) return false;
  for (char c : name)
    if (!is_name_character(c)) return false;
  return true;
}

std::string secret_name_for_key(std::string_view key) {
  using coffer::provider::Error;
  if (key.empty())
    throw Error(COFFER_STATUS_INVALID_ARGUMENT, "an empty key has no Key Vault secret name");
  std::string name(key);
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '.') {
      name[i] = '-';
      continue;
    }
    if (!is_name_character(name[i]))
      throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                  "key '" + std::string(key.substr(0, 200)) + "' cannot be stored in Key Vault: " +
                      describe_character(name[i]) + " at position " + std::to_string(i + 1) +
                      " is not allowed (secret names take only 0-9, a-z, A-Z and '-', and each "
                      "'.' becomes '-')");
  }
  if (name.size() > kMaxSecretNameLength)
    throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                "key '" + std::string(key.substr(0, 200)) +
                    "' cannot be stored in Key Vault: " + std::to_string(name.size()) +
                    " characters, the limit is " + std::to_string(kMaxSecretNameLength));
  return name;
}

std::optional<std::string> key_for_secret_name(std::string_view name) {
  if (!is_valid_secret_name(name)) return std::nullopt;
  std::size_t hyphen = name.find('-');
  if (hyphen == std::string_view::npos || hyphen == 0 || hyphen + 1 == name.size() ||
      name.find('-', hyphen + 1) != std::string_view::npos)
    return std::nullopt;
  std::string key(name);
  key[hyphen] = '.';
  return key;
}

bool is_valid_version(std::string_view version) noexcept {
  if (version.empty() || version.size() > 64) return false;
  for (char c : version)
    if (!is_name_character(c) || c == '-') return false;
  return true;
}

}  // namespace coffer::azure
