#include "metrics.hpp"

#include <functional>
#include <set>
#include <sstream>

namespace coffer::detail {
namespace {

// Label values are escaped as the exposition format requires.
std::string label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string provider_label(std::string_view provider) {
  return provider.empty() ? std::string("none") : label(provider);
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

std::string number(double value) {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out.precision(9);
  out << value;
  return out.str();
}

}  // namespace

std::uint64_t StripedCounter::total() const noexcept {
  std::uint64_t sum = 0;
  for (const auto &s : stripes_) sum += s.value.load(std::memory_order_relaxed);
  return sum;
}

Metrics::Hits *Metrics::hits(std::string_view provider, std::string_view category) {
  std::lock_guard lock(mutex_);
  auto &slot = hits_[{std::string(provider), std::string(category)}];
  if (!slot) slot = std::make_unique<Hits>();
  return slot.get();
}

void Metrics::record(std::string_view provider, std::string_view category,
                     std::string_view operation, Code outcome, std::chrono::nanoseconds latency,
                     bool cache_hit, bool stale) {
  std::string p(provider);
  std::string c(category);
  std::lock_guard lock(mutex_);
  ++requests_[{p, c, std::string(operation), std::string(to_string(outcome))}];
  if (stale) ++stale_[{p, c}];
  if (cache_hit) {
    ++slow_hits_[{p, c}];
    return;
  }
  auto &h = latency_[{p, c, std::string(operation)}];
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
  ++fallbacks_[{std::string(provider), std::string(category), std::string(to_string(outcome))}];
}

void Metrics::count(std::string_view provider, std::string_view counter, std::uint64_t delta) {
  std::lock_guard lock(mutex_);
  provider_counters_[{std::string(provider), metric_name(counter)}] += delta;
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
  ++deadlines_[{std::string(provider), std::string(operation)}];
}

void Metrics::late_completion(std::string_view provider, std::string_view operation) {
  std::lock_guard lock(mutex_);
  ++late_[{std::string(provider), std::string(operation)}];
}

void Metrics::set_isolated(std::vector<std::string> providers) {
  std::lock_guard lock(mutex_);
  isolated_ = std::move(providers);
}

std::string Metrics::exposition(std::uint64_t generation) const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  out.imbue(std::locale::classic());

  // Requests: the slow path's counts plus the fast path's hits (outcome ok).
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::uint64_t> requests =
      requests_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> hits = slow_hits_;
  for (const auto &[series, counter] : hits_) {
    std::uint64_t n = counter->count.total();
    if (n == 0) continue;
    requests[{series.first, series.second, "get", "ok"}] += n;
    hits[series] += n;
  }
  out << "# HELP coffer_requests_total Accesses to secrets by provider, category, operation and "
         "outcome, cache hits included.\n"
         "# TYPE coffer_requests_total counter\n";
  for (const auto &[s, n] : requests)
    out << "coffer_requests_total{provider=\"" << provider_label(std::get<0>(s)) << "\",category=\""
        << label(std::get<1>(s)) << "\",operation=\"" << std::get<2>(s) << "\",outcome=\""
        << std::get<3>(s) << "\"} " << n << '\n';

  out << "# HELP coffer_cache_hits_total Gets answered from the cache.\n"
         "# TYPE coffer_cache_hits_total counter\n";
  for (const auto &[s, n] : hits)
    out << "coffer_cache_hits_total{provider=\"" << provider_label(s.first) << "\",category=\""
        << label(s.second) << "\"} " << n << '\n';

  out << "# HELP coffer_stale_served_total Gets answered from the cache past its TTL because "
         "the provider failed (stale-if-error).\n"
         "# TYPE coffer_stale_served_total counter\n";
  for (const auto &[s, n] : stale_)
    out << "coffer_stale_served_total{provider=\"" << provider_label(s.first) << "\",category=\""
        << label(s.second) << "\"} " << n << '\n';

  out << "# HELP coffer_fallbacks_total Failures of a provider after which its chain asked the "
         "next one.\n"
         "# TYPE coffer_fallbacks_total counter\n";
  for (const auto &[s, n] : fallbacks_)
    out << "coffer_fallbacks_total{provider=\"" << provider_label(std::get<0>(s))
        << "\",category=\"" << label(std::get<1>(s)) << "\",outcome=\"" << std::get<2>(s) << "\"} "
        << n << '\n';

  out << "# HELP coffer_request_duration_seconds Latency of accesses not answered from the "
         "cache, provider calls and fallbacks included.\n"
         "# TYPE coffer_request_duration_seconds histogram\n";
  for (const auto &[s, h] : latency_) {
    std::string labels = "provider=\"" + provider_label(std::get<0>(s)) + "\",category=\"" +
                         label(std::get<1>(s)) + "\",operation=\"" + std::get<2>(s) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out << "coffer_request_duration_seconds_bucket{" << labels << ",le=\"" << number(kBuckets[i])
          << "\"} " << cumulative << '\n';
    }
    out << "coffer_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count
        << '\n';
    out << "coffer_request_duration_seconds_sum{" << labels << "} " << number(h.sum) << '\n';
    out << "coffer_request_duration_seconds_count{" << labels << "} " << h.count << '\n';
  }

  // Provider counters: the documented names always, others as reported.
  std::set<std::string> names = {"reconnects", "retries", "token_exchanges"};
  for (const auto &[s, n] : provider_counters_) names.insert(s.second);
  for (const auto &name : names) {
    out << "# HELP coffer_provider_" << name << "_total The providers' " << name
        << " count, as they report it.\n"
        << "# TYPE coffer_provider_" << name << "_total counter\n";
    for (const auto &[s, n] : provider_counters_)
      if (s.second == name)
        out << "coffer_provider_" << name << "_total{provider=\"" << label(s.first) << "\"} " << n
            << '\n';
  }

  out << "# HELP coffer_deadline_exceeded_total Calls into a provider that had not answered by "
         "the deadline (timeout_ms); the core answered timeout for them.\n"
         "# TYPE coffer_deadline_exceeded_total counter\n";
  for (const auto &[s, n] : deadlines_)
    out << "coffer_deadline_exceeded_total{provider=\"" << provider_label(s.first)
        << "\",operation=\"" << s.second << "\"} " << n << '\n';
  out << "# HELP coffer_late_completions_total Provider answers that came after the core had "
         "answered timeout for them; discarded.\n"
         "# TYPE coffer_late_completions_total counter\n";
  for (const auto &[s, n] : late_)
    out << "coffer_late_completions_total{provider=\"" << provider_label(s.first)
        << "\",operation=\"" << s.second << "\"} " << n << '\n';
  out << "# HELP coffer_provider_isolated Providers of the policy in force that failed to open "
         "and are isolated (their routes answer unavailable).\n"
         "# TYPE coffer_provider_isolated gauge\n";
  for (const auto &name : isolated_)
    out << "coffer_provider_isolated{provider=\"" << label(name) << "\"} 1\n";

  out << "# HELP coffer_policy_reloads_total Policy loads after the first, by result.\n"
         "# TYPE coffer_policy_reloads_total counter\n"
      << "coffer_policy_reloads_total{result=\"success\"} " << (loads_ok_ > 0 ? loads_ok_ - 1 : 0)
      << '\n'
      << "coffer_policy_reloads_total{result=\"failure\"} " << loads_failed_ << '\n'
      << "# HELP coffer_policy_generation The generation of the policy in force.\n"
         "# TYPE coffer_policy_generation gauge\n"
      << "coffer_policy_generation " << generation << '\n'
      << "# HELP coffer_audit_write_failures_total Audit lines that could not be written.\n"
         "# TYPE coffer_audit_write_failures_total counter\n"
      << "coffer_audit_write_failures_total " << audit_failures_ << '\n'
      << "# HELP coffer_handler_exceptions_total Exceptions that escaped a host's get_async "
         "handler, caught by the core.\n"
         "# TYPE coffer_handler_exceptions_total counter\n"
      << "coffer_handler_exceptions_total " << handler_exceptions_ << '\n';
  return out.str();
}

}  // namespace coffer::detail
