// Writing values out: with write(2) straight from the caller's buffer, so
// that no stdio buffer keeps a copy of what passes through.
#ifndef COFFER_TOOLS_WRITE_ALL_HPP
#define COFFER_TOOLS_WRITE_ALL_HPP

#include <string_view>

namespace coffer::tools {

// Writes all of `bytes` to `fd`, retrying after EINTR and short writes.
// Throws coffer::Error (internal) naming `what` ("standard output").
void write_all(int fd, std::string_view bytes, std::string_view what);

}  // namespace coffer::tools

#endif  // COFFER_TOOLS_WRITE_ALL_HPP
