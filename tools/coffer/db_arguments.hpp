// `coffer db`: the database provider's administrative commands, and how
// their command-line options map to the argument JSON of Store::admin (see
// docs/providers/database.md). The whole mapping lives in db_arguments.cpp.
#ifndef COFFER_CLI_DB_ARGUMENTS_HPP
#define COFFER_CLI_DB_ARGUMENTS_HPP

#include <string>
#include <string_view>
#include <vector>

#include "command_line.hpp"

namespace coffer::cli {

// The plugin whose providers `coffer db` administers.
inline constexpr std::string_view kDatabasePlugin = "database";

// The `db` subcommands ("db init", ...), without handlers.
std::vector<CommandSpec> db_subcommands();

// The admin command's argument JSON for `command` ("init", ...). Throws
// UsageError for options that do not fit together.
std::string db_arguments_json(std::string_view command, const Arguments &arguments);

}  // namespace coffer::cli

#endif  // COFFER_CLI_DB_ARGUMENTS_HPP
