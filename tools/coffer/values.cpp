// get, put and rm: the commands that move secret values. Only `get` ever
// writes a value, and only to standard output.
#include <unistd.h>
#include <coffer/catalog.hpp>

#include "commands.hpp"
#include "exit_status.hpp"
#include "output.hpp"
#include "secret_input.hpp"
#include "write_all.hpp"

namespace coffer::cli {
namespace {

void write_all(std::string_view bytes) {
  tools::write_all(STDOUT_FILENO, bytes, "standard output");
}

}  // namespace

int run_get(Invocation &invocation, const Arguments &arguments) {
  require_key_shape("get", arguments.positionals.at(0));
  Store store = invocation.open_store();
  GetOptions options;
  std::optional<std::string> version = arguments.value("--version-id");
  if (std::optional<std::string> alias = arguments.value("--version")) {
    if (version && *version != *alias)
      throw UsageError("get", "--version and --version-id name different versions; give one");
    version = alias;
  }
  if (version) options.version = *version;
  Secret value = store.get(arguments.positionals.at(0), options);
  std::fflush(stdout);
  write_all(value.reveal());
  if (!arguments.has("--no-newline")) write_all("\n");
  return exit_success;
}

int run_put(Invocation &invocation, const Arguments &arguments) {
  const std::string &key = arguments.positionals.at(0);
  // A mistyped command line may hold a value where the key belongs; it is
  // not repeated in the message.
  require_key_shape("put", key, "; put reads the value from standard input");
  Store store = invocation.open_store();
  require_known_key(store, key);
  SecretInput input;
  input.key = key;
  input.raw = arguments.has("--raw");
  Secret value = read_secret(input);
  if (value.empty() && !arguments.has("--allow-empty"))
    throw Error(Code::invalid_argument,
                "the value for " + key +
                    " is empty; nothing was stored (give --allow-empty to store an empty value)");
  std::string version = store.put(key, value);
  if (!version.empty()) write_stdout(version + "\n");
  return exit_success;
}

int run_rm(Invocation &invocation, const Arguments &arguments) {
  const std::string &key = arguments.positionals.at(0);
  require_key_shape("rm", key);
  Store store = invocation.open_store();
  RouteInfo route = store.route(key);
  if (route.access != Code::ok) throw Error(route.access, route.message);
  const std::string &provider = route.chain.front();
  const bool soft = store.features(provider).soft_delete;
  const bool purge = arguments.has("--purge");
  if (purge && !soft)
    throw Error(Code::unsupported, "provider '" + provider + "' (plugin " +
                                       store.plugin_of(provider) +
                                       ") deletes for good on rm: there is nothing to purge; "
                                       "nothing was removed (run 'coffer rm " +
                                       key + "' without --purge)");
  if (purge) {
    // A key removed earlier (its remove answers not found) is purged all the same.
    try {
      store.remove(key);
    } catch (const Error &e) {
      if (e.code() != Code::not_found) throw;
    }
    store.purge(key);
    return exit_success;
  }
  store.remove(key);
  if (soft)
    print_note("provider '" + provider + "' keeps the removed value of " + key +
                   " recoverable in its backend until it is purged or its retention ends; "
                   "'coffer rm --purge " +
                   key + "' deletes it for good",
               invocation.globals.quiet);
  return exit_success;
}

}  // namespace coffer::cli
