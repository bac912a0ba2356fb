#include "store/config.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/stream_parser.hpp>
#include <coffer/provider.hpp>

#include "store/json_fields.hpp"

namespace coffer::database {

using coffer::provider::Error;

std::string Config::location() const {
  if (backend == Backend::sqlite) return "sqlite://" + sqlite_path.string();
  return postgres.description;
}

boost::json::value parse_json_text(std::string_view text, const std::string &what,
                                   coffer_status status) {
  boost::json::parse_options options;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(text, error, {}, options);
  if (error) {
    // Locate the failure: count lines up to where the parser stopped.
    std::size_t line = 1, column = 1;
    boost::json::stream_parser parser({}, options);
    std::size_t consumed = parser.write_some(text.data(), text.size(), error);
    for (std::size_t i = 0; i < consumed && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw Error(status, what + " is not valid JSON (line " + std::to_string(line) + ", column " +
                            std::to_string(column) + "): " + error.message());
  }
  return value;
}

MasterKeySource parse_master_key_source(const boost::json::value &value, const std::string &field,
                                        const std::filesystem::path &base_directory,
                                        coffer_status status) {
  JsonFields fields(value, field + ".", {"file", "env", "passphrase_env"}, status);
  int given = (fields.has("file") ? 1 : 0) + (fields.has("env") ? 1 : 0) +
              (fields.has("passphrase_env") ? 1 : 0);
  if (given != 1)
    throw Error(status, field +
                            ": give exactly one of {\"file\": PATH}, {\"env\": NAME} or "
                            "{\"passphrase_env\": NAME}");
  MasterKeySource source;
  source.field = field;
  if (auto file = fields.text("file")) {
    source.kind = MasterKeySource::Kind::file;
    std::filesystem::path path(*file);
    if (path.is_relative()) {
      if (base_directory.empty())
        fields.fail("file",
                    "a relative path needs a policy file to resolve against; give an "
                    "absolute path");
      path = base_directory / path;
    }
    source.path = path.lexically_normal();
  } else if (auto env = fields.text("env")) {
    source.kind = MasterKeySource::Kind::env;
    source.variable = *env;
  } else {
    source.kind = MasterKeySource::Kind::passphrase_env;
    source.variable = *fields.text("passphrase_env");
  }
  return source;
}

ScryptParams parse_scrypt_params(const boost::json::value *value, const std::string &field) {
  ScryptParams params;
  if (value == nullptr) return params;
  JsonFields fields(*value, field + ".", {"n", "r", "p"}, COFFER_STATUS_INVALID_ARGUMENT);
  if (auto n = fields.integer("n", 2, uint64_t{1} << 40)) params.n = *n;
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
  boost::json::value value =
      parse_json_text(json, "the database provider's config", COFFER_STATUS_INVALID_CONFIG);
  JsonFields fields(value, "",
                    {"url", "master_key", "history", "pool_size", "busy_timeout_ms",
                     "retry_timeout_ms", "allow_plaintext"},
                    COFFER_STATUS_INVALID_CONFIG);
  Config config;
  auto url = fields.text("url");
  if (!url) fields.fail("url", "missing; e.g. \"sqlite:///var/lib/coffer/credentials.db\"");
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
                "expected sqlite:///PATH, postgresql://... or a libpq connection string "
                "(host=... dbname=...)");
  }

  const auto *master_key = fields.find("master_key");
  if (master_key == nullptr)
    fields.fail("master_key",
                "missing; give {\"file\": PATH}, {\"env\": NAME} or {\"passphrase_env\": NAME}");
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
