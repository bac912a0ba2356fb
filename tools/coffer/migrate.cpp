// migrate: copies secrets from one provider to another and proves each copy.
//
// Every key is read from the source and from the target; a key whose target
// value is already equal is skipped, anything else is written and read back.
// Equality is decided on keyed digests (HMAC-SHA-256 under a key drawn at
// random for this run), so no value is ever compared, printed or logged as
// text, and a digest seen by someone else tells them nothing. Because each
// provider's write is atomic and every run re-checks every key, a run killed
// at any point is completed by the next one.
#include <coffer/catalog.hpp>

#include <boost/json.hpp>
#include <cstdio>

#include "commands.hpp"
#include "exit_status.hpp"
#include "migration.hpp"
#include "output.hpp"
#include "progress.hpp"

namespace coffer::cli {
namespace json = boost::json;

namespace {

// The plan the options describe, checked before anything is opened.
MigrationPlan plan_of(const Arguments &arguments) {
  MigrationPlan plan;
  plan.from = arguments.value("--from").value_or("");
  plan.to = arguments.value("--to").value_or("");
  if (plan.from.empty() || plan.to.empty())
    throw UsageError("migrate", "migrate needs --from PROVIDER and --to PROVIDER");
  if (plan.from == plan.to) throw UsageError("migrate", "--from and --to name the same provider");
  plan.categories = arguments.values("--category");
  plan.keys = arguments.values("--key");
  plan.dry_run = arguments.has("--dry-run");
  for (const auto &key : plan.keys)
    if (!is_canonical_key(key))
      throw UsageError("migrate",
                       "a --key is not a key name: expected Category.Name, such as "
                       "VCS.GithubAdminPAT (it is not repeated here in case it is a value)");
  for (const auto &category : plan.categories)
    if (!is_canonical_key(category + ".Name"))
      throw UsageError("migrate",
                       "a --category is not a category name: expected letters and digits, "
                       "starting with a letter, such as VCS (it is not repeated here in case it "
                       "is a value)");
  if (arguments.has("--update-policy") && plan.dry_run)
    throw UsageError("migrate", "--update-policy cannot be combined with --dry-run");
  return plan;
}

// Copies (or, on a dry run, compares) every key of the plan, showing
// progress on a terminal.
std::vector<MigrationOutcome> migrate_keys(Store &store, const MigrationPlan &plan, bool quiet,
                                           bool as_json) {
  KeyedDigest digest;
  std::vector<std::string> keys =
      keys_to_migrate(store, plan, [quiet](const std::string &note) { print_note(note, quiet); });
  Progress progress("migrate", Progress::wanted(as_json, quiet));
  std::vector<MigrationOutcome> outcomes;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    progress.show(i, keys.size(), category_of(keys[i]));
    outcomes.push_back(migrate_key(store, plan, digest, keys[i]));
  }
  progress.show(keys.size(), keys.size(), "");
  progress.clear();
  return outcomes;
}

// With --update-policy, routes the migrated categories and keys to plan.to,
// unless a key failed: then the values this run replaced are written back.
PolicyUpdate update_policy(Invocation &invocation, Store &store, const MigrationPlan &plan,
                           std::vector<MigrationOutcome> &outcomes, std::size_t failed) {
  PolicyUpdate update;
  if (failed > 0) {
    update.attempted = true;
    update.refusal = "not updating the policy: " + std::to_string(failed) + " key(s) failed";
    // No switch, so no overwrite either (the notes say what was restored).
    if (undo_replacements(store, plan, outcomes) > 0)
      update.refusal += "; some values it replaced in " + plan.to + " could not be written back";
    return update;
  }
  return update_policy_file(invocation.policy_location().file, route_changes(plan, outcomes),
                            invocation.store_options(), true);
}

void print_json_report(const MigrationPlan &plan, const std::vector<MigrationOutcome> &outcomes,
                       const MigrationTally &tally, const PolicyUpdate &update) {
  json::array rows;
  for (const auto &o : outcomes)
    rows.push_back(json::object{{"key", o.key}, {"status", name_of(o.status)}, {"note", o.note}});
  json::object summary{
      {"from", plan.from},      {"to", plan.to},          {"dry_run", plan.dry_run},
      {"copied", tally.copied}, {"skipped", tally.equal}, {"would_copy", tally.would_copy},
      {"absent", tally.absent}, {"failed", tally.failed}, {"keys", std::move(rows)}};
  if (update.attempted) {
    json::array done;
    for (const auto &d : update.done) done.push_back(json::value(d));
    summary["policy"] = json::object{{"updated", update.updated},
                                     {"changes", std::move(done)},
                                     {"refusal", update.refusal},
                                     {"instructions", update.instructions}};
  }
  print_json(summary);
}

void print_table_report(const MigrationPlan &plan, const std::vector<MigrationOutcome> &outcomes,
                        const MigrationTally &tally, const PolicyUpdate &update) {
  Table table({"KEY", "STATUS", "NOTE"});
  for (const auto &o : outcomes) table.add({o.key, name_of(o.status), o.note});
  table.print(stdout);
  std::string would =
      plan.dry_run ? std::to_string(tally.would_copy) + " would be copied, " : std::string();
  std::printf("%s -> %s: %zu copied, %zu already equal, %s%zu not in %s, %zu failed\n",
              plan.from.c_str(), plan.to.c_str(), tally.copied, tally.equal, would.c_str(),
              tally.absent, plan.from.c_str(), tally.failed);
  if (update.updated)
    for (const auto &d : update.done) std::printf("policy: %s\n", d.c_str());
  else if (update.attempted && update.refusal.empty())
    std::printf("policy: already routes to %s; unchanged\n", plan.to.c_str());
}

// Whether the policy was to be changed and was refused.
bool policy_refused(const PolicyUpdate &update) {
  return update.attempted && !update.updated && !update.refusal.empty();
}

}  // namespace

int run_migrate(Invocation &invocation, const Arguments &arguments) {
  const MigrationPlan plan = plan_of(arguments);
  const bool as_json = arguments.has("--json");

  Store store = invocation.open_store();
  require_known_provider(store, plan.from, "--from");
  require_known_provider(store, plan.to, "--to");

  std::vector<MigrationOutcome> outcomes =
      migrate_keys(store, plan, invocation.globals.quiet, as_json);
  const MigrationTally tally(outcomes);

  PolicyUpdate update;
  if (arguments.has("--update-policy"))
    update = update_policy(invocation, store, plan, outcomes, tally.failed);

  if (as_json)
    print_json_report(plan, outcomes, tally, update);
  else
    print_table_report(plan, outcomes, tally, update);
  if (policy_refused(update)) {
    print_error("the policy was not changed: " + update.refusal);
    if (!update.instructions.empty())
      std::fprintf(stderr, "Make this change by hand:\n%s\n", update.instructions.c_str());
  }
  return tally.failed > 0 || policy_refused(update) ? exit_failure : exit_success;
}

}  // namespace coffer::cli
