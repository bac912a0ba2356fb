#include "faults.hpp"

#include <array>
#include <utility>

namespace coffer::emulator {

namespace {

constexpr std::array<std::pair<std::string_view, FaultKind>, 12> kKinds{{
    {"429", FaultKind::throttled},
    {"429-retry-after", FaultKind::throttled_retry_after},
    {"408", FaultKind::status_408},
    {"500", FaultKind::status_500},
    {"502", FaultKind::status_502},
    {"503", FaultKind::status_503},
    {"504", FaultKind::status_504},
    {"reset", FaultKind::reset},
    {"stall", FaultKind::stall},
    {"truncate", FaultKind::truncate},
    {"malformed-json", FaultKind::malformed_json},
    {"expired-token", FaultKind::expired_token},
}};

constexpr std::array<std::string_view, 10> kRoutes{
    "token", "imds", "get", "put", "delete", "list", "update", "deleted", "metadata", "any"};

}  // namespace

std::optional<FaultKind> parse_fault_kind(std::string_view name) {
  for (const auto &[text, kind] : kKinds) {
    if (text == name) return kind;
  }
  return std::nullopt;
}

std::string_view fault_kind_name(FaultKind kind) {
  for (const auto &[text, k] : kKinds) {
    if (k == kind) return text;
  }
  return "unknown";
}

bool is_known_route(std::string_view route) {
  for (const auto r : kRoutes) {
    if (!r.empty() && r == route) return true;
  }
  return false;
}

void FaultPlan::reseed(std::uint64_t seed) {
  seed_ = seed;
  random_.seed(seed);
}

std::optional<FaultRule> FaultPlan::next(std::string_view route,
                                         const std::function<bool(FaultKind)> &eligible) {
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    if ((it->route != route && it->route != "any") || !eligible(it->kind)) continue;
    if (it->remaining) {
      if (*it->remaining <= 0) continue;
      FaultRule chosen = *it;
      if (--*it->remaining == 0) rules_.erase(it);
      ++injected_;
      return chosen;
    }
    std::uniform_real_distribution<double> draw(0.0, 1.0);
    if (draw(random_) < it->probability) {
      ++injected_;
      return *it;
    }
  }
  return std::nullopt;
}

}  // namespace coffer::emulator
