// `scribe migrate [--status]` for a PostgreSQL database: the state of its migrations and
// applying the pending ones, on a connection of its own, while replicas may be serving (the
// migration advisory lock keeps two appliers apart, as at a replica's start). Errors are
// StoreError with a message for the operator (never the URL's password).
#pragma once

#include <string>
#include <vector>

#include "storage/sqlite_maintenance.h"  // MigrationState

namespace scribe {

// Every migration this build knows, in order, with when each was applied to the database
// at `url` (the same numbering and names as SQLite's). Changes nothing: a database without
// Scribe's tables has every migration pending; one newer than this build is a StoreError.
std::vector<MigrationState> postgres_migration_status(const std::string& url);

// Applies the pending migrations in one transaction; returns the versions applied, empty
// when there were none.
std::vector<int> postgres_migrate(const std::string& url);

// `url` without its password, for messages.
std::string postgres_location(const std::string& url);

}  // namespace scribe
