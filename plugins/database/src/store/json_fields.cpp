#include "store/json_fields.hpp"

#include <coffer/provider.hpp>
#include <coffer/provider_helpers.hpp>

#include <algorithm>

namespace coffer::database {

using coffer::provider::Error;

JsonFields::JsonFields(const boost::json::value &value, std::string prefix,
                       std::initializer_list<std::string_view> known, coffer_status status)
    : prefix_(std::move(prefix)), status_(status) {
  object_ = value.if_object();
  if (object_ == nullptr) {
    std::string where =
        prefix_.empty() ? "the configuration" : prefix_.substr(0, prefix_.size() - 1);
    throw Error(status_, where + " must be a JSON object");
  }
  std::vector<std::string_view> names(known);
  for (const auto &member : *object_) {
    std::string_view key = member.key();
    if (std::find(names.begin(), names.end(), key) != names.end()) continue;
    std::string message = "unknown field '" + prefix_ + std::string(key) + "'";
    if (auto nearest = coffer::provider::nearest_name(key, names)) {
      message += "; did you mean '" + prefix_ + *nearest + "'?";
    } else {
      message += "; known fields:";
      for (auto name : names) message += " " + prefix_ + std::string(name);
    }
    throw Error(status_, message);
  }
}

const boost::json::value *JsonFields::find(std::string_view name) const {
  return object_->if_contains(name);
}

void JsonFields::fail(std::string_view name, const std::string &problem) const {
  throw Error(status_, path(name) + ": " + problem);
}

std::optional<std::string> JsonFields::text(std::string_view name) const {
  const auto *value = find(name);
  if (value == nullptr) return std::nullopt;
  const auto *string = value->if_string();
  if (string == nullptr) fail(name, "expected a string");
  if (string->empty()) fail(name, "must not be empty");
  // A NUL would cut the text short where it becomes a path or a name.
  if (string->find('\0') != boost::json::string::npos)
    fail(name, "must not contain a NUL character (\\u0000)");
  return std::string(*string);
}

std::optional<uint64_t> JsonFields::integer(std::string_view name, uint64_t minimum,
                                            uint64_t maximum) const {
  const auto *value = find(name);
  if (value == nullptr) return std::nullopt;
  uint64_t number = 0;
  if (const auto *u = value->if_uint64()) {
    number = *u;
  } else if (const auto *i = value->if_int64()) {
    if (*i < 0)
      fail(name, "must be between " + std::to_string(minimum) + " and " + std::to_string(maximum));
    number = static_cast<uint64_t>(*i);
  } else {
    fail(name, "expected an integer");
  }
  if (number < minimum || number > maximum)
    fail(name, "must be between " + std::to_string(minimum) + " and " + std::to_string(maximum) +
                   " (got " + std::to_string(number) + ")");
  return number;
}

std::optional<bool> JsonFields::boolean(std::string_view name) const {
  const auto *value = find(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_bool()) fail(name, "expected true or false");
  return value->get_bool();
}

}  // namespace coffer::database
