#include <coffer/error.hpp>

namespace coffer {

std::string_view to_string(Code code) noexcept {
  switch (code) {
    case Code::ok:
      return "ok";
    case Code::not_found:
      return "not_found";
    case Code::denied:
      return "denied";
    case Code::unavailable:
      return "unavailable";
    case Code::invalid_argument:
      return "invalid_argument";
    case Code::unsupported:
      return "unsupported";
    case Code::timeout:
      return "timeout";
    case Code::internal:
      return "internal";
    case Code::invalid_config:
      return "invalid_config";
    case Code::data_error:
      return "data_error";
  }
  return "internal";
}

}  // namespace coffer
