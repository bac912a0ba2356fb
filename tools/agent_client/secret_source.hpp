// Where `coffer run` and the credential helpers get their values: through
// the agent when one listens, else through a Store opened from the policy.
//
// The choice, in this order (docs/credential-helpers.md, "Agent or policy"):
//   1. --policy FILE given: that policy; the agent is not asked.
//   2. $COFFER_AGENT_SOCKET set and not empty: the agent at that socket, and
//      only it: when nothing listens there the tool fails (unavailable)
//      instead of going around the agent the user named.
//   3. $COFFER_POLICY set and not empty: that policy.
//   4. The agent at /run/coffer/coffer.sock, when it accepts a connection.
//   5. ./coffer.json.
// Only "nothing listens" (no such socket, or connection refused) moves on
// from step 4. Once connected, the agent's answers are final: a refusal, an
// error, a timeout or a broken connection is reported, never retried against
// the policy. A socket whose permissions refuse this user is an error too
// (denied): the agent is there, and its administrator chose who may use it.
#ifndef COFFER_TOOLS_SECRET_SOURCE_HPP
#define COFFER_TOOLS_SECRET_SOURCE_HPP

#include <coffer/store.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent_client.hpp"

namespace coffer::tools {

// The agent's socket when $COFFER_AGENT_SOCKET does not name one.
inline constexpr const char *kDefaultAgentSocket = "/run/coffer/coffer.sock";

struct SourceRequest {
  std::optional<std::string> policy;  // the --policy option, when given
  StoreOptions store_options;         // for a Store opened from the policy
  AgentClientOptions agent_options;
};

class SecretSource {
 public:
  virtual ~SecretSource() = default;
  // "the agent at PATH" or "the policy FILE", for messages.
  [[nodiscard]] virtual std::string description() const = 0;
  // Resolves `keys`; results in their order, each failure in its Result
  // (through the agent: the agent's code and message). Keys must have the
  // canonical form.
  virtual std::vector<Result> get_many(std::span<const std::string> keys) = 0;
  Result get(const std::string &key) { return std::move(get_many({&key, 1}).front()); }
  // The policy's "helpers" entries for `tool` ("git" or "docker") in policy
  // order; through the agent, those whose keys this peer may read. Throws
  // Error when the agent refuses or cannot be reached.
  virtual std::vector<HelperEntry> helpers(std::string_view tool) = 0;
  // The Store of the policy when the tool opened it; nullptr through the
  // agent, which only reads.
  virtual Store *store() noexcept = 0;
};

// Chooses and opens the source as the rule above says. Throws Error: the
// policy's errors as Store::open throws them, the agent's as
// AgentClient::connect does, unavailable when $COFFER_AGENT_SOCKET names a
// socket nothing listens on.
std::unique_ptr<SecretSource> open_secret_source(const SourceRequest &request);

}  // namespace coffer::tools

#endif  // COFFER_TOOLS_SECRET_SOURCE_HPP
