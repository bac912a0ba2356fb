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

CommandLine parse_command_line(const std::vector<std::string> &argv,
                               const std::vector<CommandSpec> &commands) {
  CommandLine out;
  const CommandSpec *top = nullptr;  // the command named first
  const CommandSpec *command = nullptr;
  std::vector<PendingOption> pending;
  bool options_done = false;
  std::optional<std::string> log_level;
  std::vector<std::string> command_names;
  for (const auto &c : commands) command_names.push_back(c.name);

  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string &token = argv[i];
    if (!options_done && token == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && token.size() > 1 && token[0] == '-') {
      std::string name = token;
      std::optional<std::string> inline_value;
      if (token.rfind("--", 0) == 0) {
        if (auto eq = token.find('='); eq != std::string::npos) {
          name = token.substr(0, eq);
          inline_value = token.substr(eq + 1);
        }
      }
      const OptionSpec *global = find_option(global_options(), name);
      std::vector<OptionSpec> command_options;
      if (top != nullptr) command_options = options_of(*command);
      const OptionSpec *local = global ? nullptr : find_option(command_options, name);
      if (global == nullptr && local == nullptr) {
        if (top == nullptr && name == "--version") {
          out.version = true;
          continue;
        }
        if (top != nullptr && command != top && find_option(options_of(*top), name) != nullptr)
          throw UsageError(command->name,
                           "option " + name + " does not apply to '" + command->name + "'");
        std::vector<std::string> known = option_names(global_options());
        for (const auto &n : option_names(command_options)) known.push_back(n);
        // Only the option's name is repeated, if it looks like one: its value,
        // or the whole argument, may be a secret.
        throw UsageError(command ? command->name : "",
                         unknown("option", name) +
                             (command ? " for '" + command->name + "'" : std::string()) +
                             did_you_mean(name, known));
      }
      const OptionSpec &spec = global ? *global : *local;
      std::optional<std::string> value;
      if (spec.value_name.empty()) {
        if (inline_value)
          throw UsageError(command ? command->name : "", "option " + spec.name + " takes no value");
      } else if (inline_value) {
        value = inline_value;
      } else if (i + 1 < argv.size()) {
        value = argv[++i];
      } else {
        throw UsageError(command ? command->name : "",
                         "option " + spec.name + " needs a value (" + spec.value_name + ")");
      }
      if (spec.name == "--help") {
        out.help = true;
      } else if (spec.name == "--policy") {
        if (out.globals.policy) throw UsageError("", "option --policy given twice");
        if (value->empty()) throw UsageError("", "option --policy needs a file name");
        out.globals.policy = value;
      } else if (spec.name == "--log-level") {
        if (log_level) throw UsageError("", "option --log-level given twice");
        log_level = value;
      } else if (spec.name == "--quiet") {
        out.globals.quiet = true;
      } else {
        pending.push_back({spec.name, value});
      }
      continue;
    }
    if (top == nullptr) {
      top = find_command(commands, token);
      if (top == nullptr)
        throw UsageError("", unknown("command", token) + did_you_mean(token, command_names));
      command = top;
      continue;
    }
    if (command == top && !top->subcommands.empty()) {
      command = find_command(top->subcommands, token, top->name);
      if (command == nullptr) {
        std::vector<std::string> names;
        for (const auto &sub : top->subcommands)
          names.push_back(sub.name.substr(top->name.size() + 1));
        throw UsageError(top->name,
                         unknown("command", token, top->name) + did_you_mean(token, names));
      }
      continue;
    }
    out.arguments.positionals.push_back(token);
    if (command->options_end_at_first_argument) options_done = true;
  }

  if (log_level) out.globals.log_level = parse_log_level(*log_level);
  out.command = command;
  if (out.help) return out;
  if (command != nullptr && !command->subcommands.empty()) {
    std::string names;
    for (const auto &sub : command->subcommands)
      names += (names.empty() ? "" : ", ") + sub.name.substr(command->name.size() + 1);
    throw UsageError(command->name, "'" + command->name + "' needs a command: " + names);
  }
  for (auto &option : pending) {
    // Options are checked against the subcommand that was finally chosen.
    const OptionSpec *spec = find_option(command->options, option.name);
    if (spec == nullptr)
      throw UsageError(command->name,
                       "option " + option.name + " does not apply to '" + command->name + "'");
    if (spec->repeatable) out.arguments.repeated[option.name].push_back(option.value.value_or(""));
    if (out.arguments.options.contains(option.name) && !spec->repeatable)
      throw UsageError(command->name, "option " + option.name + " given twice");
    out.arguments.options[option.name] = option.value.value_or("");
  }
  if (command != nullptr) {
    for (const auto &option : command->options)
      if (option.required && !out.arguments.has(option.name))
        throw UsageError(command->name,
                         "'" + command->name + "' needs " + option.name + " " + option.value_name);
    const auto &positionals = out.arguments.positionals;
    if (positionals.size() < command->min_positionals)
      throw UsageError(command->name, "'" + command->name + "' needs " + command->arguments);
    if (positionals.size() > command->max_positionals) {
      if (!command->surplus_refusal.empty())
        throw UsageError(command->name, command->surplus_refusal);
      // Surplus arguments are not repeated: one may be a value typed by mistake.
      throw UsageError(command->name,
                       "'" + command->name + "' takes " +
                           (command->max_positionals == 0 ? std::string("no arguments")
                                                          : "only " + command->arguments) +
                           "; " + std::to_string(positionals.size()) +
                           " given (not repeated here in case one is a value)");
    }
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
