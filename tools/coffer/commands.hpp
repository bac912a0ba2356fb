// The commands of `coffer`, one handler each, and the table that describes
// them (names, arguments, options, help).
#ifndef COFFER_CLI_COMMANDS_HPP
#define COFFER_CLI_COMMANDS_HPP

#include <string_view>
#include <vector>

#include "command_line.hpp"
#include "invocation.hpp"

namespace coffer::cli {

// Every command, in the order the help lists them.
const std::vector<CommandSpec> &command_table();
// operator_commands.cpp: the commands about the tool itself (completion,
// man pages, and the hidden helper the completion scripts call), for the
// table.
std::vector<CommandSpec> operator_commands();

// values.cpp: the only commands that touch secret values.
int run_get(Invocation &invocation, const Arguments &arguments);
int run_put(Invocation &invocation, const Arguments &arguments);
int run_rm(Invocation &invocation, const Arguments &arguments);

// inspect.cpp: what the policy and the providers hold, never values.
int run_list(Invocation &invocation, const Arguments &arguments);
int run_catalog(Invocation &invocation, const Arguments &arguments);
int run_keyname(Invocation &invocation, const Arguments &arguments);
int run_explain(Invocation &invocation, const Arguments &arguments);

// diagnose.cpp: health of the whole policy, plugins, versions.
int run_check(Invocation &invocation, const Arguments &arguments);
int run_plugins(Invocation &invocation, const Arguments &arguments);
int run_version(Invocation &invocation, const Arguments &arguments);

// migrate.cpp: copies secrets between providers, verified.
int run_migrate(Invocation &invocation, const Arguments &arguments);
// run.cpp: runs a command with values in its environment.
int run_run(Invocation &invocation, const Arguments &arguments);
// history.cpp: a key's versions, newest first, never values.
int run_history(Invocation &invocation, const Arguments &arguments);
// watch.cpp: prints version changes until interrupted.
int run_watch(Invocation &invocation, const Arguments &arguments);

// serve.cpp: the agent (Dapr secrets API, metrics) until SIGTERM.
int run_serve(Invocation &invocation, const Arguments &arguments);

// completion.cpp: shell completion scripts and their dynamic parts.
int run_completion(Invocation &invocation, const Arguments &arguments);
int run_complete(Invocation &invocation, const Arguments &arguments);
// man_page.cpp: manual pages in roff.
int run_man(Invocation &invocation, const Arguments &arguments);

// db.cpp: administration of the database provider.
int run_db(Invocation &invocation, const Arguments &arguments, std::string_view command);

// argument_checks.cpp: keys and provider names from the command line.
// Throws UsageError for `command`, without repeating the argument, unless
// `key` has the shape of a key name (Category.Name): an argument of another
// shape may be a value typed in the wrong place. `hint` ends the message.
void require_key_shape(const std::string &command, const std::string &key,
                       std::string_view hint = {});
// Throws invalid_argument, naming the nearest known key, unless `key` is in
// the catalog the Store uses; an argument that is not shaped like a key name
// is not repeated.
void require_known_key(const Store &store, const std::string &key);
// Throws invalid_argument unless the policy has a provider `name`; the
// message names the argument by its `role` ("--from", "the argument of
// list"), offers the nearest provider name and does not repeat `name`.
void require_known_provider(const Store &store, const std::string &name, std::string_view role);

}  // namespace coffer::cli

#endif  // COFFER_CLI_COMMANDS_HPP
