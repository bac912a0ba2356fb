// The panel's login sessions. A session is named by a random 256-bit id that
// only the browser holds (in an HttpOnly cookie); the table keeps its SHA-256
// digest, the admin identity, a CSRF token and its times. A session ends
// after `idle` without a request, after `lifetime` however busy it is, or at
// logout.
//
// Threading: every method may be called from many threads at once.
#ifndef COFFER_ADMIN_SESSIONS_HPP
#define COFFER_ADMIN_SESSIONS_HPP

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace coffer::admin {

using SessionClock = std::chrono::steady_clock;

struct SessionLimits {
  std::chrono::milliseconds idle{std::chrono::minutes(15)};
  std::chrono::milliseconds lifetime{std::chrono::hours(8)};
  std::size_t max_sessions = 64;  // the oldest is ended to make room
};

// What a new session hands the browser: the cookie value and the CSRF token
// its requests must carry.
struct NewSession {
  std::string id;    // 64 hex digits; goes into the cookie only
  std::string csrf;  // 64 hex digits
};

struct SessionInfo {
  std::string identity;  // the admin: a token file's name, "admin-token", or the proxy's user
  std::string csrf;
  std::chrono::milliseconds expires_in{0};  // until the idle or absolute limit, whichever first
};

class SessionTable {
 public:
  // `now` is the clock (a seam for tests).
  explicit SessionTable(SessionLimits limits, std::function<SessionClock::time_point()> now = {});

  NewSession create(std::string identity);
  // The live session `id` names, marked as used now; nullopt for an unknown
  // or expired one (which is forgotten).
  std::optional<SessionInfo> use(std::string_view id);
  // Ends the session; a no-op for an unknown id.
  void end(std::string_view id);

 private:
  struct Entry {
    std::string identity;
    std::string csrf;
    SessionClock::time_point created;
    SessionClock::time_point last_used;
  };
  using Digest = std::array<unsigned char, 32>;
  static Digest digest_of(std::string_view id);
  [[nodiscard]] bool expired(const Entry &entry, SessionClock::time_point now) const;

  SessionLimits limits_;
  std::function<SessionClock::time_point()> now_;
  std::mutex mutex_;
  std::map<Digest, Entry> entries_;
};

// `bytes` random bytes from OpenSSL's generator as lower-case hex. Throws
// Error(internal) when the generator fails.
std::string random_hex(std::size_t bytes);

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_SESSIONS_HPP
