// Fault injection rules, per route: count-based (the next N matching
// requests) or probability-based (each matching request with probability p,
// drawn from a seeded generator so that a run can be replayed). Rules are
// tried in the order they were added. Not thread-safe.
#ifndef COFFER_AZURE_EMULATOR_FAULTS_HPP
#define COFFER_AZURE_EMULATOR_FAULTS_HPP

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::emulator {

enum class FaultKind {
  throttled,              // 429 without Retry-After (as the real service sends it)
  throttled_retry_after,  // 429 with Retry-After
  status_408,
  status_500,
  status_502,
  status_503,
  status_504,
  reset,           // the connection is closed abruptly, no response
  stall,           // the response is held back for stall_ms
  truncate,        // Content-Length larger than the body sent, then close
  malformed_json,  // a 200 whose JSON body is cut short
  expired_token,   // token routes: issue a token Key Vault refuses as expired;
                   // Key Vault routes: refuse a valid token as expired (401)
};

std::optional<FaultKind> parse_fault_kind(std::string_view name);
std::string_view fault_kind_name(FaultKind kind);
bool is_known_route(std::string_view route);

struct FaultRule {
  std::string route;  // a route name or "any"
  FaultKind kind = FaultKind::status_503;
  std::optional<int> remaining;  // count-based when set
  double probability = 0.0;      // probability-based otherwise
  // Sent as Retry-After by 429-retry-after (default "1"), and by the other
  // status faults when given explicitly.
  std::optional<std::string> retry_after;
  int stall_ms = 30000;
};

class FaultPlan {
 public:
  explicit FaultPlan(std::uint64_t seed) : seed_(seed), random_(seed) {}

  void add(FaultRule rule) { rules_.push_back(std::move(rule)); }
  void clear() { rules_.clear(); }
  void reseed(std::uint64_t seed);
  [[nodiscard]] std::uint64_t seed() const { return seed_; }
  [[nodiscard]] std::uint64_t injected() const { return injected_; }
  void reset_counter() { injected_ = 0; }

  // The fault to inject into this request, if any, among rules whose kind
  // passes the filter. Consumes one use of a count-based rule.
  std::optional<FaultRule> next(std::string_view route,
                                const std::function<bool(FaultKind)> &eligible);

 private:
  std::uint64_t seed_;
  std::mt19937_64 random_;
  std::vector<FaultRule> rules_;
  std::uint64_t injected_ = 0;
};

}  // namespace coffer::emulator

#endif
