// The SQLite store's readiness (Store::health) and its refusals when the file underneath
// is gone, replaced, read-only or damaged; SQLite's failures read as reasons; the
// database never mapped into memory. The PostgreSQL store's readiness when its server
// turns read-only or cannot be reached (PostgresHealthTest, on a database of its own). A full disk
// is shown end to end (tests/e2e/store_faults_e2e_test.cpp), with a file-size limit on the real
// process.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/postgres_connection.h"
#include "storage/sqlite_connection.h"
#include "storage/sqlite_health.h"
#include "storage/store.h"
#include "store_backends.h"
#include "test_support.h"

namespace scribe {
namespace {

namespace fs = std::filesystem;
using testing::HasSubstr;

Incident incident_titled(std::string title) {
  Incident i;
  i.channel = ChannelRef{"slack", "T0TEAM", "C0HEALTH"};
  i.title = std::move(title);
  i.commander = Person{"U0ALICE", "alice"};
  i.declared_at = test::utc(2026, 11, 20, 14, 0);
  return i;
}

class StoreHealthTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("scribe_health_", dir_));
    fs::create_directories(dir_ / "db");
    path_ = dir_ / "db" / "scribe.db";
    store_ = open_store(path_.string());
  }
  void TearDown() override {
    std::error_code ec;
    if (fs::exists(dir_ / "away")) fs::rename(dir_ / "away", dir_ / "db", ec);
    ::chmod(path_.c_str(), 0644);
    store_.reset();
    test::remove_temp_dir(dir_);
  }

  // A write, and what it threw (empty: it committed).
  std::string write(const std::string& title) {
    try {
      store_->write([&](Transaction& tx) { tx.insert_incident(incident_titled(title)); });
      return {};
    } catch (const StoreError& e) {
      return e.what();
    }
  }

  void expect_unready(const std::string& reason) {
    const StoreHealth h = store_->health();
    EXPECT_FALSE(h.ready);
    EXPECT_THAT(h.reason, HasSubstr(reason));
    EXPECT_THAT(write("refused"), HasSubstr(reason));
    EXPECT_THAT(store_->trouble(), HasSubstr(reason));
    EXPECT_FALSE(store_->healthy());
  }

  void expect_ready() {
    const StoreHealth h = store_->health();
    EXPECT_TRUE(h.ready) << h.reason;
    EXPECT_EQ(write("accepted"), "");
    EXPECT_EQ(store_->trouble(), "");
  }

  fs::path dir_;
  fs::path path_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreHealthTest, AHealthyStoreIsReadyAndItsProbeLeavesNothing) {
  expect_ready();
  expect_ready();
  int probes = -1;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM store_probe", -1, &s, nullptr), SQLITE_OK);
  if (sqlite3_step(s) == SQLITE_ROW) probes = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  EXPECT_EQ(probes, 0);
}

TEST_F(StoreHealthTest, ADirectoryMovedAwayRefusesWritesUntilItIsBack) {
  EXPECT_EQ(write("before"), "");
  fs::rename(dir_ / "db", dir_ / "away");
  expect_unready("is gone");
  fs::rename(dir_ / "away", dir_ / "db");
  expect_ready();
}

TEST_F(StoreHealthTest, AReplacedFileRefusesWrites) {
  fs::rename(dir_ / "db", dir_ / "away");
  fs::create_directories(dir_ / "db");
  fs::copy_file(dir_ / "away" / "scribe.db", path_);
  expect_unready("was replaced");
  fs::remove_all(dir_ / "db");
}

TEST_F(StoreHealthTest, AReadOnlyFileRefusesWritesUntilItIsWritable) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes to read-only files; run as a user";
  ASSERT_EQ(::chmod(path_.c_str(), 0444), 0);
  expect_unready("is read-only");
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  expect_ready();
}

TEST_F(StoreHealthTest, ADamagedHeaderRefusesWrites) {
  char saved[16];
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.read(saved, sizeof saved));
    f.seekp(0);
    f.write("not a database!!", 16);
  }
  expect_unready("is damaged");
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.write(saved, sizeof saved);
  }
  expect_ready();
}

// A damaged page is found by the read that meets it; from then on nothing is written (it
// could spread the damage) and the store stays unready, although a probe's small write
// could still succeed elsewhere in the file.
TEST_F(StoreHealthTest, ADamagedPageKeepsTheStoreUnreadyUntilARestart) {
  const std::string big(3000, 'x');
  for (int i = 0; i < 40; ++i) ASSERT_EQ(write(big + std::to_string(i)), "");
  store_.reset();  // checkpoints everything into the file
  const auto size = fs::file_size(path_);
  ASSERT_GT(size, 16u * 4096u);
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 8 * 4096));
    const std::string junk(8 * 4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  store_ = open_store(path_.string());
  EXPECT_THROW(store_->read([](Transaction& tx) { (void)tx.list_incidents(1000); }), StoreError);
  expect_unready("damaged");
  expect_unready("damaged");
}

// The same promises on PostgreSQL: ready with a probe that leaves nothing; a server that
// turns read-only, or stops taking connections, makes the store unready with that reason
// (health, the refused write, trouble) until it is back, with no restart.
class PostgresHealthTest : public testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::TestDatabase>(test::Backend::kPostgres);
    SCRIBE_REQUIRE_DATABASE(*db_);
    store_ = open_store(db_->location());
  }
  void TearDown() override {
    if (db_ && db_->problem().empty()) {
      // Whatever a test changed, so that the database can be dropped.
      admin(fmt::format("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true", db_->name()));
      admin(fmt::format("ALTER DATABASE {} RESET default_transaction_read_only", db_->name()));
    }
    store_.reset();
    db_.reset();
  }

  // Runs `sql` on the server outside the test's database, as its administrator would.
  void admin(const std::string& sql) {
    pg::Connection c(db_->admin_url());
    c.exec(sql);
  }
  // Closes the store's sessions: settings of the database apply to the next ones.
  void disconnect_store() {
    admin(fmt::format(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> "
        "pg_backend_pid()",
        db_->name()));
  }

  std::string write(const std::string& title) {
    try {
      store_->write([&](Transaction& tx) { tx.insert_incident(incident_titled(title)); });
      return {};
    } catch (const StoreError& e) {
      return e.what();
    }
  }
  void expect_unready(const std::string& reason) {
    const StoreHealth h = store_->health();
    EXPECT_FALSE(h.ready);
    EXPECT_THAT(h.reason, HasSubstr(reason));
    EXPECT_THAT(write("refused"), HasSubstr(reason));
    EXPECT_THAT(store_->trouble(), HasSubstr(reason));
    EXPECT_FALSE(store_->healthy());
  }
  void expect_ready() {
    const StoreHealth h = store_->health();
    EXPECT_TRUE(h.ready) << h.reason;
    EXPECT_EQ(write("accepted"), "");
    EXPECT_EQ(store_->trouble(), "");
  }

  std::unique_ptr<test::TestDatabase> db_;
  std::unique_ptr<Store> store_;
};

TEST_F(PostgresHealthTest, AHealthyStoreIsReadyAndItsProbeLeavesNothing) {
  expect_ready();
  expect_ready();
  EXPECT_EQ(db_->query_int("SELECT COUNT(*) FROM store_probe"), 0);
  EXPECT_EQ(db_->query_int("SELECT COUNT(*) FROM incidents"), 2);
}

TEST_F(PostgresHealthTest, AReadOnlyServerRefusesWritesUntilItIsWritable) {
  EXPECT_EQ(write("before"), "");
  admin(fmt::format("ALTER DATABASE {} SET default_transaction_read_only = on", db_->name()));
  disconnect_store();
  expect_unready("is read-only");
  // Reads go on meanwhile.
  std::size_t seen = 0;
  store_->read([&](Transaction& tx) { seen = tx.list_incidents(10).size(); });
  EXPECT_EQ(seen, 1u);
  admin(fmt::format("ALTER DATABASE {} RESET default_transaction_read_only", db_->name()));
  disconnect_store();
  expect_ready();
  EXPECT_EQ(db_->query_int("SELECT COUNT(*) FROM incidents WHERE title = 'refused'"), 0);
}

TEST_F(PostgresHealthTest, AnUnreachableServerRefusesWritesUntilItIsBack) {
  EXPECT_EQ(write("before"), "");
  admin(fmt::format("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false", db_->name()));
  disconnect_store();
  expect_unready("cannot be reached");
  admin(fmt::format("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true", db_->name()));
  expect_ready();
  EXPECT_EQ(db_->query_int("SELECT COUNT(*) FROM incidents WHERE title = 'refused'"), 0);
}

TEST(SqliteFailureTest, SqliteAnswersReadAsReasons) {
  using sqlite::storage_failure;
  EXPECT_THAT(storage_failure(SQLITE_FULL, 0).value_or(""), HasSubstr("the disk is full"));
  EXPECT_THAT(storage_failure(SQLITE_IOERR_WRITE, ENOSPC).value_or(""),
              HasSubstr("the disk is full"));
  EXPECT_THAT(storage_failure(SQLITE_IOERR_WRITE, EFBIG).value_or(""),
              HasSubstr("the disk is full"));
  EXPECT_THAT(storage_failure(SQLITE_IOERR_READ, EIO).value_or(""), HasSubstr("I/O error"));
  EXPECT_THAT(storage_failure(SQLITE_IOERR_WRITE, 0).value_or(""),
              HasSubstr("the disk is full or failing"));
  EXPECT_THAT(storage_failure(SQLITE_READONLY, 0).value_or(""), HasSubstr("read-only"));
  EXPECT_THAT(storage_failure(SQLITE_CORRUPT, 0).value_or(""), HasSubstr("damaged"));
  EXPECT_THAT(storage_failure(SQLITE_NOTADB, 0).value_or(""), HasSubstr("damaged"));
  EXPECT_TRUE(sqlite::lasting(SQLITE_CORRUPT));
  EXPECT_FALSE(sqlite::lasting(SQLITE_FULL));
  // A command's own failure is not the store's.
  EXPECT_FALSE(storage_failure(SQLITE_CONSTRAINT, 0));
  EXPECT_FALSE(storage_failure(SQLITE_OK, 0));
  EXPECT_FALSE(storage_failure(SQLITE_ERROR, 0));
}

TEST(SqliteFailureTest, AConditionEndsUnlessItIsLasting) {
  sqlite::Condition c;
  EXPECT_EQ(c.reason(), "");
  c.fail("the disk is full");
  EXPECT_EQ(c.reason(), "the disk is full");
  c.recovered();
  EXPECT_EQ(c.reason(), "");
  c.fail("the database file is damaged", /*lasting=*/true);
  c.fail("the disk is full");  // does not replace a lasting reason
  c.recovered();
  EXPECT_EQ(c.reason(), "the database file is damaged");
  EXPECT_EQ(c.lasting_reason(), "the database file is damaged");
}

// The database file is read, never mapped: a file cut short underneath is an error, not
// a SIGBUS.
TEST(SqliteConnectionTest, TheDatabaseIsNotMemoryMapped) {
  fs::path dir;
  ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("scribe_mmap_", dir));
  {
    sqlite::Connection c((dir / "x.db").string(), SqliteOptions{});
    sqlite::Stmt s = c.prepare("PRAGMA mmap_size");
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.i64(0), 0);
  }
  test::remove_temp_dir(dir);
}

}  // namespace
}  // namespace scribe
