// The machinery behind `coffer migrate`, shared with the admin panel's
// storage switch: copy a key from one provider to another and prove the copy,
// then re-route what moved by a targeted, comment-keeping, atomic edit of the
// policy file that is validated (the edited policy must load) before it
// replaces the file.
//
// Equality is decided on keyed digests (HMAC-SHA-256 under a key drawn at
// random per KeyedDigest), so no value is ever compared, printed or logged as
// text. Because each provider's write is atomic and every run re-checks every
// key, a run stopped at any point is completed by the next one.
//
// Nothing here keeps state beyond its arguments: calls for different plans
// may run on many threads at once. Every function blocks on the Store.
#ifndef COFFER_CLI_MIGRATION_HPP
#define COFFER_CLI_MIGRATION_HPP

#include <coffer/store.hpp>

#include <array>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "policy_edit.hpp"

namespace coffer::cli {

using Digest = std::array<unsigned char, 32>;

// HMAC-SHA-256 under a key that exists only in this object, in locked memory.
class KeyedDigest {
 public:
  KeyedDigest();  // throws Error(internal) when no random key can be drawn
  [[nodiscard]] Digest of(const Secret &value) const;
  static bool equal(const Digest &a, const Digest &b);

 private:
  Secret key_;
};

enum class MigrationStatus { copied, equal, would_copy, absent, failed };
// "copied", "skipped", "would_copy", "absent", "failed".
const char *name_of(MigrationStatus status);

struct MigrationOutcome {
  std::string key;
  MigrationStatus status = MigrationStatus::failed;
  std::string note;  // why, never a value
  // What plan.to held before this run wrote over it (nothing when the key was
  // new there or not written): what undo_replacements writes back.
  std::optional<Secret> replaced;
};

// How many keys ended in each status.
struct MigrationTally {
  std::size_t copied = 0;
  std::size_t equal = 0;
  std::size_t would_copy = 0;
  std::size_t absent = 0;
  std::size_t failed = 0;

  MigrationTally() = default;
  explicit MigrationTally(const std::vector<MigrationOutcome> &outcomes);
};

struct MigrationPlan {
  std::string from;
  std::string to;
  std::vector<std::string> categories;  // empty with `keys` empty: everything
  std::vector<std::string> keys;
  bool dry_run = false;
  std::string caller = "coffer:migrate";  // the identity the audit log records
};

// Keys to consider: the catalog's and whatever the source lists, narrowed to
// the categories and keys asked for. `note` receives remarks for the user
// (a source that cannot list).
std::vector<std::string> keys_to_migrate(Store &store, const MigrationPlan &plan,
                                         const std::function<void(const std::string &)> &note);

// Copies one key from plan.from to plan.to (unless equal there already or a
// dry run) and reads it back to prove the copy.
MigrationOutcome migrate_key(Store &store, const MigrationPlan &plan, const KeyedDigest &digest,
                             const std::string &key);

// Undoes the overwrites of a switch that failed part-way and so will not
// re-route: each value in `outcomes` that replaced a different one in plan.to
// is replaced by the old one again (a provider that keeps history keeps both
// as versions). Keys that were new in plan.to stay there, unrouted: deleting
// them could not restore a vault with soft delete (the name stays reserved
// until purged). Each restored key's note says so; returns the number of keys
// whose old value could not be written back (their notes say why). Drops
// every `replaced` value either way.
std::size_t undo_replacements(Store &store, const MigrationPlan &plan,
                              std::vector<MigrationOutcome> &outcomes);

// The route changes that send what the plan moved to plan.to: its categories
// and keys, or (for a plan of everything) the categories of the keys copied
// or already equal.
std::vector<RouteChange> route_changes(const MigrationPlan &plan,
                                       const std::vector<MigrationOutcome> &outcomes);

struct PolicyUpdate {
  bool attempted = false;
  bool updated = false;           // the file was replaced
  std::vector<std::string> done;  // one line per change: `coffer.json:14: routes.VCS: ...`
  std::string refusal;            // why the file was not changed (empty: nothing to change)
  std::string instructions;       // the change to make by hand when refused
  std::string old_text;           // the file before
  std::string new_text;           // the edited text (== old_text when unchanged or refused)
};

// Edits the policy `file` by `changes`. With `apply` false only computes the
// edit (a preview); with `apply` true the edited policy must load under
// `check_options` (every provider opens) before it atomically replaces the
// file. Never leaves the file half-changed.
PolicyUpdate update_policy_file(const std::filesystem::path &file,
                                const std::vector<RouteChange> &changes,
                                const StoreOptions &check_options, bool apply);

}  // namespace coffer::cli

#endif  // COFFER_CLI_MIGRATION_HPP
