// Key Vault's authentication challenge: the WWW-Authenticate header of a 401
// answer, which names the tenant to get a token from and the resource the
// token is for; and the check that the resource belongs to the vault (so that
// a rogue endpoint cannot obtain a Key Vault token). Pure; thread-safe.
#ifndef COFFER_AZURE_CHALLENGE_HPP
#define COFFER_AZURE_CHALLENGE_HPP

#include <optional>
#include <string>
#include <string_view>

namespace coffer::azure {

struct Challenge {
  std::string tenant;         // first path segment of `authorization`
  std::string scope;          // `resource` + "/.default", or `scope`
  std::string resource_host;  // host of the resource (or scope) URL, lower case
};

// Parses a WWW-Authenticate header value, e.g.
//   Bearer authorization="https://login.windows.net/{tenant}", resource="https://vault.azure.net"
// Schemes and parameter names are matched case-insensitively; several
// challenges may share the header (the Bearer one is used). Accepts
// `authorization_uri` for `authorization`. Returns nothing when there is no
// Bearer challenge with a usable tenant and resource or scope.
std::optional<Challenge> parse_challenge(std::string_view header);

// Empty when `vault_host` ends with "." + the challenge's resource host
// (case-insensitive); otherwise the reason to refuse, naming both hosts and
// the `verify_challenge_resource` setting.
std::string check_challenge_resource(const Challenge &challenge, std::string_view vault_host);

// True for a tenant id that may go into a token URL: a GUID or a domain name
// (letters, digits, '.', '-', '_'); nothing that could leave the path segment.
bool is_valid_tenant(std::string_view tenant) noexcept;

}  // namespace coffer::azure

#endif  // COFFER_AZURE_CHALLENGE_HPP
