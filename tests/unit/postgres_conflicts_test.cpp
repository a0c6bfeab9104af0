// Two replicas' batches that lock the same incidents in opposite orders deadlock; PostgreSQL
// fails one of them (40P01). The PostgreSQL store runs that batch again (postgres_store.h),
// so every write succeeds and nothing is recorded twice. A real deadlock, between two stores
// on one fresh database of the throwaway server (store_backends.h).
#include <algorithm>
#include <atomic>
#include <exception>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/postgres_store.h"
#include "store_backends.h"
#include "test_support.h"

namespace scribe {
namespace {

const Timestamp kT0 = test::utc(2026, 11, 20, 14, 0);
const Person kAlice{"U0ALICE", "alice"};

Incident incident_in(const std::string& channel) {
  Incident i;
  i.channel = ChannelRef{"slack", "T0TEAM", channel};
  i.title = "Conflict " + channel;
  i.commander = kAlice;
  i.declared_at = kT0;
  return i;
}

TimelineEvent event_of(IncidentId incident, const std::string& text) {
  TimelineEvent e;
  e.incident_id = incident;
  e.kind = EventKind::kNote;
  e.occurred_at = kT0;
  e.recorded_at = kT0;
  e.author = kAlice;
  e.text = text;
  return e;
}

TEST(PostgresConflictTest, BatchesThatDeadlockAreRunAgainAndEveryWriteSucceeds) {
  test::TestDatabase db(test::Backend::kPostgres);
  SCRIBE_REQUIRE_DATABASE(db);
  std::atomic<int> retries{0};
  PostgresOptions options;
  options.pool_size = 1;
  options.on_conflict_retry = [&] { ++retries; };
  auto one = open_postgres_store(db.location(), options);
  auto two = open_postgres_store(db.location(), options);
  IncidentId x = 0;
  IncidentId y = 0;
  one->write([&](Transaction& tx) {
    x = tx.insert_incident(incident_in("C0X"));
    y = tx.insert_incident(incident_in("C0Y"));
  });

  // Each replica's write appends to one incident (taking its row lock), waits until the
  // other holds its first lock too, then appends to the other incident: a deadlock. The
  // wait is in the first run only; a run again goes straight through.
  std::latch both_hold_their_first(2);
  auto crossing = [&](IncidentId first, IncidentId second, const std::string& who) {
    auto waited = std::make_shared<std::atomic<bool>>(false);
    return [&, first, second, who, waited](Transaction& tx) {
      tx.append_event(event_of(first, who + " first"));
      if (!waited->exchange(true)) both_hold_their_first.arrive_and_wait();
      tx.append_event(event_of(second, who + " second"));
    };
  };
  std::exception_ptr error_one;
  std::exception_ptr error_two;
  std::thread a([&] {
    try {
      one->write(crossing(x, y, "one"));
    } catch (...) {
      error_one = std::current_exception();
    }
  });
  std::thread b([&] {
    try {
      two->write(crossing(y, x, "two"));
    } catch (...) {
      error_two = std::current_exception();
    }
  });
  a.join();
  b.join();

  auto what = [](const std::exception_ptr& e) -> std::string {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      return ex.what();
    }
    return "";
  };
  EXPECT_EQ(what(error_one), "");
  EXPECT_EQ(what(error_two), "");
  EXPECT_GE(retries.load(), 1) << "no deadlock happened: the test proves nothing";
  // Each write's effects, once: the rolled-back run left nothing.
  for (const IncidentId id : {x, y}) {
    std::vector<TimelineEvent> events;
    one->read([&](Transaction& tx) { events = tx.events(id, true); });
    std::vector<std::string> texts;
    for (const auto& e : events) texts.push_back(e.text);
    std::sort(texts.begin(), texts.end());
    EXPECT_EQ(texts, (id == x ? std::vector<std::string>{"one first", "two second"}
                              : std::vector<std::string>{"one second", "two first"}));
  }
}

}  // namespace
}  // namespace scribe
