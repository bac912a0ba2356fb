// coffer::tools::AgentClient: the tools' client of the agent (`coffer serve`)
// on its Unix socket (docs/agent.md describes the agent's HTTP surface).
//
// One HTTP/1.1 connection, kept alive between requests; every request has a
// deadline. Values arrive in secret memory and leave only as Secrets; the
// buffers that held them are wiped. The client never sends a value: it only
// asks. Not thread-safe: one client per thread.
#ifndef COFFER_TOOLS_AGENT_CLIENT_HPP
#define COFFER_TOOLS_AGENT_CLIENT_HPP

#include <coffer/store.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

namespace coffer::tools {

struct AgentClientOptions {
  // How long one request may take, connecting and reading the whole answer
  // included, before it fails with Code::timeout.
  std::chrono::milliseconds timeout{60'000};
  // The largest answer accepted (a larger one is Code::data_error).
  std::size_t max_answer_bytes = 4 * 1024 * 1024;
};

class AgentClient {
 public:
  // Connects to the agent listening at `socket`. nullptr when nothing listens
  // there: the file does not exist, or it refuses connections (no process
  // accepts on it). Any other failure throws Error naming the socket: denied
  // when its permissions refuse this user, unavailable for the rest (timeout
  // when the deadline passes), invalid_config for a path too long for a
  // socket address.
  static std::unique_ptr<AgentClient> connect(const std::filesystem::path &socket,
                                              AgentClientOptions options = {});
  ~AgentClient();
  AgentClient(const AgentClient &) = delete;
  AgentClient &operator=(const AgentClient &) = delete;

  [[nodiscard]] const std::filesystem::path &socket() const noexcept;

  // GET /v1.0/secrets/coffer/KEY: the key through the policy's routes. The
  // agent's refusal comes back as the Result's code and message (the message
  // is the agent's); a failure to talk to it as unavailable, timeout or
  // data_error (an answer that is not what the agent sends). Never throws
  // for a key's failure.
  Result get(std::string_view key);
  // GET /v1.0-coffer/helpers/TOOL: the policy's "helpers" entries for "git"
  // or "docker" that this peer may read, in policy order. Throws Error: the
  // agent's refusal, or a failure to talk to it.
  std::vector<HelperEntry> helpers(std::string_view tool);

  class Impl;

 private:
  explicit AgentClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffer::tools

#endif  // COFFER_TOOLS_AGENT_CLIENT_HPP
