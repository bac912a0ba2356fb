// The policy file: which providers exist and how keys route to them. Parsed
// and validated into an immutable value; every error names file, line and
// column. See docs/policy.md for the format.
#ifndef COFFER_CORE_POLICY_HPP
#define COFFER_CORE_POLICY_HPP

#include <coffer/audit.hpp>
#include <coffer/catalog.hpp>
#include <coffer/error.hpp>
#include <coffer/store.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_text.hpp"

namespace coffer::detail {

struct ProviderSpec {
  std::string name;                   // the policy's name for the instance
  std::string plugin;                 // plugin name (lib<plugin>.so)
  std::string config_json;            // the `config` object, serialised without comments
  std::optional<std::string> sha256;  // lower-case hex pin of the plugin file
  // The document it came from, to say where it is when something fails.
  std::shared_ptr<const JsonDocument> document;
  // "file:line:col: " of the provider's entry (computed on demand: errors only).
  [[nodiscard]] std::string where() const;
};

// What a chain does when a provider answers with a given failure.
enum class OnFailure { next, stop };

struct Chain {
  std::vector<std::string> providers;
  std::map<Code, OnFailure> on;  // overrides of the defaults
  [[nodiscard]] OnFailure action(Code code) const;
};

struct Route {
  Chain chain;
  std::vector<std::string> allow;  // keys (or "*"); empty: all
  std::vector<std::string> deny;   // keys
};

// A "clients" entry: the peers it names and the keys they may read.
struct Client {
  std::string name;
  std::vector<std::uint32_t> uids;  // numbers, or user names resolved at load
  std::vector<std::uint32_t> gids;  // numbers, or group names resolved at load
  std::vector<std::string> allow;   // "*", "Category.*" or a canonical key
  std::vector<std::string> deny;
};

struct CacheSettings {
  std::chrono::milliseconds ttl{std::chrono::seconds(300)};
  std::chrono::milliseconds refresh_ahead{std::chrono::seconds(30)};
  std::chrono::milliseconds stale_if_error{std::chrono::seconds(3600)};
  std::chrono::milliseconds negative_ttl{std::chrono::seconds(5)};
};

struct Policy {
  std::string source;                    // file name or "<string>"
  std::filesystem::path base_directory;  // for relative paths
  std::vector<std::filesystem::path> plugin_dirs;
  std::vector<std::filesystem::path> catalogs;
  bool builtin_catalog = true;          // "builtin_catalog": false leaves it out
  std::vector<ProviderSpec> providers;  // in file order
  std::map<std::string, Route> routes;  // category or "*"
  std::map<std::string, Chain> keys;    // canonical key overrides
  CacheSettings cache;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  std::optional<AuditOptions> audit;  // the audit log, when the policy asks for one
  // "on_open_failure": a provider that fails to open is isolated ("isolate",
  // the default) or fails the load ("fail").
  bool isolate_open_failures = true;
  // "clients": who may read what through a host that names its peers. Absent:
  // only the process's own uid may.
  bool has_clients = false;
  std::vector<Client> clients;  // in file order
  // "helpers": by tool ("git", "docker"), each in file order.
  std::map<std::string, std::vector<HelperEntry>, std::less<>> helpers;
  // The parsed text, to locate what later checks (against the catalog) find.
  std::shared_ptr<const JsonDocument> document;

  [[nodiscard]] const ProviderSpec *provider(const std::string &name) const;
  [[nodiscard]] const Client *client(std::string_view name) const;
};

// Parses and validates policy text. Throws Error(invalid_config).
Policy parse_policy(const std::string &source, const std::string &text,
                    const std::filesystem::path &base_directory);

// Reads and parses a policy file.
Policy read_policy(const std::filesystem::path &file);

// Checks the keys that "clients" and "helpers" name against the catalog: a
// key must be in it and a "Category.*" pattern name one of its categories,
// unless unknown keys are allowed (a misspelt deny would otherwise deny
// nothing). Throws Error(invalid_config) at the key's line.
void check_policy_keys(const Policy &policy, const Catalog &catalog, bool allow_unknown_keys);

// The default action of a chain for a failure code.
OnFailure default_action(Code code);

}  // namespace coffer::detail

#endif  // COFFER_CORE_POLICY_HPP
