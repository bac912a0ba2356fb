// get, put and rm: the commands that move secret values. Only `get` ever
// writes a value, and only to standard output.
#include <unistd.h>
#include <coffer/catalog.hpp>

#include <boost/json.hpp>

#include "commands.hpp"
#include "confirmation.hpp"
#include "exit_status.hpp"
#include "output.hpp"
#include "response.hpp"
#include "secret_input.hpp"
#include "write_all.hpp"

namespace coffer::cli {
namespace {

void write_all(std::string_view bytes) {
  tools::write_all(STDOUT_FILENO, bytes, "standard output");
}

// `get --json` and `get --metadata`: where the value came from, as one JSON
// object, and the value itself only for --json. The value is escaped into
// secret memory by the agent's JSON writer and written from there; like the
// agent, a value that is not UTF-8 text is refused, since a JSON string
// cannot carry it.
int print_get_json(Store &store, const std::string &key, const Result &result, bool with_value) {
  std::string_view version = result.secret.version();
  boost::json::object object{
      {"key", key},
      {"provider", result.provider},
      {"name", store.key_name(key, result.provider)},
      {"version", version.empty() ? boost::json::value(nullptr) : boost::json::value(version)},
      {"created", utc_json(result.secret.created_unix_ms())},
      {"created_unix_ms", result.secret.created_unix_ms() == 0
                              ? boost::json::value(nullptr)
                              : boost::json::value(result.secret.created_unix_ms())}};
  std::string text = pretty_json(object);
  if (!with_value) {
    write_stdout(text);
    return exit_success;
  }
  if (!agent::is_valid_utf8(result.secret.reveal()))
    throw Error(Code::data_error, "the value of " + key +
                                      " is not UTF-8 text, which JSON cannot carry; read it "
                                      "with 'coffer get " +
                                      key + "' (without --json)");
  // pretty_json ends the object with "\n}\n": the value goes before that.
  text.resize(text.size() - 3);
  agent::WipedString out;
  out.reserve(text.size() + agent::json_string_size(result.secret.reveal()) + 16);
  out.append(text);
  out.append(",\n  \"value\": ");
  agent::append_json_string(out, result.secret.reveal());
  out.append("\n}\n");
  std::fflush(stdout);
  write_all(out.view());
  return exit_success;
}

}  // namespace

int run_get(Invocation &invocation, const Arguments &arguments) {
  const std::string &key = arguments.positionals.at(0);
  require_key_shape("get", key);
  bool as_json = arguments.has("--json") || arguments.has("--metadata");
  if (as_json && arguments.has("--no-newline"))
    throw UsageError("get", "-n is for the plain value; --json and --metadata print JSON");
  Store store = invocation.open_store();
  GetOptions options;
  std::optional<std::string> version = arguments.value("--version-id");
  if (std::optional<std::string> alias = arguments.value("--version")) {
    if (version && *version != *alias)
      throw UsageError("get", "--version and --version-id name different versions; give one");
    version = alias;
  }
  if (version) options.version = *version;
  if (as_json) {
    Result result = store.try_get(key, options);
    if (!result.ok()) throw Error(result.code, result.message);
    return print_get_json(store, key, result, !arguments.has("--metadata"));
  }
  Secret value = store.get(key, options);
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
  bool ask = !arguments.has("--yes");
  if (ask && !can_ask())
    throw UsageError("rm",
                     "rm asks before it removes anything, and standard input is not a terminal "
                     "to answer on; pass --yes to remove without asking");
  Store store = invocation.open_store();
  RouteInfo route = store.route(key);
  if (route.access != Code::ok) throw Error(route.access, route.message);
  if (route.chain.empty())
    throw Error(Code::invalid_config, "the policy routes " + key + " to no provider");
  const std::string &provider = route.chain.front();
  const ProviderFeatures features = store.features(provider);
  const bool soft = features.soft_delete;
  const bool purge = arguments.has("--purge");
  if (purge && !soft)
    throw Error(Code::unsupported, "provider '" + provider + "' (plugin " +
                                       store.plugin_of(provider) +
                                       ") deletes for good on rm: there is nothing to purge; "
                                       "nothing was removed (run 'coffer rm " +
                                       key + "' without --purge)");
  if (ask) {
    // What goes is said exactly: the provider a write goes to and its own
    // name for the key, as remove() will find them, and how many versions.
    std::string name = store.key_name(key, provider);
    std::string versions = "every version the provider keeps of it";
    if (features.has_history) {
      try {
        std::size_t count = store.versions_from(provider, key).size();
        versions = "all " + std::to_string(count) + (count == 1 ? " version" : " versions") +
                   " the provider keeps of it";
      } catch (const Error &) {
        // A key the provider does not hold: remove() says so below.
      }
    }
    // The provider's name is its own: escaped, so it cannot move the cursor.
    std::string what = "This removes " + key + " from provider '" + provider +
                       "' (its name there: " + name + "), with " + versions + ".";
    if (purge)
      what += " It is then purged: the backend keeps no recoverable copy.";
    else if (soft)
      what += " The backend keeps it recoverable until purged (--purge).";
    if (!confirm(escape_controls(what) + "\nRemove it? [y/N] ")) {
      print_error("rm: not confirmed; " + key + " was not removed");
      return exit_declined;
    }
  }
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
