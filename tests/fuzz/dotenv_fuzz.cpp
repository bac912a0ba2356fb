// The dotenv parser and writer. Input: a flags byte, the variable name, NUL,
// the value, NUL, the file's text. Properties: statements lie in order inside
// the text; what `put` writes (quote_value + set_entry) parses again, reads
// back as exactly the value, and leaves every other entry as it was; what
// `remove` writes parses again without the name and with the others as they
// were. With expansion on, entries that expand a variable may depend on the
// edited one and are not compared.
#include <map>
#include <optional>
#include <string>

#include "dotenv_parser.hpp"
#include "dotenv_writer.hpp"
#include "fuzz_support.hpp"

namespace {

using coffer::env_file::Document;
using coffer::env_file::ParseOptions;
using coffer::env_file::SyntaxError;
using coffer::fuzz::require;

// The names the provider writes: <prefix>Category__Name, a shell identifier.
bool is_identifier(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

void check_layout(std::string_view text, const Document &document) {
  std::size_t previous_end = 0;
  for (const auto &statement : document.statements) {
    require(previous_end <= statement.begin, "statements do not overlap");
    require(statement.begin <= statement.value_begin &&
                statement.value_begin <= statement.value_end &&
                statement.value_end <= statement.end && statement.end <= text.size(),
            "a statement's offsets are ordered and inside the text");
    previous_end = statement.end;
  }
}

// Every effective entry: name -> value, or nothing for a value that expands
// variables (and so may depend on the edited entry).
using Entries = std::map<std::string, std::optional<std::string>>;

Entries entries(std::string_view text, const Document &document, bool expand) {
  Entries out;
  for (const auto *statement : document.effective()) {
    std::string_view written =
        text.substr(statement->value_begin, statement->value_end - statement->value_begin);
    if (expand && written.find('$') != std::string_view::npos)
      out[statement->name] = std::nullopt;
    else
      out[statement->name] = std::string(statement->value.view());
  }
  return out;
}

// The edited text, parsed. With expansion on, an entry may require the one
// that was removed (${NAME?message}); the provider then refuses the edit,
// so only a text that does not parse even without expansion is a failure.
std::optional<Document> reparse(std::string_view text, const ParseOptions &options) {
  try {
    return coffer::env_file::parse(text, options);
  } catch (const SyntaxError &) {
    bool expansion_only = false;
    if (options.expand) {
      try {
        (void)coffer::env_file::parse(text, ParseOptions{false});
        expansion_only = true;
      } catch (const SyntaxError &) {
      }
    }
    require(expansion_only, "an edited file parses again");
    return std::nullopt;
  }
}

void check_others(Entries before, Entries after, std::string_view name) {
  before.erase(std::string(name));
  after.erase(std::string(name));
  require(before.size() == after.size(), "an edit keeps the other entries and adds none");
  for (const auto &[other, value] : before) {
    auto it = after.find(other);
    require(it != after.end(), "an edit keeps the other entries");
    if (value && it->second) require(*value == *it->second, "an edit keeps the other values");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  coffer::fuzz::Input input(data, size);
  const std::uint8_t flags = input.byte();
  const bool expand = (flags & 1) != 0;
  const bool remove = (flags & 2) != 0;
  const std::string_view name = input.field();
  const std::string_view value = input.field();
  const std::string_view text = input.rest();
  const ParseOptions options{expand};

  Document document;
  try {
    document = coffer::env_file::parse(text, options);
  } catch (const SyntaxError &error) {
    require(error.line() >= 1, "a syntax error names a line");
    return 0;
  }
  check_layout(text, document);
  if (!is_identifier(name)) return 0;
  const Entries before = entries(text, document, expand);

  if (remove) {
    if (document.find(name) == nullptr) return 0;
    auto updated = coffer::env_file::remove_entry(text, document, name);
    auto reparsed = reparse(updated.view(), options);
    if (!reparsed) return 0;
    const Document &after = *reparsed;
    check_layout(updated.view(), after);
    require(after.find(name) == nullptr, "a removed entry is gone");
    check_others(before, entries(updated.view(), after, expand), name);
    return 0;
  }

  auto quoted = coffer::env_file::quote_value(value);
  auto updated = coffer::env_file::set_entry(text, document, name, quoted.view());
  auto reparsed = reparse(updated.view(), options);
  if (!reparsed) return 0;
  const Document &after = *reparsed;
  check_layout(updated.view(), after);
  const auto *written = after.find(name);
  require(written != nullptr, "a put entry is there");
  require(written != nullptr && written->value.view() == value, "a put value reads back exactly");
  check_others(before, entries(updated.view(), after, expand), name);
  return 0;
}
