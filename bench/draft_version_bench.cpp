// What the draft versions cost (storage: draft_versions and its triggers; bot/draft_cache.h).
// On the write path: a batch of timeline events appended in one transaction, as the writer
// commits a batch of /timeline commands, on a real SQLite file with the triggers (1) and
// with them dropped (0), so the difference is the triggers' share. On the read path: the
// check a cached draft costs (one read transaction with the version query) beside an empty
// read transaction.
#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <sqlite3.h>

#include "storage/store.h"
#include "support/scratch_dir.h"

namespace scribe {
namespace {

const Timestamp kT0{std::chrono::milliseconds(1'763'647'500'000)};

TimelineEvent make_event(IncidentId incident, int n) {
  TimelineEvent e;
  e.incident_id = incident;
  e.occurred_at = kT0;
  e.recorded_at = kT0;
  e.author = Person{"U1", "alice"};
  e.text = fmt::format("deploy 4812 rolled back on web-{}", n);
  return e;
}

void exec(sqlite3* db, const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string why = message ? message : "?";
    sqlite3_free(message);
    throw std::runtime_error(sql + ": " + why);
  }
}

// A SQLite file with one incident of 1,000 events; `triggers` false drops the draft
// versions' triggers after the migrations ran.
struct Fixture {
  scribe::test::ScratchDir dir{"scribe-draft-version-bench"};
  std::unique_ptr<Store> store;
  IncidentId incident = 0;

  explicit Fixture(bool triggers) {
    const std::string path = (dir.path() / "scribe.db").string();
    store = open_store(path);
    store->write([&](Transaction& tx) {
      Incident i;
      i.channel = ChannelRef{"slack", "T1", "C1"};
      i.title = "bench";
      i.declared_at = kT0;
      incident = tx.insert_incident(i);
      for (int n = 0; n < 1000; ++n) tx.append_event(make_event(incident, n));
    });
    if (!triggers) {
      store.reset();
      sqlite3* db = nullptr;
      if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) throw std::runtime_error("open");
      std::vector<std::string> names;
      sqlite3_stmt* s = nullptr;
      sqlite3_prepare_v2(db,
                         "SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                         "name LIKE 'draft_versions_%'",
                         -1, &s, nullptr);
      while (sqlite3_step(s) == SQLITE_ROW) {
        names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
      }
      sqlite3_finalize(s);
      for (const auto& name : names) exec(db, "DROP TRIGGER " + name);
      sqlite3_close(db);
      if (names.empty()) throw std::runtime_error("no draft_versions triggers found");
      store = open_store(path);
    }
  }
};

// 64 appends per write (a commit group under load), with (1) and without (0) the triggers.
void BM_AppendEventBatch(benchmark::State& state) {
  Fixture f(state.range(0) != 0);
  constexpr int kBatch = 64;
  int n = 0;
  for (auto _ : state) {
    f.store->write([&](Transaction& tx) {
      for (int i = 0; i < kBatch; ++i) tx.append_event(make_event(f.incident, n++));
    });
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
// Process CPU: the writer thread does the work, not the benchmark's.
BENCHMARK(BM_AppendEventBatch)
    ->Arg(0)
    ->Arg(1)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond)
    ->MeasureProcessCPUTime();

// The check before a cached draft is served: one read transaction with the version query.
void BM_DraftVersionRead(benchmark::State& state) {
  Fixture f(true);
  for (auto _ : state) {
    std::optional<DraftVersion> v;
    f.store->read([&](Transaction& tx) { v = tx.draft_version(f.incident); });
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_DraftVersionRead)->Unit(benchmark::kMicrosecond);

// The same read transaction with nothing in it.
void BM_EmptyReadTransaction(benchmark::State& state) {
  Fixture f(true);
  for (auto _ : state) {
    f.store->read([&](Transaction& tx) { benchmark::DoNotOptimize(&tx); });
  }
}
BENCHMARK(BM_EmptyReadTransaction)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace scribe

BENCHMARK_MAIN();
