// The descriptions of every command: what `coffer --help`, `coffer help
// COMMAND` and the argument parser work from.
#include "commands.hpp"
#include "db_arguments.hpp"

namespace coffer::cli {
namespace {

const OptionSpec kJson{"--json", "", "", "print JSON instead of a table"};

CommandSpec command(std::string name, std::string arguments, std::size_t min, std::size_t max,
                    std::vector<OptionSpec> options, std::string summary, std::string description,
                    Handler handler) {
  CommandSpec spec;
  spec.name = std::move(name);
  spec.arguments = std::move(arguments);
  spec.min_positionals = min;
  spec.max_positionals = max;
  spec.options = std::move(options);
  spec.summary = std::move(summary);
  spec.description = std::move(description);
  spec.handler = std::move(handler);
  return spec;
}

std::vector<CommandSpec> build() {
  std::vector<CommandSpec> table;
  table.push_back(
      command("get", "KEY", 1, 1,
              {{"--no-newline", "-n", "", "do not print a newline after the value"},
               {"--version-id", "", "ID",
                "an earlier version, by the provider's version id (providers that keep versions)"},
               {"--version", "", "ID", "the same as --version-id (ids as 'coffer history' shows)"},
               {"--json", "", "",
                "print a JSON object: key, provider, name, version, creation time and the value"},
               {"--metadata", "", "", "print the JSON object of --json without the value"}},
              "Print a secret's value",
              "Prints the value of KEY (a canonical key such as VCS.GithubAdminPAT) and a\n"
              "newline on standard output. This is the only command that prints a value.\n"
              "The value is written as stored; a value that itself ends in a newline shows\n"
              "it before the one get adds (use -n to see the bytes exactly).\n"
              "--json prints one JSON object instead: the key, the provider that answered,\n"
              "its name for the key, the version, when that version was written and the\n"
              "value (a value that is not UTF-8 text is refused: JSON cannot carry it).\n"
              "--metadata prints the same object without the value.\n",
              run_get));
  CommandSpec put = command(
      "put", "KEY", 1, 1,
      {{"--raw", "", "", "store standard input exactly, without removing a final newline"},
       {"--allow-empty", "", "", "store an empty value instead of refusing it"}},
      "Store a secret's value, read from standard input",
      "Writes a new version of KEY through the first provider of its route and prints\n"
      "the provider's version id, if it has one. The value is read from standard\n"
      "input, never from the command line (where other users see it in the process\n"
      "list and the shell keeps it in its history):\n"
      "  - from a pipe or a file: all of it, less one final newline (\"\\n\" or \"\\r\\n\")\n"
      "    unless --raw is given;\n"
      "  - from a terminal: typed at a prompt without echo, then typed again to confirm.\n"
      "At most 1 MiB. An empty value is refused unless --allow-empty is given.\n",
      run_put);
  put.surplus_refusal =
      "put takes only the key: the value is read from standard input, never from the command "
      "line, where other users can see it in the process list and the shell keeps it in its "
      "history (the extra argument is not repeated here); type it at the prompt or run "
      "'coffer put KEY < FILE'";
  table.push_back(std::move(put));
  table.push_back(
      command("rm", "KEY", 1, 1,
              {{"--yes", "-y", "", "remove without asking"},
               {"--purge", "", "",
                "then delete the removed value for good (providers with soft delete only)"}},
              "Remove a secret",
              "Removes KEY (and its versions) from the first provider of its route. On a\n"
              "terminal it first shows the provider, its name for the key and how many\n"
              "versions go, and asks; answer y or yes to remove it (anything else: nothing is\n"
              "removed, exit status 6). When standard input is not a terminal it refuses\n"
              "unless --yes is given. A provider with soft delete (Azure Key Vault) keeps the\n"
              "removed value recoverable until it is purged or its retention ends, and rm\n"
              "says so; --purge removes, then purges. --purge is refused, before anything is\n"
              "removed, for a provider without soft delete, whose remove is final.\n",
              run_rm));
  table.push_back(command("history", "KEY", 1, 1, {kJson},
                          "List the versions a provider keeps of a key, never values",
                          "Lists the versions of KEY that the provider serving it keeps, newest\n"
                          "first: the version id (for 'coffer get --version'), when it was\n"
                          "written (UTC, ISO 8601; \"-\" when the provider does not say) and\n"
                          "whether it is enabled (a disabled version is kept but not served).\n"
                          "A provider that keeps no history is an error naming it (status 1).\n",
                          run_history));
  table.push_back(
      command("list", "[PROVIDER]", 0, 1, {kJson}, "List what the providers hold, never values",
              "Lists every entry of PROVIDER, or of every provider in the policy, with the\n"
              "canonical key it maps to (\"-\" when none), the provider's own name for it and its\n"
              "version. Providers that cannot list are skipped with a note.\n",
              run_list));
  table.push_back(
      command("catalog", "", 0, 0, {kJson}, "List the known keys with category and description",
              "Lists the keys hosts may ask for: the built-in catalog plus the catalog files\n"
              "the policy names. Without any policy file, the built-in catalog.\n",
              run_catalog));
  table.push_back(
      command("keyname", "KEY", 1, 1,
              {{"--provider", "", "NAME", "print only the name this provider uses (any provider)"}},
              "Show the providers' own names for a key",
              "For each provider in KEY's route, the name under which the provider stores it\n"
              "(e.g. VCS-GithubAdminPAT in Azure Key Vault, VCS__GithubAdminPAT in an env file).\n",
              run_keyname));
  table.push_back(
      command("explain", "KEY", 1, 1, {kJson}, "Show how a key resolves, never its value",
              "Shows the policy rule that routes KEY, whether the policy allows it, and for\n"
              "each provider in the chain its name for the key, what it answered and why the\n"
              "chain went on or stopped there.\n",
              run_explain));
  table.push_back(
      command("check", "", 0, 0, {kJson}, "Check the policy, every provider and every catalog key",
              "Loads the policy and its plugins, opens every provider, runs their health\n"
              "checks and asks for every catalog key; reports a provider that did not open\n"
              "(isolated) as a problem, and each key as resolved, not_found,\n"
              "denied_by_policy (the policy withholds it on purpose) or error, never a value.\n"
              "Exit status: 0 when every key resolves (or is denied by the policy) and no\n"
              "provider reports a problem; 3 when the only failures are keys not found;\n"
              "1 for any other failure; the status of the error when the policy does not load\n"
              "(2 for a configuration error).\n",
              run_check));
  table.push_back(command(
      "plugins", "", 0, 0, {kJson}, "List the plugin files with ABI, version and capabilities",
      "Examines every plugin file in the policy's plugin directories and the default\n"
      "ones, and shows its ABI and plugin versions and capabilities, or why it was\n"
      "refused. Examining a file loads it (after the same safety checks as a policy's\n"
      "plugins), which runs the library's initialisers. When no file is found, the\n"
      "directories searched are listed on standard error. Works when the policy does\n"
      "not load, and without a policy.\n",
      run_plugins));
  table.push_back(command("version", "", 0, 0, {kJson}, "Show the coffer and provider ABI versions",
                          "", run_version));
  table.push_back(command(
      "migrate", "", 0, 0,
      {{"--from", "", "PROVIDER", "the provider to copy from", false, true},
       {"--to", "", "PROVIDER", "the provider to copy to", false, true},
       {"--category", "", "CATEGORY", "only keys of this category (repeatable)", true},
       {"--key", "", "KEY", "only this key (repeatable)", true},
       {"--dry-run", "", "", "compare and report; write nothing"},
       {"--update-policy", "", "",
        "afterwards, route the migrated categories or keys to the target (a targeted edit of "
        "the policy file)"},
       kJson},
      "Copy secrets from one provider to another, verified",
      "Copies every key of the catalog and of what --from lists (or only the given\n"
      "categories and keys) from provider --from to provider --to. Each key is read from\n"
      "both; a key whose value is already equal in the target is skipped, any other is\n"
      "written and read back. Values are compared as HMAC-SHA-256 digests under a key\n"
      "drawn at random for the run; they are never printed, logged or written anywhere\n"
      "but the target. A run that was interrupted (even by SIGKILL) is completed by\n"
      "running it again; a run with nothing left to do changes nothing.\n"
      "Statuses: copied, skipped (already equal), would_copy (--dry-run), absent (not in\n"
      "the source), failed. A progress bar is shown on a terminal. --update-policy then\n"
      "edits the policy file in place (comments and layout kept) so that the migrated\n"
      "categories or keys route to the target, after checking that the edited policy\n"
      "loads; where it cannot, it changes nothing and prints the edit to make by hand.\n"
      "Exit status: 0 when every key is copied, equal or absent (and the policy was\n"
      "updated if asked); 1 when any key failed or the policy could not be updated.\n",
      run_migrate));
  CommandSpec run = command(
      "run", "[--] COMMAND [ARGS...]", 1, static_cast<std::size_t>(-1),
      {{"--env", "", "NAME=KEY", "set variable NAME to the value of KEY (repeatable)", true},
       {"--env-file", "", "MAP",
        "a file of NAME=KEY lines, '#' comments and blank lines (repeatable)", true}},
      "Run a command with secret values in its environment",
      "Resolves every KEY, then replaces itself with COMMAND (looked up in PATH), whose\n"
      "environment is this one plus NAME=VALUE for each mapping; a NAME already set is\n"
      "replaced. Values are never put on a command line. The first argument that is not\n"
      "an option ends the options: it and all that follow are the command's.\n"
      "Values come from the agent when one listens, else from the policy (see\n"
      "docs/credential-helpers.md, \"Agent or policy\"; --policy skips the agent).\n"
      "Nothing runs unless every key resolves: each failure is reported and the status\n"
      "is the first failure's (3 not found, 4 denied, 5 unavailable, 2 for a bad\n"
      "mapping, an unknown key or policy). Otherwise the status is the command's;\n"
      "126 when it cannot be executed, 127 when it is not found.\n",
      run_run);
  run.options_end_at_first_argument = true;
  table.push_back(std::move(run));
  table.push_back(
      command("watch", "KEY|CATEGORY...", 1, 64,
              {{"--interval", "", "SECONDS",
                "how often the watched keys are re-read (default: the policy's cache TTL)"},
               {"--json", "", "", "print one JSON object per line"}},
              "Print a line whenever a watched key's value changes, never the value",
              "Watches keys or whole categories and prints, for each change, the time, the key,\n"
              "the provider now serving it and the old and new version ids. A change is a new\n"
              "version in the same provider, or a policy switch to a provider holding a\n"
              "different value. The policy is reloaded when its file changes and on SIGHUP;\n"
              "reloads are reported on standard error. Runs until SIGINT or SIGTERM.\n",
              run_watch));
  table.push_back(command(
      "serve", "", 0, 0,
      {{"--socket", "", "PATH",
        "the Unix socket to serve on (default: $COFFER_AGENT_SOCKET, else "
        "/run/coffer/coffer.sock)"},
       {"--no-socket", "", "", "serve no Unix socket (only --listen)"},
       {"--socket-group", "", "GROUP",
        "the socket's group, by name or number (default: the agent's)"},
       {"--socket-mode", "", "MODE", "the socket's mode, 0660 or stricter (default: 0660)"},
       {"--listen", "", "HOST:PORT",
        "also serve on a loopback TCP port, with API tokens (repeatable; port 0 picks one)", true},
       {"--token-file", "", "[CLIENT=]FILE",
        "an API token for --listen, read from a 0600 file; it acts as the policy client CLIENT, or "
        "without CLIENT as the agent's own user (repeatable)",
        true},
       {"--max-connections", "", "N",
        "connections served at once; more are answered 503 (default: 1024)"},
       {"--threads", "", "N", "I/O threads (default: the CPUs it may use, less one; at least 1)"},
       {"--read-timeout", "", "SECONDS", "time for a whole request to arrive (default: 10)"},
       {"--idle-timeout", "", "SECONDS",
        "time a keep-alive connection may wait for its next request (default: 60)"},
       {"--write-timeout", "", "SECONDS", "time for a client to take a response (default: 10)"},
       {"--drain-timeout", "", "SECONDS",
        "after SIGTERM, time for requests in flight to finish (default: 30)"},
       {"--admin", "", "HOST:PORT",
        "also serve the admin panel, a web page of the credential settings, on this loopback "
        "address (any address with --admin-tls-cert; port 0 picks one); needs "
        "--admin-token-file"},
       {"--admin-token-file", "", "FILE",
        "the admin tokens that log into the panel, read from a 0600 file: one token, or a line "
        "NAME:TOKEN per named admin (each at least 128 bits)"},
       {"--admin-tls-cert", "", "FILE",
        "serve the panel over HTTPS with this PEM certificate chain (server certificate "
        "first); needs --admin-tls-key"},
       {"--admin-tls-key", "", "FILE", "the certificate's PEM private key, from a 0600 file"},
       {"--admin-origin", "", "URL",
        "another origin the panel answers as, e.g. a reverse proxy's https URL (repeatable)", true},
       {"--admin-trusted-proxy", "", "ADDR",
        "the address of an authenticating reverse proxy (oauth2-proxy) whose X-Forwarded-User "
        "names the admin; needs --admin-proxy-secret-file"},
       {"--admin-proxy-secret-file", "", "FILE",
        "the secret the proxy sends as X-Coffer-Proxy-Secret, read from a 0600 file"},
       {"--admin-session-idle", "", "SECONDS",
        "a panel session ends after this long without a request (default: 900)"},
       {"--json", "", "", "log one JSON object per line"}},
      "Serve secrets to local processes: the Dapr secrets API, metrics, health",
      "Runs one long-lived Store (one cache, live policy reloads, audit) and serves it\n"
      "over HTTP/1.1 on a Unix socket, where the kernel names each peer (uid, gid, pid)\n"
      "and the policy's \"clients\" decide which keys it may read; optionally also on\n"
      "loopback TCP ports, where every request carries an API token (\"dapr-api-token\" or\n"
      "\"Authorization: Bearer\"). Endpoints: GET /v1.0/secrets/{store}/{key} and\n"
      "/v1.0/secrets/{store}/bulk (the Dapr secrets API; store \"coffer\" follows the\n"
      "policy's routes, a provider's name reads that provider alone), /v1.0-coffer/helpers/\n"
      "{git|docker}, /metrics (Prometheus), /healthz and /readyz. SIGHUP reloads the\n"
      "policy (so does an edit of the file); SIGTERM stops accepting, lets requests in\n"
      "flight finish and exits 0. See docs/agent.md.\n"
      "\n"
      "With --admin, the admin panel (a web page of the credential settings: where each\n"
      "credential is stored, its name in each provider, its status; never a value) is\n"
      "served on a listener of its own. See docs/admin-panel.md.\n",
      run_serve));
  CommandSpec db = command("db", "", 0, 0, {}, "Administer the database provider",
                           "Runs the database provider's administrative commands. The provider is\n"
                           "the policy's provider with \"plugin\": \"database\", or --provider.\n",
                           {});
  for (auto &sub : db_subcommands()) {
    std::string name = sub.name.substr(3);
    sub.handler = [name](Invocation &invocation, const Arguments &arguments) {
      return run_db(invocation, arguments, name);
    };
    db.subcommands.push_back(std::move(sub));
  }
  table.push_back(std::move(db));
  for (auto &spec : operator_commands()) table.push_back(std::move(spec));
  table.push_back(
      command("help", "[COMMAND]", 0, 2, {}, "Show help for coffer or a command", "", {}));
  return table;
}

}  // namespace

const std::vector<CommandSpec> &command_table() {
  static const std::vector<CommandSpec> table = build();
  return table;
}

}  // namespace coffer::cli
