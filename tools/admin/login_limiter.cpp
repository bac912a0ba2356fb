#include "login_limiter.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstdio>

namespace coffer::admin {

std::string address_group(std::string_view address) {
  std::string text(address);
  std::array<unsigned char, 16> bytes{};
  if (text.find(':') == std::string::npos || inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1)
    return text;
  // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 client it maps.
  static constexpr std::array<unsigned char, 12> kMapped = {0, 0, 0, 0, 0,    0,
                                                            0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped.begin(), kMapped.end(), bytes.begin())) {
    char v4[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, bytes.data() + 12, v4, sizeof v4) != nullptr) return v4;
  }
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  char prefix[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, bytes.data(), prefix, sizeof prefix) == nullptr) return text;
  return std::string(prefix) + "/64";
}

LoginLimiter::LoginLimiter(unsigned max_failures, std::chrono::milliseconds window,
                           std::function<LimiterClock::time_point()> now)
    : max_failures_(max_failures),
      window_(window),
      now_(now ? std::move(now) : [] { return LimiterClock::now(); }) {}

void LoginLimiter::forget_old(LimiterClock::time_point now) {
  for (auto it = groups_.begin(); it != groups_.end();)
    it = now - it->second.first >= window_ ? groups_.erase(it) : std::next(it);
}

std::chrono::milliseconds LoginLimiter::wait_before_attempt(const std::string &group) {
  auto now = now_();
  std::lock_guard lock(mutex_);
  forget_old(now);
  auto it = groups_.find(group);
  if (it == groups_.end() || it->second.count < max_failures_) return std::chrono::milliseconds(0);
  auto left = it->second.first + window_ - now;
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::duration_cast<std::chrono::milliseconds>(left));
}

void LoginLimiter::record_failure(const std::string &group) {
  auto now = now_();
  std::lock_guard lock(mutex_);
  forget_old(now);
  auto [it, added] = groups_.try_emplace(group, Failures{0, now});
  ++it->second.count;
}

void LoginLimiter::record_success(const std::string &group) {
  std::lock_guard lock(mutex_);
  groups_.erase(group);
}

}  // namespace coffer::admin
