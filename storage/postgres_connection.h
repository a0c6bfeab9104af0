// Private to the PostgreSQL backend (storage/postgres_*.cpp): one libpq connection with its
// prepared statements, and the statement wrapper that binds values and reads columns. The
// SQL is written with SQLite's placeholders (`?`, `?N`), turned into PostgreSQL's ($1, $N)
// once when a statement is prepared, so the two backends' queries read alike. Every libpq
// failure becomes a StoreError here (PgError, with the server's SQLSTATE), so nothing above
// sees a result code. libpq is used only in storage/postgres_*, through the table loaded at
// the first connection (storage/postgres_libpq.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/model.h"
#include "storage/postgres_libpq.h"
#include "storage/store.h"

namespace scribe::pg {

// Timestamps are stored as milliseconds since the Unix epoch (BIGINT), as in SQLite.
inline std::int64_t to_ms(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp from_ms(std::int64_t ms) { return Timestamp{std::chrono::milliseconds{ms}}; }

// A failure PostgreSQL reported, with its SQLSTATE ("" when the connection itself failed).
class PgError : public StoreError {
 public:
  PgError(const std::string& what, std::string sqlstate, bool connection_lost)
      : StoreError(what), sqlstate_(std::move(sqlstate)), connection_lost_(connection_lost) {}
  const std::string& sqlstate() const { return sqlstate_; }
  bool connection_lost() const { return connection_lost_; }

 private:
  std::string sqlstate_;
  bool connection_lost_;
};

// `url` with any password replaced, for messages and logs.
std::string redact_url(std::string_view url);

// The SQL with `?` and `?N` placeholders as PostgreSQL's $n (outside quoted text).
std::string numbered_placeholders(std::string_view sql);

// The result of one statement; rows are read by index.
class Result {
 public:
  Result() = default;
  explicit Result(PGresult* r) : r_(r) {}
  int rows() const { return r_ ? libpq().PQntuples(r_.get()) : 0; }
  bool is_null(int row, int col) const { return libpq().PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view value(int row, int col) const {
    return {libpq().PQgetvalue(r_.get(), row, col),
            static_cast<std::size_t>(libpq().PQgetlength(r_.get(), row, col))};
  }
  // Rows an INSERT, UPDATE or DELETE changed.
  std::int64_t affected() const;

 private:
  struct Clear {
    void operator()(PGresult* r) const { libpq().PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> r_;
};

class Connection;

// A prepared statement with its parameters; runs at the first step() or run(). The same
// calls as the SQLite backend's Stmt, so the two transaction classes read alike.
class Stmt {
 public:
  Stmt(Connection& c, const std::string& name) : c_(c), name_(name) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::int64_t v) { return set(i, std::to_string(v)); }
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, std::string_view v) { return set(i, std::string(v)); }
  Stmt& bind(int i, const std::string& v) { return set(i, v); }
  Stmt& bind(int i, const char* v) { return set(i, std::string(v)); }
  Stmt& bind(int i, Timestamp t) { return bind(i, to_ms(t)); }
  Stmt& bind_null(int i) { return set(i, std::nullopt); }
  template <typename T>
  Stmt& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind_null(i);
  }
  // A person fills two columns, id at `i` and name at `i + 1`, both NULL when absent.
  Stmt& bind_person(int i, const std::optional<Person>& p) {
    return p ? bind(i, p->id).bind(i + 1, p->name) : bind_null(i).bind_null(i + 1);
  }

  // True while there is a row to read (the first call runs the statement).
  bool step();
  void run() { execute(); }
  // Rows the statement changed (runs it if it has not run).
  std::int64_t affected() {
    execute();
    return result_.affected();
  }

  std::int64_t i64(int col) const;
  bool is_null(int col) const { return result_.is_null(row_, col); }
  std::string text(int col) const {
    return is_null(col) ? std::string() : std::string(result_.value(row_, col));
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
  Stmt& set(int i, std::optional<std::string> v) {
    if (static_cast<std::size_t>(i) > params_.size()) params_.resize(static_cast<std::size_t>(i));
    params_[static_cast<std::size_t>(i - 1)] = std::move(v);
    return *this;
  }
  void execute();

  Connection& c_;
  const std::string& name_;
  std::vector<std::optional<std::string>> params_;
  Result result_;
  bool executed_ = false;
  int row_ = -1;
};

// One libpq connection with its prepared statements (they live per connection, and are
// prepared again after a reconnect). Not thread-safe: each user holds it under its own
// lock or owns it on one thread.
class Connection {
 public:
  // Connects to `url` (handed to libpq unchanged, so TLS and every other option of the
  // URL apply). Throws PgError when it cannot, naming the server but not the password.
  explicit Connection(std::string url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Prepared once per connection: the hot path never sends SQL text again.
  Stmt prepare(std::string_view sql);
  // Runs SQL text (several statements allowed, no parameters).
  void exec(std::string_view sql);
  // For rollbacks on an error path, where a second error must not mask the first.
  void exec_quietly(const char* sql);

  // Whether the connection is still up; a lost one is reconnected by reset().
  bool broken() const { return conn_ == nullptr || libpq().PQstatus(conn_) == CONNECTION_BAD; }
  // Reconnects a broken connection (its prepared statements are gone with it). Throws
  // PgError when the server cannot be reached.
  void reset();
  // Whether a transaction is open (or failed and awaiting its ROLLBACK).
  bool in_transaction() const;

  const std::string& url() const { return url_; }
  PGconn* raw() const { return conn_; }

  // Turns a failed result (or none) into PgError; returns `r` when it succeeded.
  Result check(PGresult* r, std::string_view what);

 private:
  friend class Stmt;
  void connect();

  std::string url_;
  PGconn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> statements_;  // SQL -> name
};

}  // namespace scribe::pg
