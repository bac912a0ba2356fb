#include "response.hpp"

#include <string.h>  // explicit_bzero

#include <cstdio>

namespace coffer::agent {

void WipedString::wipe() noexcept {
  if (text_.capacity() > 0) explicit_bzero(text_.data(), text_.capacity());
  text_.clear();
}

Response error_response(int status, std::string_view error_code, std::string_view message) {
  Response response;
  response.status = status;
  response.body.reserve(json_string_size(error_code) + json_string_size(message) + 32);
  response.body.append("{\"errorCode\":");
  append_json_string(response.body, error_code);
  response.body.append(",\"message\":");
  append_json_string(response.body, message);
  response.body.append("}");
  return response;
}

Response text_response(int status, std::string_view content_type, std::string body) {
  Response response;
  response.status = status;
  response.content_type = content_type;
  response.body = WipedString(body);
  return response;
}

}  // namespace coffer::agent
