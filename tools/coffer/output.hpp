// Output formats of `coffer`: aligned tables with a header line for people
// and grep, and JSON for programs. Neither ever carries a secret value.
#ifndef COFFER_CLI_OUTPUT_HPP
#define COFFER_CLI_OUTPUT_HPP

#include <boost/json/value.hpp>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::cli {

// Columns separated by two spaces and padded to the widest cell; the last
// column is not padded. Empty cells print as "-" so that every row has the
// same number of fields for `awk`; control characters print escaped.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  [[nodiscard]] bool empty() const { return rows_.empty(); }
  void print(std::FILE *out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// `text` with every control character shown as an escape (\n, \t, \x1b, a
// C1 control as \u009b, a byte that is not UTF-8 as \xff), so that text
// printed on a terminal cannot move the cursor, change colours or forge a
// line.
std::string escape_controls(std::string_view text);

// How a message repeats a command-line argument: quoted and escaped, and only
// when it has the shape of a key name (`Category.Name`). An argument of any
// other shape may be a value typed in the wrong place and is not repeated:
// the message names the argument by its role instead. nullopt: not shown.
std::optional<std::string> shown_key(std::string_view argument);
// The same for arguments expected to be words (command, option and log
// level names): lower-case letters, digits and '-', at most 32 characters.
std::optional<std::string> shown_word(std::string_view argument);

// Indented JSON, two spaces per level, with a final newline.
std::string pretty_json(const boost::json::value &value);
// A time in milliseconds since the Unix epoch as UTC ISO 8601
// ("2026-12-04T16:42:00Z"); empty for 0 (a provider that does not say).
std::string utc_text(std::int64_t unix_ms);
// utc_text as JSON: the string, or null for 0.
boost::json::value utc_json(std::int64_t unix_ms);
// Prints JSON on standard output: pretty, or on one line when `compact`.
void print_json(const boost::json::value &value, bool compact = false);

// Prints "coffer: MESSAGE" on standard error, control characters escaped.
void print_error(std::string_view message);
// Prints "coffer: note: MESSAGE" on standard error unless `quiet`, control
// characters escaped.
void print_note(std::string_view message, bool quiet);

// Writes `text` to standard output; throws coffer::Error when it cannot.
void write_stdout(std::string_view text);

}  // namespace coffer::cli

#endif  // COFFER_CLI_OUTPUT_HPP
