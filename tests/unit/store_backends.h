// The storage backends the store tests run against, each test on a fresh database: SQLite
// on a file in a scratch directory, PostgreSQL on a database created for the test (and
// dropped after it) on the server SCRIBE_TEST_POSTGRES_URL names (deploy/postgres-test.sh
// starts a throwaway one; deploy/test.sh always does). Without that variable the
// PostgreSQL cases skip, visibly; under CI=true they fail instead, so CI cannot pass
// without running them.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "storage/postgres_connection.h"
#include "support/database_url.h"
#include "test_support.h"

namespace scribe::test {

enum class Backend { kSqlite, kPostgres };

inline std::string backend_name(const testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgres";
}

// The PostgreSQL server for tests, or empty.
inline std::string postgres_test_url() {
  const char* url = std::getenv("SCRIBE_TEST_POSTGRES_URL");
  return url ? url : "";
}

// One fresh database of one backend, removed with this object.
class TestDatabase {
 public:
  explicit TestDatabase(Backend backend) : backend_(backend) {
    if (backend == Backend::kSqlite) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "scribe_store_XXXXXX").string();
      if (mkdtemp(tmpl.data()) == nullptr) {
        problem_ = "cannot create a scratch directory";
        return;
      }
      dir_ = tmpl;
      location_ = (dir_ / "scribe.db").string();
      return;
    }
    admin_url_ = postgres_test_url();
    if (admin_url_.empty()) {
      problem_ =
          "SCRIBE_TEST_POSTGRES_URL is not set: PostgreSQL cases skipped (eval \"$(bash "
          "deploy/postgres-test.sh start)\" provides one)";
      return;
    }
    static std::atomic<int> counter{0};
    name_ = fmt::format("scribe_test_{}_{}", ::getpid(), counter++);
    try {
      pg::Connection admin(admin_url_);
      admin.exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name_));
      admin.exec(fmt::format("CREATE DATABASE {}", name_));
    } catch (const std::exception& e) {
      problem_ = e.what();
      return;
    }
    location_ = with_database(admin_url_, name_);
  }

  ~TestDatabase() {
    if (backend_ == Backend::kSqlite) {
      if (!dir_.empty()) remove_temp_dir(dir_);
      return;
    }
    if (name_.empty() || location_.empty()) return;
    try {
      pg::Connection admin(admin_url_);
      admin.exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name_));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "dropping " << name_ << ": " << e.what();
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // Empty when the database is ready, else why not.
  const std::string& problem() const { return problem_; }
  Backend backend() const { return backend_; }
  // What open_store takes: a file path or a postgresql:// URL.
  const std::string& location() const { return location_; }
  // PostgreSQL: the database's name; the server's URL for statements run outside it.
  const std::string& name() const { return name_; }
  const std::string& admin_url() const { return admin_url_; }
  const std::filesystem::path& dir() const { return dir_; }

  // One integer, read over a connection of its own, as another process would.
  std::int64_t query_int(const std::string& sql) const {
    if (backend_ == Backend::kPostgres) {
      try {
        pg::Connection c(location_);
        pg::Stmt s = c.prepare(sql);
        if (!s.step() || s.is_null(0)) return -1;
        return s.i64(0);
      } catch (const std::exception& e) {
        ADD_FAILURE() << sql << ": " << e.what();
        return -1;
      }
    }
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(location_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    std::int64_t v = -1;
    if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
  }

  // Runs SQL text over a connection of its own.
  void exec(const std::string& sql) const {
    if (backend_ == Backend::kPostgres) {
      try {
        pg::Connection c(location_);
        c.exec(sql);
      } catch (const std::exception& e) {
        ADD_FAILURE() << sql << ": " << e.what();
      }
      return;
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(location_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

 private:
  Backend backend_;
  std::string problem_;
  std::filesystem::path dir_;
  std::string location_;
  std::string name_;
  std::string admin_url_;
};

// Call in SetUp: skips the test (or, under CI=true, fails it) when `db` is not ready.
#define SCRIBE_REQUIRE_DATABASE(db)                                             \
  do {                                                                          \
    if (!(db).problem().empty()) {                                              \
      const char* ci = std::getenv("CI");                                       \
      if (ci != nullptr && std::string(ci) == "true") FAIL() << (db).problem(); \
      GTEST_SKIP() << (db).problem();                                           \
    }                                                                           \
  } while (0)

}  // namespace scribe::test
