#include "write_all.hpp"

#include <unistd.h>
#include <coffer/error.hpp>

#include <cerrno>
#include <cstring>
#include <string>

namespace coffer::tools {

void write_all(int fd, std::string_view bytes, std::string_view what) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw Error(Code::internal,
                  "cannot write to " + std::string(what) + ": " + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace coffer::tools
