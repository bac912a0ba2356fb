#include "key_mapping.hpp"

#include <coffer/provider.hpp>

namespace coffer::env_file {
namespace {

bool is_letter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

bool is_valid_prefix(std::string_view prefix) noexcept {
  if (prefix.empty()) return true;
  if (!is_letter(prefix[0]) && prefix[0] != '_') return false;
  for (char c : prefix)
    if (!is_letter(c) && !is_digit(c) && c != '_') return false;
  return true;
}

std::string variable_name(std::string_view prefix, std::string_view key) {
  if (!is_canonical_key(key))
    throw coffer::provider::Error(
        COFFER_STATUS_INVALID_ARGUMENT,
        "key '" + std::string(key) +
            "' cannot be mapped to an env file name: expected Category.Name, two parts of ASCII "
            "letters and digits each starting with a letter");
  std::size_t dot = key.find('.');
  std::string name(prefix);
  name.append(key.substr(0, dot));
  name.append("__");
  name.append(key.substr(dot + 1));
  return name;
}

std::optional<std::string> canonical_key(std::string_view prefix, std::string_view name) {
  if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
  name.remove_prefix(prefix.size());
  std::size_t separator = name.find("__");
  if (separator == std::string_view::npos) return std::nullopt;
  std::string_view category = name.substr(0, separator);
  std::string_view rest = name.substr(separator + 2);
  std::string key(category);
  key.push_back('.');
  key.append(rest);
  if (!is_canonical_key(key)) return std::nullopt;
  return key;
}

}  // namespace coffer::env_file
