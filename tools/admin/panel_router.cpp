#include "panel_router.hpp"

#include <openssl/crypto.h>
#include <coffer/catalog.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/serialize.hpp>

#include "assets.hpp"
#include "credential_actions.hpp"
#include "panel_views.hpp"
#include "provider_settings.hpp"
#include "router.hpp"

namespace coffer::admin {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

PanelResponse json_response(int status, const json::object &body) {
  PanelResponse response;
  response.status = status;
  response.body = agent::WipedString(json::serialize(body));
  return response;
}

PanelResponse error(int status, std::string_view message) {
  return json_response(status, json::object{{"error", message}});
}

PanelResponse asset_response(const Asset &asset) {
  PanelResponse response;
  response.content_type = std::string(asset.content_type);
  response.body.reserve(asset.bytes.size());
  response.body.append(
      std::string_view(reinterpret_cast<const char *>(asset.bytes.data()), asset.bytes.size()));
  return response;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The value of `name` in an application/x-www-form-urlencoded body,
// percent-decoded into wiped memory; false when it is absent or malformed.
bool form_field(std::string_view body, std::string_view name, agent::WipedString &out) {
  while (!body.empty()) {
    auto end = body.find('&');
    auto pair = body.substr(0, end);
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
    auto equals = pair.find('=');
    if (equals == std::string_view::npos || pair.substr(0, equals) != name) continue;
    auto encoded = pair.substr(equals + 1);
    out.reserve(encoded.size());
    for (std::size_t i = 0; i < encoded.size(); ++i) {
      char c = encoded[i];
      if (c == '+') {
        out.push_back(' ');
      } else if (c == '%') {
        if (i + 2 >= encoded.size()) return false;
        int high = hex_value(encoded[i + 1]);
        int low = hex_value(encoded[i + 2]);
        if (high < 0 || low < 0) return false;
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
      } else {
        out.push_back(c);
      }
    }
    return true;
  }
  return false;
}

// The HTTP status for a Store's refusal of an administrative action.
int status_for(Code code) {
  switch (code) {
    case Code::invalid_argument:
      return 400;
    case Code::not_found:
      return 404;
    case Code::denied:
      return 403;
    case Code::unsupported:
    case Code::invalid_config:
      return 409;
    case Code::unavailable:
    case Code::timeout:
      return 503;
    default:
      return 500;
  }
}

// A form field that is not secret ("" when absent or malformed).
std::string plain_field(std::string_view body, std::string_view name) {
  agent::WipedString value;
  if (!form_field(body, name, value)) return {};
  return std::string(value.view());
}

SwitchRequest switch_request(std::string_view body) {
  SwitchRequest request;
  std::string scope = plain_field(body, "scope");
  if (scope != "key" && scope != "category")
    throw Error(Code::invalid_argument, "the field \"scope\" must be \"key\" or \"category\"");
  request.scope = scope == "key" ? SwitchRequest::Scope::key : SwitchRequest::Scope::category;
  request.name = plain_field(body, "name");
  request.to = plain_field(body, "to");
  request.migrate = plain_field(body, "migrate") != "0";
  bool name_ok = request.scope == SwitchRequest::Scope::key
                     ? is_canonical_key(request.name)
                     : is_canonical_key(request.name + ".Name");
  if (!name_ok)
    throw Error(Code::invalid_argument, "the field \"name\" is not a key or category name");
  if (request.to.empty()) throw Error(Code::invalid_argument, "the field \"to\" names no provider");
  return request;
}

bool same_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string admin_caller(const std::string &identity, const std::string &client) {
  return "admin:" + identity + "@" + client;
}

std::string PanelRouter::cookie_name() const {
  return services_.secure ? "__Host-coffer_admin" : "coffer_admin";
}

std::string PanelRouter::session_cookie(const PanelRequest &request) const {
  std::string_view cookies = request[http::field::cookie];
  std::string name = cookie_name() + "=";
  while (!cookies.empty()) {
    auto end = cookies.find(';');
    auto item = cookies.substr(0, end);
    cookies = end == std::string_view::npos ? std::string_view() : cookies.substr(end + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.substr(0, name.size()) == name) return std::string(item.substr(name.size()));
  }
  return {};
}

void PanelRouter::add_security_headers(PanelResponse &response) const {
  auto &headers = response.headers;
  headers.push_back({"Content-Security-Policy", std::string(kContentSecurityPolicy)});
  headers.push_back({"X-Content-Type-Options", "nosniff"});
  headers.push_back({"Referrer-Policy", "no-referrer"});
  headers.push_back({"X-Frame-Options", "DENY"});
  headers.push_back({"Cache-Control", "no-store"});
  headers.push_back({"Cross-Origin-Opener-Policy", "same-origin"});
  headers.push_back({"Cross-Origin-Resource-Policy", "same-origin"});
  if (services_.secure) headers.push_back({"Strict-Transport-Security", "max-age=31536000"});
}

void PanelRouter::audit_login(const std::string &identity, const std::string &client, Code outcome,
                              const std::string &message) {
  std::string caller = admin_caller(identity, client);
  AccessEvent event;
  event.operation = "login";
  event.outcome = outcome;
  event.message = message;
  event.caller = caller;
  (void)services_.store.audit(event);
  services_.log.write(outcome == Code::ok ? LogLevel::info : LogLevel::warning,
                      outcome == Code::ok ? "admin logged in" : "admin login refused",
                      {{"identity", identity}, {"client", client}, {"reason", message}});
}

std::string PanelRouter::proxy_identity(const PanelRequest &request,
                                        const std::string &client) const {
  if (services_.trusted_proxy.empty() || services_.proxy_secret == nullptr) return {};
  static constexpr std::string_view kHeaders[] = {"X-Coffer-Proxy-Secret",
                                                  "X-Forwarded-Preferred-Username",
                                                  "X-Forwarded-User", "X-Forwarded-Email"};
  for (auto header : kHeaders)
    if (request.count(header) > 1)
      throw Error(Code::invalid_argument,
                  "the header " + std::string(header) + " is sent more than once");
  if (client != services_.trusted_proxy) return {};
  if (!services_.proxy_secret->matches(request["X-Coffer-Proxy-Secret"])) return {};
  for (std::size_t i = 1; i < std::size(kHeaders); ++i) {
    std::string_view value = request[kHeaders[i]];
    if (!value.empty() && value.size() <= 256) return std::string(value);
  }
  return {};
}

PanelResponse PanelRouter::login(const PanelRequest &request, const std::string &client) {
  std::string group = address_group(client);
  auto wait = services_.limiter.wait_before_attempt(group);
  const std::string unnamed(kUnnamedAdmin);
  if (wait.count() > 0) {
    audit_login(unnamed, client, Code::denied, "too many failed logins");
    auto response = error(429, "too many failed logins from this address; try again later");
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(wait).count() + 1;
    response.headers.push_back({"Retry-After", std::to_string(seconds)});
    return response;
  }
  agent::WipedString token;
  if (!form_field(request.body(), "token", token) || token.size() == 0)
    return error(400, "the login form sends the admin token as the field \"token\"");
  auto admin = services_.tokens.identify(token.view());
  token.wipe();
  if (!admin) {
    services_.limiter.record_failure(group);
    audit_login(unnamed, client, Code::denied, "wrong admin token");
    return error(401, "that is not the admin token");
  }
  services_.limiter.record_success(group);
  NewSession session = services_.sessions.create(*admin);
  audit_login(*admin, client, Code::ok, "");
  auto response = json_response(200, json::object{{"identity", *admin}, {"csrf", session.csrf}});
  std::string cookie = cookie_name() + "=" + session.id + "; Path=/; HttpOnly; SameSite=Strict" +
                       "; Max-Age=" + std::to_string(services_.session_lifetime_s);
  if (services_.secure) cookie += "; Secure";
  response.headers.push_back({"Set-Cookie", std::move(cookie)});
  return response;
}

PanelResponse PanelRouter::logout(const PanelRequest &, const std::string &session_id) {
  services_.sessions.end(session_id);
  auto response = json_response(200, json::object{{"logged_out", true}});
  std::string cookie = cookie_name() + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
  if (services_.secure) cookie += "; Secure";
  response.headers.push_back({"Set-Cookie", std::move(cookie)});
  return response;
}

PanelResponse PanelRouter::provider_setting(const PanelRequest &request,
                                            const std::string &caller) {
  if (request.method() != http::verb::post) return error(405, "change a setting with POST");
  SettingChange change{.provider = plain_field(request.body(), "provider"),
                       .field = plain_field(request.body(), "field"),
                       .value = plain_field(request.body(), "value")};
  try {
    std::string where = apply_setting_change(services_.store, services_.policy_file,
                                             services_.check_options, change);
    AccessEvent event;
    event.operation = "provider_edit";
    event.provider = change.provider;
    event.outcome = Code::ok;
    event.message = where;
    event.caller = caller;
    (void)services_.store.audit(event);
    services_.log.write(LogLevel::info, "admin changed a provider setting",
                        {{"caller", caller}, {"change", where}});
    return json_response(200, json::object{{"changed", where}});
  } catch (const Error &failure) {
    return error(status_for(failure.code()), failure.what());
  }
}

PanelResponse PanelRouter::switch_action(const PanelRequest &request, const std::string &endpoint,
                                         const std::string &caller) {
  bool post = request.method() == http::verb::post;
  try {
    if (endpoint == "switch-preview") {
      if (!post) return error(405, "preview a switch with POST");
      return json_response(200, services_.storage_switch.preview(switch_request(request.body())));
    }
    if (endpoint == "switch") {
      if (!post) return error(405, "start a switch with POST");
      std::string id = services_.storage_switch.start(switch_request(request.body()), caller);
      return json_response(202, json::object{{"job", id}});
    }
    if (request.method() != http::verb::get) return error(405, "read a job with GET");
    agent::Target target;
    std::string id;
    if (target.parse({request.target().data(), request.target().size()}))
      for (const auto &[name, value] : target.query)
        if (name == "id") id = value;
    auto job = services_.storage_switch.job(id);
    if (!job) return error(404, "no such job");
    return json_response(200, *job);
  } catch (const Error &failure) {
    return error(failure.code() == Code::unavailable ? 409 : status_for(failure.code()),
                 failure.what());
  }
}

PanelResponse PanelRouter::credential_action(const PanelRequest &request, const std::string &key,
                                             const std::string &action, const std::string &caller) {
  bool post = request.method() == http::verb::post;
  if (!is_canonical_key(key))
    return error(400, "the path does not name a key (Category.Name); it is not repeated here");
  try {
    if (action == "value") {
      if (!post) return error(405, "enter a value with POST");
      if (services_.storage_switch.busy_with(key))
        return error(409, "a storage switch for " + key + " is running; enter the value after it");
      Secret value;
      {
        agent::WipedString field;
        if (!form_field(request.body(), "value", field))
          return error(400, "the entry form sends the value as the field \"value\"");
        value = Secret::copy_of(field.view());
      }  // the decoded copy is wiped here; the request body when the request goes
      auto stored = enter_value(services_.store, key, value, caller);
      services_.log.write(LogLevel::info, "admin entered a value",
                          {{"key", key}, {"caller", caller}});
      return json_response(200, stored);
    }
    if (action == "test") {
      if (request.method() != http::verb::get) return error(405, "test a credential with GET");
      return json_response(200, test_credential(services_.store, key, caller));
    }
  } catch (const Error &failure) {
    return error(status_for(failure.code()), failure.what());
  }
  return error(404, "no API endpoint at this path");
}

PanelResponse PanelRouter::route(const PanelRequest &request, const std::string &client) {
  if (!services_.origins.host_allowed(request[http::field::host]))
    return error(421, "this panel does not answer for that Host; use the address it listens on");
  agent::Target target;
  if (!target.parse({request.target().data(), request.target().size()}))
    return error(400, "the request target is not a path of this panel");
  const auto &segments = target.segments;
  bool get = request.method() == http::verb::get || request.method() == http::verb::head;
  bool post = request.method() == http::verb::post;

  if (segments.empty() || segments[0] != "api") {
    if (!get) return error(405, "pages are read with GET");
    std::string path = segments.empty() ? "/index.html" : "/" + std::string(segments[0]);
    const Asset *asset = segments.size() <= 1 ? find_asset(path) : nullptr;
    if (asset == nullptr) return error(404, "no page at this path");
    return asset_response(*asset);
  }
  if (segments.size() != 2 && segments.size() != 4)
    return error(404, "no API endpoint at this path");
  std::string_view endpoint = segments[1];
  if (post && !services_.origins.request_from_allowed(request[http::field::origin],
                                                      request[http::field::referer]))
    return error(403, "refused: the request does not come from the panel's own origin");
  if (endpoint == "login") {
    if (!post) return error(405, "log in with POST");
    return login(request, client);
  }

  std::string proxied;
  try {
    proxied = proxy_identity(request, client);
  } catch (const Error &failure) {
    return error(400, failure.what());
  }
  std::string session_id = session_cookie(request);
  auto session = services_.sessions.use(session_id);
  if (session && !proxied.empty() && session->identity != proxied) {
    services_.sessions.end(session_id);  // the proxy now names someone else
    session.reset();
  }
  if (!session && !proxied.empty() && endpoint == "session" && get) {
    // The proxy has authenticated the admin: a session for them, as a login.
    NewSession created = services_.sessions.create(proxied);
    audit_login(proxied, client, Code::ok, "identity from the trusted proxy");
    auto response = json_response(200, json::object{{"identity", proxied}, {"csrf", created.csrf}});
    std::string cookie = cookie_name() + "=" + created.id + "; Path=/; HttpOnly; SameSite=Strict" +
                         "; Max-Age=" + std::to_string(services_.session_lifetime_s);
    if (services_.secure) cookie += "; Secure";
    response.headers.push_back({"Set-Cookie", std::move(cookie)});
    return response;
  }
  if (!session) return error(401, "not logged in, or the session has expired: log in again");
  if (post && !same_secret(request["X-CSRF-Token"], session->csrf))
    return error(403, "refused: the request does not carry this session's CSRF token");
  std::string caller = admin_caller(session->identity, client);

  if (segments.size() == 4) {
    if (endpoint != "credentials") return error(404, "no API endpoint at this path");
    return credential_action(request, std::string(segments[2]), std::string(segments[3]), caller);
  }
  if (endpoint == "session") {
    if (!get) return error(405, "read the session with GET");
    return json_response(200, json::object{{"identity", session->identity},
                                           {"csrf", session->csrf},
                                           {"expires_in_ms", session->expires_in.count()}});
  }
  if (endpoint == "logout") {
    if (!post) return error(405, "log out with POST");
    return logout(request, session_id);
  }
  if (endpoint == "credentials") {
    if (!get) return error(405, "read the credentials with GET");
    return json_response(200, credentials_view(services_.store, caller));
  }
  if (endpoint == "providers") {
    if (!get) return error(405, "read the providers with GET");
    return json_response(200,
                         providers_view(services_.store, provider_settings(services_.policy_file)));
  }
  if (endpoint == "switch-preview" || endpoint == "switch" || endpoint == "job")
    return switch_action(request, std::string(endpoint), caller);
  if (endpoint == "provider-setting") return provider_setting(request, caller);
  if (endpoint == "audit") {
    if (!get) return error(405, "read the audit events with GET");
    return json_response(200, audit_view(services_.events));
  }
  return error(404, "no API endpoint at this path");
}

PanelResponse PanelRouter::handle(const PanelRequest &request, const std::string &client) {
  PanelResponse response;
  try {
    response = route(request, client);
  } catch (const std::exception &failure) {
    services_.log.write(LogLevel::error, "admin panel request failed",
                        {{"client", client}, {"error", std::string(failure.what())}});
    response = error(500, "the panel could not answer; the agent's log says why");
  }
  add_security_headers(response);
  return response;
}

}  // namespace coffer::admin
