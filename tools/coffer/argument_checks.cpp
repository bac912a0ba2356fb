// Checks of the keys and provider names given on the command line, made
// before anything is asked of a provider. An argument is repeated in a
// message only when it has the shape of what was expected: anything else may
// be a secret value typed in the wrong place.
#include <coffer/catalog.hpp>

#include <algorithm>

#include "commands.hpp"
#include "exit_status.hpp"

namespace coffer::cli {

void require_key_shape(const std::string &command, const std::string &key, std::string_view hint) {
  if (is_canonical_key(key)) return;
  throw UsageError(command, "the argument of " + command +
                                " must be a key name such as VCS.GithubAdminPAT (it is not "
                                "repeated here in case it is a value)" +
                                std::string(hint));
}

void require_known_key(const Store &store, const std::string &key) {
  std::shared_ptr<const Catalog> catalog = store.catalog();
  if (catalog->contains(key)) return;
  // No nearest name is offered for an argument of another shape either: it
  // would say something about the argument.
  if (!is_canonical_key(key))
    throw Error(Code::invalid_argument,
                "an argument is not a key name: expected Category.Name, such as "
                "VCS.GithubAdminPAT (it is not repeated here in case it is a value)");
  std::string message = "no catalog has the key '" + key + "'";
  if (auto near = catalog->nearest(key)) message += "; did you mean '" + *near + "'?";
  message += " (run 'coffer catalog' for the known keys)";
  throw Error(Code::invalid_argument, message);
}

void require_known_provider(const Store &store, const std::string &name, std::string_view role) {
  std::vector<std::string> providers = store.providers();
  if (std::find(providers.begin(), providers.end(), name) != providers.end()) return;
  std::string known;
  for (const auto &p : providers) known += (known.empty() ? "" : ", ") + p;
  auto near = nearest_name(name, providers);
  throw Error(Code::invalid_argument,
              std::string(role) + " names no provider of the policy (it has: " + known + ")" +
                  (near ? "; did you mean '" + *near + "'?" : std::string()));
}

}  // namespace coffer::cli
