// What the writer thread spends on one `/timeline` command's storage work, without HTTP:
// the statements a signed Slack command runs in its write (the replay key looked up and
// stored, the channel's current incident and time zones, the event cap, the append, the
// answer stored with the key), 32 writes queued at once as under the load bench's 32
// connections, on a real SQLite file. Process CPU per write: the writer thread does nearly
// all of it (this thread only queues and waits). For before/after comparisons of the write
// path (README, Benchmarks: "Profile, fourth pass").
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include <fmt/format.h>

#include "storage/store.h"
#include "support/scratch_dir.h"

namespace scribe {
namespace {

const ChannelRef kChannel{"slack", "T0TEAM", "C0INC"};
const Timestamp kT{std::chrono::milliseconds(1'763'647'500'000)};

struct Fixture {
  scribe::test::ScratchDir dir{"scribe-writer-bench"};
  std::unique_ptr<Store> store;

  Fixture() {
    store = open_store((dir.path() / "scribe.db").string());
    store->write([&](Transaction& tx) {
      Incident i;
      i.channel = kChannel;
      i.title = "bench";
      i.commander = Person{"U0ALICE", "alice"};
      i.declared_at = kT;
      tx.insert_incident(i);
    });
  }
};

// A typical answer to a /timeline (rendered JSON, stored with the replay key).
const std::string kAnswer =
    R"js({"response_type":"in_channel","text":"14:05:00 UTC · load event number 123456 with some )js"
    R"js(text of typical length (by @alice)","blocks":[{"type":"section","text":{"type":"mrkdwn",)js"
    R"js("text":"*14:05:00 UTC* · load event number 123456 with some text of typical length (by )js"
    R"js(@alice)"}},{"type":"context","elements":[{"type":"mrkdwn","text":"INC-1 #123456"}]}]})js";

void BM_TimelineWrites(benchmark::State& state) {
  Fixture f;
  constexpr int kBatch = 32;
  std::uint64_t next = 0;
  const std::uint64_t salt = std::random_device{}();
  std::atomic<bool> failed{false};
  for (auto _ : state) {
    std::mutex mu;
    std::condition_variable cv;
    int left = kBatch;
    for (int i = 0; i < kBatch; ++i) {
      const std::uint64_t n = next++;
      f.store->write_async(
          [n, salt](Transaction& tx) {
            const std::string key = fmt::format("{}.{}.bench", salt, n);
            if (!tx.first_delivery_until("slack-trigger", key, kT, kT + std::chrono::minutes(11))) {
              return;
            }
            const auto incident = tx.current_incident(kChannel);
            if (!incident) throw StoreError("no incident");
            (void)tx.channel_zones(kChannel);
            if (tx.count_in_incident(incident->id, IncidentPart::kEvents) >= 1'000'000'000) return;
            TimelineEvent e;
            e.incident_id = incident->id;
            e.occurred_at = kT;
            e.recorded_at = kT;
            e.author = Person{"U0ALICE", "alice"};
            e.text = fmt::format("load event number {} with some text of typical length", n);
            tx.append_event(std::move(e));
            tx.set_delivery_answer("slack-trigger", key, kAnswer);
          },
          [&](std::exception_ptr error) {
            if (error) failed = true;
            std::lock_guard lock(mu);
            if (--left == 0) cv.notify_one();
          });
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return left == 0; });
  }
  if (failed) state.SkipWithError("a write failed");
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_TimelineWrites)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace scribe

BENCHMARK_MAIN();
