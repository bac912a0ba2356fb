// The store's schema and its migrations, one list per SQL dialect.
//
// Version 1 creates the tables (storage.hpp describes them); version 2 indexes
// records by data key, which rekey scans. Version 3 flags each key's latest
// record (coffer_records.latest), so that a get reads the key's newest record
// alone, by the primary key, instead of joining the key's head. A migration
// runs inside the migrating transaction together with the update of
// coffer_schema, so a store is always at one version. Never edit a released
// migration: append one.
#ifndef COFFER_DATABASE_STORAGE_SCHEMA_HPP
#define COFFER_DATABASE_STORAGE_SCHEMA_HPP

#include <string_view>
#include <vector>

namespace coffer::database {

inline constexpr int current_schema_version = 3;

struct Migration {
  int version;  // the schema version after this migration
  std::vector<std::string_view> statements;
};

[[nodiscard]] const std::vector<Migration> &sqlite_migrations();
[[nodiscard]] const std::vector<Migration> &postgres_migrations();

}  // namespace coffer::database

#endif  // COFFER_DATABASE_STORAGE_SCHEMA_HPP
