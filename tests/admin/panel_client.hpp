// Test support: an agent with the admin panel (`coffer serve --admin`) in a
// temporary directory, and the panel's HTTP requests as a browser sends
// them (Host, Origin, the session cookie, the CSRF token). Every wait has a
// deadline.
#ifndef COFFER_TESTS_ADMIN_PANEL_CLIENT_HPP
#define COFFER_TESTS_ADMIN_PANEL_CLIENT_HPP

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent_process.hpp"
#include "http_client.hpp"

namespace coffer::test {

// A token of 256 bits, as `openssl rand -hex 32` writes it.
inline const std::string kAdminToken =
    "3f1c9a7be2d04f6a8b5e1c7d9f2a4b6c8e0d1f3a5b7c9e1d3f5a7b9c1e3d5f7a";

struct PanelRequest {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::string content_type = "application/x-www-form-urlencoded";
  std::string host;    // default: the panel's own 127.0.0.1:PORT
  std::string origin;  // default (for POST): the panel's own origin; "-": none
  std::string referer;
  bool with_cookie = true;
  bool with_csrf = true;
};

inline PanelRequest get_request(std::string target) {
  PanelRequest request;
  request.target = std::move(target);
  return request;
}
inline PanelRequest post_request(std::string target, std::string body = {}) {
  PanelRequest request;
  request.method = "POST";
  request.target = std::move(target);
  request.body = std::move(body);
  return request;
}

class Panel {
 public:
  // Starts an agent over `policy` (AgentDirectory::policy() by default) with
  // the panel on 127.0.0.1:0 and the admin token in a 0600 file (unless
  // `arguments` give --admin-token-file), plus `arguments`; waits until it
  // is ready.
  explicit Panel(const std::vector<std::string> &arguments = {}, const std::string &policy = {});

  HttpReply send(const PanelRequest &request);
  // Logs in with `token`; on success keeps the cookie and the CSRF token.
  HttpReply login(const std::string &token = kAdminToken);
  HttpReply get(const std::string &target) { return send(get_request(target)); }

  AgentDirectory directory;
  std::unique_ptr<AgentProcess> agent;
  int port = 0;
  std::string cookie;  // "coffer_admin=..."
  std::string csrf;
  std::filesystem::path socket;
};

// The panel's port from the agent's log ("admin panel listening
// url=http://127.0.0.1:PORT/", or https://).
int panel_port(const std::string &log);

}  // namespace coffer::test

#endif  // COFFER_TESTS_ADMIN_PANEL_CLIENT_HPP
