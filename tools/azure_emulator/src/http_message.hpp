// Plain HTTP request and response values, and URL helpers, shared by the
// emulator's routes. Only http_server.cpp knows Beast; everything else works on
// these values. Not thread-safe; values are used by one thread at a time.
#ifndef COFFER_AZURE_EMULATOR_HTTP_MESSAGE_HPP
#define COFFER_AZURE_EMULATOR_HTTP_MESSAGE_HPP

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::emulator {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query exactly as received
  std::vector<Header> headers;
  std::string body;
  bool tls = true;  // false on the plain-HTTP IMDS port

  // The first header with this name (case-insensitive), or "" when absent.
  [[nodiscard]] std::string_view header(std::string_view name) const;
  [[nodiscard]] bool has_header(std::string_view name) const;
};

// How the server puts a response on the wire. Everything except `respond`
// is a transport fault injected on purpose.
enum class Transport {
  respond,   // a normal HTTP response
  reset,     // close the TCP connection abruptly (RST), nothing sent
  truncate,  // send the headers with the full Content-Length, half the body, then close
  stall,     // wait stall_ms (or until the client closes), then respond normally
};

struct Response {
  int status = 200;
  std::vector<Header> headers;  // Content-Length and Date are added by the server
  std::string body;
  Transport transport = Transport::respond;
  int stall_ms = 0;

  void set_header(std::string_view name, std::string_view value);
  [[nodiscard]] std::string_view header(std::string_view name) const;
};

// A request target split into percent-decoded path segments (split first, so
// "%2F" stays inside its segment) and a decoded query (first value wins;
// keys are decoded too, so "api%2Dversion" reads as "api-version").
struct Target {
  std::string path;                   // raw path, undecoded
  std::vector<std::string> segments;  // "/secrets/a/" -> {"secrets", "a", ""}
  std::map<std::string, std::string> query;

  [[nodiscard]] const std::string *param(const std::string &key) const;
};

Target parse_target(std::string_view target);
// application/x-www-form-urlencoded ("+" is a space); first value wins.
std::map<std::string, std::string> parse_form(std::string_view body);
std::string percent_decode(std::string_view text, bool plus_is_space);
// Encodes everything except unreserved characters (RFC 3986).
std::string percent_encode(std::string_view text);

bool iequals(std::string_view a, std::string_view b);
std::string lowercase(std::string_view text);
std::string trim(std::string_view text);

}  // namespace coffer::emulator

#endif
