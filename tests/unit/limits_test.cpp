// The limits of commands/limits.h: the token bucket on a hand-moved clock, and each limit
// through CommandHandler over a real SQLite file: refused with the limit named, the store
// exactly as it was.
#include "commands/limits.h"

#include <date/tz.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bot/config.h"
#include "bot/paging.h"
#include "commands/handler.h"
#include "storage/store.h"
#include "test_support.h"

namespace scribe {
namespace {

using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::Not;

RateSettings rate(int burst, int per_minute) {
  RateSettings r;
  r.burst = burst;
  r.per_minute = per_minute;
  return r;
}

CommandLimits caps(int events, int notes, int actions) {
  CommandLimits l;
  l.per_incident.events = events;
  l.per_incident.notes = notes;
  l.per_incident.actions = actions;
  return l;
}

// What a refusal says about when to try again; nullopt when the command may run.
std::optional<std::chrono::seconds> wait_of(const std::optional<RateRefusal>& r) {
  if (!r) return std::nullopt;
  return r->retry_after;
}

// A clock the test moves by hand.
struct ManualClock {
  RateLimiter::Instant now{std::chrono::hours(1)};
  RateLimiter::Clock clock() {
    return [this] { return now; };
  }
};

TEST(RateLimiterTest, ABurstThenTheSustainedRate) {
  ManualClock t;
  RateLimiter limiter(rate(3, 60), t.clock());
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(wait_of(limiter.acquire("C1")).has_value()) << i;
  const auto wait = wait_of(limiter.acquire("C1"));
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, 1s);  // one a second
  // Refused commands take nothing: half a second later it is still half a token away.
  t.now += 500ms;
  EXPECT_EQ(wait_of(limiter.acquire("C1")), std::optional(1s));
  t.now += 500ms;
  EXPECT_FALSE(wait_of(limiter.acquire("C1")).has_value());
  EXPECT_TRUE(wait_of(limiter.acquire("C1")).has_value());
  // At the sustained rate, never refused.
  for (int i = 0; i < 100; ++i) {
    t.now += 1s;
    EXPECT_FALSE(wait_of(limiter.acquire("C1")).has_value()) << i;
  }
}

TEST(RateLimiterTest, SaysHowLongToWaitInWholeSecondsRoundedUp) {
  ManualClock t;
  RateLimiter limiter(rate(1, 6), t.clock());  // one per 10 s
  EXPECT_FALSE(wait_of(limiter.acquire("C1")).has_value());
  EXPECT_EQ(wait_of(limiter.acquire("C1")), std::optional(10s));
  t.now += 2500ms;
  EXPECT_EQ(wait_of(limiter.acquire("C1")), std::optional(8s));  // 7.5 s, rounded up
  t.now += 7500ms;
  EXPECT_FALSE(wait_of(limiter.acquire("C1")).has_value());
}

TEST(RateLimiterTest, OnlyTheFirstRefusalOfARunIsMarkedFirst) {
  ManualClock t;
  RateLimiter limiter(rate(1, 60), t.clock());
  EXPECT_FALSE(limiter.acquire("C1").has_value());
  auto r = limiter.acquire("C1");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->first);
  r = limiter.acquire("C1");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->first);  // one log line per run, not one per refused command
  t.now += 1s;
  EXPECT_FALSE(limiter.acquire("C1").has_value());
  r = limiter.acquire("C1");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->first);
}

TEST(RateLimiterTest, ChannelsHaveBucketsOfTheirOwn) {
  ManualClock t;
  RateLimiter limiter(rate(2, 1), t.clock());
  EXPECT_FALSE(wait_of(limiter.acquire("C1")).has_value());
  EXPECT_FALSE(wait_of(limiter.acquire("C1")).has_value());
  EXPECT_TRUE(wait_of(limiter.acquire("C1")).has_value());
  EXPECT_FALSE(wait_of(limiter.acquire("C2")).has_value());
  EXPECT_FALSE(wait_of(limiter.acquire("C2")).has_value());
  EXPECT_TRUE(wait_of(limiter.acquire("C2")).has_value());
}

TEST(RateLimiterTest, DisabledLetsEverythingIn) {
  ManualClock t;
  RateSettings off = rate(1, 1);
  off.enabled = false;
  RateLimiter limiter(off, t.clock());
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(wait_of(limiter.acquire("C1")).has_value());
  EXPECT_EQ(limiter.channels(), 0u);
}

TEST(RateLimiterTest, IdleBucketsAreDroppedSoMemoryStaysBounded) {
  ManualClock t;
  RateLimiter limiter(rate(10, 600), t.clock(), 100000);
  // 5,000 channels send one command each, one after another a millisecond apart: each
  // bucket is full again a second after its command, so few are held at any time.
  std::size_t most = 0;
  for (int i = 0; i < 5000; ++i) {
    t.now += 1ms;
    EXPECT_FALSE(wait_of(limiter.acquire(fmt::format("C{}", i))).has_value());
    most = std::max(most, limiter.channels());
  }
  EXPECT_LE(most, 2048u);  // swept at 1,024 and at twice what a sweep left
}

TEST(RateLimiterTest, NeverHoldsMoreThanItsMostChannels) {
  ManualClock t;
  RateLimiter limiter(rate(10, 1), t.clock(), 1000);
  // Every channel stays busy (its bucket never refills within the test), so only the
  // hard bound keeps the table small; the least recently used go first.
  for (int i = 0; i < 20000; ++i) {
    t.now += 1ms;
    wait_of(limiter.acquire(fmt::format("C{}", i)));
    ASSERT_LE(limiter.channels(), 1000u) << i;
  }
  // The latest channel is still held: its second command comes out of the same bucket.
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(wait_of(limiter.acquire("C19999")).has_value());
  EXPECT_TRUE(wait_of(limiter.acquire("C19999")).has_value());
}

// Counts and texts of everything a command can add: equal dumps, nothing changed.
std::string dump(Store& store) {
  std::ostringstream out;
  store.read([&](Transaction& tx) {
    for (const Incident& i : tx.list_incidents(1000)) {
      out << "incident " << i.id << " " << to_string(i.status) << " " << to_string(i.severity)
          << " " << i.commander.name << "\n";
      for (const auto& e : tx.events(i.id, true)) {
        out << " e" << e.seq << " " << e.text << " " << e.deleted << e.revision << "\n";
      }
      for (const auto& n : tx.notes(i.id)) out << " n " << n.text << "\n";
      for (const auto& a : tx.actions(i.id)) out << " a" << a.seq << " " << a.text << "\n";
      out << " revisions " << tx.revisions(i.id).size() << " " << tx.action_revisions(i.id).size()
          << "\n";
    }
    for (std::int64_t id = 1; tx.find_outbox(id); ++id) out << "outbox " << id << "\n";
  });
  return out.str();
}

std::string all_text(const Reply& r) {
  std::string out = r.text;
  for (const auto& d : r.details) out += "\n" + d;
  return out;
}

const Person kAlice{"U0ALICE", "alice"};
const ChannelRef kChannel{"slack", "T0TEAM", "C0INC"};

class LimitsHandlerTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("scribe_limits_", dir_));
    store_ = open_store((dir_ / "scribe.db").string());
  }
  void TearDown() override {
    handler_.reset();
    store_.reset();
    test::remove_temp_dir(dir_);
  }

  void make_handler(CommandLimits limits) {
    HandlerOptions options;
    options.platforms = test::platforms();
    options.limits = limits;
    options.rate_clock = clock_.clock();
    handler_ = std::make_unique<CommandHandler>(*store_, date::locate_zone("UTC"), options);
  }

  Reply run(std::string command, std::string text, ChannelRef channel = kChannel) {
    now_ += 1s;
    Invocation inv;
    inv.channel = std::move(channel);
    inv.user = kAlice;
    inv.command = std::move(command);
    inv.text = std::move(text);
    inv.received_at = now_;
    return handler_->handle(inv);
  }

  // `command` is refused, ephemerally, saying `says`, and the store is as it was.
  void expect_refused(const std::string& command, const std::string& text,
                      const std::string& says) {
    const std::string before = dump(*store_);
    const Reply r = run(command, text);
    EXPECT_EQ(r.visibility, Reply::Visibility::kEphemeral) << all_text(r);
    EXPECT_THAT(all_text(r), HasSubstr(says));
    EXPECT_THAT(all_text(r), HasSubstr("Nothing was recorded"));
    EXPECT_EQ(dump(*store_), before) << command << " " << text;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<CommandHandler> handler_;
  ManualClock clock_;
  Timestamp now_ = test::utc(2026, 11, 20, 14, 0);
};

TEST_F(LimitsHandlerTest, AFullTimelineRefusesMoreEventsAndChangesNothing) {
  make_handler(caps(5, 100, 100));
  run("incident", "start Disk full");  // #1, the declaration
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(run("timeline", fmt::format("step {}", i)).visibility, Reply::Visibility::kChannel);
  }
  expect_refused("timeline", "one too many", "INC-1 already has 5 timeline events");
  expect_refused("timeline", "-5m #detected backdated", "limits.events_per_incident");
  // Everything else that would add an event is refused too…
  expect_refused("incident", "sev1", "5 timeline events");
  expect_refused("incident", "commander @bob", "5 timeline events");
  // …deleting one makes no room (it is kept in the audit trail)…
  run("timeline", "delete 2");
  expect_refused("timeline", "after a delete", "5 timeline events");
  // …but the refusal says what to do, and the incident can still be brought to an end.
  const Reply r = run("timeline", "still refused");
  EXPECT_THAT(r.text, HasSubstr("`/incident start` another"));
  EXPECT_EQ(run("incident", "mitigated").visibility, Reply::Visibility::kChannel);
  EXPECT_EQ(run("incident", "resolved").visibility, Reply::Visibility::kChannel);
  expect_refused("incident", "reopen", "timeline events");
  EXPECT_EQ(handler_->refusals().of(Limit::kEvents), 7u);
  // (The close gate of the review wants a reviewed postmortem: overridden with a reason.)
  EXPECT_EQ(run("incident", "close anyway testing the cap").visibility,
            Reply::Visibility::kChannel);
  // Notes and actions have caps of their own: still room.
  EXPECT_EQ(run("incident", "start Next one").visibility, Reply::Visibility::kChannel);
}

TEST_F(LimitsHandlerTest, AFullIncidentRefusesMoreNotesAndActions) {
  make_handler(caps(100, 2, 2));
  run("incident", "start Queue backlog");
  run("incident", "cause a deploy");
  run("incident", "lesson canaries");
  expect_refused("incident", "impact one more", "INC-1 already has 2 postmortem notes");
  expect_refused("incident", "went-well also", "limits.notes_per_incident");
  run("action", "Add an alert @bob due +7d #detect");
  run("action", "Write a runbook @bob due +7d #process");
  expect_refused("action", "A third @bob due +7d", "INC-1 already has 2 action items");
  expect_refused("action", "A fourth", "limits.actions_per_incident");
  EXPECT_EQ(handler_->refusals().of(Limit::kNotes), 2u);
  EXPECT_EQ(handler_->refusals().of(Limit::kActions), 2u);
  // Changing what is there adds nothing: still allowed.
  EXPECT_EQ(run("action", "done 1").visibility, Reply::Visibility::kChannel);
  EXPECT_EQ(run("timeline", "events still fit").visibility, Reply::Visibility::kChannel);
}

TEST_F(LimitsHandlerTest, AFullIncidentRefusesPinnedMessages) {
  make_handler(caps(2, 10, 10));
  run("incident", "start Pins");
  MarkedMessage m;
  m.channel = kChannel;
  m.author = kAlice;
  m.marked_by = kAlice;
  m.written_at = now_;
  m.received_at = now_;
  m.message_id = "1.1";
  m.text = "fits";
  EXPECT_EQ(handler_->record_marked_message(m), MarkOutcome::kRecorded);
  const std::string before = dump(*store_);
  m.message_id = "1.2";
  m.text = "does not";
  EXPECT_EQ(handler_->record_marked_message(m), MarkOutcome::kIncidentFull);
  EXPECT_EQ(dump(*store_), before);
}

TEST_F(LimitsHandlerTest, ATextOverTheLimitIsRefusedWithTheLimitNamed) {
  CommandLimits limits;
  limits.max_text_chars = 20;
  make_handler(limits);
  run("incident", "start Long texts");
  // 20 characters, several of them two- and four-byte UTF-8: characters count, not bytes.
  const std::string twenty = "Größe überschritten🔥";
  EXPECT_EQ(run("timeline", twenty).visibility, Reply::Visibility::kChannel);
  expect_refused("timeline", twenty + "!", "21 characters long; the limit is 20");
  expect_refused("action", std::string(5000, 'x'), "limits.command_text_chars");
  expect_refused("incident", "start " + std::string(100, 'y'), "the limit is 20");
  EXPECT_EQ(handler_->refusals().of(Limit::kTextLength), 3u);
}

TEST_F(LimitsHandlerTest, AChannelOverItsRateIsToldWhenToTryAgain) {
  CommandLimits limits;
  limits.rate = rate(3, 12);  // one per 5 s
  make_handler(limits);
  run("incident", "start Flood");
  run("timeline", "one");
  run("timeline", "two");
  expect_refused("timeline", "three", "try again in 5 s");
  // Reads are commands too, and another channel is not affected.
  expect_refused("incident", "status", "Too many commands in this channel");
  EXPECT_THAT(run("incident", "status", ChannelRef{"slack", "T0TEAM", "C0OTHER"}).text,
              HasSubstr("no open incident"));
  clock_.now += 2s;
  expect_refused("timeline", "three", "try again in 3 s");
  clock_.now += 3s;
  EXPECT_EQ(run("timeline", "three").visibility, Reply::Visibility::kChannel);
  EXPECT_EQ(handler_->refusals().of(Limit::kChannelRate), 3u);
}

// In a Matrix room every reply is a message the whole room sees: the first refusal of a
// run says when to try again, the rest of the run gets no answer at all (Slack's callers
// are each told, privately, above); once a command is let in, the next run is told again.
TEST_F(LimitsHandlerTest, ARoomWhereRepliesArePublicIsToldOncePerRun) {
  CommandLimits limits;
  limits.rate = rate(3, 12);  // one per 5 s
  make_handler(limits);
  const ChannelRef room{"matrix", "example.org", "!flood:example.org"};
  run("incident", "start Flood", room);
  run("timeline", "one", room);
  run("timeline", "two", room);
  const std::string before = dump(*store_);
  const Reply first = run("timeline", "three", room);
  EXPECT_FALSE(first.silent);
  EXPECT_THAT(all_text(first), HasSubstr("try again in 5 s"));
  EXPECT_THAT(all_text(first), HasSubstr("get no answer"));
  for (int i = 0; i < 5; ++i) {
    const Reply r = run("timeline", "more", room);
    EXPECT_TRUE(r.silent) << i;
    EXPECT_TRUE(r.text.empty() && r.details.empty() && !r.document) << all_text(r);
  }
  EXPECT_EQ(dump(*store_), before);
  clock_.now += 5s;
  EXPECT_EQ(run("timeline", "three", room).visibility, Reply::Visibility::kChannel);
  const Reply again = run("timeline", "four", room);
  EXPECT_FALSE(again.silent);
  EXPECT_THAT(all_text(again), HasSubstr("try again in"));
  EXPECT_EQ(handler_->refusals().of(Limit::kChannelRate), 7u);
}

TEST_F(LimitsHandlerTest, TheDefaultsLetABusyIncidentThrough) {
  make_handler(CommandLimits{});
  run("incident", "start Busy");
  // Ten responders typing at once, then two commands a second for ten minutes.
  for (int i = 0; i < 99; ++i) {
    ASSERT_EQ(run("timeline", fmt::format("burst {}", i)).visibility, Reply::Visibility::kChannel)
        << i;
  }
  for (int i = 0; i < 1200; ++i) {
    clock_.now += 500ms;
    ASSERT_EQ(run("timeline", fmt::format("steady {}", i)).visibility, Reply::Visibility::kChannel)
        << i;
  }
}

TEST(PagingTest, ReadsLimitAndAfter) {
  auto p = parse_page_request("");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->limit, kDefaultPageLimit);
  EXPECT_FALSE(p->after.has_value());
  p = parse_page_request("limit=2&after=17");
  ASSERT_TRUE(p) << p.error;
  EXPECT_EQ(p->limit, 2);
  EXPECT_EQ(p->after, 17);
  p = parse_page_request("after=INC-9&limit=500");
  ASSERT_TRUE(p) << p.error;
  EXPECT_EQ(p->after, 9);
  EXPECT_EQ(p->limit, 500);
}

TEST(PagingTest, BadValuesSayWhatIsAllowed) {
  const std::pair<const char*, const char*> cases[] = {
      {"limit=0", "from 1 to 500"},
      {"limit=501", "from 1 to 500"},
      {"limit=-1", "from 1 to 500"},
      {"limit=ten", "from 1 to 500"},
      {"limit=", "from 1 to 500"},
      {"limit=99999999999999999999", "from 1 to 500"},
      {"limit=1.5", "from 1 to 500"},
      {"after=0", "'after' must be the cursor"},
      {"after=-3", "'after' must be the cursor"},
      {"after=abc", "'after' must be the cursor"},
      {"after=", "'after' must be the cursor"},
      {"limit=1&limit=2", "'limit' is given twice"},
      {"after=1&after=2", "'after' is given twice"},
      {"limt=5", "unknown parameter 'limt'"},
  };
  for (const auto& [query, says] : cases) {
    const auto p = parse_page_request(query);
    EXPECT_FALSE(p) << query;
    EXPECT_THAT(p.error, HasSubstr(says)) << query;
  }
}

// The limits' settings: defaults, TOML, the environment winning, bad values refused.
class LimitsConfigTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("scribe_lconfig_", dir_)); }
  void TearDown() override { test::remove_temp_dir(dir_); }

  Config load(std::string_view toml = {}) {
    std::optional<std::string> path;
    if (!toml.empty()) {
      path = (dir_ / "scribe.toml").string();
      std::ofstream(*path) << toml;
    }
    return load_config(path, [this](const char* name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    });
  }
  std::string error_of(std::string_view toml = {}) {
    try {
      load(toml);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "accepted";
    return {};
  }

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(LimitsConfigTest, Defaults) {
  const Config c = load();
  EXPECT_EQ(c.limits.per_incident.events, 5000);
  EXPECT_EQ(c.limits.per_incident.notes, 1000);
  EXPECT_EQ(c.limits.per_incident.actions, 500);
  EXPECT_EQ(c.limits.max_text_chars, 4000u);
  EXPECT_EQ(c.limits.rate.burst, 100);
  EXPECT_EQ(c.limits.rate.per_minute, 120);
  EXPECT_TRUE(c.limits.rate.enabled);
  EXPECT_THAT(describe(c), HasSubstr("limits.events_per_incident=5000"));
}

TEST_F(LimitsConfigTest, FromTomlAndTheEnvironmentWhichWins) {
  const std::string toml =
      "[limits]\nevents_per_incident = 10\nnotes_per_incident = 11\nactions_per_incident = 12\n"
      "command_text_chars = 13\nchannel_command_burst = 14\nchannel_commands_per_minute = 15\n";
  Config c = load(toml);
  EXPECT_EQ(c.limits.per_incident.events, 10);
  EXPECT_EQ(c.limits.per_incident.notes, 11);
  EXPECT_EQ(c.limits.per_incident.actions, 12);
  EXPECT_EQ(c.limits.max_text_chars, 13u);
  EXPECT_EQ(c.limits.rate.burst, 14);
  EXPECT_EQ(c.limits.rate.per_minute, 15);
  env_ = {{"SCRIBE_MAX_EVENTS_PER_INCIDENT", "20"},  {"SCRIBE_MAX_NOTES_PER_INCIDENT", "21"},
          {"SCRIBE_MAX_ACTIONS_PER_INCIDENT", "22"}, {"SCRIBE_MAX_COMMAND_CHARS", "23"},
          {"SCRIBE_CHANNEL_COMMAND_BURST", "24"},    {"SCRIBE_CHANNEL_COMMANDS_PER_MINUTE", "off"}};
  c = load(toml);
  EXPECT_EQ(c.limits.per_incident.events, 20);
  EXPECT_EQ(c.limits.per_incident.notes, 21);
  EXPECT_EQ(c.limits.per_incident.actions, 22);
  EXPECT_EQ(c.limits.max_text_chars, 23u);
  EXPECT_EQ(c.limits.rate.burst, 24);
  EXPECT_FALSE(c.limits.rate.enabled);
  EXPECT_THAT(describe(c), HasSubstr("limits.channel_commands_per_minute=off"));
}

TEST_F(LimitsConfigTest, BadValuesAreRefusedWithTheKeyNamed) {
  EXPECT_THAT(error_of("[limits]\nevents_per_incident = 0\n"),
              HasSubstr("limits.events_per_incident"));
  EXPECT_THAT(error_of("[limits]\nnotes_per_incident = -5\n"),
              HasSubstr("limits.notes_per_incident"));
  EXPECT_THAT(error_of("[limits]\nchannel_command_burst = 9999999999\n"),
              HasSubstr("more than 1000000000"));
  EXPECT_THAT(error_of("[limits]\nevent_per_incident = 5\n"),
              HasSubstr("unknown setting 'limits.event_per_incident'"));
  env_ = {{"SCRIBE_CHANNEL_COMMANDS_PER_MINUTE", "fast"}};
  EXPECT_THAT(error_of(), HasSubstr("SCRIBE_CHANNEL_COMMANDS_PER_MINUTE"));
}

}  // namespace
}  // namespace scribe
