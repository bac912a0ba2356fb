// Editing env file text: quoting a value, and setting or removing one key
// while every other byte of the file (comments, blank lines, the order and
// spelling of the other entries, a BOM) stays as it was.
//
// Threading: pure functions.
#ifndef COFFER_ENV_FILE_DOTENV_WRITER_HPP
#define COFFER_ENV_FILE_DOTENV_WRITER_HPP

#include "dotenv_parser.hpp"

#include <string_view>

namespace coffer::env_file {

// `value` as a double-quoted dotenv value that coffer's parser (with or
// without expansion) and Docker Compose's both read back as exactly these
// bytes: \ " $ and control characters are escaped (\n \r \t \a \b \f \v, other
// control characters as octal \0NNN), everything else is written as is.
SecretBytes quote_value(std::string_view value);

// `text` (which parsed as `document`) with `name` defined as `quoted_value`:
// the last definition keeps its place, its key, `export` and any comment, and
// gets the new value; earlier duplicate definitions are deleted; a new key is
// appended on a line of its own in the file's line-break style.
SecretBytes set_entry(std::string_view text, const Document &document, std::string_view name,
                      std::string_view quoted_value);

// `text` without any statement defining `name` (the statement's lines go,
// including a multi-line value and a comment on its last line).
SecretBytes remove_entry(std::string_view text, const Document &document, std::string_view name);

}  // namespace coffer::env_file

#endif  // COFFER_ENV_FILE_DOTENV_WRITER_HPP
