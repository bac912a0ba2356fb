// docs/cli.md against the command table: every command and option of the
// table is documented, the page names no command or option the table does
// not have, and every example (`$ coffer ...` in a code block) parses with
// the real parser, or fails with the very message the page shows under it.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "command_line.hpp"
#include "commands.hpp"
#include "exit_status.hpp"

namespace {

using coffer::cli::CommandSpec;
using coffer::cli::OptionSpec;

struct DocLine {
  int number = 0;
  std::string text;
  bool code = false;
  std::string section;  // the "## " heading it is under
  std::string command;  // the "### " command it is under, or ""
};

std::vector<DocLine> read_cli_md() {
  const char *source = std::getenv("COFFER_SOURCE_DIR");
  BOOST_TEST_REQUIRE(source != nullptr);
  std::ifstream in(std::filesystem::path(source) / "docs" / "cli.md");
  BOOST_TEST_REQUIRE(in.good());
  std::vector<DocLine> lines;
  bool code = false;
  std::string section;
  std::string command;
  int number = 0;
  for (std::string text; std::getline(in, text);) {
    ++number;
    if (text.rfind("```", 0) == 0) {
      code = !code;
      continue;
    }
    if (!code && text.rfind("## ", 0) == 0) {
      section = text.substr(3);
      command.clear();
    } else if (!code && text.rfind("### ", 0) == 0 && section == "Commands") {
      command = text.substr(4);
    }
    lines.push_back({number, text, code, section, command});
  }
  return lines;
}

// Options named in `text`: "--word" and "-x" not inside another word.
std::vector<std::string> options_in(const std::string &text) {
  static const std::regex option("(^|[^A-Za-z0-9_./-])(--?[a-z][a-z0-9-]*)");
  std::vector<std::string> found;
  for (std::sregex_iterator it(text.begin(), text.end(), option), end; it != end; ++it)
    found.push_back((*it)[2].str());
  return found;
}

// The part of an example line from "coffer" to the end of that command (a
// pipe, a ';', a redirection, a comment, the ')' of "$(...)"), or nullopt.
std::optional<std::string> coffer_part(const std::string &line) {
  static const std::regex start("(^|[\\s(|;])coffer(\\s|$)");
  std::smatch match;
  if (!std::regex_search(line, match, start)) return std::nullopt;
  std::string rest = line.substr(static_cast<std::size_t>(match.position(0) + match.length(0)));
  char quote = 0;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    char c = rest[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '|' || c == ';' || c == ')' || c == '<' || c == '>' || c == '#' ||
               (c == '&' && i + 1 < rest.size() && rest[i + 1] == '&') ||
               (c == '2' && i + 1 < rest.size() && rest[i + 1] == '>')) {
      return rest.substr(0, i);
    }
  }
  return rest;
}

// Shell words, quotes removed.
std::vector<std::string> shell_words(const std::string &text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : text) {
    if (quote != 0) {
      if (c == quote)
        quote = 0;
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

const CommandSpec *top_command(const std::string &name) {
  for (const auto &command : coffer::cli::command_table())
    if (command.name == name && !command.hidden) return &command;
  return nullptr;
}

// The options of a command and its subcommands.
std::set<std::string> options_of(const CommandSpec &command) {
  std::set<std::string> names;
  auto add = [&](const std::vector<OptionSpec> &options) {
    for (const auto &option : options) {
      names.insert(option.name);
      if (!option.short_name.empty()) names.insert(option.short_name);
    }
  };
  add(command.options);
  for (const auto &sub : command.subcommands) add(sub.options);
  return names;
}

std::set<std::string> global_names() {
  std::set<std::string> names{"--version"};
  for (const auto &option : coffer::cli::global_options()) {
    names.insert(option.name);
    if (!option.short_name.empty()) names.insert(option.short_name);
  }
  return names;
}

// Whether a code line is a usage line ("coffer get [-n] KEY", or the
// indented continuation of one) rather than an example or its output.
bool is_usage(const DocLine &line, bool previous_was_usage) {
  if (!line.code || line.text.rfind("$ ", 0) == 0) return false;
  std::size_t first = line.text.find_first_not_of(' ');
  if (first == std::string::npos) return false;
  if (line.text.compare(first, 7, "coffer ") == 0) return true;
  return previous_was_usage && first > 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_md)

BOOST_AUTO_TEST_CASE(every_command_has_its_section_and_every_section_a_command) {
  std::set<std::string> headings;
  std::string text;
  for (const auto &line : read_cli_md()) {
    if (!line.code && line.text.rfind("### ", 0) == 0 && line.section == "Commands") {
      headings.insert(line.command);
      BOOST_TEST(top_command(line.command) != nullptr,
                 "docs/cli.md:" << line.number << ": no command '" << line.command << "'");
    }
    text += line.text + "\n";
  }
  for (const auto &command : coffer::cli::command_table()) {
    if (command.hidden) continue;
    BOOST_TEST(headings.contains(command.name), "docs/cli.md has no section ### " << command.name);
    for (const auto &sub : command.subcommands)
      BOOST_TEST(text.find("coffer " + sub.name + " ") != std::string::npos,
                 "docs/cli.md never shows 'coffer " << sub.name << "'");
  }
}

BOOST_AUTO_TEST_CASE(every_option_is_documented_with_its_command) {
  std::map<std::string, std::string> section_text;  // by command; "" for the rest
  std::string options_section;
  for (const auto &line : read_cli_md()) {
    section_text[line.command] += line.text + "\n";
    if (line.section == "Options") options_section += line.text + "\n";
  }
  for (const auto &command : coffer::cli::command_table()) {
    if (command.hidden) continue;
    const std::string &text = section_text[command.name];
    for (const auto &name : options_of(command)) {
      auto named = options_in(text);
      BOOST_TEST((std::find(named.begin(), named.end(), name) != named.end()),
                 "docs/cli.md, ### " << command.name << ": " << name << " is not documented");
    }
  }
  auto named = options_in(options_section);
  for (const auto &name : global_names())
    BOOST_TEST((std::find(named.begin(), named.end(), name) != named.end()),
               "docs/cli.md, ## Options: " << name << " is not documented");
}

BOOST_AUTO_TEST_CASE(the_page_names_no_option_or_command_that_does_not_exist) {
  std::set<std::string> any = global_names();
  for (const auto &command : coffer::cli::command_table())
    for (const auto &name : options_of(command)) any.insert(name);
  bool previous_was_usage = false;
  for (const auto &line : read_cli_md()) {
    bool usage = is_usage(line, previous_was_usage);
    previous_was_usage = usage;
    // The options a line names, each with the command it is about ("" for
    // the section's).
    std::vector<std::pair<std::string, std::string>> named;
    if (usage) {
      for (auto &name : options_in(line.text)) named.emplace_back(name, "");
      static const std::regex shown("^\\s*coffer\\s+(?:\\[OPTIONS\\]\\s+)?([a-z][a-z-]*)");
      std::smatch match;
      if (std::regex_search(line.text, match, shown))
        BOOST_TEST(top_command(match[1].str()) != nullptr,
                   "docs/cli.md:" << line.number << ": no command '" << match[1].str() << "'");
    } else if (!line.code) {
      // Options are named in `code spans` in the prose: `--json`, `migrate
      // --key` (another command's option), `coffer run ... ls -l` (a
      // command line, which the parser must take).
      static const std::regex span("`([^`]*)`");
      for (std::sregex_iterator it(line.text.begin(), line.text.end(), span), end; it != end;
           ++it) {
        std::string text = (*it)[1].str();
        static const std::regex command_line("^coffer [a-z]");
        if (std::regex_search(text, command_line)) {
          try {
            (void)coffer::cli::parse_command_line(shell_words(*coffer_part(text)),
                                                  coffer::cli::command_table());
          } catch (const coffer::cli::UsageError &e) {
            BOOST_ERROR("docs/cli.md:" << line.number << ": `" << text
                                       << "` does not parse: " << e.what());
          }
          continue;
        }
        std::string first = text.substr(0, text.find(' '));
        std::string about = top_command(first) != nullptr ? first : "";
        for (auto &name : options_in(text)) named.emplace_back(name, about);
      }
    }
    for (const auto &[name, about] : named) {
      std::set<std::string> allowed = any;
      const CommandSpec *command = top_command(about.empty() ? line.command : about);
      if (command != nullptr) {
        allowed = global_names();
        for (const auto &option : options_of(*command)) allowed.insert(option);
      }
      BOOST_TEST(allowed.contains(name), "docs/cli.md:" << line.number << ": " << name
                                                        << " is no option here: " << line.text);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_example_parses_or_fails_as_shown) {
  std::vector<DocLine> lines = read_cli_md();
  int examples = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const DocLine &line = lines[i];
    if (!line.code || line.text.rfind("$ ", 0) != 0) continue;
    auto part = coffer_part(line.text.substr(2));
    if (!part) continue;
    ++examples;
    std::vector<std::string> words = shell_words(*part);
    try {
      coffer::cli::CommandLine parsed =
          coffer::cli::parse_command_line(words, coffer::cli::command_table());
      BOOST_TEST((parsed.command != nullptr || parsed.help || parsed.version),
                 "docs/cli.md:" << line.number << ": no command: " << line.text);
    } catch (const coffer::cli::UsageError &e) {
      std::string shown = i + 1 < lines.size() && lines[i + 1].code ? lines[i + 1].text : "";
      BOOST_TEST(
          shown == "coffer: " + std::string(e.what()),
          "docs/cli.md:" << line.number << ": '" << line.text << "' does not parse: " << e.what());
    }
  }
  BOOST_TEST(examples > 20);
}

BOOST_AUTO_TEST_SUITE_END()
