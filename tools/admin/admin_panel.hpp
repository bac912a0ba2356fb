// The admin panel behind `coffer serve --admin HOST:PORT`: the platform's
// credential settings as a web page, served on a listener of its own beside
// the secrets API, with its own connection cap and threads. It reaches the
// Store only through its public API. docs/admin-panel.md describes the page,
// the endpoints and the security model.
//
// Threading: construct, start, stop and destroy on one thread. stop() (or
// the destructor) returns once every panel connection is closed and no
// handler runs any more: stop the panel before the Store it uses goes.
#ifndef COFFER_ADMIN_ADMIN_PANEL_HPP
#define COFFER_ADMIN_ADMIN_PANEL_HPP

#include <coffer/store.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent_log.hpp"
#include "recent_events.hpp"
#include "tls_context.hpp"

namespace coffer::admin {

struct AdminOptions {
  std::string address;  // --admin HOST:PORT (loopback unless TLS; PORT 0 picks one)
  // --admin-tls-cert and --admin-tls-key: serve HTTPS (both empty: plain
  // HTTP, on loopback only).
  TlsFiles tls;
  std::filesystem::path token_file;   // --admin-token-file
  std::filesystem::path policy_file;  // the Store's policy file, which switches edit
  StoreOptions check_options;         // open an edited policy to validate it
  std::vector<std::string> origins;   // --admin-origin URLs also allowed
  // --admin-trusted-proxy: the address of an authenticating reverse proxy
  // (oauth2-proxy) whose X-Forwarded-User / -Email / -Preferred-Username
  // name the admin, believed only with --admin-proxy-secret-file's secret
  // in X-Coffer-Proxy-Secret. Empty: no proxy.
  std::string trusted_proxy;
  std::filesystem::path proxy_secret_file;
  std::chrono::milliseconds session_idle{std::chrono::minutes(15)};  // --admin-session-idle
  std::chrono::milliseconds session_lifetime{std::chrono::hours(8)};
  std::size_t max_connections = 64;  // panel connections; beyond: 503 and closed
  unsigned login_failures = 5;       // failed logins per address group ...
  std::chrono::milliseconds login_window{std::chrono::minutes(5)};  // ... within this
};

class AdminPanel {
 public:
  // Reads the token file, checks the options and opens the listener. Throws
  // Error naming the option at fault (invalid_argument, invalid_config) or
  // what the system refused (unavailable). `store`, `log` and `events` must
  // outlive the panel.
  AdminPanel(Store &store, AdminOptions options, agent::AgentLog &log,
             std::shared_ptr<const RecentEvents> events);
  ~AdminPanel();
  AdminPanel(const AdminPanel &) = delete;
  AdminPanel &operator=(const AdminPanel &) = delete;

  // "http://HOST:PORT/", or https:// with TLS (the port chosen when 0 was
  // asked).
  [[nodiscard]] std::string url() const;
  // Serves on threads of its own until stop().
  void start();
  // Stops accepting, closes every connection and waits for the threads.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_ADMIN_PANEL_HPP
