// The storage backends through the Store interface, each test on a fresh database of each
// backend (StoreTest, parametrised: SQLite files and PostgreSQL databases, see
// store_backends.h): migrations, atomic transactions, read-only snapshots, numbering,
// ordering, round-trips, group commit and the purge of replay keys. SqliteStoreTest and
// PostgresStoreTest hold what only one backend has.
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/connection_pool.h"
#include "storage/postgres_schema.h"
#include "storage/postgres_store.h"
#include "storage/sqlite_schema.h"
#include "storage/sqlite_store.h"
#include "storage/store.h"
#include "store_backends.h"
#include "test_support.h"

namespace scribe {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using test::utc;
using testing::HasSubstr;

const Timestamp kT0 = utc(2026, 11, 20, 14, 0, 0, 250);
const Person kAlice{"U0ALICE", "alice"};
const Person kBob{"U0BOB", "bob"};
const ChannelRef kChannel{"slack", "T0TEAM", "C0INC"};

Incident make_incident(std::string title, ChannelRef channel = kChannel, Timestamp at = kT0) {
  Incident i;
  i.channel = std::move(channel);
  i.title = std::move(title);
  i.severity = Severity::kSev2;
  i.status = IncidentStatus::kOpen;
  i.commander = kAlice;
  i.declared_at = at;
  return i;
}

TimelineEvent make_event(IncidentId incident, std::string text, Timestamp at,
                         EventKind kind = EventKind::kNote) {
  TimelineEvent e;
  e.incident_id = incident;
  e.kind = kind;
  e.occurred_at = at;
  e.recorded_at = kT0 + hours{1};
  e.author = kAlice;
  e.text = std::move(text);
  return e;
}

ActionItem make_action(IncidentId incident, std::string text) {
  ActionItem a;
  a.incident_id = incident;
  a.text = std::move(text);
  a.created_by = kAlice;
  a.created_at = kT0;
  return a;
}

// SQL that takes a database back to before migration 18 (draft versions): its triggers
// and table.
std::string drop_draft_versions() {
  std::string sql;
  for (const char* name : {"draft_versions_incident_insert",
                           "draft_versions_incident_update",
                           "draft_versions_incident_delete",
                           "draft_versions_event_insert",
                           "draft_versions_event_update",
                           "draft_versions_event_delete",
                           "draft_versions_note_insert",
                           "draft_versions_note_update",
                           "draft_versions_note_delete",
                           "draft_versions_action_insert",
                           "draft_versions_action_update",
                           "draft_versions_action_delete",
                           "draft_versions_action_revision_insert",
                           "draft_versions_action_revision_update",
                           "draft_versions_action_revision_delete",
                           "draft_versions_approval_insert",
                           "draft_versions_approval_update",
                           "draft_versions_approval_delete",
                           "draft_versions_zone_insert",
                           "draft_versions_zone_update",
                           "draft_versions_zone_delete"}) {
    sql += fmt::format("DROP TRIGGER {};", name);
  }
  return sql + "DROP TABLE draft_versions;";
}

using test::Backend;

// A fresh database of backend() and a store open on it.
class StoreFixture : public testing::Test {
 protected:
  virtual Backend backend() const = 0;

  void SetUp() override {
    db_ = std::make_unique<test::TestDatabase>(backend());
    SCRIBE_REQUIRE_DATABASE(*db_);
    path_ = db_->location();
    store_ = open_store(path_);
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
  }

  void reopen() {
    store_.reset();
    store_ = open_store(path_);
  }

  // The schema version this build migrates the backend to.
  int latest_version() const {
    return backend() == Backend::kSqlite ? sqlite::latest_schema_version()
                                         : pg::latest_schema_version();
  }

  IncidentId insert(const Incident& i) {
    IncidentId id = 0;
    store_->write([&](Transaction& tx) { id = tx.insert_incident(i); });
    return id;
  }
  TimelineEvent append(const TimelineEvent& e) {
    TimelineEvent out;
    store_->write([&](Transaction& tx) { out = tx.append_event(e); });
    return out;
  }
  std::vector<TimelineEvent> events(IncidentId id, bool include_deleted = false) {
    std::vector<TimelineEvent> out;
    store_->read([&](Transaction& tx) { out = tx.events(id, include_deleted); });
    return out;
  }
  std::vector<Incident> list(int limit = 100) {
    std::vector<Incident> out;
    store_->read([&](Transaction& tx) { out = tx.list_incidents(limit); });
    return out;
  }

  // Reads one integer with a separate connection, as another process would.
  std::int64_t query_int(const std::string& sql) { return db_->query_int(sql); }
  void exec_raw(const std::string& sql) { db_->exec(sql); }

  std::unique_ptr<test::TestDatabase> db_;
  std::string path_;  // the file or the URL
  std::unique_ptr<Store> store_;
};

class StoreTest : public StoreFixture, public testing::WithParamInterface<Backend> {
 protected:
  Backend backend() const override { return GetParam(); }
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, testing::Values(Backend::kSqlite, Backend::kPostgres),
                         test::backend_name);

class SqliteStoreTest : public StoreFixture {
 protected:
  Backend backend() const override { return Backend::kSqlite; }
  const std::filesystem::path& dir() const { return db_->dir(); }
};

class PostgresStoreTest : public StoreFixture {
 protected:
  Backend backend() const override { return Backend::kPostgres; }
};

// ---------------------------------------------------------------------------- opening

TEST_P(StoreTest, MigrationsAreAppliedOnce) {
  EXPECT_EQ(query_int("SELECT COUNT(*) FROM schema_migrations"), latest_version());
  EXPECT_EQ(query_int("SELECT MAX(version) FROM schema_migrations"), latest_version());
  const IncidentId id = insert(make_incident("DB down"));

  reopen();
  reopen();
  EXPECT_EQ(query_int("SELECT COUNT(*) FROM schema_migrations"), latest_version());
  EXPECT_EQ(query_int("SELECT MAX(version) FROM schema_migrations"), latest_version());
  const auto all = list();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, id);
  EXPECT_EQ(all[0].title, "DB down");
}

TEST_P(StoreTest, NewerSchemaIsRefused) {
  store_.reset();
  exec_raw("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)");
  try {
    open_store(path_);
    FAIL() << "opened a database from a newer build";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("newer"));
    EXPECT_THAT(e.what(), HasSubstr("99"));
  }
}

// Outbox rows written before jobs had a kind: fetches were queued for a made-up platform,
// joins and updates were posts with a telling content. Migration 4 gives each its kind.
TEST_F(SqliteStoreTest, OutboxRowsFromBeforeJobKindsGetTheirKind) {
  store_.reset();
  exec_raw(
      // Back to version 3: undo the later migrations' tables and columns too.
      drop_draft_versions() +
      "ALTER TABLE outbox DROP COLUMN in_doubt; ALTER TABLE outbox DROP COLUMN claim_expires_at;"
      "ALTER TABLE outbox DROP COLUMN claimed_by;"
      "DROP TABLE store_probe;"
      "DROP TABLE publications; DROP TABLE IF EXISTS stream_positions;"
      "DROP TABLE held_alerts;"
      "DROP INDEX actions_by_tracker_key; ALTER TABLE actions DROP COLUMN tracker_url;"
      "ALTER TABLE actions DROP COLUMN tracker_key; ALTER TABLE events DROP COLUMN links; DROP "
      "INDEX channel_zones_by_channel;"
      "DROP TABLE channel_zones;"
      "DROP INDEX inbound_deliveries_expiring; ALTER TABLE inbound_deliveries DROP COLUMN answer;"
      "ALTER TABLE inbound_deliveries DROP COLUMN expires_at;"
      "DROP TABLE postmortem_approvals; ALTER TABLE incidents DROP COLUMN postmortem_status;"
      "ALTER TABLE incidents DROP COLUMN closed_anyway;"
      "ALTER TABLE incidents DROP COLUMN postmortem_owner_id;"
      "ALTER TABLE incidents DROP COLUMN postmortem_owner_name;"
      "DROP INDEX actions_by_owner; DROP INDEX action_revisions_by_action;"
      "DROP TABLE action_revisions; ALTER TABLE actions DROP COLUMN drop_reason;"
      "ALTER TABLE outbox DROP COLUMN kind; DELETE FROM schema_migrations WHERE version >= 4;"
      "INSERT INTO outbox (id, platform, workspace, channel, content, status, created_at, "
      "next_attempt_at) VALUES "
      "(1, 'slack-fetch', 'T1', 'C1', '{\"message_id\":\"1.2\"}', 'pending', 0, 0),"
      "(2, 'matrix-fetch', 'hs', '!r:hs', '{\"event_id\":\"$e\"}', 'pending', 0, 0),"
      "(3, 'matrix', 'hs', '!r:hs', '{\"join\":\"!r:hs\"}', 'sent', 0, 0),"
      "(4, 'slack', 'T1', 'C1', '{\"text\":\"done\",\"replaces\":\"1.2\"}', 'pending', 0, 0),"
      "(5, 'slack', 'T1', 'C1', '{\"text\":\"new\"}', 'pending', 0, 0),"
      "(6, 'slack', 'T1', 'C1', '{\"text\":\"new\",\"replaces\":\"\"}', 'pending', 0, 0)");
  store_ = open_store(path_);
  EXPECT_EQ(query_int("SELECT MAX(version) FROM schema_migrations"), latest_version());
  const std::vector<std::pair<ChannelRef, JobKind>> expected = {
      {{"slack", "T1", "C1"}, JobKind::kFetch},    {{"matrix", "hs", "!r:hs"}, JobKind::kFetch},
      {{"matrix", "hs", "!r:hs"}, JobKind::kJoin}, {{"slack", "T1", "C1"}, JobKind::kUpdate},
      {{"slack", "T1", "C1"}, JobKind::kPost},     {{"slack", "T1", "C1"}, JobKind::kPost},
  };
  store_->read([&](Transaction& tx) {
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const auto m = tx.find_outbox(static_cast<std::int64_t>(i + 1));
      ASSERT_TRUE(m.has_value()) << i + 1;
      EXPECT_EQ(m->channel, expected[i].first) << i + 1;
      EXPECT_EQ(m->kind, expected[i].second) << i + 1;
    }
  });
}

// A channel's posts go out in order, but a fetch (reading a marked message back) neither
// waits behind them nor holds them up.
TEST_P(StoreTest, FetchJobsAreALaneOfTheirOwnInAChannel) {
  const ChannelRef channel{"slack", "T1", "C1"};
  auto job = [&](JobKind kind, std::string key) {
    OutboxMessage m;
    m.channel = channel;
    m.kind = kind;
    m.content = "{}";
    m.dedupe_key = std::move(key);
    m.created_at = kT0;
    m.next_attempt_at = kT0;
    return m;
  };
  store_->write([&](Transaction& tx) {
    tx.enqueue(job(JobKind::kPost, "post-1"));
    tx.enqueue(job(JobKind::kFetch, "fetch-1"));
    tx.enqueue(job(JobKind::kUpdate, "update-1"));
    tx.enqueue(job(JobKind::kFetch, "fetch-2"));
  });
  std::vector<OutboxMessage> due;
  store_->read([&](Transaction& tx) { due = tx.due_outbox(kT0, 10); });
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].dedupe_key, "post-1");
  EXPECT_EQ(due[0].kind, JobKind::kPost);
  EXPECT_EQ(due[1].dedupe_key, "fetch-1");
  EXPECT_EQ(due[1].kind, JobKind::kFetch);
}

TEST_F(SqliteStoreTest, UsesWalMode) {
  std::string mode;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    mode = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  EXPECT_EQ(mode, "wal");
}

TEST_F(SqliteStoreTest, SynchronousOptionIsValidated) {
  store_.reset();
  for (const char* ok : {"full", "normal"}) {
    EXPECT_NO_THROW(open_store(path_, StoreOptions{ok})) << ok;
    SqliteOptions options;
    options.synchronous = ok;
    EXPECT_NO_THROW(open_sqlite_store(path_, options)) << ok;
  }
  const std::string fresh = (dir() / "fresh.db").string();
  for (const char* bad : {"off", "FULL", "", "full; DROP TABLE incidents"}) {
    try {
      open_store(fresh, StoreOptions{bad});
      ADD_FAILURE() << "accepted synchronous=" << bad;
    } catch (const StoreError& e) {
      EXPECT_THAT(e.what(), HasSubstr("'full' or 'normal'"));
      EXPECT_THAT(e.what(), HasSubstr(std::string("'") + bad + "'"));
    }
    // A refused option leaves no file behind.
    EXPECT_FALSE(std::filesystem::exists(fresh)) << bad;
  }
  // The good file is still fine.
  store_ = open_store(path_);
  EXPECT_TRUE(store_->healthy());
}

TEST_F(SqliteStoreTest, UnopenablePathIsAStoreError) {
  EXPECT_THROW(open_store((dir() / "no" / "such" / "dir" / "x.db").string()), StoreError);
}

// Descriptors this process holds on `file`: SQLite opens the database once per connection,
// and the store's file watch (sqlite_health.h) holds one more.
int descriptors_on(const std::filesystem::path& file) {
  int n = 0;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    std::error_code gone;  // the iterator's own descriptor may be closed by now
    if (std::filesystem::read_symlink(fd.path(), gone) == file) ++n;
  }
  return n;
}

// An idle store holds its writer's connection alone; reads open theirs as they need them,
// never more than one per reader thread and one for blocking reads, and keep them.
TEST_F(SqliteStoreTest, ReadConnectionsAreOpenedWhenReadsNeedThem) {
  const std::filesystem::path file = dir() / "lazy.db";
  SqliteOptions options;
  options.reader_threads = 2;
  auto store = open_sqlite_store(file.string(), options);
  EXPECT_EQ(descriptors_on(file), 2) << "the writer's connection and the file watch";

  store->read([](Transaction& tx) { tx.list_incidents(1); });
  EXPECT_EQ(descriptors_on(file), 3);
  store->read([](Transaction& tx) { tx.list_incidents(1); });
  EXPECT_EQ(descriptors_on(file), 3) << "a free connection is used again";

  // Five reads at once: three connections open (two reader threads and one more), the
  // other reads wait for one of them and then all complete.
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0;
  bool release = false;
  std::vector<std::thread> readers;
  for (int i = 0; i < 5; ++i) {
    readers.emplace_back([&] {
      store->read([&](Transaction& tx) {
        tx.list_incidents(1);
        std::unique_lock lock(mu);
        ++inside;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
      });
    });
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return inside == 3; });
    EXPECT_EQ(descriptors_on(file), 5);
    release = true;
  }
  cv.notify_all();
  for (auto& t : readers) t.join();
  EXPECT_EQ(inside, 5);
  EXPECT_EQ(descriptors_on(file), 5);
}

// The maintenance thread copies the log into the database when something was committed
// since its last checkpoint, and only then opens the connection it checkpoints with.
TEST_F(SqliteStoreTest, TheLogIsCheckpointedWhenSomethingWasCommitted) {
  const std::filesystem::path file = dir() / "checkpointed.db";
  struct Rounds {
    std::mutex mu;
    std::condition_variable cv;
    int done = 0;
  };
  auto rounds = std::make_shared<Rounds>();
  SqliteOptions options;
  options.maintenance_interval = milliseconds{20};
  options.on_purge = [rounds](std::int64_t) {
    {
      std::lock_guard lock(rounds->mu);
      ++rounds->done;
    }
    rounds->cv.notify_all();
  };
  auto store = open_sqlite_store(file.string(), options);
  const auto wait_rounds = [&](int n) {
    std::unique_lock lock(rounds->mu);
    const int until = rounds->done + n;
    return rounds->cv.wait_for(lock, std::chrono::seconds(30),
                               [&] { return rounds->done >= until; });
  };
  ASSERT_TRUE(wait_rounds(3));
  EXPECT_EQ(descriptors_on(file), 2) << "nothing committed: no checkpoint, no connection for it";

  const auto before = std::filesystem::file_size(file);
  // Larger than the free room the migrations left in the file: the checkpoint grows it.
  store->write(
      [](Transaction& tx) { tx.insert_incident(make_incident(std::string(200000, 'x'))); });
  // Three purges completed after the commit: the round that started the last of them
  // began after the commit and checkpointed first.
  ASSERT_TRUE(wait_rounds(3));
  EXPECT_GT(std::filesystem::file_size(file), before + 100000);
  EXPECT_EQ(descriptors_on(file), 3);
}

// A connection that cannot be opened fails the read that wanted it, and the next read
// tries again.
TEST(ConnectionPoolTest, AFailedOpenFailsThatReadAndLeavesRoomForTheNext) {
  int opens = 0;
  bool fail = true;
  ConnectionPool<int> pool(
      [&] {
        ++opens;
        if (fail) throw StoreError("cannot open");
        return std::make_unique<int>(opens);
      },
      1);
  EXPECT_THROW(ConnectionPool<int>::Lease lease(pool), StoreError);
  EXPECT_EQ(pool.opened(), 0u);
  fail = false;
  {
    ConnectionPool<int>::Lease lease(pool);
    EXPECT_EQ(lease.connection(), 2);
  }
  ConnectionPool<int>::Lease again(pool);
  EXPECT_EQ(again.connection(), 2);
  EXPECT_EQ(pool.opened(), 1u);
  EXPECT_EQ(opens, 2);
}

// An unreachable server is a StoreError that names it, without its password.
TEST(PostgresOpenTest, UnreachableServerIsAClearErrorWithoutThePassword) {
  for (const char* url : {"postgresql://scribe:s3cret@127.0.0.1:1/scribe",
                          "postgres://scribe:s3cret@127.0.0.1:1/scribe?sslmode=disable"}) {
    try {
      open_store(url);
      ADD_FAILURE() << "opened " << url;
    } catch (const StoreError& e) {
      EXPECT_THAT(e.what(), HasSubstr("cannot connect to PostgreSQL at "));
      EXPECT_THAT(e.what(), HasSubstr("://scribe@127.0.0.1:1/scribe"));
      EXPECT_THAT(e.what(), testing::Not(HasSubstr("s3cret")));
    }
  }
}

TEST(PostgresOpenTest, PoolSizeIsValidated) {
  for (int bad : {0, -1, 101}) {
    StoreOptions options;
    options.db_pool_size = bad;
    EXPECT_THROW(open_store("postgresql://scribe@127.0.0.1:1/scribe", options), StoreError) << bad;
  }
}

// The URL goes to libpq unchanged: its TLS options apply (the test server has no TLS, so
// requiring it fails, with libpq's reason).
TEST_F(PostgresStoreTest, TlsOptionsOfTheUrlReachLibpq) {
  try {
    open_store(path_ + (path_.find('?') == std::string::npos ? "?" : "&") + "sslmode=require");
    FAIL() << "connected with sslmode=require to a server without TLS";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("SSL"));
  }
}

// Replicas that start together on a new database: one applies the migrations, the others
// wait for its advisory lock and find nothing left to do.
TEST_F(PostgresStoreTest, ReplicasStartingTogetherMigrateOnce) {
  test::TestDatabase fresh(Backend::kPostgres);
  ASSERT_EQ(fresh.problem(), "");
  std::vector<std::thread> replicas;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    replicas.emplace_back([&] {
      try {
        auto store = open_store(fresh.location());
        store->write([](Transaction& tx) { tx.insert_incident(make_incident("replica")); });
        ++opened;
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : replicas) t.join();
  EXPECT_EQ(opened.load(), 4);
  EXPECT_EQ(fresh.query_int("SELECT COUNT(*) FROM schema_migrations"), latest_version());
  EXPECT_EQ(fresh.query_int("SELECT COUNT(*) FROM incidents"), 4);
}

// A connection the server closed (a restart, a failover, an administrator) is replaced at
// its next use; the write that finds it closed still succeeds.
TEST_F(PostgresStoreTest, ConnectionsTheServerClosedAreReplaced) {
  insert(make_incident("before"));
  EXPECT_EQ(list().size(), 1u);
  pg::Connection admin(db_->admin_url());
  admin.exec(fmt::format(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'", db_->name()));
  insert(make_incident("after"));
  EXPECT_EQ(list().size(), 2u);
  EXPECT_TRUE(store_->health().ready);
}

OutboxMessage due_job(std::string channel, Timestamp at) {
  OutboxMessage m;
  m.channel = ChannelRef{"slack", "T1", std::move(channel)};
  m.content = "{}";
  m.created_at = at;
  m.next_attempt_at = at;
  return m;
}

// A claimed job is nobody else's until it is updated or its lease is over; then another
// replica takes it over (the first one died with it).
TEST_F(PostgresStoreTest, AClaimHoldsUntilItsLeaseIsOver) {
  store_->write([&](Transaction& tx) {
    for (int i = 0; i < 3; ++i) tx.enqueue(due_job(fmt::format("C{}", i), kT0));
  });
  auto other = open_store(path_);  // another replica
  const auto claim = [](Store& store, Timestamp now, const char* owner) {
    std::vector<OutboxMessage> got;
    store.write([&](Transaction& tx) { got = tx.claim_outbox(now, 10, owner, minutes{1}); });
    return got;
  };
  const auto first = claim(*store_, kT0, "a");
  ASSERT_EQ(first.size(), 3u);
  EXPECT_TRUE(claim(*other, kT0 + std::chrono::seconds{59}, "b").empty());
  std::optional<Timestamp> next;
  other->read([&](Transaction& tx) { next = tx.next_outbox_attempt(); });
  EXPECT_EQ(next, kT0 + minutes{1}) << "the next look is when the lease ends, not at once";
  // One is done by its owner: the claim ends with it, and the job is not due anywhere.
  OutboxMessage sent = first[0];
  sent.status = OutboxStatus::kSent;
  store_->write([&](Transaction& tx) { tx.update_outbox(sent); });
  const auto taken = claim(*other, kT0 + minutes{1}, "b");
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].id, first[1].id);
  EXPECT_EQ(taken[1].id, first[2].id);
  EXPECT_EQ(query_int("SELECT COUNT(*) FROM outbox WHERE claimed_by = 'b'"), 2);
}

// The lease is the one asked for, and the owner alone may take its claims again before it
// ends (a batch it had no time to finish), which renews them.
TEST_F(PostgresStoreTest, AClaimsOwnerRenewsItAndOthersWaitForTheNewEnd) {
  store_->write([&](Transaction& tx) { tx.enqueue(due_job("C1", kT0)); });
  auto other = open_store(path_);
  const auto claim = [](Store& store, Timestamp now, const char* owner, milliseconds lease) {
    std::vector<OutboxMessage> got;
    store.write([&](Transaction& tx) { got = tx.claim_outbox(now, 10, owner, lease); });
    return got;
  };
  ASSERT_EQ(claim(*store_, kT0, "a", std::chrono::seconds{7}).size(), 1u);
  std::optional<Timestamp> next;
  other->read([&](Transaction& tx) { next = tx.next_outbox_attempt(); });
  EXPECT_EQ(next, kT0 + std::chrono::seconds{7});
  EXPECT_TRUE(claim(*other, kT0 + std::chrono::seconds{6}, "b", std::chrono::seconds{7}).empty());
  ASSERT_EQ(claim(*store_, kT0 + std::chrono::seconds{6}, "a", std::chrono::seconds{7}).size(), 1u);
  EXPECT_TRUE(claim(*other, kT0 + std::chrono::seconds{12}, "b", std::chrono::seconds{7}).empty())
      << "renewed at 6 s until 13 s";
  EXPECT_EQ(claim(*other, kT0 + std::chrono::seconds{13}, "b", std::chrono::seconds{7}).size(), 1u);
}

// A job taken while another owner's claim was on it (that owner died holding it, its
// lease over) is in doubt: its delivery may have gone out unrecorded. Its own owner taking
// it again does not make it so, and the doubt is what the sender records next.
TEST_P(StoreTest, AJobTakenOverFromADeadClaimIsInDoubt) {
  store_->write([&](Transaction& tx) { tx.enqueue(due_job("C1", kT0)); });
  const auto claim = [&](Timestamp now, const char* owner) {
    std::vector<OutboxMessage> got;
    store_->write([&](Transaction& tx) { got = tx.claim_outbox(now, 10, owner, minutes{1}); });
    return got;
  };
  auto first = claim(kT0, "a");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].in_doubt);
  auto again = claim(kT0 + std::chrono::seconds{1}, "a");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_FALSE(again[0].in_doubt) << "its own claim";
  auto taken = claim(kT0 + minutes{2}, "b");
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_TRUE(taken[0].in_doubt);
  // A failed attempt keeps the doubt; the claim ends with the update.
  taken[0].attempts = 1;
  store_->write([&](Transaction& tx) { tx.update_outbox(taken[0]); });
  std::optional<OutboxMessage> stored;
  store_->read([&](Transaction& tx) { stored = tx.find_outbox(taken[0].id); });
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->in_doubt);
  EXPECT_EQ(query_int("SELECT COUNT(*) FROM outbox WHERE claimed_by IS NOT NULL"), 0);
  auto next = claim(kT0 + minutes{3}, "b");
  ASSERT_EQ(next.size(), 1u);
  EXPECT_TRUE(next[0].in_doubt) << "still in doubt, though unclaimed in between";
}

// Replicas claiming at the same moment never take the same job, and a channel's jobs go in
// order: the next one of a channel is claimed only after the one before it is done.
TEST_F(PostgresStoreTest, ReplicasClaimEachJobOnceAndInChannelOrder) {
  constexpr int kChannels = 40;
  constexpr int kPerChannel = 5;
  store_->write([&](Transaction& tx) {
    for (int j = 0; j < kPerChannel; ++j) {
      for (int c = 0; c < kChannels; ++c) tx.enqueue(due_job(fmt::format("C{}", c), kT0));
    }
  });
  std::vector<std::unique_ptr<Store>> replicas;
  for (int r = 0; r < 3; ++r) replicas.push_back(open_store(path_));
  std::mutex mu;
  std::vector<std::int64_t> claimed;  // in order of being claimed
  std::vector<std::thread> threads;
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      Store& store = *replicas[static_cast<std::size_t>(r)];
      for (int idle = 0; idle < 3;) {
        std::vector<OutboxMessage> got;
        store.write([&](Transaction& tx) {
          got = tx.claim_outbox(kT0, 4, fmt::format("replica-{}", r), minutes{1});
        });
        idle = got.empty() ? idle + 1 : 0;
        for (OutboxMessage& m : got) {
          {
            // Noted before it is done: the channel's next job cannot be claimed before.
            std::lock_guard lock(mu);
            claimed.push_back(m.id);
          }
          m.status = OutboxStatus::kSent;
          store.write([&](Transaction& tx) { tx.update_outbox(m); });
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::int64_t> distinct(claimed.begin(), claimed.end());
  EXPECT_EQ(claimed.size(), distinct.size()) << "a job was claimed twice";
  EXPECT_EQ(static_cast<int>(distinct.size()), kChannels * kPerChannel);
  EXPECT_EQ(query_int("SELECT COUNT(*) FROM outbox WHERE status = 'pending'"), 0);
  // Ids were given channel by channel in rounds: within a channel, done in id order.
  std::map<std::int64_t, int> done_at;
  for (std::size_t i = 0; i < claimed.size(); ++i) done_at[claimed[i]] = static_cast<int>(i);
  for (int c = 0; c < kChannels; ++c) {
    for (int j = 1; j < kPerChannel; ++j) {
      const std::int64_t before = 1 + (j - 1) * kChannels + c, after = 1 + j * kChannels + c;
      EXPECT_LT(done_at[before], done_at[after]) << "channel " << c;
    }
  }
}

// The SQLite and PostgreSQL migration lists are one schema: the same number of versions.
TEST(SchemaTest, BothBackendsHaveTheSameMigrations) {
  EXPECT_EQ(sqlite::latest_schema_version(), pg::latest_schema_version());
}

TEST_P(StoreTest, Healthy) { EXPECT_TRUE(store_->healthy()); }

// ---------------------------------------------------------------------------- transactions

TEST_P(StoreTest, ThrowingTransactionRollsBackEverything) {
  const IncidentId kept = insert(make_incident("Kept"));
  struct Boom : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  EXPECT_THROW(store_->write([&](Transaction& tx) {
    const IncidentId id = tx.insert_incident(make_incident("Doomed"));
    tx.append_event(make_event(id, "doomed event", kT0));
    tx.append_event(make_event(kept, "event on the kept incident", kT0));
    Note n;
    n.incident_id = kept;
    n.text = "doomed note";
    n.author = kAlice;
    n.created_at = kT0;
    tx.add_note(n);
    tx.add_action(make_action(kept, "doomed action"));
    tx.save_draft(kept, kT0, "# doomed draft");
    Incident changed = *tx.find_incident(kept);
    changed.status = IncidentStatus::kResolved;
    tx.update_incident(changed);
    throw Boom("handler failed half-way");
  }),
               Boom);

  const auto all = list();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, kept);
  EXPECT_EQ(all[0].status, IncidentStatus::kOpen);
  store_->read([&](Transaction& tx) {
    EXPECT_TRUE(tx.events(kept, true).empty());
    EXPECT_TRUE(tx.notes(kept).empty());
    EXPECT_TRUE(tx.actions(kept).empty());
    EXPECT_EQ(tx.latest_draft(kept), std::nullopt);
  });
  EXPECT_EQ(query_int("SELECT COUNT(*) FROM events"), 0);

  // The connection is usable afterwards, and numbering starts where it should.
  const TimelineEvent e = append(make_event(kept, "after the rollback", kT0));
  EXPECT_EQ(e.seq, 1);
}

TEST_P(StoreTest, WriteIsVisibleToOtherConnectionsWhenItReturns) {
  insert(make_incident("DB down"));
  EXPECT_EQ(query_int("SELECT COUNT(*) FROM incidents"), 1);
}

TEST_P(StoreTest, ReadRefusesWrites) {
  const IncidentId id = insert(make_incident("DB down"));
  const TimelineEvent e = append(make_event(id, "an event", kT0));
  ActionItem item;
  store_->write([&](Transaction& tx) { item = tx.add_action(make_action(id, "an action")); });

  const std::vector<std::pair<const char*, std::function<void(Transaction&)>>> writes = {
      {"insert_incident", [&](Transaction& tx) { tx.insert_incident(make_incident("x")); }},
      {"update_incident",
       [&](Transaction& tx) {
         Incident i = *tx.find_incident(id);
         i.title = "changed";
         tx.update_incident(i);
       }},
      {"append_event", [&](Transaction& tx) { tx.append_event(make_event(id, "x", kT0)); }},
      {"revise_event",
       [&](Transaction& tx) {
         TimelineEvent u = e;
         u.text = "changed";
         EventRevision r;
         r.change = "edit";
         tx.revise_event(u, r);
       }},
      {"add_note",
       [&](Transaction& tx) {
         Note n;
         n.incident_id = id;
         tx.add_note(n);
       }},
      {"add_action", [&](Transaction& tx) { tx.add_action(make_action(id, "x")); }},
      {"update_action",
       [&](Transaction& tx) {
         ActionItem a = item;
         a.status = ActionStatus::kDone;
         tx.update_action(a);
       }},
      {"save_draft", [&](Transaction& tx) { tx.save_draft(id, kT0, "# draft"); }},
  };
  for (const auto& [name, write] : writes) {
    EXPECT_THROW(store_->read(write), StoreError) << name;
  }
  // Nothing of it got through.
  store_->read([&](Transaction& tx) {
    EXPECT_EQ(tx.list_incidents(10).size(), 1u);
    EXPECT_EQ(tx.find_incident(id)->title, "DB down");
    const auto evs = tx.events(id, true);
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].text, "an event");
    EXPECT_TRUE(tx.revisions(id).empty());
    EXPECT_TRUE(tx.notes(id).empty());
    const auto items = tx.actions(id);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].status, ActionStatus::kOpen);
    EXPECT_EQ(tx.latest_draft(id), std::nullopt);
  });
  // And the store still takes writes.
  EXPECT_EQ(append(make_event(id, "y", kT0)).seq, 2);
}

// ---------------------------------------------------------------------------- numbering, order

TEST_P(StoreTest, AnEventKeepsItsLinksThroughAnEdit) {
  const IncidentId id = insert(make_incident("Links"));
  TimelineEvent e = make_event(id, "pinned", kT0);
  e.links = {EventLink{EventLink::Kind::kMessage, "", "https://x.test/archives/C1/p1"},
             EventLink{EventLink::Kind::kImage, "graph \"p99\".png", "https://x.test/f/1"},
             EventLink{EventLink::Kind::kFile, "db.log", "https://x.test/f/2"}};
  const TimelineEvent stored = append(e);
  append(make_event(id, "plain", kT0));
  ASSERT_EQ(events(id).size(), 2u);
  EXPECT_EQ(events(id)[0].links, e.links);
  EXPECT_TRUE(events(id)[1].links.empty());

  TimelineEvent edited = stored;
  edited.text = "pinned, edited";
  edited.revision = 1;
  EventRevision previous;
  previous.event_id = stored.id;
  previous.seq = stored.seq;
  previous.change = "edit";
  previous.occurred_at = stored.occurred_at;
  previous.text = stored.text;
  previous.changed_at = kT0;
  store_->write([&](Transaction& tx) { tx.revise_event(edited, previous); });
  EXPECT_EQ(events(id)[0].text, "pinned, edited");
  EXPECT_EQ(events(id)[0].links, e.links);
}

TEST_P(StoreTest, ChannelZonesKeepEverySettingInOrder) {
  const ChannelRef c{"slack", "T0TEAM", "C0TZ"};
  store_->read([&](Transaction& tx) { EXPECT_TRUE(tx.channel_zones(c).empty()); });
  store_->write([&](Transaction& tx) {
    tx.set_channel_zone(ChannelZone{c, "Europe/Berlin", kAlice, kT0});
    tx.set_channel_zone(ChannelZone{c, "America/New_York", kAlice, kT0 + std::chrono::hours(1)});
    tx.set_channel_zone(ChannelZone{{"slack", "T0TEAM", "C0OTHER"}, "Asia/Tokyo", kAlice, kT0});
  });
  reopen();
  store_->read([&](Transaction& tx) {
    const auto zones = tx.channel_zones(c);
    ASSERT_EQ(zones.size(), 2u);
    EXPECT_EQ(zones[0].zone, "Europe/Berlin");
    EXPECT_EQ(zones[1].zone, "America/New_York");
    EXPECT_EQ(zones[1].set_by, kAlice);
    EXPECT_EQ(zones[1].set_at, kT0 + std::chrono::hours(1));
  });
}

TEST_P(StoreTest, EventSeqIsPerIncident) {
  const IncidentId a = insert(make_incident("A"));
  const IncidentId b = insert(make_incident("B", {"slack", "T0TEAM", "C0B"}));
  EXPECT_NE(a, b);
  EXPECT_EQ(append(make_event(a, "a1", kT0)).seq, 1);
  EXPECT_EQ(append(make_event(b, "b1", kT0)).seq, 1);
  EXPECT_EQ(append(make_event(a, "a2", kT0)).seq, 2);
  const TimelineEvent a3 = append(make_event(a, "a3", kT0));
  EXPECT_EQ(a3.seq, 3);
  EXPECT_EQ(append(make_event(b, "b2", kT0)).seq, 2);
  EXPECT_GT(a3.id, 0);

  std::optional<TimelineEvent> found;
  store_->read([&](Transaction& tx) { found = tx.find_event(a, 3); });
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, a3.id);
  EXPECT_EQ(found->text, "a3");
  store_->read([&](Transaction& tx) {
    EXPECT_EQ(tx.find_event(b, 3), std::nullopt);
    EXPECT_EQ(tx.find_event(a, 0), std::nullopt);
  });
}

// The cap check and the append of one command share a lookup of the largest seq (SQLite):
// counts and numbers stay right across incidents within a write, and a write that failed
// after counting and appending leaves nothing behind for the next.
TEST_P(StoreTest, CountsAndAppendsInOneWriteAgree) {
  const IncidentId a = insert(make_incident("A"));
  const IncidentId b = insert(make_incident("B", {"slack", "T0TEAM", "C0B"}));
  store_->write([&](Transaction& tx) {
    EXPECT_EQ(tx.count_in_incident(a, IncidentPart::kEvents), 0);
    EXPECT_EQ(tx.append_event(make_event(a, "a1", kT0)).seq, 1);
    EXPECT_EQ(tx.count_in_incident(a, IncidentPart::kEvents), 1);
    EXPECT_EQ(tx.count_in_incident(b, IncidentPart::kEvents), 0);
    EXPECT_EQ(tx.append_event(make_event(b, "b1", kT0)).seq, 1);
    EXPECT_EQ(tx.append_event(make_event(a, "a2", kT0)).seq, 2);
    EXPECT_EQ(tx.count_in_incident(a, IncidentPart::kEvents), 2);
    EXPECT_EQ(tx.count_in_incident(b, IncidentPart::kEvents), 1);
  });
  EXPECT_THROW(store_->write([&](Transaction& tx) {
    EXPECT_EQ(tx.count_in_incident(a, IncidentPart::kEvents), 2);
    EXPECT_EQ(tx.append_event(make_event(a, "doomed", kT0)).seq, 3);
    throw std::runtime_error("failed after appending");
  }),
               std::runtime_error);
  store_->write([&](Transaction& tx) {
    EXPECT_EQ(tx.count_in_incident(a, IncidentPart::kEvents), 2);
    EXPECT_EQ(tx.append_event(make_event(a, "a3", kT0)).seq, 3);
  });
  EXPECT_EQ(query_int("SELECT COUNT(*) FROM events"), 4);
}

TEST_P(StoreTest, DeletedEventsKeepTheirNumbers) {
  const IncidentId id = insert(make_incident("A"));
  append(make_event(id, "one", kT0));
  TimelineEvent two = append(make_event(id, "two", kT0));
  const EventRevision before{two.id,          two.seq,  0,    "delete",      two.kind,
                             two.occurred_at, two.text, kBob, kT0 + hours{2}};
  two.deleted = true;
  two.revision = 1;
  store_->write([&](Transaction& tx) { tx.revise_event(two, before); });
  // A number once given is never given again, so "edit 2" cannot hit another event.
  EXPECT_EQ(append(make_event(id, "three", kT0)).seq, 3);
}

TEST_P(StoreTest, ActionSeqIsPerIncident) {
  const IncidentId a = insert(make_incident("A"));
  const IncidentId b = insert(make_incident("B", {"slack", "T0TEAM", "C0B"}));
  store_->write([&](Transaction& tx) {
    EXPECT_EQ(tx.add_action(make_action(a, "a1")).seq, 1);
    EXPECT_EQ(tx.add_action(make_action(b, "b1")).seq, 1);
    EXPECT_EQ(tx.add_action(make_action(a, "a2")).seq, 2);
  });
  store_->read([&](Transaction& tx) {
    const auto items = tx.actions(a);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].text, "a1");
    EXPECT_EQ(items[1].text, "a2");
    EXPECT_EQ(tx.find_action(a, 2)->text, "a2");
    EXPECT_EQ(tx.find_action(b, 2), std::nullopt);
  });
}

TEST_P(StoreTest, EventsInOrderOfOccurrenceThenSeq) {
  const IncidentId id = insert(make_incident("A"));
  append(make_event(id, "s1 at +10m", kT0 + minutes{10}));
  append(make_event(id, "s2 at +0", kT0));
  append(make_event(id, "s3 at +10m", kT0 + minutes{10}));
  append(make_event(id, "s4 at -5m", kT0 - minutes{5}));
  append(make_event(id, "s5 at +0 and 1ms", kT0 + milliseconds{1}));
  std::vector<std::string> texts;
  for (const auto& e : events(id)) texts.push_back(e.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"s4 at -5m", "s2 at +0", "s5 at +0 and 1ms",
                                             "s1 at +10m", "s3 at +10m"}));
}

TEST_P(StoreTest, EventsHideDeletedUnlessAsked) {
  const IncidentId id = insert(make_incident("A"));
  append(make_event(id, "kept", kT0));
  TimelineEvent gone = append(make_event(id, "gone", kT0 + minutes{1}));
  EventRevision previous;
  previous.event_id = gone.id;
  previous.revision = 0;
  previous.change = "delete";
  previous.kind = gone.kind;
  previous.occurred_at = gone.occurred_at;
  previous.text = gone.text;
  previous.changed_by = kBob;
  previous.changed_at = kT0 + hours{3};
  gone.deleted = true;
  gone.revision = 1;
  store_->write([&](Transaction& tx) { tx.revise_event(gone, previous); });

  ASSERT_EQ(events(id, false).size(), 1u);
  EXPECT_EQ(events(id, false)[0].text, "kept");
  const auto all = events(id, true);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[1].deleted);
  EXPECT_EQ(all[1].revision, 1);

  std::vector<EventRevision> revs;
  store_->read([&](Transaction& tx) { revs = tx.revisions(id); });
  ASSERT_EQ(revs.size(), 1u);
  EXPECT_EQ(revs[0].event_id, gone.id);
  EXPECT_EQ(revs[0].seq, 2);
  EXPECT_EQ(revs[0].change, "delete");
  EXPECT_EQ(revs[0].text, "gone");
  EXPECT_EQ(revs[0].changed_by, kBob);
  EXPECT_EQ(revs[0].changed_at, kT0 + hours{3});
}

TEST_P(StoreTest, RevisionsAreInOrderAndPerIncident) {
  const IncidentId a = insert(make_incident("A"));
  const IncidentId b = insert(make_incident("B", {"slack", "T0TEAM", "C0B"}));
  TimelineEvent ea = append(make_event(a, "v0", kT0));
  TimelineEvent eb = append(make_event(b, "other", kT0));
  for (int rev = 0; rev < 3; ++rev) {
    EventRevision previous;
    previous.event_id = ea.id;
    previous.revision = ea.revision;
    previous.change = "edit";
    previous.kind = ea.kind;
    previous.occurred_at = ea.occurred_at;
    previous.text = ea.text;
    previous.changed_by = kBob;
    previous.changed_at = kT0;
    ea.text = "v" + std::to_string(rev + 1);
    ea.kind = EventKind::kAlert;
    ea.occurred_at -= minutes{1};
    ea.revision += 1;
    store_->write([&](Transaction& tx) { tx.revise_event(ea, previous); });
  }
  std::vector<EventRevision> revs;
  store_->read([&](Transaction& tx) { revs = tx.revisions(a); });
  ASSERT_EQ(revs.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(revs[i].revision, i);
    EXPECT_EQ(revs[i].text, "v" + std::to_string(i));
  }
  EXPECT_EQ(revs[0].kind, EventKind::kNote);
  EXPECT_EQ(revs[1].kind, EventKind::kAlert);
  EXPECT_EQ(revs[0].occurred_at, kT0);

  const auto now = events(a);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].text, "v3");
  EXPECT_EQ(now[0].kind, EventKind::kAlert);
  EXPECT_EQ(now[0].occurred_at, kT0 - minutes{3});
  EXPECT_EQ(now[0].revision, 3);

  store_->read([&](Transaction& tx) { EXPECT_TRUE(tx.revisions(b).empty()); });
  EXPECT_EQ(events(b)[0].text, eb.text);
}

// ---------------------------------------------------------------------------- incidents

TEST_P(StoreTest, CurrentIncidentIgnoresClosedOnes) {
  std::optional<Incident> current;
  store_->read([&](Transaction& tx) { current = tx.current_incident(kChannel); });
  EXPECT_FALSE(current.has_value());

  const IncidentId first = insert(make_incident("First"));
  store_->read([&](Transaction& tx) { current = tx.current_incident(kChannel); });
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->id, first);

  // A resolved incident is still the channel's current one (it can be closed or reopened).
  store_->write([&](Transaction& tx) {
    Incident i = *tx.find_incident(first);
    i.status = IncidentStatus::kResolved;
    i.resolved_at = kT0 + hours{1};
    tx.update_incident(i);
  });
  store_->read([&](Transaction& tx) { current = tx.current_incident(kChannel); });
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->id, first);

  // The newest one wins.
  const IncidentId second = insert(make_incident("Second"));
  store_->read([&](Transaction& tx) { current = tx.current_incident(kChannel); });
  EXPECT_EQ(current->id, second);

  // Closed ones are skipped.
  store_->write([&](Transaction& tx) {
    Incident i = *tx.find_incident(second);
    i.status = IncidentStatus::kClosed;
    i.closed_at = kT0 + hours{2};
    tx.update_incident(i);
  });
  store_->read([&](Transaction& tx) { current = tx.current_incident(kChannel); });
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->id, first);

  store_->write([&](Transaction& tx) {
    Incident i = *tx.find_incident(first);
    i.status = IncidentStatus::kClosed;
    tx.update_incident(i);
  });
  store_->read([&](Transaction& tx) { current = tx.current_incident(kChannel); });
  EXPECT_FALSE(current.has_value());
}

TEST_P(StoreTest, CurrentIncidentMatchesTheWholeChannelRef) {
  insert(make_incident("Slack", kChannel));
  const ChannelRef other_workspace{"slack", "T0OTHER", "C0INC"};
  const ChannelRef other_platform{"matrix", "T0TEAM", "C0INC"};
  const ChannelRef other_channel{"slack", "T0TEAM", "C0NOPE"};
  store_->read([&](Transaction& tx) {
    EXPECT_TRUE(tx.current_incident(kChannel).has_value());
    EXPECT_FALSE(tx.current_incident(other_workspace).has_value());
    EXPECT_FALSE(tx.current_incident(other_platform).has_value());
    EXPECT_FALSE(tx.current_incident(other_channel).has_value());
  });
}

TEST_P(StoreTest, ListIncidentsNewestFirstWithLimit) {
  for (int i = 1; i <= 5; ++i) {
    insert(make_incident("incident " + std::to_string(i), {"slack", "T", "C" + std::to_string(i)}));
  }
  auto all = list(100);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].title, "incident 5");
  EXPECT_EQ(all[4].title, "incident 1");
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i - 1].id, all[i].id);

  const auto two = list(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].title, "incident 5");
  EXPECT_EQ(two[1].title, "incident 4");
  EXPECT_TRUE(list(0).empty());
}

TEST_P(StoreTest, FindMissingIncident) {
  store_->read([&](Transaction& tx) { EXPECT_EQ(tx.find_incident(42), std::nullopt); });
}

// ---------------------------------------------------------------------------- round-trips

TEST_P(StoreTest, IncidentRoundTripWithAndWithoutOptionalTimes) {
  Incident i = make_incident("Checkout “502s” — ünïcödé 🚨");
  i.severity = Severity::kSev1;
  const IncidentId id = insert(i);
  Incident back;
  store_->read([&](Transaction& tx) { back = *tx.find_incident(id); });
  EXPECT_EQ(back.id, id);
  EXPECT_EQ(back.channel, kChannel);
  EXPECT_EQ(back.title, i.title);
  EXPECT_EQ(back.severity, Severity::kSev1);
  EXPECT_EQ(back.status, IncidentStatus::kOpen);
  EXPECT_EQ(back.commander, kAlice);
  EXPECT_EQ(back.declared_at, kT0);  // milliseconds kept
  EXPECT_EQ(back.mitigated_at, std::nullopt);
  EXPECT_EQ(back.resolved_at, std::nullopt);
  EXPECT_EQ(back.closed_at, std::nullopt);
  EXPECT_EQ(back.postmortem_owner, std::nullopt);

  back.status = IncidentStatus::kClosed;
  back.severity = Severity::kSev4;
  back.commander = kBob;
  back.mitigated_at = kT0 + milliseconds{1};
  back.resolved_at = kT0 + minutes{30};
  back.closed_at = kT0 + hours{48};
  back.postmortem_owner = kAlice;
  store_->write([&](Transaction& tx) { tx.update_incident(back); });
  Incident again;
  store_->read([&](Transaction& tx) { again = *tx.find_incident(id); });
  EXPECT_EQ(again.status, IncidentStatus::kClosed);
  EXPECT_EQ(again.severity, Severity::kSev4);
  EXPECT_EQ(again.commander, kBob);
  EXPECT_EQ(again.mitigated_at, kT0 + milliseconds{1});
  EXPECT_EQ(again.resolved_at, kT0 + minutes{30});
  EXPECT_EQ(again.closed_at, kT0 + hours{48});
  EXPECT_EQ(again.postmortem_owner, kAlice);

  // And back to null (a reopen clears them).
  again.status = IncidentStatus::kOpen;
  again.mitigated_at.reset();
  again.resolved_at.reset();
  again.closed_at.reset();
  again.postmortem_owner.reset();
  store_->write([&](Transaction& tx) { tx.update_incident(again); });
  store_->read([&](Transaction& tx) { back = *tx.find_incident(id); });
  EXPECT_EQ(back.mitigated_at, std::nullopt);
  EXPECT_EQ(back.resolved_at, std::nullopt);
  EXPECT_EQ(back.closed_at, std::nullopt);
  EXPECT_EQ(back.postmortem_owner, std::nullopt);

  // An owner named at declaration is stored with the incident.
  Incident owned = make_incident("B");
  owned.postmortem_owner = Person{"U0CAROL", "carol “c” ünï"};
  const IncidentId owned_id = insert(owned);
  store_->read([&](Transaction& tx) { back = *tx.find_incident(owned_id); });
  EXPECT_EQ(back.postmortem_owner, owned.postmortem_owner);
  EXPECT_EQ(postmortem_owner_of(back), *owned.postmortem_owner);
}

// A database from before postmortem owners: its incidents read back with none (the
// commander owns the postmortem), and one can be set after the upgrade.
TEST_F(SqliteStoreTest, IncidentsFromBeforePostmortemOwnersHaveNone) {
  store_.reset();
  exec_raw(
      drop_draft_versions() +
      "ALTER TABLE outbox DROP COLUMN in_doubt; ALTER TABLE outbox DROP COLUMN claim_expires_at;"
      "ALTER TABLE outbox DROP COLUMN claimed_by;"
      "DROP TABLE store_probe;"
      "DROP TABLE publications; DROP TABLE IF EXISTS stream_positions;"
      "DROP TABLE held_alerts;"
      "DROP INDEX actions_by_tracker_key; ALTER TABLE actions DROP COLUMN tracker_url;"
      "ALTER TABLE actions DROP COLUMN tracker_key; ALTER TABLE events DROP COLUMN links; DROP "
      "INDEX channel_zones_by_channel;"
      "DROP TABLE channel_zones;"
      "DROP INDEX inbound_deliveries_expiring; ALTER TABLE inbound_deliveries DROP COLUMN answer;"
      "ALTER TABLE inbound_deliveries DROP COLUMN expires_at;"
      "DROP TABLE postmortem_approvals;"
      "ALTER TABLE incidents DROP COLUMN postmortem_status;"
      "ALTER TABLE incidents DROP COLUMN closed_anyway;"
      "ALTER TABLE incidents DROP COLUMN postmortem_owner_id;"
      "ALTER TABLE incidents DROP COLUMN postmortem_owner_name;"
      "DELETE FROM schema_migrations WHERE version >= 6;"
      "INSERT INTO incidents (id, platform, workspace, channel, title, severity, status, "
      "commander_id, commander_name, declared_at) VALUES "
      "(7, 'slack', 'T0TEAM', 'C0INC', 'old', 2, 'open', 'U0ALICE', 'alice', 0)");
  store_ = open_store(path_);
  EXPECT_EQ(query_int("SELECT MAX(version) FROM schema_migrations"), latest_version());
  Incident old;
  store_->read([&](Transaction& tx) { old = *tx.find_incident(7); });
  EXPECT_EQ(old.title, "old");
  // Migration 18 gave the incident from before a draft version.
  store_->read([&](Transaction& tx) { EXPECT_TRUE(tx.draft_version(7)); });
  EXPECT_EQ(old.postmortem_owner, std::nullopt);
  EXPECT_EQ(old.postmortem_status, PostmortemStatus::kDraft);
  EXPECT_EQ(old.closed_anyway, std::nullopt);
  EXPECT_EQ(postmortem_owner_of(old), kAlice);
  old.postmortem_owner = kBob;
  store_->write([&](Transaction& tx) { tx.update_incident(old); });
  store_->read([&](Transaction& tx) { old = *tx.find_incident(7); });
  EXPECT_EQ(old.postmortem_owner, kBob);
  EXPECT_EQ(postmortem_owner_of(old), kBob);
}

// The postmortem's status, a close over the gate's objections and approvals round-trip.
TEST_P(StoreTest, PostmortemStatusCloseReasonAndApprovals) {
  const IncidentId id = insert(make_incident("A"));
  const IncidentId other = insert(make_incident("B"));
  Incident i;
  store_->read([&](Transaction& tx) {
    i = *tx.find_incident(id);
    EXPECT_TRUE(tx.approvals(id).empty());
  });
  EXPECT_EQ(i.postmortem_status, PostmortemStatus::kDraft);
  i.postmortem_status = PostmortemStatus::kInReview;
  i.closed_anyway = "meeting held; owner out until Monday";
  store_->write([&](Transaction& tx) {
    tx.update_incident(i);
    tx.add_approval(Approval{id, kBob, kT0 + minutes{5}});
    tx.add_approval(Approval{id, kAlice, kT0 + minutes{6}});
    tx.add_approval(Approval{other, kBob, kT0});
  });
  store_->read([&](Transaction& tx) {
    const Incident back = *tx.find_incident(id);
    EXPECT_EQ(back.postmortem_status, PostmortemStatus::kInReview);
    EXPECT_EQ(back.closed_anyway, i.closed_anyway);
    const std::vector<Approval> expected = {Approval{id, kBob, kT0 + minutes{5}},
                                            Approval{id, kAlice, kT0 + minutes{6}}};
    EXPECT_EQ(tx.approvals(id), expected);
    EXPECT_EQ(tx.approvals(other).size(), 1u);
  });
  // A read-only transaction cannot approve.
  EXPECT_THROW(store_->read([&](Transaction& tx) {
    tx.add_approval(Approval{id, kBob, kT0});
  }),
               StoreError);
}

TEST_P(StoreTest, EventRoundTrip) {
  const IncidentId id = insert(make_incident("A"));
  TimelineEvent e = make_event(id, "p99 grew from 300 ms to 1.2 s | 'quoted' \"x\"\nline 2",
                               kT0 - milliseconds{1}, EventKind::kImpact);
  e.author = kBob;
  const TimelineEvent stored = append(e);
  const auto back = events(id);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].id, stored.id);
  EXPECT_EQ(back[0].incident_id, id);
  EXPECT_EQ(back[0].seq, 1);
  EXPECT_EQ(back[0].kind, EventKind::kImpact);
  EXPECT_EQ(back[0].occurred_at, kT0 - milliseconds{1});
  EXPECT_EQ(back[0].recorded_at, e.recorded_at);
  EXPECT_EQ(back[0].author, kBob);
  EXPECT_EQ(back[0].text, e.text);
  EXPECT_FALSE(back[0].deleted);
  EXPECT_EQ(back[0].revision, 0);
}

TEST_P(StoreTest, EveryEventKindRoundTrips) {
  const IncidentId id = insert(make_incident("A"));
  const EventKind kinds[] = {
      EventKind::kNote,      EventKind::kDetected,        EventKind::kAlert,
      EventKind::kAction,    EventKind::kComms,           EventKind::kImpact,
      EventKind::kDeclared,  EventKind::kSeverityChanged, EventKind::kCommanderChanged,
      EventKind::kMitigated, EventKind::kResolved,        EventKind::kReopened,
      EventKind::kClosed,
  };
  int minute = 0;
  for (EventKind k : kinds)
    append(make_event(id, std::string(to_string(k)), kT0 + minutes{++minute}, k));
  const auto back = events(id);
  ASSERT_EQ(back.size(), std::size(kinds));
  for (std::size_t i = 0; i < back.size(); ++i) EXPECT_EQ(back[i].kind, kinds[i]) << back[i].text;
}

TEST_P(StoreTest, NotesInOrderGiven) {
  const IncidentId id = insert(make_incident("A"));
  const NoteSection sections[] = {
      NoteSection::kWhy,       NoteSection::kSummary,    NoteSection::kWentWell,
      NoteSection::kWentWrong, NoteSection::kLucky,      NoteSection::kLesson,
      NoteSection::kCause,     NoteSection::kImpact,     NoteSection::kTrigger,
      NoteSection::kDetection, NoteSection::kResolution, NoteSection::kLink};
  store_->write([&](Transaction& tx) {
    int n = 0;
    for (NoteSection s : sections) {
      Note note;
      note.incident_id = id;
      note.section = s;
      note.text = "note " + std::to_string(++n);
      note.author = kBob;
      note.created_at = kT0 + minutes{10 - n};  // later notes carry earlier times
      const Note stored = tx.add_note(note);
      EXPECT_GT(stored.id, 0);
    }
  });
  std::vector<Note> back;
  store_->read([&](Transaction& tx) { back = tx.notes(id); });
  ASSERT_EQ(back.size(), std::size(sections));
  for (std::size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].section, sections[i]);
    EXPECT_EQ(back[i].text, "note " + std::to_string(i + 1));
    EXPECT_EQ(back[i].author, kBob);
    EXPECT_EQ(back[i].incident_id, id);
    EXPECT_EQ(back[i].created_at, kT0 + minutes{9 - static_cast<int>(i)});
  }
}

TEST_P(StoreTest, ActionOptionalFieldsRoundTrip) {
  const IncidentId id = insert(make_incident("A"));
  ActionItem bare = make_action(id, "no owner, no date");
  ActionItem full = make_action(id, "everything set");
  full.owner = kBob;
  full.due = "2026-12-01";
  full.kind = ActionKind::kMitigate;
  full.status = ActionStatus::kDone;
  full.done_at = kT0 + hours{1};
  full.done_by = kAlice;
  store_->write([&](Transaction& tx) {
    bare = tx.add_action(bare);
    full = tx.add_action(full);
  });

  std::vector<ActionItem> back;
  store_->read([&](Transaction& tx) { back = tx.actions(id); });
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].id, bare.id);
  EXPECT_EQ(back[0].seq, 1);
  EXPECT_EQ(back[0].owner, std::nullopt);
  EXPECT_EQ(back[0].due, std::nullopt);
  EXPECT_EQ(back[0].kind, ActionKind::kNone);
  EXPECT_EQ(back[0].status, ActionStatus::kOpen);
  EXPECT_EQ(back[0].done_at, std::nullopt);
  EXPECT_EQ(back[0].done_by, std::nullopt);
  EXPECT_EQ(back[0].created_by, kAlice);
  EXPECT_EQ(back[0].created_at, kT0);

  EXPECT_EQ(back[1].seq, 2);
  EXPECT_EQ(back[1].text, "everything set");
  EXPECT_EQ(back[1].owner, kBob);
  EXPECT_EQ(back[1].due, "2026-12-01");
  EXPECT_EQ(back[1].kind, ActionKind::kMitigate);
  EXPECT_EQ(back[1].status, ActionStatus::kDone);
  EXPECT_EQ(back[1].done_at, kT0 + hours{1});
  EXPECT_EQ(back[1].done_by, kAlice);

  // update_action sets and clears them too.
  ActionItem swapped_full = back[0];
  swapped_full.owner = Person{"", "dave"};  // a name the platform could not resolve
  swapped_full.due = "2026-11-30";
  swapped_full.kind = ActionKind::kProcess;
  swapped_full.status = ActionStatus::kDone;
  swapped_full.done_at = kT0 + hours{2};
  swapped_full.done_by = kBob;
  ActionItem swapped_bare = back[1];
  swapped_bare.text = "reworded";
  swapped_bare.owner.reset();
  swapped_bare.due.reset();
  swapped_bare.status = ActionStatus::kOpen;
  swapped_bare.done_at.reset();
  swapped_bare.done_by.reset();
  store_->write([&](Transaction& tx) {
    tx.update_action(swapped_full);
    tx.update_action(swapped_bare);
  });
  store_->read([&](Transaction& tx) {
    const auto a = *tx.find_action(id, 1);
    EXPECT_EQ(a.owner, (Person{"", "dave"}));
    EXPECT_EQ(a.due, "2026-11-30");
    EXPECT_EQ(a.kind, ActionKind::kProcess);
    EXPECT_EQ(a.status, ActionStatus::kDone);
    EXPECT_EQ(a.done_at, kT0 + hours{2});
    EXPECT_EQ(a.done_by, kBob);
    const auto b = *tx.find_action(id, 2);
    EXPECT_EQ(b.text, "reworded");
    EXPECT_EQ(b.owner, std::nullopt);
    EXPECT_EQ(b.due, std::nullopt);
    EXPECT_EQ(b.status, ActionStatus::kOpen);
    EXPECT_EQ(b.done_at, std::nullopt);
    EXPECT_EQ(b.done_by, std::nullopt);
  });
}

TEST_P(StoreTest, LatestDraftIsTheNewest) {
  const IncidentId a = insert(make_incident("A"));
  const IncidentId b = insert(make_incident("B", {"slack", "T0TEAM", "C0B"}));
  store_->read([&](Transaction& tx) { EXPECT_EQ(tx.latest_draft(a), std::nullopt); });
  store_->write([&](Transaction& tx) {
    tx.save_draft(a, kT0, "# first");
    tx.save_draft(b, kT0, "# other incident");
    tx.save_draft(a, kT0 + hours{1}, "# second — ünïcödé");
  });
  store_->read([&](Transaction& tx) {
    EXPECT_EQ(tx.latest_draft(a), "# second — ünïcödé");
    EXPECT_EQ(tx.latest_draft(b), "# other incident");
  });
}

TEST_P(StoreTest, EverythingSurvivesReopening) {
  const IncidentId id = insert(make_incident("A"));
  append(make_event(id, "event", kT0));
  store_->write([&](Transaction& tx) {
    tx.add_action(make_action(id, "action"));
    tx.save_draft(id, kT0, "# draft");
  });
  reopen();
  store_->read([&](Transaction& tx) {
    EXPECT_EQ(tx.find_incident(id)->title, "A");
    EXPECT_EQ(tx.events(id, false).at(0).text, "event");
    EXPECT_EQ(tx.actions(id).at(0).text, "action");
    EXPECT_EQ(tx.latest_draft(id), "# draft");
  });
  // Numbering continues after a restart.
  EXPECT_EQ(append(make_event(id, "next", kT0)).seq, 2);
}

}  // namespace
}  // namespace scribe

namespace scribe {
namespace {

// ----------------------------------------------------------------------- group commit

// Writers that arrive together are committed together; one that throws is rolled back
// alone and the others are still durable when their write() returns.
TEST_P(StoreTest, ConcurrentWritersAreCommittedTogetherAndFailAlone) {
  const IncidentId id = insert(make_incident("Group commit"));
  constexpr int kThreads = 16;
  constexpr int kWritesEach = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWritesEach; ++i) {
        const bool doomed = i % 10 == 7;  // throws after writing: must leave no trace
        try {
          store_->write([&](Transaction& tx) {
            TimelineEvent e = make_event(id, fmt::format("t{} i{}", t, i), kT0);
            tx.append_event(e);
            if (doomed) throw std::runtime_error("refused");
          });
          EXPECT_FALSE(doomed);
        } catch (const std::runtime_error& e) {
          EXPECT_TRUE(doomed) << e.what();
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  const int doomed_total = kThreads * (kWritesEach / 10);
  EXPECT_EQ(failures.load(), doomed_total);
  reopen();  // what is on disk, not what a connection remembers
  const auto stored = events(id);
  EXPECT_EQ(static_cast<int>(stored.size()), kThreads * kWritesEach - doomed_total);
  std::set<int> seqs;
  for (const auto& e : stored) {
    EXPECT_THAT(e.text, testing::Not(testing::EndsWith(" i7")));
    seqs.insert(e.seq);
  }
  EXPECT_EQ(seqs.size(), stored.size()) << "per-incident numbers stay unique";
}

// ------------------------------------------------------------------ replay keys' purge

// Expired replay keys go without any request asking: the store's maintenance deletes them in
// writes of at most purge_batch keys each, until none is left, and keeps live keys and keys
// without an expiry.
TEST_P(StoreTest, ExpiredDeliveryKeysArePurgedInBoundedBatchesOffTheRequestPath) {
  // Shared with the store's writer thread, which reports every purge (also after the test's
  // last check, until the store is closed).
  struct Purges {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::int64_t> sizes;
    std::int64_t total = 0;
  };
  auto purges = std::make_shared<Purges>();
  store_.reset();
  const auto on_purge = [purges](std::int64_t n) {
    if (n == 0) return;
    {
      std::lock_guard lock(purges->mu);
      purges->sizes.push_back(n);
      purges->total += n;
    }
    purges->cv.notify_all();
  };
  if (backend() == Backend::kSqlite) {
    SqliteOptions options;
    options.maintenance_interval = milliseconds{20};
    options.purge_batch = 100;
    options.on_purge = on_purge;
    store_ = open_sqlite_store(path_, options);
  } else {
    PostgresOptions options;
    options.maintenance_interval = milliseconds{20};
    options.purge_batch = 100;
    options.on_purge = on_purge;
    store_ = open_postgres_store(path_, options);
  }

  const Timestamp now =
      std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
  store_->write([&](Transaction& tx) {
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(tx.first_delivery_until("slack-request", fmt::format("expired-{}", i),
                                          now - minutes{20}, now - minutes{9}));
    }
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(tx.first_delivery_until("slack-request", fmt::format("live-{}", i), now,
                                          now + minutes{11}));
      ASSERT_TRUE(tx.first_delivery("slack-event", fmt::format("event-{}", i), now - hours{48}));
    }
  });
  {
    std::unique_lock lock(purges->mu);
    ASSERT_TRUE(
        purges->cv.wait_for(lock, std::chrono::seconds(30), [&] { return purges->total >= 1000; }))
        << purges->total << " purged";
    EXPECT_EQ(purges->total, 1000);
    EXPECT_GE(purges->sizes.size(), 10u);
    for (const auto n : purges->sizes) EXPECT_LE(n, 100);
  }
  EXPECT_EQ(query_int("SELECT count(*) FROM inbound_deliveries WHERE key LIKE 'expired-%'"), 0);
  store_->write([&](Transaction& tx) {
    for (int i = 0; i < 10; ++i) {
      EXPECT_FALSE(tx.first_delivery_until("slack-request", fmt::format("live-{}", i), now,
                                           now + minutes{11}))
          << "a live key is kept";
      EXPECT_FALSE(tx.first_delivery("slack-event", fmt::format("event-{}", i), now))
          << "a key without expiry is kept";
    }
    EXPECT_TRUE(tx.first_delivery_until("slack-request", "expired-7", now, now + minutes{11}))
        << "an expired key is gone";
  });
}

// A replay key and its answer: the same key again, in the same write or after a restart, is
// a replay answered with the stored answer; a key that got no answer is kept too; a write
// that fails takes its key with it.
TEST_P(StoreTest, ReplayKeysAndTheirAnswersAreKeptAcrossARestart) {
  // Now, not kT0: the maintenance thread purges keys whose window has closed.
  const Timestamp now =
      std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
  store_->write([&](Transaction& tx) {
    ASSERT_TRUE(tx.first_delivery_until("slack-trigger", "t-1", now, now + minutes{11}));
    EXPECT_FALSE(tx.first_delivery_until("slack-trigger", "t-1", now, now + minutes{11}))
        << "the same key later in the same write is a replay";
    EXPECT_EQ(tx.delivery_answer("slack-trigger", "t-1"), std::nullopt) << "not answered yet";
    tx.set_delivery_answer("slack-trigger", "t-1", R"({"text":"first answer"})");
    ASSERT_TRUE(tx.first_delivery_until("slack-request", "sig-2", now, now + minutes{11}));
  });
  EXPECT_THROW(store_->write([&](Transaction& tx) {
    ASSERT_TRUE(tx.first_delivery_until("slack-trigger", "t-3", now, now + minutes{11}));
    tx.set_delivery_answer("slack-trigger", "t-3", "rolled back");
    throw StoreError("injected");
  }),
               StoreError);

  reopen();
  store_->write([&](Transaction& tx) {
    EXPECT_FALSE(tx.first_delivery_until("slack-trigger", "t-1", now, now + minutes{11}));
    EXPECT_EQ(tx.delivery_answer("slack-trigger", "t-1"), R"({"text":"first answer"})");
    EXPECT_FALSE(tx.first_delivery_until("slack-request", "sig-2", now, now + minutes{11}))
        << "a key without an answer is kept";
    EXPECT_EQ(tx.delivery_answer("slack-request", "sig-2"), std::nullopt);
    EXPECT_TRUE(tx.first_delivery_until("slack-trigger", "t-3", now, now + minutes{11}))
        << "a failed write leaves no key";
    EXPECT_TRUE(tx.first_delivery_until("slack-request", "t-1", now, now + minutes{11}))
        << "keys are per source";
  });
  EXPECT_EQ(query_int("SELECT count(*) FROM inbound_deliveries"), 4);
  EXPECT_EQ(
      query_int("SELECT expires_at FROM inbound_deliveries WHERE key = 't-1'"),
      std::chrono::duration_cast<milliseconds>((now + minutes{11}).time_since_epoch()).count());
}

// The writer remembers each channel's current incident, its time zone settings and each
// incident's largest event number between writes (SqliteStore's WriterMemo). A write that
// is rolled back, a batch whose commit fails and a commit by another connection must each
// leave nothing stale behind: the next command reads what the database holds.
TEST_F(SqliteStoreTest, TheWritersMemoNeverOutlivesARolledBackWrite) {
  const IncidentId id = insert(make_incident("memo"));
  const ChannelRef channel = kChannel;
  auto current = [&] {
    std::optional<Incident> out;
    store_->write([&](Transaction& tx) { out = tx.current_incident(channel); });
    return out;
  };
  auto zones = [&] {
    std::vector<ChannelZone> out;
    store_->write([&](Transaction& tx) { out = tx.channel_zones(channel); });
    return out;
  };
  ASSERT_EQ(current()->id, id);  // remembered from here on
  EXPECT_TRUE(zones().empty());
  append(make_event(id, "one", kT0));
  append(make_event(id, "two", kT0));

  // One write closes the incident, sets a zone and adds an event, reads all three back
  // (remembering them) and then fails.
  EXPECT_THROW(store_->write([&](Transaction& tx) {
    Incident i = *tx.find_incident(id);
    i.status = IncidentStatus::kClosed;
    tx.update_incident(i);
    EXPECT_EQ(tx.current_incident(channel), std::nullopt);
    tx.set_channel_zone(ChannelZone{channel, "Europe/Paris", kAlice, kT0});
    EXPECT_EQ(tx.channel_zones(channel).size(), 1u);
    EXPECT_EQ(tx.append_event(make_event(id, "three", kT0)).seq, 3);
    EXPECT_EQ(tx.count_in_incident(id, IncidentPart::kEvents), 3);
    throw StoreError("injected");
  }),
               StoreError);
  ASSERT_TRUE(current().has_value()) << "the closing was rolled back";
  EXPECT_EQ(current()->status, IncidentStatus::kOpen);
  EXPECT_TRUE(zones().empty()) << "the zone was rolled back";
  EXPECT_EQ(append(make_event(id, "three again", kT0)).seq, 3) << "no gap in the numbers";
  store_->write(
      [&](Transaction& tx) { EXPECT_EQ(tx.count_in_incident(id, IncidentPart::kEvents), 3); });

  // A committed change is seen by the next write, through the memo.
  store_->write([&](Transaction& tx) {
    tx.set_channel_zone(ChannelZone{channel, "Asia/Tokyo", kAlice, kT0});
  });
  ASSERT_EQ(zones().size(), 1u);
  EXPECT_EQ(zones()[0].zone, "Asia/Tokyo");

  // Another connection's commit (a tool writing to the file) is seen by the next write.
  exec_raw(fmt::format("UPDATE incidents SET title = 'renamed elsewhere' WHERE id = {}", id));
  exec_raw(fmt::format(
      "INSERT INTO events (incident_id, seq, kind, occurred_at, recorded_at, author_id, "
      "author_name, text) VALUES ({}, 4, 'note', 0, 0, 'U1', 'a', 'written elsewhere')",
      id));
  exec_raw("DELETE FROM channel_zones");
  EXPECT_EQ(current()->title, "renamed elsewhere");
  EXPECT_TRUE(zones().empty());
  EXPECT_EQ(append(make_event(id, "after the tool", kT0)).seq, 5);
}

// A batch whose COMMIT fails loses every write of it; what the writer remembered in it goes
// too (tests/unit/writer_queue_test.cpp covers the other steps).
TEST_F(SqliteStoreTest, AFailedCommitLeavesTheWritersMemoEmpty) {
  store_.reset();
  auto fail_commit = std::make_shared<std::atomic<bool>>(false);
  SqliteOptions options;
  options.fault_injection = [fail_commit](WriteStep step) {
    if (step == WriteStep::kCommit && fail_commit->load()) throw StoreError("injected commit");
  };
  store_ = open_sqlite_store(path_, options);
  const IncidentId id = insert(make_incident("memo"));
  append(make_event(id, "one", kT0));
  fail_commit->store(true);
  EXPECT_THROW(store_->write([&](Transaction& tx) {
    Incident i = *tx.find_incident(id);
    i.status = IncidentStatus::kClosed;
    tx.update_incident(i);
    EXPECT_EQ(tx.current_incident(kChannel), std::nullopt);
    EXPECT_EQ(tx.append_event(make_event(id, "two", kT0)).seq, 2);
  }),
               StoreError);
  fail_commit->store(false);
  store_->write([&](Transaction& tx) {
    const auto incident = tx.current_incident(kChannel);
    ASSERT_TRUE(incident.has_value());
    EXPECT_EQ(incident->status, IncidentStatus::kOpen);
    EXPECT_EQ(tx.append_event(make_event(id, "two again", kT0)).seq, 2);
  });
}

}  // namespace
}  // namespace scribe

// ------------------------------------------------------------------------- draft versions

namespace scribe {
namespace {

// What the API's draft cache checks a kept draft against (bot/draft_cache.h): every kind
// of write that a draft is made from raises the incident's version in its own transaction,
// a write to another incident does not, and only what related incidents are made from
// (cause notes, fields and open items of incidents with a cause) raises `related`.
TEST_P(StoreTest, EveryChangeADraftIsMadeFromRaisesItsDraftVersion) {
  const IncidentId id = insert(make_incident("db down"));
  const IncidentId other = insert(make_incident("other", ChannelRef{"slack", "T0TEAM", "C0OTHER"}));
  auto version = [&](IncidentId incident) {
    std::optional<DraftVersion> v;
    store_->read([&](Transaction& tx) { v = tx.draft_version(incident); });
    return v;
  };
  EXPECT_FALSE(version(other + 1)) << "no such incident";
  ASSERT_TRUE(version(id));
  DraftVersion last = *version(id);
  const DraftVersion other_start = *version(other);
  // Runs `change` in a write and expects the incident's number raised, and `related` raised
  // exactly when `related_moves`.
  auto expect_raised = [&](const std::string& what, bool related_moves,
                           const std::function<void(Transaction&)>& change) {
    store_->write(change);
    const DraftVersion now = *version(id);
    EXPECT_TRUE(now.incident > last.incident || now.events > last.events) << what;
    EXPECT_GE(now.incident, last.incident) << what;
    EXPECT_GE(now.events, last.events) << what;
    if (related_moves) {
      EXPECT_GT(now.related, last.related) << what;
    } else {
      EXPECT_EQ(now.related, last.related) << what;
    }
    last = now;
  };

  TimelineEvent e;
  expect_raised("an event", false,
                [&](Transaction& tx) { e = tx.append_event(make_event(id, "first", kT0)); });
  expect_raised("an edit", false, [&](Transaction& tx) {
    TimelineEvent updated = e;
    updated.text = "edited";
    updated.revision = 1;
    EventRevision previous{e.id, e.seq, 0, "edit", e.kind, e.occurred_at, e.text, kBob, kT0};
    tx.revise_event(updated, previous);
  });
  expect_raised("a redaction", false, [&](Transaction& tx) {
    TimelineEvent updated = e;
    updated.deleted = true;
    updated.revision = 2;
    EventRevision previous{e.id, e.seq, 1, "delete", e.kind, e.occurred_at, "edited", kBob, kT0};
    tx.revise_event(updated, previous);
  });
  expect_raised("a summary note", false, [&](Transaction& tx) {
    Note n;
    n.incident_id = id;
    n.section = NoteSection::kSummary;
    n.text = "summary";
    n.author = kAlice;
    n.created_at = kT0;
    tx.add_note(n);
  });
  ActionItem item;
  expect_raised("an action item (no cause yet)", false,
                [&](Transaction& tx) { item = tx.add_action(make_action(id, "add an alert")); });
  expect_raised("a cause note", true, [&](Transaction& tx) {
    Note n;
    n.incident_id = id;
    n.section = NoteSection::kCause;
    n.text = "disk full";
    n.author = kAlice;
    n.created_at = kT0;
    tx.add_note(n);
  });
  expect_raised("an action item's change (the incident has a cause)", true, [&](Transaction& tx) {
    ActionItem done = item;
    done.status = ActionStatus::kDone;
    tx.update_action(done);
  });
  expect_raised("an action item's audited change", true, [&](Transaction& tx) {
    ActionItem owned = item;
    owned.owner = kBob;
    tx.revise_action(owned, {ActionRevision{item.id, item.seq, "owner", "", "bob", kAlice, kT0}});
  });
  expect_raised("the incident's fields (it has a cause)", true, [&](Transaction& tx) {
    Incident i = *tx.find_incident(id);
    i.severity = Severity::kSev1;
    i.postmortem_owner = kBob;
    tx.update_incident(i);
  });
  expect_raised("an approval", false, [&](Transaction& tx) {
    tx.add_approval(Approval{id, kBob, kT0});
  });
  expect_raised("the channel's time zone", false, [&](Transaction& tx) {
    tx.set_channel_zone(ChannelZone{kChannel, "Europe/Paris", kAlice, kT0});
  });
  EXPECT_EQ(version(other)->incident, other_start.incident)
      << "nothing of the other incident changed";

  // The other incident: its changes move its own number, and `related` only through what
  // related incidents are made from.
  store_->write([&](Transaction& tx) { tx.append_event(make_event(other, "x", kT0)); });
  EXPECT_EQ(version(id)->incident, last.incident);
  EXPECT_EQ(version(id)->events, last.events);
  EXPECT_GT(version(other)->events, other_start.events);
  EXPECT_EQ(version(id)->related, last.related) << "an event is not in related incidents";
  store_->write([&](Transaction& tx) {
    Incident i = *tx.find_incident(other);
    i.title = "renamed, no cause";
    tx.update_incident(i);
  });
  EXPECT_EQ(version(id)->related, last.related) << "an incident without a cause is never related";

  // An event that does not take the next number (written around append_event, as no code
  // path does) raises the incident's number instead, so it cannot go unseen.
  const DraftVersion before_raw = *version(id);
  exec_raw(fmt::format(
      "INSERT INTO events (incident_id, seq, kind, occurred_at, recorded_at, author_id, "
      "author_name, text) VALUES ({}, 0, 'note', 0, 0, 'U1', 'a', 'written around')",
      id));
  EXPECT_GT(version(id)->incident, before_raw.incident);
  EXPECT_EQ(version(id)->events, before_raw.events);

  // A write that fails is rolled back with its raise.
  const DraftVersion before_failure = *version(id);
  EXPECT_THROW(store_->write([&](Transaction& tx) {
    tx.append_event(make_event(id, "rolled back", kT0));
    throw StoreError("injected");
  }),
               StoreError);
  EXPECT_EQ(*version(id), before_failure);
}

}  // namespace
}  // namespace scribe
