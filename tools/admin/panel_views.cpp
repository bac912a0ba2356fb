#include "panel_views.hpp"

#include <boost/json/array.hpp>

#include <ctime>
#include <map>

namespace coffer::admin {
namespace json = boost::json;
namespace {

std::string utc_text(std::chrono::system_clock::time_point time) {
  auto seconds = std::chrono::system_clock::to_time_t(time);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

// When the served version was written (UTC), or null when the provider does
// not say (env files) or nothing was served.
json::value last_change_of(const Result &result) {
  if (!result.ok() || result.secret.created_unix_ms() <= 0) return nullptr;
  return json::value(utc_text(std::chrono::system_clock::time_point(
      std::chrono::milliseconds(result.secret.created_unix_ms()))));
}

json::array chain_of(Store &store, const std::string &key, const RouteInfo &route) {
  json::array chain;
  for (const auto &provider : route.chain) {
    std::string name;
    try {
      name = store.key_name(key, provider);
    } catch (const Error &error) {
      name = std::string("(no name: ") + error.what() + ")";
    }
    chain.push_back(json::object{
        {"provider", provider}, {"plugin", store.plugin_of(provider)}, {"name", std::move(name)}});
  }
  return chain;
}

json::object status_of(const Result &result, const RouteInfo &route) {
  if (route.access == Code::denied)
    return {{"state", "refused"},
            {"provider", ""},
            {"version", ""},
            {"last_change", nullptr},
            {"message", route.message}};
  json::object status{{"state", status_state(result.code)},
                      {"provider", result.provider},
                      {"version", result.ok() ? std::string(result.secret.version()) : ""},
                      {"last_change", last_change_of(result)},
                      {"message", result.ok() ? std::string() : result.message}};
  return status;
}

}  // namespace

std::string_view status_state(Code code) noexcept {
  switch (code) {
    case Code::ok:
      return "resolved";
    case Code::not_found:
      return "not_found";
    case Code::denied:
      return "denied";
    case Code::unavailable:
    case Code::timeout:
      return "unavailable";
    default:
      return "error";
  }
}

json::object credentials_view(Store &store, const std::string &caller) {
  auto catalog = store.catalog();
  std::vector<std::string> keys;
  for (const auto &entry : catalog->entries()) keys.push_back(entry.key);
  GetOptions options;
  options.caller = caller;
  options.bypass_cache = true;  // the status is what the providers say now
  auto results = store.get_many(keys, options);

  json::array groups;
  std::map<std::string, std::size_t> group_index;
  std::map<std::pair<std::string, std::string>, std::size_t> service_index;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const CatalogEntry &entry = catalog->entries()[i];
    RouteInfo route = store.route(entry.key);
    json::object row{{"key", entry.key},
                     {"description", entry.description},
                     {"category", entry.category},
                     {"rule", route.rule},
                     {"override", route.override},
                     {"access", route.access == Code::ok ? "allowed" : to_string(route.access)},
                     {"access_message", route.message},
                     {"chain", chain_of(store, entry.key, route)},
                     {"status", status_of(results[i], route)}};
    results[i].secret = Secret();  // the value is not needed: drop it now

    auto [group_at, new_group] = group_index.try_emplace(entry.group, groups.size());
    if (new_group)
      groups.push_back(json::object{{"name", entry.group}, {"services", json::array()}});
    auto &services = groups[group_at->second].as_object()["services"].as_array();
    auto [service_at, new_service] =
        service_index.try_emplace({entry.group, entry.service}, services.size());
    if (new_service)
      services.push_back(json::object{{"name", entry.service}, {"keys", json::array()}});
    services[service_at->second].as_object()["keys"].as_array().push_back(std::move(row));
  }
  return {{"generation", store.generation()}, {"groups", std::move(groups)}};
}

json::object providers_view(Store &store, const json::object &settings) {
  auto catalog = store.catalog();
  std::map<std::string, std::int64_t> first_of;
  for (const auto &entry : catalog->entries()) {
    RouteInfo route = store.route(entry.key);
    if (!route.chain.empty()) ++first_of[route.chain.front()];
  }
  json::array providers;
  for (const auto &health : store.health()) {
    providers.push_back(json::object{
        {"name", health.provider},
        {"plugin", health.plugin},
        {"health", to_string(health.code)},
        {"message", health.message},
        {"isolated", health.isolated},
        {"writable", health.can_put},
        {"history", health.has_history},
        {"soft_delete", health.soft_delete},
        {"keys", first_of[health.provider]},
        {"settings", settings.contains(health.provider) ? settings.at(health.provider)
                                                        : json::value(json::object())}});
  }
  return {{"providers", std::move(providers)}};
}

json::object audit_view(const RecentEvents &events) {
  json::array out;
  auto recorded = events.events();
  for (auto it = recorded.rbegin(); it != recorded.rend(); ++it) {
    out.push_back(json::object{{"time", utc_text(it->time)},
                               {"key", it->key},
                               {"provider", it->provider},
                               {"operation", it->operation},
                               {"outcome", to_string(it->outcome)},
                               {"message", it->message},
                               {"caller", it->caller},
                               {"peer", it->peer}});
  }
  return {{"events", std::move(out)}};
}

}  // namespace coffer::admin
