#include <sys/prctl.h>
#include <sys/resource.h>
#include <coffer/error.hpp>
#include <coffer/process.hpp>

#include <cerrno>
#include <cstring>
#include <string>

namespace coffer {

void harden_process() {
  struct rlimit none {};
  if (::setrlimit(RLIMIT_CORE, &none) != 0)
    throw Error(Code::internal,
                std::string("cannot turn core dumps off (setrlimit RLIMIT_CORE 0): ") +
                    std::strerror(errno));
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    throw Error(Code::internal,
                std::string("cannot mark the process non-dumpable (prctl PR_SET_DUMPABLE 0): ") +
                    std::strerror(errno));
}

}  // namespace coffer
