// The cache in front of one provider instance: values for a TTL, refreshed in
// the background when read shortly before they expire, served stale when the
// provider is unavailable (stale-if-error), not-found remembered briefly, and
// one fetch in flight per key however many callers wait on it.
//
// Thread-safe. Completions run on the thread that completes the fetch, or on
// the caller's thread for a hit.
#ifndef COFFER_CORE_CACHE_HPP
#define COFFER_CORE_CACHE_HPP

#include <coffer/clock.hpp>
#include <coffer/error.hpp>
#include <coffer/secret.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/policy.hpp"

namespace coffer::detail {

struct CacheAnswer {
  Code code = Code::internal;
  std::string message;
  Secret value;
  bool hit = false;     // answered from the cache without a fetch
  bool stale = false;   // served past its TTL because the provider failed
  bool shared = false;  // waited on a fetch started by another caller
};

class Cache {
 public:
  using Clock = std::chrono::steady_clock;
  using Answer = std::function<void(CacheAnswer)>;
  // Starts a fetch; must call its argument exactly once, from any thread.
  using FetchDone = std::function<void(Code, const std::string &message, Secret value)>;
  using Fetch = std::function<void(FetchDone)>;

  // `clock`: where the lifetimes' time comes from; null: the monotonic clock.
  // Must outlive the cache.
  explicit Cache(const coffer::Clock *clock = nullptr);
  ~Cache();

  // A value published for lock-free hits: immutable once published.
  struct Published {
    Secret value;
    Clock::time_point refresh_at;  // served lock-free only before this
  };
  // Frees published values that were replaced, once no lock-free reader can
  // still see them. Without one, hits always take the shard's lock.
  using Reclaim = std::function<void(std::vector<std::unique_ptr<Published>>)>;
  void enable_lock_free_hits(Reclaim reclaim);

  void configure(const CacheSettings &settings);

  // Serves `key` from the cache or through `fetch`. `version` non-empty
  // selects a named version (cached separately). `bypass` skips a fresh entry
  // but still joins a fetch in flight.
  void get(const std::string &key, const std::string &version, bool bypass, const Fetch &fetch,
           Answer answer);

  struct Entry;
  // The entry of a key's latest version, created if needed. Entries live as
  // long as the cache, so the pointer stays valid (snapshots keep one per
  // catalog key and provider, to serve hits without hashing).
  Entry *entry(std::string_view key);

  // A fresh value, without fetching; nullopt when there is none. Sets
  // *negative when a recent not-found is remembered. Sets *refresh when the
  // caller should start a background refresh (get with bypass). With
  // lock-free hits enabled, the caller must be inside a read section of the
  // domain whose synchronize() the Reclaim function waits for.
  static std::optional<Secret> peek(Entry *entry, bool *negative, bool *refresh);

  // Forgets a key (all its versions), e.g. after a put.
  void invalidate(const std::string &key);
  void clear();

  // Counts provider fetches started (for tests and metrics).
  [[nodiscard]] std::uint64_t fetches() const { return fetches_.load(); }

 private:
  struct Flight;
  struct Shard;
  Shard &shard_of(std::string_view cache_key);
  void finish(const std::string &cache_key, const std::shared_ptr<Flight> &flight, Code code,
              const std::string &message, Secret value);

  // Publishes `value` (or nothing) for lock-free hits; returns the value it
  // replaces, to be reclaimed. Under the entry's shard lock.
  std::unique_ptr<Published> publish(Entry &entry, std::unique_ptr<Published> value);
  void reclaim(std::vector<std::unique_ptr<Published>> retired);
  [[nodiscard]] Clock::time_point now() const noexcept;

  const coffer::Clock *clock_;
  Reclaim reclaim_;
  std::array<std::unique_ptr<Shard>, 16> shards_;
  std::atomic<std::int64_t> ttl_ms_{300000};
  std::atomic<std::int64_t> refresh_ahead_ms_{30000};
  std::atomic<std::int64_t> stale_ms_{3600000};
  std::atomic<std::int64_t> negative_ms_{5000};
  std::atomic<std::uint64_t> fetches_{0};
};

}  // namespace coffer::detail

#endif  // COFFER_CORE_CACHE_HPP
