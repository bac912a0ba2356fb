// One client connection: HTTP/1.1 with keep-alive, read and answered one
// request at a time within the Limits, on one event loop (one thread) for
// its whole life. A Unix-socket
// peer is who SO_PEERCRED says; a TCP peer is who its request's token says,
// request by request. After shutdown begins, a connection waiting for its
// next request is closed, and one in the middle of a request answers it in
// full (with "Connection: close") before closing.
#ifndef COFFER_AGENT_CONNECTION_HPP
#define COFFER_AGENT_CONNECTION_HPP

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "agent_log.hpp"
#include "agent_metrics.hpp"
#include "limits.hpp"
#include "router.hpp"
#include "token_auth.hpp"

namespace coffer::agent {

// The open connections, so that shutdown can reach each. Thread-safe.
class ConnectionRegistry {
 public:
  using Stop = std::function<void()>;
  // Registers a connection; `stop` is called (from any thread) when
  // shutdown begins, at once if it already has.
  std::uint64_t add(Stop stop);
  void remove(std::uint64_t id);
  // Begins shutdown: calls every registered `stop`.
  void stop_all();
  [[nodiscard]] bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }

 private:
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, Stop> entries_;
  std::uint64_t next_ = 0;
  std::atomic<bool> stopping_{false};
};

struct ConnectionServices {
  Router &router;
  AgentMetrics &metrics;
  AgentLog &log;
  const Limits &limits;
  const TokenTable &tokens;
  ConnectionRegistry &registry;
};

// Serve one accepted connection until it closes. The socket's executor must
// be an event loop that one thread runs (or a strand). The caller has counted the connection as
// open (AgentMetrics::connection_opened); serving it counts it closed at the end.
boost::asio::awaitable<void> serve_connection(boost::asio::local::stream_protocol::socket socket,
                                              ConnectionServices services);
boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket,
                                              ConnectionServices services);

}  // namespace coffer::agent

#endif  // COFFER_AGENT_CONNECTION_HPP
