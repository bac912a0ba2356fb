#include "helper_io.hpp"

#include <unistd.h>
#include <coffer/error.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "output.hpp"

namespace coffer::helpers {
namespace {

// Where the first empty line starts (the "\n" that ends the line before it
// included), or npos.
std::size_t blank_line(std::string_view text) {
  if (text.rfind("\n", 0) == 0 || text.rfind("\r\n", 0) == 0) return 0;
  for (std::size_t at = text.find('\n'); at != std::string_view::npos;
       at = text.find('\n', at + 1)) {
    std::string_view rest = text.substr(at + 1);
    if (rest.rfind("\n", 0) == 0 || rest.rfind("\r\n", 0) == 0) return at + 1;
  }
  return std::string_view::npos;
}

}  // namespace

SecretText read_standard_input(const InputLimits &limits) {
  SecretText text;
  text.reserve(4096);
  for (;;) {
    if (limits.stop_at_blank_line) {
      std::size_t end = blank_line(std::string_view(text.data(), text.size()));
      if (end != std::string_view::npos) {
        coffer::provider::wipe(text.data() + end, text.size() - end);
        text.resize(end);
        return text;
      }
    }
    if (text.size() > limits.max_bytes) break;
    std::size_t used = text.size();
    text.resize(used + 4096);
    ssize_t n = ::read(STDIN_FILENO, text.data() + used, 4096);
    if (n < 0) {
      text.resize(used);
      if (errno == EINTR) continue;
      throw Error(Code::internal,
                  std::string("cannot read standard input: ") + std::strerror(errno));
    }
    text.resize(used + static_cast<std::size_t>(n));
    if (n == 0) break;
  }
  if (text.size() > limits.max_bytes)
    throw Error(Code::invalid_argument,
                "the input is larger than " + std::to_string(limits.max_bytes) + " bytes");
  return text;
}

void print_message(std::string_view program, std::string_view message) {
  std::string line = std::string(program) + ": " + cli::escape_controls(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace coffer::helpers
