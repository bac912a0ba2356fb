#include "dotenv_writer.hpp"

namespace coffer::env_file {

SecretBytes quote_value(std::string_view value) {
  SecretBytes out;
  out.push_back('"');
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '\\':
        out.append("\\\\");
        break;
      case '"':
        out.append("\\\"");
        break;
      // compose-go reads \$ as $$, which its interpolation turns into '$';
      // coffer reads it as '$' with expansion on or off.
      case '$':
        out.append("\\$");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\a':
        out.append("\\a");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\v':
        out.append("\\v");
        break;
      default:
        if (byte < 0x20 || byte == 0x7F) {
          const char octal[] = {'\\', '0', static_cast<char>('0' + (byte >> 6)),
                                static_cast<char>('0' + ((byte >> 3) & 7)),
                                static_cast<char>('0' + (byte & 7))};
          out.append(std::string_view(octal, sizeof octal));
        } else {
          out.push_back(byte);
        }
    }
  }
  out.push_back('"');
  return out;
}

SecretBytes set_entry(std::string_view text, const Document &document, std::string_view name,
                      std::string_view quoted_value) {
  const Statement *last = document.find(name);
  SecretBytes out;
  if (last == nullptr) {
    out.append(text);
    bool ends_with_break = !text.empty() && (text.back() == '\n' || text.back() == '\r');
    bool only_bom = document.has_bom && text.size() == 3;
    if (!text.empty() && !ends_with_break && !only_bom) out.append(document.line_break);
    out.append(name);
    out.push_back('=');
    out.append(quoted_value);
    out.append(document.line_break);
    return out;
  }
  std::size_t copied = 0;
  for (const Statement &statement : document.statements) {
    if (statement.name != name) continue;
    if (&statement == last) {
      out.append(text.substr(copied, statement.value_begin - copied));
      out.append(quoted_value);
      copied = statement.value_end;
    } else {
      out.append(text.substr(copied, statement.begin - copied));
      copied = statement.end;
    }
  }
  out.append(text.substr(copied));
  return out;
}

SecretBytes remove_entry(std::string_view text, const Document &document, std::string_view name) {
  SecretBytes out;
  std::size_t copied = 0;
  for (const Statement &statement : document.statements) {
    if (statement.name != name) continue;
    out.append(text.substr(copied, statement.begin - copied));
    copied = statement.end;
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace coffer::env_file
