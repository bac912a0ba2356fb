#include "identity.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <ctime>
#include <fstream>
#include <sstream>

#include "encoding.hpp"
#include "responses.hpp"

namespace coffer::emulator {

namespace json = boost::json;

namespace {

constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

std::optional<std::string> read_trimmed(const std::filesystem::path &file) {
  if (file.empty()) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream content;
  content << in.rdbuf();
  return trim(content.str());
}

// The claims of a JWT's payload, or an empty object when it is not a JWT.
json::object jwt_claims(const std::string &assertion) {
  const auto first = assertion.find('.');
  const auto second = first == std::string::npos ? first : assertion.find('.', first + 1);
  if (second == std::string::npos) return {};
  const auto decoded = base64_decode(assertion.substr(first + 1, second - first - 1));
  if (!decoded) return {};
  boost::system::error_code ec;
  auto value = json::parse(*decoded, ec);
  if (ec || !value.is_object()) return {};
  return value.as_object();
}

std::string claim(const json::object &claims, std::string_view name) {
  const auto *v = claims.if_contains(name);
  if (v == nullptr) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_array() && !v->as_array().empty() && v->as_array()[0].is_string()) {
    return std::string(v->as_array()[0].as_string());
  }
  return {};
}

std::string iso_time(std::int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S.0000000Z", &tm);
  return buffer;
}

std::int64_t numeric_claim(const json::object &claims, std::string_view name,
                           std::int64_t fallback) {
  const auto *v = claims.if_contains(name);
  if (v != nullptr && v->is_int64()) return v->as_int64();
  return fallback;
}

Response missing_parameter(const Request &request, std::string_view name) {
  return entra_error(
      request, 400, "invalid_request", 900144,
      "The request body must contain the following parameter: '" + std::string(name) + "'.");
}

}  // namespace

Response IdentityService::token(const Request &request, const Target &target,
                                const std::function<bool()> &issue_expired) {
  const std::string &tenant = target.segments.at(0);
  if (!iequals(tenant, settings_.tenant)) {
    return entra_error(request, 400, "invalid_tenant", 90002,
                       "Tenant '" + tenant +
                           "' not found. Check to make sure you have the correct tenant ID and "
                           "are signing into the correct cloud. Check with your subscription "
                           "administrator, this may happen if there are no active subscriptions "
                           "for the tenant.");
  }
  if (request.method != "POST") {
    return entra_error(
        request, 400, "invalid_request", 900561,
        "The endpoint only accepts POST requests. Received a " + request.method + " request.");
  }
  const bool form =
      lowercase(request.header("Content-Type")).starts_with("application/x-www-form-urlencoded");
  const auto fields = form ? parse_form(request.body) : std::map<std::string, std::string>{};
  const auto field = [&](const char *name) -> const std::string * {
    const auto it = fields.find(name);
    return it == fields.end() ? nullptr : &it->second;
  };
  const auto *grant_type = field("grant_type");
  if (grant_type == nullptr) return missing_parameter(request, "grant_type");
  if (*grant_type != "client_credentials") {
    return entra_error(request, 400, "unsupported_grant_type", 70003,
                       "The app requested an unsupported grant type '" + *grant_type + "'.");
  }
  const auto *client_id = field("client_id");
  if (client_id == nullptr) return missing_parameter(request, "client_id");
  if (!iequals(*client_id, settings_.client_id)) {
    return entra_error(request, 400, "unauthorized_client", 700016,
                       "Application with identifier '" + *client_id +
                           "' was not found in the directory '" + settings_.tenant +
                           "'. This can happen if the application has not been installed by the "
                           "administrator of the tenant or consented to by any user in the "
                           "tenant. You may have sent your authentication request to the wrong "
                           "tenant.");
  }
  const auto *scope = field("scope");
  if (scope == nullptr) return missing_parameter(request, "scope");
  const std::string scope_value = trim(*scope);
  if (scope_value.find(' ') != std::string::npos) {
    return entra_error(request, 400, "invalid_scope", 70011,
                       "The provided value for the input parameter 'scope' is not valid. The "
                       "scope " +
                           scope_value + " is not valid.");
  }
  if (!scope_value.ends_with("/.default")) {
    return entra_error(request, 400, "invalid_scope", 1002012,
                       "The provided value for scope " + scope_value +
                           " is not valid. Client credential flows must have a scope value with "
                           "/.default suffixed to the resource identifier (application ID URI).");
  }
  const auto *assertion = field("client_assertion");
  const auto *secret = field("client_secret");
  if (assertion != nullptr) {
    const auto *type = field("client_assertion_type");
    if (type == nullptr) return missing_parameter(request, "client_assertion_type");
    if (*type != kJwtBearer) {
      return entra_error(request, 400, "invalid_request", 50027,
                         "Invalid client_assertion_type '" + *type + "'. Expected '" +
                             std::string(kJwtBearer) + "'.");
    }
    if (auto refusal = check_assertion(request, *assertion)) return std::move(*refusal);
  } else if (secret != nullptr) {
    if (auto refusal = check_client_secret(request, *secret)) return std::move(*refusal);
  } else {
    return entra_error(request, 401, "invalid_client", 7000218,
                       "The request body must contain the following parameter: "
                       "'client_assertion' or 'client_secret'.");
  }
  const std::string audience = scope_value.substr(0, scope_value.size() - 9);
  const std::string access_token =
      tokens_.issue(audience, std::chrono::seconds(settings_.token_lifetime_s), issue_expired());
  return entra_json(request, 200,
                    json::object{{"token_type", "Bearer"},
                                 {"expires_in", settings_.token_lifetime_s},
                                 {"ext_expires_in", settings_.token_lifetime_s},
                                 {"access_token", access_token}});
}

std::optional<Response> IdentityService::check_assertion(const Request &request,
                                                         const std::string &assertion) {
  // The token file is re-read at every exchange: the kubelet rotates it, and
  // an assertion that was the file's content before is now "expired".
  const auto current = read_trimmed(settings_.token_file);
  if (current && *current != current_assertion_) {
    if (!current_assertion_.empty()) rotated_assertions_.insert(current_assertion_);
    current_assertion_ = *current;
  }
  const std::string presented = trim(assertion);
  if (current && !presented.empty() && presented == *current) return std::nullopt;
  const auto claims = jwt_claims(presented);
  if (!presented.empty() && rotated_assertions_.contains(presented)) {
    const std::int64_t now = unix_now();
    const std::int64_t expired = numeric_claim(claims, "exp", now - 60);
    const std::int64_t valid_from = numeric_claim(claims, "nbf", expired - 3600);
    return entra_error(request, 401, "invalid_client", 700024,
                       "Client assertion is not within its valid time range. Current time: " +
                           iso_time(now) + ", assertion valid from " + iso_time(valid_from) +
                           ", expiry time of assertion " + iso_time(expired) +
                           ". Review the documentation at "
                           "https://docs.microsoft.com/azure/active-directory/develop/"
                           "active-directory-certificate-credentials .");
  }
  return entra_error(
      request, 400, "invalid_request", 70021,
      "No matching federated identity record found for presented assertion. Assertion Issuer: '" +
          claim(claims, "iss") + "'. Assertion Subject: '" + claim(claims, "sub") +
          "'. Assertion Audience: '" + claim(claims, "aud") +
          "'. https://docs.microsoft.com/en-us/azure/active-directory/develop/"
          "workload-identity-federation");
}

std::optional<Response> IdentityService::check_client_secret(const Request &request,
                                                             const std::string &secret) const {
  const auto expected = read_trimmed(settings_.client_secret_file);
  if (expected && !expected->empty() && *expected == secret) return std::nullopt;
  return entra_error(request, 401, "invalid_client", 7000215,
                     "Invalid client secret provided. Ensure the secret being sent in the "
                     "request is the client secret value, not the client secret ID, for a "
                     "secret added to app '" +
                         settings_.client_id + "'.");
}

Response IdentityService::openid_configuration(const Request &request, const Target &target) const {
  const std::string &tenant = target.segments.at(0);
  if (!iequals(tenant, settings_.tenant)) {
    Response response = entra_error(
        request, 400, "invalid_tenant", 90002,
        "Tenant '" + tenant +
            "' not found. Check to make sure you have the correct tenant ID and are signing into "
            "the correct cloud. Check with your subscription administrator, this may happen if "
            "there are no active subscriptions for the tenant.");
    response.set_header("Cache-Control", "private");
    response.set_header("Access-Control-Allow-Origin", "*");
    response.set_header("Access-Control-Allow-Methods", "GET, OPTIONS");
    return response;
  }
  const std::string base = "https://" + request_authority(request, https_port_) + "/" + tenant;
  json::object body{
      {"token_endpoint", base + "/oauth2/v2.0/token"},
      {"token_endpoint_auth_methods_supported",
       json::array{"client_secret_post", "private_key_jwt", "client_secret_basic"}},
      {"jwks_uri", base + "/discovery/v2.0/keys"},
      {"response_modes_supported", json::array{"query", "fragment", "form_post"}},
      {"subject_types_supported", json::array{"pairwise"}},
      {"id_token_signing_alg_values_supported", json::array{"RS256"}},
      {"response_types_supported",
       json::array{"code", "id_token", "code id_token", "id_token token"}},
      {"scopes_supported", json::array{"openid", "profile", "email", "offline_access"}},
      {"issuer", base + "/v2.0"},
      {"request_uri_parameter_supported", false},
      {"authorization_endpoint", base + "/oauth2/v2.0/authorize"},
      {"device_authorization_endpoint", base + "/oauth2/v2.0/devicecode"},
      {"http_logout_supported", true},
      {"frontchannel_logout_supported", true},
      {"end_session_endpoint", base + "/oauth2/v2.0/logout"},
      {"tenant_region_scope", "WW"},
      {"cloud_instance_name", "microsoftonline.com"},
      {"cloud_graph_host_name", "graph.windows.net"},
      {"msgraph_host", "graph.microsoft.com"},
  };
  Response response = entra_json(request, 200, body);
  response.set_header("Cache-Control", "max-age=86400, private");
  response.set_header("Access-Control-Allow-Origin", "*");
  response.set_header("Access-Control-Allow-Methods", "GET, OPTIONS");
  return response;
}

Response IdentityService::instance_discovery(const Request &request) const {
  const std::string authority = request_authority(request, https_port_);
  const std::string host = authority;
  json::object body{
      {"tenant_discovery_endpoint",
       "https://" + authority + "/" + settings_.tenant + "/v2.0/.well-known/openid-configuration"},
      {"api-version", "1.1"},
      {"metadata", json::array{json::object{{"preferred_network", host},
                                            {"preferred_cache", host},
                                            {"aliases", json::array{host}}}}},
  };
  Response response = entra_json(request, 200, body);
  response.set_header("Cache-Control", "max-age=86400, private");
  return response;
}

}  // namespace coffer::emulator
