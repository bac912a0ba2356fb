// The dotenv parser: turns the text of an env file into KEY=VALUE statements.
//
// The grammar is Docker Compose's (compose-go `dotenv`), made strict and safe
// for secrets; docs/providers/env_file.md lists every rule and every deliberate
// difference. Errors are SyntaxError exceptions that give the line (and where
// useful the column) and what was expected, and never quote the text: a line
// that fails to parse may well be part of a secret.
//
// Threading: parse() is a pure function and may run on many threads at once.
#ifndef COFFER_ENV_FILE_DOTENV_PARSER_HPP
#define COFFER_ENV_FILE_DOTENV_PARSER_HPP

#include <coffer/provider.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::env_file {

using coffer::provider::SecretBytes;

// One KEY=VALUE statement and where it sits in the text (byte offsets), so
// that a writer can replace its value or delete it and leave the rest alone.
struct Statement {
  std::string name;
  SecretBytes value;
  std::size_t line = 0;         // 1-based line of the key
  std::size_t begin = 0;        // start of the key's line (after a BOM on line 1)
  std::size_t value_begin = 0;  // the value as written, quotes included
  std::size_t value_end = 0;
  std::size_t end = 0;  // past the line break that ends the statement, or the end of the text
};

// A key defined more than once; the last definition wins.
struct Duplicate {
  std::string name;
  std::size_t previous_line = 0;  // the definition it overrides
  std::size_t line = 0;
};

struct Document {
  std::vector<Statement> statements;  // in file order, duplicates included
  std::vector<Duplicate> duplicates;
  bool has_bom = false;
  std::string line_break = "\n";  // the style of the first line break, for appending

  // The statement that defines `name` (the last one), or nullptr.
  [[nodiscard]] const Statement *find(std::string_view name) const;
  // The defining statement of each name, in the order of those statements.
  [[nodiscard]] std::vector<const Statement *> effective() const;
};

struct ParseOptions {
  // Expand ${NAME}, ${NAME:-default}, ... and $$ in unquoted and
  // double-quoted values, looking names up in earlier lines of the same text.
  bool expand = false;
};

// A text that is not a valid env file. what() reads "line N: <problem>
// (expected ...)", with no part of the text in it.
class SyntaxError : public std::runtime_error {
 public:
  SyntaxError(std::size_t line, const std::string &problem);
  // "line N, column C: <problem>"
  SyntaxError(std::size_t line, std::size_t column, const std::string &problem);
  [[nodiscard]] std::size_t line() const noexcept { return line_; }

 private:
  std::size_t line_;
};

// Parses a whole env file. Throws SyntaxError.
Document parse(std::string_view text, const ParseOptions &options = {});

}  // namespace coffer::env_file

#endif  // COFFER_ENV_FILE_DOTENV_PARSER_HPP
