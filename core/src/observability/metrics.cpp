#include "observability/metrics.hpp"

#include <set>

#include "observability/exposition.hpp"

namespace coffer::detail {
namespace {

std::string_view provider_label(std::string_view provider) {
  return provider.empty() ? std::string_view("none") : provider;
}

// A provider-supplied counter name, reduced to [a-z0-9_].
std::string metric_name(std::string_view counter) {
  std::string out;
  for (char c : counter) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
      out += c;
    else if (c >= 'A' && c <= 'Z')
      out += static_cast<char>(c - 'A' + 'a');
    else
      out += '_';
  }
  return out.empty() ? std::string("unnamed") : out;
}

}  // namespace

std::uint64_t StripedCounter::total() const noexcept {
  std::uint64_t sum = 0;
  for (const auto &s : stripes_) sum += s.value.load(std::memory_order_relaxed);
  return sum;
}

Metrics::Hits *Metrics::hits(std::string_view provider, std::string_view category) {
  std::lock_guard lock(mutex_);
  auto &slot = hits_[{.provider = std::string(provider), .category = std::string(category)}];
  if (!slot) slot = std::make_unique<Hits>();
  return slot.get();
}

void Metrics::record(std::string_view provider, std::string_view category,
                     std::string_view operation, Code outcome, std::chrono::nanoseconds latency,
                     bool cache_hit, bool stale) {
  std::string p(provider);
  std::string c(category);
  std::lock_guard lock(mutex_);
  ++requests_[{.provider = p,
               .category = c,
               .operation = std::string(operation),
               .outcome = std::string(to_string(outcome))}];
  if (stale) ++stale_[{.provider = p, .category = c}];
  if (cache_hit) {
    ++slow_hits_[{.provider = p, .category = c}];
    return;
  }
  auto &h = latency_[{.provider = p, .category = c, .operation = std::string(operation)}];
  double seconds = std::chrono::duration<double>(latency).count();
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::fallback(std::string_view provider, std::string_view category, Code outcome) {
  std::lock_guard lock(mutex_);
  ++fallbacks_[{.provider = std::string(provider),
                .category = std::string(category),
                .outcome = std::string(to_string(outcome))}];
}

void Metrics::count(std::string_view provider, std::string_view counter, std::uint64_t delta) {
  std::lock_guard lock(mutex_);
  provider_counters_[{.provider = std::string(provider), .counter = metric_name(counter)}] += delta;
}

void Metrics::policy_load(bool ok) {
  std::lock_guard lock(mutex_);
  ++(ok ? loads_ok_ : loads_failed_);
}

void Metrics::audit_write_failure() {
  std::lock_guard lock(mutex_);
  ++audit_failures_;
}

void Metrics::handler_exception() {
  std::lock_guard lock(mutex_);
  ++handler_exceptions_;
}

void Metrics::deadline_exceeded(std::string_view provider, std::string_view operation) {
  std::lock_guard lock(mutex_);
  ++deadlines_[{.provider = std::string(provider), .operation = std::string(operation)}];
}

void Metrics::late_completion(std::string_view provider, std::string_view operation) {
  std::lock_guard lock(mutex_);
  ++late_[{.provider = std::string(provider), .operation = std::string(operation)}];
}

void Metrics::set_isolated(std::vector<std::string> providers) {
  std::lock_guard lock(mutex_);
  isolated_ = std::move(providers);
}

std::string Metrics::exposition(std::uint64_t generation) const {
  std::lock_guard lock(mutex_);
  Exposition out;

  // Requests: the slow path's counts plus the fast path's hits (outcome ok).
  std::map<RequestSeries, std::uint64_t> requests = requests_;
  std::map<ProviderCategory, std::uint64_t> hits = slow_hits_;
  for (const auto &[series, counter] : hits_) {
    std::uint64_t n = counter->count.total();
    if (n == 0) continue;
    requests[{.provider = series.provider,
              .category = series.category,
              .operation = "get",
              .outcome = "ok"}] += n;
    hits[series] += n;
  }
  out.family("coffer_requests_total", "counter",
             "Accesses to secrets by provider, category, operation and outcome, cache hits "
             "included.");
  for (const auto &[s, n] : requests)
    out.sample("coffer_requests_total",
               {{"provider", provider_label(s.provider)},
                {"category", s.category},
                {"operation", s.operation},
                {"outcome", s.outcome}},
               n);

  out.family("coffer_cache_hits_total", "counter", "Gets answered from the cache.");
  for (const auto &[s, n] : hits)
    out.sample("coffer_cache_hits_total",
               {{"provider", provider_label(s.provider)}, {"category", s.category}}, n);

  out.family("coffer_stale_served_total", "counter",
             "Gets answered from the cache past its TTL because the provider failed "
             "(stale-if-error).");
  for (const auto &[s, n] : stale_)
    out.sample("coffer_stale_served_total",
               {{"provider", provider_label(s.provider)}, {"category", s.category}}, n);

  out.family("coffer_fallbacks_total", "counter",
             "Failures of a provider after which its chain asked the next one.");
  for (const auto &[s, n] : fallbacks_)
    out.sample("coffer_fallbacks_total",
               {{"provider", provider_label(s.provider)},
                {"category", s.category},
                {"outcome", s.outcome}},
               n);

  out.family("coffer_request_duration_seconds", "histogram",
             "Latency of accesses not answered from the cache, provider calls and fallbacks "
             "included.");
  for (const auto &[s, h] : latency_)
    out.histogram("coffer_request_duration_seconds",
                  {{"provider", provider_label(s.provider)},
                   {"category", s.category},
                   {"operation", s.operation}},
                  kBuckets, h.buckets, h.count, h.sum);

  // Provider counters: the documented names always, others as reported.
  std::set<std::string> names = {"reconnects", "retries", "token_exchanges"};
  for (const auto &[s, n] : provider_counters_) names.insert(s.counter);
  for (const auto &name : names) {
    std::string family = "coffer_provider_" + name + "_total";
    out.family(family, "counter", "The providers' " + name + " count, as they report it.");
    for (const auto &[s, n] : provider_counters_)
      if (s.counter == name) out.sample(family, {{"provider", s.provider}}, n);
  }

  out.family("coffer_deadline_exceeded_total", "counter",
             "Calls into a provider that had not answered by the deadline (timeout_ms); the core "
             "answered timeout for them.");
  for (const auto &[s, n] : deadlines_)
    out.sample("coffer_deadline_exceeded_total",
               {{"provider", provider_label(s.provider)}, {"operation", s.operation}}, n);
  out.family("coffer_late_completions_total", "counter",
             "Provider answers that came after the core had answered timeout for them; "
             "discarded.");
  for (const auto &[s, n] : late_)
    out.sample("coffer_late_completions_total",
               {{"provider", provider_label(s.provider)}, {"operation", s.operation}}, n);
  out.family("coffer_provider_isolated", "gauge",
             "Providers of the policy in force that failed to open and are isolated (their "
             "routes answer unavailable).");
  for (const auto &name : isolated_)
    out.sample("coffer_provider_isolated", {{"provider", name}}, 1);

  out.family("coffer_policy_reloads_total", "counter", "Policy loads after the first, by result.");
  out.sample("coffer_policy_reloads_total", {{"result", "success"}},
             loads_ok_ > 0 ? loads_ok_ - 1 : 0);
  out.sample("coffer_policy_reloads_total", {{"result", "failure"}}, loads_failed_);
  out.family("coffer_policy_generation", "gauge", "The generation of the policy in force.");
  out.sample("coffer_policy_generation", {}, generation);
  out.family("coffer_audit_write_failures_total", "counter",
             "Audit lines that could not be written.");
  out.sample("coffer_audit_write_failures_total", {}, audit_failures_);
  out.family("coffer_handler_exceptions_total", "counter",
             "Exceptions that escaped a host's get_async handler, caught by the core.");
  out.sample("coffer_handler_exceptions_total", {}, handler_exceptions_);
  return out.text();
}

}  // namespace coffer::detail
