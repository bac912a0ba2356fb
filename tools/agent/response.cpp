#include "response.hpp"

#include <string.h>  // explicit_bzero

#include <cstdio>

namespace coffer::agent {
namespace {

// The escape for a byte that JSON does not allow raw; nullptr when it may
// stand as it is.
const char *short_escape(unsigned char c) noexcept {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return nullptr;
  }
}

}  // namespace

void WipedString::wipe() noexcept {
  if (text_.capacity() > 0) explicit_bzero(text_.data(), text_.capacity());
  text_.clear();
}

std::size_t json_string_size(std::string_view text) noexcept {
  std::size_t size = 2;
  for (unsigned char c : text) {
    if (short_escape(c) != nullptr)
      size += 2;
    else if (c < 0x20 || c == 0x7f)
      size += 6;
    else
      size += 1;
  }
  return size;
}

void append_json_string(WipedString &out, std::string_view text) {
  out.push_back('"');
  std::size_t plain = 0;  // start of the run of bytes copied as they are
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    const char *escape = short_escape(c);
    if (escape == nullptr && c >= 0x20 && c != 0x7f) continue;
    out.append(text.substr(plain, i - plain));
    if (escape != nullptr) {
      out.append(escape);
    } else {
      char unicode[8];
      std::snprintf(unicode, sizeof unicode, "\\u%04x", c);
      out.append(unicode);
    }
    plain = i + 1;
  }
  out.append(text.substr(plain));
  out.push_back('"');
}

bool is_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong forms, surrogates and code points beyond U+10FFFF.
    if ((extra == 1 && code < 0x80) || (extra == 2 && code < 0x800) ||
        (extra == 3 && (code < 0x10000 || code > 0x10ffff)) || (code >= 0xd800 && code <= 0xdfff))
      return false;
    i += extra + 1;
  }
  return true;
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

Response text_response(int status, std::string content_type, std::string body) {
  Response response;
  response.status = status;
  response.content_type = std::move(content_type);
  response.body = WipedString(body);
  return response;
}

}  // namespace coffer::agent
