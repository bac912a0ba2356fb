// Proxy settings. Input: the proxy URL, NUL, the no_proxy list, NUL, the host
// of a connection. Properties: a bad URL is refused with a message and no
// proxy; an accepted one is plain http with a clean host; "*" in no_proxy
// and a host listed exactly bypass the proxy; the proxy's description never
// holds the credentials, and credentials become a Basic authorization.
#include <stdexcept>
#include <string>

#include "fuzz_support.hpp"
#include "proxy.hpp"

namespace {

using coffer::fuzz::require;

// The entries of a no_proxy list as the settings read them, trimmed and lower-cased.
bool lists(std::string_view no_proxy, std::string_view entry) {
  std::size_t start = 0;
  while (start <= no_proxy.size()) {
    std::size_t comma = no_proxy.find(',', start);
    if (comma == std::string_view::npos) comma = no_proxy.size();
    std::string_view item = no_proxy.substr(start, comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (coffer::azure::to_lower(item) == entry) return true;
    start = comma + 1;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  coffer::fuzz::Input input(data, size);
  const std::string_view proxy_url = input.field();
  const std::string_view no_proxy = input.field();
  const std::string_view host = input.rest();

  std::optional<coffer::azure::ProxySettings> settings;
  try {
    settings.emplace(proxy_url, no_proxy);
  } catch (const std::invalid_argument &error) {
    require(*error.what() != '\0', "a refused proxy URL says why");
    return 0;
  }
  const std::string description = settings->describe();
  require(description.find('@') == std::string::npos, "the description holds no credentials");
  const auto &authorization = settings->authorization().view();
  require(authorization.empty() || authorization.starts_with("Basic "),
          "credentials become a Basic authorization");
  if (!settings->enabled()) {
    require(settings->proxy_for(host) == nullptr, "no proxy, no proxy for any host");
    return 0;
  }
  const auto *proxy = settings->proxy_for(host);
  if (proxy != nullptr) {
    require(!proxy->tls && proxy->port != 0 && !proxy->host.empty(), "a proxy is http host:port");
  }
  if (lists(no_proxy, "*")) require(proxy == nullptr, "\"*\" bypasses the proxy for every host");
  const std::string lower = coffer::azure::to_lower(host);
  if (!lower.empty() && lower.find_first_of(":[]") == std::string::npos && lists(no_proxy, lower))
    require(proxy == nullptr, "a listed host bypasses the proxy");
  return 0;
}
