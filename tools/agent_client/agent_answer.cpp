#include "agent_answer.hpp"

#include <boost/json/parse.hpp>

#include <optional>

#include "secret_json.hpp"

namespace coffer::tools {
namespace {

namespace json = boost::json;

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

// The core's code that the agent's message names after the store.
std::optional<Code> code_named_in(std::string_view message) noexcept {
  for (auto at = message.find(": "); at != std::string_view::npos;
       at = message.find(": ", at + 2)) {
    std::string_view rest = message.substr(at + 2);
    auto end = rest.find(": ");
    if (end == std::string_view::npos) break;
    if (auto code = code_named(rest.substr(0, end)); code && *code != Code::ok) return code;
  }
  return std::nullopt;
}

}  // namespace

Code code_of_refusal(unsigned status, std::string_view error_code,
                     std::string_view message) noexcept {
  if (error_code == "ERR_PERMISSION_DENIED") return Code::denied;
  if (status == 500 && error_code == "ERR_SECRET_GET")
    if (auto named = code_named_in(message)) return *named;
  switch (status) {
    case 204:
      return Code::not_found;
    case 404:
    case 405:
      return Code::unsupported;
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

namespace {

std::string refusal_message(unsigned status, const Refusal &refusal, std::string fallback) {
  std::string message = refusal.message.empty() ? std::move(fallback) : refusal.message;
  return message + " (agent: HTTP " + std::to_string(status) +
         (refusal.error_code.empty() ? std::string() : " " + refusal.error_code) + ")";
}

std::string member_string(const json::object &object, std::string_view name, bool &shaped) {
  const json::value *member = object.if_contains(json::string_view(name.data(), name.size()));
  if (member == nullptr) return {};
  if (!member->is_string()) {
    shaped = false;
    return {};
  }
  return std::string(member->get_string());
}

}  // namespace

Result secret_of_answer(unsigned status, std::span<const char> body, std::string_view key) {
  if (status != 200) {
    Refusal refusal = status == 204 ? Refusal{} : refusal_of(body);
    return failed(
        code_of_refusal(status, refusal.error_code, refusal.message),
        refusal_message(status, refusal,
                        (status == 204 ? "the agent has no value for " : "the agent refused ") +
                            std::string(key)));
  }
  SecretArena arena(arena_bytes_for(body.size()));
  json::value document;
  const json::object *object =
      parse_secret_json(std::string_view(body.data(), body.size()), arena, document)
          ? document.if_object()
          : nullptr;
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

std::vector<HelperEntry> helpers_of_answer(unsigned status, std::span<const char> body,
                                           std::string_view tool) {
  if (status != 200) {
    Refusal refusal = refusal_of(body);
    throw Error(code_of_refusal(status, refusal.error_code, refusal.message),
                refusal_message(status, refusal,
                                "the agent refused the " + std::string(tool) + " helper entries"));
  }
  json::error_code error;
  json::value value = json::parse(json::string_view(body.data(), body.size()), error);
  bool shaped = !error && value.is_array();
  std::vector<HelperEntry> entries;
  if (shaped) {
    for (const auto &item : value.get_array()) {
      const json::object *object = item.if_object();
      if (object == nullptr) {
        shaped = false;
        break;
      }
      HelperEntry entry;
      entry.match = member_string(*object, "match", shaped);
      entry.username = member_string(*object, "username", shaped);
      entry.username_key = member_string(*object, "username_key", shaped);
      entry.secret_key = member_string(*object, "secret_key", shaped);
      if (entry.match.empty() || entry.secret_key.empty() ||
          entry.username.empty() == entry.username_key.empty())
        shaped = false;
      entries.push_back(std::move(entry));
    }
  }
  if (!shaped)
    throw Error(Code::data_error, "the agent's list of " + std::string(tool) +
                                      " helper entries is not a JSON array of entries");
  return entries;
}

}  // namespace coffer::tools
