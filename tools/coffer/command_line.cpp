#include "command_line.hpp"

#include <algorithm>
#include <sstream>

#include "exit_status.hpp"
#include "output.hpp"

namespace coffer::cli {
namespace {

const OptionSpec *find_option(const std::vector<OptionSpec> &options, std::string_view name) {
  for (const auto &option : options)
    if (option.name == name || (!option.short_name.empty() && option.short_name == name))
      return &option;
  return nullptr;
}

const CommandSpec *find_command(const std::vector<CommandSpec> &commands, std::string_view name,
                                std::string_view prefix = {}) {
  for (const auto &command : commands) {
    std::string_view own = command.name;
    if (!prefix.empty()) own.remove_prefix(std::min(own.size(), prefix.size() + 1));
    if (own == name) return &command;
  }
  return nullptr;
}

// "unknown command 'lsit'", or "an unknown command" when the argument is not
// shaped like a command name (it may be a value typed in the wrong place).
// `parent` precedes a subcommand's name ("db frob").
std::string unknown(std::string_view what, std::string_view argument,
                    std::string_view parent = {}) {
  if (!shown_word(argument))
    return "an unknown " + std::string(what) + " (not repeated here in case it is a value)";
  std::string name =
      parent.empty() ? std::string(argument) : std::string(parent) + " " + std::string(argument);
  return "unknown " + std::string(what) + " '" + name + "'";
}

LogLevel parse_log_level(const std::string &text) {
  if (text == "debug") return LogLevel::debug;
  if (text == "info") return LogLevel::info;
  if (text == "warning") return LogLevel::warning;
  if (text == "error") return LogLevel::error;
  auto shown = shown_word(text);
  throw UsageError("", "--log-level must be debug, info, warning or error" +
                           (shown ? ", not " + *shown : std::string()) +
                           did_you_mean(text, {"debug", "info", "warning", "error"}));
}

// An option given to a command, checked once the command (and its
// subcommand) is known.
struct PendingOption {
  std::string name;
  std::optional<std::string> value;
};

// The options any of `command`'s forms accepts: its own and its subcommands'.
std::vector<OptionSpec> options_of(const CommandSpec &command) {
  std::vector<OptionSpec> all = command.options;
  for (const auto &sub : command.subcommands)
    for (const auto &option : sub.options)
      if (find_option(all, option.name) == nullptr) all.push_back(option);
  return all;
}

std::vector<std::string> option_names(const std::vector<OptionSpec> &options) {
  std::vector<std::string> names;
  for (const auto &option : options) names.push_back(option.name);
  return names;
}

}  // namespace

std::optional<std::string> Arguments::value(std::string_view name) const {
  auto it = options.find(name);
  if (it == options.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Arguments::values(std::string_view name) const {
  auto it = repeated.find(name);
  return it == repeated.end() ? std::vector<std::string>{} : it->second;
}

const std::vector<OptionSpec> &global_options() {
  static const std::vector<OptionSpec> options = {
      {"--policy", "", "FILE", "the policy file (default: $COFFER_POLICY, else ./coffer.json)"},
      {"--log-level", "", "LEVEL",
       "debug, info, warning (default) or error; log lines go to standard error"},
      {"--quiet", "-q", "", "only errors on standard error (same as --log-level error)"},
      {"--help", "-h", "", "show help and exit"},
  };
  return options;
}

namespace {

// What parse_command_line() has learnt so far, token by token.
struct Parse {
  const std::vector<std::string> &argv;
  const std::vector<CommandSpec> &commands;
  CommandLine out;
  const CommandSpec *top = nullptr;  // the command named first
  const CommandSpec *command = nullptr;
  std::vector<PendingOption> pending;
  bool options_done = false;
  std::optional<std::string> log_level;

  // The command a usage error is about ("" before one is named).
  [[nodiscard]] std::string command_name() const { return command ? command->name : ""; }
};

// The option `name` names, global or the command's; anything else is refused
// naming only the option (its value, or the whole argument, may be a secret).
// Copied: a command's options are gathered into a temporary list.
OptionSpec resolve_option(const Parse &parse, const std::string &name) {
  if (const OptionSpec *global = find_option(global_options(), name)) return *global;
  std::vector<OptionSpec> command_options;
  if (parse.top != nullptr) command_options = options_of(*parse.command);
  if (const OptionSpec *local = find_option(command_options, name)) return *local;
  const CommandSpec *top = parse.top;
  const CommandSpec *command = parse.command;
  if (top != nullptr && command != top && find_option(options_of(*top), name) != nullptr)
    throw UsageError(command->name,
                     "option " + name + " does not apply to '" + command->name + "'");
  std::vector<std::string> known = option_names(global_options());
  for (const auto &n : option_names(command_options)) known.push_back(n);
  throw UsageError(parse.command_name(),
                   unknown("option", name) +
                       (command ? " for '" + command->name + "'" : std::string()) +
                       did_you_mean(name, known));
}

// Notes a global option in `parse.out`, or keeps a command's for later.
void record_option(Parse &parse, const OptionSpec &spec, const std::optional<std::string> &value) {
  if (spec.name == "--help") {
    parse.out.help = true;
  } else if (spec.name == "--policy") {
    if (parse.out.globals.policy) throw UsageError("", "option --policy given twice");
    if (value->empty()) throw UsageError("", "option --policy needs a file name");
    parse.out.globals.policy = value;
  } else if (spec.name == "--log-level") {
    if (parse.log_level) throw UsageError("", "option --log-level given twice");
    parse.log_level = value;
  } else if (spec.name == "--quiet") {
    parse.out.globals.quiet = true;
  } else {
    parse.pending.push_back({spec.name, value});
  }
}

// Takes the option at argv[i] (and its value, "--name=value" or the next
// token); returns the index of the last token it used.
std::size_t take_option(Parse &parse, std::size_t i) {
  const std::string &token = parse.argv[i];
  std::string name = token;
  std::optional<std::string> inline_value;
  if (token.rfind("--", 0) == 0) {
    if (auto eq = token.find('='); eq != std::string::npos) {
      name = token.substr(0, eq);
      inline_value = token.substr(eq + 1);
    }
  }
  if (parse.top == nullptr && name == "--version" &&
      find_option(global_options(), name) == nullptr) {
    parse.out.version = true;
    return i;
  }
  const OptionSpec spec = resolve_option(parse, name);
  std::optional<std::string> value;
  if (spec.value_name.empty()) {
    if (inline_value)
      throw UsageError(parse.command_name(), "option " + spec.name + " takes no value");
  } else if (inline_value) {
    value = inline_value;
  } else if (i + 1 < parse.argv.size()) {
    value = parse.argv[++i];
  } else {
    throw UsageError(parse.command_name(),
                     "option " + spec.name + " needs a value (" + spec.value_name + ")");
  }
  record_option(parse, spec, value);
  return i;
}

// Takes a word: the command, then its subcommand if it has any, then the
// positional arguments.
void take_word(Parse &parse, const std::string &token) {
  if (parse.top == nullptr) {
    parse.top = find_command(parse.commands, token);
    if (parse.top == nullptr) {
      std::vector<std::string> command_names;
      for (const auto &c : parse.commands) command_names.push_back(c.name);
      throw UsageError("", unknown("command", token) + did_you_mean(token, command_names));
    }
    parse.command = parse.top;
    return;
  }
  const CommandSpec *top = parse.top;
  if (parse.command == top && !top->subcommands.empty()) {
    parse.command = find_command(top->subcommands, token, top->name);
    if (parse.command == nullptr) {
      std::vector<std::string> names;
      for (const auto &sub : top->subcommands)
        names.push_back(sub.name.substr(top->name.size() + 1));
      throw UsageError(top->name,
                       unknown("command", token, top->name) + did_you_mean(token, names));
    }
    return;
  }
  parse.out.arguments.positionals.push_back(token);
  if (parse.command->options_end_at_first_argument) parse.options_done = true;
}

// A command with subcommands needs one of them.
void require_subcommand(const CommandSpec *command) {
  if (command == nullptr || command->subcommands.empty()) return;
  std::string names;
  for (const auto &sub : command->subcommands)
    names += (names.empty() ? "" : ", ") + sub.name.substr(command->name.size() + 1);
  throw UsageError(command->name, "'" + command->name + "' needs a command: " + names);
}

// Checks the command's options against the subcommand that was finally
// chosen, and files them into `arguments`.
void apply_options(const CommandSpec &command, const std::vector<PendingOption> &pending,
                   Arguments &arguments) {
  for (const auto &option : pending) {
    const OptionSpec *spec = find_option(command.options, option.name);
    if (spec == nullptr)
      throw UsageError(command.name,
                       "option " + option.name + " does not apply to '" + command.name + "'");
    if (spec->repeatable) arguments.repeated[option.name].push_back(option.value.value_or(""));
    if (arguments.options.contains(option.name) && !spec->repeatable)
      throw UsageError(command.name, "option " + option.name + " given twice");
    arguments.options[option.name] = option.value.value_or("");
  }
}

// Checks that the command has its required options and as many positional
// arguments as it takes.
void check_complete(const CommandSpec &command, const Arguments &arguments) {
  for (const auto &option : command.options)
    if (option.required && !arguments.has(option.name))
      throw UsageError(command.name,
                       "'" + command.name + "' needs " + option.name + " " + option.value_name);
  const auto &positionals = arguments.positionals;
  if (positionals.size() < command.min_positionals)
    throw UsageError(command.name, "'" + command.name + "' needs " + command.arguments);
  if (positionals.size() > command.max_positionals) {
    if (!command.surplus_refusal.empty()) throw UsageError(command.name, command.surplus_refusal);
    // Surplus arguments are not repeated: one may be a value typed by mistake.
    throw UsageError(command.name,
                     "'" + command.name + "' takes " +
                         (command.max_positionals == 0 ? std::string("no arguments")
                                                       : "only " + command.arguments) +
                         "; " + std::to_string(positionals.size()) +
                         " given (not repeated here in case one is a value)");
  }
}

}  // namespace

CommandLine parse_command_line(const std::vector<std::string> &argv,
                               const std::vector<CommandSpec> &commands) {
  Parse parse{.argv = argv,
              .commands = commands,
              .out = {},
              .top = nullptr,
              .command = nullptr,
              .pending = {},
              .options_done = false,
              .log_level = std::nullopt};
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string &token = argv[i];
    if (!parse.options_done && token == "--") {
      parse.options_done = true;
    } else if (!parse.options_done && token.size() > 1 && token[0] == '-') {
      i = take_option(parse, i);
    } else {
      take_word(parse, token);
    }
  }

  CommandLine &out = parse.out;
  if (parse.log_level) out.globals.log_level = parse_log_level(*parse.log_level);
  out.command = parse.command;
  if (out.help) return out;
  require_subcommand(parse.command);
  if (parse.command != nullptr) {
    apply_options(*parse.command, parse.pending, out.arguments);
    check_complete(*parse.command, out.arguments);
  }
  return out;
}

std::string usage_line(const CommandSpec &command) {
  std::string line = "usage: coffer [OPTIONS] " + command.name;
  if (!command.subcommands.empty()) return line + " COMMAND [ARGS]";
  for (const auto &option : command.options) {
    line += option.required ? " " : " [";
    line += option.short_name.empty() ? option.name : option.short_name;
    if (!option.value_name.empty()) line += " " + option.value_name;
    if (!option.required) line += "]";
  }
  if (!command.arguments.empty()) line += " " + command.arguments;
  return line;
}

namespace {

void option_lines(std::ostringstream &out, const std::vector<OptionSpec> &options) {
  std::vector<std::string> left;
  std::size_t width = 0;
  for (const auto &option : options) {
    std::string text =
        option.short_name.empty() ? option.name : option.short_name + ", " + option.name;
    if (!option.value_name.empty()) text += " " + option.value_name;
    width = std::max(width, text.size());
    left.push_back(std::move(text));
  }
  for (std::size_t i = 0; i < options.size(); ++i)
    out << "  " << left[i] << std::string(width - left[i].size() + 2, ' ') << options[i].help
        << "\n";
}

}  // namespace

std::string help_text(const CommandSpec *command, const std::vector<CommandSpec> &commands) {
  std::ostringstream out;
  if (command == nullptr) {
    out << "usage: coffer [OPTIONS] COMMAND [ARGS]\n\n"
           "Reads and manages secrets through the providers that a coffer policy names.\n\n"
           "Commands:\n";
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto &c : commands) {
      if (c.hidden) continue;
      rows.emplace_back(c.name + (c.arguments.empty() ? "" : " " + c.arguments), c.summary);
      for (const auto &sub : c.subcommands)
        rows.emplace_back(sub.name + (sub.arguments.empty() ? "" : " " + sub.arguments),
                          sub.summary);
    }
    std::size_t width = 0;
    for (const auto &row : rows) width = std::max(width, row.first.size());
    for (const auto &[left, right] : rows)
      out << "  " << left << std::string(width - left.size() + 2, ' ') << right << "\n";
    out << "\nOptions (before or after the command):\n";
    option_lines(out, global_options());
    out << "  --version          show the coffer and provider ABI versions (as 'coffer version')\n"
        << "\nRun 'coffer help COMMAND' (or 'coffer COMMAND --help') for a command's options.\n"
           "Exit status: 0 success, 1 other failure, 2 usage or configuration error,\n"
           "3 not found, 4 denied, 5 unavailable or timed out, 6 declined at a prompt.\n";
    return out.str();
  }
  out << usage_line(*command) << "\n\n" << command->summary << ".\n";
  if (!command->description.empty()) out << "\n" << command->description;
  if (!command->subcommands.empty()) {
    out << "\nCommands:\n";
    std::size_t width = 0;
    for (const auto &sub : command->subcommands) width = std::max(width, sub.name.size());
    for (const auto &sub : command->subcommands)
      out << "  " << sub.name << std::string(width - sub.name.size() + 2, ' ') << sub.summary
          << "\n";
    out << "\nRun 'coffer help " << command->name << " COMMAND' for a command's options.\n";
  }
  if (!command->options.empty()) {
    out << "\nOptions:\n";
    option_lines(out, command->options);
  }
  out << "\nGlobal options (--policy, --log-level, --quiet): see 'coffer --help'.\n";
  return out.str();
}

}  // namespace coffer::cli
