// Where a tool finds its policy file, and how it opens the Store of that
// policy: one rule for `coffer` and the credential helpers (docs/cli.md,
// "Choosing the policy").
#ifndef COFFER_TOOLS_POLICY_LOCATION_HPP
#define COFFER_TOOLS_POLICY_LOCATION_HPP

#include <coffer/store.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace coffer::tools {

// Where the policy file was found, and by which rule.
struct PolicyLocation {
  std::filesystem::path file;
  std::string origin;            // "--policy", "COFFER_POLICY" or "the default"
  bool explicit_choice = false;  // named by --policy or COFFER_POLICY
};

// `option` (the --policy value) when given, else $COFFER_POLICY when set and
// not empty, else ./coffer.json.
PolicyLocation locate_policy(const std::optional<std::string> &option);

// Opens the Store of the policy at `where`. Throws coffer::Error: a missing
// file is invalid_config naming the rule that chose it, anything else as
// Store::open throws.
Store open_policy(const PolicyLocation &where, StoreOptions options);

}  // namespace coffer::tools

#endif  // COFFER_TOOLS_POLICY_LOCATION_HPP
