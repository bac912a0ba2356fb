#include "entra.hpp"

#include "secret_memory.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace coffer::azure {
namespace {

using coffer::provider::Error;
using coffer::provider::SecretBytes;

constexpr int64_t kRefreshMargin = 120'000;  // refresh 2 minutes ahead

// A number or a numeric string (IMDS sends strings).
std::optional<int64_t> read_integer(const boost::json::object &object, std::string_view name) {
  const boost::json::value *value = object.if_contains(name);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64()) return std::nullopt;  // beyond int64
  if (value->is_double()) {
    // Converting a double out of int64's range is undefined behaviour.
    double number = value->as_double();
    if (number >= -9223372036854775808.0 && number < 9223372036854775808.0)
      return static_cast<int64_t>(number);
    return std::nullopt;
  }
  if (value->is_string()) {
    std::string_view text = value->as_string();
    int64_t number = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error == std::errc() && end == text.data() + text.size()) return number;
  }
  return std::nullopt;
}

bool is_token_text(std::string_view text) noexcept {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// Decodes base64url (no padding required) into wiped storage.
bool decode_base64url(std::string_view text, SecretBytes &out) {
  uint32_t accumulator = 0;
  int bits = 0;
  for (char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      value = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      value = c - '0' + 52;
    } else if (c == '-' || c == '+') {
      value = 62;
    } else if (c == '_' || c == '/') {
      value = 63;
    } else if (c == '=') {
      break;
    } else {
      return false;
    }
    accumulator = (accumulator << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<unsigned char>((accumulator >> bits) & 0xff));
    }
  }
  return true;
}

std::string code_list(const EntraError &error) {
  std::string text;
  for (int64_t code : error.codes) {
    if (!text.empty()) text += ", ";
    text += "AADSTS" + std::to_string(code);
  }
  return text;
}

bool has_code(const EntraError &error, std::initializer_list<int64_t> codes) {
  return std::any_of(error.codes.begin(), error.codes.end(), [&](int64_t code) {
    return std::find(codes.begin(), codes.end(), code) != codes.end();
  });
}

std::string identity_name(const TokenRequestContext &context) {
  return context.client_id.empty() ? std::string("the identity")
                                   : "client ID '" + context.client_id + "'";
}

}  // namespace

int64_t refresh_time(int64_t now_ms, int64_t expires_at_ms, int64_t refresh_in_ms) noexcept {
  int64_t lifetime = std::max<int64_t>(expires_at_ms - now_ms, 0);
  int64_t refresh_at =
      lifetime >= 2 * kRefreshMargin ? expires_at_ms - kRefreshMargin : now_ms + lifetime / 2;
  // Compared as durations: now_ms + refresh_in_ms may not fit.
  if (refresh_in_ms > 0 && refresh_in_ms < refresh_at - now_ms) refresh_at = now_ms + refresh_in_ms;
  return refresh_at;
}

AccessToken parse_token_response(std::string_view body, int64_t now_ms) {
  boost::system::error_code error;
  boost::json::value document = parse_secret_json(body, error);
  const boost::json::object *object = error ? nullptr : document.if_object();
  if (object == nullptr)
    throw Error(COFFER_STATUS_UNAVAILABLE, "the token endpoint answered with malformed JSON");
  const boost::json::value *token = object->if_contains("access_token");
  if (token == nullptr || !token->is_string() || !is_token_text(token->as_string()))
    throw Error(COFFER_STATUS_UNAVAILABLE,
                "the token endpoint's answer holds no usable access_token");
  if (const boost::json::value *type = object->if_contains("token_type");
      type != nullptr && type->is_string()) {
    std::string kind = std::string(type->as_string());
    std::transform(kind.begin(), kind.end(), kind.begin(),
                   [](char c) { return static_cast<char>(std::tolower(c)); });
    if (kind != "bearer")
      throw Error(COFFER_STATUS_UNAVAILABLE, "the token endpoint issued a token of type '" +
                                                 sanitize_code(type->as_string()) +
                                                 "'; only Bearer tokens are supported");
  }
  // Seconds to Unix ms, refusing what does not fit (an expiry in the year
  // 292 million is no more usable than one in the past).
  auto milliseconds = [](int64_t seconds, int64_t base_ms) -> std::optional<int64_t> {
    int64_t out = 0;
    if (__builtin_mul_overflow(seconds, 1000, &out) || __builtin_add_overflow(out, base_ms, &out))
      return std::nullopt;
    return out;
  };
  std::optional<int64_t> expires_at;
  if (auto expires_in = read_integer(*object, "expires_in")) {
    expires_at = milliseconds(*expires_in, now_ms);
  } else if (auto expires_on = read_integer(*object, "expires_on")) {
    expires_at = milliseconds(*expires_on, 0);
  } else {
    throw Error(COFFER_STATUS_UNAVAILABLE,
                "the token endpoint's answer gives no usable expires_in or expires_on");
  }
  if (!expires_at)
    throw Error(COFFER_STATUS_UNAVAILABLE, "the token endpoint gave an expiry out of range");
  if (*expires_at <= now_ms)
    throw Error(COFFER_STATUS_UNAVAILABLE, "the token endpoint issued an already expired token");
  int64_t refresh_in = -1;
  if (auto value = read_integer(*object, "refresh_in"))
    refresh_in = milliseconds(*value, 0).value_or(-1);
  AccessToken result;
  result.value = SecretBytes(token->as_string());
  result.obtained_at_ms = now_ms;
  result.expires_at_ms = *expires_at;
  result.refresh_at_ms = refresh_time(now_ms, *expires_at, refresh_in);
  return result;
}

AssertionClaims read_assertion_claims(std::string_view jwt) {
  AssertionClaims claims;
  std::size_t first = jwt.find('.');
  if (first == std::string_view::npos) return claims;
  std::size_t second = jwt.find('.', first + 1);
  if (second == std::string_view::npos) return claims;
  SecretBytes payload;
  if (!decode_base64url(jwt.substr(first + 1, second - first - 1), payload)) return claims;
  boost::system::error_code error;
  boost::json::value document = parse_secret_json(payload.view(), error);
  const boost::json::object *object = error ? nullptr : document.if_object();
  if (object == nullptr) return claims;
  auto text = [&](std::string_view name) -> std::string {
    const boost::json::value *value = object->if_contains(name);
    if (value == nullptr) return {};
    if (value->is_string()) return std::string(value->as_string()).substr(0, 300);
    if (value->is_array() && !value->as_array().empty() && value->as_array()[0].is_string())
      return std::string(value->as_array()[0].as_string()).substr(0, 300);
    return {};
  };
  claims.issuer = text("iss");
  claims.subject = text("sub");
  claims.audience = text("aud");
  return claims;
}

std::string sanitize_code(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (out.size() >= 64) break;
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
        c == '.' || c == ':' || c == '+' || c == '-')
      out.push_back(c);
  }
  return out;
}

EntraError parse_entra_error(std::string_view body) {
  EntraError result;
  boost::system::error_code error;
  boost::json::value document = boost::json::parse(body, error);
  const boost::json::object *object = error ? nullptr : document.if_object();
  if (object == nullptr) return result;
  if (const auto *value = object->if_contains("error"); value != nullptr && value->is_string())
    result.error = sanitize_code(value->as_string());
  if (const auto *codes = object->if_contains("error_codes"); codes != nullptr && codes->is_array())
    for (const auto &code : codes->as_array())
      if (code.is_int64()) result.codes.push_back(code.as_int64());
  return result;
}

Error describe_token_failure(unsigned status, std::string_view body,
                             const TokenRequestContext &context) {
  EntraError error = parse_entra_error(body);
  const std::string codes = code_list(error);
  const std::string where = "Entra ID (" + context.authority + ", tenant '" + context.tenant +
                            "') refused the " + context.credential + " token request";
  auto fail = [&](const std::string &text) {
    return Error(COFFER_STATUS_DENIED,
                 where + " (" + (codes.empty() ? error.error : codes) + "): " + text);
  };
  if (has_code(error, {700024}))
    return fail(
        "the federated service-account token in '" + context.token_file +
        "' has expired or is not yet valid. coffer re-reads the file at every exchange, so the "
        "file itself is stale: check that the pod mounts the projected token the workload "
        "identity webhook adds (label azure.workload.identity/use: \"true\"), that "
        "AZURE_FEDERATED_TOKEN_FILE or credential.token_file points to it, and that the node's "
        "clock is right");
  if (has_code(error, {70021, 700211, 700212, 700213, 7002138})) {
    std::string presented;
    if (!context.claims.issuer.empty() || !context.claims.subject.empty())
      presented = " The token presents issuer '" + context.claims.issuer + "', subject '" +
                  context.claims.subject + "' and audience '" + context.claims.audience + "'.";
    return fail("no federated identity credential of " + identity_name(context) +
                " matches the service-account token." + presented +
                " On the managed identity (or app registration), add or correct a federated "
                "credential with issuer = the cluster's OIDC issuer URL (az aks show --query "
                "oidcIssuerProfile.issuerUrl), subject = system:serviceaccount:NAMESPACE:"
                "SERVICE_ACCOUNT (case-sensitive) and audience = api://AzureADTokenExchange");
  }
  if (has_code(error, {7000215}))
    return fail("the client secret from " + context.secret_source + " is not valid for " +
                identity_name(context) +
                ": it must hold the secret's Value, not its Secret ID, and belong to this "
                "application");
  if (has_code(error, {7000222}))
    return fail("the client secret from " + context.secret_source + " of " +
                identity_name(context) +
                " has expired: create a new client secret and store its value there");
  if (has_code(error, {90002}))
    return fail("tenant '" + context.tenant +
                "' does not exist in this cloud: check credential.tenant_id (or "
                "AZURE_TENANT_ID) and that the authority host belongs to the tenant's cloud "
                "(`cloud`, `authority_host`)");
  if (has_code(error, {700016}))
    return fail(identity_name(context) + " is not known in tenant '" + context.tenant +
                "': check credential.client_id (or AZURE_CLIENT_ID; for workload identity it "
                "is the managed identity's client ID) and credential.tenant_id");
  if (has_code(error, {700027}))
    return fail("the client assertion's signing key is not registered for " +
                identity_name(context) +
                ": for workload identity, the identity has no federated credential for this "
                "cluster's OIDC issuer; add one (issuer, subject "
                "system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT, audience "
                "api://AzureADTokenExchange)");
  if (has_code(error, {500011}))
    return fail("the resource of scope '" + context.scope + "' is not known in tenant '" +
                context.tenant +
                "': the authority host and the vault are probably in different clouds; set "
                "`cloud` or `authority_host`");
  std::string help;
  if (!error.codes.empty())
    help =
        "; see https://login.microsoftonline.com/error?code=" + std::to_string(error.codes.front());
  return Error(COFFER_STATUS_DENIED,
               where + " with HTTP " + std::to_string(status) +
                   (error.error.empty() ? "" : ", error '" + error.error + "'") +
                   (codes.empty() ? "" : " (" + codes + ")") + help);
}

Error describe_imds_failure(unsigned status, std::string_view body,
                            const TokenRequestContext &context) {
  EntraError error = parse_entra_error(body);
  std::string where = "the managed identity endpoint (" + context.authority +
                      ") refused the token request for " + identity_name(context) + " (HTTP " +
                      std::to_string(status) +
                      (error.error.empty() ? "" : ", error '" + error.error + "'") + ")";
  if (status == 400 || status == 404)
    return Error(COFFER_STATUS_DENIED,
                 where +
                     ": no such managed identity is assigned to this VM or node pool. "
                     "Assign the user-assigned identity to the node pool (VM scale set) and "
                     "set credential.client_id to its client ID, or use workload identity");
  if (status == 403)
    return Error(COFFER_STATUS_DENIED,
                 where +
                     ": the endpoint refused the request; a proxy may be in the way (IMDS "
                     "is never reached through a proxy by coffer)");
  return Error(COFFER_STATUS_DENIED, where);
}

}  // namespace coffer::azure
