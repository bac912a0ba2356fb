// The JSON-with-comments scanner that records byte spans, and helpers on the
// text; see json_spans.hpp for why Boost.JSON cannot do this.
#include "json_spans.hpp"

#include <algorithm>
#include <utility>

namespace coffer::cli::detail {
namespace {

void append_utf8(std::string &out, char32_t c) {
  auto byte = [&](char32_t b) { out += static_cast<char>(b); };
  if (c < 0x80) {
    byte(c);
  } else if (c < 0x800) {
    byte(0xC0 | (c >> 6));
    byte(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    byte(0xE0 | (c >> 12));
    byte(0x80 | ((c >> 6) & 0x3F));
    byte(0x80 | (c & 0x3F));
  } else {
    byte(0xF0 | (c >> 18));
    byte(0x80 | ((c >> 12) & 0x3F));
    byte(0x80 | ((c >> 6) & 0x3F));
    byte(0x80 | (c & 0x3F));
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Scanner.

Node Scanner::document() {
  skip_blanks();
  Node root = value(0);
  skip_blanks();
  if (!at_end()) fail("unexpected text after the end of the document");
  return root;
}

void Scanner::fail(const std::string &message) const {
  throw SyntaxError{at_, at_end() ? "unexpected end of the document (" + message + ")" : message};
}

// Whitespace and comments.
void Scanner::skip_blanks() {
  while (!at_end()) {
    char c = text_[at_];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++at_;
    } else if (looking_at("//")) {
      std::size_t newline = text_.find('\n', at_);
      at_ = newline == kNone ? text_.size() : newline + 1;
    } else if (looking_at("/*")) {
      std::size_t close = text_.find("*/", at_ + 2);
      if (close == kNone) fail("a /* comment is not closed");
      at_ = close + 2;
    } else {
      return;
    }
  }
}

Node Scanner::value(int depth) {
  if (depth >= kMaxDepth) fail("nested too deeply");
  switch (peek()) {
    case '{':
      return object(depth + 1);
    case '[':
      return array(depth + 1);
    case '"':
      return string();
    default:
      return scalar();
  }
}

Node Scanner::object(int depth) {
  Node node;
  node.kind = Node::Kind::object;
  node.span.begin = at_++;
  skip_blanks();
  while (peek() != '}') {
    if (peek() != '"') fail("expected a member name in quotes or '}'");
    Member member;
    Node name = string();
    member.name = std::move(name.string);
    member.name_span = name.span;
    skip_blanks();
    if (peek() != ':') fail("expected ':' after the member name");
    ++at_;
    skip_blanks();
    member.value = value(depth);
    skip_blanks();
    bool more = peek() == ',';
    if (more) {
      member.comma = at_++;
      skip_blanks();
    }
    node.members.push_back(std::move(member));
    if (!more && peek() != '}') fail("expected ',' or '}' after an object member");
  }
  node.span.end = ++at_;
  return node;
}

Node Scanner::array(int depth) {
  Node node;
  node.kind = Node::Kind::array;
  node.span.begin = at_++;
  skip_blanks();
  while (peek() != ']') {
    Element element;
    element.value = value(depth);
    skip_blanks();
    bool more = peek() == ',';
    if (more) {
      element.comma = at_++;
      skip_blanks();
    }
    node.elements.push_back(std::move(element));
    if (!more && peek() != ']') fail("expected ',' or ']' after an array element");
  }
  node.span.end = ++at_;
  return node;
}

Node Scanner::string() {
  Node node;
  node.kind = Node::Kind::string;
  node.span.begin = at_++;
  for (;;) {
    if (at_end()) fail("a string is not closed");
    char c = text_[at_];
    if (c == '"') break;
    if (c == '\\') {
      node.escaped = true;
      escape(node.string);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      fail("a control character (such as a line break) in a string");
    } else {
      node.string += c;
      ++at_;
    }
  }
  node.span.end = ++at_;
  return node;
}

// One escape sequence, appended to `out` decoded (\u as UTF-8).
void Scanner::escape(std::string &out) {
  ++at_;  // the backslash
  char c = peek();
  ++at_;
  switch (c) {
    case '"':
    case '\\':
    case '/':
      out += c;
      return;
    case 'b':
      out += '\b';
      return;
    case 'f':
      out += '\f';
      return;
    case 'n':
      out += '\n';
      return;
    case 'r':
      out += '\r';
      return;
    case 't':
      out += '\t';
      return;
    case 'u':
      append_utf8(out, code_point());
      return;
    default:
      --at_;
      fail("an invalid escape sequence in a string");
  }
}

// The code point of a \u escape (after "\u"), joining a surrogate pair.
char32_t Scanner::code_point() {
  char32_t high = hex4();
  if (high >= 0xDC00 && high <= 0xDFFF) fail("a \\u escape is half of a surrogate pair");
  if (high < 0xD800 || high > 0xDBFF) return high;
  if (!looking_at("\\u")) fail("a \\u escape is half of a surrogate pair");
  at_ += 2;
  char32_t low = hex4();
  if (low < 0xDC00 || low > 0xDFFF) fail("a \\u escape is half of a surrogate pair");
  return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
}

char32_t Scanner::hex4() {
  char32_t value = 0;
  for (int i = 0; i < 4; ++i, ++at_) {
    char c = peek();
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
    if (digit < 0) fail("expected four hexadecimal digits after \\u");
    value = value * 16 + static_cast<char32_t>(digit);
  }
  return value;
}

// true, false, null or a number.
Node Scanner::scalar() {
  Node node;
  node.span.begin = at_;
  for (std::string_view literal : {"true", "false", "null"}) {
    if (looking_at(literal)) {
      at_ += literal.size();
      node.span.end = at_;
      return node;
    }
  }
  if (peek() == '-') ++at_;
  if (!is_digit()) fail("expected a value");
  if (peek() == '0') {
    ++at_;
  } else {
    skip_digits();
  }
  if (peek() == '.') {
    ++at_;
    if (!is_digit()) fail("expected a digit after the decimal point");
    skip_digits();
  }
  if (peek() == 'e' || peek() == 'E') {
    ++at_;
    if (peek() == '+' || peek() == '-') ++at_;
    if (!is_digit()) fail("expected a digit in the exponent");
    skip_digits();
  }
  node.span.end = at_;
  return node;
}

void Scanner::skip_digits() {
  while (is_digit()) ++at_;
}

// ---------------------------------------------------------------------------
// Small helpers on the text.

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xF];
      out += kHex[c & 0xF];
    } else {
      out += c;
    }
  }
  return out + '"';
}

std::size_t line_start(std::string_view text, std::size_t pos) {
  std::size_t newline = pos == 0 ? kNone : text.rfind('\n', pos - 1);
  return newline == kNone ? 0 : newline + 1;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

bool all_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), is_blank);
}

std::string indentation_of(std::string_view text, std::size_t pos) {
  std::size_t begin = line_start(text, pos);
  std::size_t end = begin;
  while (end < text.size() && is_blank(text[end])) ++end;
  return std::string(text.substr(begin, end - begin));
}

std::string line_break_at(std::string_view text, std::size_t pos) {
  return text.substr(pos).starts_with("\r\n") ? "\r\n" : "\n";
}

std::size_t end_of_line_after(std::string_view text, std::size_t pos) {
  for (;;) {
    while (pos < text.size() && is_blank(text[pos])) ++pos;
    std::string_view rest = text.substr(pos);
    if (rest.starts_with("\n") || rest.starts_with("\r\n")) return pos;
    if (rest.starts_with("//")) {
      std::size_t newline = text.find('\n', pos);
      if (newline == kNone) return kNone;
      return newline > 0 && text[newline - 1] == '\r' ? newline - 1 : newline;
    }
    if (!rest.starts_with("/*")) return kNone;
    std::size_t close = text.find("*/", pos + 2);
    // A comment running over several lines: insert before it, on this line.
    if (close == kNone || text.substr(pos, close - pos).find('\n') != kNone) return kNone;
    pos = close + 2;
  }
}

std::size_t line_number(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

}  // namespace coffer::cli::detail
