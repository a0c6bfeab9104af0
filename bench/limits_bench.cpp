// What the limits cost on a command's path (commands/limits.h): the per-incident count
// read in the command's transaction, on a real SQLite file, for a small and a large
// incident; and the channel's token bucket, for one busy channel and for many.
#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands/limits.h"
#include "storage/store.h"
#include "support/scratch_dir.h"

namespace scribe {
namespace {

// A SQLite file with one incident of `events` events, 100 notes and 100 action items.
struct Fixture {
  scribe::test::ScratchDir dir{"scribe-limits-bench"};
  std::unique_ptr<Store> store;
  IncidentId incident = 0;

  explicit Fixture(int events) {
    store = open_store((dir.path() / "scribe.db").string());
    const Timestamp t{std::chrono::milliseconds(1'763'647'500'000)};
    store->write([&](Transaction& tx) {
      Incident i;
      i.channel = ChannelRef{"slack", "T1", "C1"};
      i.title = "bench";
      i.declared_at = t;
      incident = tx.insert_incident(i);
      for (int n = 0; n < events; ++n) {
        TimelineEvent e;
        e.incident_id = incident;
        e.occurred_at = t;
        e.recorded_at = t;
        e.author = Person{"U1", "alice"};
        e.text = fmt::format("event {}", n);
        tx.append_event(std::move(e));
      }
      for (int n = 0; n < 100; ++n) {
        Note note;
        note.incident_id = incident;
        note.text = "note";
        note.author = Person{"U1", "alice"};
        note.created_at = t;
        tx.add_note(note);
        ActionItem a;
        a.incident_id = incident;
        a.text = "item";
        a.created_by = Person{"U1", "alice"};
        a.created_at = t;
        tx.add_action(a);
      }
    });
  }
};

// The count a capped command reads, inside a read transaction (a write transaction adds
// its own commit cost, which the load bench measures).
void BM_CountInIncident(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    std::int64_t n = 0;
    f.store->read([&](Transaction& tx) {
      n = tx.count_in_incident(f.incident, static_cast<IncidentPart>(state.range(1)));
    });
    benchmark::DoNotOptimize(n);
  }
}
// Args: events in the incident; 0 events, 1 notes (100), 2 action items (100).
BENCHMARK(BM_CountInIncident)
    ->ArgsProduct({{10, 5000, 100000}, {0}})
    ->Args({5000, 1})
    ->Args({5000, 2})
    ->Unit(benchmark::kMicrosecond);

// The same read transaction with nothing in it: what the count adds is the difference.
void BM_EmptyRead(benchmark::State& state) {
  Fixture f(10);
  for (auto _ : state) {
    f.store->read([&](Transaction& tx) { benchmark::DoNotOptimize(&tx); });
  }
}
BENCHMARK(BM_EmptyRead)->Unit(benchmark::kMicrosecond);

// One channel that is never refused (a bucket refilled faster than the loop takes).
void BM_RateLimiterOneChannel(benchmark::State& state) {
  RateSettings s;
  s.burst = 1'000'000'000;
  s.per_minute = 1'000'000'000;
  RateLimiter limiter(s);
  const std::string channel =
      "slack\x1fT1\x1f"
      "C1";
  for (auto _ : state) benchmark::DoNotOptimize(limiter.acquire(channel));
}
BENCHMARK(BM_RateLimiterOneChannel);

// Commands spread over many channels, as in a spray of forged channel ids: the table
// stays bounded, each acquire still cheap.
void BM_RateLimiterManyChannels(benchmark::State& state) {
  RateLimiter limiter(RateSettings{});
  std::vector<std::string> channels;
  for (int i = 0; i < 100'000; ++i) channels.push_back(fmt::format("slack\x1fT1\x1f{}", i));
  std::size_t next = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(limiter.acquire(channels[next]));
    next = (next + 1) % channels.size();
  }
  state.counters["channels_held"] = static_cast<double>(limiter.channels());
}
BENCHMARK(BM_RateLimiterManyChannels);

}  // namespace
}  // namespace scribe

BENCHMARK_MAIN();
