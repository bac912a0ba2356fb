#include "panel_client.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <stdexcept>

namespace coffer::test {

int panel_port(const std::string &log) {
  const std::string marker = "admin panel listening url=http";
  auto at = log.find(marker);
  auto colon = at == std::string::npos ? at : log.find(':', at + marker.size() + 3);
  if (colon == std::string::npos) throw std::runtime_error("no panel address in the log:\n" + log);
  return std::stoi(log.substr(colon + 1, 5));
}

Panel::Panel(const std::vector<std::string> &arguments, const std::string &policy) {
  auto policy_file = directory.write("coffer.json", policy.empty() ? directory.policy() : policy);
  auto token_file = directory.write("admin.token", kAdminToken + "\n", 0600);
  socket = directory.directory / "agent.sock";
  std::vector<std::string> argv{"--socket", socket.string(), "--admin", "127.0.0.1:0"};
  if (std::find(arguments.begin(), arguments.end(), "--admin-token-file") == arguments.end()) {
    argv.push_back("--admin-token-file");
    argv.push_back(token_file.string());
  }
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  agent = std::make_unique<AgentProcess>(directory, policy_file, argv);
  agent->wait_ready();
  port = panel_port(agent->log());
}

HttpReply Panel::send(const PanelRequest &request) {
  std::string own = "127.0.0.1:" + std::to_string(port);
  std::string text = request.method + " " + request.target +
                     " HTTP/1.1\r\nHost: " + (request.host.empty() ? own : request.host) + "\r\n";
  std::string origin = request.origin;
  if (origin.empty() && request.method != "GET") origin = "http://" + own;
  if (!origin.empty() && origin != "-") text += "Origin: " + origin + "\r\n";
  if (!request.referer.empty()) text += "Referer: " + request.referer + "\r\n";
  if (request.with_cookie && !cookie.empty()) text += "Cookie: " + cookie + "\r\n";
  if (request.with_csrf && !csrf.empty() && request.method != "GET")
    text += "X-CSRF-Token: " + csrf + "\r\n";
  if (!request.body.empty() || request.method == "POST")
    text += "Content-Type: " + request.content_type +
            "\r\nContent-Length: " + std::to_string(request.body.size()) + "\r\n";
  text += "Connection: close\r\n\r\n" + request.body;
  auto connection = HttpConnection::tcp(port);
  if (!connection.send(text)) throw std::runtime_error("the panel closed the connection");
  return connection.read_reply();
}

HttpReply Panel::login(const std::string &token) {
  auto request = post_request("/api/login", "token=" + token);
  request.with_cookie = false;
  auto reply = send(request);
  if (reply.status == 200) {
    auto set_cookie = reply.header("set-cookie");
    cookie = set_cookie.substr(0, set_cookie.find(';'));
    csrf = std::string(boost::json::parse(reply.body).at("csrf").as_string());
  }
  return reply;
}

}  // namespace coffer::test
