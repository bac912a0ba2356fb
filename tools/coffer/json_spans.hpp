// A scanner for JSON with comments and trailing commas that records where each
// value, member name and comma is in the text, and small helpers on that text,
// for edits that change some bytes of a file and keep all the others.
//
// Why a hand-written scanner: the edit must keep every byte it does not mean
// to change (comments, layout, member order), so it needs the byte span of
// each value, member name and comma. Boost.JSON parses into values without
// source offsets (and its SAX interface reports no offsets either), so the
// small scanner here reads JSON with comments and trailing commas and records
// those spans. It is no substitute for Boost.JSON's verdict on whether a text
// is valid: callers still parse the text with Boost.JSON.
//
// Nothing here keeps state beyond one Scanner: the functions may be called
// from many threads, a Scanner is used by one.
#ifndef COFFER_CLI_JSON_SPANS_HPP
#define COFFER_CLI_JSON_SPANS_HPP

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::cli::detail {

// "No such offset", for commas and for places to point at.
constexpr std::size_t kNone = std::string_view::npos;
// The policy loader's limit (core/src/base/json_text.cpp).
constexpr int kMaxDepth = 64;

// ---------------------------------------------------------------------------
// The document as the scanner sees it.

struct Span {
  std::size_t begin = 0;  // the first byte
  std::size_t end = 0;    // one past the last byte
};

struct Member;
struct Element;

// A value and where it is. Strings keep their decoded text; objects and arrays
// their members and elements, each with the comma that follows it.
struct Node {
  enum class Kind { object, array, string, scalar };
  Kind kind = Kind::scalar;
  Span span;
  std::string string;             // Kind::string: the decoded text
  bool escaped = false;           // Kind::string: written with a backslash escape
  std::vector<Member> members;    // Kind::object, in document order
  std::vector<Element> elements;  // Kind::array
};

struct Member {
  std::string name;  // decoded, so that a name written with escapes still matches
  Span name_span;    // the quoted name
  Node value;
  std::size_t comma = kNone;  // the comma after the value, if any
};

struct Element {
  Node value;
  std::size_t comma = kNone;
};

// What Scanner::document throws: where the text stops being JSON, and why.
struct SyntaxError {
  std::size_t offset;
  std::string message;
};

// Reads one JSON value with `//` and `/* */` comments and trailing commas, as
// Boost.JSON does with allow_comments and allow_trailing_commas, nested at
// most kMaxDepth deep.
class Scanner {
 public:
  // Reads from `start` (past a byte order mark, say); offsets in the result
  // count from the beginning of `text`, which must outlive the Scanner.
  Scanner(std::string_view text, std::size_t start) : text_(text), at_(start) {}

  // The value that makes up the rest of the text, with only blanks and
  // comments around it. Throws SyntaxError.
  Node document();

 private:
  [[noreturn]] void fail(const std::string &message) const;
  [[nodiscard]] bool at_end() const { return at_ >= text_.size(); }
  [[nodiscard]] char peek() const { return at_end() ? '\0' : text_[at_]; }
  [[nodiscard]] bool looking_at(std::string_view token) const {
    return text_.substr(at_).starts_with(token);
  }
  void skip_blanks();
  Node value(int depth);
  Node object(int depth);
  Node array(int depth);
  Node string();
  void escape(std::string &out);
  char32_t code_point();
  char32_t hex4();
  Node scalar();
  [[nodiscard]] bool is_digit() const { return peek() >= '0' && peek() <= '9'; }
  void skip_digits();

  std::string_view text_;
  std::size_t at_;
};

// ---------------------------------------------------------------------------
// Small helpers on the text.

// `s` as a JSON string literal.
std::string quote(std::string_view s);

// Where the line holding `pos` starts.
std::size_t line_start(std::string_view text, std::size_t pos);

// A space or a tab.
bool is_blank(char c);
bool all_blank(std::string_view text);

// The spaces and tabs that begin the line holding `pos`.
std::string indentation_of(std::string_view text, std::size_t pos);

// The line break at `pos` ("\r\n" or "\n") as text; "\n" when there is none,
// so that a CRLF file stays CRLF.
std::string line_break_at(std::string_view text, std::size_t pos);

// Where the line holding `pos` ends (its '\n', or the '\r' of "\r\n") when
// only blanks and comments lie between; kNone when something else follows on
// the same line, so that an insertion there must stay on that line.
std::size_t end_of_line_after(std::string_view text, std::size_t pos);

// The line (counted from 1) holding `offset`.
std::size_t line_number(std::string_view text, std::size_t offset);

}  // namespace coffer::cli::detail

#endif  // COFFER_CLI_JSON_SPANS_HPP
