// list, catalog, keyname and explain: what the policy and the providers
// hold, and how keys resolve. None of them prints a secret value.
#include <boost/json.hpp>

#include <cstdio>

#include "commands.hpp"
#include "exit_status.hpp"
#include "output.hpp"

namespace coffer::cli {
namespace json = boost::json;

namespace {

json::value text_or_null(const std::string &text) {
  return text.empty() ? json::value(nullptr) : json::value(text);
}

}  // namespace

int run_list(Invocation &invocation, const Arguments &arguments) {
  Store store = invocation.open_store();
  bool one = !arguments.positionals.empty();
  if (one) require_known_provider(store, arguments.positionals.front(), "the argument of list");
  std::vector<std::string> providers = one ? arguments.positionals : store.providers();
  Table table({"PROVIDER", "KEY", "NAME", "VERSION"});
  json::array entries;
  json::array errors;
  int status = exit_success;
  for (const auto &provider : providers) {
    std::vector<ListEntry> listed;
    try {
      listed = store.list(provider);
    } catch (const Error &e) {
      if (one) throw;
      // Listing every provider skips the ones that cannot list at all.
      if (e.code() == Code::unsupported) {
        print_note("provider '" + provider + "' cannot list its entries; skipped",
                   invocation.globals.quiet);
        continue;
      }
      print_error(e.what());
      errors.push_back(json::object{{"provider", provider},
                                    {"code", std::string(to_string(e.code()))},
                                    {"message", e.what()}});
      if (status == exit_success) status = exit_status_for(e.code());
      continue;
    }
    for (const auto &entry : listed) {
      table.add({provider, entry.key, entry.name, entry.version});
      entries.push_back(json::object{{"provider", provider},
                                     {"key", text_or_null(entry.key)},
                                     {"name", entry.name},
                                     {"version", text_or_null(entry.version)}});
    }
  }
  if (arguments.has("--json"))
    print_json(json::object{{"entries", std::move(entries)}, {"errors", std::move(errors)}});
  else
    table.print(stdout);
  return status;
}

int run_catalog(Invocation &invocation, const Arguments &arguments) {
  // Without any policy the built-in catalog is shown; with one, the catalog
  // the Store uses (the built-in one plus the policy's catalog files).
  PolicyLocation where = invocation.policy_location();
  std::error_code ec;
  std::shared_ptr<const Catalog> catalog;
  if (!where.explicit_choice && !std::filesystem::exists(where.file, ec))
    catalog = std::make_shared<const Catalog>(Catalog::builtin());
  else
    catalog = invocation.open_store_to_read().catalog();
  if (arguments.has("--json")) {
    json::array keys;
    for (const auto &entry : catalog->entries())
      keys.push_back(json::object{{"key", entry.key},
                                  {"category", entry.category},
                                  {"group", entry.group},
                                  {"service", entry.service},
                                  {"description", entry.description},
                                  {"source", entry.source}});
    print_json(json::object{{"keys", std::move(keys)}});
    return exit_success;
  }
  Table table({"KEY", "CATEGORY", "DESCRIPTION"});
  for (const auto &entry : catalog->entries())
    table.add({entry.key, entry.category, entry.description});
  table.print(stdout);
  return exit_success;
}

int run_keyname(Invocation &invocation, const Arguments &arguments) {
  const std::string &key = arguments.positionals.at(0);
  require_key_shape("keyname", key);
  Store store = invocation.open_store_to_read();
  if (auto provider = arguments.value("--provider")) {
    require_known_provider(store, *provider, "--provider");
    write_stdout(store.key_name(key, *provider) + "\n");
    return exit_success;
  }
  require_known_key(store, key);
  Explanation explanation = store.explain(key);
  if (explanation.chain.empty() || explanation.access != "allowed") {
    // A rule matched but the policy withholds the key (deny or allow list);
    // without a rule, the key has no route at all.
    if (!explanation.rule.empty())
      throw Error(Code::denied, explanation.access + "; 'keyname --provider NAME' still names it");
    throw Error(Code::invalid_config, explanation.access);
  }
  Table table({"PROVIDER", "PLUGIN", "NAME"});
  for (const auto &step : explanation.chain) table.add({step.provider, step.plugin, step.name});
  table.print(stdout);
  return exit_success;
}

int run_explain(Invocation &invocation, const Arguments &arguments) {
  const std::string &key = arguments.positionals.at(0);
  require_key_shape("explain", key);
  Store store = invocation.open_store_to_read();
  require_known_key(store, key);
  Explanation e = store.explain(key);
  if (arguments.has("--json")) {
    json::array chain;
    for (const auto &step : e.chain)
      chain.push_back(json::object{{"provider", step.provider},
                                   {"plugin", step.plugin},
                                   {"name", step.name},
                                   {"outcome", step.outcome},
                                   {"note", step.note}});
    print_json(json::object{{"key", e.key},
                            {"category", e.category},
                            {"in_catalog", e.in_catalog},
                            {"rule", text_or_null(e.rule)},
                            {"access", e.access},
                            {"chain", std::move(chain)}});
    return exit_success;
  }
  std::string head = "key:       " + e.key + "\ncategory:  " + e.category +
                     "\ncatalog:   " + (e.in_catalog ? "yes" : "no") +
                     "\nrule:      " + (e.rule.empty() ? "-" : e.rule) +
                     "\naccess:    " + e.access + "\n";
  write_stdout(head);
  if (e.chain.empty()) {
    write_stdout("chain:     (none)\n");
    return exit_success;
  }
  write_stdout("\n");
  Table table({"STEP", "PROVIDER", "PLUGIN", "NAME", "OUTCOME", "NOTE"});
  for (std::size_t i = 0; i < e.chain.size(); ++i) {
    const auto &step = e.chain[i];
    table.add(
        {std::to_string(i + 1), step.provider, step.plugin, step.name, step.outcome, step.note});
  }
  table.print(stdout);
  return exit_success;
}

}  // namespace coffer::cli
