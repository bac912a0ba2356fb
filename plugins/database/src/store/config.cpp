#include "store/config.hpp"

#include <coffer/config_fields.hpp>
#include <coffer/provider.hpp>

namespace coffer::database {

using coffer::provider::ConfigFields;
using coffer::provider::ConfigPlace;
using coffer::provider::Error;

std::string Config::location() const {
  if (backend == Backend::sqlite) return "sqlite://" + sqlite_path.string();
  return postgres.description;
}

MasterKeySource parse_master_key_source(const boost::json::value &value, const std::string &field,
                                        const std::filesystem::path &base_directory,
                                        coffer_status status) {
  const ConfigFields fields(value, {"file", "env", "passphrase_env"},
                            ConfigPlace{.path = {field}, .document = field, .status = status});
  int given = (fields.has("file") ? 1 : 0) + (fields.has("env") ? 1 : 0) +
              (fields.has("passphrase_env") ? 1 : 0);
  if (given != 1)
    throw Error(status, field +
                            ": give exactly one of {\"file\": PATH}, {\"env\": NAME} or "
                            "{\"passphrase_env\": NAME}");
  MasterKeySource source;
  source.field = field;
  if (auto file = fields.non_empty_string("file")) {
    source.kind = MasterKeySource::Kind::file;
    std::filesystem::path path(*file);
    if (path.is_relative()) {
      if (base_directory.empty())
        fields.fail("file",
                    "is a relative path, which needs a policy file to resolve against; give an "
                    "absolute path");
      path = base_directory / path;
    }
    source.path = path.lexically_normal();
  } else if (auto env = fields.non_empty_string("env")) {
    source.kind = MasterKeySource::Kind::env;
    source.variable = *env;
  } else {
    source.kind = MasterKeySource::Kind::passphrase_env;
    source.variable = *fields.non_empty_string("passphrase_env");
  }
  return source;
}

ScryptParams parse_scrypt_params(const boost::json::value *value, const std::string &field) {
  ScryptParams params;
  if (value == nullptr) return params;
  const ConfigFields fields(
      *value, {"n", "r", "p"},
      ConfigPlace{.path = {field}, .document = field, .status = COFFER_STATUS_INVALID_ARGUMENT});
  if (auto n = fields.integer("n", 2, int64_t{1} << 40)) params.n = static_cast<uint64_t>(*n);
  if (auto r = fields.integer("r", 1, 64)) params.r = static_cast<uint32_t>(*r);
  if (auto p = fields.integer("p", 1, 16)) params.p = static_cast<uint32_t>(*p);
  std::string problem = check_master_key_params(params);
  if (!problem.empty()) throw Error(COFFER_STATUS_INVALID_ARGUMENT, field + ": " + problem);
  return params;
}

namespace {

std::filesystem::path parse_sqlite_url(std::string_view url,
                                       const std::filesystem::path &base_directory) {
  std::string_view rest = url.substr(std::string_view("sqlite:").size());
  if (rest.starts_with("//")) rest.remove_prefix(2);
  if (rest.empty())
    throw Error(COFFER_STATUS_INVALID_CONFIG,
                "url: give the database file, e.g. sqlite:///var/lib/coffer/credentials.db");
  if (rest.find_first_of("?#") != std::string_view::npos)
    throw Error(COFFER_STATUS_INVALID_CONFIG,
                "url: an sqlite URL takes a file path only, without '?' or '#'");
  std::filesystem::path path(rest);
  if (path.is_relative()) {
    if (base_directory.empty())
      throw Error(COFFER_STATUS_INVALID_CONFIG,
                  "url: the relative path '" + std::string(rest) +
                      "' needs a policy file to resolve against; use sqlite:///ABSOLUTE/PATH");
    path = base_directory / path;
  }
  path = path.lexically_normal();
  if (!path.has_filename())
    throw Error(COFFER_STATUS_INVALID_CONFIG,
                "url: '" + path.string() + "' names a directory, not a database file");
  return path;
}

}  // namespace

Config parse_config(std::string_view json, const std::filesystem::path &base_directory) {
  const ConfigPlace place{.path = {}, .document = "the database provider's config"};
  const boost::json::value value = coffer::provider::parse_config_text(json, place);
  const ConfigFields fields(value,
                            {"url", "master_key", "history", "pool_size", "busy_timeout_ms",
                             "retry_timeout_ms", "allow_plaintext"},
                            place);
  Config config;
  auto url = fields.non_empty_string("url");
  if (!url) fields.missing("url", "; e.g. \"sqlite:///var/lib/coffer/credentials.db\"");
  const auto allow_plaintext = fields.boolean("allow_plaintext");
  if (url->starts_with("sqlite:")) {
    config.backend = Config::Backend::sqlite;
    config.sqlite_path = parse_sqlite_url(*url, base_directory);
    if (allow_plaintext)
      fields.fail("allow_plaintext", "applies to a PostgreSQL url only (an SQLite store is local)");
  } else if (looks_like_postgres_url(*url)) {
    config.backend = Config::Backend::postgres;
    config.postgres = parse_postgres_url(
        *url, PostgresTransport{.allow_plaintext = allow_plaintext.value_or(false)});
  } else {
    fields.fail("url",
                "must be sqlite:///PATH, postgresql://... or a libpq connection string "
                "(host=... dbname=...)");
  }

  const auto *master_key = fields.find("master_key");
  if (master_key == nullptr)
    fields.missing("master_key",
                   "; give {\"file\": PATH}, {\"env\": NAME} or {\"passphrase_env\": NAME}");
  config.master_key = parse_master_key_source(*master_key, "master_key", base_directory,
                                              COFFER_STATUS_INVALID_CONFIG);

  if (auto history = fields.integer("history", 1, 1000))
    config.history = static_cast<uint32_t>(*history);
  if (auto pool = fields.integer("pool_size", 1, 64))
    config.pool_size = static_cast<uint32_t>(*pool);
  if (auto busy = fields.integer("busy_timeout_ms", 0, 600000))
    config.busy_timeout_ms = static_cast<uint32_t>(*busy);
  if (auto retry = fields.integer("retry_timeout_ms", 0, 600000))
    config.retry_timeout_ms = static_cast<uint32_t>(*retry);
  return config;
}

}  // namespace coffer::database
