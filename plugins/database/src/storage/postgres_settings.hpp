// The `url` of a PostgreSQL store, checked and turned into libpq connection
// parameters.
//
// Accepts a `postgresql://` URI or a libpq keyword/value string; every libpq
// keyword passes through (several hosts, target_session_attrs, sslrootcert,
// sslcert/sslkey, passfile, options, ...), except:
//  - `password`: secret material never goes in the policy (use a passfile,
//    ~/.pgpass or client certificates);
//  - `sslmode` other than `verify-full` or `disable`: TLS that does not check
//    the server's certificate and host name, or that may fall back to
//    cleartext (`allow`, `prefer`), is refused. Without `sslmode`, a server on
//    this host (localhost, 127.0.0.0/8, ::1, a socket directory) gets
//    `disable` and any other `verify-full`;
//  - `sslmode=disable` for a server on another host: unless the config opts
//    in (PostgresTransport::allow_plaintext).
// `connect_timeout` defaults to 5 seconds and `fallback_application_name` to
// "coffer".
#ifndef COFFER_DATABASE_STORAGE_POSTGRES_SETTINGS_HPP
#define COFFER_DATABASE_STORAGE_POSTGRES_SETTINGS_HPP

#include <string>
#include <string_view>
#include <vector>

namespace coffer::database {

struct PostgresSettings {
  std::vector<std::string> keywords;
  std::vector<std::string> values;
  // host, port, dbname, user and sslmode: safe to show.
  std::string description;
};

// What the config allows beyond verified TLS.
struct PostgresTransport {
  // Cleartext to a server on another host (the config's `allow_plaintext`).
  bool allow_plaintext = false;
};

// Throws coffer::provider::Error(INVALID_CONFIG) whose message starts with
// "url: ".
[[nodiscard]] PostgresSettings parse_postgres_url(std::string_view url,
                                                  const PostgresTransport &transport = {});

// Whether `url` names a PostgreSQL store rather than an SQLite one.
[[nodiscard]] bool looks_like_postgres_url(std::string_view url);

}  // namespace coffer::database

#endif  // COFFER_DATABASE_STORAGE_POSTGRES_SETTINGS_HPP
