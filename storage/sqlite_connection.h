// Private to the SQLite backend (storage/sqlite_*.cpp): one connection with its cache of
// prepared statements, and the statement wrapper that binds values and reads columns.
// Every SQLite error becomes a StoreError here, so nothing above sees a return code.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "storage/model.h"
#include "storage/sqlite_store.h"
#include "storage/store.h"

namespace scribe::sqlite {

// Timestamps are stored as milliseconds since the Unix epoch.
inline std::int64_t to_ms(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp from_ms(std::int64_t ms) { return Timestamp{std::chrono::milliseconds{ms}}; }

// A prepared statement owned by the connection's cache; reset after each use.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Stmt() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(stmt_, i, v));
    return *this;
  }
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, std::string_view v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, Timestamp t) { return bind(i, to_ms(t)); }
  Stmt& bind_null(int i) {
    check(sqlite3_bind_null(stmt_, i));
    return *this;
  }
  template <typename T>
  Stmt& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind_null(i);
  }
  // A person fills two columns, id at `i` and name at `i + 1`, both NULL when absent.
  Stmt& bind_person(int i, const std::optional<Person>& p) {
    return p ? bind(i, p->id).bind(i + 1, p->name) : bind_null(i).bind_null(i + 1);
  }

  // True while there is a row to read.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(fmt::format("sqlite step: {}", sqlite3_errmsg(db_)));
  }
  void run() {
    while (step()) {
    }
  }

  std::int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::optional<std::string> opt_text(int col) const {
    if (is_null(col)) return std::nullopt;
    return text(col);
  }
  Timestamp time(int col) const { return from_ms(i64(col)); }
  std::optional<Timestamp> opt_time(int col) const {
    if (is_null(col)) return std::nullopt;
    return time(col);
  }

 private:
  void check(int rc) const {
    if (rc != SQLITE_OK) throw StoreError(fmt::format("sqlite bind: {}", sqlite3_errmsg(db_)));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// One SQLite handle with its prepared-statement cache. Not thread-safe: each user
// holds it under its own lock (or owns it on one thread).
class Connection {
 public:
  Connection(const std::string& path, const SqliteOptions& options) {
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw StoreError(fmt::format("cannot open SQLite database {}: {}", path, msg));
    }
    try {
      sqlite3_busy_timeout(db_, 5000);
      exec("PRAGMA journal_mode=WAL");
      exec(fmt::format("PRAGMA synchronous={}", options.synchronous));
      exec("PRAGMA foreign_keys=ON");
      // Checkpoints run on their own thread (SqliteStore::checkpoint_loop), so that no
      // command waits while the log is copied into the database.
      exec("PRAGMA wal_autocheckpoint=0");
      // The database file is read with read(), never mapped: a file truncated or damaged
      // underneath gives an error, not a SIGBUS. (The WAL index, -shm, is mapped; see
      // bot/main.cpp for the SIGBUS that a truncated -shm would raise.)
      exec("PRAGMA mmap_size=0");
    } catch (...) {
      close();  // the destructor does not run for a constructor that throws
      throw;
    }
  }
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Statements are prepared once and kept: the hot path never parses SQL.
  Stmt prepare(std::string_view sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                             SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
        throw StoreError(fmt::format("sqlite prepare: {} in: {}", sqlite3_errmsg(db_), sql));
      }
      it = statements_.emplace(std::string(sql), stmt).first;
    }
    return Stmt(db_, it->second);
  }

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw StoreError(fmt::format("sqlite: {} in: {}", msg, sql.substr(0, 80)));
    }
  }
  // For rollbacks on an error path, where a second error must not mask the first.
  void exec_quietly(const char* sql) { sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }

  sqlite3* db() const { return db_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  void close() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    statements_.clear();
    sqlite3_close(db_);
    db_ = nullptr;
  }

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*, Hash, std::equal_to<>> statements_;
};

}  // namespace scribe::sqlite
