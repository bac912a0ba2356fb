// What every command works with: the global options, where the policy comes
// from, and how to open the Store it describes.
#ifndef COFFER_CLI_INVOCATION_HPP
#define COFFER_CLI_INVOCATION_HPP

#include <coffer/store.hpp>

#include <filesystem>
#include <string>

#include "command_line.hpp"
#include "policy_location.hpp"

namespace coffer::cli {

using tools::PolicyLocation;

struct Invocation {
  GlobalOptions globals;

  // --policy, else $COFFER_POLICY, else ./coffer.json.
  [[nodiscard]] PolicyLocation policy_location() const;
  // Opens the Store of the policy. Throws coffer::Error (invalid_config when
  // the policy file is missing, with the rule that chose it).
  [[nodiscard]] Store open_store() const;
  [[nodiscard]] Store open_store(StoreOptions options) const;
  // For commands that only read the policy (catalog, keyname, explain): a
  // provider that fails to open is isolated whatever the policy says.
  [[nodiscard]] Store open_store_to_read() const;
  [[nodiscard]] StoreOptions store_options() const;
};

}  // namespace coffer::cli

#endif  // COFFER_CLI_INVOCATION_HPP
