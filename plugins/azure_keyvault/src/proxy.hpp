// Which connections go through an HTTP proxy (CONNECT tunnel): the proxy URL
// from the configuration or HTTPS_PROXY / https_proxy, and the exceptions
// from `no_proxy` or NO_PROXY / no_proxy. Immutable after construction;
// thread-safe.
#ifndef COFFER_AZURE_PROXY_HPP
#define COFFER_AZURE_PROXY_HPP

#include "url.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::azure {

class ProxySettings {
 public:
  ProxySettings() = default;
  // `proxy_url`: "http://[user:password@]host:port", or empty for none.
  // `no_proxy`: comma-separated host names, domain suffixes (".example.com"
  // or "example.com" match sub-domains too), IP addresses, CIDR ranges, or
  // "*". Throws std::invalid_argument with a message when the URL is bad.
  ProxySettings(std::string_view proxy_url, std::string_view no_proxy);

  // The proxy for a connection to `host`, or nothing for a direct one.
  [[nodiscard]] const Endpoint *proxy_for(std::string_view host) const;
  // "Basic base64(user:password)" when the URL had user information.
  [[nodiscard]] const coffer::provider::SecretBytes &authorization() const noexcept {
    return authorization_;
  }
  [[nodiscard]] bool enabled() const noexcept { return proxy_.has_value(); }
  // The proxy's origin without user information, for messages.
  [[nodiscard]] std::string describe() const;

  ProxySettings(ProxySettings &&) noexcept = default;
  ProxySettings &operator=(ProxySettings &&) noexcept = default;

 private:
  [[nodiscard]] bool bypass(std::string_view host) const;
  std::optional<Endpoint> proxy_;
  coffer::provider::SecretBytes authorization_;
  std::vector<std::string> exceptions_;
};

}  // namespace coffer::azure

#endif  // COFFER_AZURE_PROXY_HPP
