#include "admin_panel.hpp"

#include <openssl/crypto.h>
#include <coffer/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <atomic>
#include <cctype>
#include <optional>
#include <thread>

#include "admin_token.hpp"
#include "connection.hpp"
#include "listeners.hpp"
#include "login_limiter.hpp"
#include "origins.hpp"
#include "panel_router.hpp"
#include "sessions.hpp"
#include "store_calls.hpp"

namespace coffer::admin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Bounds of a panel connection: small requests (a login, an entered value).
constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
constexpr std::size_t kMaxBodyBytes = 16 * 1024;
constexpr auto kReadTimeout = 10s;
constexpr auto kIdleTimeout = 60s;
constexpr auto kWriteTimeout = 10s;
constexpr auto kHandshakeTimeout = 10s;

constexpr std::string_view kBusy =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: "
    "close\r\nContent-Length: 54\r\n\r\n{\"error\":\"the panel serves no more connections now\"}";

// The origins the listener answers as: its address, and localhost for a
// loopback one, on its port; with TLS the names of its certificate too; then
// --admin-origin's.
AllowedOrigins allowed_origins(const tcp::endpoint &endpoint, const std::string &scheme,
                               const std::vector<std::string> &certificate_names,
                               const std::vector<std::string> &extra) {
  std::vector<Origin> origins;
  auto port = endpoint.port();
  std::string host = endpoint.address().to_string();
  if (endpoint.address().is_v6()) host = "[" + host + "]";
  origins.push_back({.scheme = scheme, .host = host, .port = port});
  if (endpoint.address().is_loopback())
    origins.push_back({.scheme = scheme, .host = "localhost", .port = port});
  for (auto name : certificate_names) {
    for (auto &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    origins.push_back({.scheme = scheme, .host = std::move(name), .port = port});
  }
  for (const auto &url : extra) origins.push_back(parse_origin(url));
  return AllowedOrigins(std::move(origins));
}

int status_for_read_error(const boost::system::error_code &ec) {
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::body_limit) return 413;
  if (ec == beast::error::timeout) return 408;
  if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message)
    return 400;
  return 0;
}

void wipe_consumed(agent::ReadBuffer &buffer) {
  std::size_t spare = buffer.capacity() - buffer.size();
  if (spare == 0) return;
  auto region = buffer.prepare(spare);
  OPENSSL_cleanse(region.data(), region.size());
}

}  // namespace

struct AdminPanel::Impl {
  Impl(Store &store_in, AdminOptions options_in, agent::AgentLog &log_in,
       std::shared_ptr<const RecentEvents> events_in)
      : store(store_in),
        options(std::move(options_in)),
        log(log_in),
        events(std::move(events_in)),
        tokens(AdminTokenTable::load(options.token_file)),
        sessions(SessionLimits{.idle = options.session_idle, .lifetime = options.session_lifetime}),
        limiter(options.login_failures, options.login_window),
        storage_switch(store, options.policy_file, options.check_options, log) {}

  Store &store;
  AdminOptions options;
  agent::AgentLog &log;
  std::shared_ptr<const RecentEvents> events;
  AdminTokenTable tokens;
  SessionTable sessions;
  LoginLimiter limiter;
  StorageSwitch storage_switch;
  std::optional<AdminToken> proxy_secret;
  std::optional<asio::ssl::context> tls;  // set: connections are TLS
  AllowedOrigins origins;
  std::optional<PanelRouter> router;
  asio::io_context io{1};
  asio::thread_pool pool{2};  // handlers: they block on the Store
  std::optional<tcp::acceptor> acceptor;
  agent::ConnectionRegistry registry;
  std::atomic<std::size_t> open_connections{0};
  std::thread thread;
  std::string url;
  bool running = false;

  // Whether a new connection may be served; answers 503 and closes it otherwise.
  template <class Socket>
  bool admit(Socket &socket) {
    if (open_connections.load() >= options.max_connections) {
      boost::system::error_code ignored;
      socket.non_blocking(true, ignored);
      asio::write(socket, asio::buffer(kBusy), ignored);
      socket.close(ignored);
      return false;
    }
    ++open_connections;
    return true;
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto strand = asio::make_strand(io);
      auto [ec, socket] = co_await acceptor->async_accept(strand, use_nothrow);
      if (ec) {
        if (!acceptor->is_open() || registry.stopping()) co_return;
        if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
          asio::steady_timer pause(io, 100ms);
          co_await pause.async_wait(use_nothrow);
        }
        continue;
      }
      if (!admit(socket)) continue;
      asio::co_spawn(strand, serve(tcp::socket(std::move(socket))), asio::detached);
    }
  }

  template <class Stream>
  asio::awaitable<bool> write(Stream &stream, PanelResponse response, bool keep_alive) {
    http::response<agent::WipedBody> message{static_cast<http::status>(response.status), 11};
    message.set(http::field::server, "coffer");
    message.set(http::field::content_type, response.content_type);
    for (const auto &header : response.headers) message.insert(header.name, header.value);
    message.keep_alive(keep_alive);
    message.body() = std::move(response.body);
    message.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(kWriteTimeout);
    auto [ec, n] = co_await http::async_write(stream, message, use_nothrow);
    co_return !ec;
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    boost::system::error_code address_error;
    auto remote = socket.remote_endpoint(address_error);
    std::string client = address_error ? std::string("unknown") : remote.address().to_string();
    if (!tls) {
      beast::tcp_stream stream(std::move(socket));
      co_await converse(stream, client);
      boost::system::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream.close();
    } else {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
      stream.next_layer().expires_after(kHandshakeTimeout);
      // A client that does not speak TLS 1.2+ with these ciphers (plain
      // HTTP, TLS 1.1) fails here and is closed without an answer.
      auto [handshake_error] =
          co_await stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
      if (!handshake_error) {
        co_await converse(stream, client);
        stream.next_layer().expires_after(kWriteTimeout);
        // A client that closes without close_notify is no error here.
        (void)co_await stream.async_shutdown(use_nothrow);
      }
      stream.next_layer().close();
    }
    --open_connections;
  }

  // Answers the requests of one connection until it closes, times out, or
  // the panel stops.
  template <class Stream>
  asio::awaitable<void> converse(Stream &stream, const std::string &client) {
    beast::tcp_stream &transport = beast::get_lowest_layer(stream);
    auto executor = transport.get_executor();
    // Shared with the stop callback; touched only on the connection's strand.
    struct State {
      beast::tcp_stream *transport = nullptr;
      bool idle = false;  // waiting for the first byte of a request
      bool stop = false;  // shutdown began: close after this request
      bool alive = true;  // the coroutine still owns the stream
    };
    auto state = std::make_shared<State>(State{.transport = &transport});
    std::uint64_t registration = registry.add([state, executor] {
      asio::post(executor, [state] {
        state->stop = true;
        if (state->alive && state->idle) state->transport->cancel();
      });
    });
    agent::ReadBuffer buffer;
    bool first = true;
    while (!state->stop) {
      http::request_parser<PanelBody, agent::WipingAllocator<char>> parser;
      parser.header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
      parser.body_limit(kMaxBodyBytes);
      if (buffer.size() == 0) {
        state->idle = true;
        transport.expires_after(first ? std::chrono::milliseconds(kReadTimeout) : kIdleTimeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_nothrow);
        state->idle = false;
        if (ec) break;
        buffer.commit(n);
      }
      first = false;
      transport.expires_after(kReadTimeout);
      auto [read_error, read_bytes] =
          co_await http::async_read(stream, buffer, parser, use_nothrow);
      if (read_error) {
        if (int status = status_for_read_error(read_error); status != 0) {
          PanelResponse refusal;
          refusal.status = status;
          refusal.body = agent::WipedString("{\"error\":\"the request cannot be served\"}");
          co_await write(stream, std::move(refusal), false);
        }
        break;
      }
      PanelRequest request = parser.release();
      wipe_consumed(buffer);
      PanelResponse response = co_await agent::on_pool(
          pool, [this, &request, &client] { return router->handle(request, client); });
      bool keep_alive = request.keep_alive() && !state->stop && !registry.stopping();
      if (!co_await write(stream, std::move(response), keep_alive) || !keep_alive) break;
    }
    state->alive = false;
    registry.remove(registration);
  }
};

AdminPanel::AdminPanel(Store &store, AdminOptions options, agent::AgentLog &log,
                       std::shared_ptr<const RecentEvents> events)
    : impl_(std::make_unique<Impl>(store, std::move(options), log, std::move(events))) {
  Impl &self = *impl_;
  if (self.options.trusted_proxy.empty() != self.options.proxy_secret_file.empty())
    throw Error(Code::invalid_argument,
                "--admin-trusted-proxy and --admin-proxy-secret-file go together: the proxy's "
                "address alone is no proof (any local process could connect from it)");
  if (!self.options.trusted_proxy.empty()) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(self.options.trusted_proxy, ec);
    if (ec)
      throw Error(Code::invalid_argument,
                  "--admin-trusted-proxy " + self.options.trusted_proxy + ": not an IP address");
    self.options.trusted_proxy = address.to_string();
    self.proxy_secret =
        AdminToken::load(self.options.proxy_secret_file, "--admin-proxy-secret-file");
  }
  bool with_tls = !self.options.tls.certificate_chain.empty();
  if (with_tls != !self.options.tls.private_key.empty())
    throw Error(Code::invalid_argument,
                "--admin-tls-cert and --admin-tls-key go together: the certificate chain and its "
                "private key");
  std::vector<std::string> certificate_names;
  if (with_tls) {
    SslContextPtr context = make_tls_context(self.options.tls);
    certificate_names = certificate_host_names(context.get());
    self.tls.emplace(context.release());
  }
  self.acceptor.emplace(agent::open_tcp_listener(
      self.io.get_executor(), self.options.address,
      {.option = "--admin",
       .any_address = with_tls,
       .remote_advice = "give --admin-tls-cert and --admin-tls-key to serve the panel over TLS, "
                        "or reach it through an SSH tunnel or a TLS proxy"}));
  auto endpoint = self.acceptor->local_endpoint();
  self.origins = allowed_origins(endpoint, with_tls ? "https" : "http", certificate_names,
                                 self.options.origins);
  self.url = self.origins.origins().front().text() + "/";
  self.router.emplace(PanelServices{
      .store = store,
      .tokens = self.tokens,
      .sessions = self.sessions,
      .limiter = self.limiter,
      .events = *self.events,
      .storage_switch = self.storage_switch,
      .policy_file = self.options.policy_file,
      .check_options = self.options.check_options,
      .trusted_proxy = self.options.trusted_proxy,
      .proxy_secret = self.proxy_secret ? &*self.proxy_secret : nullptr,
      .origins = self.origins,
      .log = log,
      .secure = self.origins.any_https(),  // with TLS the own origins are https
      .session_lifetime_s =
          std::chrono::duration_cast<std::chrono::seconds>(self.options.session_lifetime).count()});
}

AdminPanel::~AdminPanel() {
  stop();
}

std::string AdminPanel::url() const {
  return impl_->url;
}

void AdminPanel::start() {
  Impl &self = *impl_;
  if (self.running) return;
  self.running = true;
  asio::co_spawn(self.io, self.accept_loop(), asio::detached);
  self.log.write(LogLevel::info, "admin panel listening", {{"url", self.url}});
  self.thread = std::thread([&self] { self.io.run(); });
}

void AdminPanel::stop() {
  Impl &self = *impl_;
  if (!self.running) return;
  self.running = false;
  asio::post(self.io, [&self] {
    boost::system::error_code ignored;
    self.acceptor->close(ignored);
    self.registry.stop_all();
  });
  // Connections answer what they are handling, then close; the deadline
  // bounds a client that does not read its answer.
  auto deadline = std::chrono::steady_clock::now() + kWriteTimeout + kReadTimeout;
  while (self.open_connections.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  self.io.stop();
  self.thread.join();
  self.pool.join();
  self.log.write(LogLevel::info, "admin panel stopped");
}

}  // namespace coffer::admin
