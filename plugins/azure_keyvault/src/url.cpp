#include "url.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>

namespace coffer::azure {
namespace {

bool is_unreserved(unsigned char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

constexpr char kHex[] = "0123456789ABCDEF";

// A DNS name as it may go into a Host header, SNI, a CONNECT line and a
// message: letters, digits, '-', '.' and '_' (percent-decoded, lower-cased).
bool is_dns_name(std::string_view host) noexcept {
  if (host.empty()) return false;
  for (char c : host)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
      return false;
  return true;
}

}  // namespace

std::string Endpoint::authority() const {
  std::string text = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return text + ":" + std::to_string(port);
}

std::string Endpoint::origin() const {
  std::string text = tls ? "https://" : "http://";
  text += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) text += ":" + std::to_string(port);
  return text;
}

std::string Url::target() const {
  return query.empty() ? path : path + "?" + query;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char &c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::optional<Url> parse_url(std::string_view text, bool allow_userinfo) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return std::nullopt;
  const boost::urls::url_view &view = *parsed;
  Url url;
  std::string scheme = to_lower(view.scheme());
  if (scheme == "https") {
    url.endpoint.tls = true;
  } else if (scheme == "http") {
    url.endpoint.tls = false;
  } else {
    return std::nullopt;
  }
  if (!view.has_authority() || view.has_fragment()) return std::nullopt;
  if (view.has_userinfo()) {
    if (!allow_userinfo) return std::nullopt;
    url.user = view.user();
    url.password = view.password();
  }
  url.endpoint.host = to_lower(view.host_address());
  switch (view.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      break;
    case boost::urls::host_type::name:
      // A percent-encoded byte must not smuggle '/', '@', a line break or
      // any other character into the host.
      if (!is_dns_name(url.endpoint.host)) return std::nullopt;
      break;
    default:
      return std::nullopt;
  }
  if (view.has_port()) {
    if (view.port().empty() || view.port_number() == 0) return std::nullopt;
    url.endpoint.port = view.port_number();
  } else {
    url.endpoint.port = url.endpoint.tls ? 443 : 80;
  }
  url.path = view.encoded_path();
  // Boost.URL 1.81 reads "1.2.3.4.example" as the IPv4 address 1.2.3.4
  // followed by the path ".example"; after an authority, a path that does
  // not start with '/' can only mean that.
  if (!url.path.empty() && url.path.front() != '/') return std::nullopt;
  if (url.path.empty()) url.path = "/";
  if (view.has_query()) url.query = view.encoded_query();
  return url;
}

std::optional<Endpoint> parse_host_port(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;
  }
  unsigned value = 0;
  auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || error != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535)
    return std::nullopt;
  std::string lower = to_lower(host);
  if (!is_dns_name(lower) && !is_ip_literal(lower)) return std::nullopt;
  return Endpoint{true, std::move(lower), static_cast<uint16_t>(value)};
}

bool is_ip_literal(std::string_view host) noexcept {
  // inet_pton would stop at a NUL and take "::\0junk" for "::"; a zone id
  // ("%eth0") is not a host either.
  if (host.find_first_of(std::string_view("\0%", 2)) != std::string_view::npos) return false;
  boost::system::error_code error;
  (void)boost::asio::ip::make_address(std::string(host), error);
  return !error;
}

std::string percent_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (is_unreserved(byte)) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  return out;
}

void append_form_encoded(coffer::provider::SecretBytes &out, std::string_view text) {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (is_unreserved(byte)) {
      out.push_back(byte);
    } else {
      const unsigned char escaped[3] = {'%', static_cast<unsigned char>(kHex[byte >> 4]),
                                        static_cast<unsigned char>(kHex[byte & 0xf])};
      out.append(escaped, sizeof escaped);
    }
  }
}

}  // namespace coffer::azure
