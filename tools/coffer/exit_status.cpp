#include "exit_status.hpp"

namespace coffer::cli {

int exit_status_for(Code code) noexcept {
  switch (code) {
    case Code::ok:
      return exit_success;
    case Code::not_found:
      return exit_not_found;
    case Code::denied:
      return exit_denied;
    case Code::unavailable:
    case Code::timeout:
      return exit_unavailable;
    case Code::invalid_argument:
    case Code::invalid_config:
      return exit_usage;
    case Code::unsupported:
    case Code::internal:
    case Code::data_error:
      return exit_failure;
  }
  return exit_failure;
}

}  // namespace coffer::cli
