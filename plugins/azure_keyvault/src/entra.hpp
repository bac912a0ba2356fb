// Entra ID (Azure AD) token endpoint and IMDS answers: the access token with
// its expiry and refresh time, and errors turned into messages that say what
// to fix, chosen by AADSTS error code (never by the description text).
// Pure functions; thread-safe.
#ifndef COFFER_AZURE_ENTRA_HPP
#define COFFER_AZURE_ENTRA_HPP

#include <coffer/provider.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::azure {

struct AccessToken {
  coffer::provider::SecretBytes value;  // the bearer token
  int64_t obtained_at_ms = 0;           // Unix ms
  int64_t expires_at_ms = 0;            // Unix ms
  int64_t refresh_at_ms = 0;            // Unix ms; refresh from then on
};

// When to refresh a token that lives until `expires_at_ms`: 2 minutes before
// expiry, or halfway for a token that lives less than 4 minutes; earlier when
// the endpoint gave `refresh_in`.
int64_t refresh_time(int64_t now_ms, int64_t expires_at_ms, int64_t refresh_in_ms = -1) noexcept;

// Parses a successful token answer of the Entra v2 endpoint (expires_in as a
// number) or of IMDS (expires_in / expires_on as strings). Throws
// coffer::provider::Error (COFFER_STATUS_UNAVAILABLE) when it holds no usable
// token; the message never quotes the body.
AccessToken parse_token_response(std::string_view body, int64_t now_ms);

// Non-secret claims of a JWT (the federated service-account token), for
// messages. Empty fields when the token cannot be decoded.
struct AssertionClaims {
  std::string issuer, subject, audience;
};
AssertionClaims read_assertion_claims(std::string_view jwt);

// What a failed token request was about, for the message.
struct TokenRequestContext {
  std::string credential;  // "workload_identity", "client_secret", "managed_identity"
  std::string tenant;      // empty for managed identity
  std::string client_id;   // may be empty for managed identity
  std::string scope;
  std::string authority;      // token endpoint origin
  std::string token_file;     // workload identity
  std::string secret_source;  // client secret: "file PATH" or "environment variable NAME"
  AssertionClaims claims;     // workload identity, when readable
};

struct EntraError {
  std::string error;           // e.g. "invalid_client"
  std::vector<int64_t> codes;  // AADSTS numbers
};

// Reads `error` and `error_codes` (never the description) from an error body.
EntraError parse_entra_error(std::string_view body);

// The status and message for a failed token request (HTTP status `status`).
// 4xx answers are COFFER_STATUS_DENIED; the message names the instance's
// configuration to fix.
coffer::provider::Error describe_token_failure(unsigned status, std::string_view body,
                                               const TokenRequestContext &context);

// The message for a failed managed-identity (IMDS) request.
coffer::provider::Error describe_imds_failure(unsigned status, std::string_view body,
                                              const TokenRequestContext &context);

// Keeps only [A-Za-z0-9_.:+-] of a server-provided code, at most 64
// characters, so that no server text can smuggle anything into a message.
std::string sanitize_code(std::string_view code);

}  // namespace coffer::azure

#endif  // COFFER_AZURE_ENTRA_HPP
