// The JSON bundle layout (one secret holding a JSON object of values).
// Input: a member name, NUL, a value, NUL, the bundle's text. Properties: a
// bundle that parses serialises to a text that parses to the same object;
// setting a member (a name and value the provider would write: UTF-8) reads
// back exactly and keeps every other member; erasing keeps the others too.
#include <coffer/provider.hpp>

#include <boost/json.hpp>

#include <string>

#include "fuzz_support.hpp"
#include "json_bundle.hpp"
#include "secret_memory.hpp"

namespace {

using coffer::azure::JsonBundle;
using coffer::fuzz::require;

boost::json::object as_object(const JsonBundle &bundle) {
  auto text = bundle.serialize();
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(text.view(), error);
  require(!error && value.is_object(), "a serialised bundle is a JSON object");
  return value.is_object() ? value.as_object() : boost::json::object();
}

JsonBundle reparse(const JsonBundle &bundle) {
  auto text = bundle.serialize();
  try {
    return JsonBundle::parse("bundle", text.view());
  } catch (const coffer::provider::Error &) {
    require(false, "a serialised bundle parses again");
    throw;
  }
}

void check_others(const boost::json::object &before, const boost::json::object &after,
                  std::string_view member) {
  for (const auto &entry : before) {
    if (entry.key() == member) continue;
    const auto *now = after.if_contains(entry.key());
    require(now != nullptr && *now == entry.value(), "an edit keeps the other members");
  }
  for (const auto &entry : after)
    require(entry.key() == member || before.contains(entry.key()), "an edit adds no other member");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  coffer::fuzz::Input input(data, size);
  const std::string_view member = input.field();
  const std::string_view value = input.field();
  const std::string_view text = input.rest();

  std::optional<JsonBundle> parsed;
  try {
    parsed.emplace(JsonBundle::parse("bundle", text));
  } catch (const coffer::provider::Error &error) {
    require(error.status() == COFFER_STATUS_DATA_ERROR, "a bad bundle is DATA_ERROR");
    return 0;
  }
  JsonBundle &bundle = *parsed;
  const boost::json::object original = as_object(bundle);
  require(as_object(reparse(bundle)) == original, "a bundle survives a write unchanged");
  for (const auto &name : bundle.members()) {
    try {
      (void)bundle.value(name, "Bundle.Key");
    } catch (const coffer::provider::Error &error) {
      require(error.status() == COFFER_STATUS_DATA_ERROR, "a non-string member is DATA_ERROR");
    }
  }

  if (!coffer::azure::is_valid_utf8(member) || !coffer::azure::is_valid_utf8(value)) return 0;
  if (!member.empty() && member.front() == '-') {
    const bool was_there = original.contains(member.substr(1));
    require(bundle.erase(member.substr(1)) == was_there, "erase says whether it removed");
    JsonBundle after = reparse(bundle);
    require(!as_object(after).contains(member.substr(1)), "an erased member is gone");
    check_others(original, as_object(after), member.substr(1));
    return 0;
  }
  bundle.set(member, value);
  JsonBundle after = reparse(bundle);
  require(after.value(member, "Bundle.Key").view() == value, "a set value reads back exactly");
  check_others(original, as_object(after), member);
  return 0;
}
