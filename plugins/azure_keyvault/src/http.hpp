// An asynchronous HTTP/1.1 client for the instance's I/O thread: TLS 1.2+
// with peer and host-name verification always on (system trust store plus an
// optional CA file), a bounded keep-alive connection pool per host, timeouts on
// name resolution, connect, TLS handshake and each request, CONNECT tunnels
// through an HTTP proxy, and plain HTTP only where a caller asks for it (the
// managed identity endpoint). Bodies and Authorization headers live in wiped
// memory. Every member function but send_here() and stats() must be called on
// the I/O thread.
#ifndef COFFER_AZURE_HTTP_HPP
#define COFFER_AZURE_HTTP_HPP

#include "async.hpp"
#include "proxy.hpp"
#include "secret_memory.hpp"
#include "url.hpp"

#include <coffer/provider.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace coffer::azure {

struct HttpRequest {
  std::string method = "GET";  // GET, PUT, POST, DELETE, PATCH
  Url url;
  std::vector<std::pair<std::string, std::string>> headers;  // not secret
  SecretString authorization;  // the Authorization header value, or empty
  coffer::provider::SecretBytes body;
  std::string content_type;  // with a body
};

struct HttpResponse {
  unsigned status = 0;
  std::string www_authenticate;  // all WWW-Authenticate headers, comma-joined
  std::string retry_after;
  std::string retry_after_ms;  // retry-after-ms or x-ms-retry-after-ms
  std::string request_id;      // x-ms-request-id, for messages
  coffer::provider::SecretBytes body;
};

enum class TransportError {
  none,
  resolve,   // the name did not resolve
  connect,   // no TCP connection
  proxy,     // the proxy refused or broke the tunnel
  tls,       // handshake or certificate verification failed
  timeout,   // a step did not finish in time
  io,        // the connection failed during the exchange (reset, truncated)
  protocol,  // the answer was not valid HTTP/1.1
  shutdown,  // the client is shutting down
};

struct HttpResult {
  TransportError error = TransportError::none;
  std::string message;    // what failed, never secret
  bool retryable = true;  // false: trying again cannot help (certificate rejected)
  HttpResponse response;
  [[nodiscard]] bool ok() const noexcept { return error == TransportError::none; }
};

struct HttpClientOptions {
  std::string ca_file;  // extra trusted CA (PEM), or empty
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds idle_timeout{50000};  // drop idle connections older than this
  std::size_t max_connections_per_host = 16;
  std::size_t max_concurrent_connects = 2;  // handshakes under way per host at once
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  ProxySettings proxy;
  // Connections to `connect_to_for` go to `connect_to` instead (TLS still
  // verifies `connect_to_for.host`).
  std::optional<Endpoint> connect_to;
  Endpoint connect_to_for;
  std::string user_agent = "coffer-azure-keyvault";
  // Requests to this endpoint may also go through send_here(), on lanes:
  // connections each with an event loop of its own, which a waiting caller
  // runs on its thread. The lanes hold at most half of the host's
  // max_connections_per_host, and share its TLS session.
  std::optional<Endpoint> lanes_for;
};

struct HttpClientStats {
  uint64_t connections_opened = 0;
  uint64_t tls_sessions_resumed = 0;  // handshakes that resumed an earlier session
  uint64_t requests = 0;
};

class HttpClient {
 public:
  // Throws coffer::provider::Error (COFFER_STATUS_INVALID_CONFIG) when the CA
  // file cannot be loaded.
  HttpClient(asio::io_context &io, HttpClientOptions options, const coffer::provider::Host &log);
  ~HttpClient();
  HttpClient(const HttpClient &) = delete;
  HttpClient &operator=(const HttpClient &) = delete;

  // Sends `request` and reads the answer, finishing by `deadline` at the
  // latest. A connection reused from the pool that turns out to be closed is
  // replaced once, transparently. Never throws for transport problems.
  asio::awaitable<HttpResult> send(const HttpRequest &request, Deadline deadline);

  // send() for a caller that blocks until the answer anyway, on its own
  // thread: takes an idle lane (or opens one within the caps), exchanges on
  // it and gives it back. Name resolution for a new lane runs on the I/O
  // thread. Thread-safe; never on the I/O thread. Nothing when the request
  // is not for `lanes_for`, no lane is free and none may be opened, or it is
  // called on the I/O thread: send() it instead.
  std::optional<HttpResult> send_here(const HttpRequest &request, Deadline deadline);
  // Opens a lane's connection ahead of its first request, on the calling
  // thread, when no lane is idle and the caps allow one; a failure is left
  // for that request to meet and report. Thread-safe; not on the I/O thread.
  void open_lane(Deadline deadline);

  // Closes every connection and fails waiting and future requests with
  // TransportError::shutdown; a lane's exchange under way ends at once.
  void shutdown();

  [[nodiscard]] HttpClientStats stats() const noexcept;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

std::string_view transport_error_name(TransportError error) noexcept;

}  // namespace coffer::azure

#endif  // COFFER_AZURE_HTTP_HPP
