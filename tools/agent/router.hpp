// Turns one request into one response: parses the target (path and query,
// percent-decoded, with every segment checked so that no "..", "/" or NUL
// reaches a handler), picks the route, and calls its handler. Errors are
// answered in Dapr's shape; a message never repeats a path segment or a
// query value unless it has the shape of a key name, since a caller may put
// a secret in the wrong place.
#ifndef COFFER_AGENT_ROUTER_HPP
#define COFFER_AGENT_ROUTER_HPP

#include <coffer/store.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/container/small_vector.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent_metrics.hpp"
#include "http_types.hpp"
#include "response.hpp"
#include "secrets_api.hpp"

namespace coffer::agent {

// A request target split into decoded path segments and query parameters.
// Each part is a view of the target text itself, or of the Target's own
// storage when it had a percent escape: the text must outlive the Target,
// which cannot be copied or moved. A target without escapes (every request
// of the API) costs no allocation.
class Target {
 public:
  Target() = default;
  Target(const Target &) = delete;
  Target &operator=(const Target &) = delete;

  // Parses an origin-form target ("/a/b?x=y"). False for anything else: an
  // absolute or empty target, a bad percent escape, a segment that decodes
  // to "." or "..", or holds '/', a NUL or another control character.
  [[nodiscard]] bool parse(std::string_view target);

  boost::container::small_vector<std::string_view, 6> segments;
  boost::container::small_vector<std::pair<std::string_view, std::string_view>, 2> query;

 private:
  // Percent-decodes `text` into storage_; nullopt for a bad escape or a
  // decoded control character.
  std::optional<std::string_view> decode(std::string_view text);
  std::string storage_;  // reserved once at the target's size: never moves
};

class Router {
 public:
  Router(Store &store, AgentMetrics &metrics, boost::asio::thread_pool &pool, PendingGets &pending,
         const std::atomic<bool> &draining)
      : store_(store),
        metrics_(metrics),
        pool_(pool),
        draining_(draining),
        secrets_(store, metrics, pool, pending) {}

  // Answers `request` from `peer`; sets `route` to what it asked for. Does not throw.
  boost::asio::awaitable<Response> handle(const Request &request, const Peer &peer, Route &route);

 private:
  // Asks every provider for its health (on the pool: it may wait on a backend).
  boost::asio::awaitable<Response> readiness();
  Response metrics() const;

  Store &store_;
  AgentMetrics &metrics_;
  boost::asio::thread_pool &pool_;
  const std::atomic<bool> &draining_;
  SecretsApi secrets_;
};

}  // namespace coffer::agent

#endif  // COFFER_AGENT_ROUTER_HPP
