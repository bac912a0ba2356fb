// The Key Vault secrets API: challenge authentication, get/set/update/delete,
// listings with nextLink paging, versions, soft-deleted secrets, denials and
// disabled secrets, with the service's status codes and bodies. Not
// thread-safe.
#ifndef COFFER_AZURE_EMULATOR_KEY_VAULT_HPP
#define COFFER_AZURE_EMULATOR_KEY_VAULT_HPP

#include <optional>
#include <string>

#include "http_message.hpp"
#include "settings.hpp"
#include "token_store.hpp"
#include "vault_state.hpp"

namespace coffer::emulator {

class KeyVault {
 public:
  KeyVault(Settings &settings, VaultState &state, TokenStore &tokens)
      : settings_(settings), state_(state), tokens_(tokens) {}
  void set_https_port(unsigned short port) { https_port_ = port; }

  // The route name of a Key Vault request ("get", "put", "delete", "list",
  // "update", "deleted", "other"), or "" when the path is not Key Vault's.
  static std::string route_of(const Request &request, const Target &target);

  // nullopt when the request carries a valid token, else the 401 to send.
  [[nodiscard]] std::optional<Response> authenticate(const Request &request) const;
  // The 401 for a token refused as expired (the expired-token fault).
  [[nodiscard]] Response expired_token(const Request &request) const;

  Response handle(const Request &request, const Target &target);

 private:
  Response unauthorized(const Request &request, const std::string &message) const;
  Response secret_operation(const Request &request, const Target &target);
  Response deleted_operation(const Request &request, const Target &target);
  Response get(const Request &request, const std::string &name, const std::string &version);
  Response put(const Request &request, const std::string &name);
  Response update(const Request &request, const std::string &name, const std::string &version);
  Response remove(const Request &request, const std::string &name);
  Response list_secrets(const Request &request, const Target &target);
  Response list_versions(const Request &request, const Target &target, const std::string &name);
  Response list_deleted(const Request &request, const Target &target);
  std::optional<Response> denied(const Request &request, const std::string &name,
                                 const std::string &action, const std::string &permission) const;

  Settings &settings_;
  VaultState &state_;
  TokenStore &tokens_;
  unsigned short https_port_ = 0;
};

}  // namespace coffer::emulator

#endif
