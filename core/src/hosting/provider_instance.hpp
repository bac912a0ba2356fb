// One open provider instance: a plugin's coffer_instance with the host table
// the core lends it, asynchronous calls with std::function completions, and
// the instance's cache. Destroyed (closed) on the Store's worker thread once
// nothing uses it, never on one of the plugin's own threads.
//
// Every call has a deadline: a plugin that has not answered by then is
// answered for, with Code::timeout; its late answer is absorbed (counted,
// never delivered, a value never copied). The plugin's call still counts as
// in flight until it answers, so the instance is not closed before.
//
// An isolated instance stands for a provider that failed to open (or that
// promptly reported its configuration wrong): every operation answers
// Code::unavailable with the open error, and it is never reused by a reload.
#ifndef COFFER_CORE_PROVIDER_INSTANCE_HPP
#define COFFER_CORE_PROVIDER_INSTANCE_HPP

#include <coffer/error.hpp>
#include <coffer/secret.hpp>
#include <coffer/store.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/read_domain.hpp"
#include "base/tracker.hpp"
#include "base/worker.hpp"
#include "hosting/plugin_library.hpp"
#include "observability/logger.hpp"
#include "observability/metrics.hpp"
#include "policy/policy.hpp"

namespace coffer::detail {

class Cache;

class ProviderInstance {
 public:
  using GetDone = std::function<void(Code, const std::string &message, Secret value)>;
  // `result`: what the operation returns on success (a put's version, an
  // admin command's JSON report; an admin failure may carry a report too).
  using Done = std::function<void(Code, const std::string &result, const std::string &message)>;
  using ListDone =
      std::function<void(Code, std::vector<ListEntry> entries, const std::string &message)>;
  using VersionsDone =
      std::function<void(Code, std::vector<VersionInfo> versions, const std::string &message)>;

  // What an instance lends from its Store; everything must outlive it.
  struct Services {
    const Logger &logger;
    Worker &worker;     // closes instances, reclaims cached values
    Worker &deadlines;  // answers calls whose deadline passed
    Tracker &tracker;   // calls the plugin has not answered
    Tracker &answers;   // calls not answered yet, by the plugin or the deadline
    Metrics &metrics;
    const coffer::Clock *clock;  // the cache's time; null: the monotonic clock
  };

  // Opens an instance; throws Error naming the provider. Cache hits are
  // served lock-free inside ReadDomain sections.
  static std::shared_ptr<ProviderInstance> open(std::shared_ptr<PluginLibrary> library,
                                                const ProviderSpec &spec,
                                                const std::filesystem::path &base_directory,
                                                const Services &services);
  // An instance that answers every operation with Code::unavailable and
  // `error` (which names the provider and where the policy declares it).
  static std::shared_ptr<ProviderInstance> isolated(const ProviderSpec &spec, std::string error,
                                                    const Services &services);
  ~ProviderInstance();
  ProviderInstance(const ProviderInstance &) = delete;
  ProviderInstance &operator=(const ProviderInstance &) = delete;

  [[nodiscard]] const std::string &name() const { return name_; }
  [[nodiscard]] const std::string &plugin() const { return plugin_; }
  // Identifies the configuration: equal identities may share an instance.
  [[nodiscard]] const std::string &identity() const { return identity_; }
  [[nodiscard]] uint64_t capabilities() const {
    return library_ ? library_->table().capabilities : 0;
  }
  [[nodiscard]] bool can(uint64_t capability) const { return (capabilities() & capability) != 0; }
  [[nodiscard]] Cache &cache() { return *cache_; }

  // Isolates an instance that was just opened and not yet used (its health
  // check promptly said its configuration is wrong). Not thread-safe: call
  // before the instance is published.
  void isolate(std::string error);
  // The reason the instance is isolated; empty when it is not.
  [[nodiscard]] const std::string &isolation() const { return isolation_; }

  // Asks the plugin directly (no cache). Completions run on any thread: the
  // plugin's, or the deadline thread with Code::timeout when the plugin has
  // not answered `timeout` (plus a short grace) after the call.
  void get(const std::string &key, const std::string &version, std::chrono::milliseconds timeout,
           GetDone done);
  void put(const std::string &key, std::span<const unsigned char> value,
           std::chrono::milliseconds timeout, Done done);
  void remove(const std::string &key, std::chrono::milliseconds timeout, Done done);
  void health(std::chrono::milliseconds timeout, Done done);
  void list(std::chrono::milliseconds timeout, ListDone done);
  // ABI 1.4: a key's versions (COFFER_CAP_HISTORY) and the purge of a removed
  // key (COFFER_CAP_SOFT_DELETE); Code::unsupported naming the plugin without.
  void versions(const std::string &key, std::chrono::milliseconds timeout, VersionsDone done);
  void purge(const std::string &key, std::chrono::milliseconds timeout, Done done);
  void admin(const std::string &command, const std::string &arguments,
             std::chrono::milliseconds timeout, Done done);
  // Asks the plugin to finish its operations in flight promptly (the Store is
  // shutting down; ABI 1.2 cancel). Once; a no-op for a plugin without it.
  void cancel();
  // The provider's name for a key, or why it cannot name it.
  struct KeyName {
    Code code = Code::internal;
    std::string name;     // when code is ok
    std::string message;  // otherwise
  };
  KeyName key_name(const std::string &key);

  static std::string identity_of(const ProviderSpec &spec, const std::filesystem::path &file);

  // How long after its deadline a call is answered for: a provider given the
  // deadline (get's timeout_ms) reports its own timeout first, with more to say.
  static constexpr std::chrono::milliseconds kDeadlineGrace{100};

  struct HostContext;
  // One call into the plugin, shared by its answer and its deadline.
  template <class Callback>
  struct Call;
  // The call a plugin's answer (its completion callback's `context`)
  // completes, or null when the deadline answered first.
  template <class Callback>
  static std::shared_ptr<Call<Callback>> answered(void *context);

 private:
  ProviderInstance() = default;
  static std::shared_ptr<ProviderInstance> publish(std::unique_ptr<ProviderInstance> self,
                                                   Worker &worker);
  static std::chrono::milliseconds bounded(std::chrono::milliseconds timeout);
  // Registers a call, arms its deadline and returns the context for the plugin.
  template <class Callback>
  void *start(const char *operation, std::chrono::milliseconds timeout, Callback done,
              std::string key = {});
  std::shared_ptr<PluginLibrary> library_;
  std::unique_ptr<HostContext> host_;
  coffer_instance *instance_ = nullptr;
  std::string name_;
  std::string plugin_;
  std::string identity_;
  std::unique_ptr<Cache> cache_;
  Tracker *tracker_ = nullptr;
  Tracker *answers_ = nullptr;
  Worker *deadlines_ = nullptr;
  Metrics *metrics_ = nullptr;
  const coffer::Clock *clock_ = nullptr;
  std::string isolation_;
  std::weak_ptr<ProviderInstance> self_;
  std::atomic<bool> cancelled_{false};
  Secret fingerprint_key_;  // 32 bytes: a guessable value could be tested against its digest
};

// Converts an ABI status to a Code (unknown values become internal).
Code code_of(coffer_status status);

}  // namespace coffer::detail

#endif  // COFFER_CORE_PROVIDER_INSTANCE_HPP
