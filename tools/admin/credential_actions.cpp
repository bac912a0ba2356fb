#include "credential_actions.hpp"

#include <boost/json/array.hpp>

#include "panel_views.hpp"

namespace coffer::admin {
namespace json = boost::json;
namespace {

void require_catalog_key(Store &store, const std::string &key) {
  if (!store.catalog()->contains(key))
    throw Error(Code::invalid_argument, "no catalog has the key '" + key + "'");
}

}  // namespace

json::object enter_value(Store &store, const std::string &key, const Secret &value,
                         const std::string &caller) {
  require_catalog_key(store, key);
  if (value.empty())
    throw Error(Code::invalid_argument, "the value for " + key + " is empty; nothing was stored");
  RouteInfo route = store.route(key);
  if (route.access != Code::ok) throw Error(route.access, route.message);
  std::string version = store.put(key, value, caller);
  return {{"key", key}, {"provider", route.chain.front()}, {"version", version}};
}

json::object test_credential(Store &store, const std::string &key, const std::string &caller) {
  require_catalog_key(store, key);
  GetOptions options;
  options.caller = caller;
  options.bypass_cache = true;
  json::object status;
  {
    Result result = store.try_get(key, options);
    status = {{"state", status_state(result.code)},
              {"provider", result.provider},
              {"version", result.ok() ? std::string(result.secret.version()) : std::string()},
              {"message", result.ok() ? std::string() : result.message}};
  }  // the value goes here
  Explanation explanation = store.explain(key);
  json::array steps;
  for (const auto &step : explanation.chain)
    steps.push_back(json::object{{"provider", step.provider},
                                 {"plugin", step.plugin},
                                 {"name", step.name},
                                 {"outcome", step.outcome},
                                 {"note", step.note}});
  return {{"key", key},
          {"rule", explanation.rule},
          {"access", explanation.access},
          {"status", std::move(status)},
          {"steps", std::move(steps)}};
}

}  // namespace coffer::admin
