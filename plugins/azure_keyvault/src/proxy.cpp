#include "proxy.hpp"

#include <openssl/evp.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <algorithm>
#include <stdexcept>

namespace coffer::azure {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool in_network(std::string_view host, std::string_view cidr) {
  boost::system::error_code error;
  auto address = boost::asio::ip::make_address(std::string(host), error);
  if (error) return false;
  if (address.is_v4()) {
    auto network = boost::asio::ip::make_network_v4(std::string(cidr), error);
    if (error) return false;
    auto mine = boost::asio::ip::network_v4(address.to_v4(), network.prefix_length());
    return mine.canonical() == network.canonical();
  }
  auto network = boost::asio::ip::make_network_v6(std::string(cidr), error);
  if (error) return false;
  auto mine = boost::asio::ip::network_v6(address.to_v6(), network.prefix_length());
  return mine.canonical() == network.canonical();
}

}  // namespace

ProxySettings::ProxySettings(std::string_view proxy_url, std::string_view no_proxy) {
  proxy_url = trim(proxy_url);
  if (!proxy_url.empty()) {
    std::string text(proxy_url);
    if (text.find("://") == std::string::npos) text = "http://" + text;  // curl's habit
    auto url = parse_url(text, true);
    if (!url) throw std::invalid_argument("is not an http://host:port proxy URL");
    if (url->endpoint.tls)
      throw std::invalid_argument(
          "uses https://; only plain http:// proxies (CONNECT tunnels) are supported");
    if (url->path != "/" || !url->query.empty())
      throw std::invalid_argument("must not have a path or query");
    proxy_ = url->endpoint;
    if (!url->user.empty() || !url->password.empty()) {
      coffer::provider::SecretBytes credentials;
      credentials.append(url->user);
      credentials.push_back(':');
      credentials.append(url->password);
      std::vector<unsigned char> encoded(4 * ((credentials.size() + 2) / 3) + 1);
      int length =
          EVP_EncodeBlock(encoded.data(), credentials.data(), static_cast<int>(credentials.size()));
      authorization_.append("Basic ");
      authorization_.append(encoded.data(), static_cast<std::size_t>(length));
      coffer::provider::wipe(encoded.data(), encoded.size());
      coffer::provider::wipe(url->password.data(), url->password.size());
    }
  }
  std::size_t start = 0;
  while (start <= no_proxy.size()) {
    std::size_t comma = no_proxy.find(',', start);
    if (comma == std::string_view::npos) comma = no_proxy.size();
    std::string entry = to_lower(trim(no_proxy.substr(start, comma - start)));
    if (!entry.empty()) {
      if (entry.front() == '[') {  // [v6]:port or [v6]
        auto close = entry.find(']');
        entry = close == std::string::npos ? entry : entry.substr(1, close - 1);
      } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
        entry = entry.substr(0, entry.find(':'));  // host:port → host
      }
      while (entry.size() > 1 && entry.front() == '.') entry.erase(0, 1);
      if (entry.size() > 1 && entry.front() == '*' && entry[1] == '.') entry.erase(0, 2);
      exceptions_.push_back(entry);
    }
    start = comma + 1;
  }
}

bool ProxySettings::bypass(std::string_view host_text) const {
  std::string host = to_lower(host_text);
  for (const std::string &entry : exceptions_) {
    if (entry == "*") return true;
    if (host == entry) return true;
    // An address range; an entry that is none (no host name holds '/') is
    // still compared as a name below, as every entry is.
    if (entry.find('/') != std::string::npos && in_network(host, entry)) return true;
    if (host.size() > entry.size() &&
        host.compare(host.size() - entry.size(), entry.size(), entry) == 0 &&
        host[host.size() - entry.size() - 1] == '.')
      return true;
  }
  return false;
}

const Endpoint *ProxySettings::proxy_for(std::string_view host) const {
  if (!proxy_ || bypass(host)) return nullptr;
  return &*proxy_;
}

std::string ProxySettings::describe() const {
  return proxy_ ? "http://" + proxy_->authority() : std::string("none");
}

}  // namespace coffer::azure
