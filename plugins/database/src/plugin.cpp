// The database plugin's one exported symbol.
#include "database_provider.hpp"

COFFER_PROVIDER(coffer::database::DatabaseProvider, "database", "0.1.0",
                "credentials encrypted at rest (AES-256-GCM envelope) in SQLite or PostgreSQL")
