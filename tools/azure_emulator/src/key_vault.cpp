#include "key_vault.hpp"

#include <algorithm>
#include <array>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "encoding.hpp"
#include "paging.hpp"
#include "responses.hpp"
#include "secret_json.hpp"

namespace coffer::emulator {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 16> kApiVersions{
    "2016-10-01",    "7.0", "7.1",           "7.2",           "7.3", "7.4-preview.1", "7.4",
    "7.5-preview.1", "7.5", "7.6-preview.1", "7.6-preview.2", "7.6", "7.7-preview.1", "2025-06-01",
    "2025-07-01",    "7.7"};

constexpr std::string_view kNotFoundTail =
    " was not found in this key vault. If you recently deleted this secret you may be able to "
    "recover it using the correct recovery command. For help resolving this issue, please see "
    "https://go.microsoft.com/fwlink/?linkid=2125182";

bool known_api_version(std::string_view version) {
  for (const auto v : kApiVersions) {
    if (v == version) return true;
  }
  return false;
}

Response not_found(const Request &request, const std::string &what) {
  return key_vault_error(request, 404, "SecretNotFound",
                         "A secret with (name/id) " + what + std::string(kNotFoundTail));
}

Response deleted_not_found(const Request &request, const std::string &name) {
  return key_vault_error(request, 404, "SecretNotFound", "Deleted Secret not found: " + name);
}

Response bad_parameter(const Request &request, const std::string &message) {
  return key_vault_error(request, 400, "BadParameter", message);
}

// The version named in the path; "" and "/" (the C++ SDK's %2F) mean the latest.
template <class SecretType>
auto find_version(SecretType &secret, const std::string &version)
    -> decltype(&secret.versions.back()) {
  if (version.empty() || version == "/") return &secret.versions.back();
  const std::string wanted = lowercase(version);
  for (auto &v : secret.versions) {
    if (v.version == wanted) return &v;
  }
  return nullptr;
}

}  // namespace

std::string KeyVault::route_of(const Request &request, const Target &target) {
  const auto &s = target.segments;
  if (s.empty()) return {};
  if (s[0] == "deletedsecrets") return "deleted";
  if (s[0] != "secrets") return {};
  const bool collection = s.size() == 1 || (s.size() == 2 && s[1].empty());
  const bool versions = s.size() == 3 && s[2] == "versions";
  if (request.method == "GET") return collection || versions ? "list" : "get";
  if (request.method == "PUT") return "put";
  if (request.method == "DELETE") return "delete";
  if (request.method == "PATCH") return "update";
  return "other";
}

Response KeyVault::unauthorized(const Request &request, const std::string &message) const {
  Response response = key_vault_error(request, 401, "Unauthorized", message);
  response.set_header("WWW-Authenticate", "Bearer authorization=\"https://login.windows.net/" +
                                              settings_.tenant + "\", resource=\"" +
                                              settings_.challenge_resource + "\"");
  return response;
}

std::optional<Response> KeyVault::authenticate(const Request &request) const {
  std::string audience;
  switch (tokens_.check(request.header("Authorization"), settings_.challenge_resource, &audience)) {
    case TokenCheck::valid:
      return std::nullopt;
    case TokenCheck::missing:
      return unauthorized(request, "AKV10000: Request is missing a Bearer or PoP token.");
    case TokenCheck::unknown:
      return unauthorized(request,
                          "AKV10046: Unable to resolve the key used for signature validation.");
    case TokenCheck::expired:
      return expired_token(request);
    case TokenCheck::wrong_audience:
      return unauthorized(request, "AKV10022: Invalid audience. Expected " +
                                       settings_.challenge_resource + ", found: " + audience + ".");
  }
  return unauthorized(request, "AKV10000: Request is missing a Bearer or PoP token.");
}

Response KeyVault::expired_token(const Request &request) const {
  return unauthorized(request, "[TokenExpired] Error validating token: 'S2S12086'.");
}

Response KeyVault::handle(const Request &request, const Target &target) {
  const auto *api_version = target.param("api-version");
  if (api_version == nullptr || api_version->empty()) {
    return bad_parameter(request, "The 'api-version' query parameter is required.");
  }
  if (!known_api_version(*api_version)) {
    return bad_parameter(request, "The specified version (" + *api_version +
                                      ") is not recognized. Consider using the latest supported "
                                      "version (2025-07-01).");
  }
  return target.segments[0] == "secrets" ? secret_operation(request, target)
                                         : deleted_operation(request, target);
}

Response KeyVault::secret_operation(const Request &request, const Target &target) {
  const auto &s = target.segments;
  const bool collection = s.size() == 1 || (s.size() == 2 && s[1].empty());
  const std::string method_not_allowed = "HTTP " + request.method + " not allowed";
  if (collection) {
    if (request.method == "GET") return list_secrets(request, target);
    return key_vault_error(request, 405, "MethodNotAllowed", method_not_allowed);
  }
  const std::string &name = s[1];
  if (!valid_secret_name(name)) {
    return bad_parameter(request, "The request URI contains an invalid name: " + name);
  }
  if (s.size() > 3) return key_vault_error(request, 404, "NotFound", "The resource was not found.");
  if (s.size() == 3 && s[2] == "versions") {
    if (request.method != "GET") {
      return key_vault_error(request, 405, "MethodNotAllowed", method_not_allowed);
    }
    return list_versions(request, target, name);
  }
  const std::string version = s.size() == 3 ? s[2] : std::string{};
  if (request.method == "GET") return get(request, name, version);
  if (request.method == "PATCH") return update(request, name, version);
  if (s.size() == 2 && request.method == "PUT") return put(request, name);
  if (s.size() == 2 && request.method == "DELETE") return remove(request, name);
  return key_vault_error(request, 405, "MethodNotAllowed", method_not_allowed);
}

std::optional<Response> KeyVault::denied(const Request &request, const std::string &name,
                                         const std::string &action,
                                         const std::string &permission) const {
  const auto code = state_.denial(name);
  if (!code) return std::nullopt;
  const std::string caller = "appid=" + settings_.client_id +
                             ";oid=00000000-0000-0000-0000-000000000000;iss=https://"
                             "sts.windows.net/" +
                             settings_.tenant + "/";
  const std::string vault = "emulator;location=local";
  std::string message;
  if (*code == "ForbiddenByRbac") {
    message =
        "Caller is not authorized to perform action on resource.\r\nIf role assignments, "
        "deny assignments or role definitions were changed recently, please observe "
        "propagation time.\r\nCaller: " +
        caller + "\r\nAction: 'Microsoft.KeyVault/vaults/" + action +
        "'\r\nResource: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/"
        "coffer-emulator/providers/microsoft.keyvault/vaults/emulator" +
        (name == "*" ? std::string{} : "/secrets/" + name) +
        "'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: "
        "'DeniedWithNoValidRBAC' \r\nVault: " +
        vault + "\r\n";
  } else if (*code == "ForbiddenByFirewall") {
    message =
        "Client address is not authorized and caller is not a trusted service.\r\nClient "
        "address: 127.0.0.1\r\nCaller: " +
        caller + "\r\nVault: " + vault;
  } else {
    message = "The user, group or application '" + caller + "' does not have secrets " +
              permission + " permission on key vault '" + vault +
              "'. For help resolving this issue, please see "
              "https://go.microsoft.com/fwlink/?linkid=2125287";
  }
  return key_vault_error(request, 403, "Forbidden", message, *code);
}

Response KeyVault::get(const Request &request, const std::string &name,
                       const std::string &version) {
  if (auto refusal = denied(request, name, "secrets/getSecret/action", "get")) return *refusal;
  const Secret *secret = state_.find(name);
  const std::string what = version.empty() || version == "/" ? name : name + "/" + version;
  if (secret == nullptr) return not_found(request, what);
  const SecretVersion *found = find_version(*secret, version);
  if (found == nullptr) return not_found(request, what);
  if (!found->attributes.enabled) {
    return key_vault_error(request, 403, "Forbidden",
                           "Operation get is not allowed on a disabled secret.", "SecretDisabled");
  }
  return key_vault_json(
      request, 200,
      secret_bundle(settings_, request_authority(request, https_port_), *secret, *found, true));
}

Response KeyVault::put(const Request &request, const std::string &name) {
  if (auto refusal = denied(request, name, "secrets/setSecret/action", "set")) return *refusal;
  if (const auto *deleted = state_.find_deleted(name)) {
    if (deleted->pending_gets > 0) {
      return key_vault_error(request, 409, "Conflict",
                             "Secret " + name + " is currently being deleted.",
                             "ObjectIsBeingDeleted");
    }
    return key_vault_error(request, 409, "Conflict",
                           "Secret " + name +
                               " is currently in a deleted but recoverable state, and its name "
                               "cannot be reused; in this state, the secret can only be "
                               "recovered or purged.",
                           "ObjectIsDeletedButRecoverable");
  }
  auto write = parse_secret_write(request.body, true);
  if (!write) return bad_parameter(request, write.error());
  const SecretVersion &version = state_.set(name, *write, unix_now());
  return key_vault_json(request, 200,
                        secret_bundle(settings_, request_authority(request, https_port_),
                                      *state_.find(name), version, true));
}

Response KeyVault::update(const Request &request, const std::string &name,
                          const std::string &version) {
  if (auto refusal = denied(request, name, "secrets/update/action", "set")) return *refusal;
  Secret *secret = state_.find(name);
  const std::string what = version.empty() || version == "/" ? name : name + "/" + version;
  if (secret == nullptr) return not_found(request, what);
  SecretVersion *found = find_version(*secret, version);
  if (found == nullptr) return not_found(request, what);
  auto patch = parse_secret_write(request.body, false);
  if (!patch) return bad_parameter(request, patch.error());
  if (patch->content_type) found->content_type = patch->content_type;
  if (patch->tags) found->tags = patch->tags;
  if (patch->enabled) found->attributes.enabled = *patch->enabled;
  if (patch->not_before) found->attributes.not_before = patch->not_before;
  if (patch->expires) found->attributes.expires = patch->expires;
  found->attributes.updated = unix_now();
  return key_vault_json(
      request, 200,
      secret_bundle(settings_, request_authority(request, https_port_), *secret, *found, false));
}

Response KeyVault::remove(const Request &request, const std::string &name) {
  if (auto refusal = denied(request, name, "secrets/delete", "delete")) return *refusal;
  const DeletedSecret *deleted =
      state_.remove(name, unix_now(), settings_.recoverable_days, settings_.delete_pending_gets);
  if (deleted == nullptr) return not_found(request, name);
  return key_vault_json(
      request, 200, deleted_bundle(settings_, request_authority(request, https_port_), *deleted));
}

Response KeyVault::deleted_operation(const Request &request, const Target &target) {
  const auto &s = target.segments;
  const std::string method_not_allowed = "HTTP " + request.method + " not allowed";
  if (s.size() == 1 || (s.size() == 2 && s[1].empty())) {
    if (request.method == "GET") return list_deleted(request, target);
    return key_vault_error(request, 405, "MethodNotAllowed", method_not_allowed);
  }
  const std::string &name = s[1];
  if (!valid_secret_name(name)) {
    return bad_parameter(request, "The request URI contains an invalid name: " + name);
  }
  DeletedSecret *deleted = state_.find_deleted(name);
  if (s.size() == 3 && s[2] == "recover" && request.method == "POST") {
    if (auto refusal = denied(request, name, "deletedSecrets/recover/action", "recover")) {
      return *refusal;
    }
    if (deleted == nullptr || deleted->pending_gets > 0) return deleted_not_found(request, name);
    Secret *secret = state_.recover(name);
    return key_vault_json(request, 200,
                          secret_bundle(settings_, request_authority(request, https_port_), *secret,
                                        secret->versions.back(), false));
  }
  if (s.size() != 2)
    return key_vault_error(request, 404, "NotFound", "The resource was not found.");
  if (request.method == "GET") {
    if (auto refusal = denied(request, name, "deletedSecrets/read", "get")) return *refusal;
    if (deleted == nullptr) return deleted_not_found(request, name);
    if (deleted->pending_gets > 0) {
      --deleted->pending_gets;
      return deleted_not_found(request, name);
    }
    return key_vault_json(
        request, 200, deleted_bundle(settings_, request_authority(request, https_port_), *deleted));
  }
  if (request.method == "DELETE") {
    if (auto refusal = denied(request, name, "deletedSecrets/delete", "purge")) return *refusal;
    if (deleted == nullptr) return deleted_not_found(request, name);
    if (deleted->pending_gets > 0) {
      return key_vault_error(request, 409, "Conflict",
                             "Secret " + name + " is currently being deleted.",
                             "ObjectIsBeingDeleted");
    }
    if (settings_.purge_protection) {
      return key_vault_error(request, 403, "Forbidden",
                             "Operation \"purge\" is not allowed because purge protection is "
                             "enabled for this vault. Key Vault service will automatically "
                             "purge it after the retention period has passed.");
    }
    state_.purge(name);
    return key_vault_no_content(request);
  }
  return key_vault_error(request, 405, "MethodNotAllowed", method_not_allowed);
}

Response KeyVault::list_secrets(const Request &request, const Target &target) {
  if (auto refusal = denied(request, "*", "secrets/readMetadata/action", "list")) return *refusal;
  const std::string authority = request_authority(request, https_port_);
  std::vector<ListItem> items;
  for (const Secret *secret : state_.secrets()) {
    items.push_back({uppercase(secret->name),
                     secret_item(settings_, authority, *secret, secret->versions.back(), false)});
  }
  return list_page(request, target, settings_, authority, std::move(items));
}

Response KeyVault::list_versions(const Request &request, const Target &target,
                                 const std::string &name) {
  if (auto refusal = denied(request, name, "secrets/readMetadata/action", "list")) return *refusal;
  const std::string authority = request_authority(request, https_port_);
  std::vector<ListItem> items;
  if (const Secret *secret = state_.find(name)) {
    for (const auto &version : secret->versions) {
      items.push_back({uppercase(secret->name) + "/" + uppercase(version.version),
                       secret_item(settings_, authority, *secret, version, true)});
    }
    std::sort(items.begin(), items.end(),
              [](const ListItem &a, const ListItem &b) { return a.key < b.key; });
  }
  return list_page(request, target, settings_, authority, std::move(items));
}

Response KeyVault::list_deleted(const Request &request, const Target &target) {
  if (auto refusal = denied(request, "*", "deletedSecrets/read", "list")) return *refusal;
  const std::string authority = request_authority(request, https_port_);
  std::vector<ListItem> items;
  for (const DeletedSecret *deleted : state_.deleted_secrets()) {
    if (deleted->pending_gets > 0) continue;
    json::object item = deleted_bundle(settings_, authority, *deleted);
    item["id"] = "https://" + authority + "/secrets/" + deleted->secret.name;
    items.push_back({uppercase(deleted->secret.name), std::move(item)});
  }
  return list_page(request, target, settings_, authority, std::move(items));
}

}  // namespace coffer::emulator
