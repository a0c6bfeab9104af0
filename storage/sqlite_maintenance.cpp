#include "storage/sqlite_maintenance.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "storage/sqlite_connection.h"
#include "storage/sqlite_schema.h"
#include "storage/store.h"

namespace scribe {
namespace {

namespace fs = std::filesystem;

// A bare handle for the tools here: they need read-only opens, no WAL set-up and no
// statement cache, unlike sqlite::Connection.
class Handle {
 public:
  Handle(const std::string& path, int flags) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw StoreError(fmt::format("cannot open {}: {}", path, msg));
    }
    sqlite3_busy_timeout(db_, 10'000);
  }
  ~Handle() { sqlite3_close(db_); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  sqlite3* get() const { return db_; }

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw StoreError(msg);
    }
  }

  // The first column of each row of `sql`, as text (NULL as "").
  std::vector<std::string> column(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      throw StoreError(sqlite3_errmsg(db_));
    }
    std::vector<std::string> out;
    int rc = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(stmt, 0);
      out.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
    }
    const std::string msg = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    if (!msg.empty()) throw StoreError(msg);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

bool has_table(Handle& h, std::string_view table) {
  return !h.column(fmt::format("SELECT name FROM sqlite_master WHERE type='table' AND name='{}'",
                               table))
              .empty();
}

// version -> applied_at (seconds since the epoch), oldest first; empty without the table.
std::vector<std::pair<int, std::int64_t>> applied_versions(Handle& h) {
  std::vector<std::pair<int, std::int64_t>> out;
  if (!has_table(h, "schema_migrations")) return out;
  for (const std::string& row : h.column("SELECT version || ' ' || applied_at FROM "
                                         "schema_migrations ORDER BY version")) {
    int version = 0;
    long long at = 0;
    if (std::sscanf(row.c_str(), "%d %lld", &version, &at) == 2) out.emplace_back(version, at);
  }
  return out;
}

void require_file(const std::string& path, std::string_view what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw StoreError(fmt::format("no {} at {}", what, path));
  if (!fs::is_regular_file(path, ec)) throw StoreError(fmt::format("{} is not a file", path));
}

DatabaseSummary summarize(Handle& h, const std::string& path, std::string_view what) {
  std::vector<std::string> check;
  try {
    check = h.column("PRAGMA quick_check");
  } catch (const StoreError& e) {
    throw StoreError(
        fmt::format("{} {} is not a readable SQLite database: {}", what, path, e.what()));
  }
  if (check.size() != 1 || check[0] != "ok") {
    throw StoreError(fmt::format("{} {} is damaged: quick_check says: {}", what, path,
                                 check.empty() ? std::string("nothing") : check[0]));
  }
  if (!has_table(h, "schema_migrations") || !has_table(h, "incidents")) {
    throw StoreError(
        fmt::format("{} {} is a SQLite database but not Scribe's (no "
                    "schema_migrations or incidents table)",
                    what, path));
  }
  const auto versions = applied_versions(h);
  const int version = versions.empty() ? 0 : versions.back().first;
  if (version < 1) {
    throw StoreError(fmt::format("{} {} records no schema version", what, path));
  }
  if (version > sqlite::latest_schema_version()) {
    throw StoreError(
        fmt::format("{} {} has schema version {}, newer than this build knows ({}): use the Scribe "
                    "version that made it, or a newer one",
                    what, path, version, sqlite::latest_schema_version()));
  }
  DatabaseSummary s;
  s.schema_version = version;
  s.incidents = std::stoll(h.column("SELECT count(*) FROM incidents").at(0));
  std::error_code ec;
  s.bytes = static_cast<std::int64_t>(fs::file_size(path, ec));
  return s;
}

// Copies every page of `from` into `to` in one step, so the copy is one snapshot: a step
// split in parts would start over each time a writer changed the source between them.
void copy_pages(Handle& from, Handle& to, const std::string& what) {
  sqlite3_backup* backup = sqlite3_backup_init(to.get(), "main", from.get(), "main");
  if (backup == nullptr) throw StoreError(fmt::format("{}: {}", what, sqlite3_errmsg(to.get())));
  int rc = 0;
  // BUSY/LOCKED: another connection holds a lock this step needs (a checkpoint, the
  // server's commit); they are short, so try again for a while.
  for (int attempt = 0; attempt < 600; ++attempt) {
    rc = sqlite3_backup_step(backup, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    throw StoreError(fmt::format("{}: {}", what, sqlite3_errstr(rc)));
  }
  // backup_finish's own result repeats step's; the destination's error is the useful text.
  if (sqlite3_errcode(to.get()) != SQLITE_OK && sqlite3_errcode(to.get()) != SQLITE_DONE) {
    throw StoreError(fmt::format("{}: {}", what, sqlite3_errmsg(to.get())));
  }
}

void fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) throw StoreError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw StoreError(fmt::format("cannot sync {}: {}", path, std::strerror(err)));
}

std::string parent_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

std::vector<MigrationState> migration_states(
    const std::vector<std::pair<int, std::int64_t>>& applied, int latest,
    const std::string& where) {
  if (!applied.empty() && applied.back().first > latest) {
    throw StoreError(fmt::format(
        "{} has schema version {}, newer than this build knows ({}): this is an older Scribe",
        where, applied.back().first, latest));
  }
  std::vector<MigrationState> out;
  for (int v = 1; v <= latest; ++v) {
    MigrationState m;
    m.version = v;
    m.name = std::string(sqlite::migration_name(v));
    for (const auto& [version, at] : applied) {
      if (version == v) m.applied_at = Timestamp{std::chrono::seconds{at}};
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<MigrationState> sqlite_migration_status(const std::string& path) {
  require_file(path, "database");
  // Read-write without create: a read-only open of a WAL database needs its -shm file,
  // which a stopped server leaves behind only sometimes. Nothing here writes.
  Handle h(path, SQLITE_OPEN_READWRITE);
  std::vector<std::pair<int, std::int64_t>> applied;
  try {
    applied = applied_versions(h);
  } catch (const StoreError& e) {
    throw StoreError(fmt::format("{} is not a readable SQLite database: {}", path, e.what()));
  }
  return migration_states(applied, sqlite::latest_schema_version(), path);
}

std::vector<int> sqlite_migrate(const std::string& path) {
  int before = 0;
  {
    std::error_code ec;
    if (fs::exists(path, ec)) {
      for (const MigrationState& m : sqlite_migration_status(path)) {
        if (m.applied_at) before = m.version;
      }
    }
  }
  SqliteOptions options;
  sqlite::Connection c(path, options);
  sqlite::migrate(c);
  std::vector<int> applied;
  for (int v = before + 1; v <= sqlite::latest_schema_version(); ++v) applied.push_back(v);
  return applied;
}

DatabaseSummary sqlite_check_database(const std::string& file) {
  require_file(file, "file");
  Handle h(file, SQLITE_OPEN_READONLY);
  return summarize(h, file, "file");
}

DatabaseSummary sqlite_backup(const std::string& db, const std::string& dest, bool overwrite) {
  require_file(db, "database");
  std::error_code ec;
  if (fs::exists(dest, ec) && !overwrite) {
    throw StoreError(fmt::format("{} already exists (pass --overwrite to replace it)", dest));
  }
  if (fs::equivalent(db, dest, ec)) throw StoreError("the backup would overwrite the database");
  const std::string tmp = fmt::format("{}.partial-{}", dest, ::getpid());
  fs::remove(tmp, ec);
  try {
    {
      Handle source(db, SQLITE_OPEN_READWRITE);
      Handle copy(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
      copy_pages(source, copy, fmt::format("backup of {}", db));
      // One self-contained file: no -wal beside it to lose when it is copied elsewhere.
      copy.exec("PRAGMA journal_mode=DELETE");
    }
    DatabaseSummary summary;
    {
      Handle check(tmp, SQLITE_OPEN_READONLY);
      summary = summarize(check, tmp, "the backup");
    }
    fsync_path(tmp, false);
    fs::rename(tmp, dest);
    fsync_path(parent_of(dest), true);
    summary.bytes = static_cast<std::int64_t>(fs::file_size(dest, ec));
    return summary;
  } catch (const fs::filesystem_error& e) {
    fs::remove(tmp, ec);
    throw StoreError(fmt::format("backup to {}: {}", dest, e.what()));
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
}

RestoreResult sqlite_restore(const std::string& backup, const std::string& db) {
  const DatabaseSummary checked = sqlite_check_database(backup);
  std::error_code ec;
  if (fs::exists(db, ec) && fs::equivalent(backup, db, ec)) {
    throw StoreError("the backup is the database itself");
  }
  RestoreResult result;
  if (fs::exists(db, ec)) {
    // A target SQLite cannot read (the reason for many a restore) cannot take part in the
    // backup API's transaction: move it and its log aside, never delete it.
    bool readable = true;
    try {
      Handle probe(db, SQLITE_OPEN_READWRITE);
      probe.column("SELECT count(*) FROM sqlite_master");
    } catch (const StoreError&) {
      readable = false;
    }
    if (!readable) {
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      result.moved_aside = fmt::format("{}.unreadable-{}", db, now);
      fs::rename(db, result.moved_aside);
      for (const char* suffix : {"-wal", "-shm"}) {
        if (fs::exists(db + suffix, ec)) fs::rename(db + suffix, result.moved_aside + suffix);
      }
    }
  }
  {
    Handle source(backup, SQLITE_OPEN_READONLY);
    Handle target(db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    copy_pages(source, target, fmt::format("restore into {}", db));
    // Fold the restored pages into the main file now, so the file alone is the database.
    sqlite3_wal_checkpoint_v2(target.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  }
  {
    Handle check(db, SQLITE_OPEN_READWRITE);
    result.restored = summarize(check, db, "the restored database");
  }
  if (result.restored.schema_version != checked.schema_version ||
      result.restored.incidents != checked.incidents) {
    throw StoreError(fmt::format(
        "the restored database differs from the backup (schema {} vs {}, {} vs {} incidents)",
        result.restored.schema_version, checked.schema_version, result.restored.incidents,
        checked.incidents));
  }
  return result;
}

}  // namespace scribe
