// Entra ID as Key Vault clients see it: the v2.0 token endpoint (client
// credentials with a federated client_assertion or a client_secret), the
// OpenID metadata and instance discovery that MSAL-based clients fetch first,
// and the IMDS managed-identity endpoint. Not thread-safe.
#ifndef COFFER_AZURE_EMULATOR_IDENTITY_HPP
#define COFFER_AZURE_EMULATOR_IDENTITY_HPP

#include <functional>
#include <optional>
#include <set>
#include <string>

#include "http_message.hpp"
#include "settings.hpp"
#include "token_store.hpp"

namespace coffer::emulator {

class IdentityService {
 public:
  IdentityService(Settings &settings, TokenStore &tokens) : settings_(settings), tokens_(tokens) {}
  void set_https_port(unsigned short port) { https_port_ = port; }

  // POST /{tenant}/oauth2/v2.0/token. issue_expired is asked once, just
  // before a token is issued; true issues a token that is already expired.
  Response token(const Request &request, const Target &target,
                 const std::function<bool()> &issue_expired);
  // GET /{tenant}/v2.0/.well-known/openid-configuration
  Response openid_configuration(const Request &request, const Target &target) const;
  // GET /common/discovery/instance
  Response instance_discovery(const Request &request) const;
  // GET /metadata/identity/oauth2/token on the IMDS port.
  Response imds_token(const Request &request, const Target &target,
                      const std::function<bool()> &issue_expired);

 private:
  // nullopt when the credential is accepted, else the refusal to send.
  std::optional<Response> check_assertion(const Request &request, const std::string &assertion);
  std::optional<Response> check_client_secret(const Request &request,
                                              const std::string &secret) const;

  Settings &settings_;
  TokenStore &tokens_;
  unsigned short https_port_ = 0;
  std::string current_assertion_;             // token file content last read
  std::set<std::string> rotated_assertions_;  // earlier contents: now "expired"
};

}  // namespace coffer::emulator

#endif
