// Shell completion for `coffer`, generated from the command table the parser
// uses, so that it offers exactly the commands and options the parser
// accepts. What only the installed catalog and the policy know (keys,
// categories, provider names) the scripts ask of `coffer __complete` as the
// user types.
#ifndef COFFER_CLI_COMPLETION_HPP
#define COFFER_CLI_COMPLETION_HPP

#include <string>
#include <string_view>
#include <vector>

#include "command_line.hpp"

namespace coffer::cli {

// What an argument (an option's value or a command's positional argument)
// is, as far as completion is concerned.
struct ArgumentKinds {
  // Any of "keys", "categories", "providers" (asked of `coffer __complete`),
  // "commands" (coffer's own), "file", "program", "words"; empty: nothing to
  // offer (a number, a free value, a flag's absence of value).
  std::vector<std::string> kinds;
  std::vector<std::string> words;  // the literal choices, for "words"
};

// Read from the option's value name ("KEY", "PROVIDER", "CATEGORY", "FILE",
// "DIR", "PATH", "MAP", "LEVEL") and its name (`--provider` names a
// provider).
ArgumentKinds option_argument(const OptionSpec &option);
// Read from the command's usage ("KEY", "[PROVIDER]", "KEY|CATEGORY...",
// "[COMMAND]", "bash|zsh"); a command whose options end at its first
// argument (`run`) takes a program.
ArgumentKinds positional_argument(const CommandSpec &command);

// The completion script for "bash" or "zsh" (a #compdef file). Throws
// UsageError for another shell.
std::string completion_script(std::string_view shell, const std::vector<CommandSpec> &commands);

}  // namespace coffer::cli

#endif  // COFFER_CLI_COMPLETION_HPP
