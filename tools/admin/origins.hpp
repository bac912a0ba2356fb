// Which origins the panel answers as: its own (the listener's address, and
// "localhost" for a loopback one) and those given with --admin-origin (a
// reverse proxy's https URL). A request's Host header must name one of them
// (421 otherwise), and a state-changing request must come from one of them
// by its Origin header, or its Referer when it has no Origin (403 otherwise).
//
// Threading: const methods may be called from many threads at once.
#ifndef COFFER_ADMIN_ORIGINS_HPP
#define COFFER_ADMIN_ORIGINS_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::admin {

struct Origin {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; an IPv6 address in brackets
  std::uint16_t port = 0;
  [[nodiscard]] std::string text() const;  // "https://panel.example.com" (default port left out)
  [[nodiscard]] bool default_port() const noexcept;
};

// Parses "SCHEME://HOST[:PORT][/]" for --admin-origin. Throws
// Error(invalid_argument) naming the option and what is wrong.
Origin parse_origin(std::string_view url);

class AllowedOrigins {
 public:
  AllowedOrigins() = default;
  explicit AllowedOrigins(std::vector<Origin> origins) : origins_(std::move(origins)) {}

  // Whether a Host header names an allowed origin: "HOST:PORT", or "HOST"
  // alone for an origin on its scheme's default port.
  [[nodiscard]] bool host_allowed(std::string_view host) const;
  // Whether a request with these Origin and Referer headers (empty when
  // absent) comes from an allowed origin.
  [[nodiscard]] bool request_from_allowed(std::string_view origin, std::string_view referer) const;
  // Whether any allowed origin is https (the cookie is then Secure).
  [[nodiscard]] bool any_https() const;
  [[nodiscard]] const std::vector<Origin> &origins() const { return origins_; }

 private:
  std::vector<Origin> origins_;
};

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_ORIGINS_HPP
