// The commands about the tool itself: its shell completion, its manual
// pages, and the hidden helper through which completion asks for what only
// the installed catalog and the policy know.
#include "commands.hpp"

namespace coffer::cli {

std::vector<CommandSpec> operator_commands() {
  std::vector<CommandSpec> commands;

  CommandSpec completion;
  completion.name = "completion";
  completion.arguments = "bash|zsh";
  completion.min_positionals = 1;
  completion.max_positionals = 1;
  completion.summary = "Print the shell completion script for bash or zsh";
  completion.description =
      "Prints a completion script generated from the command table: the commands,\n"
      "each command's options, and for arguments that are keys, categories or\n"
      "providers the names the installed catalog and the policy have (asked of\n"
      "coffer itself as you type, with the --policy given on the line). Packages\n"
      "install it; by hand:\n"
      "  source <(coffer completion bash)\n"
      "  coffer completion zsh > \"${fpath[1]}/_coffer\"\n";
  completion.handler = run_completion;
  commands.push_back(std::move(completion));

  CommandSpec man;
  man.name = "man";
  man.arguments = "[COMMAND]";
  man.max_positionals = 1;
  man.options = {{"--output-dir", "", "DIR",
                  "write coffer.1 and a page for each command that has commands of its own "
                  "(coffer-db.1) into DIR instead"}};
  man.summary = "Print the manual page in roff";
  man.description =
      "Prints coffer(1), or with COMMAND the page of that command (coffer-db(1)), in\n"
      "roff, generated from the command table; 'coffer man | man -l -' shows it.\n"
      "Packages install the pages under share/man/man1.\n";
  man.handler = run_man;
  commands.push_back(std::move(man));

  CommandSpec complete;
  complete.name = "__complete";
  complete.arguments = "keys|categories|providers";
  complete.min_positionals = 1;
  complete.max_positionals = 1;
  complete.summary = "Print names for shell completion, one per line";
  complete.handler = run_complete;
  complete.hidden = true;
  commands.push_back(std::move(complete));
  return commands;
}

}  // namespace coffer::cli
