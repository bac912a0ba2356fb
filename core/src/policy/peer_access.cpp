#include "policy/peer_access.hpp"

#include <algorithm>

namespace coffer::detail {
namespace {

bool any_covers(const std::vector<std::string> &patterns, std::string_view key) noexcept {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string &p) { return pattern_covers(p, key); });
}

const std::string *first_covering(const std::vector<std::string> &patterns, std::string_view key) {
  for (const auto &p : patterns)
    if (pattern_covers(p, key)) return &p;
  return nullptr;
}

bool names(const std::vector<std::uint32_t> &ids, std::uint32_t id) noexcept {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::string unix_peer(const Peer &peer) {
  std::string out = "peer uid " + std::to_string(peer.uid) + " gid " + std::to_string(peer.gid);
  if (peer.pid != 0) out += " pid " + std::to_string(peer.pid);
  return out;
}

// The clients' decision: allowed by one of them and denied by none.
PeerDecision decide_clients(const std::vector<const Client *> &matched, std::string_view key,
                            const std::string &who) {
  bool allowed = false;
  for (const Client *c : matched) {
    if (const std::string *deny = first_covering(c->deny, key))
      return {false, "the policy refuses " + std::string(key) + " to " + who + " (clients." +
                         c->name + ".deny \"" + *deny + "\")"};
    allowed = allowed || any_covers(c->allow, key);
  }
  if (allowed) return {true, {}};
  std::string rules;
  for (const Client *c : matched)
    rules += (rules.empty() ? "" : ", ") + ("clients." + c->name + ".allow");
  return {false, "the policy refuses " + std::string(key) + " to " + who + " (not in " +
                     (matched.size() > 1 ? "any of " : "") + rules + ")"};
}

}  // namespace

bool pattern_covers(std::string_view pattern, std::string_view key) noexcept {
  if (pattern == "*" || pattern == key) return true;
  return pattern.size() > 2 && pattern.ends_with(".*") &&
         category_of(key) == pattern.substr(0, pattern.size() - 2);
}

PeerDecision decide_peer(const Policy &policy, const Peer &peer, std::string_view key,
                         std::uint32_t own_uid) {
  if (!peer.client.empty()) {
    const Client *client = policy.client(peer.client);
    if (client == nullptr)
      return {false, "the policy refuses " + std::string(key) + " to client '" + peer.client +
                         (policy.has_clients ? "': \"clients\" has no entry of that name"
                                             : "': the policy has no \"clients\" section")};
    // Fast path first: no string is built for an allowed read.
    if (any_covers(client->allow, key) && !any_covers(client->deny, key)) return {true, {}};
    return decide_clients({client}, key, "client '" + peer.client + "'");
  }
  bool any = false;
  for (const auto &c : policy.clients)
    any = any || names(c.uids, peer.uid) || names(c.gids, peer.gid);
  if (!any) {
    // The Store's own uid could read its memory anyway; it is refused nothing
    // its routes serve.
    if (peer.uid == own_uid) return {true, {}};
    return {false, "the policy refuses " + std::string(key) + " to " + unix_peer(peer) + ": " +
                       (policy.has_clients
                            ? "no entry of \"clients\" names its uid or gid"
                            : "the policy has no \"clients\" section, so only the Store's own "
                              "uid may read")};
  }
  bool allowed = false;
  bool denied = false;
  for (const auto &c : policy.clients) {
    if (!names(c.uids, peer.uid) && !names(c.gids, peer.gid)) continue;
    denied = denied || any_covers(c.deny, key);
    allowed = allowed || any_covers(c.allow, key);
  }
  if (allowed && !denied) return {true, {}};
  std::vector<const Client *> matched;
  std::string who;
  for (const auto &c : policy.clients) {
    if (!names(c.uids, peer.uid) && !names(c.gids, peer.gid)) continue;
    matched.push_back(&c);
    who += (who.empty() ? "client '" : ", '") + c.name + "'";
  }
  if (matched.size() > 1) who = "clients " + who.substr(std::string("client ").size());
  return decide_clients(matched, key, unix_peer(peer) + " as " + who);
}

}  // namespace coffer::detail
