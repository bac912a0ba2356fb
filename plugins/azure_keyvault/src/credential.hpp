// The three ways to obtain a Key Vault access token: workload identity (the
// projected service-account token exchanged at Entra ID), managed identity
// (IMDS) and client secret. A Credential builds the token request and explains
// a refusal; sending, retrying and caching happen elsewhere (token_cache.hpp,
// vault_client.hpp). Used on the I/O thread only.
#ifndef COFFER_AZURE_CREDENTIAL_HPP
#define COFFER_AZURE_CREDENTIAL_HPP

#include "config.hpp"
#include "entra.hpp"
#include "http.hpp"

#include <memory>
#include <string>

namespace coffer::azure {

class Credential {
 public:
  virtual ~Credential() = default;

  // The token request for `scope` in `tenant`. Reads the token file or the
  // client secret anew each time (the kubelet rotates the token file). Throws
  // coffer::provider::Error (COFFER_STATUS_INVALID_CONFIG) when that source
  // cannot be read.
  virtual HttpRequest token_request(const std::string &tenant, const std::string &scope) = 0;

  // Explains a refusal of the last token request.
  [[nodiscard]] virtual coffer::provider::Error failure(unsigned status, std::string_view body,
                                                        const std::string &tenant,
                                                        const std::string &scope) const = 0;

  // True when `status` from this endpoint is worth retrying.
  [[nodiscard]] virtual bool retryable(unsigned status) const;

  // The tenant the credential belongs to, or empty (managed identity: any).
  [[nodiscard]] virtual const std::string &tenant() const = 0;

  // One line for messages, e.g. "workload identity (client ID …)".
  [[nodiscard]] virtual std::string describe() const = 0;
};

// Builds the configured credential. `environment` supplies client_secret_env.
std::unique_ptr<Credential> make_credential(const Config &config, EnvironmentLookup environment,
                                            const coffer::provider::Host &log);

// Reads a file holding a token or secret: whitespace around it is removed.
// Throws coffer::provider::Error (COFFER_STATUS_INVALID_CONFIG) naming the
// file and `what` when it cannot be read or is empty.
coffer::provider::SecretBytes read_secret_file(const std::string &path, const std::string &what);

}  // namespace coffer::azure

#endif  // COFFER_AZURE_CREDENTIAL_HPP
