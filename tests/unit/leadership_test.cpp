// Leadership (storage/leadership.h): on PostgreSQL exactly one of two campaigners leads; the
// leader's backend terminated (what a dead process or a cut connection looks like to the
// server) makes the other lead within a bounded wait while the old one steps down; stop()
// hands over at once. SQLite always leads. On a fresh database per test (store_backends.h).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "storage/leadership.h"
#include "storage/postgres_schema.h"
#include "store_backends.h"

namespace scribe {
namespace {

using namespace std::chrono_literals;

// What one campaigner was told, for condition waits.
class Recorder {
 public:
  Leadership::OnChange callback() {
    return [this](bool leading) {
      {
        std::lock_guard lock(mu_);
        changes_.push_back(leading);
      }
      cv_.notify_all();
    };
  }
  // Waits (at most `limit`) until the last change told is `leading`.
  bool wait_for(bool leading, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit,
                        [&] { return !changes_.empty() && changes_.back() == leading; });
  }
  std::vector<bool> changes() {
    std::lock_guard lock(mu_);
    return changes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<bool> changes_;
};

// Terminates the session holding the leader lock (as pg_locks shows a bigint advisory key:
// high half in classid, low half in objid); returns how many it terminated.
std::int64_t terminate_leader(const test::TestDatabase& db) {
  const auto key = static_cast<std::uint64_t>(pg::kLeaderLock);
  return db.query_int(
      fmt::format("SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE "
                  "locktype = 'advisory' AND classid = {} AND objid = {} AND granted",
                  key >> 32, key & 0xffffffffU));
}

std::int64_t holders(const test::TestDatabase& db) {
  const auto key = static_cast<std::uint64_t>(pg::kLeaderLock);
  return db.query_int(
      fmt::format("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = {} "
                  "AND objid = {} AND granted",
                  key >> 32, key & 0xffffffffU));
}

class PostgresLeadershipTest : public testing::Test {
 protected:
  void SetUp() override { SCRIBE_REQUIRE_DATABASE(db_); }

  test::TestDatabase db_{test::Backend::kPostgres};
};

TEST_F(PostgresLeadershipTest, ExactlyOneLeadsAndTheOtherTakesOverWhenItsBackendIsTerminated) {
  Recorder ra;
  Recorder rb;
  auto a = open_leadership(db_.location());
  auto b = open_leadership(db_.location());
  a->start(ra.callback());
  b->start(rb.callback());

  // One of them leads (takeover_delay after winning the lock); the other stands by.
  bool a_leads = false;
  const auto until = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    if (ra.wait_for(true, 50ms)) {
      a_leads = true;
      break;
    }
    if (rb.wait_for(true, 50ms)) break;
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "nobody leads within 10 s";
  }
  Leadership& leader = a_leads ? *a : *b;
  Leadership& standby = a_leads ? *b : *a;
  Recorder& leader_told = a_leads ? ra : rb;
  Recorder& standby_told = a_leads ? rb : ra;
  EXPECT_TRUE(leader.leading());
  EXPECT_FALSE(standby.leading());
  EXPECT_TRUE(standby_told.changes().empty());
  EXPECT_EQ(holders(db_), 1);

  // The leader's session ends: the standby takes over, the old leader steps down.
  const auto cut = std::chrono::steady_clock::now();
  ASSERT_EQ(terminate_leader(db_), 1);
  ASSERT_TRUE(standby_told.wait_for(true, 10s)) << "no takeover within 10 s";
  const auto took = std::chrono::steady_clock::now() - cut;
  ASSERT_TRUE(leader_told.wait_for(false, 10s)) << "the old leader did not step down";
  EXPECT_TRUE(standby.leading());
  EXPECT_FALSE(leader.leading());
  EXPECT_EQ(leader_told.changes(), (std::vector<bool>{true, false}));
  EXPECT_EQ(holders(db_), 1);
  // A figure for the record, not a check: the bound above is what is promised.
  std::printf(
      "takeover after pg_terminate_backend: %lld ms\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));

  // The new leader stops: it hands over at once (the lock is released, not timed out), and
  // the old one, campaigning again, leads.
  standby.stop();
  EXPECT_FALSE(standby.leading());
  EXPECT_EQ(standby_told.changes(), (std::vector<bool>{true, false}));
  ASSERT_TRUE(leader_told.wait_for(true, 10s)) << "the lock was not handed over on stop()";
  EXPECT_TRUE(leader.leading());
  leader.stop();
  EXPECT_EQ(leader_told.changes(), (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(holders(db_), 0);
}

TEST(UnreachableLeadershipTest, AnUnreachableServerNeverLeadsAndStopsPromptly) {
  // A port nothing listens on (the URL's own server, port 1): campaigning never leads.
  Recorder r;
  auto l = open_leadership("postgresql://scribe@127.0.0.1:1/none?connect_timeout=2");
  l->start(r.callback());
  EXPECT_FALSE(r.wait_for(true, 1500ms));
  EXPECT_FALSE(l->leading());
  l->stop();
  EXPECT_TRUE(r.changes().empty());
}

TEST(SqliteLeadershipTest, TheOneProcessAlwaysLeads) {
  Recorder r;
  auto l = open_leadership("/nonexistent/scribe.db");
  EXPECT_FALSE(l->leading());
  l->start(r.callback());
  EXPECT_TRUE(l->leading());
  l->stop();
  EXPECT_FALSE(l->leading());
  l->stop();  // idempotent
  EXPECT_EQ(r.changes(), (std::vector<bool>{true, false}));
}

}  // namespace
}  // namespace scribe
