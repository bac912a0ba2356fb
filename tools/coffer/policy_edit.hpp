// Targeted edits of a policy file for `coffer migrate --update-policy`: after
// secrets moved from provider P to provider Q, re-route a category or a key to
// Q, keeping every other byte of the file (comments, whitespace, member order).
// Nothing here keeps state: any function may be called from many threads.
#ifndef COFFER_CLI_POLICY_EDIT_HPP
#define COFFER_CLI_POLICY_EDIT_HPP

#include <string>
#include <string_view>
#include <vector>

// Callers write the edited text back with replace_file_atomically.
#include "atomic_file.hpp"

namespace coffer::cli {

// One re-routing: afterwards `name` is served by `to` where it was served by
// `from`.
struct RouteChange {
  enum class Target { category, key };
  Target target = Target::category;
  std::string name;  // category name ("VCS", or "*") or canonical key ("VCS.GithubAdminPAT")
  std::string from;  // provider P
  std::string to;    // provider Q
};

struct PolicyEdit {
  bool possible =
      false;         // false: refused; `refusal` says why, `instructions` what to change by hand
  std::string text;  // the edited file text (== input when nothing needed changing or refused)
  std::vector<std::string>
      done;             // one line per change made: `coffer.json:14: routes.VCS: "db" -> "vault"`
  std::string refusal;  // "coffer.json:14:12: routes.VCS does not name ..."
  std::string instructions;  // the changes to make by hand, member by member
};

// Applies `changes` in order to the policy `text` (JSON with comments and
// trailing commas) and returns the new text. For a category C, `routes.C` is
// re-routed (or `"C": to` added when routes has no C member), and so is every
// `keys` entry of C that names `from`; for a key K, `keys.K` is (or `"K": to`
// is added, with a `keys` object after `routes` when there is none). A chain
// that already names `to` loses `from` instead of naming `to` twice; one that
// names `to` but not `from` is left alone, so a second run changes nothing.
// Anything unexpected (a syntax error, no routes, an odd chain shape, an
// escape sequence in the literal to replace, duplicate members) is refused
// with the text unchanged, and the result is never a text that does not
// parse. `source_name` names the file in messages. Does not throw for
// problems in the text or the changes (std::bad_alloc aside).
PolicyEdit edit_routes(std::string_view source_name, std::string_view text,
                       const std::vector<RouteChange> &changes);

}  // namespace coffer::cli

#endif  // COFFER_CLI_POLICY_EDIT_HPP
