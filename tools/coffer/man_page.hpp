// Manual pages of `coffer` in roff (man(7) macros), generated from the
// command table: coffer(1) for the tool and its commands, and a page of its
// own for each command that has commands (coffer-db(1)).
#ifndef COFFER_CLI_MAN_PAGE_HPP
#define COFFER_CLI_MAN_PAGE_HPP

#include <string>
#include <utility>
#include <vector>

#include "command_line.hpp"

namespace coffer::cli {

// coffer(1) when `command` is nullptr, else coffer-NAME(1) for that command.
std::string man_page(const CommandSpec *command, const std::vector<CommandSpec> &commands);

// Every page the tool installs, as (file name, text): coffer.1, then
// coffer-NAME.1 for each command with subcommands.
std::vector<std::pair<std::string, std::string>> man_pages(
    const std::vector<CommandSpec> &commands);

}  // namespace coffer::cli

#endif  // COFFER_CLI_MAN_PAGE_HPP
