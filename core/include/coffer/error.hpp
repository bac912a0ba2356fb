// coffer::Error and coffer::Code: the one error type of the host API.
//
// Every failure the core reports carries a Code (what kind of failure, for
// programs) and a message (what failed and what to do, for people). Messages
// name keys, providers, files and lines, and never contain secret values.
#ifndef COFFER_ERROR_HPP
#define COFFER_ERROR_HPP

#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace coffer {

// The kinds of failure. The numbers equal the provider ABI's
// COFFER_STATUS_* values and the C host API's COFFER_* codes.
enum class Code : int {
  ok = 0,
  not_found = 1,         // no provider in the route holds the key
  denied = 2,            // a provider refused, or the policy denies the key
  unavailable = 3,       // a backend could not be reached; retryable
  invalid_argument = 4,  // a malformed request: unknown key, bad value
  unsupported = 5,       // the route's provider cannot do this operation
  timeout = 6,           // the deadline passed; retryable
  internal = 7,          // a bug or an unexpected failure
  invalid_config = 8,    // the policy, a catalog or a provider's config is wrong
  data_error = 9,        // stored data is corrupt or fails authentication
};

// A stable lower-case name for the code ("not_found", "denied", ...), the
// same as the C API's coffer_code_name(); "internal" for a number that is no
// Code. The view is of a static, NUL-terminated string.
std::string_view to_string(Code code) noexcept;

// The Code whose to_string() is `name` exactly ("ok" included); nullopt for
// any other text.
std::optional<Code> code_named(std::string_view name) noexcept;

// Every Code's name, indexed by the Code's number (so [0] is "ok"). The views
// are of static, NUL-terminated strings.
std::span<const std::string_view> code_names() noexcept;

// Whether a later attempt may succeed (unavailable, timeout).
constexpr bool is_retryable(Code code) noexcept {
  return code == Code::unavailable || code == Code::timeout;
}

class Error : public std::runtime_error {
 public:
  Error(Code code, const std::string &message) : std::runtime_error(message), code_(code) {}
  [[nodiscard]] Code code() const noexcept { return code_; }

 private:
  Code code_;
};

// A provider's administrative command that failed and still answered with
// its JSON result (the database provider's verify report): what() is the
// failure, report() the result, as data rather than inside the message.
class AdminError : public Error {
 public:
  AdminError(Code code, const std::string &message, std::string report)
      : Error(code, message), report_(std::move(report)) {}
  [[nodiscard]] const std::string &report() const noexcept { return report_; }

 private:
  std::string report_;
};

}  // namespace coffer

#endif  // COFFER_ERROR_HPP
