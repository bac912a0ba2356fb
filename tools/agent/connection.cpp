#include "connection.hpp"

#include <string.h>  // explicit_bzero

#include <coffer/catalog.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <memory>
#include <type_traits>

#include "lazy_deadline.hpp"
#include "peer_credentials.hpp"

namespace coffer::agent {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using coffer::net::LazyDeadline;
using local = asio::local::stream_protocol;
using Clock = std::chrono::steady_clock;
using namespace std::string_view_literals;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// What the connection is doing, as shutdown and its deadline need to know.
struct ConnectionState {
  local::socket *unix_socket = nullptr;
  asio::ip::tcp::socket *tcp_socket = nullptr;
  bool idle = false;  // waiting for the first byte of a request
  bool stop = false;  // shutdown began: close after this request
  bool alive = true;  // the coroutine still owns the socket
};

// The status to answer a request that could not be read, or 0 to close
// without answering (the client went away, or sent nothing more).
int status_for_read_error(const boost::system::error_code &ec) {
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::body_limit) return 413;
  if (ec == beast::error::timeout) return 408;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::operation_aborted || ec == asio::error::broken_pipe)
    return 0;
  if (ec.category() == http::make_error_code(http::error::bad_target).category()) return 400;
  return 0;
}

std::string_view read_error_text(int status) {
  switch (status) {
    case 400:
      return "the request is not valid HTTP/1.1";
    case 408:
      return "the request did not arrive in time";
    case 413:
      return "the request body is larger than the agent accepts";
    case 414:
      return "the request target is longer than the agent accepts";
    case 431:
      return "the request line and header fields are larger than the agent accepts";
    case 505:
      return "only HTTP/1.0 and HTTP/1.1 are served";
    default:
      return "the request cannot be served";
  }
}

std::string_view error_code_for(int status) {
  switch (status) {
    case 408:
      return "ERR_REQUEST_TIMEOUT";
    case 413:
      return "ERR_REQUEST_TOO_LARGE";
    case 414:
      return "ERR_REQUEST_TOO_LARGE";
    case 431:
      return "ERR_REQUEST_TOO_LARGE";
    case 505:
      return "ERR_MALFORMED_REQUEST";
    default:
      return "ERR_MALFORMED_REQUEST";
  }
}

// Wipes the bytes of requests already parsed that linger in the buffer's
// storage (they may hold a token). `dirty` counts the bytes read since the
// last wipe: the buffer fills from the start of its storage once emptied
// and moves unread bytes to the start, so nothing was written past that
// count. With a request still unread (pipelined), everything but it is wiped.
void wipe_consumed(ReadBuffer &buffer, std::size_t &dirty) {
  if (buffer.size() == 0) {
    auto region = buffer.prepare(std::min(dirty, buffer.capacity()));
    explicit_bzero(region.data(), region.size());
    dirty = 0;
    return;
  }
  std::size_t spare = buffer.capacity() - buffer.size();
  if (spare > 0) {
    auto region = buffer.prepare(spare);  // moves the unread bytes to the start
    explicit_bzero(region.data(), region.size());
  }
  dirty = buffer.size();
}

template <class Number>
void append_number(std::string &out, Number number) {
  char digits[24];
  auto end = std::to_chars(std::begin(digits), std::end(digits), number).ptr;
  out.append(digits, end);
}

std::vector<LogField> peer_fields(const Peer &peer) {
  if (!peer.client.empty()) return {{"client", peer.client}};
  return {{"uid", static_cast<std::int64_t>(peer.uid)},
          {"gid", static_cast<std::int64_t>(peer.gid)},
          {"pid", static_cast<std::int64_t>(peer.pid)}};
}

// The key a secret request names, for the log, when it has a key's shape.
std::string logged_key(std::string_view target) {
  Target parsed;
  if (!parsed.parse(target) || parsed.segments.size() != 4) return {};
  std::string_view key = parsed.segments[3];
  return is_canonical_key(key) ? std::string(key) : std::string();
}

// The status line and header fields of `response`, as Beast would write
// them, into `head` (the connection's, reused: it holds no value).
void response_head(std::string &head, const Response &response, unsigned version, bool keep_alive) {
  head.clear();
  head += version == 10 ? "HTTP/1.0 "sv : "HTTP/1.1 "sv;
  append_number(head, static_cast<unsigned>(response.status));
  head += ' ';
  head += http::obsolete_reason(static_cast<http::status>(response.status));
  head += "\r\nServer: coffer\r\n"sv;
  if (!response.content_type.empty() && response.status != 204) {
    head += "Content-Type: "sv;
    head += response.content_type;
    head += "\r\n"sv;
  }
  if (response.carries_values) head += "Cache-Control: no-store\r\n"sv;
  if (!response.allow.empty()) {
    head += "Allow: "sv;
    head += response.allow;
    head += "\r\n"sv;
  }
  if (version == 10 && keep_alive) head += "Connection: keep-alive\r\n"sv;
  if (version != 10 && !keep_alive) head += "Connection: close\r\n"sv;
  if (response.status != 204) {
    head += "Content-Length: "sv;
    append_number(head, response.body.size());
    head += "\r\n"sv;
  }
  head += "\r\n"sv;
}

// Writes the response: at once when the socket takes it all (the usual case:
// a response is a few hundred bytes), else waiting at most the write timeout
// for the client to take the rest. The body is wiped when `response` goes.
template <class Socket>
asio::awaitable<bool> write_response(Socket &socket, LazyDeadline &deadline, std::string &head,
                                     Response response, unsigned version, bool keep_alive,
                                     const Limits &limits) {
  response_head(head, response, version, keep_alive);
  std::array<asio::const_buffer, 2> parts{asio::buffer(head), asio::buffer(response.body.view())};
  std::size_t total = head.size() + response.body.size();
  boost::system::error_code ec;
  std::size_t written = socket.write_some(parts, ec);  // the socket does not block
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return false;
  if (written == total) co_return true;
  if (written < head.size()) {
    parts[0] += written;
  } else {
    parts[0] = asio::const_buffer();
    parts[1] += written - head.size();
  }
  deadline.set(Clock::now() + limits.write_timeout);
  auto [error, n] = co_await asio::async_write(socket, parts, use_nothrow);
  co_return !error;
}

// Reads into `buffer` what the socket holds, waiting until `deadline` for at
// least one byte (beast::error::timeout after it), and adds what it read to
// `dirty`. With `at_once` (the rest of a request that has begun), what is
// there is taken without leaving the coroutine; otherwise (the next request)
// the read completes through the event loop, so that a client that always
// has its next request ready cannot keep the thread from the others.
template <class Socket>
asio::awaitable<boost::system::error_code> read_more(Socket &socket, ReadBuffer &buffer,
                                                     std::size_t &dirty, LazyDeadline &deadline,
                                                     Clock::time_point at, bool at_once) {
  constexpr std::size_t kReadSize = 4096;
  if (at_once) {
    boost::system::error_code ec;
    std::size_t n = socket.read_some(buffer.prepare(kReadSize), ec);
    if (!ec) {
      buffer.commit(n);
      dirty += n;
      co_return ec;
    }
    if (ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
  }
  if (Clock::now() >= at) co_return beast::error::timeout;
  deadline.set(at);
  auto [error, got] = co_await socket.async_read_some(buffer.prepare(kReadSize), use_nothrow);
  if (error == asio::error::operation_aborted && deadline.expired())
    co_return beast::error::timeout;
  if (!error) {
    buffer.commit(got);
    dirty += got;
  }
  co_return error;
}

template <class Socket>
ConnectionState make_state(Socket &socket) {
  ConnectionState state;
  if constexpr (std::is_same_v<Socket, local::socket>)
    state.unix_socket = &socket;
  else
    state.tcp_socket = &socket;
  return state;
}

void cancel(ConnectionState &state) {
  boost::system::error_code ignored;
  if (state.unix_socket != nullptr) state.unix_socket->cancel(ignored);
  if (state.tcp_socket != nullptr) state.tcp_socket->cancel(ignored);
}

template <class Protocol>
asio::awaitable<void> serve(typename Protocol::socket socket, ConnectionServices services) {
  constexpr bool on_unix_socket = std::is_same_v<Protocol, local>;
  const Limits &limits = services.limits;
  auto executor = socket.get_executor();
  auto state = std::make_shared<ConnectionState>(make_state(socket));
  // A deadline that passes cancels what the socket waits for.
  LazyDeadline deadline(executor, [state] {
    if (state->alive) cancel(*state);
  });
  std::string head;  // each response's status line and header fields

  Peer socket_peer;
  if constexpr (on_unix_socket) {
    auto peer = unix_peer(socket.native_handle());
    if (!peer) {
      services.log.write(LogLevel::warning, "connection refused: the kernel did not name the peer");
      services.metrics.connection_closed();
      co_return;
    }
    socket_peer = *peer;
  }
  std::uint64_t registration = services.registry.add([state, executor] {
    asio::post(executor, [state] {
      state->stop = true;
      if (state->alive && state->idle) cancel(*state);
    });
  });

  // Reads and writes are tried at once and wait on the event loop only when
  // the socket is not ready.
  {
    boost::system::error_code ignored;
    socket.non_blocking(true, ignored);
  }
  ReadBuffer buffer;
  std::size_t dirty = 0;  // bytes read since the buffer was last wiped
  bool first = true;
  for (;;) {
    if (buffer.size() == 0 && (state->stop || services.registry.stopping())) break;
    http::request_parser<http::string_body, WipingAllocator<char>> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    parser.eager(true);
    // The whole request must arrive within the read timeout from its first
    // byte; a connection waiting for its next request may idle longer.
    bool started = buffer.size() > 0;
    auto read_by = Clock::now() + (started || first ? limits.read_timeout : limits.idle_timeout);
    boost::system::error_code read_error;
    for (;;) {
      if (buffer.size() > 0) {
        if (!started) read_by = Clock::now() + limits.read_timeout;
        started = true;
        buffer.consume(parser.put(buffer.data(), read_error));
        if (read_error == http::error::need_more) {
          read_error = {};
        } else if (read_error || parser.is_done()) {
          break;
        }
      }
      state->idle = !started;
      if (state->idle && (state->stop || services.registry.stopping())) {
        read_error = asio::error::operation_aborted;
        break;
      }
      read_error = co_await read_more(socket, buffer, dirty, deadline, read_by, started);
      state->idle = false;
      if (read_error) break;
    }
    first = false;
    if (read_error) {
      int status = started ? status_for_read_error(read_error) : 0;
      if (status != 0) {
        services.metrics.count_request(Route::other, status, {});
        services.log.write(LogLevel::info, "request refused", [&] {
          auto fields = peer_fields(socket_peer);
          fields.push_back({"status", static_cast<std::int64_t>(status)});
          fields.push_back({"reason", std::string(read_error_text(status))});
          return fields;
        }());
        co_await write_response(
            socket, deadline, head,
            error_response(status, error_code_for(status), read_error_text(status)), 11, false,
            limits);
      }
      break;
    }
    auto start = Clock::now();
    Request request = parser.release();
    wipe_consumed(buffer, dirty);

    Response response;
    Route route = Route::other;
    Peer peer = socket_peer;
    bool authorized = true;
    if (request.version() != 10 && request.version() != 11) {
      response = error_response(505, error_code_for(505), read_error_text(505));
      authorized = false;
    } else if (request.target().size() > limits.max_target_bytes) {
      response = error_response(414, error_code_for(414), read_error_text(414));
      authorized = false;
    } else if constexpr (!on_unix_socket) {
      auto identity = services.tokens.identify(
          presented_token(request["dapr-api-token"], request[http::field::authorization]));
      if (!identity) {
        services.metrics.count_refusal(Refusal::token);
        response = error_response(401, "ERR_UNAUTHORIZED",
                                  "this listener needs an API token: send it as "
                                  "\"dapr-api-token\" or \"Authorization: Bearer\"");
        authorized = false;
      } else {
        peer = *identity;
      }
    }
    if (authorized) response = co_await services.router.handle(request, peer, route);

    int status = response.status;
    bool keep_alive = request.keep_alive() && status != 505 && status != 414 && !state->stop &&
                      !services.registry.stopping();
    bool written = co_await write_response(socket, deadline, head, std::move(response),
                                           request.version() == 10 ? 10 : 11, keep_alive, limits);
    auto latency = Clock::now() - start;
    services.metrics.count_request(route, status, latency);
    bool refused = status == 401 || status == 403;
    if (refused || services.log.enabled(LogLevel::debug)) {
      auto fields = peer_fields(peer);
      fields.push_back({"route", std::string(route_name(route))});
      fields.push_back({"status", static_cast<std::int64_t>(status)});
      if (auto key = logged_key(request.target()); !key.empty()) fields.push_back({"key", key});
      fields.push_back(
          {"latency_us",
           static_cast<std::int64_t>(
               std::chrono::duration_cast<std::chrono::microseconds>(latency).count())});
      services.log.write(refused ? LogLevel::warning : LogLevel::debug,
                         refused ? "request refused" : "request", fields);
    }
    if (!written || !keep_alive) break;
  }

  state->alive = false;
  services.registry.remove(registration);
  boost::system::error_code ignored;
  socket.shutdown(Protocol::socket::shutdown_send, ignored);
  socket.close(ignored);
  services.metrics.connection_closed();
}

}  // namespace

std::uint64_t ConnectionRegistry::add(Stop stop) {
  std::unique_lock lock(mutex_);
  std::uint64_t id = ++next_;
  if (stopping_.load(std::memory_order_acquire)) {
    lock.unlock();
    stop();
    return id;
  }
  entries_.emplace(id, std::move(stop));
  return id;
}

void ConnectionRegistry::remove(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  entries_.erase(id);
}

void ConnectionRegistry::stop_all() {
  std::vector<Stop> stops;
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true, std::memory_order_release);
    for (auto &[id, stop] : entries_) stops.push_back(stop);
  }
  for (auto &stop : stops) stop();
}

asio::awaitable<void> serve_connection(local::socket socket, ConnectionServices services) {
  return serve<local>(std::move(socket), services);
}

asio::awaitable<void> serve_connection(asio::ip::tcp::socket socket, ConnectionServices services) {
  return serve<asio::ip::tcp>(std::move(socket), services);
}

}  // namespace coffer::agent
