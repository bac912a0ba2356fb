#include "peer_credentials.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace coffer::agent {

std::optional<Peer> unix_peer(int fd) noexcept {
  ucred credentials{};
  socklen_t size = sizeof credentials;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0 ||
      size != sizeof credentials)
    return std::nullopt;
  Peer peer;
  peer.uid = credentials.uid;
  peer.gid = credentials.gid;
  peer.pid = credentials.pid;
  return peer;
}

Peer own_identity() noexcept {
  Peer peer;
  peer.uid = ::geteuid();
  peer.gid = ::getegid();
  peer.pid = 0;
  return peer;
}

}  // namespace coffer::agent
