// Where the agent listens: a Unix socket (the default, with peer
// credentials) and optionally loopback TCP ports (API tokens).
//
// The Unix socket is created with its final mode and group before it
// accepts anyone: bound under a umask that lets nobody but the owner in,
// then chmod and chown, then listen. A socket file left by an agent that
// died is replaced; one that a live agent answers on is not (the second
// agent refuses to start). The socket's directory is created (0750) when
// missing, and must be one that no other user can write.
#ifndef COFFER_AGENT_LISTENERS_HPP
#define COFFER_AGENT_LISTENERS_HPP

#include <sys/types.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace coffer::agent {

struct UnixSocketOptions {
  std::filesystem::path path;
  std::optional<gid_t> group;  // the socket's group; default: the agent's
  mode_t mode = 0660;          // 0660 or stricter
};

// Binds and listens. Throws Error: invalid_argument for a mode that grants
// more than 0660 or a path too long for a socket; invalid_config for a
// directory others may write or a live agent already on the path (naming
// the path and the fix); unavailable when the system refuses.
boost::asio::local::stream_protocol::acceptor open_unix_listener(
    const boost::asio::any_io_executor &executor, const UnixSocketOptions &options);

// A listening Unix socket handed over by systemd (socket activation: the
// environment's LISTEN_PID is this process and LISTEN_FDS is 1, the socket
// is descriptor 3), with its path; nullopt when the agent was not activated.
// Clears LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES so that no child takes
// them for its own. Throws Error(invalid_config) when systemd passed more
// than one socket, something other than a listening Unix stream socket, or
// a socket file whose mode grants more than 0660.
struct ActivatedSocket {
  boost::asio::local::stream_protocol::acceptor acceptor;
  std::filesystem::path path;
};
std::optional<ActivatedSocket> activated_unix_listener(
    const boost::asio::any_io_executor &executor);

// Which addresses a TCP listener may use, and how its refusals read.
struct TcpListenerRules {
  std::string_view option = "--listen";  // the command-line option, named in messages
  // Any IP address may be served (the listener speaks TLS); otherwise only
  // loopback ones.
  bool any_address = false;
  // What a refusal of a non-loopback address advises instead.
  std::string_view remote_advice = "use the Unix socket, or a TLS proxy in front";
};

// Parses "HOST:PORT" (127.0.0.1, ::1 in brackets, or localhost; with
// `rules.any_address` any IP address; PORT 0 picks a free one) and listens
// there. Throws Error(invalid_argument) for a malformed address or, without
// `rules.any_address`, one that is not loopback: a plain TCP listener
// carries secrets in clear text and must not leave the machine. Messages
// name `rules.option`.
boost::asio::ip::tcp::acceptor open_tcp_listener(const boost::asio::any_io_executor &executor,
                                                 std::string_view address,
                                                 const TcpListenerRules &rules = {});

// Parses an octal mode ("0660", "660", "0600"). Throws Error(invalid_argument).
mode_t parse_socket_mode(std::string_view text);
// A group by name or number. Throws Error(invalid_argument) for an unknown one.
gid_t parse_group(std::string_view text);

}  // namespace coffer::agent

#endif  // COFFER_AGENT_LISTENERS_HPP
