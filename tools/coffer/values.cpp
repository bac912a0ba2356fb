// get, put and rm: the commands that move secret values. Only `get` ever
// writes a value, and only to standard output.
#include <unistd.h>
#include <coffer/catalog.hpp>

#include <cerrno>
#include <cstring>

#include "commands.hpp"
#include "exit_status.hpp"
#include "output.hpp"
#include "secret_input.hpp"

namespace coffer::cli {
namespace {

// Writes with write(2), so that no stdio buffer keeps a copy of the value.
void write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw Error(Code::internal,
                  std::string("cannot write to standard output: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

void require_known_key(const Store &store, const std::string &key) {
  std::shared_ptr<const Catalog> catalog = store.catalog();
  if (catalog->contains(key)) return;
  std::string message = is_canonical_key(key)
                            ? "no catalog has the key '" + key + "'"
                            : "'" + key + "' is not a key name: expected Category.Name";
  if (auto near = catalog->nearest(key)) message += "; did you mean '" + *near + "'?";
  message += " (run 'coffer catalog' for the known keys)";
  throw Error(Code::invalid_argument, message);
}

int run_get(Invocation &invocation, const Arguments &arguments) {
  Store store = invocation.open_store();
  GetOptions options;
  std::optional<std::string> version = arguments.value("--version-id");
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
  if (!is_canonical_key(key))
    throw UsageError("put",
                     "the argument of put must be a key name such as VCS.GithubAdminPAT (it is "
                     "not repeated here in case it is a value); put reads the value from "
                     "standard input");
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
  Store store = invocation.open_store();
  store.remove(arguments.positionals.at(0));
  return exit_success;
}

}  // namespace coffer::cli
