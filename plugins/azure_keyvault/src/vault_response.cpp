#include "vault_response.hpp"

#include "entra.hpp"
#include "names.hpp"
#include "secret_memory.hpp"
#include "url.hpp"

#include <boost/json.hpp>
#include <limits>

namespace coffer::azure {
namespace {

using coffer::provider::Error;

bool read_bool(const boost::json::object &object, std::string_view name, bool fallback) {
  const boost::json::value *value = object.if_contains(name);
  return value != nullptr && value->is_bool() ? value->as_bool() : fallback;
}

bool is_write(Operation operation) {
  return operation == Operation::put || operation == Operation::remove ||
         operation == Operation::purge;
}

// The access policy's secret permission an operation needs.
const char *permission_for(Operation operation) {
  switch (operation) {
    case Operation::get:
      return "get";
    case Operation::put:
      return "set";
    case Operation::remove:
      return "delete";
    case Operation::purge:
      return "purge";
    default:
      return "list";
  }
}

// attributes.created (integer Unix seconds) in milliseconds, or 0 (unknown)
// when absent, negative, or too large to be a time in milliseconds.
int64_t created_ms(const boost::json::object &object) {
  const boost::json::value *attributes = object.if_contains("attributes");
  if (attributes == nullptr || !attributes->is_object()) return 0;
  const boost::json::value *created = attributes->as_object().if_contains("created");
  if (created == nullptr || !created->is_int64()) return 0;  // a uint64 is out of range too
  const int64_t seconds = created->as_int64();
  if (seconds < 0 || seconds > std::numeric_limits<int64_t>::max() / 1000) return 0;
  return seconds * 1000;
}

std::string subject(const FailureContext &context) {
  std::string text;
  if (!context.secret_name.empty()) {
    text = "secret '" + context.secret_name + "'";
    if (!context.key.empty()) text += " (key " + context.key + ")";
  } else {
    text = "the secrets list";
  }
  return text;
}

}  // namespace

std::string_view operation_name(Operation operation) noexcept {
  switch (operation) {
    case Operation::get:
      return "get";
    case Operation::put:
      return "set";
    case Operation::remove:
      return "delete";
    case Operation::list:
      return "list";
    case Operation::health:
      return "health check";
    case Operation::versions:
      return "list versions";
    case Operation::purge:
      return "purge";
  }
  return "request";
}

std::string describe_operation(const FailureContext &context) {
  if (context.operation == Operation::list) return "listing the secrets";
  if (context.operation == Operation::health) return "health check";
  return std::string(operation_name(context.operation)) + " of " + subject(context);
}

SecretId parse_secret_id(std::string_view id) {
  // Key Vault's ids are plain: https://host[:port]/secrets/NAME[/VERSION],
  // nothing escaped (names and versions allow none). The path is found by
  // hand; a URL parser cost about 8,000 instructions on every get.
  SecretId result;
  std::string_view path = id;
  if (std::size_t scheme = path.find("://"); scheme != std::string_view::npos) {
    path.remove_prefix(scheme + 3);
    std::size_t slash = path.find('/');
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  path = path.substr(0, path.find_first_of("?#"));
  std::size_t at = path.find("/secrets/");
  if (at == std::string_view::npos) return result;
  std::string_view rest = path.substr(at + 9);
  std::size_t slash = rest.find('/');
  result.name = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) {
    std::string_view version = rest.substr(slash + 1);
    while (!version.empty() && version.back() == '/') version.remove_suffix(1);
    if (is_valid_version(version)) result.version = std::string(version);
  }
  if (!is_valid_secret_name(result.name)) result = {};
  return result;
}

SecretBundle parse_secret_bundle(std::string_view body, std::string_view what) {
  boost::system::error_code error;
  boost::json::value document = parse_secret_json(body, error);
  const boost::json::object *object = error ? nullptr : document.if_object();
  if (object == nullptr)
    throw Error(COFFER_STATUS_UNAVAILABLE,
                "Key Vault answered malformed JSON for " + std::string(what));
  SecretBundle bundle;
  if (const boost::json::value *value = object->if_contains("value")) {
    if (!value->is_string())
      throw Error(COFFER_STATUS_UNAVAILABLE,
                  "Key Vault's answer for " + std::string(what) + " holds a non-string value");
    const boost::json::string &text = value->as_string();
    bundle.value = coffer::provider::SecretBytes(
        reinterpret_cast<const unsigned char *>(text.data()), text.size());
    bundle.has_value = true;
  }
  if (const boost::json::value *id = object->if_contains("id"); id != nullptr && id->is_string())
    bundle.version = parse_secret_id(id->as_string()).version;
  bundle.created_unix_ms = created_ms(*object);
  return bundle;
}

SecretListPage parse_secret_list(std::string_view body) {
  boost::system::error_code error;
  boost::json::value document = boost::json::parse(body, error);
  const boost::json::object *object = error ? nullptr : document.if_object();
  if (object == nullptr)
    throw Error(COFFER_STATUS_UNAVAILABLE, "Key Vault answered a secrets page in malformed JSON");
  SecretListPage page;
  if (const boost::json::value *items = object->if_contains("value")) {
    if (!items->is_array())
      throw Error(COFFER_STATUS_UNAVAILABLE, "Key Vault's secrets page has no 'value' array");
    for (const boost::json::value &item : items->as_array()) {
      const boost::json::object *entry = item.if_object();
      if (entry == nullptr) continue;
      const boost::json::value *id = entry->if_contains("id");
      if (id == nullptr || !id->is_string()) continue;
      SecretId parsed = parse_secret_id(id->as_string());
      if (parsed.name.empty()) continue;
      SecretItem secret;
      secret.name = std::move(parsed.name);
      secret.version = std::move(parsed.version);
      secret.managed = read_bool(*entry, "managed", false);
      if (const auto *attributes = entry->if_contains("attributes");
          attributes != nullptr && attributes->is_object())
        secret.enabled = read_bool(attributes->as_object(), "enabled", true);
      secret.created_unix_ms = created_ms(*entry);
      page.items.push_back(std::move(secret));
    }
  }
  if (const boost::json::value *next = object->if_contains("nextLink");
      next != nullptr && next->is_string() && !next->as_string().empty())
    page.next_link = std::string(next->as_string());
  return page;
}

VaultError parse_vault_error(std::string_view body) {
  VaultError result;
  boost::system::error_code error;
  boost::json::value document = boost::json::parse(body, error);
  const boost::json::object *object = error ? nullptr : document.if_object();
  if (object == nullptr) return result;
  const boost::json::value *node = object->if_contains("error");
  if (node == nullptr || !node->is_object()) return result;
  if (const auto *code = node->as_object().if_contains("code");
      code != nullptr && code->is_string())
    result.code = sanitize_code(code->as_string());
  for (int depth = 0; depth < 8; ++depth) {
    const boost::json::value *inner = node->as_object().if_contains("innererror");
    if (inner == nullptr || !inner->is_object()) break;
    if (const auto *code = inner->as_object().if_contains("code");
        code != nullptr && code->is_string())
      result.inner_code = sanitize_code(code->as_string());
    node = inner;
  }
  return result;
}

Error describe_vault_failure(unsigned status, std::string_view body,
                             const FailureContext &context) {
  VaultError error = parse_vault_error(body);
  std::string codes = error.code;
  if (!error.inner_code.empty()) codes += (codes.empty() ? "" : "/") + error.inner_code;
  const std::string what = "vault " + context.vault_host + " answered HTTP " +
                           std::to_string(status) + (codes.empty() ? "" : " " + codes) + " to " +
                           std::string(operation_name(context.operation)) + " of " +
                           subject(context);
  const std::string &inner = error.inner_code;
  switch (status) {
    case 404:
      if (context.operation == Operation::purge)
        return Error(COFFER_STATUS_NOT_FOUND, "vault " + context.vault_host + " holds no deleted " +
                                                  subject(context) + " to purge");
      if (context.secret_name.empty())
        return Error(COFFER_STATUS_UNAVAILABLE,
                     what + ": the URL is not a Key Vault secrets endpoint; check vault_url");
      return Error(COFFER_STATUS_NOT_FOUND,
                   subject(context) + " was not found in vault " + context.vault_host);
    case 403: {
      if (inner == "SecretDisabled")
        return Error(COFFER_STATUS_DENIED,
                     what +
                         ": the secret is disabled; enable it (az keyvault secret "
                         "set-attributes --vault-name VAULT --name " +
                         context.secret_name + " --enabled true) or set a new value");
      if (inner == "ForbiddenByRbac" || error.code == "ForbiddenByRbac") {
        const char *role =
            is_write(context.operation) ? "Key Vault Secrets Officer" : "Key Vault Secrets User";
        return Error(COFFER_STATUS_DENIED,
                     what + ": the identity lacks an Azure RBAC role; grant it the role \"" + role +
                         "\" on the vault (az role assignment create --role \"" + role +
                         "\" --assignee CLIENT_ID --scope VAULT_RESOURCE_ID); new assignments "
                         "take a few minutes to apply");
      }
      if (inner == "AccessDenied" || error.code == "AccessDenied")
        return Error(COFFER_STATUS_DENIED,
                     what +
                         ": the vault uses access policies and none grants the identity the "
                         "secret permission '" +
                         permission_for(context.operation) +
                         "'; add an access policy for it, or switch the vault to Azure RBAC and "
                         "grant \"" +
                         (is_write(context.operation) ? "Key Vault Secrets Officer"
                                                      : "Key Vault Secrets User") +
                         "\"");
      if (inner == "ForbiddenByFirewall" || error.code == "ForbiddenByFirewall")
        return Error(COFFER_STATUS_DENIED,
                     what +
                         ": the vault's firewall does not admit this client's address; add "
                         "the cluster's egress address or subnet to the vault's networking "
                         "rules, or reach it through a private endpoint");
      if (inner == "ForbiddenByPolicy" || error.code == "ForbiddenByPolicy")
        return Error(COFFER_STATUS_DENIED, what + ": a policy on the vault forbids this operation");
      if (context.operation == Operation::purge)
        return Error(COFFER_STATUS_DENIED,
                     what +
                         ": the vault has purge protection enabled (a deleted secret then stays "
                         "until its retention period ends, and nobody can purge it), or the "
                         "identity may not purge: it needs the access policy's secret "
                         "permission 'purge', or the Azure RBAC role \"Key Vault Secrets "
                         "Officer\" on the vault");
      return Error(COFFER_STATUS_DENIED, what);
    }
    case 401:
      return Error(COFFER_STATUS_DENIED,
                   what +
                       " although a fresh access token was sent: the token is for another "
                       "tenant or audience; check credential.tenant_id and that the vault "
                       "belongs to that tenant and cloud");
    case 409:
      return Error(COFFER_STATUS_DENIED,
                   what +
                       ": the secret is deleted but still recoverable (soft delete); recover "
                       "it (az keyvault secret recover) or purge it before writing the name "
                       "again");
    case 400:
    case 405:
    case 413:
    case 414:
      return Error(COFFER_STATUS_INVALID_ARGUMENT, what);
    default:
      return Error(COFFER_STATUS_UNAVAILABLE, what);
  }
}

}  // namespace coffer::azure
