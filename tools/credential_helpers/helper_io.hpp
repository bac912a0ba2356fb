// Standard input and error of the credential helpers: what git and docker
// write to them (secrets included) read into secret memory, and messages
// for the user, who sees the helpers' standard error.
#ifndef COFFER_HELPERS_HELPER_IO_HPP
#define COFFER_HELPERS_HELPER_IO_HPP

#include <coffer/provider.hpp>

#include <cstddef>
#include <string_view>
#include <vector>

namespace coffer::helpers {

// Bytes that may hold a secret: in secret memory, wiped when freed or grown.
using SecretText = std::vector<char, coffer::provider::SecretAllocator<char>>;

struct InputLimits {
  std::size_t max_bytes = 64 * 1024;
  // Stop at the first empty line (the git credential protocol's end), which
  // is not included; the rest of the input is not read.
  bool stop_at_blank_line = false;
};

// Standard input up to its end (or its first empty line). Throws
// coffer::Error (invalid_argument) when it holds more than `max_bytes`,
// internal when it cannot be read.
SecretText read_standard_input(const InputLimits &limits);

// "PROGRAM: MESSAGE" and a newline on standard error, control characters
// escaped (messages carry names from the policy, the agent and providers).
void print_message(std::string_view program, std::string_view message);

}  // namespace coffer::helpers

#endif  // COFFER_HELPERS_HELPER_IO_HPP
