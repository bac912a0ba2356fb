// JSON documents with comments and trailing commas (policies, catalogs), with
// errors that give file, line and column.
#ifndef COFFER_CORE_JSON_TEXT_HPP
#define COFFER_CORE_JSON_TEXT_HPP

#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace coffer::detail {

// A path into a document: object member names and array indices.
using JsonPath = std::vector<std::variant<std::string, std::size_t>>;

// "providers.vault.config" / "routes.Email[1]"
std::string to_string(const JsonPath &path);

struct TextPosition {
  std::size_t line = 1;    // 1-based
  std::size_t column = 1;  // 1-based, in bytes
};

TextPosition position_of(std::string_view text, std::size_t offset);

// A parsed document that remembers its text, to locate errors.
class JsonDocument {
 public:
  // Parses `text`; throws Error(invalid_config) "SOURCE:LINE:COLUMN: ..." on a
  // syntax error, a member name repeated in one object (naming both places)
  // or a string holding a NUL character. `source` names the document in
  // messages (a file name).
  JsonDocument(std::string source, std::string text);

  [[nodiscard]] const boost::json::value &root() const { return root_; }
  [[nodiscard]] const std::string &source() const { return source_; }
  [[nodiscard]] const std::string &text() const { return text_; }

  // Where the member or element at `path` starts (the member's name for an
  // object member); `occurrence` 1 finds a repeated member's second place.
  // Falls back to the nearest enclosing value found.
  [[nodiscard]] TextPosition locate(const JsonPath &path, std::size_t occurrence = 0) const;
  // "SOURCE:LINE:COLUMN: " for the value at `path`.
  [[nodiscard]] std::string where(const JsonPath &path) const;
  // Throws Error(invalid_config) "SOURCE:LINE:COLUMN: <path>: <message>".
  [[noreturn]] void fail(const JsonPath &path, const std::string &message) const;

 private:
  void check_members() const;

  std::string source_;
  std::string text_;
  boost::json::value root_;
};

}  // namespace coffer::detail

#endif  // COFFER_CORE_JSON_TEXT_HPP
