#include "agent_answer.hpp"

#include <coffer/provider.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/null_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>

#include <new>
#include <vector>

namespace coffer::tools {
namespace {

namespace json = boost::json;

// An answer's body parsed in secret memory: one block, wiped when freed,
// out of which the parser's scratch space and the document are carved
// (nothing is taken from the ordinary heap: the upstream refuses).
class SecretDocument {
 public:
  explicit SecretDocument(std::span<const char> text)
      : arena_(text.size() * 6 + 16 * 1024),
        resource_(arena_.data(), arena_.size(), json::get_null_resource()) {
    try {
      json::parser parser(json::storage_ptr(&resource_), {});
      parser.reset(json::storage_ptr(&resource_));
      json::error_code error;
      parser.write(text.data(), text.size(), error);
      if (!error) value_ = parser.release();
      parsed_ = !error;
    } catch (const std::bad_alloc &) {
      parsed_ = false;  // larger than the arena: not the agent's shape anyway
    }
  }
  SecretDocument(const SecretDocument &) = delete;
  SecretDocument &operator=(const SecretDocument &) = delete;

  [[nodiscard]] bool parsed() const { return parsed_; }
  [[nodiscard]] const json::value &value() const { return value_; }

 private:
  std::vector<unsigned char, coffer::provider::SecretAllocator<unsigned char>> arena_;
  json::monotonic_resource resource_;
  json::value value_;
  bool parsed_ = false;
};

Result failed(Code code, std::string message) {
  Result result;
  result.code = code;
  result.message = std::move(message);
  return result;
}

// The refusal's "message" and "errorCode", when the body has them.
struct Refusal {
  std::string error_code;
  std::string message;
};

Refusal refusal_of(std::span<const char> body) {
  Refusal refusal;
  json::error_code error;
  json::value value = json::parse(json::string_view(body.data(), body.size()), error);
  if (error || !value.is_object()) return refusal;
  const json::object &object = value.get_object();
  if (auto *code = object.if_contains("errorCode"); code != nullptr && code->is_string())
    refusal.error_code = code->get_string();
  if (auto *message = object.if_contains("message"); message != nullptr && message->is_string())
    refusal.message = message->get_string();
  return refusal;
}

}  // namespace

Code code_of_refusal(unsigned status, std::string_view error_code) noexcept {
  if (error_code == "ERR_PERMISSION_DENIED") return Code::denied;
  switch (status) {
    case 204:
    case 404:
      return Code::not_found;
    case 400:
    case 413:
    case 414:
    case 431:
      return Code::invalid_argument;
    case 401:
    case 403:
      return Code::denied;
    case 408:
    case 504:
      return Code::timeout;
    case 429:
    case 500:
    case 502:
    case 503:
      return Code::unavailable;
    default:
      return Code::internal;
  }
}

Result secret_of_answer(unsigned status, std::span<const char> body, std::string_view key) {
  if (status != 200) {
    Refusal refusal = status == 204 ? Refusal{} : refusal_of(body);
    std::string message = !refusal.message.empty() ? refusal.message
                          : status == 204 ? "the agent has no value for " + std::string(key)
                                          : "the agent refused " + std::string(key);
    message += " (agent: HTTP " + std::to_string(status) +
               (refusal.error_code.empty() ? std::string() : " " + refusal.error_code) + ")";
    Code code = code_of_refusal(status, refusal.error_code);
    return failed(code, std::move(message));
  }
  SecretDocument document(body);
  const json::object *object =
      document.parsed() && document.value().is_object() ? &document.value().get_object() : nullptr;
  const json::value *member =
      object != nullptr ? object->if_contains(json::string_view(key.data(), key.size())) : nullptr;
  if (member == nullptr || !member->is_string())
    return failed(Code::data_error, "the agent's answer for " + std::string(key) +
                                        " is not a JSON object holding it as a string");
  const json::string &value = member->get_string();
  Result result;
  result.code = Code::ok;
  result.secret = Secret::copy_of(std::string_view(value.data(), value.size()));
  result.provider = "agent";
  return result;
}

}  // namespace coffer::tools
