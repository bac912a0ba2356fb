// Counters and latency histograms per provider and category, kept for the
// life of a Store (across reloads) and rendered in the Prometheus text
// exposition format by Store::metrics().
//
// Cache hits are counted on the hot path with striped relaxed atomics (no
// lock, no cache line shared between threads); everything else takes a mutex,
// which is cheap next to a call into a provider.
#ifndef COFFER_CORE_METRICS_HPP
#define COFFER_CORE_METRICS_HPP

#include <coffer/error.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::detail {

// A counter bumped by many threads, each on cache lines of its own. Threads
// with a small index (ReadDomain::Guard::thread_index(), unique among live
// threads) own a stripe and bump it without a locked instruction; others
// share a few stripes with atomic adds.
class StripedCounter {
 public:
  void add_from(unsigned thread_index, std::uint64_t delta = 1) noexcept {
    if (thread_index < kOwned) {
      auto &mine = stripes_[thread_index].value;
      mine.store(mine.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
    } else {
      stripes_[kOwned + thread_index % kShared].value.fetch_add(delta, std::memory_order_relaxed);
    }
  }
  [[nodiscard]] std::uint64_t total() const noexcept;

 private:
  static constexpr unsigned kOwned = 8;
  static constexpr unsigned kShared = 4;
  // 128 bytes: the adjacent-line prefetcher moves lines in pairs.
  struct alignas(128) Stripe {
    std::atomic<std::uint64_t> value{0};
  };
  std::array<Stripe, kOwned + kShared> stripes_{};
};

class Metrics {
 public:
  // What the cache-hit path needs: one per (provider, category), stable for
  // the life of the Metrics.
  struct Hits {
    StripedCounter count;
  };
  Hits *hits(std::string_view provider, std::string_view category);

  // One access that did not end as a fast-path cache hit. `provider` is the
  // one that answered, or whose failure decided the outcome; empty when none
  // was asked. `stale`: answered from the cache past its TTL.
  void record(std::string_view provider, std::string_view category, std::string_view operation,
              Code outcome, std::chrono::nanoseconds latency, bool cache_hit, bool stale);
  // A provider in a chain failed and the chain went on to the next one.
  void fallback(std::string_view provider, std::string_view category, Code outcome);
  // A provider's own counter (the host table's count(): retries, token_exchanges, ...).
  void count(std::string_view provider, std::string_view counter, std::uint64_t delta);
  void policy_load(bool ok);
  void audit_write_failure();
  // An exception escaped a host's get_async handler (the core caught it).
  void handler_exception();
  // A call into a provider that the core answered with Code::timeout because
  // the provider had not answered by its deadline.
  void deadline_exceeded(std::string_view provider, std::string_view operation);
  // A provider's answer that came after the core answered for it: discarded.
  void late_completion(std::string_view provider, std::string_view operation);
  // The providers of the policy in force that are isolated (failed to open).
  void set_isolated(std::vector<std::string> providers);

  // The exposition text; `generation` is the policy generation in force.
  [[nodiscard]] std::string exposition(std::uint64_t generation) const;

  // Histogram bucket upper bounds, in seconds.
  static constexpr std::array<double, 14> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};  // not cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  // The label sets of the families, in label order (the maps sort by them).
  struct ProviderCategory {
    std::string provider;
    std::string category;
    auto operator<=>(const ProviderCategory &) const = default;
  };
  struct RequestSeries {
    std::string provider;
    std::string category;
    std::string operation;
    std::string outcome;
    auto operator<=>(const RequestSeries &) const = default;
  };
  struct LatencySeries {
    std::string provider;
    std::string category;
    std::string operation;
    auto operator<=>(const LatencySeries &) const = default;
  };
  struct FallbackSeries {
    std::string provider;
    std::string category;
    std::string outcome;
    auto operator<=>(const FallbackSeries &) const = default;
  };
  struct ProviderCounter {
    std::string provider;
    std::string counter;
    auto operator<=>(const ProviderCounter &) const = default;
  };
  struct ProviderCall {
    std::string provider;
    std::string operation;
    auto operator<=>(const ProviderCall &) const = default;
  };

  mutable std::mutex mutex_;
  std::map<ProviderCategory, std::unique_ptr<Hits>> hits_;
  std::map<RequestSeries, std::uint64_t> requests_;
  std::map<ProviderCategory, std::uint64_t> slow_hits_;
  std::map<ProviderCategory, std::uint64_t> stale_;
  std::map<FallbackSeries, std::uint64_t> fallbacks_;
  std::map<LatencySeries, Histogram> latency_;
  std::map<ProviderCounter, std::uint64_t> provider_counters_;
  std::uint64_t loads_ok_ = 0;
  std::uint64_t loads_failed_ = 0;
  std::uint64_t audit_failures_ = 0;
  std::uint64_t handler_exceptions_ = 0;
  std::map<ProviderCall, std::uint64_t> deadlines_;
  std::map<ProviderCall, std::uint64_t> late_;
  std::vector<std::string> isolated_;
};

}  // namespace coffer::detail

#endif  // COFFER_CORE_METRICS_HPP
