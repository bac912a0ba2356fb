// The CLI's command table against what is written about it: the manual pages
// generated from it, and docs/cli.md, which is written by hand and checked
// here (every command and option documented, nothing documented that does
// not exist, every example parses with the real parser).
#define BOOST_TEST_MODULE cli_table_tests
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "command_line.hpp"
#include "commands.hpp"
#include "completion.hpp"
#include "exit_status.hpp"
#include "man_page.hpp"
#include "temp_directory.hpp"

namespace {

using coffer::cli::CommandSpec;
using coffer::cli::OptionSpec;

// Every command a user can run: "get", ..., "db init", ...; hidden ones left out.
std::vector<const CommandSpec *> all_commands() {
  std::vector<const CommandSpec *> out;
  for (const auto &command : coffer::cli::command_table()) {
    if (command.hidden) continue;
    out.push_back(&command);
    for (const auto &sub : command.subcommands) out.push_back(&sub);
  }
  return out;
}

std::string read_text(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_TEST_REQUIRE(in.good(), "cannot read " << path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// How roff shows an option: hyphens escaped.
std::string in_roff(const std::string &option) {
  std::string out;
  for (char c : option) out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(manual_pages)

BOOST_AUTO_TEST_CASE(every_command_and_option_is_in_the_pages) {
  std::string all;
  std::set<std::string> files;
  for (const auto &[file, text] : coffer::cli::man_pages(coffer::cli::command_table())) {
    all += text;
    files.insert(file);
  }
  BOOST_TEST(files.contains("coffer.1"));
  BOOST_TEST(files.contains("coffer-db.1"));
  for (const CommandSpec *command : all_commands()) {
    BOOST_TEST(contains(all, ".SS " + in_roff(command->name) + "\n"), command->name);
    for (const auto &option : command->options) {
      BOOST_TEST(contains(all, in_roff(option.name)), command->name << " " << option.name);
      if (!option.short_name.empty())
        BOOST_TEST(contains(all, in_roff(option.short_name) + ", "), option.short_name);
    }
  }
  for (const auto &option : coffer::cli::global_options())
    BOOST_TEST(contains(all, ".B " +
                                 (option.short_name.empty() ? std::string()
                                                            : in_roff(option.short_name) + ", ") +
                                 in_roff(option.name)),
               option.name);
  BOOST_TEST(!contains(all, "__complete"));
}

BOOST_AUTO_TEST_CASE(man_renders_them_without_warnings) {
  if (std::system("command -v man >/dev/null 2>&1 && command -v groff >/dev/null 2>&1") != 0) {
    BOOST_TEST_MESSAGE("man or groff is not installed: the pages are not rendered");
    return;
  }
  const coffer::test::TempDirectory scratch("coffer-man");
  const std::filesystem::path &dir = scratch.path();
  for (const auto &[file, text] : coffer::cli::man_pages(coffer::cli::command_table())) {
    std::ofstream(dir / file) << text;
    std::filesystem::path warnings = dir / (file + ".warnings");
    std::string command = "MANWIDTH=80 man --warnings -l '" + (dir / file).string() +
                          "' >/dev/null 2>'" + warnings.string() + "'";
    int status = std::system(command.c_str());
    BOOST_TEST(status == 0, file);
    BOOST_TEST(read_text(warnings) == "", file);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(completion_script)

BOOST_AUTO_TEST_CASE(names_every_command_and_option_for_both_shells) {
  for (const char *shell : {"bash", "zsh"}) {
    std::string script = coffer::cli::completion_script(shell, coffer::cli::command_table());
    for (const CommandSpec *command : all_commands()) {
      std::string last = command->name.substr(command->name.rfind(' ') + 1);
      BOOST_TEST(std::regex_search(script, std::regex("printf '%s\\\\n'.* " + last + "( |\n)")),
                 shell << ": " << command->name);
      for (const auto &option : command->options)
        BOOST_TEST(contains(script, " " + option.name), shell << ": " << option.name);
    }
    BOOST_TEST(!contains(script, "__complete\n"));
  }
}

BOOST_AUTO_TEST_CASE(argument_kinds_come_from_the_table) {
  using coffer::cli::option_argument;
  using coffer::cli::positional_argument;
  const auto &table = coffer::cli::command_table();
  auto find = [&](const std::string &name) -> const CommandSpec & {
    for (const CommandSpec *command : all_commands())
      if (command->name == name) return *command;
    BOOST_FAIL("no command " + name);
    return table.front();
  };
  auto option = [&](const std::string &command, const std::string &name) -> const OptionSpec & {
    for (const auto &o : find(command).options)
      if (o.name == name) return o;
    BOOST_FAIL("no option " + name);
    return find(command).options.front();
  };
  using Kinds = std::vector<std::string>;
  BOOST_TEST(positional_argument(find("get")).kinds == Kinds{"keys"});
  BOOST_TEST(positional_argument(find("list")).kinds == Kinds{"providers"});
  BOOST_TEST(positional_argument(find("watch")).kinds == (Kinds{"keys", "categories"}));
  BOOST_TEST(positional_argument(find("help")).kinds == Kinds{"commands"});
  BOOST_TEST(positional_argument(find("run")).kinds == Kinds{"program"});
  BOOST_TEST(positional_argument(find("completion")).words == (Kinds{"bash", "zsh"}));
  BOOST_TEST(positional_argument(find("check")).kinds.empty());
  BOOST_TEST(option_argument(option("migrate", "--from")).kinds == Kinds{"providers"});
  BOOST_TEST(option_argument(option("migrate", "--category")).kinds == Kinds{"categories"});
  BOOST_TEST(option_argument(option("keyname", "--provider")).kinds == Kinds{"providers"});
  BOOST_TEST(option_argument(option("db rekey", "--provider")).kinds == Kinds{"providers"});
  BOOST_TEST(option_argument(option("serve", "--token-file")).kinds == Kinds{"file"});
  BOOST_TEST(option_argument(option("get", "--version-id")).kinds.empty());
}

BOOST_AUTO_TEST_SUITE_END()
