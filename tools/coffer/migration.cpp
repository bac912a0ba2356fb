#include "migration.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <coffer/catalog.hpp>
#include <coffer/plugins.hpp>

#include <algorithm>
#include <set>

namespace coffer::cli {

KeyedDigest::KeyedDigest() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw Error(Code::internal, "cannot draw a random digest key");
  key_ = Secret::copy_of(std::span<const unsigned char>(bytes));
  OPENSSL_cleanse(bytes.data(), bytes.size());
}

Digest KeyedDigest::of(const Secret &value) const {
  Digest out{};
  std::size_t size = 0;
  auto key = key_.bytes();
  auto data = value.bytes();
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(), data.data(),
                data.size(), out.data(), out.size(), &size) == nullptr)
    throw Error(Code::internal, "cannot compute a keyed digest");
  return out;
}

bool KeyedDigest::equal(const Digest &a, const Digest &b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

const char *name_of(MigrationStatus status) {
  switch (status) {
    case MigrationStatus::copied:
      return "copied";
    case MigrationStatus::equal:
      return "skipped";
    case MigrationStatus::would_copy:
      return "would_copy";
    case MigrationStatus::absent:
      return "absent";
    case MigrationStatus::failed:
      return "failed";
  }
  return "failed";
}

std::vector<std::string> keys_to_migrate(Store &store, const MigrationPlan &plan,
                                         const std::function<void(const std::string &)> &note) {
  std::set<std::string> candidates;
  std::shared_ptr<const Catalog> catalog = store.catalog();
  for (const auto &entry : catalog->entries()) candidates.insert(entry.key);
  try {
    for (const auto &entry : store.list(plan.from))
      if (!entry.key.empty()) candidates.insert(entry.key);
  } catch (const Error &e) {
    if (e.code() != Code::unsupported) throw;
    if (note)
      note("provider '" + plan.from +
           "' cannot list its entries; only catalog keys are considered");
  }
  for (const auto &key : plan.keys) candidates.insert(key);
  std::vector<std::string> out;
  bool everything = plan.categories.empty() && plan.keys.empty();
  for (const auto &key : candidates) {
    std::string category(category_of(key));
    bool wanted = everything ||
                  std::find(plan.keys.begin(), plan.keys.end(), key) != plan.keys.end() ||
                  std::find(plan.categories.begin(), plan.categories.end(), category) !=
                      plan.categories.end();
    if (wanted) out.push_back(key);
  }
  return out;
}

MigrationOutcome migrate_key(Store &store, const MigrationPlan &plan, const KeyedDigest &digest,
                             const std::string &key) {
  using Status = MigrationStatus;
  MigrationOutcome out;
  out.key = key;
  GetOptions options;
  options.caller = plan.caller;
  Result source = store.get_from(plan.from, key, options);
  if (source.code == Code::not_found) {
    out.status = Status::absent;
    out.note = "not in " + plan.from;
    return out;
  }
  if (!source.ok()) {
    out.note = source.message;
    return out;
  }
  Digest wanted = digest.of(source.secret);
  Result target = store.get_from(plan.to, key, options);
  if (target.ok() && KeyedDigest::equal(digest.of(target.secret), wanted)) {
    out.status = Status::equal;
    out.note = "already equal in " + plan.to;
    return out;
  }
  if (!target.ok() && target.code != Code::not_found) {
    out.note = target.message;
    return out;
  }
  if (plan.dry_run) {
    out.status = Status::would_copy;
    out.note = target.ok() ? "differs in " + plan.to : "not in " + plan.to;
    return out;
  }
  try {
    store.put_to(plan.to, key, source.secret, plan.caller);
  } catch (const Error &e) {
    out.note = e.what();
    return out;
  }
  if (target.ok()) out.replaced = std::move(target.secret);
  Result check = store.get_from(plan.to, key, options);
  if (!check.ok()) {
    out.note = "written, but reading it back failed: " + check.message;
    return out;
  }
  if (!KeyedDigest::equal(digest.of(check.secret), wanted)) {
    out.note = "written, but " + plan.to + " returns a different value";
    return out;
  }
  out.status = Status::copied;
  out.note = out.replaced ? "replaced a different value" : "";
  return out;
}

MigrationTally::MigrationTally(const std::vector<MigrationOutcome> &outcomes) {
  for (const auto &outcome : outcomes) {
    switch (outcome.status) {
      case MigrationStatus::copied:
        ++copied;
        break;
      case MigrationStatus::equal:
        ++equal;
        break;
      case MigrationStatus::would_copy:
        ++would_copy;
        break;
      case MigrationStatus::absent:
        ++absent;
        break;
      case MigrationStatus::failed:
        ++failed;
        break;
    }
  }
}

std::size_t undo_replacements(Store &store, const MigrationPlan &plan,
                              std::vector<MigrationOutcome> &outcomes) {
  std::size_t failed = 0;
  for (auto &outcome : outcomes) {
    if (!outcome.replaced) continue;
    std::string why;
    try {
      store.put_to(plan.to, outcome.key, *outcome.replaced, plan.caller);
    } catch (const Error &e) {
      why = e.what();
    }
    outcome.replaced.reset();
    if (!why.empty()) {
      ++failed;
      outcome.note += (outcome.note.empty() ? "" : "; ") +
                      ("its previous value in " + plan.to + " could not be written back: " + why);
      continue;
    }
    outcome.note += (outcome.note.empty() ? "" : "; ") +
                    ("its previous value in " + plan.to + " was written back");
  }
  return failed;
}

std::vector<RouteChange> route_changes(const MigrationPlan &plan,
                                       const std::vector<MigrationOutcome> &outcomes) {
  std::vector<RouteChange> changes;
  std::vector<std::string> categories = plan.categories;
  if (plan.categories.empty() && plan.keys.empty()) {
    std::set<std::string> seen;
    for (const auto &o : outcomes)
      if (o.status == MigrationStatus::copied || o.status == MigrationStatus::equal)
        seen.insert(std::string(category_of(o.key)));
    categories.assign(seen.begin(), seen.end());
  }
  for (const auto &c : categories)
    changes.push_back({RouteChange::Target::category, c, plan.from, plan.to});
  for (const auto &k : plan.keys)
    changes.push_back({RouteChange::Target::key, k, plan.from, plan.to});
  return changes;
}

namespace {

// An edit that was possible but could not be applied: the change to make by
// hand is the edit's own lines.
PolicyUpdate refused(std::string why, const PolicyEdit &edit, PolicyUpdate update) {
  update.refusal = std::move(why);
  update.instructions = edit.instructions;
  for (const auto &line : edit.done)
    update.instructions += (update.instructions.empty() ? "" : "\n") + line;
  update.new_text = update.old_text;
  return update;
}

}  // namespace

PolicyUpdate update_policy_file(const std::filesystem::path &file,
                                const std::vector<RouteChange> &changes,
                                const StoreOptions &check_options, bool apply) {
  PolicyUpdate update;
  update.attempted = true;
  if (changes.empty()) {
    update.refusal = "nothing was migrated, so no route changes";
    return update;
  }
  update.old_text = read_policy_file(file);
  update.new_text = update.old_text;
  PolicyEdit edit = edit_routes(file.string(), update.old_text, changes);
  if (!edit.possible) {
    update.refusal = edit.refusal;
    update.instructions = edit.instructions;
    return update;
  }
  update.done = edit.done;
  update.new_text = edit.text;
  if (!apply || edit.text == update.old_text) return update;  // a preview, or routed there already
  try {
    // The edited policy must load (every provider opens) before it goes live.
    StoreOptions options = check_options;
    options.log_level = LogLevel::error;
    options.observer = nullptr;
    options.watch_policy = false;
    Store check =
        Store::from_string(edit.text, options, std::filesystem::absolute(file).parent_path());
  } catch (const Error &e) {
    return refused(std::string("the edited policy does not load: ") + e.what(), edit, update);
  }
  try {
    replace_file_atomically(file, edit.text);
  } catch (const std::exception &e) {
    return refused(e.what(), edit, update);
  }
  update.updated = true;
  return update;
}

}  // namespace coffer::cli
