// The command line of `coffer`: global options, commands, their options and
// arguments, and the help text built from the same descriptions.
//
// Global options may appear before or after the command; `--` ends the
// options. An option's value is given as `--name VALUE` or `--name=VALUE`.
#ifndef COFFER_CLI_COMMAND_LINE_HPP
#define COFFER_CLI_COMMAND_LINE_HPP

#include <coffer/provider_helpers.hpp>
#include <coffer/store.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::cli {

struct Invocation;

struct OptionSpec {
  std::string name;        // "--json"
  std::string short_name;  // "-n", or empty
  std::string value_name;  // empty for a flag, else what the value is ("FILE")
  std::string help;
  bool repeatable = false;  // may be given more than once (see Arguments::values)
  bool required = false;    // shown without brackets; the parser refuses its absence
};

// What a command was given after its name.
class Arguments {
 public:
  std::vector<std::string> positionals;
  std::map<std::string, std::string, std::less<>> options;  // by long name; "" for flags

  [[nodiscard]] bool has(std::string_view name) const { return options.contains(name); }
  [[nodiscard]] std::optional<std::string> value(std::string_view name) const;
  // Every value of a repeatable option, in command-line order.
  [[nodiscard]] std::vector<std::string> values(std::string_view name) const;
  std::map<std::string, std::vector<std::string>, std::less<>> repeated;
};

using Handler = std::function<int(Invocation &, const Arguments &)>;

struct CommandSpec {
  std::string name;       // "get"; a subcommand's full name: "db rekey"
  std::string arguments;  // the positional arguments as shown in the usage ("KEY")
  std::size_t min_positionals = 0;
  std::size_t max_positionals = 0;
  std::vector<OptionSpec> options;
  std::string summary;      // one line, for the command list
  std::string description;  // the rest of the help text
  std::vector<CommandSpec> subcommands;
  Handler handler;
  // Why the command refuses surplus arguments without repeating them (for
  // commands where a surplus argument may be a secret value).
  std::string surplus_refusal;
  // The first positional argument ends the options: it and everything after
  // it are positionals, options of another program included (`run`).
  bool options_end_at_first_argument = false;
  // Left out of the help, the man pages and completion: an interface for
  // the tool's own scripts (`__complete`), not for people.
  bool hidden = false;
};

struct GlobalOptions {
  std::optional<std::string> policy;
  LogLevel log_level = LogLevel::warning;
  bool quiet = false;
};

struct CommandLine {
  GlobalOptions globals;
  const CommandSpec *command = nullptr;  // nullptr: none given
  Arguments arguments;
  bool help = false;     // --help / -h
  bool version = false;  // --version
};

// The options every command accepts.
const std::vector<OptionSpec> &global_options();

// Parses argv (without argv[0]). Throws UsageError.
CommandLine parse_command_line(const std::vector<std::string> &argv,
                               const std::vector<CommandSpec> &commands);

// "Did you mean": the one rule of the SDK, for the CLI's names too.
using provider::did_you_mean;
using provider::nearest_name;

// "usage: coffer [OPTIONS] get [-n] KEY"
std::string usage_line(const CommandSpec &command);
// The full help of one command, or of the tool when `command` is nullptr.
std::string help_text(const CommandSpec *command, const std::vector<CommandSpec> &commands);

}  // namespace coffer::cli

#endif  // COFFER_CLI_COMMAND_LINE_HPP
