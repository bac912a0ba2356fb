// The providers' non-secret settings, as the panel shows and edits them.
//
// Shown: for Key Vault the vault name (the platform's "Secret Name (Vault
// Name)"), cloud, vault URL and layout; for the database its URL with any
// password removed (from the userinfo, a `password=` query parameter, or a
// libpq key/value conninfo); for an env file its path, prefix, source and
// whether it is writable. Read from the policy file; never a credential.
//
// Edited: one existing string field of a provider's config at a time,
// restricted to what an administrator needs and cannot abuse: Key Vault's
// `vault_name` and `cloud`, and `vault_url` only within the configured
// cloud's vault domain; the database's PostgreSQL `url` with the same scheme
// and no parameter it did not have (a SQLite path is not changed here: the
// check would create a file). The edited provider is first opened alone (its
// own validation), then the whole edited policy must load, then the file is
// replaced atomically (only the value's bytes change; comments and layout
// stay) and the Store reloads. Any failure leaves the policy as it was.
#ifndef COFFER_ADMIN_PROVIDER_SETTINGS_HPP
#define COFFER_ADMIN_PROVIDER_SETTINGS_HPP

#include <coffer/store.hpp>

#include <boost/json/object.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace coffer::admin {

// `url` without its password: "postgresql://app@db:5432/pmp?sslmode=require"
// from "postgresql://app:pw@db:5432/pmp?sslmode=require&password=pw", and
// "host=db dbname=pmp" from "host=db password='p w' dbname=pmp".
std::string redact_database_url(std::string_view url);

// {"NAME": {"field": "value", ...}, ...}: the shown settings of every
// provider in the policy file. Throws Error(invalid_config) for a file that
// does not parse.
boost::json::object provider_settings(const std::filesystem::path &policy_file);

struct SettingChange {
  std::string provider;
  std::string field;
  std::string value;
};

// Checks `change` against the restrictions above for the provider's plugin
// and current config. Throws Error(invalid_argument) naming the field and
// the rule.
void check_setting_change(const std::string &plugin, const boost::json::object &config,
                          const SettingChange &change);

// Applies `change` to the policy file as described above and reloads
// `store`; returns the line that changed ("coffer.json:7: providers.vault.
// config.vault_name"). Throws Error naming what refused it; the file is then
// unchanged.
std::string apply_setting_change(Store &store, const std::filesystem::path &policy_file,
                                 const StoreOptions &check_options, const SettingChange &change);

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_PROVIDER_SETTINGS_HPP
