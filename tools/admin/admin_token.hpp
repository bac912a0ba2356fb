// The admin token that logs into the panel (--admin-token-file): read from a
// file that only the agent's user (or root) owns and only its owner may read
// (0600 or 0400), and at least 128 bits strong (32 hex digits, or 22
// characters of a larger alphabet such as base64). Only its SHA-256 digest is
// kept; a presented token is compared in constant time.
//
// Threading: const methods may be called from many threads at once.
#ifndef COFFER_ADMIN_ADMIN_TOKEN_HPP
#define COFFER_ADMIN_ADMIN_TOKEN_HPP

#include <array>
#include <filesystem>
#include <string_view>

namespace coffer::admin {

class AdminToken {
 public:
  // Throws Error(invalid_config) naming `option`, the file and the rule it
  // breaks.
  static AdminToken load(const std::filesystem::path &file,
                         std::string_view option = "--admin-token-file");

  [[nodiscard]] bool matches(std::string_view presented) const noexcept;

 private:
  std::array<unsigned char, 32> digest_{};
};

// The strength of a token in bits, as this panel counts it: 4 per character
// when every character is a hex digit, 6 otherwise.
unsigned token_bits(std::string_view token) noexcept;

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_ADMIN_TOKEN_HPP
