#include "storage/postgres_maintenance.h"

#include <cstdint>
#include <utility>

#include <fmt/format.h>

#include "storage/postgres_connection.h"
#include "storage/postgres_schema.h"

namespace scribe {
namespace {

// (version, applied_at in seconds) in order; empty without a schema_migrations table.
std::vector<std::pair<int, std::int64_t>> applied_versions(pg::Connection& c) {
  std::vector<std::pair<int, std::int64_t>> out;
  pg::Stmt exists = c.prepare("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists.step() || exists.text(0) != "t") return out;
  pg::Stmt s = c.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version");
  while (s.step()) out.emplace_back(static_cast<int>(s.i64(0)), s.i64(1));
  return out;
}

std::vector<MigrationState> status_on(pg::Connection& c, const std::string& url) {
  return migration_states(applied_versions(c), pg::latest_schema_version(), pg::redact_url(url));
}

}  // namespace

std::vector<MigrationState> postgres_migration_status(const std::string& url) {
  pg::Connection c(url);
  return status_on(c, url);
}

std::vector<int> postgres_migrate(const std::string& url) {
  pg::Connection c(url);
  // Held around reading the version and applying (migrate takes it once more, the lock
  // counts), so a replica migrating meanwhile does not make the list of applied ones wrong.
  c.exec(fmt::format("SELECT pg_advisory_lock({})", pg::kMigrationLock));
  std::vector<int> done;
  try {
    int before = 0;
    for (const MigrationState& m : status_on(c, url)) {
      if (m.applied_at) before = m.version;
    }
    pg::migrate(c);
    for (int v = before + 1; v <= pg::latest_schema_version(); ++v) done.push_back(v);
  } catch (...) {
    c.exec_quietly("SELECT pg_advisory_unlock_all()");
    throw;
  }
  c.exec(fmt::format("SELECT pg_advisory_unlock({})", pg::kMigrationLock));
  return done;
}

std::string postgres_location(const std::string& url) { return pg::redact_url(url); }

}  // namespace scribe
