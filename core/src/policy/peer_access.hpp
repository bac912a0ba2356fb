// Whether a peer may read a key under a policy's "clients" (docs/policy.md):
// the decision a host's peers get after the route's own allow/deny.
#ifndef COFFER_CORE_PEER_ACCESS_HPP
#define COFFER_CORE_PEER_ACCESS_HPP

#include <coffer/store.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "policy/policy.hpp"

namespace coffer::detail {

struct PeerDecision {
  bool allowed = false;
  std::string refusal;  // when refused: why, naming the client or the peer and the rule
};

// Decides for `peer` and the canonical `key`; `own_uid` is the Store
// process's effective uid. Cheap when allowed (no allocation, no system
// call): it runs on the cache-hit path.
PeerDecision decide_peer(const Policy &policy, const Peer &peer, std::string_view key,
                         std::uint32_t own_uid);

// Whether a key pattern ("*", "Category.*" or a canonical key) covers `key`.
bool pattern_covers(std::string_view pattern, std::string_view key) noexcept;

}  // namespace coffer::detail

#endif  // COFFER_CORE_PEER_ACCESS_HPP
