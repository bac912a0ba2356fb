// history: the versions a provider keeps of a key, newest first, with when
// each was written. Never a value.
#include <boost/json.hpp>

#include <cstdio>

#include "commands.hpp"
#include "exit_status.hpp"
#include "output.hpp"

namespace coffer::cli {
namespace json = boost::json;

int run_history(Invocation &invocation, const Arguments &arguments) {
  const std::string &key = arguments.positionals.at(0);
  require_key_shape("history", key);
  Store store = invocation.open_store();
  require_known_key(store, key);
  std::vector<VersionInfo> versions = store.versions(key);
  if (arguments.has("--json")) {
    json::array out;
    for (const auto &v : versions) {
      out.push_back(
          json::object{{"version", v.version},
                       {"created", utc_json(v.created_unix_ms)},
                       {"created_unix_ms", v.created_unix_ms == 0 ? json::value(nullptr)
                                                                  : json::value(v.created_unix_ms)},
                       {"enabled", v.enabled}});
    }
    print_json(json::object{{"key", key}, {"versions", std::move(out)}});
    return exit_success;
  }
  Table table({"VERSION", "CREATED", "ENABLED"});
  for (const auto &v : versions)
    table.add({v.version, utc_text(v.created_unix_ms), v.enabled ? "yes" : "no"});
  table.print(stdout);
  return exit_success;
}

}  // namespace coffer::cli
