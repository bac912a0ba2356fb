#include "output.hpp"

#include <coffer/catalog.hpp>
#include <coffer/error.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace coffer::cli {

namespace {

// The length of the UTF-8 sequence that starts `text`, or 0 when it is not a
// well-formed one (overlong forms, surrogates and code points past U+10FFFF
// included).
std::size_t utf8_length(std::string_view text) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  auto follows = [&](std::size_t i) { return i < text.size() && (byte(i) & 0xC0) == 0x80; };
  unsigned char lead = byte(0);
  if (lead >= 0xC2 && lead <= 0xDF) return follows(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!follows(1) || !follows(2)) return 0;
    if (lead == 0xE0 && byte(1) < 0xA0) return 0;   // overlong
    if (lead == 0xED && byte(1) >= 0xA0) return 0;  // a surrogate
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!follows(1) || !follows(2) || !follows(3)) return 0;
    if (lead == 0xF0 && byte(1) < 0x90) return 0;   // overlong
    if (lead == 0xF4 && byte(1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

void append_hex(std::string &out, const char *prefix, unsigned value, int digits) {
  static const char kHex[] = "0123456789abcdef";
  out += prefix;
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += kHex[(value >> shift) & 0xFu];
}

}  // namespace

std::string escape_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\n' || c == '\r' || c == '\t') {
      out += c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t";
      ++i;
    } else if (c < 0x80) {  // the other C0 controls and DEL
      append_hex(out, "\\x", c, 2);
      ++i;
    } else if (std::size_t length = utf8_length(text.substr(i)); length == 0) {
      append_hex(out, "\\x", c, 2);
      ++i;
    } else if (c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {  // C1 controls
      append_hex(out, "\\u", static_cast<unsigned char>(text[i + 1]), 4);
      i += 2;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

std::optional<std::string> shown_key(std::string_view argument) {
  if (!is_canonical_key(argument)) return std::nullopt;
  return "'" + std::string(argument) + "'";
}

std::optional<std::string> shown_word(std::string_view argument) {
  bool word = !argument.empty() && argument.size() <= 32 &&
              std::all_of(argument.begin(), argument.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
              });
  if (!word) return std::nullopt;
  return "'" + std::string(argument) + "'";
}

void Table::print(std::FILE *out) const {
  std::vector<std::size_t> width(header_.size(), 0);
  auto cell = [](const std::vector<std::string> &row, std::size_t i) -> std::string {
    return i < row.size() && !row[i].empty() ? escape_controls(row[i]) : "-";
  };
  for (std::size_t i = 0; i < header_.size(); ++i) {
    width[i] = header_[i].size();
    for (const auto &row : rows_) width[i] = std::max(width[i], cell(row, i).size());
  }
  std::string text;
  auto line = [&](const std::vector<std::string> &row) {
    for (std::size_t i = 0; i < header_.size(); ++i) {
      std::string c = cell(row, i);
      text += c;
      if (i + 1 < header_.size()) text += std::string(width[i] - c.size() + 2, ' ');
    }
    text += '\n';
  };
  line(header_);
  for (const auto &row : rows_) line(row);
  if (out == stdout)
    write_stdout(text);
  else
    std::fwrite(text.data(), 1, text.size(), out);
}

namespace {

void pretty(std::string &out, const boost::json::value &value, int indent) {
  std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  std::string close(static_cast<std::size_t>(indent), ' ');
  if (const auto *object = value.if_object(); object != nullptr && !object->empty()) {
    out += "{\n";
    bool first = true;
    for (const auto &member : *object) {
      if (!first) out += ",\n";
      first = false;
      out += pad + boost::json::serialize(boost::json::string(member.key())) + ": ";
      pretty(out, member.value(), indent + 2);
    }
    out += "\n" + close + "}";
  } else if (const auto *array = value.if_array(); array != nullptr && !array->empty()) {
    out += "[\n";
    for (std::size_t i = 0; i < array->size(); ++i) {
      if (i > 0) out += ",\n";
      out += pad;
      pretty(out, (*array)[i], indent + 2);
    }
    out += "\n" + close + "]";
  } else {
    out += boost::json::serialize(value);
  }
}

}  // namespace

std::string pretty_json(const boost::json::value &value) {
  std::string out;
  pretty(out, value, 0);
  return out + "\n";
}

void print_json(const boost::json::value &value, bool compact) {
  write_stdout(compact ? boost::json::serialize(value) + "\n" : pretty_json(value));
}

void print_error(std::string_view message) {
  std::string line = "coffer: " + escape_controls(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void print_note(std::string_view message, bool quiet) {
  if (!quiet) print_error("note: " + std::string(message));
}

void write_stdout(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    throw Error(Code::internal,
                std::string("cannot write to standard output: ") + std::strerror(errno));
}

std::string utc_text(std::int64_t unix_ms) {
  if (unix_ms <= 0) return {};
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

boost::json::value utc_json(std::int64_t unix_ms) {
  std::string text = utc_text(unix_ms);
  if (text.empty()) return nullptr;
  return boost::json::value(text);
}

}  // namespace coffer::cli
