// Operator tools for a SQLite database file (`scribe migrate|backup|restore`): the state of
// its migrations, an online backup through SQLite's backup API, and a restore from such a
// backup. Each opens its own connections and works whether or not `scribe serve` has the
// file open; keeping a server away from a restore is the caller's job (bot/process_lock.h).
// Errors are StoreError with a message for the operator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/model.h"

namespace scribe {

struct MigrationState {
  int version = 0;
  std::string name;                     // what it adds
  std::optional<Timestamp> applied_at;  // nullopt: pending (second precision)
};

// Every migration up to `latest`, in order, with when each was applied according to
// `applied` ((version, seconds) pairs in order, as either backend's schema_migrations keeps
// them). A database newer than this build, named `where` in the message, is a StoreError.
std::vector<MigrationState> migration_states(
    const std::vector<std::pair<int, std::int64_t>>& applied, int latest, const std::string& where);

// Every migration this build knows, in order, with when each was applied to the database at
// `path`. Changes nothing and creates nothing: a missing file is a StoreError, a file
// without Scribe's tables has every migration pending, a database newer than this build is
// a StoreError.
std::vector<MigrationState> sqlite_migration_status(const std::string& path);

// Applies the pending migrations (creating the file when there is none), in one
// transaction; returns the versions applied, empty when there were none.
std::vector<int> sqlite_migrate(const std::string& path);

// What a Scribe database file holds, as checked by a backup or restore.
struct DatabaseSummary {
  int schema_version = 0;
  std::int64_t incidents = 0;
  std::int64_t bytes = 0;  // the file's size
};

// Copies the database at `db` to `dest` with SQLite's online backup API: one consistent
// snapshot (one read transaction), taken while a server may be writing; its writes are not
// held up (WAL). The copy is written beside `dest`, checked (quick_check), synced and then
// renamed, so `dest` is either the whole backup or untouched. It is one self-contained file
// (rollback journal mode). An existing `dest` is refused unless `overwrite`.
DatabaseSummary sqlite_backup(const std::string& db, const std::string& dest, bool overwrite);

// Checks that `file` is a Scribe database this build can use: a SQLite file that passes
// quick_check, with Scribe's tables and a schema version from 1 to the latest this build
// knows. Opened read-only. Throws StoreError naming what is wrong.
DatabaseSummary sqlite_check_database(const std::string& file);

struct RestoreResult {
  DatabaseSummary restored;
  // Where the database that was in place went, when it could not be opened as a database
  // (damaged beyond SQLite's reach) and was moved aside rather than overwritten; else empty.
  std::string moved_aside;
};

// Replaces the contents of the database at `db` with the backup `backup` (checked first
// with sqlite_check_database; nothing changes when it fails) through the backup API, as one
// transaction of the target: a crash midway leaves the old contents. A target that does not
// exist is created. Migrations newer than the backup's schema are left pending (the next
// `scribe serve` or `scribe migrate` applies them).
RestoreResult sqlite_restore(const std::string& backup, const std::string& db);

}  // namespace scribe
