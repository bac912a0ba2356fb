#include "dotenv_parser.hpp"

#include "variable_expansion.hpp"

#include <unordered_map>

namespace coffer::env_file {

SyntaxError::SyntaxError(std::size_t line, const std::string &problem)
    : std::runtime_error("line " + std::to_string(line) + ": " + problem), line_(line) {}

SyntaxError::SyntaxError(std::size_t line, std::size_t column, const std::string &problem)
    : std::runtime_error("line " + std::to_string(line) + ", column " + std::to_string(column) +
                         ": " + problem),
      line_(line) {}

const Statement *Document::find(std::string_view name) const {
  for (auto it = statements.rbegin(); it != statements.rend(); ++it)
    if (it->name == name) return &*it;
  return nullptr;
}

std::vector<const Statement *> Document::effective() const {
  std::unordered_map<std::string_view, const Statement *> last;
  for (const Statement &statement : statements) last[statement.name] = &statement;
  std::vector<const Statement *> out;
  for (const Statement &statement : statements)
    if (last[statement.name] == &statement) out.push_back(&statement);
  return out;
}

namespace {

constexpr const char *kKeyCharacters =
    "expected a key of letters, digits, '_', '.', '-', '[' and ']', then '=' and the value";

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

bool is_ascii_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '[' || c == ']';
}

// Code points that look like nothing or like a space: never part of a key.
bool is_invisible(char32_t cp) {
  return (cp >= 0x80 && cp <= 0xA0) || cp == 0xAD || cp == 0x1680 || cp == 0x180E ||
         (cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
         (cp >= 0x205F && cp <= 0x206F) || cp == 0x3000 || cp == 0xFEFF;
}

// The length of the valid UTF-8 sequence (of two or more bytes) at `text[at]`
// encoding a visible code point, or 0.
std::size_t multibyte_key_char(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char first = byte(at);
  std::size_t length;
  char32_t cp;
  if (first >= 0xC2 && first <= 0xDF) {
    length = 2;
    cp = first & 0x1F;
  } else if (first >= 0xE0 && first <= 0xEF) {
    length = 3;
    cp = first & 0x0F;
  } else if (first >= 0xF0 && first <= 0xF4) {
    length = 4;
    cp = first & 0x07;
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(at + i) & 0x3F);
  }
  bool overlong = (length == 3 && cp < 0x800) || (length == 4 && cp < 0x10000);
  if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || is_invisible(cp)) return 0;
  return length;
}

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions &options) : text_(text), options_(options) {}

  Document run() {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") {
      document_.has_bom = true;
      position_ = line_begin_ = 3;
    }
    while (skip_to_statement()) parse_statement();
    return std::move(document_);
  }

 private:
  [[nodiscard]] bool at_end() const { return position_ >= text_.size(); }

  // The length of the line break (LF, CRLF or a lone CR) at `at`, or 0.
  [[nodiscard]] std::size_t break_length(std::size_t at) const {
    if (at >= text_.size()) return 0;
    if (text_[at] == '\n') return 1;
    if (text_[at] == '\r') return at + 1 < text_.size() && text_[at + 1] == '\n' ? 2 : 1;
    return 0;
  }

  void note_line_break(std::size_t at, std::size_t length) {
    if (!seen_break_) {
      document_.line_break = std::string(text_.substr(at, length));
      seen_break_ = true;
    }
    ++line_;
    line_begin_ = at + length;
  }

  // Consumes the line break at the position, if there is one.
  void consume_line_break() {
    if (std::size_t length = break_length(position_)) {
      note_line_break(position_, length);
      position_ += length;
    }
  }

  void skip_blanks() {
    while (!at_end() && is_blank(text_[position_])) ++position_;
  }

  void skip_to_line_end() {
    while (!at_end() && break_length(position_) == 0) ++position_;
  }

  [[nodiscard]] std::size_t column() const { return position_ - line_begin_ + 1; }

  // Skips blank lines, blanks and comment lines; false at the end of the text.
  bool skip_to_statement() {
    while (!at_end()) {
      if (is_blank(text_[position_])) {
        ++position_;
      } else if (break_length(position_) != 0) {
        consume_line_break();
      } else if (text_[position_] == '#') {
        skip_to_line_end();
      } else {
        return true;
      }
    }
    return false;
  }

  void parse_statement() {
    Statement statement;
    statement.line = line_;
    statement.begin = line_begin_;

    if (text_.substr(position_, 6) == "export" && position_ + 6 < text_.size() &&
        is_blank(text_[position_ + 6])) {
      position_ += 6;
      skip_blanks();
    }

    std::size_t key_begin = position_;
    std::size_t key_end = position_;
    bool blank_pending = false;
    bool blank_inside = false;
    bool separator = false;
    while (!at_end() && break_length(position_) == 0) {
      char c = text_[position_];
      if (is_blank(c)) {
        blank_pending = true;
        ++position_;
        continue;
      }
      if (c == '=' || c == ':') {
        separator = true;
        break;
      }
      std::size_t length = is_ascii_key_char(c) ? 1 : multibyte_key_char(text_, position_);
      if (length == 0)
        throw SyntaxError(line_, column(),
                          std::string("unexpected character in a key (") + kKeyCharacters + ")");
      if (blank_pending && key_end > key_begin) blank_inside = true;
      blank_pending = false;
      position_ += length;
      key_end = position_;
    }
    if (blank_inside)
      throw SyntaxError(line_, std::string("key cannot contain a space (") + kKeyCharacters +
                                   "; quote a value that contains spaces)");
    if (!separator)
      throw SyntaxError(line_, std::string("missing '=' after the key (") + kKeyCharacters +
                                   "; a key alone does not take a value from the environment)");
    if (key_end == key_begin)
      throw SyntaxError(line_, std::string("missing key before '") + text_[position_] + "' (" +
                                   kKeyCharacters + ")");
    statement.name = std::string(text_.substr(key_begin, key_end - key_begin));
    ++position_;  // the separator
    skip_blanks();

    statement.value_begin = position_;
    if (at_end() || break_length(position_) != 0) {
      statement.value_end = position_;
    } else if (text_[position_] == '"' || text_[position_] == '\'') {
      parse_quoted(statement);
    } else {
      parse_unquoted(statement);
    }
    consume_line_break();
    statement.end = position_;
    add(std::move(statement));
  }

  // An unquoted value runs to the end of the line. A '#' preceded by a blank
  // starts a comment; trailing blanks are dropped; nothing is unescaped.
  void parse_unquoted(Statement &statement) {
    std::size_t begin = position_;
    skip_to_line_end();
    std::size_t end = position_;
    for (std::size_t i = begin; i + 1 < end; ++i) {
      if (is_blank(text_[i]) && text_[i + 1] == '#') {
        end = i;
        break;
      }
    }
    while (end > begin && is_blank(text_[end - 1])) --end;
    statement.value_end = end;
    std::string_view raw = text_.substr(begin, end - begin);
    statement.value = options_.expand ? expand(raw, statement.line) : SecretBytes(raw);
  }

  void parse_quoted(Statement &statement) {
    const char quote = text_[position_];
    const bool double_quoted = quote == '"';
    const std::size_t open_line = line_;
    SecretBytes value;
    std::size_t i = position_ + 1;
    bool escaped = false;
    for (;;) {
      if (i >= text_.size())
        throw SyntaxError(open_line, std::string("unterminated quoted value (expected a closing ") +
                                         quote + " for the " + quote + " that opens the value)");
      char c = text_[i];
      if (std::size_t length = break_length(i)) {
        // Every line break inside quotes becomes LF: a file saved with CRLF
        // never puts a CR into a value.
        if (escaped) value.push_back('\\');
        escaped = false;
        value.push_back('\n');
        note_line_break(i, length);
        i += length;
        continue;
      }
      if (escaped) {
        escaped = false;
        i = double_quoted ? unescape_double(i, value) : unescape_single(i, value);
        continue;
      }
      if (c == '\\') {
        escaped = true;
        ++i;
        continue;
      }
      if (c == quote) break;
      // Copy the run of ordinary characters up to the next one that matters.
      std::size_t run = i + 1;
      while (run < text_.size() && text_[run] != quote && text_[run] != '\\' &&
             text_[run] != '\n' && text_[run] != '\r')
        ++run;
      value.append(text_.substr(i, run - i));
      i = run;
    }
    statement.value_end = i + 1;
    position_ = i + 1;
    if (double_quoted && options_.expand)
      statement.value = expand(value.view(), statement.line);
    else
      statement.value = std::move(value);

    skip_blanks();
    if (!at_end() && text_[position_] == '#') skip_to_line_end();
    if (!at_end() && break_length(position_) == 0)
      throw SyntaxError(line_, column(),
                        "unexpected text after the closing quote (expected a comment starting "
                        "with '#' or the end of the line)");
  }

  // Inside '...' only \' is an escape; any other backslash stays.
  std::size_t unescape_single(std::size_t at, SecretBytes &value) {
    if (text_[at] != '\'') value.push_back('\\');
    value.push_back(static_cast<unsigned char>(text_[at]));
    return at + 1;
  }

  // Inside "...": \a \b \f \n \r \t \v \\ \" \$ and octal \0NNN; any other
  // backslash stays with the character after it.
  std::size_t unescape_double(std::size_t at, SecretBytes &value) {
    char c = text_[at];
    switch (c) {
      case 'a':
        value.push_back('\a');
        return at + 1;
      case 'b':
        value.push_back('\b');
        return at + 1;
      case 'f':
        value.push_back('\f');
        return at + 1;
      case 'n':
        value.push_back('\n');
        return at + 1;
      case 'r':
        value.push_back('\r');
        return at + 1;
      case 't':
        value.push_back('\t');
        return at + 1;
      case 'v':
        value.push_back('\v');
        return at + 1;
      case '\\':
        value.push_back('\\');
        return at + 1;
      case '"':
        value.push_back('"');
        return at + 1;
      case '$':
        // With expansion on, $$ is what the expander turns into one '$'.
        value.append(options_.expand ? "$$" : "$");
        return at + 1;
      case '0':
        return unescape_octal(at, value);
      default:
        value.push_back('\\');
        value.push_back(static_cast<unsigned char>(c));
        return at + 1;
    }
  }

  // \0 followed by exactly three octal digits (at most \0377) is that code
  // point, as compose-go reads it (U+0080..U+00FF come out UTF-8 encoded).
  // Anything else after \0 stays as written.
  std::size_t unescape_octal(std::size_t at, SecretBytes &value) {
    std::size_t digits = 0;
    while (digits < 3 && at + 1 + digits < text_.size() && text_[at + 1 + digits] >= '0' &&
           text_[at + 1 + digits] <= '9')
      ++digits;
    unsigned code = 0;
    bool octal = digits == 3;
    for (std::size_t k = 0; octal && k < 3; ++k) {
      char d = text_[at + 1 + k];
      if (d > '7') octal = false;
      code = code * 8 + static_cast<unsigned>(d - '0');
    }
    if (!octal || code > 0xFF) {
      value.push_back('\\');
      value.append(text_.substr(at, 1 + digits));
      return at + 1 + digits;
    }
    if (code < 0x80) {
      value.push_back(static_cast<unsigned char>(code));
    } else {
      value.push_back(static_cast<unsigned char>(0xC0 | (code >> 6)));
      value.push_back(static_cast<unsigned char>(0x80 | (code & 0x3F)));
    }
    return at + 4;
  }

  SecretBytes expand(std::string_view raw, std::size_t line) {
    return expand_variables(
        raw,
        [this](std::string_view name) -> const SecretBytes * {
          auto it = defined_.find(std::string(name));
          return it == defined_.end() ? nullptr : &document_.statements[it->second].value;
        },
        line);
  }

  void add(Statement statement) {
    auto [it, inserted] = defined_.try_emplace(statement.name, document_.statements.size());
    if (!inserted) {
      document_.duplicates.push_back(
          {statement.name, document_.statements[it->second].line, statement.line});
      it->second = document_.statements.size();
    }
    document_.statements.push_back(std::move(statement));
  }

  std::string_view text_;
  const ParseOptions &options_;
  Document document_;
  std::unordered_map<std::string, std::size_t> defined_;
  std::size_t position_ = 0;
  std::size_t line_ = 1;
  std::size_t line_begin_ = 0;
  bool seen_break_ = false;
};

}  // namespace

Document parse(std::string_view text, const ParseOptions &options) {
  return Parser(text, options).run();
}

}  // namespace coffer::env_file
