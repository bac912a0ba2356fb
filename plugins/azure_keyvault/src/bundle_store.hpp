// The JSON bundle layout on top of a VaultClient: every key is a member of one
// secret's flat JSON object. The bundle is fetched once per refresh period for
// all keys (one fetch in flight however many keys ask), and writes rewrite the
// whole bundle as a new version, one write at a time per instance. Used on the
// I/O thread only.
#ifndef COFFER_AZURE_BUNDLE_STORE_HPP
#define COFFER_AZURE_BUNDLE_STORE_HPP

#include "async.hpp"
#include "json_bundle.hpp"
#include "vault_client.hpp"

#include <coffer/provider.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace coffer::azure {

class BundleStore {
 public:
  BundleStore(const Config &config, VaultClient &vault);
  BundleStore(const BundleStore &) = delete;
  BundleStore &operator=(const BundleStore &) = delete;

  struct Value {
    coffer::provider::SecretBytes bytes;
    std::string version;  // the bundle secret's version
  };

  // Member `member` (for canonical key `key`), from the cached bundle or, with
  // a `version`, from that version of the bundle secret.
  asio::awaitable<Value> get(const std::string &member, const std::string &key,
                             const std::string &version, Deadline deadline);
  // Read-modify-write of the whole bundle; returns the new version.
  asio::awaitable<std::string> put(const std::string &member, const std::string &key,
                                   const coffer::provider::SecretBytes &value, Deadline deadline);
  asio::awaitable<void> remove(const std::string &member, const std::string &key,
                               Deadline deadline);
  // (member, version) pairs of the current bundle.
  asio::awaitable<std::pair<std::vector<std::string>, std::string>> members(Deadline deadline);
  // Reads the bundle afresh (health).
  asio::awaitable<void> probe(Deadline deadline);

  void shutdown();

 private:
  struct Snapshot {
    JsonBundle bundle;
    std::string version;
  };
  using SnapshotPtr = std::shared_ptr<const Snapshot>;

  asio::awaitable<SnapshotPtr> current(Deadline deadline);
  asio::awaitable<SnapshotPtr> load(const std::string &version, const std::string &key,
                                    Deadline deadline);
  asio::awaitable<void> lock_writes(Deadline deadline);
  void unlock_writes();
  void publish(SnapshotPtr snapshot);

  const Config &config_;
  VaultClient &vault_;
  const std::string name_;
  SnapshotPtr cached_;
  SteadyClock::time_point fetched_at_{};
  bool fetching_ = false;
  uint64_t generation_ = 0;
  std::optional<coffer::provider::Error> error_;
  Broadcast fetched_;
  bool writing_ = false;
  Broadcast written_;
  bool closed_ = false;
};

}  // namespace coffer::azure

#endif  // COFFER_AZURE_BUNDLE_STORE_HPP
