// The admin panel driven over HTTP against a real `coffer serve --admin`:
// the page and its security headers, login with the admin token (and its
// refusals and rate limit), sessions, CSRF, Origin and Host checks, the
// credentials in their groups with key names and statuses from a real
// resolution (never a value), providers, audit, entries (refused while a
// storage switch of their category runs), switches, named admins, the
// panel's own connection cap, and a clean stop.
#define BOOST_TEST_MODULE admin_panel_tests
#include <sys/stat.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "panel_client.hpp"

using namespace coffer::test;
namespace json = boost::json;

namespace {

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

// Every credential row of a credentials view, by key.
std::map<std::string, json::object> rows_of(const json::value &view) {
  std::map<std::string, json::object> rows;
  for (const auto &group : view.at("groups").as_array())
    for (const auto &service : group.at("services").as_array())
      for (const auto &row : service.at("keys").as_array())
        rows[std::string(row.at("key").as_string())] = row.as_object();
  return rows;
}

std::string read_file(const std::filesystem::path &file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Routes for the credentials test: Email overridden to "q" (other.env), a
// CIAdmin key refused by its route, the rest to "p" (secrets.env).
const std::string kRoutes =
    R"({"CIAdmin": {"providers": ["p"], "deny": ["CIAdmin.AzureAwsS3SK"]}, "*": "p"})";

// application/x-www-form-urlencoded, every byte but letters and digits escaped.
std::string form_encoded(const std::string &text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The default policy with "p" (secrets.env) writable.
std::string writable_policy(const AgentDirectory &directory, const std::string &extra = {}) {
  std::string policy = directory.policy(R"({"*": "p"})", extra);
  std::string marker = "secrets.env\"";
  policy.insert(policy.find(marker) + marker.size(), R"(, "writable": true)");
  return policy;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(page)

BOOST_AUTO_TEST_CASE(the_page_is_served_with_the_security_headers_and_no_inline_script) {
  Panel panel;
  auto page = panel.get("/");
  BOOST_TEST_REQUIRE(page.status == 200, page.body);
  BOOST_TEST(contains(page.header("content-type"), "text/html"));
  std::string csp = page.header("content-security-policy");
  BOOST_TEST(contains(csp, "default-src 'self'"), csp);
  BOOST_TEST(contains(csp, "script-src 'self'"), csp);
  BOOST_TEST(contains(csp, "frame-ancestors 'none'"), csp);
  BOOST_TEST(!contains(csp, "unsafe-inline"), csp);
  BOOST_TEST(page.header("x-content-type-options") == "nosniff");
  BOOST_TEST(page.header("referrer-policy") == "no-referrer");
  BOOST_TEST(page.header("cache-control") == "no-store");
  // One password input for the token, in a form that submits with Enter.
  std::size_t inputs = 0;
  for (auto at = page.body.find("type=\"password\""); at != std::string::npos;
       at = page.body.find("type=\"password\"", at + 1))
    ++inputs;
  BOOST_TEST(inputs == 1u);
  BOOST_TEST(contains(page.body, "autocomplete=\"current-password\""));
  BOOST_TEST(contains(page.body, "<button type=\"submit\">"));
  // No inline script or style for the CSP to need 'unsafe-inline' for.
  BOOST_TEST(!contains(page.body, "<script>"));
  BOOST_TEST(!contains(page.body, " style="));
  BOOST_TEST(!contains(page.body, " onclick="));
  auto script = panel.get("/app.js");
  BOOST_TEST(script.status == 200);
  BOOST_TEST(contains(script.header("content-type"), "javascript"));
  BOOST_TEST(!contains(script.body, "innerHTML"));
  BOOST_TEST(!contains(script.body, "https://"));  // nothing fetched from elsewhere
  BOOST_TEST(panel.get("/no-such-file.js").status == 404);
}

BOOST_AUTO_TEST_CASE(a_host_the_panel_does_not_answer_for_is_421) {
  Panel panel;
  auto request = get_request("/");
  request.host = "attacker.example";
  BOOST_TEST(panel.send(request).status == 421);
  request.host = "attacker.example:" + std::to_string(panel.port);
  BOOST_TEST(panel.send(request).status == 421);
  request.host = "localhost:" + std::to_string(panel.port);
  BOOST_TEST(panel.send(request).status == 200);
  request.host = "127.0.0.1";  // the default port 80 is not the panel's
  BOOST_TEST(panel.send(request).status == 421);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(login)

BOOST_AUTO_TEST_CASE(the_admin_token_opens_a_strict_http_only_session) {
  Panel panel;
  BOOST_TEST(panel.get("/api/credentials").status == 401);
  auto reply = panel.login();
  BOOST_TEST_REQUIRE(reply.status == 200, reply.body);
  std::string cookie = reply.header("set-cookie");
  BOOST_TEST(cookie.rfind("coffer_admin=", 0) == 0u, cookie);
  BOOST_TEST(contains(cookie, "; HttpOnly"), cookie);
  BOOST_TEST(contains(cookie, "; SameSite=Strict"), cookie);
  BOOST_TEST(contains(cookie, "; Path=/"), cookie);
  BOOST_TEST(contains(cookie, "; Max-Age="), cookie);
  BOOST_TEST(!contains(cookie, "Secure"), cookie);  // plain http on loopback
  BOOST_TEST(!contains(reply.body, kAdminToken));
  auto session = panel.get("/api/session");
  BOOST_TEST_REQUIRE(session.status == 200, session.body);
  BOOST_TEST(json::parse(session.body).at("identity").as_string() == "admin-token");
  BOOST_TEST(!contains(session.body, kAdminToken));

  auto logout = panel.send(post_request("/api/logout"));
  BOOST_TEST(logout.status == 200, logout.body);
  BOOST_TEST(contains(logout.header("set-cookie"), "Max-Age=0"));
  BOOST_TEST(panel.get("/api/session").status == 401);
}

BOOST_AUTO_TEST_CASE(behind_an_https_origin_the_cookie_is_secure_and_hsts_is_sent) {
  Panel panel({"--admin-origin", "https://panel.example.com"});
  auto reply = panel.login();
  BOOST_TEST_REQUIRE(reply.status == 200, reply.body);
  std::string cookie = reply.header("set-cookie");
  BOOST_TEST(cookie.rfind("__Host-coffer_admin=", 0) == 0u, cookie);
  BOOST_TEST(contains(cookie, "; Secure"), cookie);
  BOOST_TEST(contains(cookie, "; Path=/"), cookie);
  BOOST_TEST(contains(reply.header("strict-transport-security"), "max-age="));
  BOOST_TEST(panel.get("/api/session").status == 200);
  auto through_proxy = get_request("/");
  through_proxy.host = "panel.example.com";  // the https origin on its default port
  BOOST_TEST(panel.send(through_proxy).status == 200);
  auto from_proxy_origin = post_request("/api/logout");
  from_proxy_origin.origin = "https://panel.example.com";
  BOOST_TEST(panel.send(from_proxy_origin).status == 200);
}

BOOST_AUTO_TEST_CASE(a_wrong_token_is_refused_and_repeated_failures_are_rate_limited) {
  Panel panel;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto reply = panel.login(kAdminToken.substr(0, 63) + "0");
    BOOST_TEST(reply.status == 401, reply.body);
    BOOST_TEST(reply.header("set-cookie").empty());
  }
  // Now even the right token waits.
  auto limited = panel.login();
  BOOST_TEST(limited.status == 429, limited.body);
  BOOST_TEST(!limited.header("retry-after").empty());
  BOOST_TEST(panel.cookie.empty());
  BOOST_TEST(panel.agent->wait_for_log("admin login refused"));
  BOOST_TEST(!contains(panel.agent->log(), kAdminToken.substr(0, 20)));
}

BOOST_AUTO_TEST_CASE(a_login_from_another_origin_or_none_is_refused) {
  Panel panel;
  auto request = post_request("/api/login", "token=" + kAdminToken);
  request.origin = "http://attacker.example";
  BOOST_TEST(panel.send(request).status == 403);
  request.origin = "-";
  BOOST_TEST(panel.send(request).status == 403);  // neither Origin nor Referer
  request.referer = "http://127.0.0.1:" + std::to_string(panel.port) + "/";
  BOOST_TEST(panel.send(request).status == 200);  // a Referer of the panel's own origin
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(state_changes)

BOOST_AUTO_TEST_CASE(a_state_change_without_the_csrf_token_or_from_another_origin_is_refused) {
  Panel panel;
  BOOST_TEST_REQUIRE(panel.login().status == 200);
  auto no_csrf = post_request("/api/logout");
  no_csrf.with_csrf = false;
  auto refused = panel.send(no_csrf);
  BOOST_TEST(refused.status == 403, refused.body);
  BOOST_TEST(contains(refused.body, "CSRF"), refused.body);
  auto wrong_csrf = post_request("/api/logout");
  std::string kept = panel.csrf;
  panel.csrf = std::string(64, 'a');
  BOOST_TEST(panel.send(wrong_csrf).status == 403);
  panel.csrf = kept;
  auto cross = post_request("/api/logout");
  cross.origin = "http://127.0.0.1:" + std::to_string(panel.port + 1);
  BOOST_TEST(panel.send(cross).status == 403);
  // The session survived every refusal.
  BOOST_TEST(panel.get("/api/session").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(views)

BOOST_AUTO_TEST_CASE(credentials_show_groups_key_names_and_statuses_but_never_a_value) {
  AgentDirectory directory;
  Panel panel({}, directory.policy(kRoutes, R"("keys": {"Email.SMTPPassword": "q"})"));
  BOOST_TEST_REQUIRE(panel.login().status == 200);
  auto reply = panel.get("/api/credentials");
  BOOST_TEST_REQUIRE(reply.status == 200, reply.body);
  BOOST_TEST(reply.header("cache-control") == "no-store");
  for (const auto &[key, value] : agent_values()) BOOST_TEST(!contains(reply.body, value), key);
  BOOST_TEST(!contains(reply.body, "ghp-Other-Delta-0042"));

  auto view = json::parse(reply.body);
  const auto &groups = view.at("groups").as_array();
  BOOST_TEST_REQUIRE(groups.size() == 6u);
  BOOST_TEST(groups[0].at("name").as_string() == "Version Control");
  BOOST_TEST(groups[0].at("services").as_array().size() == 4u);
  BOOST_TEST(groups[0].at("services").at(2).at("name").as_string() == "GitHub");
  BOOST_TEST(groups[5].at("name").as_string() == "Email");
  auto rows = rows_of(view);
  BOOST_TEST(rows.size() == 30u);

  const auto &github = rows.at("VCS.GithubAdminPAT");
  BOOST_TEST(github.at("rule").as_string() == "routes.*");
  BOOST_TEST(github.at("chain").at(0).at("provider").as_string() == "p");
  BOOST_TEST(github.at("chain").at(0).at("plugin").as_string() == "env_file");
  BOOST_TEST(github.at("chain").at(0).at("name").as_string() == "VCS__GithubAdminPAT");
  BOOST_TEST(github.at("status").at("state").as_string() == "resolved");
  BOOST_TEST(github.at("status").at("provider").as_string() == "p");
  BOOST_TEST(!github.at("status").at("version").as_string().empty());
  // An env file keeps no time of writing: no last change to show.
  BOOST_TEST(github.at("status").at("last_change").is_null());

  const auto &email = rows.at("Email.SMTPPassword");
  BOOST_TEST(email.at("override").as_bool());
  BOOST_TEST(email.at("rule").as_string() == "keys.Email.SMTPPassword");
  BOOST_TEST(email.at("chain").at(0).at("provider").as_string() == "q");
  BOOST_TEST(email.at("status").at("state").as_string() == "not_found");  // other.env lacks it
  BOOST_TEST(
      contains(std::string(email.at("status").at("message").as_string()), "Email__SMTPPassword"));

  const auto &refused = rows.at("CIAdmin.AzureAwsS3SK");
  BOOST_TEST(refused.at("status").at("state").as_string() == "refused");
  BOOST_TEST(contains(std::string(refused.at("status").at("message").as_string()), "deny"));
  BOOST_TEST(rows.at("Marketplace.ImportCDNPassword").at("status").at("state").as_string() ==
             "not_found");
}

BOOST_AUTO_TEST_CASE(an_unavailable_provider_shows_its_message_in_statuses_and_providers) {
  AgentDirectory directory;
  std::string policy = directory.policy(R"({"Email": "broken", "*": "p"})");
  policy.insert(
      policy.find(R"("p": )"),
      R"("broken": {"plugin": "env_file", "config": {"path": "/nonexistent/dir/x.env"}}, )");
  Panel panel({}, policy);
  BOOST_TEST_REQUIRE(panel.login().status == 200);
  auto rows = rows_of(json::parse(panel.get("/api/credentials").body));
  const auto &email = rows.at("Email.SMTPPassword").at("status");
  BOOST_TEST(email.at("state").as_string() != "resolved");
  BOOST_TEST(contains(std::string(email.at("message").as_string()), "broken"),
             email.at("message").as_string());

  auto providers = json::parse(panel.get("/api/providers").body).at("providers").as_array();
  BOOST_TEST_REQUIRE(providers.size() == 3u);
  BOOST_TEST(providers[0].at("name").as_string() == "broken");
  BOOST_TEST(providers[0].at("health").as_string() != "ok");
  BOOST_TEST(!providers[0].at("message").as_string().empty());
  BOOST_TEST(providers[1].at("name").as_string() == "p");
  BOOST_TEST(providers[1].at("health").as_string() == "ok");
  BOOST_TEST(providers[1].at("plugin").as_string() == "env_file");
  BOOST_TEST(providers[1].at("keys").as_int64() == 29);
  BOOST_TEST(!providers[1].at("history").as_bool());  // an env file keeps no versions
  BOOST_TEST(!providers[1].at("soft_delete").as_bool());
}

BOOST_AUTO_TEST_CASE(logins_and_status_reads_are_audited_with_the_admin_and_the_peer) {
  AgentDirectory directory;
  Panel panel({}, directory.policy(R"({"*": "p"})", R"("audit": {"file": "audit.log"})"));
  BOOST_TEST(panel.login("0" + kAdminToken.substr(1)).status == 401);
  BOOST_TEST_REQUIRE(panel.login().status == 200);
  BOOST_TEST(panel.get("/api/credentials").status == 200);
  auto events = json::parse(panel.get("/api/audit").body).at("events").as_array();
  bool login_seen = false;
  bool read_seen = false;
  for (const auto &event : events) {
    std::string caller(event.at("caller").as_string());
    if (event.at("operation") == "login" && event.at("outcome") == "ok")
      login_seen = caller == "admin:admin-token@127.0.0.1";
    if (event.at("operation") == "get" && event.at("key") == "VCS.GithubAdminPAT")
      read_seen = caller == "admin:admin-token@127.0.0.1";
  }
  BOOST_TEST(login_seen);
  BOOST_TEST(read_seen);
  std::string log = read_file(panel.directory.directory / "audit.log");
  BOOST_TEST(contains(log, R"("operation":"login","outcome":"denied")"), log);
  BOOST_TEST(contains(log, R"("operation":"login","outcome":"ok")"), log);
  BOOST_TEST(contains(log, R"("caller":"admin:admin-token@127.0.0.1")"), log);
  for (const auto &[key, value] : agent_values()) BOOST_TEST(!contains(log, value), key);
  BOOST_TEST(!contains(log, kAdminToken));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(serving)

BOOST_AUTO_TEST_CASE(panel_connections_do_not_count_against_the_secrets_api_cap) {
  Panel panel({"--max-connections", "1"});
  std::vector<HttpConnection> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(HttpConnection::tcp(panel.port));
    held.back().send("GET / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(panel.port) +
                     "\r\n\r\n");
    BOOST_TEST(held.back().read_reply().status == 200);
  }
  auto api = HttpConnection::unix_socket(panel.socket.string());
  BOOST_TEST(api.get("/healthz").status == 200);
}

BOOST_AUTO_TEST_CASE(sigterm_stops_the_panel_and_the_agent_cleanly) {
  Panel panel;
  BOOST_TEST_REQUIRE(panel.login().status == 200);
  auto idle = HttpConnection::tcp(panel.port);  // a keep-alive connection left open
  panel.agent->signal(SIGTERM);
  auto status = panel.agent->wait_exit();
  BOOST_TEST_REQUIRE(status.has_value());
  BOOST_TEST(*status == 0, panel.agent->log());
  BOOST_TEST(contains(panel.agent->log(), "admin panel stopped"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(options)

BOOST_AUTO_TEST_CASE(a_token_file_others_may_read_or_a_short_token_is_refused) {
  AgentDirectory directory;
  auto policy = directory.write("coffer.json", directory.policy());
  auto open_token = directory.write("open.token", kAdminToken, 0644);
  auto socket = (directory.directory / "a.sock").string();
  auto run = [&](const std::string &token_file) {
    return run_cli(directory, {"--policy", policy.string(), "serve", "--socket", socket, "--admin",
                               "127.0.0.1:0", "--admin-token-file", token_file});
  };
  auto loose = run(open_token.string());
  BOOST_TEST(loose.status == 2, loose.err);
  BOOST_TEST(contains(loose.err, open_token.string()), loose.err);
  BOOST_TEST(contains(loose.err, "chmod 600"), loose.err);

  auto short_token = directory.write("short.token", "0123456789abcdef0123456789abcde", 0600);
  auto weak = run(short_token.string());
  BOOST_TEST(weak.status == 2, weak.err);
  BOOST_TEST(contains(weak.err, "128 bits"), weak.err);
  BOOST_TEST(!contains(weak.err, "0123456789abcdef"), weak.err);

  auto no_token = run_cli(directory, {"--policy", policy.string(), "serve", "--socket", socket,
                                      "--admin", "127.0.0.1:0"});
  BOOST_TEST(no_token.status == 2, no_token.err);
  BOOST_TEST(contains(no_token.err, "--admin-token-file"), no_token.err);

  auto remote = run_cli(
      directory, {"--policy", policy.string(), "serve", "--socket", socket, "--admin", "0.0.0.0:0",
                  "--admin-token-file", directory.write("good.token", kAdminToken, 0600).string()});
  BOOST_TEST(remote.status == 2, remote.err);
  BOOST_TEST(contains(remote.err, "--admin 0.0.0.0:0"), remote.err);
  BOOST_TEST(contains(remote.err, "loopback"), remote.err);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(entry)

// Shaped to be found if it leaks, with the characters a form must escape.
const std::string kEntered = "cdn-Entered-Echo-31f0&=+% \"quoted\"";

BOOST_AUTO_TEST_CASE(an_entered_value_is_stored_as_a_new_version_and_never_sent_back) {
  AgentDirectory directory;
  auto policy = writable_policy(directory, R"("audit": {"file": "audit.log"})");
  Panel panel({}, policy);
  BOOST_TEST_REQUIRE(panel.login().status == 200);
  auto stored = panel.send(post_request("/api/credentials/Marketplace.ImportCDNPassword/value",
                                        "value=" + form_encoded(kEntered)));
  BOOST_TEST_REQUIRE(stored.status == 200, stored.body);
  BOOST_TEST(!contains(stored.body, "Entered-Echo"));
  auto answer = json::parse(stored.body);
  BOOST_TEST(answer.at("provider").as_string() == "p");
  BOOST_TEST(answer.at("key").as_string() == "Marketplace.ImportCDNPassword");

  // `coffer get` reads what was entered.
  auto get =
      run_cli(panel.directory, {"--policy", (panel.directory.directory / "coffer.json").string(),
                                "get", "-n", "Marketplace.ImportCDNPassword"});
  BOOST_TEST(get.status == 0, get.err);
  BOOST_TEST(get.err == kEntered);

  auto view = panel.get("/api/credentials");
  BOOST_TEST(!contains(view.body, "Entered-Echo"));
  auto row = rows_of(json::parse(view.body)).at("Marketplace.ImportCDNPassword");
  BOOST_TEST(row.at("status").at("state").as_string() == "resolved");
  BOOST_TEST(!contains(panel.agent->log(), "Entered-Echo"));
  BOOST_TEST(!contains(read_file(panel.directory.directory / "audit.log"), "Entered-Echo"));
  BOOST_TEST(contains(read_file(panel.directory.directory / "audit.log"),
                      R"("operation":"put","outcome":"ok")"));
}

BOOST_AUTO_TEST_CASE(
    an_entry_without_csrf_for_a_read_only_provider_or_an_unknown_key_stores_nothing) {
  AgentDirectory directory;
  // "q" (other.env) is not writable; Email is routed there.
  auto policy = writable_policy(directory, R"("keys": {"Email.SMTPPassword": "q"})");
  Panel panel({}, policy);
  BOOST_TEST_REQUIRE(panel.login().status == 200);
  auto no_csrf = post_request("/api/credentials/Marketplace.ImportCDNPassword/value",
                              "value=" + form_encoded(kEntered));
  no_csrf.with_csrf = false;
  BOOST_TEST(panel.send(no_csrf).status == 403);

  auto read_only = panel.send(
      post_request("/api/credentials/Email.SMTPPassword/value", "value=" + form_encoded(kEntered)));
  BOOST_TEST(read_only.status >= 400, read_only.body);
  BOOST_TEST(contains(read_only.body, "q"), read_only.body);
  BOOST_TEST(!contains(read_only.body, "Entered-Echo"));

  auto unknown = panel.send(post_request("/api/credentials/Marketplace.NoSuchKey/value",
                                         "value=" + form_encoded(kEntered)));
  BOOST_TEST(unknown.status == 400, unknown.body);
  auto empty =
      panel.send(post_request("/api/credentials/Marketplace.ImportCDNPassword/value", "value="));
  BOOST_TEST(empty.status == 400, empty.body);
  auto get_entry = panel.get("/api/credentials/Marketplace.ImportCDNPassword/value");
  BOOST_TEST(get_entry.status == 405);

  auto rows = rows_of(json::parse(panel.get("/api/credentials").body));
  BOOST_TEST(rows.at("Marketplace.ImportCDNPassword").at("status").at("state").as_string() ==
             "not_found");
  BOOST_TEST(!contains(read_file(panel.directory.directory / "other.env"), "Entered-Echo"));
  BOOST_TEST(!contains(panel.agent->log(), "Entered-Echo"));
}

BOOST_AUTO_TEST_CASE(test_resolves_one_credential_now_and_explains_its_chain) {
  AgentDirectory directory;
  Panel panel({}, directory.policy(R"({"VCS": ["q", "p"], "*": "p"})"));
  BOOST_TEST_REQUIRE(panel.login().status == 200);
  auto reply = panel.get("/api/credentials/VCS.GitlabAdminPAT/test");
  BOOST_TEST_REQUIRE(reply.status == 200, reply.body);
  auto test = json::parse(reply.body);
  BOOST_TEST(test.at("rule").as_string() == "routes.VCS");
  BOOST_TEST(test.at("status").at("state").as_string() == "not_found");
  const auto &steps = test.at("steps").as_array();
  BOOST_TEST_REQUIRE(steps.size() == 2u);
  BOOST_TEST(steps[0].at("provider").as_string() == "q");
  BOOST_TEST(steps[0].at("name").as_string() == "VCS__GitlabAdminPAT");
  BOOST_TEST(steps[0].at("outcome").as_string() == "not_found");

  auto found = json::parse(panel.get("/api/credentials/VCS.GithubAdminPAT/test").body);
  BOOST_TEST(found.at("status").at("state").as_string() == "resolved");
  BOOST_TEST(found.at("status").at("provider").as_string() == "q");  // other.env has it first
  BOOST_TEST(found.at("steps").at(0).at("outcome").as_string() == "found");
  auto raw = panel.get("/api/credentials/VCS.GithubAdminPAT/test").body;
  BOOST_TEST(!contains(raw, "ghp-Other-Delta-0042"));
  BOOST_TEST(!contains(raw, agent_values().at("VCS.GithubAdminPAT")));
  BOOST_TEST(panel.get("/api/credentials/not-a-key/test").status == 400);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(switching)

// Providers p (secrets.env, writable), q (other.env, read-only) and w
// (new.env, writable, empty); a comment the edit must keep.
std::string switch_policy(const AgentDirectory &directory) {
  directory.write_env("new.env", {});
  std::string policy = writable_policy(directory, R"("audit": {"file": "audit.log"})");
  std::string w = R"("w": {"plugin": "env_file", "config": {"path": ")" +
                  (directory.directory / "new.env").string() + R"(", "writable": true}}, )";
  policy.insert(policy.find(R"("p": )"), w);
  return "// the platform's credentials: keep this comment\n" + policy;
}

std::string switch_form(const std::string &scope, const std::string &name, const std::string &to,
                        bool migrate = true) {
  return "scope=" + scope + "&name=" + name + "&to=" + to + "&migrate=" + (migrate ? "1" : "0");
}

// Polls the job until it is no longer running (deadline 60 s).
json::object finished_job(Panel &panel, const std::string &id) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto reply = panel.get("/api/job?id=" + id);
    BOOST_REQUIRE_MESSAGE(reply.status == 200, reply.body);
    auto job = json::parse(reply.body).as_object();
    if (job.at("state") != "running") return job;
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "the job did not finish");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

BOOST_AUTO_TEST_CASE(a_category_moves_with_its_values_after_a_preview_and_the_store_reloads) {
  AgentDirectory directory;
  Panel panel({}, switch_policy(directory));
  auto policy_file = panel.directory.directory / "coffer.json";
  std::string before = read_file(policy_file);
  BOOST_TEST_REQUIRE(panel.login().status == 200);

  auto preview =
      panel.send(post_request("/api/switch-preview", switch_form("category", "Email", "w")));
  BOOST_TEST_REQUIRE(preview.status == 200, preview.body);
  auto change = json::parse(preview.body);
  BOOST_TEST(change.at("from").as_string() == "p");
  BOOST_TEST(change.at("possible").as_bool());
  BOOST_TEST(change.at("keys").as_array().size() == 1u);
  bool added = false;
  for (const auto &line : change.at("diff").as_array())
    if (line.at("kind") == "+" && contains(std::string(line.at("text").as_string()), "\"Email\""))
      added = true;
  BOOST_TEST(added, preview.body);
  BOOST_TEST(read_file(policy_file) == before);  // a preview changes nothing

  auto started = panel.send(post_request("/api/switch", switch_form("category", "Email", "w")));
  BOOST_TEST_REQUIRE(started.status == 202, started.body);
  auto job = finished_job(panel, std::string(json::parse(started.body).at("job").as_string()));
  BOOST_TEST_REQUIRE(job.at("state") == "done", json::serialize(job));
  BOOST_TEST(job.at("keys").at(0).at("key") == "Email.SMTPPassword");
  BOOST_TEST(job.at("keys").at(0).at("status") == "copied");

  std::string after = read_file(policy_file);
  BOOST_TEST(after.rfind("// the platform's credentials: keep this comment\n", 0) == 0u, after);
  BOOST_TEST(contains(after, R"("Email": "w")"), after);
  auto rows = rows_of(json::parse(panel.get("/api/credentials").body));
  const auto &email = rows.at("Email.SMTPPassword");
  BOOST_TEST(email.at("chain").at(0).at("provider").as_string() == "w");
  BOOST_TEST(email.at("chain").at(0).at("name").as_string() == "Email__SMTPPassword");
  BOOST_TEST(email.at("status").at("state").as_string() == "resolved");
  BOOST_TEST(email.at("status").at("provider").as_string() == "w");
  BOOST_TEST(rows.at("VCS.GithubAdminPAT").at("chain").at(0).at("provider").as_string() == "p");

  auto get = run_cli(panel.directory,
                     {"--policy", policy_file.string(), "get", "-n", "Email.SMTPPassword"});
  BOOST_TEST(get.status == 0, get.err);
  BOOST_TEST(get.err == agent_values().at("Email.SMTPPassword"));
  std::string audit = read_file(panel.directory.directory / "audit.log");
  BOOST_TEST(contains(audit, R"("operation":"policy_edit")"), audit);
  BOOST_TEST(contains(audit, R"("caller":"admin:admin-token@127.0.0.1")"), audit);
  BOOST_TEST(!contains(audit, "smtp-Agent-Bravo"));
  BOOST_TEST(!contains(panel.agent->log(), "smtp-Agent-Bravo"));
}

BOOST_AUTO_TEST_CASE(a_switch_whose_copy_fails_leaves_the_policy_and_the_values_as_they_were) {
  AgentDirectory directory;
  Panel panel({}, switch_policy(directory));
  auto policy_file = panel.directory.directory / "coffer.json";
  std::string before = read_file(policy_file);
  std::string other_before = read_file(panel.directory.directory / "other.env");
  BOOST_TEST_REQUIRE(panel.login().status == 200);
  // q is read-only: the copy of VCS.GithubAdminPAT fails.
  auto started = panel.send(post_request("/api/switch", switch_form("category", "VCS", "q")));
  BOOST_TEST_REQUIRE(started.status == 202, started.body);
  auto job = finished_job(panel, std::string(json::parse(started.body).at("job").as_string()));
  BOOST_TEST(job.at("state") == "failed", json::serialize(job));
  BOOST_TEST(contains(std::string(job.at("message").as_string()), "not changed"));
  BOOST_TEST(read_file(policy_file) == before);
  BOOST_TEST(read_file(panel.directory.directory / "other.env") == other_before);
  auto rows = rows_of(json::parse(panel.get("/api/credentials").body));
  BOOST_TEST(rows.at("VCS.GithubAdminPAT").at("chain").at(0).at("provider").as_string() == "p");
  BOOST_TEST(rows.at("VCS.GithubAdminPAT").at("status").at("state").as_string() == "resolved");
}

// VCS routed to the core's in-memory provider "m" (tests/core), whose read of
// VCS.GitlabAdminPAT fails; the target "w" already holds a different value
// for VCS.GithubAdminPAT, which the switch overwrites before it fails.
BOOST_AUTO_TEST_CASE(a_failed_switch_writes_back_the_values_its_copies_replaced) {
  const char *core_plugins = std::getenv("COFFER_TEST_CORE_PLUGINS");
  BOOST_TEST_REQUIRE(core_plugins != nullptr);
  AgentDirectory directory;
  std::string policy = switch_policy(directory);
  directory.write_env("new.env", {{"VCS.GithubAdminPAT", "earlier-Target-Value"}});
  std::string dirs = R"("plugin_dirs": [)";
  policy.insert(policy.find(dirs) + dirs.size(), "\"" + std::string(core_plugins) + "\", ");
  policy.insert(policy.find(R"("p": )"),
                R"("m": {"plugin": "memory", "config": {"values": {"VCS.GithubAdminPAT": )"
                R"("moved-Source-Value", "VCS.GitlabAdminPAT": "x"}, )"
                R"("fail": {"VCS.GitlabAdminPAT": "unavailable"}}}, )");
  policy.replace(policy.find(R"("routes": {)"), 11, R"("routes": {"VCS": "m", )");
  Panel panel({}, policy);
  auto target = directory.directory / "new.env";
  BOOST_TEST_REQUIRE(panel.login().status == 200);

  auto started = panel.send(post_request("/api/switch", switch_form("category", "VCS", "w")));
  BOOST_TEST_REQUIRE(started.status == 202, started.body);
  auto job = finished_job(panel, std::string(json::parse(started.body).at("job").as_string()));
  BOOST_TEST_REQUIRE(job.at("state") == "failed", json::serialize(job));
  std::map<std::string, json::object> keys;
  for (const auto &key : job.at("keys").as_array())
    keys[std::string(key.at("key").as_string())] = key.as_object();
  BOOST_TEST(keys.at("VCS.GitlabAdminPAT").at("status") == "failed");
  BOOST_TEST(keys.at("VCS.GithubAdminPAT").at("status") == "copied");
  BOOST_TEST(contains(std::string(keys.at("VCS.GithubAdminPAT").at("note").as_string()),
                      "its previous value in w was written back"),
             json::serialize(job));
  std::string text = read_file(target);
  BOOST_TEST(contains(text, "earlier-Target-Value"), text);
  BOOST_TEST(!contains(text, "moved-Source-Value"), text);
  auto rows = rows_of(json::parse(panel.get("/api/credentials").body));
  BOOST_TEST(rows.at("VCS.GithubAdminPAT").at("chain").at(0).at("provider").as_string() == "m");
  BOOST_TEST(!contains(json::serialize(job), "Value"));
}

BOOST_AUTO_TEST_CASE(one_key_moves_without_copying_by_a_per_key_override) {
  AgentDirectory directory;
  Panel panel({}, switch_policy(directory));
  BOOST_TEST_REQUIRE(panel.login().status == 200);
  auto started =
      panel.send(post_request("/api/switch", switch_form("key", "VCS.GithubAdminPAT", "w", false)));
  BOOST_TEST_REQUIRE(started.status == 202, started.body);
  auto job = finished_job(panel, std::string(json::parse(started.body).at("job").as_string()));
  BOOST_TEST_REQUIRE(job.at("state") == "done", json::serialize(job));
  BOOST_TEST(job.at("keys").as_array().empty());
  auto rows = rows_of(json::parse(panel.get("/api/credentials").body));
  const auto &github = rows.at("VCS.GithubAdminPAT");
  BOOST_TEST(github.at("override").as_bool());
  BOOST_TEST(github.at("chain").at(0).at("provider").as_string() == "w");
  BOOST_TEST(github.at("status").at("state").as_string() == "not_found");  // not copied
  BOOST_TEST(rows.at("VCS.GitlabAdminPAT").at("chain").at(0).at("provider").as_string() == "p");
}

// The default policy with "p" writable and "held": the core's in-memory
// provider (tests/core), whose puts are never answered on their own: a
// switch that copies into it runs until the core's deadline (timeout_ms)
// answers the put for it, and then fails.
std::string held_switch_policy(const AgentDirectory &directory) {
  const char *core_plugins = std::getenv("COFFER_TEST_CORE_PLUGINS");
  BOOST_TEST_REQUIRE(core_plugins != nullptr);
  std::string policy = writable_policy(directory, R"("timeout_ms": 10000)");
  std::string dirs = R"("plugin_dirs": [)";
  policy.insert(policy.find(dirs) + dirs.size(), "\"" + std::string(core_plugins) + "\", ");
  policy.insert(policy.find(R"("p": )"),
                R"("held": {"plugin": "memory", "config": {"values": {}, "hang": ["put"]}}, )");
  return policy;
}

BOOST_AUTO_TEST_CASE(an_entry_is_refused_with_409_while_a_switch_of_its_category_runs) {
  AgentDirectory directory;
  Panel panel({}, held_switch_policy(directory));
  BOOST_TEST_REQUIRE(panel.login().status == 200);
  auto started = panel.send(post_request("/api/switch", switch_form("category", "Email", "held")));
  BOOST_TEST_REQUIRE(started.status == 202, started.body);
  std::string id(json::parse(started.body).at("job").as_string());

  auto refused = panel.send(post_request("/api/credentials/Email.SMTPPassword/value",
                                         "value=" + form_encoded(entry::kEntered)));
  // The switch was still copying (its put is held) when the entry came.
  auto during = json::parse(panel.get("/api/job?id=" + id).body).as_object();
  BOOST_TEST_REQUIRE(during.at("state") == "running", json::serialize(during));
  BOOST_TEST(refused.status == 409, refused.body);
  BOOST_TEST(contains(refused.body, "storage switch for Email.SMTPPassword"), refused.body);
  BOOST_TEST(!contains(refused.body, "Entered-Echo"));
  // Another category is not held up.
  auto other = panel.send(post_request("/api/credentials/Marketplace.ImportCDNPassword/value",
                                       "value=" + form_encoded(entry::kEntered)));
  BOOST_TEST(other.status == 200, other.body);

  auto job = finished_job(panel, id);
  BOOST_TEST(job.at("state") == "failed", json::serialize(job));
  auto rows = rows_of(json::parse(panel.get("/api/credentials").body));
  BOOST_TEST(rows.at("Email.SMTPPassword").at("chain").at(0).at("provider").as_string() == "p");
  auto after = panel.send(post_request("/api/credentials/Email.SMTPPassword/value",
                                       "value=" + form_encoded(entry::kEntered)));
  BOOST_TEST(after.status == 200, after.body);
}

BOOST_AUTO_TEST_CASE(named_admins_log_in_as_themselves_and_their_switches_carry_their_name) {
  AgentDirectory directory;
  const std::string bob(kAdminToken.rbegin(), kAdminToken.rend());
  auto tokens = directory.write("admins.token", "alice:" + kAdminToken + "\nbob:" + bob + "\n");
  Panel panel({"--admin-token-file", tokens.string()}, switch_policy(directory));
  auto login = panel.login(bob);
  BOOST_TEST_REQUIRE(login.status == 200, login.body);
  BOOST_TEST(json::parse(login.body).at("identity").as_string() == "bob");
  auto started =
      panel.send(post_request("/api/switch", switch_form("key", "VCS.GithubAdminPAT", "w", false)));
  BOOST_TEST_REQUIRE(started.status == 202, started.body);
  auto job = finished_job(panel, std::string(json::parse(started.body).at("job").as_string()));
  BOOST_TEST_REQUIRE(job.at("state") == "done", json::serialize(job));
  BOOST_TEST(panel.login(kAdminToken).status == 200);
  BOOST_TEST(json::parse(panel.get("/api/session").body).at("identity").as_string() == "alice");

  // The audit log's lines by operation, with the caller of each.
  std::multimap<std::string, std::string> callers;
  std::istringstream lines(read_file(panel.directory.directory / "audit.log"));
  for (std::string line; std::getline(lines, line);) {
    auto event = json::parse(line).as_object();
    if (event.contains("caller"))
      callers.emplace(std::string(event.at("operation").as_string()),
                      std::string(event.at("caller").as_string()));
  }
  auto has = [&](const std::string &operation, const std::string &caller) {
    auto [first, last] = callers.equal_range(operation);
    return std::any_of(first, last, [&](const auto &entry) { return entry.second == caller; });
  };
  BOOST_TEST(has("login", "admin:bob@127.0.0.1"));
  BOOST_TEST(has("policy_edit", "admin:bob@127.0.0.1"));
  BOOST_TEST(has("login", "admin:alice@127.0.0.1"));
  BOOST_TEST(!has("login", "admin:admin-token@127.0.0.1"));
  std::string log = read_file(panel.directory.directory / "audit.log") + panel.agent->log();
  BOOST_TEST(!contains(log, kAdminToken));
  BOOST_TEST(!contains(log, bob));
}

BOOST_AUTO_TEST_CASE(a_switch_request_that_makes_no_sense_or_lacks_csrf_is_refused) {
  AgentDirectory directory;
  Panel panel({}, switch_policy(directory));
  auto policy_file = panel.directory.directory / "coffer.json";
  std::string before = read_file(policy_file);
  BOOST_TEST_REQUIRE(panel.login().status == 200);
  auto same =
      panel.send(post_request("/api/switch-preview", switch_form("category", "Email", "p")));
  BOOST_TEST(same.status == 400, same.body);
  BOOST_TEST(contains(same.body, "already stored"), same.body);
  auto unknown = panel.send(post_request("/api/switch", switch_form("category", "Email", "nope")));
  BOOST_TEST(unknown.status == 400, unknown.body);
  auto no_category = panel.send(post_request("/api/switch", switch_form("category", "Nope", "w")));
  BOOST_TEST(no_category.status == 400, no_category.body);
  auto no_csrf = post_request("/api/switch", switch_form("category", "Email", "w"));
  no_csrf.with_csrf = false;
  BOOST_TEST(panel.send(no_csrf).status == 403);
  BOOST_TEST(panel.get("/api/job?id=0000").status == 404);
  BOOST_TEST(read_file(policy_file) == before);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(provider_settings)

// Providers p, q and a Key Vault "vault" (never reached: a load does not call it).
std::string vault_policy(const AgentDirectory &directory) {
  std::string policy = directory.policy(R"({"BuildCluster": "vault", "*": "p"})");
  policy.insert(policy.find(R"("p": )"),
                R"("vault": {"plugin": "azure_keyvault", "config": {"vault_name": "pmp-prod", )"
                R"("credential": {"type": "managed_identity", )"
                R"("imds_endpoint": "http://127.0.0.1:9/metadata/identity/oauth2/token"}}}, )");
  return "// providers: keep this comment\n" + policy;
}

BOOST_AUTO_TEST_CASE(a_vault_name_is_changed_after_the_provider_accepts_it) {
  AgentDirectory directory;
  Panel panel({}, vault_policy(directory));
  auto policy_file = panel.directory.directory / "coffer.json";
  BOOST_TEST_REQUIRE(panel.login().status == 200);
  auto providers = json::parse(panel.get("/api/providers").body).at("providers").as_array();
  BOOST_TEST_REQUIRE(providers[0].at("name").as_string() == "vault");
  BOOST_TEST(providers[0].at("settings").at("vault_name").as_string() == "pmp-prod");
  BOOST_TEST(providers[1].at("settings").at("path").as_string() ==
             (directory.directory / "secrets.env").string());

  auto changed = panel.send(
      post_request("/api/provider-setting", "provider=vault&field=vault_name&value=pmp-staging"));
  BOOST_TEST_REQUIRE(changed.status == 200, changed.body);
  BOOST_TEST(contains(changed.body, "providers.vault.config.vault_name"), changed.body);
  std::string after = read_file(policy_file);
  BOOST_TEST(after.rfind("// providers: keep this comment\n", 0) == 0u, after);
  BOOST_TEST(contains(after, R"("vault_name": "pmp-staging")"), after);
  auto rows = rows_of(json::parse(panel.get("/api/credentials").body));
  BOOST_TEST(rows.at("BuildCluster.KubernetesConfigureToken").at("chain").at(0).at("provider") ==
             "vault");
  auto shown = json::parse(panel.get("/api/providers").body).at("providers").as_array();
  BOOST_TEST(shown[0].at("settings").at("vault_name").as_string() == "pmp-staging");
}

BOOST_AUTO_TEST_CASE(a_setting_the_provider_or_the_rules_refuse_leaves_the_policy_as_it_was) {
  AgentDirectory directory;
  Panel panel({}, vault_policy(directory));
  auto policy_file = panel.directory.directory / "coffer.json";
  std::string before = read_file(policy_file);
  BOOST_TEST_REQUIRE(panel.login().status == 200);
  auto bad_name = panel.send(
      post_request("/api/provider-setting", "provider=vault&field=vault_name&value=not_a%21vault"));
  BOOST_TEST(bad_name.status == 400, bad_name.body);
  BOOST_TEST(contains(bad_name.body, "vault_name"), bad_name.body);
  auto elsewhere = panel.send(
      post_request("/api/provider-setting",
                   "provider=vault&field=vault_url&value=https%3A%2F%2Fattacker.example%2F"));
  BOOST_TEST(elsewhere.status == 400, elsewhere.body);
  auto env_path = panel.send(
      post_request("/api/provider-setting", "provider=p&field=path&value=%2Fetc%2Fshadow"));
  BOOST_TEST(env_path.status == 400, env_path.body);
  auto no_csrf =
      post_request("/api/provider-setting", "provider=vault&field=vault_name&value=pmp-x");
  no_csrf.with_csrf = false;
  BOOST_TEST(panel.send(no_csrf).status == 403);
  BOOST_TEST(read_file(policy_file) == before);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(trusted_proxy)

const std::string kProxySecret = "7c1e5a9d3b8f2e6a4c0d9b7f5e3a1c8e6d4b2f0a9e7c5b3d1f8e6a4c2b0d9f7e";

std::vector<std::string> proxy_arguments(const AgentDirectory &directory,
                                         const std::string &address) {
  auto secret = directory.write("proxy.secret", kProxySecret + "\n", 0600);
  return {"--admin-trusted-proxy", address, "--admin-proxy-secret-file", secret.string()};
}

HttpReply proxied(Panel &panel, const std::string &headers) {
  auto connection = HttpConnection::tcp(panel.port);
  connection.send("GET /api/session HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(panel.port) +
                  "\r\n" + headers + "Connection: close\r\n\r\n");
  return connection.read_reply();
}

BOOST_AUTO_TEST_CASE(the_proxy_names_the_admin_only_with_its_secret) {
  AgentDirectory directory;
  Panel panel(proxy_arguments(directory, "127.0.0.1"),
              directory.policy(R"({"*": "p"})", R"("audit": {"file": "audit.log"})"));
  auto with_secret = proxied(panel, "X-Coffer-Proxy-Secret: " + kProxySecret +
                                        "\r\nX-Forwarded-User: alice\r\n"
                                        "X-Forwarded-Email: alice@example.com\r\n");
  BOOST_TEST_REQUIRE(with_secret.status == 200, with_secret.body);
  BOOST_TEST(json::parse(with_secret.body).at("identity").as_string() == "alice");
  BOOST_TEST(contains(with_secret.header("set-cookie"), "HttpOnly"));
  BOOST_TEST(!contains(with_secret.body, kProxySecret));

  auto without_secret = proxied(panel, "X-Forwarded-User: mallory\r\n");
  BOOST_TEST(without_secret.status == 401, without_secret.body);
  auto wrong_secret = proxied(panel, "X-Coffer-Proxy-Secret: " + std::string(64, 'a') +
                                         "\r\nX-Forwarded-User: mallory\r\n");
  BOOST_TEST(wrong_secret.status == 401, wrong_secret.body);
  auto twice = proxied(panel, "X-Coffer-Proxy-Secret: " + kProxySecret +
                                  "\r\nX-Forwarded-User: alice\r\nX-Forwarded-User: mallory\r\n");
  BOOST_TEST(twice.status == 400, twice.body);
  std::string audit = read_file(panel.directory.directory / "audit.log");
  BOOST_TEST(contains(audit, R"("caller":"admin:alice@127.0.0.1")"), audit);
  BOOST_TEST(!contains(audit, "mallory"), audit);
  BOOST_TEST(!contains(audit, kProxySecret));
}

BOOST_AUTO_TEST_CASE(headers_from_another_address_are_not_believed) {
  AgentDirectory directory;
  Panel panel(proxy_arguments(directory, "127.0.0.2"));
  auto reply =
      proxied(panel, "X-Coffer-Proxy-Secret: " + kProxySecret + "\r\nX-Forwarded-User: alice\r\n");
  BOOST_TEST(reply.status == 401, reply.body);
}

BOOST_AUTO_TEST_CASE(a_proxy_address_without_a_secret_is_refused_at_start) {
  AgentDirectory directory;
  auto policy = directory.write("coffer.json", directory.policy());
  auto token = directory.write("admin.token", kAdminToken, 0600);
  auto outcome = run_cli(
      directory, {"--policy", policy.string(), "serve", "--socket",
                  (directory.directory / "a.sock").string(), "--admin", "127.0.0.1:0",
                  "--admin-token-file", token.string(), "--admin-trusted-proxy", "127.0.0.1"});
  BOOST_TEST(outcome.status == 2, outcome.err);
  BOOST_TEST(contains(outcome.err, "--admin-proxy-secret-file"), outcome.err);
}

BOOST_AUTO_TEST_SUITE_END()
