// One open provider instance: a plugin's coffer_instance with the host table
// the core lends it, asynchronous calls with std::function completions, and
// the instance's cache. Destroyed (closed) on the Store's worker thread once
// nothing uses it, never on one of the plugin's own threads.
#ifndef COFFER_CORE_PROVIDER_INSTANCE_HPP
#define COFFER_CORE_PROVIDER_INSTANCE_HPP

#include <coffer/error.hpp>
#include <coffer/secret.hpp>
#include <coffer/store.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "logger.hpp"
#include "metrics.hpp"
#include "plugin_library.hpp"
#include "policy.hpp"
#include "read_domain.hpp"
#include "tracker.hpp"
#include "worker.hpp"

namespace coffer::detail {

class Cache;

class ProviderInstance {
 public:
  using GetDone = std::function<void(Code, const std::string &message, Secret value)>;
  using Done = std::function<void(Code, const std::string &version, const std::string &message)>;
  using ListDone =
      std::function<void(Code, std::vector<ListEntry> entries, const std::string &message)>;

  // Opens an instance; throws Error naming the provider. `worker`,
  // `tracker` and `metrics` must outlive the instance. Cache hits are served
  // lock-free inside ReadDomain sections.
  static std::shared_ptr<ProviderInstance> open(std::shared_ptr<PluginLibrary> library,
                                                const ProviderSpec &spec,
                                                const std::filesystem::path &base_directory,
                                                const Logger &logger, Worker &worker,
                                                Tracker &tracker, Metrics &metrics);
  ~ProviderInstance();
  ProviderInstance(const ProviderInstance &) = delete;
  ProviderInstance &operator=(const ProviderInstance &) = delete;

  [[nodiscard]] const std::string &name() const { return name_; }
  [[nodiscard]] const std::string &plugin() const { return plugin_; }
  // Identifies the configuration: equal identities may share an instance.
  [[nodiscard]] const std::string &identity() const { return identity_; }
  [[nodiscard]] uint64_t capabilities() const { return library_->table().capabilities; }
  [[nodiscard]] bool can(uint64_t capability) const { return (capabilities() & capability) != 0; }
  [[nodiscard]] Cache &cache() { return *cache_; }

  // Asks the plugin directly (no cache). Completions run on any thread.
  void get(const std::string &key, const std::string &version, uint32_t timeout_ms, GetDone done);
  void put(const std::string &key, std::span<const unsigned char> value, Done done);
  void remove(const std::string &key, Done done);
  void health(Done done);
  void list(ListDone done);
  void admin(const std::string &command, const std::string &arguments, Done done);
  // Asks the plugin to finish its operations in flight promptly (the Store is
  // shutting down; ABI 1.2 cancel). Once; a no-op for a plugin without it.
  void cancel();
  // The provider's name for a key; Code::ok or the failure with a message.
  std::pair<Code, std::string> key_name(const std::string &key);

  static std::string identity_of(const ProviderSpec &spec, const std::filesystem::path &file);

  struct HostContext;

 private:
  ProviderInstance() = default;
  std::shared_ptr<PluginLibrary> library_;
  std::unique_ptr<HostContext> host_;
  coffer_instance *instance_ = nullptr;
  std::string name_;
  std::string plugin_;
  std::string identity_;
  std::unique_ptr<Cache> cache_;
  Tracker *tracker_ = nullptr;
  std::weak_ptr<ProviderInstance> self_;
  std::atomic<bool> cancelled_{false};
  Secret fingerprint_key_;  // 32 bytes: a guessable value could be tested against its digest
};

// Converts an ABI status to a Code (unknown values become internal).
Code code_of(coffer_status status);

}  // namespace coffer::detail

#endif  // COFFER_CORE_PROVIDER_INSTANCE_HPP
