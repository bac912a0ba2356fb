#include "store/snapshot.hpp"

#include <unistd.h>

#include <algorithm>

#include "hosting/cache.hpp"

namespace coffer::detail {

ProviderInstance *Snapshot::instance(std::string_view name) const {
  auto it = by_name.find(std::string(name));
  return it == by_name.end() ? nullptr : it->second;
}

std::vector<IsolatedProvider> Snapshot::isolated() const {
  std::vector<IsolatedProvider> out;
  for (const auto &instance : instances)
    if (!instance->isolation().empty())
      out.push_back(IsolatedProvider{.provider = instance->name(), .error = instance->isolation()});
  return out;
}

Resolution Snapshot::resolve(const std::string &key) const {
  if (const Resolution *known = find(key)) return *known;
  Resolution r;
  if (!is_canonical_key(key)) {
    r.code = Code::invalid_argument;
    r.message = "'" + key + "' is not a key name: expected Category.Name";
    if (auto near = catalog->nearest(key)) r.message += " (did you mean '" + *near + "'?)";
    return r;
  }
  bool known = catalog->contains(key);
  if (!known && !allow_unknown_keys) {
    r.code = Code::invalid_argument;
    r.message = "no catalog has the key '" + key + "'";
    if (auto near = catalog->nearest(key))
      r.message += "; did you mean '" + *near + "'?";
    else
      r.message += "; add it to a catalog (see docs/policy.md, \"catalogs\")";
    return r;
  }
  std::string category(category_of(key));
  const Route *route = nullptr;
  if (auto it = policy.routes.find(category); it != policy.routes.end()) {
    route = &it->second;
    r.rule = "routes." + category;
  } else if (auto star = policy.routes.find("*"); star != policy.routes.end()) {
    route = &star->second;
    r.rule = "routes.*";
  }
  if (auto it = policy.keys.find(key); it != policy.keys.end()) {
    r.spec = &it->second;
    r.rule = "keys." + key;
  } else if (route != nullptr) {
    r.spec = &route->chain;
  } else {
    r.code = Code::invalid_config;
    r.message = policy.source + ": no route for category '" + category + "' (key " + key +
                ") and no \"*\" route";
    return r;
  }
  for (const auto &name : r.spec->providers) r.chain.push_back(instance(name));
  if (route != nullptr) {
    std::string where = r.rule.rfind("keys.", 0) == 0 ? "routes." + category : r.rule;
    if (std::find(route->deny.begin(), route->deny.end(), key) != route->deny.end()) {
      r.code = Code::denied;
      r.message = "the policy denies " + key + " (" + where + ".deny)";
    } else if (!route->allow.empty() &&
               std::find(route->allow.begin(), route->allow.end(), key) == route->allow.end() &&
               std::find(route->allow.begin(), route->allow.end(), "*") == route->allow.end()) {
      r.code = Code::denied;
      r.message = "the policy does not allow " + key + " (not in " + where + ".allow)";
    }
  }
  return r;
}

namespace {
// The policy's audit log: the previous snapshot's when its settings did not
// change, so that a reload neither reopens nor rotates it.
std::shared_ptr<AuditLog> audit_log(const AuditOptions &options, const SnapshotContext &context,
                                    const Snapshot *previous) {
  if (previous != nullptr && previous->audit) {
    const AuditOptions &old = previous->audit->options();
    if (old.file == options.file && old.max_bytes == options.max_bytes && old.keep == options.keep)
      return previous->audit;
  }
  Metrics *metrics = &context.metrics;
  return std::make_shared<AuditLog>(
      options,
      [logger = context.logger](LogLevel level, std::string_view line) {
        logger.log(level, std::string(line));
      },
      [metrics] { metrics->audit_write_failure(); });
}
// The instance for a provider: the previous snapshot's when its
// configuration did not change, else a new one. Throws Error naming the
// provider and where the policy declares it.
std::shared_ptr<ProviderInstance> open_instance(const ProviderSpec &spec, const Policy &policy,
                                                const std::vector<std::filesystem::path> &dirs,
                                                const SnapshotContext &context,
                                                const Snapshot *previous,
                                                const ProviderInstance::Services &services) {
  std::filesystem::path file;
  try {
    file = find_plugin(spec.plugin, dirs);
  } catch (const Error &e) {
    throw Error(e.code(), spec.where() + "provider '" + spec.name + "': " + e.what());
  }
  std::string identity = ProviderInstance::identity_of(spec, file);
  if (previous != nullptr) {
    for (const auto &old : previous->instances)
      if (old->identity() == identity) return old;
  }
  std::shared_ptr<PluginLibrary> library;
  std::string library_key = file.string() + '\n' + spec.sha256.value_or("");
  if (auto it = context.libraries.find(library_key); it != context.libraries.end()) {
    library = it->second;
  } else {
    try {
      library = PluginLibrary::load(file, spec.sha256, spec.plugin);
    } catch (const Error &e) {
      throw Error(e.code(), spec.where() + "provider '" + spec.name + "': " + e.what());
    }
    context.libraries[library_key] = library;
  }
  auto instance = ProviderInstance::open(library, spec, policy.base_directory, services);
  context.logger.debug("opened provider '" + spec.name + "' (plugin " + spec.plugin + ", " +
                       file.string() + ")");
  return instance;
}
}  // namespace

std::shared_ptr<Snapshot> build_snapshot(Policy policy, const SnapshotContext &context,
                                         const Snapshot *previous, std::uint64_t generation) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = generation;
  snapshot->allow_unknown_keys = context.options.allow_unknown_keys;
  snapshot->own_uid = static_cast<std::uint32_t>(::geteuid());
  auto catalog = std::make_shared<Catalog>();
  if (context.options.builtin_catalog && policy.builtin_catalog) *catalog = Catalog::builtin();
  for (const auto &file : context.options.catalogs) catalog->add_file(file);
  for (const auto &file : policy.catalogs) catalog->add_file(file);
  check_policy_keys(policy, *catalog, context.options.allow_unknown_keys);
  snapshot->catalog = std::move(catalog);

  snapshot->plugin_dirs = context.options.plugin_dirs;
  for (const auto &dir : policy.plugin_dirs) snapshot->plugin_dirs.push_back(dir);
  for (const auto &dir : default_plugin_dirs()) snapshot->plugin_dirs.push_back(dir);

  ProviderInstance::Services services{.logger = context.logger,
                                      .worker = context.worker,
                                      .deadlines = context.deadlines,
                                      .tracker = context.tracker,
                                      .answers = context.answers,
                                      .metrics = context.metrics,
                                      .clock = context.options.clock.get()};
  for (const auto &spec : policy.providers) {
    std::shared_ptr<ProviderInstance> instance;
    try {
      instance = open_instance(spec, policy, snapshot->plugin_dirs, context, previous, services);
    } catch (const Error &e) {
      if (!context.isolate_open_failures) throw;
      context.logger.error(std::string(e.what()) +
                           "; the provider is isolated: its routes answer unavailable");
      instance = ProviderInstance::isolated(spec, e.what(), services);
    }
    instance->cache().configure(policy.cache);
    snapshot->by_name[spec.name] = instance.get();
    snapshot->instances.push_back(std::move(instance));
  }
  if (policy.audit) snapshot->audit = audit_log(*policy.audit, context, previous);
  snapshot->policy = std::move(policy);
  for (const auto &entry : snapshot->catalog->entries()) {
    Resolution r = snapshot->resolve(entry.key);
    for (ProviderInstance *p : r.chain) {
      r.entries.push_back(p->cache().entry(entry.key));
      r.hits.push_back(context.metrics.hits(p->name(), entry.category));
    }
    snapshot->resolved.emplace(entry.key, std::move(r));
  }
  std::vector<std::pair<std::string_view, const Resolution *>> index;
  index.reserve(snapshot->resolved.size());
  for (const auto &[key, r] : snapshot->resolved) index.emplace_back(key, &r);
  snapshot->fast_index = KeyIndex<Resolution>(index);
  return snapshot;
}

}  // namespace coffer::detail
