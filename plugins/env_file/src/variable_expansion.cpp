#include "variable_expansion.hpp"

#include "dotenv_parser.hpp"

namespace coffer::env_file {
namespace {

using coffer::provider::SecretBytes;

constexpr const char *kForms =
    "expected ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}, "
    "${NAME:+alternative} or ${NAME+alternative}, with NAME made of letters, digits and '_'; "
    "write $$ for a literal $";

bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

class Expander {
 public:
  Expander(const VariableLookup &lookup, std::size_t line) : lookup_(lookup), line_(line) {}

  void expand_into(std::string_view text, SecretBytes &out, int depth) {
    // Nesting is bounded by the text itself; the guard only stops a
    // pathological file from exhausting the stack.
    if (depth > 64) throw SyntaxError(line_, "variable references nested too deeply");
    std::size_t i = 0;
    while (i < text.size()) {
      char c = text[i];
      if (c != '$' || i + 1 >= text.size()) {
        out.push_back(static_cast<unsigned char>(c));
        ++i;
      } else if (text[i + 1] == '$') {
        out.push_back('$');
        i += 2;
      } else if (text[i + 1] == '{') {
        i = expand_braced(text, i, out, depth);
      } else {
        out.push_back('$');
        ++i;
      }
    }
  }

 private:
  // Expands the reference starting at text[start] == '$', text[start+1] ==
  // '{'; returns the offset after its closing brace.
  std::size_t expand_braced(std::string_view text, std::size_t start, SecretBytes &out, int depth) {
    std::size_t close = start + 2;
    int open = 1;
    while (close < text.size()) {
      if (text[close] == '$' && close + 1 < text.size() &&
          (text[close + 1] == '$' || text[close + 1] == '{')) {
        if (text[close + 1] == '{') ++open;
        close += 2;
        continue;
      }
      if (text[close] == '}' && --open == 0) break;
      ++close;
    }
    if (close >= text.size())
      throw SyntaxError(
          line_, std::string("unterminated variable reference: '${' without '}' (") + kForms + ")");
    std::string_view inner = text.substr(start + 2, close - start - 2);
    std::size_t name_length = 0;
    if (!inner.empty() && is_name_start(inner[0])) {
      name_length = 1;
      while (name_length < inner.size() && is_name_char(inner[name_length])) ++name_length;
    }
    if (name_length == 0)
      throw SyntaxError(line_, std::string("invalid variable reference (") + kForms + ")");
    std::string_view name = inner.substr(0, name_length);
    std::string_view rest = inner.substr(name_length);
    const SecretBytes *value = lookup_(name);
    if (rest.empty()) {
      if (value != nullptr) out.append(value->data(), value->size());
      return close + 1;
    }
    bool colon = rest[0] == ':';
    if (colon) rest.remove_prefix(1);
    if (rest.empty() || (rest[0] != '-' && rest[0] != '?' && rest[0] != '+'))
      throw SyntaxError(line_, std::string("invalid variable reference (") + kForms + ")");
    char operation = rest[0];
    std::string_view word = rest.substr(1);
    bool set = value != nullptr && (!colon || !value->empty());
    switch (operation) {
      case '-':
        if (set)
          out.append(value->data(), value->size());
        else
          expand_into(word, out, depth + 1);
        break;
      case '?':
        // The message the file gives (`word`) and the name are text of a
        // value: they are left out, the line says where to look.
        if (!set)
          throw SyntaxError(line_, std::string("required variable of a ${NAME") +
                                       (colon ? ":?" : "?") + "...} reference is " +
                                       (colon ? "undefined or empty" : "undefined") +
                                       " (expected it to be defined on an earlier line)");
        out.append(value->data(), value->size());
        break;
      default:  // '+'
        if (set) expand_into(word, out, depth + 1);
        break;
    }
    return close + 1;
  }

  const VariableLookup &lookup_;
  std::size_t line_;
};

}  // namespace

SecretBytes expand_variables(std::string_view text, const VariableLookup &lookup,
                             std::size_t line) {
  SecretBytes out;
  Expander(lookup, line).expand_into(text, out, 0);
  return out;
}

}  // namespace coffer::env_file
