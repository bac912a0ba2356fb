// Who is at the other end of a Unix socket, as the kernel says
// (SO_PEERCRED: the credentials the peer had when it connected).
#ifndef COFFER_AGENT_PEER_CREDENTIALS_HPP
#define COFFER_AGENT_PEER_CREDENTIALS_HPP

#include <coffer/store.hpp>

#include <optional>

namespace coffer::agent {

// The uid, gid and pid of the process that connected `fd` (a connected
// AF_UNIX stream socket); nullopt when the kernel does not say.
std::optional<Peer> unix_peer(int fd) noexcept;

// The identity of the agent's own effective user and group: what a token
// without a client acts as.
Peer own_identity() noexcept;

}  // namespace coffer::agent

#endif  // COFFER_AGENT_PEER_CREDENTIALS_HPP
