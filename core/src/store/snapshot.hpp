// An immutable view of one loaded policy: its providers (open instances), its
// catalog and the resolved route of every catalog key. Requests hold the
// snapshot they started with; a reload swaps in a new one.
#ifndef COFFER_CORE_SNAPSHOT_HPP
#define COFFER_CORE_SNAPSHOT_HPP

#include <coffer/audit.hpp>
#include <coffer/catalog.hpp>
#include <coffer/store.hpp>

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/read_domain.hpp"
#include "hosting/cache.hpp"
#include "hosting/plugin_library.hpp"
#include "hosting/provider_instance.hpp"
#include "observability/logger.hpp"
#include "observability/metrics.hpp"
#include "policy/key_index.hpp"
#include "policy/peer_access.hpp"
#include "policy/policy.hpp"

namespace coffer::detail {

// Lets unordered maps keyed by std::string be searched with a string_view.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

// How one key resolves under a policy.
struct Resolution {
  Code code = Code::ok;  // invalid_argument (unknown key), denied, invalid_config
  std::string message;   // why, when code is not ok
  std::vector<ProviderInstance *> chain;
  std::vector<Cache::Entry *> entries;  // each chain provider's cache entry (catalog keys)
  std::vector<Metrics::Hits *> hits;    // each chain provider's hit counter (catalog keys)
  const Chain *spec = nullptr;
  std::string rule;  // keys.K, routes.C or routes.*
};

struct Snapshot {
  Policy policy;
  std::uint64_t generation = 0;
  std::shared_ptr<const Catalog> catalog;  // never null; handed to hosts (Store::catalog)
  std::vector<std::filesystem::path> plugin_dirs;
  std::vector<std::shared_ptr<ProviderInstance>> instances;  // policy order
  std::unordered_map<std::string, ProviderInstance *> by_name;
  std::unordered_map<std::string, Resolution, StringHash, std::equal_to<>>
      resolved;                     // catalog keys
  KeyIndex<Resolution> fast_index;  // the same, for the cache-hit path
  bool allow_unknown_keys = false;
  std::shared_ptr<AuditLog> audit;  // the policy's audit log, if any
  // The process's effective uid when the policy loaded: the peer the
  // "clients" refuse nothing (read once: a system call per read is too dear).
  std::uint32_t own_uid = 0;

  // The providers that failed to open and stand isolated, in policy order.
  [[nodiscard]] std::vector<IsolatedProvider> isolated() const;

  [[nodiscard]] ProviderInstance *instance(std::string_view name) const;
  // The resolution of `key` (precomputed for catalog keys).
  [[nodiscard]] Resolution resolve(const std::string &key) const;
  [[nodiscard]] const Resolution *find(std::string_view key) const { return fast_index.find(key); }
  // Whether the policy's "clients" let `peer` read `key` (see peer_access.hpp).
  [[nodiscard]] PeerDecision decide(const Peer &peer, std::string_view key) const {
    return decide_peer(policy, peer, key, own_uid);
  }
};

// What building a snapshot needs from the Store.
struct SnapshotContext {
  const StoreOptions &options;
  const Logger &logger;
  Worker &worker;
  Worker &deadlines;
  Tracker &tracker;
  Tracker &answers;
  Metrics &metrics;
  // A provider that fails to open is isolated (otherwise the build fails).
  bool isolate_open_failures = true;
  // Loaded libraries by file, shared across snapshots; guarded by the caller.
  std::map<std::string, std::shared_ptr<PluginLibrary>> &libraries;
};

// Builds a snapshot, reusing instances of `previous` whose configuration did
// not change. Throws Error; nothing of the new snapshot survives a failure.
// A provider that fails to open is isolated when the context says so, and
// the failure is logged as an error.
std::shared_ptr<Snapshot> build_snapshot(Policy policy, const SnapshotContext &context,
                                         const Snapshot *previous, std::uint64_t generation);

}  // namespace coffer::detail

#endif  // COFFER_CORE_SNAPSHOT_HPP
