// URLs and host:port text. Input: a flags byte, then the text. Properties: a
// parsed URL has a port, a path starting with '/', and a host that cannot
// smuggle anything into a Host header, a CONNECT line or SNI; its origin and
// target parse back to the same URL; an endpoint's authority parses back to
// the same endpoint; percent-encodings hold only unreserved characters and
// escapes.
#include <coffer/provider.hpp>

#include <string>

#include "fuzz_support.hpp"
#include "url.hpp"

namespace {

using coffer::fuzz::require;

bool is_unreserved(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

bool is_encoded(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_unreserved(text[i])) continue;
    if (text[i] != '%' || i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2]))
      return false;
    i += 2;
  }
  return true;
}

// A DNS name or an IP literal (IPv6 without brackets), lower case.
bool is_host(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= ' ' || byte >= 0x7f || (c >= 'A' && c <= 'Z')) return false;
    if (c == '/' || c == '@' || c == '?' || c == '#' || c == '\\' || c == '[' || c == ']' ||
        c == '%')
      return false;
  }
  return true;
}

void check_url(std::string_view text, bool allow_userinfo) {
  auto url = coffer::azure::parse_url(text, allow_userinfo);
  if (!url) return;
  require(is_host(url->endpoint.host), "a URL's host is a plain host name or IP literal");
  require(url->endpoint.port != 0, "a URL has a port");
  require(!url->path.empty() && url->path.front() == '/', "a URL's path starts with '/'");
  if (!allow_userinfo) require(url->user.empty() && url->password.empty(), "no userinfo");

  auto again = coffer::azure::parse_url(url->endpoint.origin() + url->target());
  require(again.has_value(), "a URL's origin and target parse again");
  if (again) {
    require(again->endpoint == url->endpoint, "a URL's origin keeps its endpoint");
    require(again->target() == url->target(), "a URL's target survives a round trip");
  }
  auto endpoint = coffer::azure::parse_host_port(url->endpoint.authority());
  require(endpoint.has_value(), "an endpoint's authority parses again");
  if (endpoint)
    require(endpoint->host == url->endpoint.host && endpoint->port == url->endpoint.port,
            "an endpoint's authority keeps host and port");
}

void check_host_port(std::string_view text) {
  auto endpoint = coffer::azure::parse_host_port(text);
  if (!endpoint) return;
  require(endpoint->port != 0, "a host:port has a port");
  require(is_host(endpoint->host), "a host:port's host is a plain host name or IP literal");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  coffer::fuzz::Input input(data, size);
  const bool allow_userinfo = (input.byte() & 1) != 0;
  const std::string_view text = input.rest();
  check_url(text, allow_userinfo);
  check_host_port(text);
  (void)coffer::azure::is_ip_literal(text);
  require(is_encoded(coffer::azure::percent_encode(text)), "percent_encode escapes the rest");
  coffer::provider::SecretBytes form;
  coffer::azure::append_form_encoded(form, text);
  require(is_encoded(form.view()), "form encoding escapes the rest");
  return 0;
}
