// Parsing JSON as the policy loader does (comments, trailing commas, at most
// 64 levels deep), for the harnesses that compare with it.
#ifndef COFFER_TESTS_FUZZ_RELAXED_JSON_HPP
#define COFFER_TESTS_FUZZ_RELAXED_JSON_HPP

#include <boost/json.hpp>

#include <optional>
#include <string_view>

namespace coffer::fuzz {

inline std::optional<boost::json::value> parse_relaxed(std::string_view text) {
  boost::json::parse_options options;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  options.max_depth = 64;
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(text, error, {}, options);
  if (error) return std::nullopt;
  return value;
}

}  // namespace coffer::fuzz

#endif  // COFFER_TESTS_FUZZ_RELAXED_JSON_HPP
