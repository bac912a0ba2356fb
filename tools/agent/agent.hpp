// The agent behind `coffer serve`: one Store served over HTTP/1.1 to every
// process on the machine, on a Unix socket (peers identified by the kernel)
// and optionally on loopback TCP ports (peers identified by API tokens).
// docs/agent.md describes the endpoints, the identities and the limits.
//
// The agent is a host of the core like the CLI: it reaches the Store only
// through its public API; the core knows nothing of HTTP.
//
// Threading: construct, run and destroy on one thread; run() serves on a
// pool of I/O threads and returns after SIGTERM or SIGINT, once requests in
// flight are answered. SIGHUP reloads the policy.
#ifndef COFFER_AGENT_AGENT_HPP
#define COFFER_AGENT_AGENT_HPP

#include <sys/types.h>
#include <coffer/store.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent_log.hpp"
#include "limits.hpp"
#include "token_auth.hpp"

namespace coffer::agent {

// Where clients find the agent's socket unless told otherwise.
inline constexpr const char *kDefaultSocket = "/run/coffer/coffer.sock";

struct AgentOptions {
  // Empty: no Unix socket. A socket passed by systemd (socket activation)
  // is served in its place; socket_group and socket_mode do not apply to it.
  std::filesystem::path socket = kDefaultSocket;
  std::optional<gid_t> socket_group;
  mode_t socket_mode = 0660;
  std::vector<std::string> listen;  // loopback "HOST:PORT"s
  std::vector<TokenGrant> tokens;   // required when `listen` is not empty
  Limits limits;
  unsigned threads = 0;  // I/O threads; 0: default_io_threads() (cpu_budget.hpp)
};

class Agent {
 public:
  // Reads the token files and opens every listener. Throws Error naming the
  // option at fault (invalid_argument, invalid_config) or what the system
  // refused (unavailable). `store` and `log` must outlive the Agent.
  Agent(Store &store, AgentOptions options, AgentLog &log);
  ~Agent();
  Agent(const Agent &) = delete;
  Agent &operator=(const Agent &) = delete;

  // The addresses served: "unix:PATH" and "tcp:HOST:PORT" (the port chosen
  // when 0 was asked).
  [[nodiscard]] std::vector<std::string> endpoints() const;
  // Serves until SIGTERM or SIGINT, then stops accepting, lets requests in
  // flight finish (within Limits::drain_timeout), removes the socket and
  // returns 0.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffer::agent

#endif  // COFFER_AGENT_AGENT_HPP
