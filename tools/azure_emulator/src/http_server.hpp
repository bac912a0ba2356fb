// The emulator's network side: an HTTPS listener (Key Vault, Entra ID and the
// control API) and a plain-HTTP listener (IMDS), HTTP/1.1 with keep-alive,
// one io_context on one thread, one coroutine per connection. Requests go to
// synchronous handlers on that thread, so handlers need no locking. This is
// the only translation unit of the emulator that includes Beast.
#ifndef COFFER_AZURE_EMULATOR_HTTP_SERVER_HPP
#define COFFER_AZURE_EMULATOR_HTTP_SERVER_HPP

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http_message.hpp"
#include "pki.hpp"

namespace coffer::emulator {

struct ServerOptions {
  std::string listen_address = "127.0.0.1";
  unsigned short https_port = 0;  // 0: any free port
  unsigned short imds_port = 0;
  // Connections whose TLS SNI is this name always get the default identity,
  // whatever present() says, so that the control client keeps working while
  // tests make the server present a wrong or untrusted certificate.
  std::string control_name;
};

using Handler = std::function<Response(const Request &)>;

class HttpServer {
 public:
  // Binds both ports (throws std::system_error when it cannot).
  HttpServer(const ServerOptions &options, const TlsIdentity &identity, Handler https_handler,
             Handler imds_handler);
  ~HttpServer();
  HttpServer(const HttpServer &) = delete;
  HttpServer &operator=(const HttpServer &) = delete;

  [[nodiscard]] unsigned short https_port() const;
  [[nodiscard]] unsigned short imds_port() const;

  // The certificate that new non-control TLS connections get; nullopt
  // restores the default identity. Call from a handler or before run().
  void present(const std::optional<TlsIdentity> &identity);

  // Serves until SIGTERM or SIGINT arrives.
  void run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffer::emulator

#endif
