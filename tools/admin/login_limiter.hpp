// Limits login attempts per client: after `max_failures` failed logins from
// one address group within `window`, further attempts from that group (right
// or wrong) are refused until the window since the first counted failure has
// passed. An IPv4 address is its own group; IPv6 addresses are grouped by
// their /64 prefix, which one client usually holds whole.
//
// Threading: every method may be called from many threads at once.
#ifndef COFFER_ADMIN_LOGIN_LIMITER_HPP
#define COFFER_ADMIN_LOGIN_LIMITER_HPP

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace coffer::admin {

using LimiterClock = std::chrono::steady_clock;

// The group a textual IP address belongs to ("192.0.2.7", "2001:db8:1:2::/64").
// Text that is not an address is its own group.
std::string address_group(std::string_view address);

class LoginLimiter {
 public:
  LoginLimiter(unsigned max_failures, std::chrono::milliseconds window,
               std::function<LimiterClock::time_point()> now = {});

  // Zero when `group` may try now; otherwise how long until it may.
  [[nodiscard]] std::chrono::milliseconds wait_before_attempt(const std::string &group);
  void record_failure(const std::string &group);
  void record_success(const std::string &group);

 private:
  struct Failures {
    unsigned count = 0;
    LimiterClock::time_point first;
  };
  void forget_old(LimiterClock::time_point now);

  unsigned max_failures_;
  std::chrono::milliseconds window_;
  std::function<LimiterClock::time_point()> now_;
  std::mutex mutex_;
  std::map<std::string, Failures, std::less<>> groups_;
};

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_LOGIN_LIMITER_HPP
