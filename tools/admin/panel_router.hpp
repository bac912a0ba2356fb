// Turns one panel request into one response: checks the Host header, serves
// the compiled-in assets, logs admins in and out, and answers the JSON API
// for a live session. Every state-changing request must come from an allowed
// origin (Origin, else Referer) and, once logged in, carry the session's CSRF
// token in "X-CSRF-Token". Every response carries the security headers
// (Content-Security-Policy without inline script or style, frame-ancestors
// 'none', nosniff, no-referrer, no-store; HSTS when cookies are Secure).
// docs/admin-panel.md describes the endpoints.
//
// Threading: handle() may be called from many threads at once; it blocks on
// the Store, so call it off the I/O threads.
#ifndef COFFER_ADMIN_PANEL_ROUTER_HPP
#define COFFER_ADMIN_PANEL_ROUTER_HPP

#include <coffer/store.hpp>

#include <string>

#include "admin_token.hpp"
#include "agent_log.hpp"
#include "login_limiter.hpp"
#include "origins.hpp"
#include "panel_http.hpp"
#include "recent_events.hpp"
#include "sessions.hpp"
#include "storage_switch.hpp"

namespace coffer::admin {

// What the router works with; everything must outlive it.
struct PanelServices {
  Store &store;
  const AdminTokenTable &tokens;  // --admin-token-file: each token names its admin
  SessionTable &sessions;
  LoginLimiter &limiter;
  const RecentEvents &events;
  StorageSwitch &storage_switch;
  const std::filesystem::path &policy_file;  // the Store's, for settings
  const StoreOptions &check_options;         // open an edited policy to validate it
  // The trusted proxy's address ("" for none) and the digest of its secret.
  std::string trusted_proxy;
  const AdminToken *proxy_secret = nullptr;
  const AllowedOrigins &origins;
  agent::AgentLog &log;
  // Cookies are Secure (and named with the __Host- prefix) and HSTS is sent:
  // the panel is served over TLS or behind an https origin.
  bool secure = false;
  // The cookie's Max-Age: the session's absolute lifetime (the server ends
  // it earlier when idle).
  long long session_lifetime_s = 8 * 3600;
};

class PanelRouter {
 public:
  explicit PanelRouter(PanelServices services) : services_(services) {}

  // Answers `request` from `client` (its IP address as text). Does not throw.
  PanelResponse handle(const PanelRequest &request, const std::string &client);

 private:
  PanelResponse route(const PanelRequest &request, const std::string &client);
  PanelResponse login(const PanelRequest &request, const std::string &client);
  PanelResponse logout(const PanelRequest &request, const std::string &session_id);
  // POST /api/provider-setting: one provider setting, validated and applied.
  PanelResponse provider_setting(const PanelRequest &request, const std::string &caller);
  // POST /api/switch-preview, POST /api/switch, GET /api/job?id=ID.
  PanelResponse switch_action(const PanelRequest &request, const std::string &endpoint,
                              const std::string &caller);
  // POST /api/credentials/KEY/value (write-only entry), GET .../KEY/test.
  PanelResponse credential_action(const PanelRequest &request, const std::string &key,
                                  const std::string &action, const std::string &caller);
  // The admin a trusted proxy names for this request, or "" (not from the
  // proxy, or without its secret). Throws Error(invalid_argument) for an
  // identity header sent twice.
  [[nodiscard]] std::string proxy_identity(const PanelRequest &request,
                                           const std::string &client) const;
  [[nodiscard]] std::string cookie_name() const;
  [[nodiscard]] std::string session_cookie(const PanelRequest &request) const;
  void add_security_headers(PanelResponse &response) const;
  void audit_login(const std::string &identity, const std::string &client, Code outcome,
                   const std::string &message);

  PanelServices services_;
};

// The caller name the Store's audit log records for the panel's admin.
std::string admin_caller(const std::string &identity, const std::string &client);

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_PANEL_ROUTER_HPP
