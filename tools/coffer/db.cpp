// `coffer db`: runs the database provider's administrative commands through
// Store::admin and prints their JSON results.
#include <boost/json.hpp>

#include "commands.hpp"
#include "db_arguments.hpp"
#include "db_steps.hpp"
#include "exit_status.hpp"
#include "output.hpp"
#include "progress.hpp"

namespace coffer::cli {
namespace json = boost::json;

namespace {

// The provider named by --provider, else the policy's only database provider.
std::string database_provider(const Store &store, const Arguments &arguments,
                              const std::string &command) {
  if (auto chosen = arguments.value("--provider")) {
    require_known_provider(store, *chosen, "--provider");
    std::string plugin = store.plugin_of(*chosen);
    if (plugin != kDatabasePlugin)
      throw UsageError(command, "provider '" + *chosen + "' uses the plugin '" + plugin +
                                    "', not '" + std::string(kDatabasePlugin) + "'");
    return *chosen;
  }
  std::vector<std::string> found;
  for (const auto &provider : store.providers())
    if (store.plugin_of(provider) == kDatabasePlugin) found.push_back(provider);
  if (found.empty())
    throw Error(Code::invalid_config, "the policy has no provider with \"plugin\": \"" +
                                          std::string(kDatabasePlugin) + "\"");
  if (found.size() > 1) {
    std::string names;
    for (const auto &f : found) names += (names.empty() ? "" : ", ") + f;
    throw UsageError(command, "the policy has several database providers (" + names +
                                  "); choose one with --provider NAME");
  }
  return found.front();
}

}  // namespace

int run_db(Invocation &invocation, const Arguments &arguments, std::string_view command) {
  std::string full = "db " + std::string(command);
  std::string admin_arguments = db_arguments_json(command, arguments);
  Store store = invocation.open_store();
  std::string provider = database_provider(store, arguments, full);
  const bool as_json = arguments.has("--json");
  if (command == "rekey" || command == "verify") {
    json::object parts_arguments = json::parse(admin_arguments).as_object();
    Progress progress(full, Progress::wanted(as_json, invocation.globals.quiet));
    std::string failure;
    json::object whole =
        command == "rekey"
            ? rekey_in_steps(store, provider, std::move(parts_arguments), progress)
            : verify_in_steps(store, provider, std::move(parts_arguments), progress, failure);
    progress.clear();
    print_json(whole, as_json);
    if (!failure.empty()) throw Error(Code::data_error, "provider '" + provider + "': " + failure);
    return exit_success;
  }
  std::string result = store.admin(provider, command, admin_arguments);
  boost::system::error_code ec;
  json::value parsed = result.empty() ? json::value(json::object{}) : json::parse(result, ec);
  if (ec) {
    write_stdout(result + "\n");
    return exit_success;
  }
  print_json(parsed, as_json);
  if (command == "rotate-master-key") {
    // Which key survives is the one thing an operator must not have to guess.
    const json::value *kept =
        parsed.is_object() ? parsed.as_object().if_contains("kept_master_keys") : nullptr;
    if (kept != nullptr && kept->is_array()) {
      std::string names;
      for (const auto &name : kept->as_array())
        if (name.is_string())
          names += (names.empty() ? "" : " and ") + std::string(name.as_string());
      print_note("the store now opens with " + names + " only", invocation.globals.quiet);
    }
  }
  return exit_success;
}

}  // namespace coffer::cli
