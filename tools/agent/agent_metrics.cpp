#include "agent_metrics.hpp"

#include <cstdio>

namespace coffer::agent {
namespace {

std::string_view refusal_name(Refusal refusal) noexcept {
  switch (refusal) {
    case Refusal::token:
      return "token";
    case Refusal::policy:
      return "policy";
    case Refusal::connection:
      return "connection_limit";
    case Refusal::count_:
      break;
  }
  return "other";
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

}  // namespace

std::string_view route_name(Route route) noexcept {
  switch (route) {
    case Route::secret:
      return "secret";
    case Route::bulk:
      return "bulk";
    case Route::helpers:
      return "helpers";
    case Route::metadata:
      return "metadata";
    case Route::metrics:
      return "metrics";
    case Route::health:
      return "healthz";
    case Route::ready:
      return "readyz";
    case Route::other:
      return "other";
    case Route::count_:
      break;
  }
  return "other";
}

void AgentMetrics::count_request(Route route, int status,
                                 std::chrono::nanoseconds latency) noexcept {
  auto r = static_cast<std::size_t>(route);
  if (r >= kRoutes) r = static_cast<std::size_t>(Route::other);
  std::size_t s = 0;
  while (s < kStatuses.size() && kStatuses[s] != status) ++s;  // s == size(): another status
  requests_[r][s].fetch_add(1, std::memory_order_relaxed);
  Latency &histogram = latency_[r];
  double seconds = std::chrono::duration<double>(latency).count();
  std::size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  histogram.buckets[b].fetch_add(1, std::memory_order_relaxed);
  histogram.sum_ns.fetch_add(static_cast<std::uint64_t>(latency.count() < 0 ? 0 : latency.count()),
                             std::memory_order_relaxed);
  histogram.count.fetch_add(1, std::memory_order_relaxed);
}

void AgentMetrics::count_refusal(Refusal refusal) noexcept {
  refusals_[static_cast<std::size_t>(refusal)].fetch_add(1, std::memory_order_relaxed);
}

std::string AgentMetrics::render() const {
  std::string out;
  out +=
      "# HELP coffer_agent_requests_total HTTP requests the agent answered, by route and status.\n";
  out += "# TYPE coffer_agent_requests_total counter\n";
  for (std::size_t r = 0; r < kRoutes; ++r) {
    for (std::size_t s = 0; s <= kStatuses.size(); ++s) {
      std::uint64_t value = requests_[r][s].load(std::memory_order_relaxed);
      if (value == 0) continue;
      out += "coffer_agent_requests_total{route=\"";
      out += route_name(static_cast<Route>(r));
      out += "\",status=\"";
      out += s < kStatuses.size() ? std::to_string(kStatuses[s]) : std::string("other");
      out += "\"} " + std::to_string(value) + "\n";
    }
  }
  out +=
      "# HELP coffer_agent_refused_total Requests and connections the agent refused, by reason "
      "(token: no valid API token; policy: the peer may not read the key; connection_limit: "
      "--max-connections reached).\n";
  out += "# TYPE coffer_agent_refused_total counter\n";
  for (std::size_t i = 0; i < refusals_.size(); ++i) {
    out += "coffer_agent_refused_total{reason=\"";
    out += refusal_name(static_cast<Refusal>(i));
    out += "\"} " + std::to_string(refusals_[i].load(std::memory_order_relaxed)) + "\n";
  }
  out += "# HELP coffer_agent_open_connections Client connections open now.\n";
  out += "# TYPE coffer_agent_open_connections gauge\n";
  out += "coffer_agent_open_connections " + std::to_string(open_connections()) + "\n";
  out +=
      "# HELP coffer_agent_request_duration_seconds Time from a request's last header byte to "
      "its response written, by route.\n";
  out += "# TYPE coffer_agent_request_duration_seconds histogram\n";
  for (std::size_t r = 0; r < kRoutes; ++r) {
    const Latency &histogram = latency_[r];
    std::uint64_t count = histogram.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    std::string route(route_name(static_cast<Route>(r)));
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += histogram.buckets[b].load(std::memory_order_relaxed);
      out += "coffer_agent_request_duration_seconds_bucket{route=\"" + route + "\",le=\"" +
             (b < kBuckets.size() ? number(kBuckets[b]) : std::string("+Inf")) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "coffer_agent_request_duration_seconds_sum{route=\"" + route + "\"} " +
           number(static_cast<double>(histogram.sum_ns.load(std::memory_order_relaxed)) / 1e9) +
           "\n";
    out += "coffer_agent_request_duration_seconds_count{route=\"" + route + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  return out;
}

}  // namespace coffer::agent
