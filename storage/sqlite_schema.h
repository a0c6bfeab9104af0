// The SQLite schema as a list of versioned migrations. A database records the versions it
// has in schema_migrations; opening it applies the missing ones, in one transaction.
#pragma once

#include <string_view>

#include "storage/sqlite_connection.h"

namespace scribe::sqlite {

// Applies the migrations `c`'s database lacks. Throws StoreError when one fails (nothing
// of the run is kept) or when the database is newer than this build.
void migrate(Connection& c);

// The version a database has once migrate() has run: the number of migrations.
int latest_schema_version();

// The short name of migration `version` (1-based), for `scribe migrate --status`; empty for
// a version this build does not know.
std::string_view migration_name(int version);

}  // namespace scribe::sqlite
