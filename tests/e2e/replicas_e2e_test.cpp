// Three replicas on one PostgreSQL, one of them killed with SIGKILL while it holds outbox
// jobs: three real `scribe serve` processes on a fresh database of the throwaway server
// (SCRIBE_TEST_POSTGRES_URL; skipped without it, failed under CI=true), a stand-in Slack
// that records every chat.postMessage it answers, and a test clock shared by the three
// (SCRIBE_TEST_CLOCK_FILE) so reminders come due on cue. Correctly signed slash commands go
// round-robin to the three; the stand-in answers slowly, so the replica that claimed the
// drafts is killed in the middle of delivering them, and the survivors take its claims over
// once the 5 s lease is over on the replicas' clock (the test moves it on, no waiting).
//
// "Delivered once" includes the post in flight at the kill. Slack's chat.postMessage has no
// idempotency key, so a replica killed after Slack took a post but before it recorded it
// leaves a job in doubt; the survivor that takes it over looks for the post (by the marker
// in its message metadata) before posting. The test counts what the stand-in received:
// every job exactly once.
//
// store_backends.h comes first: it names gtest's ::testing from inside namespace scribe,
// before e2e/fixture.h declares scribe::testing.
#include "unit/store_backends.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <date/date.h>
#include <gmock/gmock.h>

#include "e2e/fixture.h"
#include "support/slack_standin.h"

namespace scribe::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "replicas-signing-secret-5b1d";
constexpr const char* kApiToken = "replicas-api-token";
constexpr int kReplicas = 3;
constexpr int kChannels = 6;
constexpr int kEventsPerChannel = 10;
const SlackUser kDave{"U0DAVE", "dave"};

std::chrono::sys_seconds at(const date::sys_days day, int h, int m, int s) {
  return day + std::chrono::hours{h} + std::chrono::minutes{m} + std::chrono::seconds{s};
}

class ReplicasE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    SCRIBE_REQUIRE_DATABASE(db_);
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("scribe-replicas-{}-{}", getpid(), std::random_device{}());
    std::filesystem::create_directories(dir_);
    clock_file_ = (dir_ / "clock").string();
    set_clock(at(kDay, 8, 0, 0));
    for (int r = 0; r < kReplicas; ++r) {
      replicas_.push_back(start());
      clients_.push_back(std::make_unique<SlackClient>(replicas_.back()->base_url(), kSecret));
      clients_.back()->sign_at(now_);
    }
  }
  void TearDown() override {
    replicas_.clear();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<ScribeProcess> start() {
    const std::map<std::string, std::string> env = {
        {"SCRIBE_DB", db_.location()},
        {"SCRIBE_API_TOKEN", kApiToken},
        {"SCRIBE_SLACK_SIGNING_SECRET", kSecret},
        {"SCRIBE_SLACK_BOT_TOKEN", standin_.token()},
        {"SCRIBE_SLACK_API_URL", standin_.base_url()},
        {"SCRIBE_CLAIM_LEASE_SECONDS", "5"},
        {"SCRIBE_TEST_CLOCK_FILE", clock_file_},
        {"SCRIBE_REMINDER_TICK_MS", "50"},
        {"SCRIBE_REMINDER_TIME_OF_DAY", "09:00"},
        {"SCRIBE_REMINDER_QUIET_HOURS", "off"},
        {"SCRIBE_REMINDER_DELIVERY", "channel"},
        {"SCRIBE_REMINDER_DIGEST_DAY", "off"},
    };
    ScribeProcessOptions options;
    options.inherit_scribe_env = false;
    return std::make_unique<ScribeProcess>(SCRIBE_BINARY, env, options);
  }

  // Moves the replicas' clock (written whole, then renamed into place) and signs with it.
  void set_clock(std::chrono::sys_seconds t) {
    now_ = t;
    const std::string tmp = clock_file_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << date::format("%FT%TZ", t) << "\n";
    }
    std::filesystem::rename(tmp, clock_file_);
    for (auto& c : clients_) c->sign_at(t);
  }

  // One text value, read over a connection of its own; "" for none.
  std::string query_text(const std::string& sql) const {
    pg::Connection c(db_.location());
    pg::Stmt s = c.prepare(sql);
    return s.step() && !s.is_null(0) ? s.text(0) : std::string();
  }

  static std::string channel(int c) { return fmt::format("C0REP{}", c); }

  // Sends a command to replica `r`; true when it was acknowledged (a 200 JSON reply).
  bool send(int r, const std::string& command, const std::string& text, const std::string& where,
            const SlackUser& user = {}) {
    try {
      clients_[static_cast<std::size_t>(r)]->command(command, text, where, user);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  // Waits until `done` holds, each look after the next post reaches the stand-in (or 100 ms).
  bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= until) return false;
      standin_.wait_for_calls("chat.postMessage", standin_.calls_to("chat.postMessage").size() + 1,
                              100ms);
    }
    return true;
  }

  // The posts the stand-in answered ok, each without the "ts" it gave: what was sent.
  std::vector<std::string> posts() const {
    std::vector<std::string> out;
    for (json p : standin_.posted_messages()) {
      p.erase("ts");
      out.push_back(p.dump());
    }
    return out;
  }

  static inline const date::sys_days kDay = date::year{2026} / 12 / 1;
  test::TestDatabase db_{test::Backend::kPostgres};
  SlackStandIn standin_;
  std::filesystem::path dir_;
  std::string clock_file_;
  std::chrono::sys_seconds now_;
  std::vector<std::unique_ptr<ScribeProcess>> replicas_;
  std::vector<std::unique_ptr<SlackClient>> clients_;
};

TEST_F(ReplicasE2E, AReplicaKilledMidClaimLosesNothingAndItsJobsAreSentOnceByAnother) {
  const auto started = std::chrono::steady_clock::now();
  // Commands spread round-robin over the three replicas; each acknowledged one is noted.
  std::vector<std::string> acknowledged;
  int turn = 0;
  const auto next = [&] { return turn++ % kReplicas; };
  for (int c = 0; c < kChannels; ++c) {
    ASSERT_TRUE(
        send(next(), "/incident", fmt::format("start sev2 Replica test {}", c), channel(c)));
    ASSERT_TRUE(send(next(), "/action",
                     fmt::format("Fix retry storm {} <@U0DAVE|dave> due 2026-12-02 #prevent", c),
                     channel(c)));
  }
  for (int i = 0; i < kEventsPerChannel; ++i) {
    for (int c = 0; c < kChannels; ++c) {
      const std::string text = fmt::format("replica event {} of channel {}", i, c);
      if (send(next(), "/timeline", text, channel(c))) acknowledged.push_back(text);
    }
  }
  ASSERT_EQ(acknowledged.size(), static_cast<std::size_t>(kChannels * kEventsPerChannel));

  // Resolving posts each incident's draft (a summary and its thread) through the outbox.
  // Slack answers slowly, so whoever claims the drafts is still delivering them when killed.
  standin_.set_delay(400ms);
  for (int c = 0; c < kChannels; ++c)
    ASSERT_TRUE(send(next(), "/incident", "resolved", channel(c)));

  // The replica holding claims (its pid is part of its claims' owner) is killed.
  std::string owner;
  ASSERT_TRUE(wait_until(
      [&] {
        owner = query_text(
            "SELECT claimed_by FROM outbox WHERE status='pending' AND claimed_by IS NOT NULL "
            "ORDER BY id LIMIT 1");
        return !owner.empty() && !standin_.calls_to("chat.postMessage").empty();
      },
      20s));
  int victim = -1;
  for (int r = 0; r < kReplicas; ++r) {
    if (owner.find(fmt::format(":{}:", replicas_[static_cast<std::size_t>(r)]->pid())) !=
        std::string::npos) {
      victim = r;
    }
  }
  ASSERT_GE(victim, 0) << owner;
  replicas_[static_cast<std::size_t>(victim)]->kill_hard();
  const std::string held = query_text(fmt::format(
      "SELECT string_agg(id::text, ',') FROM outbox WHERE status='pending' AND claimed_by='{}'",
      owner));
  ASSERT_FALSE(held.empty()) << "the killed replica held no claim";
  const std::int64_t lease_end_ms =
      db_.query_int(fmt::format("SELECT max(claim_expires_at) FROM outbox WHERE id IN ({})", held));
  standin_.set_delay(0ms);

  // The survivors take more commands meanwhile; its claims wait for their lease.
  std::vector<int> survivors;
  for (int r = 0; r < kReplicas; ++r) {
    if (r != victim) survivors.push_back(r);
  }
  for (int i = 0; i < 6; ++i) {
    const std::string text = fmt::format("after the kill {}", i);
    if (send(survivors[static_cast<std::size_t>(i) % survivors.size()], "/timeline", text,
             channel(i % kChannels))) {
      acknowledged.push_back(text);
    }
  }
  const auto unsent = [&] {
    return db_.query_int("SELECT count(*) FROM outbox WHERE status <> 'sent'");
  };
  EXPECT_EQ(db_.query_int(fmt::format("SELECT count(*) FROM outbox WHERE id IN ({}) AND "
                                      "status='pending' AND claimed_by='{}'",
                                      held, owner)),
            db_.query_int(fmt::format("SELECT count(*) FROM outbox WHERE id IN ({})", held)))
      << "a claim was taken before its lease was over";

  // The survivors send all they can: what is left waits behind the killed replica's claims
  // (a channel's jobs go in order). Only then does the clock move on: a jump past the lease
  // while a live replica is delivering would end its lease under it, which real time,
  // passing for all alike, does not do (a job starts only in the first half of its lease).
  ASSERT_TRUE(wait_until(
      [&] {
        return db_.query_int(fmt::format(
                   "SELECT count(*) FROM outbox o WHERE status='pending' AND NOT EXISTS (SELECT "
                   "1 FROM outbox v WHERE v.status='pending' AND v.claimed_by='{}' AND "
                   "v.channel=o.channel)",
                   owner)) == 0;
      },
      20s));
  // The lease ends: the survivors send everything, the killed replica's jobs included.
  set_clock(at(kDay, 8, 0, 6));
  const auto took_over = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return unsent() == 0; }, 20s))
      << unsent() << " jobs unsent\n"
      << replicas_[static_cast<std::size_t>(survivors[0])]->logs();
  const double takeover_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - took_over).count();
  EXPECT_EQ(
      db_.query_int(fmt::format("SELECT count(*) FROM outbox WHERE id IN ({}) AND sent_at >= {}",
                                held, lease_end_ms)),
      db_.query_int(fmt::format("SELECT count(*) FROM outbox WHERE id IN ({})", held)));

  // Due reminders: every surviving replica's scheduler sees them due; each goes out once.
  const std::int64_t jobs_before_reminders = db_.query_int("SELECT count(*) FROM outbox");
  set_clock(at(kDay, 9, 0, 1));
  const auto reminders_out = [&] {
    int n = 0;
    for (const std::string& p : posts()) {
      n += p.find("Fix retry storm") != std::string::npos &&
                   p.find("due tomorrow") != std::string::npos
               ? 1
               : 0;
    }
    return n;
  };
  ASSERT_TRUE(wait_until([&] { return reminders_out() >= kChannels && unsent() == 0; }, 20s));
  EXPECT_EQ(db_.query_int("SELECT count(*) FROM outbox") - jobs_before_reminders, kChannels)
      << "one reminder job per item, whichever replica's scheduler enqueued it";

  // Every acknowledged command is stored exactly once.
  HttpClient http;
  const auto& reader = *replicas_[static_cast<std::size_t>(survivors[0])];
  std::map<std::string, int> stored;
  for (int id = 1; id <= kChannels; ++id) {
    const HttpResult r =
        http.request("GET", fmt::format("{}/api/incidents/{}", reader.base_url(), id),
                     {std::string("Authorization: Bearer ") + kApiToken});
    ASSERT_EQ(r.status, 200) << r.body;
    const json incident = json::parse(r.body);
    for (const auto& e : incident["timeline"]) ++stored[e["text"].get<std::string>()];
  }
  for (const std::string& text : acknowledged) EXPECT_EQ(stored[text], 1) << text;

  // What the stand-in received: every job, each exactly once.
  const std::vector<std::string> received = posts();
  const std::int64_t jobs = db_.query_int("SELECT count(*) FROM outbox WHERE kind = 'post'");
  std::map<std::string, int> times;
  for (const std::string& p : received) ++times[p];
  EXPECT_EQ(static_cast<std::int64_t>(times.size()), jobs) << "a job was never posted";
  int repeated = 0;
  for (const auto& [post, n] : times) {
    EXPECT_EQ(n, 1) << post;
    repeated += n > 1 ? 1 : 0;
  }
  // Whether the kill caught a post in flight (one at most: a sender posts one at a time):
  // then a survivor found it in the channel instead of posting it again.
  std::size_t found = 0;
  for (const int r : survivors) {
    const std::string logs = replicas_[static_cast<std::size_t>(r)]->logs();
    for (auto at = logs.find("an earlier delivery went unrecorded"); at != std::string::npos;
         at = logs.find("an earlier delivery went unrecorded", at + 1)) {
      ++found;
    }
  }
  EXPECT_LE(found, 1u);
  std::cout << fmt::format(
      "[ figures  ] {} commands acknowledged, {} posts for {} jobs ({} repeated), jobs {} held "
      "by the killed replica ({} found already posted); all sent {:.2f} s after its lease "
      "ended; test {:.1f} s\n",
      acknowledged.size(), received.size(), jobs, repeated, held, found, takeover_s,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

}  // namespace
}  // namespace scribe::testing
