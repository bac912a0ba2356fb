// check, plugins and version: whether a policy works as a whole, which
// plugins are there, and which versions run. None of them prints a value.
#include <coffer/plugins.hpp>

#include <boost/json.hpp>

#include <algorithm>

#include "commands.hpp"
#include "exit_status.hpp"
#include "output.hpp"
#include "progress.hpp"

namespace coffer::cli {
namespace json = boost::json;

namespace {

std::string abi_text(std::uint32_t version) {
  return std::to_string(version >> 16) + "." + std::to_string(version & 0xffffu);
}

// How `check` sees one key.
enum class KeyStatus { resolved, not_found, denied_by_policy, error };

// How many keys ended in each status.
struct KeyTally {
  std::size_t resolved = 0;
  std::size_t not_found = 0;
  std::size_t denied_by_policy = 0;
  std::size_t errors = 0;

  void add(KeyStatus status) {
    switch (status) {
      case KeyStatus::resolved:
        ++resolved;
        return;
      case KeyStatus::not_found:
        ++not_found;
        return;
      case KeyStatus::denied_by_policy:
        ++denied_by_policy;
        return;
      case KeyStatus::error:
        ++errors;
        return;
    }
  }
};

std::string_view status_name(KeyStatus status) {
  switch (status) {
    case KeyStatus::resolved:
      return "resolved";
    case KeyStatus::not_found:
      return "not_found";
    case KeyStatus::denied_by_policy:
      return "denied_by_policy";
    case KeyStatus::error:
      return "error";
  }
  return "error";
}

KeyStatus classify(Store &store, const CheckReport::KeyOutcome &outcome) {
  if (outcome.code == Code::ok) return KeyStatus::resolved;
  if (outcome.code == Code::not_found) return KeyStatus::not_found;
  // A key that the policy itself denies is withheld on purpose: explain()
  // tells that apart from a provider's refusal without asking any provider.
  if (outcome.code == Code::denied && store.explain(outcome.key).access != "allowed")
    return KeyStatus::denied_by_policy;
  return KeyStatus::error;
}

bool is_isolated(const std::vector<IsolatedProvider> &isolated, const std::string &provider) {
  return std::any_of(isolated.begin(), isolated.end(),
                     [&](const IsolatedProvider &i) { return i.provider == provider; });
}

// The plugin directories a policy file names, read leniently, for listing
// plugins when the policy itself does not load (often because of a plugin).
std::vector<std::filesystem::path> policy_plugin_dirs(const std::filesystem::path &file) {
  std::vector<std::filesystem::path> dirs;
  std::string text;
  try {
    text = read_policy_file(file);
  } catch (const Error &) {
    return dirs;  // the Store's own load reports why
  }
  json::parse_options options;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  boost::system::error_code ec;
  json::value root = json::parse(text, ec, {}, options);
  const json::value *listed =
      ec || !root.is_object() ? nullptr : root.as_object().if_contains("plugin_dirs");
  if (listed == nullptr || !listed->is_array()) return dirs;
  std::filesystem::path base = std::filesystem::absolute(file).parent_path();
  for (const auto &entry : listed->as_array()) {
    if (!entry.is_string() || entry.as_string().empty()) continue;
    std::filesystem::path dir{std::string(entry.as_string())};
    dirs.push_back(dir.is_absolute() ? dir : base / dir);
  }
  return dirs;
}

}  // namespace

int run_check(Invocation &invocation, const Arguments &arguments) {
  bool as_json = arguments.has("--json");
  PolicyLocation where = invocation.policy_location();
  std::optional<Store> store;
  try {
    store.emplace(invocation.open_store());
  } catch (const Error &e) {
    if (as_json)
      print_json(json::object{{"ok", false},
                              {"policy", where.file.string()},
                              {"loaded", false},
                              {"problems", json::array{e.what()}},
                              {"keys", json::array{}}});
    print_error(std::string("the policy did not load: ") + e.what());
    return exit_status_for(e.code());
  }
  Progress progress("check", Progress::wanted(as_json, invocation.globals.quiet));
  CheckReport report = store->check(
      [&progress](std::size_t done, std::size_t total) { progress.show(done, total); });
  progress.clear();
  // Providers that did not open; each is also a problem (its health says why).
  std::vector<IsolatedProvider> isolated = store->isolated_providers();
  KeyTally tally;
  Table table({"KEY", "STATUS", "PROVIDER", "MESSAGE"});
  json::array keys;
  for (const auto &outcome : report.keys) {
    KeyStatus status = classify(*store, outcome);
    tally.add(status);
    table.add({outcome.key, std::string(status_name(status)), outcome.provider,
               status == KeyStatus::resolved ? std::string() : outcome.message});
    keys.push_back(json::object{
        {"key", outcome.key},
        {"status", status_name(status)},
        {"provider",
         outcome.provider.empty() ? json::value(nullptr) : json::value(outcome.provider)},
        {"code", to_string(outcome.code)},
        {"message",
         outcome.message.empty() ? json::value(nullptr) : json::value(outcome.message)}});
  }
  int status = !report.problems.empty() || tally.errors > 0 ? exit_failure
               : tally.not_found > 0                        ? exit_not_found
                                                            : exit_success;
  if (as_json) {
    json::array problems;
    for (const auto &p : report.problems) problems.push_back(json::value(p));
    json::array providers;
    for (const auto &p : store->providers())
      providers.push_back(json::object{
          {"name", p}, {"plugin", store->plugin_of(p)}, {"isolated", is_isolated(isolated, p)}});
    print_json(json::object{{"ok", status == exit_success},
                            {"policy", where.file.string()},
                            {"loaded", true},
                            {"providers", std::move(providers)},
                            {"problems", std::move(problems)},
                            {"keys", std::move(keys)},
                            {"summary", json::object{{"keys", report.keys.size()},
                                                     {"resolved", tally.resolved},
                                                     {"not_found", tally.not_found},
                                                     {"denied_by_policy", tally.denied_by_policy},
                                                     {"errors", tally.errors},
                                                     {"problems", report.problems.size()}}}});
    return status;
  }
  std::string head = "policy:   " + where.file.string() + "\n";
  for (const auto &p : store->providers())
    head += "provider: " + p + " (plugin " + store->plugin_of(p) + ")" +
            (is_isolated(isolated, p) ? " isolated: it did not open" : "") + "\n";
  for (const auto &p : report.problems) head += "problem:  " + p + "\n";
  write_stdout(head + "\n");
  table.print(stdout);
  write_stdout("\n" + std::to_string(report.keys.size()) + " keys: " +
               std::to_string(tally.resolved) + " resolved, " + std::to_string(tally.not_found) +
               " not found, " + std::to_string(tally.denied_by_policy) + " denied by policy, " +
               std::to_string(tally.errors) + " errors; " + std::to_string(report.problems.size()) +
               " problems\n");
  return status;
}

int run_plugins(Invocation &invocation, const Arguments &arguments) {
  std::vector<PluginInfo> plugins;
  PolicyLocation where = invocation.policy_location();
  std::error_code ec;
  bool have_policy = where.explicit_choice || std::filesystem::exists(where.file, ec);
  // The directories Store::plugins() examines: the policy's (read leniently,
  // so that a policy that does not load can still be diagnosed), then the
  // default ones. They are examined before a Store loads any plugin: a
  // library already loaded must not stand in for another file.
  std::vector<std::filesystem::path> dirs;
  if (have_policy) dirs = policy_plugin_dirs(where.file);
  for (auto &dir : default_plugin_dirs())
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
  plugins = scan_plugins(dirs);
  if (have_policy) {
    try {
      (void)invocation.open_store();
    } catch (const Error &e) {
      if (!invocation.globals.quiet)
        print_error(std::string("warning: the policy did not load: ") + e.what());
    }
  }
  // Examining a file is loading it: say so, and where nothing was found,
  // where it was looked for.
  print_note(
      "each file listed was loaded to read its table (loading a library runs its "
      "initialisers): keep plugin directories to what you trust",
      invocation.globals.quiet);
  if (plugins.empty()) {
    std::string searched;
    for (const auto &dir : dirs) {
      std::error_code missing;
      searched += "\n  " + escape_controls(dir.string()) +
                  (std::filesystem::is_directory(dir, missing) ? "" : " (not a directory)");
    }
    std::string text = "coffer: no plugin file (*.so) found; directories searched:" +
                       (searched.empty() ? std::string(" none") : searched) + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
  }
  if (arguments.has("--json")) {
    json::array searched;
    for (const auto &dir : dirs) searched.push_back(json::value(dir.string()));
    json::array out;
    for (const auto &p : plugins) {
      json::array capabilities;
      for (const auto &c : p.capabilities) capabilities.push_back(json::value(c));
      json::object entry{{"file", p.file.string()}, {"loadable", p.loadable}};
      if (p.loadable) {
        entry["name"] = p.name;
        entry["plugin_version"] = p.plugin_version;
        entry["description"] = p.description;
        entry["abi_version"] = abi_text(p.abi_version);
        entry["capabilities"] = std::move(capabilities);
      } else {
        entry["refusal"] = p.refusal;
      }
      out.push_back(std::move(entry));
    }
    print_json(json::object{{"plugins", std::move(out)}, {"directories", std::move(searched)}});
    return exit_success;
  }
  Table table({"FILE", "NAME", "VERSION", "ABI", "CAPABILITIES", "STATUS"});
  for (const auto &p : plugins) {
    std::string capabilities;
    for (const auto &c : p.capabilities) capabilities += (capabilities.empty() ? "" : ",") + c;
    table.add({p.file.string(), p.name, p.plugin_version,
               p.loadable ? abi_text(p.abi_version) : std::string(), capabilities,
               p.loadable ? "ok" : "refused: " + p.refusal});
  }
  table.print(stdout);
  return exit_success;
}

int run_version(Invocation &, const Arguments &arguments) {
  std::string version = library_version();
  std::string abi = abi_text(abi_version());
  if (arguments.has("--json")) {
    print_json(json::object{{"version", version}, {"abi_version", abi}});
    return exit_success;
  }
  write_stdout("coffer " + version + "\nprovider ABI " + abi + "\n");
  return exit_success;
}

}  // namespace coffer::cli
