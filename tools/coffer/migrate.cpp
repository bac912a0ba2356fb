// migrate: copies secrets from one provider to another and proves each copy.
//
// Every key is read from the source and from the target; a key whose target
// value is already equal is skipped, anything else is written and read back.
// Equality is decided on keyed digests (HMAC-SHA-256 under a key drawn at
// random for this run), so no value is ever compared, printed or logged as
// text, and a digest seen by someone else tells them nothing. Because each
// provider's write is atomic and every run re-checks every key, a run killed
// at any point is completed by the next one.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <coffer/catalog.hpp>
#include <coffer/plugins.hpp>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <set>

#include "commands.hpp"
#include "exit_status.hpp"
#include "output.hpp"
#include "policy_edit.hpp"

namespace coffer::cli {
namespace json = boost::json;

namespace {

using Digest = std::array<unsigned char, 32>;

// HMAC-SHA-256 under a key that exists only in this process, in locked memory.
class KeyedDigest {
 public:
  KeyedDigest() {
    std::array<unsigned char, 32> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
      throw Error(Code::internal, "cannot draw a random digest key");
    key_ = Secret::copy_of(std::span<const unsigned char>(bytes));
    OPENSSL_cleanse(bytes.data(), bytes.size());
  }
  [[nodiscard]] Digest of(const Secret &value) const {
    Digest out{};
    std::size_t size = 0;
    auto key = key_.bytes();
    auto data = value.bytes();
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(), data.data(),
                  data.size(), out.data(), out.size(), &size) == nullptr)
      throw Error(Code::internal, "cannot compute a keyed digest");
    return out;
  }
  static bool equal(const Digest &a, const Digest &b) {
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
  }

 private:
  Secret key_;
};

enum class Status { copied, equal, would_copy, absent, failed };

const char *name_of(Status status) {
  switch (status) {
    case Status::copied:
      return "copied";
    case Status::equal:
      return "skipped";
    case Status::would_copy:
      return "would_copy";
    case Status::absent:
      return "absent";
    case Status::failed:
      return "failed";
  }
  return "failed";
}

struct Outcome {
  std::string key;
  Status status = Status::failed;
  std::string note;  // why, never a value
};

struct Plan {
  std::string from;
  std::string to;
  std::vector<std::string> categories;
  std::vector<std::string> keys;
  bool dry_run = false;
};

// Keys to consider: the catalog's and whatever the source lists, narrowed to
// the categories and keys asked for.
std::vector<std::string> keys_to_migrate(Store &store, const Plan &plan, bool quiet) {
  std::set<std::string> candidates;
  std::shared_ptr<const Catalog> catalog = store.catalog();
  for (const auto &entry : catalog->entries()) candidates.insert(entry.key);
  try {
    for (const auto &entry : store.list(plan.from))
      if (!entry.key.empty()) candidates.insert(entry.key);
  } catch (const Error &e) {
    if (e.code() != Code::unsupported) throw;
    print_note(
        "provider '" + plan.from + "' cannot list its entries; only catalog keys are considered",
        quiet);
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

Outcome migrate_key(Store &store, const Plan &plan, const KeyedDigest &digest,
                    const std::string &key) {
  Outcome out;
  out.key = key;
  GetOptions options;
  options.caller = "coffer:migrate";
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
    store.put_to(plan.to, key, source.secret, "coffer:migrate");
  } catch (const Error &e) {
    out.note = e.what();
    return out;
  }
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
  out.note = target.ok() ? "replaced a different value" : "";
  return out;
}

// "[=========>          ] 12/30  VCS" on a terminal's stderr, redrawn in place.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}
  void show(std::size_t done, std::size_t total, std::string_view category) const {
    if (!enabled_ || total == 0) return;
    constexpr std::size_t width = 30;
    std::size_t filled = done * width / total;
    std::string bar(filled, '=');
    if (filled < width) bar += '>';
    bar.resize(width, ' ');
    std::fprintf(stderr, "\r\033[Kmigrate [%s] %zu/%zu  %.*s", bar.c_str(), done, total,
                 static_cast<int>(category.size()), category.data());
    std::fflush(stderr);
  }
  void clear() const {
    if (!enabled_) return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }

 private:
  bool enabled_;
};

struct PolicyUpdate {
  bool attempted = false;
  bool updated = false;
  std::vector<std::string> done;
  std::string refusal;
  std::string instructions;
};

// An edit that was possible but could not be applied: the change to make by
// hand is the edit's own lines.
PolicyUpdate refused(std::string why, const PolicyEdit &edit) {
  PolicyUpdate update;
  update.attempted = true;
  update.refusal = std::move(why);
  update.instructions = edit.instructions;
  for (const auto &line : edit.done)
    update.instructions += (update.instructions.empty() ? "" : "\n") + line;
  return update;
}

// Routes what was migrated to the target by a targeted edit of the policy
// file, validated by loading the edited policy before it replaces the file.
PolicyUpdate update_policy(const Invocation &invocation, const Plan &plan,
                           const std::vector<Outcome> &outcomes) {
  PolicyUpdate update;
  update.attempted = true;
  std::vector<RouteChange> changes;
  std::vector<std::string> categories = plan.categories;
  if (plan.categories.empty() && plan.keys.empty()) {
    std::set<std::string> seen;
    for (const auto &o : outcomes)
      if (o.status == Status::copied || o.status == Status::equal)
        seen.insert(std::string(category_of(o.key)));
    categories.assign(seen.begin(), seen.end());
  }
  for (const auto &c : categories)
    changes.push_back({RouteChange::Target::category, c, plan.from, plan.to});
  for (const auto &k : plan.keys)
    changes.push_back({RouteChange::Target::key, k, plan.from, plan.to});
  if (changes.empty()) {
    update.refusal = "nothing was migrated, so no route changes";
    return update;
  }
  std::filesystem::path file = invocation.policy_location().file;
  std::string text = read_policy_file(file);
  PolicyEdit edit = edit_routes(file.string(), text, changes);
  if (!edit.possible) {
    update.refusal = edit.refusal;
    update.instructions = edit.instructions;
    return update;
  }
  update.done = edit.done;
  if (edit.text == text) return update;  // already routed there
  try {
    // The edited policy must load (every provider opens) before it goes live.
    StoreOptions options = invocation.store_options();
    options.log_level = LogLevel::error;
    Store check =
        Store::from_string(edit.text, options, std::filesystem::absolute(file).parent_path());
  } catch (const Error &e) {
    return refused(std::string("the edited policy does not load: ") + e.what(), edit);
  }
  try {
    replace_file_atomically(file, edit.text);
  } catch (const std::exception &e) {
    return refused(e.what(), edit);
  }
  update.updated = true;
  return update;
}

}  // namespace

int run_migrate(Invocation &invocation, const Arguments &arguments) {
  Plan plan;
  plan.from = arguments.value("--from").value_or("");
  plan.to = arguments.value("--to").value_or("");
  if (plan.from.empty() || plan.to.empty())
    throw UsageError("migrate", "migrate needs --from PROVIDER and --to PROVIDER");
  if (plan.from == plan.to) throw UsageError("migrate", "--from and --to name the same provider");
  plan.categories = arguments.values("--category");
  plan.keys = arguments.values("--key");
  plan.dry_run = arguments.has("--dry-run");
  bool as_json = arguments.has("--json");
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

  Store store = invocation.open_store();
  require_known_provider(store, plan.from, "--from");
  require_known_provider(store, plan.to, "--to");

  KeyedDigest digest;
  std::vector<std::string> keys = keys_to_migrate(store, plan, invocation.globals.quiet);
  Progress progress(!as_json && !invocation.globals.quiet && ::isatty(STDERR_FILENO) == 1);
  std::vector<Outcome> outcomes;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    progress.show(i, keys.size(), category_of(keys[i]));
    outcomes.push_back(migrate_key(store, plan, digest, keys[i]));
  }
  progress.show(keys.size(), keys.size(), "");
  progress.clear();

  std::size_t counts[5] = {};
  for (const auto &o : outcomes) ++counts[static_cast<int>(o.status)];
  std::size_t failed = counts[static_cast<int>(Status::failed)];

  PolicyUpdate update;
  if (arguments.has("--update-policy")) {
    if (failed > 0) {
      update.attempted = true;
      update.refusal = "not updating the policy: " + std::to_string(failed) + " key(s) failed";
    } else {
      update = update_policy(invocation, plan, outcomes);
    }
  }

  if (as_json) {
    json::array rows;
    for (const auto &o : outcomes)
      rows.push_back(json::object{{"key", o.key}, {"status", name_of(o.status)}, {"note", o.note}});
    json::object summary{{"from", plan.from},
                         {"to", plan.to},
                         {"dry_run", plan.dry_run},
                         {"copied", counts[static_cast<int>(Status::copied)]},
                         {"skipped", counts[static_cast<int>(Status::equal)]},
                         {"would_copy", counts[static_cast<int>(Status::would_copy)]},
                         {"absent", counts[static_cast<int>(Status::absent)]},
                         {"failed", failed},
                         {"keys", std::move(rows)}};
    if (update.attempted) {
      json::array done;
      for (const auto &d : update.done) done.push_back(json::value(d));
      summary["policy"] = json::object{{"updated", update.updated},
                                       {"changes", std::move(done)},
                                       {"refusal", update.refusal},
                                       {"instructions", update.instructions}};
    }
    print_json(summary);
  } else {
    Table table({"KEY", "STATUS", "NOTE"});
    for (const auto &o : outcomes) table.add({o.key, name_of(o.status), o.note});
    table.print(stdout);
    std::string would =
        plan.dry_run
            ? std::to_string(counts[static_cast<int>(Status::would_copy)]) + " would be copied, "
            : std::string();
    std::printf("%s -> %s: %zu copied, %zu already equal, %s%zu not in %s, %zu failed\n",
                plan.from.c_str(), plan.to.c_str(), counts[static_cast<int>(Status::copied)],
                counts[static_cast<int>(Status::equal)], would.c_str(),
                counts[static_cast<int>(Status::absent)], plan.from.c_str(), failed);
    if (update.updated)
      for (const auto &d : update.done) std::printf("policy: %s\n", d.c_str());
    else if (update.attempted && update.refusal.empty())
      std::printf("policy: already routes to %s; unchanged\n", plan.to.c_str());
  }
  if (update.attempted && !update.updated && !update.refusal.empty()) {
    print_error("the policy was not changed: " + update.refusal);
    if (!update.instructions.empty())
      std::fprintf(stderr, "Make this change by hand:\n%s\n", update.instructions.c_str());
  }
  if (failed > 0) return exit_failure;
  if (update.attempted && !update.updated && !update.refusal.empty()) return exit_failure;
  return exit_success;
}

}  // namespace coffer::cli
