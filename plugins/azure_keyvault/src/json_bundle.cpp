#include "json_bundle.hpp"

#include "secret_memory.hpp"

#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>

#include <cmath>

namespace coffer::azure {
namespace {

using coffer::provider::Error;
using coffer::provider::SecretBytes;

const char *kind_name(const boost::json::value &value) {
  switch (value.kind()) {
    case boost::json::kind::object:
      return "an object";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::string:
      return "a string";
    default:
      return "a number";
  }
}

bool holds_non_finite(const boost::json::value &value) {
  switch (value.kind()) {
    case boost::json::kind::double_:
      return !std::isfinite(value.get_double());
    case boost::json::kind::array:
      for (const auto &element : value.get_array())
        if (holds_non_finite(element)) return true;
      return false;
    case boost::json::kind::object:
      for (const auto &member : value.get_object())
        if (holds_non_finite(member.value())) return true;
      return false;
    default:
      return false;
  }
}

}  // namespace

JsonBundle::JsonBundle(std::string bundle_name)
    : name_(std::move(bundle_name)), object_(wiping_storage()) {}

JsonBundle JsonBundle::parse(std::string bundle_name, std::string_view json) {
  JsonBundle bundle(std::move(bundle_name));
  boost::system::error_code error;
  boost::json::value document = parse_secret_json(json, error);
  if (error)
    throw Error(COFFER_STATUS_DATA_ERROR, "the JSON bundle secret '" + bundle.name_ +
                                              "' does not hold valid JSON (" + error.message() +
                                              ")");
  if (!document.is_object())
    throw Error(COFFER_STATUS_DATA_ERROR, "the JSON bundle secret '" + bundle.name_ + "' holds " +
                                              kind_name(document) +
                                              ", not a JSON object of names to string values");
  // A number beyond double's range parses as infinity and would be written
  // back as text that no longer parses: every other value would be lost.
  if (holds_non_finite(document))
    throw Error(COFFER_STATUS_DATA_ERROR,
                "the JSON bundle secret '" + bundle.name_ + "' holds a number out of range");
  bundle.object_ = std::move(document.as_object());
  return bundle;
}

SecretBytes JsonBundle::value(std::string_view member, std::string_view key) const {
  const boost::json::value *found = object_.if_contains(member);
  if (found == nullptr)
    throw Error(COFFER_STATUS_NOT_FOUND, "key " + std::string(key) + " (member '" +
                                             std::string(member) +
                                             "') is not in the JSON bundle secret '" + name_ + "'");
  if (!found->is_string())
    throw Error(COFFER_STATUS_DATA_ERROR,
                "key " + std::string(key) + ": member '" + std::string(member) +
                    "' of the JSON bundle secret '" + name_ + "' holds " + kind_name(*found) +
                    "; a bundle must be a flat JSON object whose values are strings");
  const boost::json::string &text = found->as_string();
  return SecretBytes(reinterpret_cast<const unsigned char *>(text.data()), text.size());
}

std::vector<std::string> JsonBundle::members() const {
  std::vector<std::string> names;
  names.reserve(object_.size());
  for (const auto &member : object_) names.emplace_back(member.key());
  return names;
}

void JsonBundle::set(std::string_view member, std::string_view value) {
  object_[member] = boost::json::string(value, wiping_storage());
}

bool JsonBundle::erase(std::string_view member) {
  return object_.erase(member) > 0;
}

SecretBytes JsonBundle::serialize() const {
  SecretBytes out;
  boost::json::serializer serializer;
  serializer.reset(&object_);
  char chunk[4096];
  while (!serializer.done()) {
    std::string_view piece = serializer.read(chunk, sizeof chunk);
    out.append(piece);
  }
  coffer::provider::wipe(chunk, sizeof chunk);
  return out;
}

}  // namespace coffer::azure
