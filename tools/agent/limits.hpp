// The bounds every connection lives within: sizes of what a client may
// send, how long each step may take, how many connections may be open.
#ifndef COFFER_AGENT_LIMITS_HPP
#define COFFER_AGENT_LIMITS_HPP

#include <chrono>
#include <cstddef>

namespace coffer::agent {

struct Limits {
  std::size_t max_header_bytes = 8 * 1024;  // request line and header fields (431 beyond)
  std::size_t max_target_bytes = 2 * 1024;  // the request line's target (414 beyond)
  std::size_t max_body_bytes = 4 * 1024;    // a request body (413 beyond); the API takes none
  // A request, from its first byte to its last, must arrive within this
  // (408 and the connection closed otherwise): a client sending a byte at a
  // time cannot hold a connection.
  std::chrono::milliseconds read_timeout{10'000};
  // How long a keep-alive connection may wait for its next request.
  std::chrono::milliseconds idle_timeout{60'000};
  // A response must be taken by the client within this.
  std::chrono::milliseconds write_timeout{10'000};
  // Connections beyond this are answered 503 and closed at once.
  std::size_t max_connections = 1024;
  // After SIGTERM: how long requests in flight may take to finish.
  std::chrono::milliseconds drain_timeout{30'000};
};

}  // namespace coffer::agent

#endif  // COFFER_AGENT_LIMITS_HPP
