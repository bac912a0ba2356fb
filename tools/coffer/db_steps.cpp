#include "db_steps.hpp"

#include <boost/json.hpp>

namespace coffer::cli {
namespace json = boost::json;

namespace {

// Records per call: small enough for the bar to move every second or so on
// PostgreSQL over a network, large enough that the calls cost little.
constexpr std::int64_t kRekeyBatchesPerCall = 10;
constexpr std::int64_t kVerifyRecordsPerCall = 500;

json::object call(Store &store, const std::string &provider, const std::string &command,
                  const json::object &arguments) {
  std::string text = store.admin(provider, command, json::serialize(arguments));
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object())
    throw Error(Code::internal, "provider '" + provider + "': the " + command +
                                    " command answered something other than a JSON object");
  return std::move(parsed.as_object());
}

std::size_t count(const json::object &object, std::string_view field) {
  const json::value *value = object.if_contains(field);
  return value != nullptr && value->is_number() ? value->to_number<std::size_t>() : 0;
}

bool flag(const json::object &object, std::string_view field) {
  const json::value *value = object.if_contains(field);
  return value != nullptr && value->is_bool() && value->get_bool();
}

}  // namespace

json::object rekey_in_steps(Store &store, const std::string &provider, json::object arguments,
                            const Progress &progress) {
  arguments["max_batches"] = kRekeyBatchesPerCall;
  json::object whole;
  json::array retired;
  std::size_t done = 0;
  for (bool first = true;; first = false) {
    json::object part = call(store, provider, "rekey", arguments);
    done += count(part, "reencrypted");
    if (const auto *keys = part.if_contains("retired_data_keys"); keys && keys->is_array())
      for (const auto &key : keys->get_array()) retired.push_back(key);
    const bool resumed = first ? flag(part, "resumed") : flag(whole, "resumed");
    whole = std::move(part);
    whole["resumed"] = resumed;
    progress.show(done, done + count(whole, "remaining"));
    if (flag(whole, "finished")) break;
  }
  whole["reencrypted"] = done;
  whole["retired_data_keys"] = std::move(retired);
  return whole;
}

json::object verify_in_steps(Store &store, const std::string &provider, json::object arguments,
                             const Progress &progress, std::string &failure) {
  arguments["limit"] = kVerifyRecordsPerCall;
  arguments.erase("after");
  json::object whole = call(store, provider, "verify", arguments);
  const std::size_t total = count(whole, "total");
  std::size_t records = count(whole, "records");
  json::array bad = whole["bad"].is_array() ? whole["bad"].as_array() : json::array();
  json::object last = whole;
  progress.show(records, total);
  while (!flag(last, "finished")) {
    const json::value *after = last.if_contains("last");
    if (after == nullptr || !after->is_object())
      throw Error(Code::internal, "provider '" + provider +
                                      "': a part of verify ended without naming its last record");
    arguments["after"] = *after;
    last = call(store, provider, "verify", arguments);
    records += count(last, "records");
    if (const auto *more = last.if_contains("bad"); more && more->is_array())
      for (const auto &entry : more->get_array()) bad.push_back(entry);
    progress.show(records, total);
  }
  const std::string location =
      whole["location"].is_string() ? std::string(whole["location"].get_string()) : provider;
  const std::string integrity = whole["integrity_check"].is_string()
                                    ? std::string(whole["integrity_check"].get_string())
                                    : std::string("not run");
  const bool unlocked = flag(whole, "unlocked");
  json::object out{{"command", "verify"},
                   {"ok", bad.empty() && unlocked && integrity == "ok"},
                   {"records", records},
                   {"keys", count(last, "keys")},
                   {"data_keys", count(whole, "data_keys")},
                   {"integrity_check", integrity},
                   {"unlocked", unlocked}};
  if (!unlocked) {
    std::string why =
        !bad.empty() && bad.front().is_object() && bad.front().as_object()["error"].is_string()
            ? std::string(bad.front().as_object()["error"].get_string())
            : std::string("the store did not unlock");
    failure =
        "verification stopped: " + why + "; the database's integrity check reports: " + integrity;
  } else if (!bad.empty() || integrity != "ok") {
    failure = std::to_string(bad.size()) + " of " + std::to_string(records) +
              " records failed verification in " + location;
    if (integrity != "ok") failure += "; the database's integrity check reports: " + integrity;
  }
  out["bad"] = std::move(bad);
  return out;
}

}  // namespace coffer::cli
