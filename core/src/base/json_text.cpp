#include "base/json_text.hpp"

#include <coffer/error.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parser.hpp>

#include <algorithm>
#include <cstdio>
#include <optional>

namespace coffer::detail {
namespace {

boost::json::parse_options relaxed() {
  boost::json::parse_options options;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  options.max_depth = 64;
  return options;
}

// A SAX handler that tracks the path of the value being parsed and records the
// offset at which the value at `target` (or its member name) begins. The
// locator feeds the parser one byte at a time, so `offset` is exact.
struct Locator {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  struct Frame {
    bool is_object;
    std::string key;
    std::size_t index = 0;
    bool has_element = false;
  };

  const JsonPath *target = nullptr;
  std::size_t skip = 0;    // matches to pass over (a repeated member's later place)
  std::size_t offset = 0;  // index of the byte being fed
  std::vector<Frame> stack;
  bool in_key = false;
  bool in_string = false;
  std::string key;
  std::size_t key_start = 0;
  std::optional<std::size_t> found;
  std::size_t best_depth = 0;
  std::size_t best_offset = 0;

  // The path of the value that starts now.
  [[nodiscard]] bool matches(std::size_t depth) const {
    if (depth > target->size()) return false;
    for (std::size_t i = 0; i < depth; ++i) {
      const Frame &f = stack[i];
      const auto &want = (*target)[i];
      if (f.is_object) {
        if (!std::holds_alternative<std::string>(want) || std::get<std::string>(want) != f.key)
          return false;
      } else {
        if (!std::holds_alternative<std::size_t>(want) || std::get<std::size_t>(want) != f.index)
          return false;
      }
    }
    return true;
  }
  void value_begins(std::size_t start) {
    if (found) return;
    std::size_t depth = stack.size();
    if (!matches(depth)) return;
    if (depth == target->size()) {
      if (skip > 0) {
        --skip;
        return;
      }
      found = stack.empty() || !stack.back().is_object ? start : key_start;
    } else if (depth >= best_depth) {
      best_depth = depth;
      best_offset = stack.empty() || !stack.back().is_object ? start : key_start;
    }
  }
  void element_begins(std::size_t start) {
    if (!stack.empty() && !stack.back().is_object) {
      if (stack.back().has_element) ++stack.back().index;
      stack.back().has_element = true;
    }
    value_begins(start);
  }
  bool scalar(boost::system::error_code &) {
    element_begins(offset);
    return true;
  }

  bool on_document_begin(boost::system::error_code &) { return true; }
  bool on_document_end(boost::system::error_code &) { return true; }
  bool on_object_begin(boost::system::error_code &) {
    element_begins(offset);
    stack.push_back({true, {}, 0, false});
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code &) {
    stack.pop_back();
    return true;
  }
  bool on_array_begin(boost::system::error_code &) {
    element_begins(offset);
    stack.push_back({false, {}, 0, false});
    return true;
  }
  bool on_array_end(std::size_t, boost::system::error_code &) {
    stack.pop_back();
    return true;
  }
  bool on_key_part(std::string_view part, std::size_t, boost::system::error_code &) {
    if (!in_key) {
      in_key = true;
      key.clear();
      key_start = offset - part.size();
    }
    key.append(part);
    return true;
  }
  bool on_key(std::string_view part, std::size_t, boost::system::error_code &) {
    if (!in_key) key_start = offset - part.size();
    if (!in_key) key.clear();
    key.append(part);
    in_key = false;
    stack.back().key = key;
    return true;
  }
  bool on_string_part(std::string_view part, std::size_t, boost::system::error_code &) {
    if (!in_string) {
      in_string = true;
      element_begins(offset - part.size());
    }
    return true;
  }
  bool on_string(std::string_view part, std::size_t, boost::system::error_code &) {
    if (!in_string) element_begins(offset - part.size());
    in_string = false;
    return true;
  }
  bool on_number_part(std::string_view, boost::system::error_code &) { return true; }
  bool on_int64(std::int64_t, std::string_view, boost::system::error_code &ec) {
    return scalar(ec);
  }
  bool on_uint64(std::uint64_t, std::string_view, boost::system::error_code &ec) {
    return scalar(ec);
  }
  bool on_double(double, std::string_view, boost::system::error_code &ec) { return scalar(ec); }
  bool on_bool(bool, boost::system::error_code &ec) { return scalar(ec); }
  bool on_null(boost::system::error_code &ec) { return scalar(ec); }
  bool on_comment_part(std::string_view, boost::system::error_code &) { return true; }
  bool on_comment(std::string_view, boost::system::error_code &) { return true; }
};

// A SAX handler that finds what the document parser accepts silently: a
// member name that appears twice in one object (the last would win) and a
// string with a NUL character (C code reading it would see a shorter one).
// It stops at the first and leaves its path.
struct MemberChecker {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  struct Frame {
    bool is_object;
    std::vector<std::string> names;  // objects: member names seen so far
    std::size_t index = 0;           // arrays: elements seen so far
  };
  std::vector<Frame> stack;
  std::string key;
  std::string text;
  enum class Problem { none, duplicate, nul } problem = Problem::none;
  JsonPath at;

  JsonPath path() const {
    JsonPath out;
    for (const Frame &f : stack) {
      if (f.is_object && !f.names.empty())
        out.emplace_back(f.names.back());
      else if (!f.is_object && f.index > 0)
        out.emplace_back(f.index - 1);
    }
    return out;
  }
  bool stop(Problem found, boost::system::error_code &ec) {
    problem = found;
    at = path();
    ec = boost::json::error::extra_data;  // any error: the caller reads `problem`
    return false;
  }
  bool element(boost::system::error_code &) {
    if (!stack.empty() && !stack.back().is_object) ++stack.back().index;
    return true;
  }

  bool on_document_begin(boost::system::error_code &) { return true; }
  bool on_document_end(boost::system::error_code &) { return true; }
  bool on_object_begin(boost::system::error_code &ec) {
    element(ec);
    stack.push_back({true, {}, 0});
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code &) {
    stack.pop_back();
    return true;
  }
  bool on_array_begin(boost::system::error_code &ec) {
    element(ec);
    stack.push_back({false, {}, 0});
    return true;
  }
  bool on_array_end(std::size_t, boost::system::error_code &) {
    stack.pop_back();
    return true;
  }
  bool on_key_part(std::string_view part, std::size_t, boost::system::error_code &) {
    key.append(part);
    return true;
  }
  bool on_key(std::string_view part, std::size_t, boost::system::error_code &ec) {
    key.append(part);
    std::vector<std::string> &names = stack.back().names;
    bool repeated = std::find(names.begin(), names.end(), key) != names.end();
    names.push_back(std::move(key));
    key.clear();
    if (repeated) return stop(Problem::duplicate, ec);
    if (names.back().find('\0') != std::string::npos) return stop(Problem::nul, ec);
    return true;
  }
  bool on_string_part(std::string_view part, std::size_t, boost::system::error_code &) {
    text.append(part);
    return true;
  }
  bool on_string(std::string_view part, std::size_t, boost::system::error_code &ec) {
    element(ec);
    bool nul = part.find('\0') != std::string_view::npos || text.find('\0') != std::string::npos;
    text.clear();
    return nul ? stop(Problem::nul, ec) : true;
  }
  bool on_number_part(std::string_view, boost::system::error_code &) { return true; }
  bool on_int64(std::int64_t, std::string_view, boost::system::error_code &ec) {
    return element(ec);
  }
  bool on_uint64(std::uint64_t, std::string_view, boost::system::error_code &ec) {
    return element(ec);
  }
  bool on_double(double, std::string_view, boost::system::error_code &ec) { return element(ec); }
  bool on_bool(bool, boost::system::error_code &ec) { return element(ec); }
  bool on_null(boost::system::error_code &ec) { return element(ec); }
  bool on_comment_part(std::string_view, boost::system::error_code &) { return true; }
  bool on_comment(std::string_view, boost::system::error_code &) { return true; }
};

}  // namespace

std::string to_string(const JsonPath &path) {
  std::string out;
  for (const auto &part : path) {
    if (std::holds_alternative<std::string>(part)) {
      if (!out.empty()) out += '.';
      // Control bytes (a NUL among them) are shown escaped, never written
      // raw into a message or a terminal.
      for (char c : std::get<std::string>(part)) {
        auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte != 0x7f) {
          out += c;
          continue;
        }
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned>(byte));
        out += escaped;
      }
    } else {
      out += '[' + std::to_string(std::get<std::size_t>(part)) + ']';
    }
  }
  return out.empty() ? "(top level)" : out;
}

TextPosition position_of(std::string_view text, std::size_t offset) {
  TextPosition pos;
  if (offset > text.size()) offset = text.size();
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  return pos;
}

JsonDocument::JsonDocument(std::string source, std::string text)
    : source_(std::move(source)), text_(std::move(text)) {
  boost::json::parser parser(boost::json::storage_ptr(), relaxed());
  boost::system::error_code ec;
  std::size_t used = parser.write(text_.data(), text_.size(), ec);
  if (ec) {
    TextPosition at = position_of(text_, used);
    std::string what = ec.message();
    if (used >= text_.size()) what = "unexpected end of the document (" + what + ")";
    throw Error(Code::invalid_config, source_ + ":" + std::to_string(at.line) + ":" +
                                          std::to_string(at.column) + ": invalid JSON: " + what);
  }
  root_ = parser.release();
  check_members();
}

void JsonDocument::check_members() const {
  boost::json::basic_parser<MemberChecker> checker(relaxed());
  boost::system::error_code ec;
  checker.write_some(false, text_.data(), text_.size(), ec);
  const MemberChecker &found = checker.handler();
  if (found.problem == MemberChecker::Problem::nul)
    fail(found.at, "contains a NUL character (\\u0000), which coffer refuses in names and texts");
  if (found.problem != MemberChecker::Problem::duplicate) return;
  TextPosition first = locate(found.at);
  TextPosition second = locate(found.at, 1);
  const std::string &name = std::get<std::string>(found.at.back());
  throw Error(Code::invalid_config,
              source_ + ":" + std::to_string(second.line) + ":" + std::to_string(second.column) +
                  ": " + to_string(found.at) + ": \"" + name +
                  "\" appears twice in the same object (first at line " +
                  std::to_string(first.line) + ", column " + std::to_string(first.column) +
                  "); one would silently replace the other: keep one");
}

TextPosition JsonDocument::locate(const JsonPath &path, std::size_t occurrence) const {
  boost::json::basic_parser<Locator> parser(relaxed());
  parser.handler().target = &path;
  parser.handler().skip = occurrence;
  boost::system::error_code ec;
  // Each byte is given from a zeroed block of its own: Boost.JSON 1.81 reads
  // up to 16 bytes past a chunk when it counts a number's digits (SSE2), and
  // past the last byte of the text that is beyond its buffer. Zeros are no
  // digits, so what it reads there changes nothing.
  char chunk[32] = {};
  for (std::size_t i = 0; i < text_.size() && !parser.handler().found; ++i) {
    parser.handler().offset = i;
    chunk[0] = text_[i];
    parser.write_some(true, chunk, 1, ec);
    if (ec) break;
  }
  const Locator &h = parser.handler();
  return position_of(text_, h.found ? *h.found : h.best_offset);
}

std::string JsonDocument::where(const JsonPath &path) const {
  TextPosition at = locate(path);
  return source_ + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": ";
}

void JsonDocument::fail(const JsonPath &path, const std::string &message) const {
  throw Error(Code::invalid_config, where(path) + to_string(path) + ": " + message);
}

}  // namespace coffer::detail
