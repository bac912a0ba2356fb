// URLs as the plugin uses them: an endpoint (scheme, host, port) and a
// request target, plus the percent-encodings of query strings and form bodies.
// Pure functions; thread-safe.
#ifndef COFFER_AZURE_URL_HPP
#define COFFER_AZURE_URL_HPP

#include <coffer/provider.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace coffer::azure {

// Where a connection goes. `host` is a DNS name or an IP literal without
// brackets, lower-cased.
struct Endpoint {
  bool tls = true;
  std::string host;
  uint16_t port = 443;

  // "host:port", with brackets around an IPv6 literal.
  [[nodiscard]] std::string authority() const;
  // "https://host[:port]" (the port only when not the scheme's default).
  [[nodiscard]] std::string origin() const;
  friend bool operator==(const Endpoint &, const Endpoint &) = default;
};

struct Url {
  Endpoint endpoint;
  std::string path;   // percent-encoded, starts with '/'
  std::string query;  // percent-encoded, without '?', may be empty
  std::string user;   // decoded user information (proxy URLs only)
  std::string password;

  // path + ('?' + query when present): the HTTP request target.
  [[nodiscard]] std::string target() const;
};

// Parses an absolute http or https URL. Returns nothing when it is not one
// (no fragment allowed) or when its host, percent-decoded, is neither an IP
// literal nor a DNS name of letters, digits, '-', '.' and '_' (a host goes
// into Host headers, SNI, CONNECT lines and messages). `allow_userinfo`
// accepts "user:password@".
std::optional<Url> parse_url(std::string_view text, bool allow_userinfo = false);

// Parses "host:port" (IPv6 in brackets; the host as parse_url wants it).
// Returns nothing when malformed.
std::optional<Endpoint> parse_host_port(std::string_view text);

// True when `host` is an IPv4 or IPv6 literal.
bool is_ip_literal(std::string_view host) noexcept;

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string percent_encode(std::string_view text);

// Appends `text` percent-encoded for application/x-www-form-urlencoded to a
// secret buffer (no intermediate copies of the text).
void append_form_encoded(coffer::provider::SecretBytes &out, std::string_view text);

// Lower-cases ASCII.
std::string to_lower(std::string_view text);

}  // namespace coffer::azure

#endif  // COFFER_AZURE_URL_HPP
