#include "http_server.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <ctime>
#include <vector>

namespace coffer::emulator {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr auto kHandshakeTimeout = 60s;  // generous: test machines are often overloaded
constexpr auto kIdleTimeout = 120s;
constexpr auto kWriteTimeout = 30s;
constexpr std::size_t kBodyLimit = 4 * 1024 * 1024;

std::shared_ptr<ssl::context> make_context(const TlsIdentity &identity) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  // No session resumption: every connection sees the certificate presented
  // now, so switching certificates takes effect on the next connection.
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx->native_handle(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx->native_handle(), 0);
  ctx->use_certificate_chain(asio::buffer(identity.certificate_chain_pem));
  ctx->use_private_key(asio::buffer(identity.private_key_pem), ssl::context::pem);
  return ctx;
}

std::string http_date() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buffer;
}

template <class Stream>
void abort_connection(Stream &stream) {
  auto &socket = beast::get_lowest_layer(stream).socket();
  boost::system::error_code ignored;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

Request to_request(const http::request<http::string_body> &message, bool tls) {
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto &field : message) {
    request.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  request.body = message.body();
  request.tls = tls;
  return request;
}

template <class Fields>
void copy_headers(const Response &response, Fields &fields) {
  for (const auto &h : response.headers) fields.set(h.name, h.value);
  fields.set(http::field::date, http_date());
}

}  // namespace

struct HttpServer::Impl {
  asio::io_context io{1};
  std::shared_ptr<ssl::context> default_context;
  std::shared_ptr<ssl::context> presented_context;
  std::vector<std::shared_ptr<ssl::context>> retired;  // kept alive for open connections
  tcp::acceptor https_acceptor{io};
  tcp::acceptor imds_acceptor{io};
  asio::signal_set signals{io, SIGINT, SIGTERM};
  Handler https_handler;
  Handler imds_handler;
  std::string control_name;

  static int on_server_name(SSL *ssl, int *, void *arg) {
    auto *self = static_cast<Impl *>(arg);
    if (!self->presented_context) return SSL_TLSEXT_ERR_OK;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name != nullptr && self->control_name == name) return SSL_TLSEXT_ERR_OK;
    SSL_set_SSL_CTX(ssl, self->presented_context->native_handle());
    return SSL_TLSEXT_ERR_OK;
  }

  void bind(tcp::acceptor &acceptor, const std::string &address, unsigned short port) {
    const tcp::endpoint endpoint(asio::ip::make_address(address), port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
  }

  template <class Stream>
  asio::awaitable<bool> write_response(Stream &stream, const Response &response, unsigned version,
                                       bool keep_alive) {
    beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
    if (response.transport == Transport::truncate) {
      http::response<http::empty_body> head{static_cast<http::status>(response.status), version};
      copy_headers(response, head);
      head.content_length(response.body.size());
      head.keep_alive(true);
      http::response_serializer<http::empty_body> serializer{head};
      auto [ec, n] = co_await http::async_write_header(stream, serializer, use_nothrow);
      if (!ec) {
        co_await asio::async_write(
            stream, asio::buffer(response.body.data(), response.body.size() / 2), use_nothrow);
      }
      abort_connection(stream);
      co_return false;
    }
    http::response<http::string_body> message{static_cast<http::status>(response.status), version};
    copy_headers(response, message);
    message.body() = response.body;
    message.keep_alive(keep_alive);
    message.prepare_payload();
    auto [ec, n] = co_await http::async_write(stream, message, use_nothrow);
    co_return !ec && keep_alive;
  }

  // Waits stall_ms; returns false when the client closed (or sent anything)
  // first, which ends the connection.
  template <class Stream>
  asio::awaitable<bool> stall(Stream &stream, int stall_ms) {
    asio::steady_timer timer(io, std::chrono::milliseconds(stall_ms));
    auto &socket = beast::get_lowest_layer(stream).socket();
    auto outcome = co_await (timer.async_wait(use_nothrow) ||
                             socket.async_wait(tcp::socket::wait_read, use_nothrow));
    co_return outcome.index() == 0;
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream &stream, const Handler &handler, bool tls) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kBodyLimit);
      beast::get_lowest_layer(stream).expires_after(kIdleTimeout);
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
      if (ec) co_return;
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
        auto [wec, wn] = co_await http::async_write(stream, go_on, use_nothrow);
        if (wec) co_return;
      }
      if (!parser.is_done()) {
        auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_nothrow);
        if (rec) co_return;
      }
      const auto &message = parser.get();
      const Response response = handler(to_request(message, tls));
      if (response.transport == Transport::reset) {
        abort_connection(stream);
        co_return;
      }
      if (response.transport == Transport::stall && !co_await stall(stream, response.stall_ms)) {
        abort_connection(stream);
        co_return;
      }
      if (!co_await write_response(stream, response, message.version(), message.keep_alive())) {
        break;
      }
    }
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      beast::get_lowest_layer(stream).expires_after(2s);
      co_await stream.async_shutdown(use_nothrow);
    } else {
      boost::system::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
  }

  asio::awaitable<void> https_session(tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)),
                                                *default_context);
    beast::get_lowest_layer(stream).expires_after(kHandshakeTimeout);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_nothrow);
    if (ec) co_return;
    co_await serve(stream, https_handler, true);
  }

  asio::awaitable<void> imds_session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    co_await serve(stream, imds_handler, false);
  }

  asio::awaitable<void> accept_loop(tcp::acceptor &acceptor, bool tls) {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {  // e.g. out of file descriptors: wait for connections to close
        asio::steady_timer pause(io, 10ms);
        co_await pause.async_wait(use_nothrow);
        continue;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      if (tls) {
        asio::co_spawn(io, https_session(std::move(socket)), asio::detached);
      } else {
        asio::co_spawn(io, imds_session(std::move(socket)), asio::detached);
      }
    }
  }
};

HttpServer::HttpServer(const ServerOptions &options, const TlsIdentity &identity,
                       Handler https_handler, Handler imds_handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->https_handler = std::move(https_handler);
  impl_->imds_handler = std::move(imds_handler);
  impl_->control_name = options.control_name;
  impl_->default_context = make_context(identity);
  SSL_CTX_set_tlsext_servername_callback(impl_->default_context->native_handle(),
                                         &Impl::on_server_name);
  SSL_CTX_set_tlsext_servername_arg(impl_->default_context->native_handle(), impl_.get());
  impl_->bind(impl_->https_acceptor, options.listen_address, options.https_port);
  impl_->bind(impl_->imds_acceptor, options.listen_address, options.imds_port);
}

HttpServer::~HttpServer() = default;

unsigned short HttpServer::https_port() const {
  return impl_->https_acceptor.local_endpoint().port();
}

unsigned short HttpServer::imds_port() const {
  return impl_->imds_acceptor.local_endpoint().port();
}

void HttpServer::present(const std::optional<TlsIdentity> &identity) {
  if (impl_->presented_context) impl_->retired.push_back(impl_->presented_context);
  impl_->presented_context = identity ? make_context(*identity) : nullptr;
}

void HttpServer::run() {
  Impl &impl = *impl_;
  asio::co_spawn(impl.io, impl.accept_loop(impl.https_acceptor, true), asio::detached);
  asio::co_spawn(impl.io, impl.accept_loop(impl.imds_acceptor, false), asio::detached);
  impl.signals.async_wait([&impl](const boost::system::error_code &, int) {
    boost::system::error_code ignored;
    impl.https_acceptor.close(ignored);
    impl.imds_acceptor.close(ignored);
    impl.io.stop();
  });
  impl.io.run();
}

}  // namespace coffer::emulator
