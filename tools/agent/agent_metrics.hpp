// The agent's own metrics, rendered in the Prometheus text exposition format
// (0.0.4) after the Store's: requests by route and status, refusals, open
// connections and the latency of requests by route. Labels are route names,
// status codes and reasons; never keys, peers or values.
//
// Threading: every method may be called from many threads at once; counting
// takes no lock.
#ifndef COFFER_AGENT_AGENT_METRICS_HPP
#define COFFER_AGENT_AGENT_METRICS_HPP

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace coffer::agent {

// What a request asked for, as the metrics and the log name it.
enum class Route : int {
  secret,    // GET /v1.0/secrets/{store}/{key}
  bulk,      // GET /v1.0/secrets/{store}/bulk
  helpers,   // GET /v1.0-coffer/helpers/{tool}
  metadata,  // GET /v1.0/metadata
  metrics,   // GET /metrics
  health,    // /healthz, /v1.0/healthz
  ready,     // /readyz
  other,     // anything else, and requests refused before routing
  count_,
};
std::string_view route_name(Route route) noexcept;

// Why a request was refused an identity or a key.
enum class Refusal : int {
  token,       // TCP: no token or a wrong one
  policy,      // the policy does not let the peer read the key
  connection,  // the connection cap was reached
  count_,
};

class AgentMetrics {
 public:
  void count_request(Route route, int status, std::chrono::nanoseconds latency) noexcept;
  void count_refusal(Refusal refusal) noexcept;
  void connection_opened() noexcept { open_connections_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() noexcept { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t open_connections() const noexcept {
    return open_connections_.load(std::memory_order_relaxed);
  }
  // The families in the text format, each with HELP and TYPE lines.
  [[nodiscard]] std::string render() const;

  // The status codes the agent answers with, in the order they are rendered.
  static constexpr std::array<int, 15> kStatuses = {200, 204, 400, 401, 403, 404, 405, 408,
                                                    413, 414, 431, 500, 501, 503, 505};
  // Upper bounds of the latency buckets, in seconds.
  static constexpr std::array<double, 16> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                      1,      2.5,     5,      10};

 private:
  static constexpr std::size_t kRoutes = static_cast<std::size_t>(Route::count_);
  struct Latency {
    std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets{};  // the last: +Inf
    std::atomic<std::uint64_t> sum_ns{0};
    std::atomic<std::uint64_t> count{0};
  };
  std::array<std::array<std::atomic<std::uint64_t>, kStatuses.size() + 1>, kRoutes> requests_{};
  std::array<Latency, kRoutes> latency_{};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Refusal::count_)> refusals_{};
  std::atomic<std::int64_t> open_connections_{0};
};

}  // namespace coffer::agent

#endif  // COFFER_AGENT_AGENT_METRICS_HPP
