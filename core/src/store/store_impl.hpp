// Store::Impl: the state behind coffer::Store. Its members are private:
// Store's methods and the get path (detail::GetOperation) reach them; every
// other piece of the core goes through coffer::Store.
#ifndef COFFER_CORE_STORE_IMPL_HPP
#define COFFER_CORE_STORE_IMPL_HPP

#include <coffer/store.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "base/file_watcher.hpp"
#include "base/read_domain.hpp"
#include "base/tracker.hpp"
#include "base/worker.hpp"
#include "observability/logger.hpp"
#include "observability/metrics.hpp"
#include "store/snapshot.hpp"
#include "store/subscriptions.hpp"

namespace coffer {

namespace detail {
struct GetOperation;
}

class Store::Impl : public std::enable_shared_from_this<Store::Impl> {
 public:
  Impl(StoreOptions options, std::optional<std::filesystem::path> file, std::string text,
       std::filesystem::path base_directory);
  ~Impl();
  // Asks the providers to cancel, waits until every call was answered (by
  // its provider or at its deadline) and every provider answered, closes
  // the providers and stops the threads. Idempotent; called by ~Store on the
  // owner's thread. When providers still hold calls timeout_ms after being
  // asked to cancel, it stops there and sets abandoned_: the Impl must then
  // never be destroyed (their late answers will reach it).
  void shutdown();

  // Loads the policy and swaps it in; throws and keeps the old one on failure.
  void load();
  // How long a load waits for the health of the providers it opened.
  static constexpr std::chrono::milliseconds kHealthProbeWait{10};
  void probe_health(const detail::Snapshot &fresh, const detail::Snapshot *previous, bool isolate);
  std::shared_ptr<detail::Snapshot> snapshot() const;
  // Starts watching the policy file when the options ask for it (open()).
  void watch_policy_file();
  // Shuts a Store down on the caller's thread while it still owns the Impl,
  // so that no worker or provider thread can end up destroying it. An Impl
  // whose providers still hold calls is kept for the life of the process:
  // their late answers find everything they touch.
  static void close(std::shared_ptr<Impl> impl);

  void get_async(const std::string &key, std::function<void(Result)> handler,
                 const GetOptions &options);
  // Runs a host's get_async handler. An exception it throws ends here: it
  // must not unwind through a provider's frames (C, or C++ that does not
  // expect it), so it is logged by type and counted, never propagated.
  void complete(std::function<void(Result)> &handler, Result result) noexcept;
  // A cache hit served without any asynchronous machinery, or nullopt; the
  // answering provider's name goes to *provider_name when it is not null.
  // What reporting a cache hit needs, copied out of the read section.
  struct ObservedHit {
    std::string provider;
    std::shared_ptr<AuditLog> audit;
  };
  // `peer`, when set, must be allowed the key by the same snapshot's clients.
  std::optional<Secret> find_cached(std::string_view key, const Peer *peer,
                                    std::string *provider_name,
                                    std::optional<ObservedHit> &observed);
  std::optional<Secret> get_cached(std::string_view key, const GetOptions &options,
                                   std::string *provider_name);
  std::optional<Result> get_cached_result(std::string_view key, const GetOptions &options);

  // One access as the Store reports it.
  struct AccessRecord {
    std::string_view key;
    std::string_view provider;  // the one that answered or decided the outcome; may be empty
    const char *operation = "get";
    Code outcome = Code::internal;
    std::string_view message;
    std::chrono::steady_clock::time_point start;  // the latency is measured from here
    bool cache_hit = false;
    bool stale = false;          // served from the cache past its TTL
    std::string_view caller;     // empty: StoreOptions::caller
    const Peer *peer = nullptr;  // the peer the access was made for, if any
    bool counted = false;        // the metrics already have it (a fast-path hit)
  };
  // Records one access in the policy's audit log (`audit`, may be null), the
  // metrics and the host's observer. False when the audit log fails closed
  // and could not record the access: the caller refuses it (the metrics and
  // the observer already see it refused).
  bool report_access(AuditLog *audit, const AccessRecord &access);
  // Before a put or remove: throws Error(unavailable) when the audit log
  // fails closed and cannot be written (the refusal is reported).
  void refuse_unaudited_write(const detail::Snapshot &snap, const std::string &key,
                              const detail::ProviderInstance &provider, const char *operation,
                              std::chrono::steady_clock::time_point start, std::string_view caller);
  // After a put or remove: reports it; throws Error for a failure, or when
  // the audit log fails closed and could not record a write that was done.
  void finish_write(const detail::Snapshot &snap, const std::string &key,
                    const detail::ProviderInstance &provider, const char *operation, Code code,
                    const std::string &message, std::chrono::steady_clock::time_point start,
                    std::string_view caller);
  // Starts a write (put, remove, purge) of `key` on `provider`.
  using WriteCall =
      std::function<void(detail::ProviderInstance &provider, const std::string &key,
                         std::chrono::milliseconds timeout, detail::ProviderInstance::Done done)>;
  // A write through the first provider of the key's chain: refused first when
  // the audit log must but cannot record it; afterwards the key's cached value
  // is dropped from every provider of the chain and the write is reported
  // (finish_write). Returns what the provider answered (a put's version).
  std::string routed_write(std::string_view key, const char *operation, std::string_view caller,
                           const WriteCall &call);
  void schedule_refresh();
  void refresh_subscribed();

 private:
  friend class Store;
  friend struct detail::GetOperation;

  void report_policy(const detail::Snapshot *snapshot, const PolicyEvent &event);
  void watch_tick();

  StoreOptions options_;
  detail::Logger logger_;
  detail::Metrics metrics_;  // outlives every provider instance (they count into it)
  std::optional<std::filesystem::path> file_;
  std::string text_;
  std::filesystem::path base_directory_;

  detail::Tracker tracker_;  // calls into plugins they have not answered
  detail::Tracker answers_;  // calls whose caller has not been answered
  bool abandoned_ = false;   // see shutdown()
  std::unique_ptr<detail::Worker> worker_;
  // Answers calls into providers that have not answered by their deadline;
  // apart from worker_, whose closes may take a while.
  std::unique_ptr<detail::Worker> deadlines_;
  std::shared_ptr<detail::Subscriptions> subscriptions_;
  std::mutex load_mutex_;  // one load at a time; guards libraries_ and opened_
  std::map<std::string, std::shared_ptr<detail::PluginLibrary>> libraries_;
  // Every instance a load opened and that may still be running operations
  // (also those a later policy dropped): shutdown cancels them.
  std::vector<std::weak_ptr<detail::ProviderInstance>> opened_;
  // The current snapshot for the slow path (copied under the mutex).
  std::shared_ptr<detail::Snapshot> current() const {
    std::lock_guard lock(current_mutex_);
    return current_;
  }
  void set_current(std::shared_ptr<detail::Snapshot> snapshot) {
    std::lock_guard lock(current_mutex_);
    current_.swap(snapshot);
  }
  mutable std::mutex current_mutex_;
  std::shared_ptr<detail::Snapshot> current_;
  // The same snapshot for the cache-hit path, read without reference
  // counting inside a ReadDomain section; a load synchronizes before the old
  // snapshot may go.
  std::atomic<detail::Snapshot *> fast_{nullptr};
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> closing_{false};
  std::atomic<bool> refresh_scheduled_{false};
  // What the watched policy file looked like at the last load.
  std::filesystem::file_time_type watched_time_{};
  std::uintmax_t watched_size_ = 0;
  std::uintmax_t watched_inode_ = 0;
  std::unique_ptr<detail::FileWatcher> watcher_;
};

}  // namespace coffer

#endif  // COFFER_CORE_STORE_IMPL_HPP
