// The PostgreSQL schema as a list of versioned migrations, the same logical schema as
// SQLite's (storage/sqlite_schema.cpp): migration N of one list is migration N of the
// other, so the two are compared side by side. A database records the versions it has in
// schema_migrations; opening it applies the missing ones in one transaction, under an
// advisory lock so that replicas starting together migrate once.
#pragma once

#include "storage/postgres_connection.h"

namespace scribe::pg {

// Applies the migrations `c`'s database lacks, holding pg_advisory_lock(kMigrationLock)
// meanwhile (others wait, then find nothing to do). Throws StoreError when one fails
// (nothing of the run is kept) or when the database is newer than this build.
void migrate(Connection& c);

// The version a database has once migrate() has run: the number of migrations.
int latest_schema_version();

// The advisory lock keys Scribe takes on a database: migrations, and the leader of the
// replicas (bot/leader.h).
inline constexpr long long kMigrationLock = 0x5343524942450001;  // "SCRIBE" 1
inline constexpr long long kLeaderLock = 0x5343524942450002;     // "SCRIBE" 2

}  // namespace scribe::pg
