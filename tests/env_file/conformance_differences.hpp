// The deliberate differences between coffer's env file parser and the five
// dotenv implementations whose test cases live in tests/fixtures/dotenv.
// docs/providers/env_file.md explains each rule.
#ifndef COFFER_TESTS_ENV_FILE_CONFORMANCE_DIFFERENCES_HPP
#define COFFER_TESTS_ENV_FILE_CONFORMANCE_DIFFERENCES_HPP

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace coffer::env_file::conformance {

// Coffer's own result for a case: an error whose message contains
// `message`, or these variables (all of them when `exact`).
struct Expected {
  bool error = false;
  std::string message;
  std::map<std::string, std::string> values;
  bool exact = true;
};

// Parsing fails with a message containing `message`.
inline Expected fails(std::string message) {
  return {true, std::move(message), {}, true};
}
// Exactly these variables.
inline Expected gives(std::map<std::string, std::string> values) {
  return {false, {}, std::move(values), true};
}
// These variables among others (for a case about one line of a large file).
inline Expected includes(std::map<std::string, std::string> values) {
  return {false, {}, std::move(values), false};
}

struct Difference {
  std::string project;  // the fixture folder
  std::string id;       // the case id in its expected.json
  Expected coffer;
  std::string reason;  // one line
};

const std::vector<Difference> &differences();

}  // namespace coffer::env_file::conformance

#endif  // COFFER_TESTS_ENV_FILE_CONFORMANCE_DIFFERENCES_HPP
