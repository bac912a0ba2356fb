// The secrets that log into the panel: the admin tokens (--admin-token-file)
// and the trusted proxy's secret (--admin-proxy-secret-file). Each is read
// from a file that only the agent's user (or root) owns and only its owner
// may read (0600 or 0400), and must be at least 128 bits strong (32 hex
// digits, or 22 characters of a larger alphabet such as base64). Only
// SHA-256 digests are kept; a presented token is compared in constant time
// with every one.
//
// Threading: const methods may be called from many threads at once.
#ifndef COFFER_ADMIN_ADMIN_TOKEN_HPP
#define COFFER_ADMIN_ADMIN_TOKEN_HPP

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::admin {

// One secret: the whole file, less trailing white space.
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

// The identity of the one unnamed admin token.
inline constexpr std::string_view kUnnamedAdmin = "admin-token";

// The admin tokens of --admin-token-file, each naming the admin it logs in.
// The file holds either one token alone (the admin is "admin-token"), or
// lines "NAME:TOKEN", one per admin: NAME is letters, digits, '.', '_' and
// '-', starting with a letter, at most 64 characters; blank lines and lines
// starting with '#' are skipped. A single line is named when it has a ':'
// after such a name (no token `openssl rand -hex` or `-base64` writes does).
class AdminTokenTable {
 public:
  // Throws Error(invalid_config) naming the file, the line and the rule it
  // breaks (a malformed line, a name or a token given twice, a weak token),
  // and never a token.
  static AdminTokenTable load(const std::filesystem::path &file);

  // The admin `presented` logs in, or nullopt. Compares with every token,
  // in time that depends neither on where they differ nor on which matches.
  [[nodiscard]] std::optional<std::string> identify(std::string_view presented) const;
  [[nodiscard]] std::size_t size() const noexcept { return digests_.size(); }

 private:
  std::vector<std::array<unsigned char, 32>> digests_;
  std::vector<std::string> names_;  // of each digest
};

// The strength of a token in bits, as this panel counts it: 4 per character
// when every character is a hex digit, 6 otherwise.
unsigned token_bits(std::string_view token) noexcept;

// Whether `name` may name an admin in the token file.
bool is_admin_name(std::string_view name) noexcept;

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_ADMIN_TOKEN_HPP
