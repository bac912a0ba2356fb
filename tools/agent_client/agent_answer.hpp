// What the agent's HTTP answers mean to its clients: a value out of a
// Dapr-shaped body, a coffer::Code out of a status and an error body.
// Separate from the transport so that every shape can be tested without a
// socket.
#ifndef COFFER_TOOLS_AGENT_ANSWER_HPP
#define COFFER_TOOLS_AGENT_ANSWER_HPP

#include <coffer/store.hpp>

#include <span>
#include <string_view>
#include <vector>

namespace coffer::tools {

// The Code of an answer that carries no value: `status` with the Dapr error
// body's "errorCode" and "message" (either may be empty). The agent answers
// every failure but a refusal and a malformed request with 500
// ERR_SECRET_GET, naming the core's code after the store in the message
// ("... from secret store coffer: not_found: ...", docs/agent.md); that
// code is taken when present, unavailable otherwise.
Code code_of_refusal(unsigned status, std::string_view error_code,
                     std::string_view message = {}) noexcept;

// The Result of `GET /v1.0/secrets/{store}/{key}` that answered `status`
// with `body`. 200: `body` must be a JSON object whose member `key` is a
// string, which becomes the Secret (parsed in secret memory, wiped after);
// anything else is data_error. Another status: the code of the refusal, and
// the agent's message (control characters are the caller's to escape).
// The message never quotes the body of a 200 answer.
Result secret_of_answer(unsigned status, std::span<const char> body, std::string_view key);

// The entries of `GET /v1.0-coffer/helpers/{tool}` that answered `status`
// with `body`: 200 and a JSON array of {"match", "username", "username_key",
// "secret_key"} objects (strings; absent members empty). Throws Error: the
// refusal's code and message, or data_error for another shape.
std::vector<HelperEntry> helpers_of_answer(unsigned status, std::span<const char> body,
                                           std::string_view tool);

}  // namespace coffer::tools

#endif  // COFFER_TOOLS_AGENT_ANSWER_HPP
