#include "origins.hpp"

#include <coffer/error.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace coffer::admin {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && lower(a) == lower(b);
}

[[noreturn]] void refuse(std::string_view url, const std::string &why) {
  throw Error(Code::invalid_argument, "--admin-origin " + std::string(url) + ": " + why +
                                          " (expected SCHEME://HOST[:PORT], e.g. "
                                          "https://panel.example.com)");
}

// Splits "HOST[:PORT]" (HOST may be a bracketed IPv6 address); port 0 when absent.
bool split_host_port(std::string_view text, std::string &host, std::uint16_t &port) {
  std::size_t host_end = text.size();
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    host_end = close + 1;
    if (host_end < text.size() && text[host_end] != ':') return false;
  } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host_end = colon;
  }
  host = lower(text.substr(0, host_end));
  port = 0;
  if (host.empty()) return false;
  if (host_end < text.size()) {
    auto digits = text.substr(host_end + 1);
    unsigned value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
        value == 0 || value > 65535)
      return false;
    port = static_cast<std::uint16_t>(value);
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == ':' ||
           c == '[' || c == ']';
  });
}

std::uint16_t default_port_of(std::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

}  // namespace

std::string Origin::text() const {
  std::string out = scheme + "://" + host;
  if (!default_port()) out += ":" + std::to_string(port);
  return out;
}

bool Origin::default_port() const noexcept {
  return port == default_port_of(scheme);
}

Origin parse_origin(std::string_view url) {
  Origin origin;
  auto separator = url.find("://");
  if (separator == std::string_view::npos) refuse(url, "no scheme");
  origin.scheme = lower(url.substr(0, separator));
  if (origin.scheme != "http" && origin.scheme != "https")
    refuse(url, "the scheme must be http or https");
  auto rest = url.substr(separator + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos)
    refuse(url, "an origin has no path, query, fragment or user");
  if (!split_host_port(rest, origin.host, origin.port)) refuse(url, "no valid host and port");
  if (origin.port == 0) origin.port = default_port_of(origin.scheme);
  return origin;
}

bool AllowedOrigins::host_allowed(std::string_view host) const {
  std::string name;
  std::uint16_t port = 0;
  if (!split_host_port(host, name, port)) return false;
  for (const auto &origin : origins_) {
    if (origin.host != name) continue;
    if (port == origin.port || (port == 0 && origin.default_port())) return true;
  }
  return false;
}

bool AllowedOrigins::request_from_allowed(std::string_view origin, std::string_view referer) const {
  if (!origin.empty()) {
    if (origin == "null") return false;
    return std::any_of(origins_.begin(), origins_.end(), [&](const Origin &allowed) {
      return equal_ignoring_case(origin, allowed.text());
    });
  }
  if (referer.empty()) return false;
  return std::any_of(origins_.begin(), origins_.end(), [&](const Origin &allowed) {
    std::string prefix = allowed.text() + "/";
    return referer.size() >= prefix.size() &&
           equal_ignoring_case(referer.substr(0, prefix.size()), prefix);
  });
}

bool AllowedOrigins::any_https() const {
  return std::any_of(origins_.begin(), origins_.end(),
                     [](const Origin &origin) { return origin.scheme == "https"; });
}

}  // namespace coffer::admin
