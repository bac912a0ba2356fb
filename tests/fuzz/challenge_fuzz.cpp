// Key Vault's WWW-Authenticate challenge. Input: the vault host, NUL, the
// header. Properties: a parsed challenge has a tenant that may go into a token
// URL and a lower-case resource host without URL syntax in it; the resource
// check passes only for a vault host under that resource host.
#include <string>

#include "challenge.hpp"
#include "fuzz_support.hpp"
#include "url.hpp"

namespace {

using coffer::fuzz::require;

bool is_plain_host(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= ' ' || byte >= 0x7f || (c >= 'A' && c <= 'Z')) return false;
    if (c == '/' || c == '@' || c == '?' || c == '#' || c == '\\' || c == '[' || c == ']')
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  coffer::fuzz::Input input(data, size);
  const std::string_view vault_host = input.field();
  const std::string_view header = input.rest();

  auto challenge = coffer::azure::parse_challenge(header);
  if (!challenge) return 0;
  require(coffer::azure::is_valid_tenant(challenge->tenant), "the tenant may go into a URL");
  require(is_plain_host(challenge->resource_host), "the resource host is a plain host name");
  require(!challenge->scope.empty(), "a challenge has a scope");

  const std::string refusal = coffer::azure::check_challenge_resource(*challenge, vault_host);
  const std::string host = coffer::azure::to_lower(vault_host);
  const std::string suffix = "." + challenge->resource_host;
  const bool under = host.size() >= suffix.size() &&
                     host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
  require(refusal.empty() == under, "the resource check accepts exactly the vault's sub-domains");
  return 0;
}
