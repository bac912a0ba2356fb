#include "hosting/cache.hpp"

#include "hosting/caller_waits.hpp"

#include <time.h>

#include <algorithm>
#include <optional>

namespace coffer::detail {

struct Cache::Flight {
  std::vector<Answer> waiters;
};

struct Cache::Entry {
  Shard *shard = nullptr;
  std::atomic<Published *> published{nullptr};  // owned; read by lock-free hits
  Secret value;
  bool has_value = false;
  Clock::time_point fresh_until{};
  Clock::time_point refresh_at{};
  Clock::time_point stale_until{};
  bool negative = false;
  Clock::time_point negative_until{};
  std::shared_ptr<Flight> flight;
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

struct Cache::Shard {
  const coffer::Clock *clock = nullptr;  // the cache's; null: the monotonic clock
  std::shared_mutex mutex;               // hits take it shared
  std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> entries;
};

Cache::Cache(const coffer::Clock *clock) : clock_(clock) {
  for (auto &shard : shards_) {
    shard = std::make_unique<Shard>();
    shard->clock = clock;
  }
}

// No reader can be inside this cache any more (its instance is closing), so
// what is still published goes at once.
Cache::~Cache() {
  for (auto &shard : shards_)
    for (auto &[key, entry] : shard->entries) delete entry.published.exchange(nullptr);
}

void Cache::enable_lock_free_hits(Reclaim reclaim) {
  reclaim_ = std::move(reclaim);
}

std::unique_ptr<Cache::Published> Cache::publish(Entry &entry, std::unique_ptr<Published> value) {
  return std::unique_ptr<Published>(entry.published.exchange(value.release()));
}

void Cache::reclaim(std::vector<std::unique_ptr<Published>> retired) {
  retired.erase(std::remove(retired.begin(), retired.end(), nullptr), retired.end());
  if (!retired.empty() && reclaim_) reclaim_(std::move(retired));
}

void Cache::configure(const CacheSettings &settings) {
  ttl_ms_ = settings.ttl.count();
  refresh_ahead_ms_ = settings.refresh_ahead.count();
  stale_ms_ = settings.stale_if_error.count();
  negative_ms_ = settings.negative_ttl.count();
}

Cache::Shard &Cache::shard_of(std::string_view cache_key) {
  return *shards_[std::hash<std::string_view>{}(cache_key) % shards_.size()];
}

namespace {
std::string cache_key_of(const std::string &key, const std::string &version) {
  return version.empty() ? key : key + '\n' + version;
}
}  // namespace

namespace {
// The monotonic clock at tick resolution: what steady_clock reads, without
// the cost of the precise read. Good enough to compare against TTLs.
Cache::Clock::time_point coarse_now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return Cache::Clock::time_point(std::chrono::seconds(ts.tv_sec) +
                                  std::chrono::nanoseconds(ts.tv_nsec));
}
}  // namespace

Cache::Entry *Cache::entry(std::string_view key) {
  Shard &shard = shard_of(key);
  std::unique_lock lock(shard.mutex);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) it = shard.entries.try_emplace(std::string(key)).first;
  if (it->second.shard == nullptr) it->second.shard = &shard;
  return &it->second;
}

Cache::Clock::time_point Cache::now() const noexcept {
  return clock_ != nullptr ? clock_->now() : Clock::now();
}

std::optional<Secret> Cache::peek(Entry *entry, bool *negative, bool *refresh) {
  const coffer::Clock *clock = entry->shard->clock;
  auto now = clock != nullptr ? clock->now() : coarse_now();
  // The common case: a published value, not yet due for refresh. No lock,
  // no write to memory other threads read.
  if (const Published *p = entry->published.load(std::memory_order_acquire);
      p != nullptr && now < p->refresh_at)
    return p->value.clone();
  std::shared_lock lock(entry->shard->mutex);
  Entry &e = *entry;
  if (e.has_value && now < e.fresh_until) {
    *refresh = now >= e.refresh_at && !e.flight;
    return e.value.clone();
  }
  if (e.negative && now < e.negative_until) *negative = true;
  return std::nullopt;
}

void Cache::get(const std::string &key, const std::string &version, bool bypass, const Fetch &fetch,
                Answer answer) {
  std::string cache_key = cache_key_of(key, version);
  Shard &shard = shard_of(cache_key);
  auto now = this->now();
  std::shared_ptr<Flight> flight;
  bool start_refresh = false;
  {
    std::unique_lock lock(shard.mutex);
    Entry &e = shard.entries[cache_key];
    // Written once, before any lock-free reader can find the entry.
    if (e.shard == nullptr) e.shard = &shard;
    if (!bypass) {
      if (e.has_value && now < e.fresh_until) {
        CacheAnswer hit;
        hit.code = Code::ok;
        hit.value = e.value.clone();
        hit.hit = true;
        if (now >= e.refresh_at && !e.flight) {
          e.flight = std::make_shared<Flight>();
          flight = e.flight;
          start_refresh = true;
        }
        lock.unlock();
        answer(std::move(hit));
        if (!start_refresh) return;
        answer = nullptr;
      } else if (e.negative && now < e.negative_until) {
        lock.unlock();
        CacheAnswer miss;
        miss.code = Code::not_found;
        miss.hit = true;
        answer(std::move(miss));
        return;
      }
    }
    if (answer) {
      if (e.flight) {
        e.flight->waiters.push_back(std::move(answer));
        return;
      }
      e.flight = std::make_shared<Flight>();
      e.flight->waiters.push_back(std::move(answer));
      flight = e.flight;
    }
  }
  fetches_.fetch_add(1, std::memory_order_relaxed);
  // A refresh behind a hit: whoever asked has its answer and waits for no fetch.
  std::optional<CallerWaits> refresh_only;
  if (start_refresh) refresh_only.emplace(false);
  fetch([this, cache_key, flight](Code code, const std::string &message, Secret value) {
    finish(cache_key, flight, code, message, std::move(value));
  });
}

void Cache::finish(const std::string &cache_key, const std::shared_ptr<Flight> &flight, Code code,
                   const std::string &message, Secret value) {
  Shard &shard = shard_of(cache_key);
  auto now = this->now();
  std::vector<Answer> waiters;
  bool stale = false;
  Secret served;
  std::vector<std::unique_ptr<Published>> retired;
  {
    std::unique_lock lock(shard.mutex);
    Entry &e = shard.entries[cache_key];
    if (e.flight == flight) e.flight.reset();
    waiters = std::move(flight->waiters);
    auto ttl = std::chrono::milliseconds(ttl_ms_.load());
    if (code == Code::ok) {
      e.value = value.clone();
      e.has_value = true;
      e.negative = false;
      // The hit path reads a coarse clock: a zero TTL must never look fresh.
      e.fresh_until = ttl.count() > 0 ? now + ttl : Clock::time_point::min();
      e.refresh_at = ttl.count() > 0
                         ? e.fresh_until - std::chrono::milliseconds(refresh_ahead_ms_.load())
                         : Clock::time_point::min();
      e.stale_until = now + ttl + std::chrono::milliseconds(stale_ms_.load());
      std::unique_ptr<Published> fresh;
      if (reclaim_ && ttl.count() > 0) fresh.reset(new Published{value.clone(), e.refresh_at});
      retired.push_back(publish(e, std::move(fresh)));
      served = std::move(value);
    } else if (code == Code::not_found) {
      retired.push_back(publish(e, nullptr));
      e.value.clear();
      e.has_value = false;
      e.negative = negative_ms_.load() > 0;
      e.negative_until = now + std::chrono::milliseconds(negative_ms_.load());
    } else if (is_retryable(code) && e.has_value && now < e.stale_until) {
      stale = true;
      served = e.value.clone();
    }
  }
  reclaim(std::move(retired));
  for (std::size_t i = 0; i < waiters.size(); ++i) {
    CacheAnswer a;
    a.shared = i > 0;
    if (code == Code::ok || stale) {
      a.code = Code::ok;
      a.stale = stale;
      a.value = i + 1 == waiters.size() ? std::move(served) : served.clone();
      if (stale) a.message = message;
    } else {
      a.code = code;
      a.message = message;
    }
    waiters[i](std::move(a));
  }
}

void Cache::invalidate(const std::string &key) {
  // Entries are reset, never erased: snapshots hold pointers to them.
  std::vector<std::unique_ptr<Published>> retired;
  for (auto &shard : shards_) {
    std::unique_lock lock(shard->mutex);
    for (auto &[k, e] : shard->entries) {
      bool match = k == key || (k.size() > key.size() && k.compare(0, key.size(), key) == 0 &&
                                k[key.size()] == '\n');
      if (!match) continue;
      retired.push_back(publish(e, nullptr));
      e.has_value = false;
      e.value.clear();
      e.negative = false;
    }
  }
  reclaim(std::move(retired));
}

void Cache::clear() {
  std::vector<std::unique_ptr<Published>> retired;
  for (auto &shard : shards_) {
    std::unique_lock lock(shard->mutex);
    for (auto &[k, e] : shard->entries) {
      retired.push_back(publish(e, nullptr));
      e.has_value = false;
      e.value.clear();
      e.negative = false;
    }
  }
  reclaim(std::move(retired));
}

}  // namespace coffer::detail
