// Shared by the Entra and Key Vault response harnesses: the checks that a
// server's text reaches a message only through the sanitised codes.
#ifndef COFFER_TESTS_FUZZ_AZURE_JSON_SUPPORT_HPP
#define COFFER_TESTS_FUZZ_AZURE_JSON_SUPPORT_HPP

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"

namespace coffer::fuzz {

// Text that no sanitised code can hold (spaces), planted in a body where
// servers put prose, so that a message that quotes it is caught.
inline constexpr std::string_view kCanary = "canary text from the server 6f1d";

// An HTTP status from two bytes of input: 100 to 599.
inline unsigned http_status(Input &input) {
  unsigned high = input.byte();
  unsigned low = input.byte();
  return 100 + ((high << 8) | low) % 500;
}

// `body` with `member` of the object at `path` (created where missing) set to
// the canary; nothing when `body` is not a JSON object.
inline std::optional<std::string> with_canary(std::string_view body,
                                              std::initializer_list<std::string_view> path,
                                              std::string_view member) {
  boost::system::error_code error;
  boost::json::value document = boost::json::parse(body, error);
  if (error || !document.is_object()) return std::nullopt;
  boost::json::object *object = &document.as_object();
  for (std::string_view step : path) {
    boost::json::value &next = (*object)[step];
    if (!next.is_object()) next = boost::json::object();
    object = &next.as_object();
  }
  (*object)[member] = kCanary;
  return boost::json::serialize(document);
}

// True for the characters sanitize_code keeps.
inline bool is_code_text(std::string_view code) {
  if (code.size() > 64) return false;
  for (char c : code)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
          c == '.' || c == ':' || c == '+' || c == '-'))
      return false;
  return true;
}

}  // namespace coffer::fuzz

#endif  // COFFER_TESTS_FUZZ_AZURE_JSON_SUPPORT_HPP
