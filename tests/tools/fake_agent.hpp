// A stand-in for the agent on a Unix socket, for the tests of its clients:
// answers each request as the test says and records what was asked. Runs
// on a thread of its own until destroyed.
#ifndef COFFER_TESTS_TOOLS_FAKE_AGENT_HPP
#define COFFER_TESTS_TOOLS_FAKE_AGENT_HPP

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace coffer::test {

struct FakeAnswer {
  unsigned status = 200;
  std::string body;
  bool close = false;    // "Connection: close", then close the connection
  bool silent = false;   // read the request and never answer
  bool hang_up = false;  // answer as if keeping the connection, then close it
};

// {"KEY": "VALUE"} with status 200, as the agent answers a read.
FakeAnswer value_answer(const std::string &key, const std::string &value);
// A Dapr-shaped error: {"errorCode": CODE, "message": MESSAGE}.
FakeAnswer error_answer(unsigned status, const std::string &code, const std::string &message);
// Answers GET /v1.0/secrets/coffer/KEY from `values`, and another key as the
// agent answers a key no provider has (500 ERR_SECRET_GET, "not_found: ...").
std::function<FakeAnswer(const std::string &)> serving(std::map<std::string, std::string> values);

class FakeAgent {
 public:
  using Responder = std::function<FakeAnswer(const std::string &target)>;
  // Listens at `socket` (which must not exist). Throws std::runtime_error.
  FakeAgent(const std::filesystem::path &socket, Responder responder);
  ~FakeAgent();
  FakeAgent(const FakeAgent &) = delete;
  FakeAgent &operator=(const FakeAgent &) = delete;

  // The request targets received so far, in order. Thread-safe.
  [[nodiscard]] std::vector<std::string> targets() const;
  // Connections accepted so far. Thread-safe.
  [[nodiscard]] std::size_t connections() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace coffer::test

#endif  // COFFER_TESTS_TOOLS_FAKE_AGENT_HPP
