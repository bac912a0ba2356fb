// The Dapr secrets API (https://docs.dapr.io/reference/api/secrets_api/)
// over a Store, plus coffer's helper entries for the credential helpers.
//
// Store names: "coffer" resolves keys through the policy's routes; a
// provider's name in the policy reads from that provider alone. Every read
// names the peer, so that the policy's "clients" decide and the audit log
// records who asked. Values go from the Store's Secret straight into the
// response body (reserved at its final size, wiped after the write).
// docs/agent.md has the status and error code of every outcome.
#ifndef COFFER_AGENT_SECRETS_API_HPP
#define COFFER_AGENT_SECRETS_API_HPP

#include <coffer/store.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "agent_metrics.hpp"
#include "response.hpp"
#include "store_calls.hpp"

namespace coffer::agent {

// The `metadata.*` query parameters that mean something to coffer.
struct SecretQuery {
  std::optional<std::string> version_id;  // metadata.version_id
};

// The store name that resolves through the policy's routes.
inline constexpr std::string_view kRoutedStore = "coffer";

class SecretsApi {
 public:
  SecretsApi(Store &store, AgentMetrics &metrics, boost::asio::thread_pool &pool,
             PendingGets &pending)
      : store_(store), metrics_(metrics), pool_(pool), pending_(pending) {}

  // GET /v1.0/secrets/{store}/{key}; `key` has the canonical form. What
  // the views show must outlive the call.
  boost::asio::awaitable<Response> get(const Peer &peer, std::string_view store_name,
                                       std::string_view key, SecretQuery query);
  // GET /v1.0/secrets/{store}/bulk: every key the peer may read that resolves.
  boost::asio::awaitable<Response> bulk(const Peer &peer, std::string store_name);
  // GET /v1.0-coffer/helpers/{tool}: the helper entries whose keys the peer may read.
  Response helpers(const Peer &peer, const std::string &tool);
  // GET /v1.0/metadata: what the Dapr SDKs probe before their first call.
  Response metadata() const;

 private:
  [[nodiscard]] bool is_store(std::string_view name) const;
  Response failure(std::string_view store_name, std::string_view key, Code code,
                   const std::string &message);

  Store &store_;
  AgentMetrics &metrics_;
  boost::asio::thread_pool &pool_;
  PendingGets &pending_;
};

}  // namespace coffer::agent

#endif  // COFFER_AGENT_SECRETS_API_HPP
