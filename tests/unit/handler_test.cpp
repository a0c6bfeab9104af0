// CommandHandler over a real SQLite file: what each chat command stores, what it answers,
// and that every refusal leaves the store exactly as it was.
#include "commands/handler.h"
#include "commands/outgoing.h"
#include "commands/reminders.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/store.h"
#include "test_support.h"

namespace scribe {
namespace {

using std::chrono::minutes;
using test::utc;
using testing::HasSubstr;
using testing::Not;
using Visibility = Reply::Visibility;

const Person kAlice{"U0ALICE", "alice"};
const Person kBob{"U0BOB", "bob"};
const Person kCarol{"U0CAROL", "carol"};
const ChannelRef kChannel{"slack", "T0TEAM", "C0INC"};
const ChannelRef kOtherChannel{"slack", "T0TEAM", "C0OTHER"};

std::string all_text(const Reply& r) {
  std::string out = r.text;
  for (const auto& d : r.details) out += "\n" + d;
  return out;
}

std::string ms(Timestamp t) { return std::to_string(t.time_since_epoch().count()); }
std::string ms(const std::optional<Timestamp>& t) { return t ? ms(*t) : "null"; }
std::string who(const Person& p) { return p.id + "/" + p.name; }
std::string who(const std::optional<Person>& p) { return p ? who(*p) : "null"; }

// Everything in the store, as text: equal dumps mean nothing changed.
std::string dump(Store& store) {
  std::ostringstream out;
  store.read([&](Transaction& tx) {
    for (const Incident& i : tx.list_incidents(1000)) {
      out << "incident " << i.id << " " << i.channel.platform << "/" << i.channel.workspace << "/"
          << i.channel.channel << " '" << i.title << "' " << to_string(i.severity) << " "
          << to_string(i.status) << " " << who(i.commander) << " " << ms(i.declared_at) << " "
          << ms(i.mitigated_at) << " " << ms(i.resolved_at) << " " << ms(i.closed_at) << "\n";
      for (const TimelineEvent& e : tx.events(i.id, true)) {
        out << "  event " << e.id << " #" << e.seq << " " << to_string(e.kind) << " "
            << ms(e.occurred_at) << " " << ms(e.recorded_at) << " " << who(e.author) << " '"
            << e.text << "' deleted=" << e.deleted << " rev=" << e.revision << "\n";
      }
      for (const EventRevision& r : tx.revisions(i.id)) {
        out << "  revision " << r.event_id << " #" << r.seq << " " << r.revision << " " << r.change
            << " " << to_string(r.kind) << " " << ms(r.occurred_at) << " '" << r.text << "' "
            << who(r.changed_by) << " " << ms(r.changed_at) << "\n";
      }
      for (const Note& n : tx.notes(i.id)) {
        out << "  note " << n.id << " " << to_string(n.section) << " '" << n.text << "' "
            << who(n.author) << " " << ms(n.created_at) << "\n";
      }
      for (const ActionItem& a : tx.actions(i.id)) {
        out << "  action " << a.id << " #" << a.seq << " '" << a.text << "' " << who(a.owner) << " "
            << a.due.value_or("null") << " " << to_string(a.kind) << " " << to_string(a.status)
            << " " << who(a.created_by) << " " << ms(a.created_at) << " " << ms(a.done_at) << " "
            << who(a.done_by) << " " << ms(a.snoozed_until) << " reason='"
            << a.drop_reason.value_or("null") << "'\n";
      }
      for (const ActionRevision& r : tx.action_revisions(i.id)) {
        out << "  action-revision " << r.action_id << " #" << r.seq << " " << r.field << " '"
            << r.before << "' -> '" << r.after << "' " << who(r.changed_by) << " "
            << ms(r.changed_at) << "\n";
      }
      out << "  draft " << tx.latest_draft(i.id).value_or("none").size() << "\n";
    }
    for (std::int64_t id = 1;; ++id) {
      const auto m = tx.find_outbox(id);
      if (!m) break;
      out << "outbox " << m->id << " " << m->channel.channel << " " << m->dedupe_key << " "
          << m->content << "\n";
    }
  });
  return out.str();
}

class HandlerTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("scribe_handler_", dir_));
    path_ = (dir_ / "scribe.db").string();
    open("UTC");
  }
  void TearDown() override {
    handler_.reset();
    store_.reset();
    test::remove_temp_dir(dir_);
  }

  void open(std::string_view zone) {
    handler_.reset();
    store_.reset();
    store_ = open_store(path_);
    HandlerOptions options;
    options.platforms = test::platforms();
    handler_ = std::make_unique<CommandHandler>(*store_, date::locate_zone(zone), options);
  }

  struct Options {
    Person user = kAlice;
    std::vector<Person> mentions = {};
    ChannelRef channel = kChannel;
  };

  // Each command arrives one minute after the previous one, from 14:01 UTC on.
  Reply run(std::string command, std::string text, Options o) {
    now_ += minutes{1};
    Invocation inv;
    inv.channel = o.channel;
    inv.user = o.user;
    inv.command = std::move(command);
    inv.text = std::move(text);
    inv.mentions = o.mentions;
    inv.received_at = now_;
    return handler_->handle(inv);
  }
  Reply run(std::string command, std::string text) {
    return run(std::move(command), std::move(text), Options{});
  }
  Reply incident(std::string text) { return run("incident", std::move(text)); }
  Reply timeline(std::string text) { return run("timeline", std::move(text)); }
  Reply action(std::string text, std::vector<Person> mentions = {}) {
    return run("action", std::move(text), Options{.mentions = std::move(mentions)});
  }

  // Asserts that `reply` is an ephemeral refusal and that the store did not change.
  void expect_refused(const std::function<Reply()>& command, std::string_view says) {
    const std::string before = dump(*store_);
    const Reply r = command();
    EXPECT_EQ(r.visibility, Visibility::kEphemeral) << all_text(r);
    EXPECT_THAT(all_text(r), HasSubstr(says));
    EXPECT_FALSE(r.document.has_value());
    EXPECT_EQ(dump(*store_), before) << "the store changed after: " << r.text;
  }

  std::optional<Incident> current(const ChannelRef& channel = kChannel) {
    std::optional<Incident> out;
    store_->read([&](Transaction& tx) { out = tx.current_incident(channel); });
    return out;
  }
  Incident incident_by_id(IncidentId id) {
    std::optional<Incident> out;
    store_->read([&](Transaction& tx) { out = tx.find_incident(id); });
    EXPECT_TRUE(out.has_value()) << id;
    return out.value_or(Incident{});
  }
  std::vector<TimelineEvent> events(bool include_deleted = false, IncidentId id = 1) {
    std::vector<TimelineEvent> out;
    store_->read([&](Transaction& tx) { out = tx.events(id, include_deleted); });
    return out;
  }
  std::optional<TimelineEvent> event(int seq, IncidentId id = 1) {
    std::optional<TimelineEvent> out;
    store_->read([&](Transaction& tx) { out = tx.find_event(id, seq); });
    return out;
  }
  std::vector<EventRevision> revisions(IncidentId id = 1) {
    std::vector<EventRevision> out;
    store_->read([&](Transaction& tx) { out = tx.revisions(id); });
    return out;
  }
  std::vector<Note> notes(IncidentId id = 1) {
    std::vector<Note> out;
    store_->read([&](Transaction& tx) { out = tx.notes(id); });
    return out;
  }
  std::vector<ActionItem> actions(IncidentId id = 1) {
    std::vector<ActionItem> out;
    store_->read([&](Transaction& tx) { out = tx.actions(id); });
    return out;
  }
  std::optional<std::string> latest_draft(IncidentId id = 1) {
    std::optional<std::string> out;
    store_->read([&](Transaction& tx) { out = tx.latest_draft(id); });
    return out;
  }
  std::size_t incident_count() {
    std::size_t n = 0;
    store_->read([&](Transaction& tx) { n = tx.list_incidents(1000).size(); });
    return n;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<CommandHandler> handler_;
  Timestamp now_ = utc(2026, 11, 20, 14, 0);
};

// ---------------------------------------------------------------------------- declaring

TEST_F(HandlerTest, StartDeclaresAnIncidentInTheChannel) {
  const Reply r = incident("start sev2 Checkout API returning 502s");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("INC-1"));
  EXPECT_THAT(r.text, HasSubstr("Checkout API returning 502s"));
  EXPECT_THAT(all_text(r), HasSubstr("commander @alice"));

  const auto inc = current();
  ASSERT_TRUE(inc.has_value());
  EXPECT_EQ(inc->id, 1);
  EXPECT_EQ(inc->channel, kChannel);
  EXPECT_EQ(inc->title, "Checkout API returning 502s");
  EXPECT_EQ(inc->severity, Severity::kSev2);
  EXPECT_EQ(inc->status, IncidentStatus::kOpen);
  EXPECT_EQ(inc->commander, kAlice);
  EXPECT_EQ(inc->declared_at, utc(2026, 11, 20, 14, 1));

  const auto evs = events();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].seq, 1);
  EXPECT_EQ(evs[0].kind, EventKind::kDeclared);
  EXPECT_EQ(evs[0].occurred_at, utc(2026, 11, 20, 14, 1));
  EXPECT_EQ(evs[0].author, kAlice);
  EXPECT_THAT(evs[0].text, HasSubstr("Checkout API returning 502s"));
}

TEST_F(HandlerTest, StartWithoutSeveritySaysTheDefault) {
  const Reply r = incident("start Database failover");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(all_text(r), HasSubstr("sev3 (the default"));
  EXPECT_EQ(current()->severity, Severity::kSev3);
}

TEST_F(HandlerTest, SecondStartWhileOpenIsRefused) {
  incident("start sev2 First one");
  expect_refused([&] { return incident("start sev1 Second one"); }, "INC-1");
  EXPECT_EQ(incident_count(), 1u);
  EXPECT_EQ(current()->title, "First one");

  // Still refused once mitigated: the incident is not over.
  incident("mitigated");
  expect_refused([&] { return incident("start Second one"); }, "still mitigated");
  EXPECT_EQ(incident_count(), 1u);
}

TEST_F(HandlerTest, RefusedStartNamesTheExistingIncident) {
  incident("start sev2 First one");
  const Reply r = incident("start Second one");
  EXPECT_THAT(r.text, HasSubstr("INC-1 \"First one\" is still open"));
  EXPECT_THAT(r.text, HasSubstr("`/incident status`"));
}

TEST_F(HandlerTest, IncidentsAreBoundToTheirChannel) {
  incident("start First one");
  const Reply r = run("incident", "start Elsewhere", Options{.channel = kOtherChannel});
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("INC-2"));
  EXPECT_EQ(current(kChannel)->id, 1);
  EXPECT_EQ(current(kOtherChannel)->id, 2);

  run("timeline", "only in the other channel", Options{.channel = kOtherChannel});
  EXPECT_EQ(events(false, 1).size(), 1u);
  EXPECT_EQ(events(false, 2).size(), 2u);
}

TEST_F(HandlerTest, CommandsWithoutAnIncidentChangeNothing) {
  // Another channel's incident must not be touched either.
  run("incident", "start Elsewhere", Options{.channel = kOtherChannel});
  const std::vector<std::pair<std::string, std::string>> commands = {
      {"incident", "status"},
      {"incident", "sev sev1"},
      {"incident", "commander @bob"},
      {"incident", "summary checkout failed"},
      {"incident", "mitigated"},
      {"incident", "resolved all good"},
      {"incident", "draft"},
      {"incident", "close"},
      {"incident", "reopen"},
      {"timeline", "DB failed over"},
      {"timeline", "14:05 #alert pager"},
      {"timeline", "list"},
      {"timeline", "edit 1 changed"},
      {"timeline", "delete 1"},
      {"action", "Add alert @bob due +3d"},
      {"action", "list"},
      {"action", "done 1"},
      {"action", "reopen 1"},
  };
  for (const auto& [command, text] : commands) {
    SCOPED_TRACE(command + " " + text);
    // Captured by name: clang before 16 cannot capture structured bindings.
    expect_refused([&, &c = command, &t = text] { return run(c, t, Options{}); },
                   "no open incident");
    const Reply r = run(command, text, Options{});
    EXPECT_THAT(r.text, HasSubstr("`/incident start [sev1-sev4] <title>`"));
  }
  EXPECT_FALSE(current(kChannel).has_value());
  EXPECT_EQ(incident_count(), 1u);
}

TEST_F(HandlerTest, UsageErrorsAndHelpChangeNothing) {
  incident("start DB down");
  expect_refused([&] { return timeline("lsit"); }, "Did you mean `/timeline list`?");
  expect_refused([&] { return incident("stat"); }, "Did you mean `/incident status`?");
  expect_refused([&] { return timeline("#detcted users report errors"); }, "`#detected`");
  expect_refused([&] { return timeline("25:00 db down"); }, "`25:00`");
  expect_refused([&] { return action("Add canary @bob #prevnt"); }, "`#prevent`");
  expect_refused([&] { return action("x @bob due 2026-13-01"); }, "not a calendar date");
  expect_refused([&] { return run("timelin", "x", Options{}); }, "Did you mean `/timeline`?");
  expect_refused([&] { return incident("help"); }, "`/incident start [sev1-sev4] <title>`");
  expect_refused([&] { return timeline(""); }, "`/timeline list`");

  const Reply r = timeline("lsit");
  ASSERT_GE(r.details.size(), 2u);
  EXPECT_EQ(r.details[0], "Usage:");
}

// ---------------------------------------------------------------------------- roles, notes

TEST_F(HandlerTest, SeverityChangeIsAMilestone) {
  incident("start DB down");
  const Reply r = incident("sev sev1");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("sev1 (was sev3)"));
  EXPECT_EQ(current()->severity, Severity::kSev1);

  const auto evs = events();
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[1].kind, EventKind::kSeverityChanged);
  EXPECT_EQ(evs[1].occurred_at, now_);
  EXPECT_THAT(evs[1].text, HasSubstr("from sev3 to sev1"));

  // The shorthand works the same way; the same severity again changes nothing.
  incident("sev2");
  EXPECT_EQ(current()->severity, Severity::kSev2);
  expect_refused([&] { return incident("sev2"); }, "already sev2");
}

TEST_F(HandlerTest, CommanderChangeIsAMilestone) {
  incident("start DB down");
  const Reply r = run("incident", "commander @bob", Options{.mentions = {kBob}});
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("@bob is now the incident commander of INC-1 (was @alice)"));
  EXPECT_EQ(current()->commander, kBob);  // the platform id, from the mention

  const auto evs = events();
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[1].kind, EventKind::kCommanderChanged);
  EXPECT_THAT(evs[1].text, HasSubstr("from @alice to @bob"));

  expect_refused([&] { return run("incident", "commander @bob", Options{.mentions = {kBob}}); },
                 "already the commander");
}

TEST_F(HandlerTest, CommanderTheAdapterCouldNotResolveKeepsTheName) {
  incident("start DB down");
  incident("commander @dave");
  EXPECT_EQ(current()->commander, (Person{"", "dave"}));
}

TEST_F(HandlerTest, NotesAreStoredPerSection) {
  incident("start DB down");
  Reply r = incident("summary Checkout failed for 20 minutes");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("\"Summary\""));
  incident("went_well failover was automatic");
  incident("root-cause connection pool exhausted");
  r = incident("cause retry storm amplified it");
  EXPECT_THAT(r.text, HasSubstr("(2 so far)"));

  const auto ns = notes();
  ASSERT_EQ(ns.size(), 4u);
  EXPECT_EQ(ns[0].section, NoteSection::kSummary);
  EXPECT_EQ(ns[0].text, "Checkout failed for 20 minutes");
  EXPECT_EQ(ns[0].author, kAlice);
  EXPECT_EQ(ns[1].section, NoteSection::kWentWell);
  EXPECT_EQ(ns[1].text, "failover was automatic");
  EXPECT_EQ(ns[2].section, NoteSection::kCause);
  EXPECT_EQ(ns[3].section, NoteSection::kCause);
  EXPECT_EQ(ns[3].text, "retry storm amplified it");
  // Notes are not timeline events.
  EXPECT_EQ(events().size(), 1u);
}

// ---------------------------------------------------------------------------- timeline

TEST_F(HandlerTest, TimelineEventNow) {
  incident("start DB down");
  const Reply r = timeline("DB primary failed over");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("#2"));
  EXPECT_THAT(r.text, HasSubstr("2026-11-20 14:02:00 UTC"));
  EXPECT_THAT(r.text, HasSubstr("DB primary failed over"));

  const auto e = event(2);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, EventKind::kNote);
  EXPECT_EQ(e->occurred_at, now_);
  EXPECT_EQ(e->recorded_at, now_);
  EXPECT_EQ(e->author, kAlice);
  EXPECT_EQ(e->text, "DB primary failed over");
}

TEST_F(HandlerTest, TimelineBackdatedAndTyped) {
  incident("start DB down");
  timeline("13:55:30 first 502s in the logs");
  timeline("#detected -3m users report errors");
  Reply r = timeline("#alert 13:57 pager fired");
  EXPECT_THAT(r.text, HasSubstr("#alert"));

  auto e = event(2);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->occurred_at, utc(2026, 11, 20, 13, 55, 30));
  EXPECT_EQ(e->recorded_at, utc(2026, 11, 20, 14, 2));
  EXPECT_EQ(e->kind, EventKind::kNote);
  e = event(3);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->occurred_at, utc(2026, 11, 20, 14, 0));  // 14:03 - 3m
  EXPECT_EQ(e->kind, EventKind::kDetected);
  EXPECT_EQ(e->text, "users report errors");
  e = event(4);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, EventKind::kAlert);

  // In order of occurrence, not of recording.
  std::vector<int> order;
  for (const auto& ev : events()) order.push_back(ev.seq);
  EXPECT_EQ(order, (std::vector<int>{2, 4, 3, 1}));
}

TEST_F(HandlerTest, TimelineFutureTimeIsRefused) {
  incident("start DB down");
  expect_refused([&] { return timeline("2026-11-20T18:00Z deploy"); }, "future");
}

TEST_F(HandlerTest, WallClockTimesUseTheConfiguredZone) {
  open("Europe/Berlin");
  incident("start DB down");
  const Reply r = timeline("14:55 first alert");  // 14:55 CET = 13:55 UTC
  EXPECT_THAT(r.text, HasSubstr("2026-11-20 13:55:00 UTC"));
  EXPECT_THAT(r.text, HasSubstr("14:55:00 CET"));
  EXPECT_EQ(event(2)->occurred_at, utc(2026, 11, 20, 13, 55));
}

TEST_F(HandlerTest, TimelineListShowsNumbers) {
  incident("start DB down");
  timeline("DB primary failed over");
  timeline("#comms status page updated");
  const Reply r = timeline("list");
  EXPECT_EQ(r.visibility, Visibility::kEphemeral);
  EXPECT_THAT(r.text, HasSubstr("INC-1"));
  EXPECT_THAT(r.text, HasSubstr("3 events"));
  ASSERT_EQ(r.details.size(), 3u);
  EXPECT_THAT(r.details[0], testing::StartsWith("#1 "));
  EXPECT_THAT(r.details[1], testing::StartsWith("#2 "));
  EXPECT_THAT(r.details[1], HasSubstr("DB primary failed over"));
  EXPECT_THAT(r.details[2], testing::StartsWith("#3 "));
  EXPECT_THAT(r.details[2], HasSubstr("comms"));
  EXPECT_THAT(r.details[2], HasSubstr("+00:02:00"));
}

TEST_F(HandlerTest, TimelineListOffsetsIgnoreDeletedEvents) {
  incident("start DB down");         // 14:01
  timeline("12:01 mistyped event");  // two hours too early, #2
  timeline("delete 2");
  const Reply r = timeline("list");
  ASSERT_EQ(r.details.size(), 2u);
  EXPECT_THAT(r.details[0], testing::StartsWith("#1 "));
  EXPECT_THAT(r.details[0], HasSubstr("+00:00:00"));
  EXPECT_THAT(r.details[1], HasSubstr("1 deleted event kept in the audit trail"));
  EXPECT_THAT(all_text(r), Not(HasSubstr("mistyped")));
}

TEST_F(HandlerTest, EditKeepsTheOriginalInTheAuditTrail) {
  incident("start DB down");
  timeline("13:50 DB failover");
  const Reply r = run("timeline", "edit 2 DB failover to replica-b", Options{.user = kBob});
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(all_text(r), HasSubstr("Was: DB failover"));

  const auto e = event(2);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->text, "DB failover to replica-b");
  EXPECT_EQ(e->occurred_at, utc(2026, 11, 20, 13, 50));  // unchanged
  EXPECT_EQ(e->revision, 1);
  EXPECT_FALSE(e->deleted);
  EXPECT_EQ(e->author, kAlice);  // the author stays; the editor is in the revision

  const auto revs = revisions();
  ASSERT_EQ(revs.size(), 1u);
  EXPECT_EQ(revs[0].event_id, e->id);
  EXPECT_EQ(revs[0].seq, 2);
  EXPECT_EQ(revs[0].revision, 0);
  EXPECT_EQ(revs[0].change, "edit");
  EXPECT_EQ(revs[0].kind, EventKind::kNote);
  EXPECT_EQ(revs[0].text, "DB failover");
  EXPECT_EQ(revs[0].occurred_at, utc(2026, 11, 20, 13, 50));
  EXPECT_EQ(revs[0].changed_by, kBob);
  EXPECT_EQ(revs[0].changed_at, now_);

  // The list marks it as edited.
  const Reply list = timeline("list");
  ASSERT_EQ(list.details.size(), 2u);
  EXPECT_THAT(list.details[0], testing::StartsWith("#2 "));  // 13:50, before the declaration
  EXPECT_THAT(list.details[0], HasSubstr("DB failover to replica-b (edited)"));
  EXPECT_THAT(list.details[1], Not(HasSubstr("(edited)")));
}

TEST_F(HandlerTest, EditTimeAndTag) {
  incident("start DB down");
  timeline("DB failover");
  timeline("edit 2 13:45");
  auto e = event(2);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->occurred_at, utc(2026, 11, 20, 13, 45));
  EXPECT_EQ(e->text, "DB failover");

  timeline("edit 2 #impact");
  e = event(2);
  EXPECT_EQ(e->kind, EventKind::kImpact);
  EXPECT_EQ(e->revision, 2);

  const auto revs = revisions();
  ASSERT_EQ(revs.size(), 2u);
  EXPECT_EQ(revs[0].occurred_at, utc(2026, 11, 20, 14, 2));
  EXPECT_EQ(revs[1].revision, 1);
  EXPECT_EQ(revs[1].occurred_at, utc(2026, 11, 20, 13, 45));
  EXPECT_EQ(revs[1].kind, EventKind::kNote);
}

TEST_F(HandlerTest, DeleteHidesTheEventButKeepsIt) {
  incident("start DB down");
  timeline("wrong channel, sorry");
  const Reply r = timeline("delete 2");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("kept in the audit trail"));

  const auto visible = events(false);
  ASSERT_EQ(visible.size(), 1u);
  EXPECT_EQ(visible[0].seq, 1);

  const auto all = events(true);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].seq, 2);
  EXPECT_TRUE(all[1].deleted);
  EXPECT_EQ(all[1].text, "wrong channel, sorry");
  EXPECT_EQ(all[1].revision, 1);

  const auto revs = revisions();
  ASSERT_EQ(revs.size(), 1u);
  EXPECT_EQ(revs[0].change, "delete");
  EXPECT_EQ(revs[0].text, "wrong channel, sorry");
  EXPECT_EQ(revs[0].changed_by, kAlice);

  // Gone is gone: no second deletion, no edit; numbers are not reused.
  expect_refused([&] { return timeline("delete 2"); }, "already deleted");
  expect_refused([&] { return timeline("edit 2 back again"); }, "already deleted");
  EXPECT_THAT(timeline("next event").text, HasSubstr("#3"));
}

TEST_F(HandlerTest, MilestonesCannotBeEditedOrDeleted) {
  incident("start DB down");
  incident("sev sev1");
  expect_refused([&] { return timeline("edit 1 declared earlier"); }, "milestone");
  expect_refused([&] { return timeline("delete 1"); }, "milestone");
  expect_refused([&] { return timeline("edit 2 #alert"); }, "`/incident`");
}

TEST_F(HandlerTest, UnknownEventNumber) {
  incident("start DB down");
  expect_refused([&] { return timeline("edit 9 anything"); }, "no timeline event #9");
  expect_refused([&] { return timeline("delete 9"); }, "`/timeline list`");
}

// ---------------------------------------------------------------------------- lifecycle

TEST_F(HandlerTest, MitigatedThenResolvedPostsTheDraft) {
  incident("start sev2 Checkout API returning 502s");  // 14:01
  timeline("13:50 #impact checkout error rate above 5%");
  timeline("#detected 13:55 support reports failed payments");
  timeline("rolled back deploy 4512");
  incident("summary Checkout failed for 25 minutes");

  Reply r = incident("mitigated 14:03 error rate back to normal");  // at 14:06
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("INC-1 mitigated at 2026-11-20 14:03:00 UTC"));
  EXPECT_THAT(r.text, HasSubstr("2m 00s after declaration"));
  EXPECT_FALSE(r.document.has_value());
  auto inc = current();
  EXPECT_EQ(inc->status, IncidentStatus::kMitigated);
  EXPECT_EQ(inc->mitigated_at, utc(2026, 11, 20, 14, 3));
  EXPECT_EQ(inc->resolved_at, std::nullopt);
  EXPECT_EQ(latest_draft(), std::nullopt);

  expect_refused([&] { return incident("mitigated"); }, "already marked mitigated");

  r = incident("resolved caches warmed, all green");  // at 14:08
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("INC-1 resolved at 2026-11-20 14:08:00 UTC"));
  EXPECT_EQ(r.incident, 1);
  inc = current();
  ASSERT_TRUE(inc.has_value());
  EXPECT_EQ(inc->status, IncidentStatus::kResolved);
  EXPECT_EQ(inc->mitigated_at, utc(2026, 11, 20, 14, 3));
  EXPECT_EQ(inc->resolved_at, utc(2026, 11, 20, 14, 8));

  // In time order: 13:50 impact, 13:55 detected, 14:01 declared, 14:03 mitigated (given
  // as a time), 14:04 rollback, 14:08 resolved.
  const auto evs = events();
  ASSERT_EQ(evs.size(), 6u);
  EXPECT_EQ(evs[3].kind, EventKind::kMitigated);
  EXPECT_EQ(evs[3].occurred_at, utc(2026, 11, 20, 14, 3));
  EXPECT_EQ(evs[3].text, "Mitigated: error rate back to normal");
  EXPECT_EQ(evs[4].text, "rolled back deploy 4512");
  EXPECT_EQ(evs[5].kind, EventKind::kResolved);
  EXPECT_EQ(evs[5].text, "Resolved: caches warmed, all green");

  // The document is the stored draft, and its timeline holds every event in time order.
  ASSERT_TRUE(r.document.has_value());
  EXPECT_EQ(latest_draft(), r.document);
  const std::string& doc = *r.document;
  const std::size_t timeline_at = doc.find("## Timeline");
  ASSERT_NE(timeline_at, std::string::npos) << doc;
  const std::string timeline_section =
      doc.substr(timeline_at, doc.find("\n## ", timeline_at + 1) - timeline_at);
  std::size_t last = 0;
  for (const auto& e : evs) {
    const std::size_t at = timeline_section.find(e.text, last);
    ASSERT_NE(at, std::string::npos) << "missing or out of order: " << e.text << "\n" << doc;
    last = at + e.text.size();
  }
  EXPECT_THAT(doc, HasSubstr("Checkout failed for 25 minutes"));
}

TEST_F(HandlerTest, ResolvedWithoutMitigatedAndWithoutText) {
  incident("start DB down");
  const Reply r = incident("resolved");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_TRUE(r.document.has_value());
  const auto inc = current();
  EXPECT_EQ(inc->status, IncidentStatus::kResolved);
  EXPECT_EQ(inc->resolved_at, now_);
  EXPECT_EQ(inc->mitigated_at, std::nullopt);
  EXPECT_EQ(events().back().text, "Resolved");
}

TEST_F(HandlerTest, ResolvedIncidentRefusesSecondResolutionAndRoleChanges) {
  incident("start DB down");
  incident("resolved");
  expect_refused([&] { return incident("resolved again"); }, "was resolved at");
  expect_refused([&] { return incident("mitigated"); }, "`/incident reopen`");
  expect_refused([&] { return incident("sev sev1"); }, "is resolved");
  expect_refused([&] { return run("incident", "commander @bob", Options{.mentions = {kBob}}); },
                 "is resolved");
}

TEST_F(HandlerTest, ResolvedIncidentStillTakesNotesEventsAndActions) {
  incident("start DB down");
  incident("resolved");
  EXPECT_EQ(incident("lesson alerts need runbook links").visibility, Visibility::kChannel);
  const Reply r = timeline("-30m late report from support");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(all_text(r), HasSubstr("INC-1 is resolved"));
  EXPECT_EQ(action("Add runbook link @bob due +7d #process", {kBob}).visibility,
            Visibility::kChannel);
  EXPECT_EQ(notes().size(), 1u);
  EXPECT_EQ(events().size(), 3u);
  EXPECT_EQ(actions().size(), 1u);
}

TEST_F(HandlerTest, ReopenResumesTheIncident) {
  incident("start DB down");
  expect_refused([&] { return incident("reopen"); }, "not resolved");
  incident("mitigated");
  incident("resolved");
  const Reply r = incident("reopen");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("INC-1 reopened"));
  const auto inc = current();
  EXPECT_EQ(inc->status, IncidentStatus::kOpen);
  EXPECT_EQ(inc->resolved_at, std::nullopt);
  EXPECT_EQ(events().back().kind, EventKind::kReopened);

  // Open again: it can be mitigated and resolved again, and a new start is refused.
  expect_refused([&] { return incident("start Another"); }, "INC-1");
  EXPECT_EQ(incident("resolved").visibility, Visibility::kChannel);
  EXPECT_EQ(current()->status, IncidentStatus::kResolved);
}

TEST_F(HandlerTest, CloseOnlyAfterResolved) {
  incident("start DB down");
  expect_refused([&] { return incident("close"); }, "resolve it first");
  incident("mitigated");
  expect_refused([&] { return incident("close"); }, "INC-1 is mitigated");
  incident("resolved");
  // A sev3 postmortem needs a summary and a cause before it closes.
  expect_refused([&] { return incident("close"); }, "No summary");
  incident("summary The primary database ran out of disk for 12 minutes.");
  incident("cause WAL archiving stalled and nothing alerted on disk usage.");
  const Reply r = incident("close");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("INC-1 closed"));

  const Incident inc = incident_by_id(1);
  EXPECT_EQ(inc.status, IncidentStatus::kClosed);
  EXPECT_EQ(inc.closed_at, now_);
  EXPECT_FALSE(current().has_value());

  // The channel has no incident any more.
  expect_refused([&] { return timeline("after the close"); }, "no open incident");
  expect_refused([&] { return incident("reopen"); }, "no open incident");
}

// ----------------------------------------------------------------------- the review

TEST_F(HandlerTest, CloseGateRefusesWithWhatIsMissingAndChangesNothing) {
  incident("start sev2 Checkout 502s");
  incident("resolved");
  const std::string before = dump(*store_);
  const Reply r = incident("close");
  EXPECT_EQ(r.visibility, Visibility::kEphemeral);
  const std::string text = all_text(r);
  EXPECT_THAT(r.text, HasSubstr("INC-1 cannot close yet: the sev2 postmortem needs"));
  EXPECT_THAT(text, HasSubstr("No summary: `/incident summary"));
  EXPECT_THAT(text, HasSubstr("No impact"));
  EXPECT_THAT(text, HasSubstr("No root cause"));
  EXPECT_THAT(text, HasSubstr("#prevent"));
  EXPECT_THAT(text, HasSubstr("0 of 1 approval"));
  EXPECT_THAT(text, HasSubstr("`/incident close anyway <reason>`"));
  EXPECT_EQ(dump(*store_), before);
  EXPECT_EQ(current()->status, IncidentStatus::kResolved);
}

TEST_F(HandlerTest, CloseGatePassesOnceTheSectionsAreWrittenAndApproved) {
  incident("start sev2 Checkout 502s");
  incident("summary A config push at 14:02 made checkout fail for 24 minutes.");
  incident("impact some users were affected for a while");
  incident("cause The pool size in the pushed config was 0 and nothing validated it.");
  action("Validate pool sizes in the config pipeline @bob due +7d #prevent", {kBob});
  incident("resolved");
  Reply r = incident("close");
  EXPECT_THAT(all_text(r), HasSubstr("Impact has no numbers"));
  incident("impact 4,100 orders failed; 18% of checkout requests returned 502 for 24 minutes.");
  r = incident("close");
  EXPECT_THAT(all_text(r), Not(HasSubstr("Impact")));
  EXPECT_THAT(all_text(r), HasSubstr("0 of 1 approval"));

  // The commander cannot approve; bob can, and the postmortem is final.
  expect_refused([&] { return incident("approve"); }, "someone other than the commander");
  r = run("incident", "approve", Options{.user = kBob});
  EXPECT_EQ(r.visibility, Visibility::kChannel) << all_text(r);
  EXPECT_THAT(r.text, HasSubstr("it is final"));
  EXPECT_EQ(current()->postmortem_status, PostmortemStatus::kFinal);
  expect_refused([&] { return run("incident", "approve", Options{.user = kBob}); }, "already");

  r = incident("close");
  EXPECT_EQ(r.visibility, Visibility::kChannel) << all_text(r);
  EXPECT_THAT(r.text, HasSubstr("INC-1 closed: postmortem reviewed"));
  const Incident closed = incident_by_id(1);
  EXPECT_EQ(closed.status, IncidentStatus::kClosed);
  EXPECT_EQ(closed.closed_anyway, std::nullopt);
}

TEST_F(HandlerTest, CloseAnywayByTheCommanderRecordsTheReason) {
  incident("start sev1 Payments down");
  incident("resolved");
  expect_refused([&] { return incident("close anyway"); }, "Say why");
  expect_refused([&] { return incident("close now please"); }, "close anyway <reason>");
  expect_refused(
      [&] { return run("incident", "close anyway meeting held", Options{.user = kBob}); },
      "Only the commander");
  const Reply r = incident("close anyway meeting held; numbers come from finance next week");
  EXPECT_EQ(r.visibility, Visibility::kChannel) << all_text(r);
  EXPECT_THAT(r.text, HasSubstr("closed by @alice over"));
  const Incident closed = incident_by_id(1);
  EXPECT_EQ(closed.status, IncidentStatus::kClosed);
  EXPECT_EQ(closed.closed_anyway, "meeting held; numbers come from finance next week");
  const TimelineEvent last = events(false, 1).back();
  EXPECT_EQ(last.kind, EventKind::kClosed);
  EXPECT_THAT(last.text, HasSubstr("over 5 open review objections"));
  EXPECT_THAT(last.text, HasSubstr("No summary"));
  EXPECT_THAT(last.text, HasSubstr("Reason: meeting held; numbers come from finance next week"));
}

TEST_F(HandlerTest, CloseAnywayWithNothingMissingIsAPlainClose) {
  incident("start sev4 Slow admin page");
  incident("summary The admin page took 9 s to load for 2 hours.");
  incident("cause An index was dropped by migration 212.");
  incident("resolved");
  const Reply r = incident("close anyway just in case");
  EXPECT_THAT(r.text, HasSubstr("postmortem reviewed"));
  EXPECT_EQ(incident_by_id(1).closed_anyway, std::nullopt);
}

TEST_F(HandlerTest, ReviewIsOnlyForTheCallerAndChangesNothing) {
  expect_refused([&] { return incident("review"); }, "no open incident");
  incident("start sev2 Checkout 502s");
  run("timeline", "bob forgot to run the migration", Options{.user = kBob});
  action("Improve code quality");
  const std::string before = dump(*store_);
  const Reply r = incident("review");
  EXPECT_EQ(r.visibility, Visibility::kEphemeral);
  EXPECT_EQ(dump(*store_), before);
  const std::string text = all_text(r);
  EXPECT_THAT(r.text, HasSubstr("Review of INC-1:"));
  EXPECT_THAT(text, HasSubstr("Postmortem draft · owner @alice · 0 approvals"));
  EXPECT_THAT(text, HasSubstr("[blame] timeline #2: “"));
  EXPECT_THAT(text, HasSubstr("[unactionable] action #1"));
  EXPECT_THAT(text, HasSubstr("[missing] the incident"));
  // Only a resolved incident is told about the close gate.
  EXPECT_THAT(text, Not(HasSubstr("Before `/incident close`")));
  incident("resolved");
  EXPECT_THAT(all_text(incident("review")), HasSubstr("Before `/incident close`:"));
  expect_refused([&] { return incident("review please"); }, "review request");
}

TEST_F(HandlerTest, ReviewInChatListsAFewDozenFindingsAndSaysWhereTheRestAre) {
  incident("start sev3 Checkout 502s");
  for (int i = 0; i < 60; ++i) action("Improve code quality number " + std::to_string(i));
  const Reply r = incident("review");
  EXPECT_THAT(r.text, HasSubstr("findings."));
  EXPECT_LE(r.details.size(), 45u);
  EXPECT_THAT(all_text(r),
              HasSubstr("more: see the end of `/incident draft`, or `scribe lint INC-1`"));
}

TEST_F(HandlerTest, DraftEndsWithTheReview) {
  incident("start Checkout 502s");
  timeline("#impact latency increased a lot");
  const Reply r = incident("draft");
  ASSERT_TRUE(r.document.has_value());
  EXPECT_THAT(*r.document, HasSubstr("## Review before the meeting"));
  EXPECT_THAT(*r.document, HasSubstr("**vague** · timeline \\#2"));
  // And so does the one stored and shown on resolution.
  const Reply resolved = incident("resolved");
  EXPECT_THAT(all_text(resolved), HasSubstr("`/incident review` lists them"));
  EXPECT_THAT(latest_draft().value_or(""), HasSubstr("## Review before the meeting"));
}

TEST_F(HandlerTest, ReviewRequestThenApprovalByAReviewer) {
  incident("start sev2 Checkout 502s");
  Reply r = incident("review request");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("in review"));
  EXPECT_EQ(current()->postmortem_status, PostmortemStatus::kInReview);
  expect_refused([&] { return incident("review request"); }, "already in review");

  // The postmortem owner cannot approve either.
  r = run("incident", "owner @carol", Options{.mentions = {kCarol}});
  EXPECT_EQ(r.visibility, Visibility::kChannel) << all_text(r);
  EXPECT_THAT(r.text, HasSubstr("@carol now owns the postmortem of INC-1 (was @alice)"));
  expect_refused([&] { return run("incident", "approve", Options{.user = kCarol}); },
                 "postmortem owner (@carol)");
  expect_refused([&] { return run("incident", "approve now", Options{.user = kBob}); },
                 "takes no text");
  r = run("incident", "approve", Options{.user = kBob});
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  std::vector<Approval> approvals;
  store_->read([&](Transaction& tx) { approvals = tx.approvals(1); });
  ASSERT_EQ(approvals.size(), 1u);
  EXPECT_EQ(approvals[0].by, kBob);
  EXPECT_EQ(approvals[0].at, now_);
  EXPECT_EQ(current()->postmortem_status, PostmortemStatus::kFinal);
  expect_refused([&] { return incident("review request"); }, "already final");
  EXPECT_THAT(events().back().text, HasSubstr("Postmortem approved by @bob"));

  // A reopen makes it a draft again.
  incident("resolved");
  incident("reopen");
  EXPECT_EQ(current()->postmortem_status, PostmortemStatus::kDraft);
}

TEST_F(HandlerTest, PostmortemOwnerAndTheRemainingSections) {
  incident("start Checkout 502s");
  expect_refused([&] { return incident("owner"); }, "Name the postmortem owner");
  expect_refused([&] { return incident("owner carol"); }, "@mention");
  expect_refused([&] { return incident("owner @carol @bob"); }, "one @mention");
  expect_refused([&] { return incident("owner @alice"); }, "already owns");  // the commander
  run("incident", "owner @carol", Options{.mentions = {kCarol}});
  EXPECT_EQ(current()->postmortem_owner, kCarol);
  EXPECT_THAT(events().back().text, HasSubstr("Postmortem owner changed from @alice to @carol"));
  expect_refused([&] { return run("incident", "owner @carol", Options{.mentions = {kCarol}}); },
                 "already owns");

  for (const char* section : {"trigger", "detection", "resolution", "link"}) {
    const Reply r = incident(std::string(section) + " text of " + section);
    EXPECT_EQ(r.visibility, Visibility::kChannel) << section;
    expect_refused([&] { return incident(section); }, "Add the text");
  }
  const auto all = notes();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].section, NoteSection::kTrigger);
  EXPECT_EQ(all[3].section, NoteSection::kLink);
  const Reply draft = incident("draft");
  EXPECT_THAT(*draft.document, HasSubstr("text of detection"));
  EXPECT_THAT(*draft.document, HasSubstr("Postmortem owner: carol"));
}

TEST_F(HandlerTest, NewStartAfterResolution) {
  incident("start First one");
  incident("resolved");
  const Reply r = incident("start sev1 Second one");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("INC-2"));
  EXPECT_EQ(current()->id, 2);
  EXPECT_EQ(incident_by_id(1).status, IncidentStatus::kResolved);

  timeline("belongs to the new one");
  EXPECT_EQ(events(false, 1).size(), 2u);
  EXPECT_EQ(events(false, 2).size(), 2u);
  EXPECT_EQ(events(false, 2)[1].seq, 2);  // numbering is per incident
}

TEST_F(HandlerTest, DraftShowsTheDraftWithoutStoringOrClosing) {
  incident("start DB down");
  timeline("DB primary failed over");
  const std::string before = dump(*store_);
  const Reply r = incident("draft");
  EXPECT_EQ(r.visibility, Visibility::kEphemeral);
  ASSERT_TRUE(r.document.has_value());
  EXPECT_THAT(*r.document, HasSubstr("DB primary failed over"));
  EXPECT_EQ(r.incident, 1);
  EXPECT_EQ(dump(*store_), before);
  EXPECT_EQ(latest_draft(), std::nullopt);
  EXPECT_EQ(current()->status, IncidentStatus::kOpen);
}

TEST_F(HandlerTest, StatusSummarisesTheIncident) {
  incident("start sev2 DB down");
  timeline("DB primary failed over");
  action("Add alert @bob due +3d #detect", {kBob});
  const std::string before = dump(*store_);
  const Reply r = incident("status");
  EXPECT_EQ(r.visibility, Visibility::kEphemeral);
  EXPECT_THAT(r.text, HasSubstr("INC-1 \"DB down\""));
  const std::string text = all_text(r);
  EXPECT_THAT(text, HasSubstr("Severity sev2 · status open · commander @alice"));
  EXPECT_THAT(text, HasSubstr("DB primary failed over"));
  EXPECT_THAT(text, HasSubstr("Open action items: 1"));
  EXPECT_EQ(dump(*store_), before);
}

TEST_F(HandlerTest, MatrixPrefixInRepliesAndDraft) {
  const Options m{.user = kAlice, .mentions = {}, .channel = {"matrix", "example.org", "!room"}};
  Reply r = run("incident", "status", m);
  EXPECT_THAT(r.text, HasSubstr("`!incident start [sev1-sev4] <title>`"));
  run("incident", "start DB down", m);
  r = run("incident", "resolved", m);
  ASSERT_TRUE(r.document.has_value());
  // The draft's "add with …" hints are written the way Matrix users type commands.
  EXPECT_THAT(*r.document, HasSubstr("`!incident cause <text>`"));
  EXPECT_THAT(*r.document, Not(HasSubstr("`/incident")));
  EXPECT_THAT(all_text(r), Not(HasSubstr("`/")));
}

// ---------------------------------------------------------------------------- actions

TEST_F(HandlerTest, ActionWithOwnerDueAndKind) {
  incident("start DB down");
  const Reply r = action("Add replication lag alert @bob due 2026-12-01 #detect", {kBob, kCarol});
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("#1 (@bob, due 2026-12-01, detect)"));
  EXPECT_TRUE(r.details.empty()) << all_text(r);

  const auto items = actions();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].seq, 1);
  EXPECT_EQ(items[0].text, "Add replication lag alert");
  EXPECT_EQ(items[0].owner, kBob);  // the platform id, not just the name
  EXPECT_EQ(items[0].due, "2026-12-01");
  EXPECT_EQ(items[0].kind, ActionKind::kDetect);
  EXPECT_EQ(items[0].status, ActionStatus::kOpen);
  EXPECT_EQ(items[0].created_by, kAlice);
  EXPECT_EQ(items[0].created_at, now_);
}

TEST_F(HandlerTest, ActionRelativeDueDate) {
  incident("start DB down");
  action("Fix retry storm @carol #prevent due +3d", {kCarol});
  const auto items = actions();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].due, "2026-11-23");
  EXPECT_EQ(items[0].owner, kCarol);
}

TEST_F(HandlerTest, ActionWithoutOwnerIsStoredWithAWarning) {
  incident("start DB down");
  const Reply r = action("Improve the runbook");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("no owner"));
  const std::string details = all_text(r);
  EXPECT_THAT(details, HasSubstr("No owner"));
  EXPECT_THAT(details, HasSubstr("No due date"));
  EXPECT_THAT(details, HasSubstr("#prevent"));

  const auto items = actions();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].owner, std::nullopt);
  EXPECT_EQ(items[0].due, std::nullopt);
  EXPECT_EQ(items[0].kind, ActionKind::kNone);
}

TEST_F(HandlerTest, ActionPastDueDateIsFlagged) {
  incident("start DB down");
  const Reply r = action("Rotate keys @bob due 2026-11-01 #process", {kBob});
  EXPECT_THAT(all_text(r), HasSubstr("already past"));
  EXPECT_EQ(actions().at(0).due, "2026-11-01");
}

TEST_F(HandlerTest, ActionOwnerTheAdapterCouldNotResolve) {
  incident("start DB down");
  action("Write postmortem @dave due +2d #process");
  EXPECT_EQ(actions().at(0).owner, (Person{"", "dave"}));
}

TEST_F(HandlerTest, ActionDoneAndReopen) {
  incident("start DB down");
  action("Add alert @bob due +3d #detect", {kBob});
  action("Add canary @carol due +7d #prevent", {kCarol});

  Reply r = run("action", "done 2", Options{.user = kCarol});
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("Action #2 done: Add canary"));
  auto items = actions();
  EXPECT_EQ(items[0].status, ActionStatus::kOpen);
  EXPECT_EQ(items[1].status, ActionStatus::kDone);
  EXPECT_EQ(items[1].done_at, now_);
  EXPECT_EQ(items[1].done_by, kCarol);

  expect_refused([&] { return action("done 2"); }, "already done");

  r = action("reopen 2");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  items = actions();
  EXPECT_EQ(items[1].status, ActionStatus::kOpen);
  EXPECT_EQ(items[1].done_at, std::nullopt);
  EXPECT_EQ(items[1].done_by, std::nullopt);

  expect_refused([&] { return action("reopen 2"); }, "already open");
}

TEST_F(HandlerTest, ActionList) {
  incident("start DB down");
  expect_refused([&] { return action("list"); }, "no action items yet");
  action("Add alert @bob due +3d #detect", {kBob});
  action("Improve the runbook");
  action("done 1");
  const std::string before = dump(*store_);
  const Reply r = action("list");
  EXPECT_EQ(r.visibility, Visibility::kEphemeral);
  EXPECT_THAT(r.text, HasSubstr("1 open of 2"));
  ASSERT_EQ(r.details.size(), 3u);
  EXPECT_THAT(r.details[0], HasSubstr("☑️ #1 done (@bob, due 2026-11-23, detect): Add alert"));
  // Under each item, its audit trail: who changed what, when.
  EXPECT_THAT(r.details[1], HasSubstr("↳ status open → done (@alice, 2026-11-20 14:05:00 UTC)"));
  EXPECT_THAT(r.details[2], HasSubstr("⬜ #2 open (no owner, no due date): Improve the runbook"));
  EXPECT_EQ(dump(*store_), before);
}

TEST_F(HandlerTest, UnknownActionNumber) {
  incident("start DB down");
  action("Add alert @bob", {kBob});
  expect_refused([&] { return action("done 7"); }, "no action item #7");
  expect_refused([&] { return action("reopen 7"); }, "`/action list`");
}

// ---------------------------------------------------------------------------- restart

// ---------------------------------------------------------------------------- the life of an
// action item

// Rows in the tables a command may write, counted directly: a refusal must leave each as it was.
struct RowCounts {
  std::size_t incidents = 0, events = 0, revisions = 0, notes = 0, actions = 0,
              action_revisions = 0, outbox = 0;
  bool operator==(const RowCounts&) const = default;
};

std::ostream& operator<<(std::ostream& out, const RowCounts& c) {
  return out << c.incidents << "/" << c.events << "/" << c.revisions << "/" << c.notes << "/"
             << c.actions << "/" << c.action_revisions << "/" << c.outbox;
}

RowCounts count_rows(Store& store) {
  RowCounts c;
  store.read([&](Transaction& tx) {
    for (const Incident& i : tx.list_incidents(1000)) {
      ++c.incidents;
      c.events += tx.events(i.id, true).size();
      c.revisions += tx.revisions(i.id).size();
      c.notes += tx.notes(i.id).size();
      c.actions += tx.actions(i.id).size();
      c.action_revisions += tx.action_revisions(i.id).size();
    }
    while (tx.find_outbox(static_cast<std::int64_t>(c.outbox) + 1)) ++c.outbox;
  });
  return c;
}

TEST_F(HandlerTest, BadNumbersAndPartsAreRefusedToTheCallerAndRecordNothing) {
  incident("start sev2 DB down");
  action("Add alert @bob due +3d #detect", {kBob});
  timeline("Failover started");
  const std::string before = dump(*store_);
  const RowCounts rows = count_rows(*store_);
  const Severity severity = current()->severity;
  for (const auto& [command, text] : std::vector<std::pair<std::string, std::string>>{
           {"action", "done -1"},
           {"action", "done 0"},
           {"action", "done 99999999999999999999"},
           {"action", "reopen 1e3"},
           {"action", "edit 2.5 better text"},
           {"action", "assign -1 @bob"},
           {"action", "due 0 +3d"},
           {"action", "kind 1e3 #prevent"},
           {"action", "drop x duplicate"},
           {"action", "drop 1"},
           {"action", "Write runbook @dave due +2w #mitigate #process"},
           {"action", "Write runbook @dave due 2026-13-45"},
           {"action", "Write runbook @dave due someday"},
           {"action", "Write runbook @"},
           {"action", "Write runbook @dave @carol"},
           {"action", "Write runbook @dave due 0000-01-01"},
           {"action", "Write runbook @dave due 1970-01-01"},
           {"action", "Write runbook @dave due 9999-12-31"},
           {"action", "due 1 9999-12-31"},
           {"action", "kind 1 #mitigate #process"},
           {"timeline", "edit 2.5 x"},
           {"timeline", "delete x"},
           {"timeline", "delete -1"},
           {"incident", "sev -1"},
           {"incident", "sev 0"},
           {"incident", "sev5"},
       }) {
    const Reply r = run(command, text);
    EXPECT_EQ(r.visibility, Visibility::kEphemeral) << command << " " << text << ": " << r.text;
    EXPECT_THAT(all_text(r), HasSubstr("Usage:")) << command << " " << text;
    EXPECT_EQ(count_rows(*store_), rows) << command << " " << text;
  }
  EXPECT_EQ(dump(*store_), before);
  EXPECT_EQ(current()->severity, severity);  // "/incident sev -1" used to set sev1
}

TEST_F(HandlerTest, ActionWithSlackMentionStoresOwnerDueAndKind) {
  incident("start DB down");
  // The Slack adapter turned "<@U0DAVE|dave>" into "@dave" and listed dave as mentioned.
  const Person dave{"U0DAVE", "dave"};
  const Reply r = action("Write runbook @dave due +2w #mitigate", {dave});
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  const auto items = actions();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].text, "Write runbook");
  EXPECT_EQ(items[0].owner, dave);
  EXPECT_EQ(items[0].due, "2026-12-04");
  EXPECT_EQ(items[0].kind, ActionKind::kMitigate);
}

TEST_F(HandlerTest, AnOwnerLeftInTheTextIsPointedOut) {
  incident("start DB down");
  const Reply r = action("Ask @dave about #4512 due +3d", {{"U0DAVE", "dave"}});
  EXPECT_EQ(actions().at(0).owner, std::nullopt);
  EXPECT_THAT(all_text(r), HasSubstr("To make @dave the owner: `/action assign 1 @dave`"));
}

TEST_F(HandlerTest, EditAssignDueKindChangeTheItemAndKeepTheAuditTrail) {
  incident("start DB down");
  action("Add alert @bob due +3d #detect", {kBob});

  Reply r = action("edit 1 Alert on replication lag > 30s");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("Action #1 of INC-1: text \"Add alert\" → \"Alert on replication "
                                "lag > 30s\" (by @alice)"));
  r = action("assign 1 @carol", {kCarol});
  EXPECT_THAT(r.text, HasSubstr("owner @bob → @carol"));
  r = action("due 1 2026-12-01");
  EXPECT_THAT(r.text, HasSubstr("due 2026-11-23 → 2026-12-01"));
  r = action("kind 1 #prevent");
  EXPECT_THAT(r.text, HasSubstr("kind detect → prevent"));
  r = action("edit 1 @bob due +1w #mitigate", {kBob});
  EXPECT_THAT(r.text, HasSubstr("owner @carol → @bob; due 2026-12-01 → 2026-11-27; kind prevent → "
                                "mitigate"));

  const ActionItem item = actions().at(0);
  EXPECT_EQ(item.text, "Alert on replication lag > 30s");
  EXPECT_EQ(item.owner, kBob);
  EXPECT_EQ(item.due, "2026-11-27");
  EXPECT_EQ(item.kind, ActionKind::kMitigate);

  std::vector<ActionRevision> trail;
  store_->read([&](Transaction& tx) { trail = tx.action_revisions(1); });
  ASSERT_EQ(trail.size(), 7u);
  EXPECT_EQ(trail[0].field, "text");
  EXPECT_EQ(trail[0].before, "Add alert");
  EXPECT_EQ(trail[1].field, "owner");
  EXPECT_EQ(trail[1].before, "@bob");
  EXPECT_EQ(trail[1].after, "@carol");
  EXPECT_EQ(trail[1].changed_by, kAlice);
  EXPECT_EQ(trail[6].field, "kind");
  EXPECT_EQ(trail[6].after, "mitigate");

  // The list and the draft show the history.
  const Reply list = action("list");
  EXPECT_THAT(all_text(list), HasSubstr("4 earlier changes"));
  EXPECT_THAT(all_text(list), HasSubstr("↳ kind prevent → mitigate (@alice"));
  const Reply draft = incident("draft");
  ASSERT_TRUE(draft.document.has_value());
  EXPECT_THAT(*draft.document, HasSubstr("Changes to action items:"));
  EXPECT_THAT(*draft.document, HasSubstr("#1 owner: @bob → @carol (alice)"));
}

TEST_F(HandlerTest, ChangesThatChangeNothingOrNameNoItemAreRefused) {
  incident("start DB down");
  action("Add alert @bob due +3d #detect", {kBob});
  expect_refused([&] { return action("assign 1 @bob", {kBob}); }, "Nothing to change");
  expect_refused([&] { return action("kind 1 detect"); }, "Nothing to change");
  expect_refused([&] { return action("due 1 +3d"); }, "Nothing to change");
  expect_refused([&] { return action("edit 7 x"); }, "INC-1 has no action item #7");
  expect_refused([&] { return action("drop 7 dup"); }, "INC-1 has no action item #7");
}

TEST_F(HandlerTest, ActionEditsWithoutAnIncidentChangeNothing) {
  expect_refused([&] { return action("edit 1 x"); }, "no open incident");
  expect_refused([&] { return action("drop 1 dup"); }, "no open incident");
}

TEST_F(HandlerTest, DropKeepsTheReasonShowsItEverywhereAndStopsReminders) {
  incident("start DB down");
  action("Add alert @bob due +1d #detect", {kBob});
  action("Add canary @carol due +1d #prevent", {kCarol});
  const Reply r = action("drop 1 duplicate of #2, the canary catches it");
  EXPECT_EQ(r.visibility, Visibility::kChannel);
  EXPECT_THAT(r.text, HasSubstr("Action #1 dropped (won't do): Add alert"));
  EXPECT_THAT(all_text(r), HasSubstr("Reason: duplicate of #2, the canary catches it"));

  const ActionItem item = actions().at(0);
  EXPECT_EQ(item.status, ActionStatus::kDropped);
  EXPECT_EQ(item.drop_reason, "duplicate of #2, the canary catches it");

  expect_refused([&] { return action("drop 1 again"); }, "already dropped");
  EXPECT_THAT(
      all_text(action("list")),
      HasSubstr("🚫 #1 dropped (@bob, due 2026-11-21, detect): Add alert — won't do: duplicate "
                "of #2, the canary catches it"));
  const Reply draft = incident("draft");
  ASSERT_TRUE(draft.document.has_value());
  EXPECT_THAT(*draft.document, HasSubstr("| won't do: duplicate of #2, the canary catches it |"));

  // Only the open item is due for reminders.
  std::vector<ActionItem> due;
  store_->read([&](Transaction& tx) { due = tx.open_actions_with_due_date(); });
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].seq, 2);

  // A done item is not dropped; reopening a dropped one takes it up again.
  action("done 2");
  expect_refused([&] { return action("drop 2 never mind"); }, "reopen 2");
  const Reply reopened = action("reopen 1");
  EXPECT_THAT(reopened.text, HasSubstr("reopened"));
  EXPECT_EQ(actions().at(0).status, ActionStatus::kOpen);
  EXPECT_EQ(actions().at(0).drop_reason, std::nullopt);
}

TEST_F(HandlerTest, MineListsTheCallersOpenItemsAcrossIncidentsOverdueFirst) {
  const Options bob_other{.user = kBob, .channel = kOtherChannel};
  incident("start DB down");
  action("Rotate keys @bob due 2026-11-30 #process", {kBob});
  action("Fix the alert @bob due 2026-11-01 #detect", {kBob});  // overdue
  action("Not mine @carol due 2026-11-25", {kCarol});
  action("Undated @bob", {kBob});
  action("Finished already @bob due 2026-11-02", {kBob});
  action("done 5");
  action("Abandoned idea @bob due 2026-11-03", {kBob});
  action("drop 6 not needed");
  run("incident", "start Cache cold", Options{.channel = kOtherChannel});
  run("action", "Warm the cache @bob due 2026-11-10 #mitigate",
      Options{.mentions = {kBob}, .channel = kOtherChannel});

  const std::string before = dump(*store_);
  const Reply r = run("action", "mine", bob_other);
  EXPECT_EQ(r.visibility, Visibility::kEphemeral);
  EXPECT_THAT(r.text, HasSubstr("Your open action items (4, 2 overdue)"));
  ASSERT_GE(r.details.size(), 4u) << all_text(r);
  EXPECT_THAT(r.details[0], HasSubstr("INC-1 \"DB down\" (channel C0INC)"));
  EXPECT_THAT(r.details[0], HasSubstr("#2 open (@bob, due 2026-11-01, detect): Fix the alert"));
  EXPECT_THAT(r.details[0], HasSubstr("overdue by 19 days"));
  EXPECT_THAT(r.details[1], HasSubstr("INC-2 \"Cache cold\" (channel C0OTHER)"));
  EXPECT_THAT(r.details[1], HasSubstr("Warm the cache"));
  EXPECT_THAT(r.details[2], HasSubstr("Rotate keys"));
  EXPECT_THAT(r.details[3], HasSubstr("Undated"));
  EXPECT_THAT(all_text(r), Not(HasSubstr("Not mine")));
  EXPECT_THAT(all_text(r), Not(HasSubstr("Finished already")));
  EXPECT_THAT(all_text(r), Not(HasSubstr("Abandoned idea")));
  EXPECT_EQ(dump(*store_), before);

  // Another platform's items are not the caller's, even under the same name.
  const Reply none = run("action", "mine",
                         Options{.user = {"@bob:example.org", "bob"},
                                 .channel = {"matrix", "example.org", "!room:example.org"}});
  EXPECT_THAT(none.text, HasSubstr("You own no open action items"));
}

TEST_F(HandlerTest, MilestonesBeforeTheDeclarationAreRefused) {
  incident("start DB down");  // declared 14:01:00
  expect_refused([&] { return incident("resolved 11:00"); },
                 "it cannot be resolved at 2026-11-20 11:00:00 UTC, 3h 01m 00s before that");
  expect_refused([&] { return incident("mitigated 13:50"); }, "cannot be mitigated");
  expect_refused([&] { return incident("mitigated 2026-11-19T14:00Z"); }, "1d 00h 01m before");
  // Within the tolerance: people round times down.
  EXPECT_EQ(incident("mitigated 13:57").visibility, Visibility::kChannel);
  EXPECT_EQ(current()->mitigated_at, utc(2026, 11, 20, 13, 57));
  EXPECT_THAT(all_text(incident("status")), HasSubstr("(4m 00s before declaration)"));
}

TEST_F(HandlerTest, StoredTimesAtTheEndsOfTheRangeReadSensibly) {
  // A row damaged or written from an unchecked platform time: the status and the refusal
  // of an earlier milestone still compute (no overflow) and read as words.
  store_->write([&](Transaction& tx) {
    Incident i;
    i.channel = kChannel;
    i.title = "Clock gone wrong";
    i.commander = kAlice;
    i.declared_at = Timestamp::max();
    tx.insert_incident(i);
  });
  const Reply status = incident("status");
  EXPECT_THAT(all_text(status), HasSubstr("Declared +292278994-08-17 07:12:55 UTC"));
  EXPECT_THAT(all_text(status), HasSubstr("(more than 100 years from now)"));
  expect_refused([&] { return incident("resolved"); }, "more than 100 years before that");

  store_->write([&](Transaction& tx) {
    Incident i = *tx.current_incident(kChannel);
    i.declared_at = Timestamp::min();
    i.status = IncidentStatus::kMitigated;
    i.mitigated_at = Timestamp::max();
    tx.update_incident(i);
  });
  EXPECT_THAT(all_text(incident("status")),
              HasSubstr("Mitigated +292278994-08-17 07:12:55 UTC (more than 100 years after "
                        "declaration)"));
}

TEST_F(HandlerTest, StatePersistsAcrossARestart) {
  incident("start sev2 DB down");
  timeline("13:55 #detected users report errors");
  timeline("edit 2 users report checkout errors");
  incident("cause connection pool exhausted");
  action("Add alert @bob due +3d #detect", {kBob});
  incident("mitigated");
  const std::string before = dump(*store_);

  // Closing the store and opening the same file again: nothing is lost.
  open("UTC");
  EXPECT_EQ(dump(*store_), before);
  const auto inc = current();
  ASSERT_TRUE(inc.has_value());
  EXPECT_EQ(inc->status, IncidentStatus::kMitigated);
  EXPECT_EQ(event(2)->text, "users report checkout errors");
  EXPECT_EQ(revisions().size(), 1u);

  // And the handler carries on where it left off.
  expect_refused([&] { return incident("start Another"); }, "INC-1");
  // #1 declared, #2 detected (edited, not a new event), #3 mitigated.
  EXPECT_THAT(timeline("after restart").text, HasSubstr("#4"));
  EXPECT_THAT(action("second item @bob", {kBob}).text, HasSubstr("#2"));
  EXPECT_EQ(incident("resolved").visibility, Visibility::kChannel);
  EXPECT_EQ(current()->status, IncidentStatus::kResolved);
}

TEST_F(HandlerTest, ResolutionCannotPrecedeMitigation) {
  incident("start Ordering");
  incident("mitigated");
  expect_refused([&] { return incident("resolved -5m"); }, "cannot be resolved before");
  EXPECT_EQ(current()->status, IncidentStatus::kMitigated);
}

// A flagged entry gets its author a quiet hint through the outbox, in the entry's own
// transaction, once per entry; an unflagged one does not, nor does a channel the outbox
// cannot post to.
TEST_F(HandlerTest, AFlaggedEntryGetsItsAuthorAHintOnce) {
  incident("start sev2 Checkout down");
  timeline("bob forgot to run the migration");  // no posting here: the reply is all there is
  std::optional<OutboxMessage> none;
  store_->read([&](Transaction& tx) { none = tx.find_outbox(1); });
  EXPECT_FALSE(none.has_value());

  int wakes = 0;
  HandlerOptions options;
  options.platforms = test::platforms();
  options.posting_platforms = {"slack"};
  options.outbox_wake = [&] { ++wakes; };
  handler_ = std::make_unique<CommandHandler>(*store_, date::locate_zone("UTC"), options);

  timeline("alice rolled back the deploy");  // #3: neutral
  incident("impact p99 latency grew from 300 ms to 1.2 s");
  EXPECT_EQ(wakes, 0);
  const Reply r =
      run("timeline", "@bob forgot to run the migration", Options{.mentions = {kBob}});  // #4
  EXPECT_EQ(r.visibility, Visibility::kChannel) << "the record is not blocked";
  EXPECT_EQ(wakes, 1);
  std::optional<OutboxMessage> hint;
  store_->read([&](Transaction& tx) { hint = tx.find_outbox_by_key("hint:1:event:4"); });
  ASSERT_TRUE(hint.has_value());
  EXPECT_EQ(hint->channel, kChannel);
  const auto message = outgoing_from_json(hint->content);
  ASSERT_TRUE(message) << message.error;
  EXPECT_EQ(message->body.visibility, Visibility::kEphemeral);
  ASSERT_EQ(message->notify.size(), 1u);
  EXPECT_EQ(message->notify[0], kAlice);
  EXPECT_THAT(message->body.text, HasSubstr("timeline #4"));
  EXPECT_THAT(all_text(message->body), HasSubstr("[blame] timeline #4"));

  // Editing the entry does not hint again; a vague note and a wish do, once each.
  timeline("edit 4 bob forgot to run the migration again");
  EXPECT_EQ(wakes, 1);
  incident("impact some users were affected for a while");
  action("Improve code quality @bob due +7d #prevent", {kBob});
  action("Validate pool sizes in the config pipeline @bob due +7d #prevent", {kBob});
  EXPECT_EQ(wakes, 3);
  std::vector<OutboxMessage> all;
  store_->read([&](Transaction& tx) {
    for (std::int64_t id = 1; auto m = tx.find_outbox(id); ++id) all.push_back(*m);
  });
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].dedupe_key, "hint:1:note:2");
  EXPECT_EQ(all[2].dedupe_key, "hint:1:action:1");
  EXPECT_THAT(all[2].content, HasSubstr("[unactionable] action #1"));
}

// Where the outbox can post, resolution writes the whole draft to it, in the same
// transaction: a summary message, then the draft in pieces as replies in its thread.
TEST_F(HandlerTest, ResolutionPostsTheWholeDraftThroughTheOutbox) {
  int wakes = 0;
  HandlerOptions options;
  options.platforms = test::platforms();
  options.posting_platforms = {"slack"};
  options.outbox_wake = [&] { ++wakes; };
  options.limits.rate.enabled = false;  // 121 commands within milliseconds of real time
  handler_ = std::make_unique<CommandHandler>(*store_, date::locate_zone("UTC"), options);

  incident("start sev2 Checkout down");
  // Enough for several pieces, few enough that the draft with its review section fits a
  // chat message whole (kChatDraftBytes).
  for (int i = 0; i < 90; ++i) timeline("event number " + std::to_string(i));
  EXPECT_EQ(wakes, 0);
  const Reply r = incident("resolved");
  EXPECT_EQ(wakes, 1);
  EXPECT_FALSE(r.document.has_value()) << "the draft goes to the channel, not in the reply";

  std::vector<OutboxMessage> queued;
  store_->read([&](Transaction& tx) { queued = tx.due_outbox(now_ + minutes{1}, 100); });
  ASSERT_EQ(queued.size(), 1u) << "only the summary is due: its replies wait for it";
  const OutboxMessage summary = queued.front();
  EXPECT_EQ(summary.channel, kChannel);
  EXPECT_EQ(summary.thread_parent, std::nullopt);
  EXPECT_THAT(outgoing_from_json(summary.content).value.value().body.text,
              HasSubstr("Postmortem draft of INC-1"));

  // The pieces, in order, put back together, are exactly the stored draft.
  std::string joined;
  int pieces = 0;
  store_->read([&](Transaction& tx) {
    for (std::int64_t id = summary.id + 1;; ++id) {
      auto m = tx.find_outbox(id);
      if (!m) break;
      EXPECT_EQ(m->thread_parent, summary.id);
      const OutgoingMessage piece = outgoing_from_json(m->content).value.value();
      ASSERT_TRUE(piece.body.document.has_value());
      EXPECT_LE(piece.body.document->size(), 2800u);
      joined += *piece.body.document;
      ++pieces;
    }
  });
  EXPECT_GT(pieces, 1);
  EXPECT_EQ(joined, latest_draft().value_or(""));
  EXPECT_THAT(joined, HasSubstr("event number 89"));
  EXPECT_THAT(joined, HasSubstr("## Review before the meeting"));
}

// The size of the draft's pieces is the platform's, as its adapter registered it.
TEST_F(HandlerTest, DraftPiecesHaveThePlatformsSize) {
  const std::size_t slack_max = slack::traits().max_message_bytes;
  const std::size_t matrix_max = matrix::traits().max_message_bytes;
  ASSERT_GT(matrix_max, slack_max);
  HandlerOptions options;
  options.platforms = test::platforms();
  options.posting_platforms = {"slack", "matrix"};
  options.limits.rate.enabled = false;  // 152 commands a channel within milliseconds
  handler_ = std::make_unique<CommandHandler>(*store_, date::locate_zone("UTC"), options);

  const Options room{.user = kAlice, .mentions = {}, .channel = {"matrix", "example.org", "!r"}};
  for (const Options& where : {Options{}, room}) {
    run("incident", "start sev2 Checkout down", where);
    for (int i = 0; i < 150; ++i) run("timeline", "event number " + std::to_string(i), where);
    run("incident", "resolved", where);
  }
  std::map<std::string, std::size_t> largest;
  store_->read([&](Transaction& tx) {
    for (std::int64_t id = 1;; ++id) {
      auto m = tx.find_outbox(id);
      if (!m) break;
      const OutgoingMessage piece = outgoing_from_json(m->content).value.value();
      if (!m->thread_parent || !piece.body.document) continue;
      largest[m->channel.platform] =
          std::max(largest[m->channel.platform], piece.body.document->size());
    }
  });
  EXPECT_LE(largest["slack"], slack_max);
  EXPECT_GT(largest["matrix"], slack_max);
  EXPECT_LE(largest["matrix"], matrix_max);
}

// A platform no adapter registered gets neutral traits, not another platform's prefix.
TEST_F(HandlerTest, AnUnregisteredPlatformGetsNoPrefix) {
  const Options elsewhere{.user = kAlice, .mentions = {}, .channel = {"irc", "", "#ops"}};
  const Reply r = run("incident", "status", elsewhere);
  EXPECT_THAT(r.text, HasSubstr("`incident start [sev1-sev4] <title>`"));
  EXPECT_THAT(r.text, Not(HasSubstr("`/incident")));
}

// ---------------------------------------------------------------------------- the seam

Invocation invocation(std::string command, std::string text, Timestamp at) {
  Invocation inv;
  inv.channel = kChannel;
  inv.user = kAlice;
  inv.command = std::move(command);
  inv.text = std::move(text);
  inv.received_at = at;
  return inv;
}

// prepare() only parses and binds: it says what each command needs of the store and
// touches nothing; the work runs in whatever transaction it is given.
TEST_F(HandlerTest, PrepareDeclaresEachCommandsAccessAndTouchesNothing) {
  incident("start DB down");
  const std::string before = dump(*store_);
  const Timestamp at = now_ + minutes{1};
  EXPECT_EQ(handler_->prepare(invocation("incident", "status", at)).access, Access::kRead);
  EXPECT_EQ(handler_->prepare(invocation("incident", "draft", at)).access, Access::kRead);
  EXPECT_EQ(handler_->prepare(invocation("timeline", "list", at)).access, Access::kRead);
  EXPECT_EQ(handler_->prepare(invocation("action", "list", at)).access, Access::kRead);
  EXPECT_EQ(handler_->prepare(invocation("timeline", "db failed over", at)).access, Access::kWrite);
  EXPECT_EQ(handler_->prepare(invocation("incident", "resolved", at)).access, Access::kWrite);
  const PreparedCommand help = handler_->prepare(invocation("incident", "help", at));
  EXPECT_EQ(help.access, Access::kNone);
  ASSERT_TRUE(help.answer.has_value());
  EXPECT_THAT(help.answer->text, HasSubstr("/incident"));
  EXPECT_FALSE(help.work);
  const PreparedCommand typo = handler_->prepare(invocation("timeline", "lsit", at));
  EXPECT_EQ(typo.access, Access::kNone);
  ASSERT_TRUE(typo.answer.has_value());
  EXPECT_EQ(dump(*store_), before);
}

TEST_F(HandlerTest, PreparedWorkRunsInTheTransactionItIsGivenAndOutlivesItsInvocation) {
  incident("start DB down");
  PreparedCommand prepared;
  {
    const Invocation inv = invocation("timeline", "replica promoted", now_ + minutes{1});
    prepared = handler_->prepare(inv);
  }  // the work keeps its own copy of the invocation
  ASSERT_EQ(prepared.access, Access::kWrite);
  const std::string before = dump(*store_);

  // A transaction that is rolled back keeps nothing of the work.
  struct Abandon {};
  EXPECT_THROW(store_->write([&](Transaction& tx) {
    const CommandResult r = prepared.work(tx);
    EXPECT_THAT(r.reply.text, HasSubstr("replica promoted"));
    throw Abandon{};
  }),
               Abandon);
  EXPECT_EQ(dump(*store_), before);

  // One that commits keeps it.
  const PreparedCommand again =
      handler_->prepare(invocation("timeline", "replica promoted", now_ + minutes{2}));
  CommandResult result;
  store_->write([&](Transaction& tx) { result = again.work(tx); });
  EXPECT_EQ(result.reply.visibility, Visibility::kChannel);
  EXPECT_FALSE(result.enqueued);
  EXPECT_THAT(timeline("list").details, Contains(HasSubstr("replica promoted")));
}

// A store whose writes fail, as a full disk would make them.
class FailingWrites final : public Store {
 public:
  explicit FailingWrites(Store& inner) : inner_(inner) {}
  void write(const std::function<void(Transaction&)>&) override { throw StoreError("disk full"); }
  void read(const std::function<void(Transaction&)>& fn) override { inner_.read(fn); }
  bool healthy() override { return false; }

 private:
  Store& inner_;
};

// The completion of handle_async, waited for: it comes from the store's writer or reader
// thread (or at once for answers without the store). Counts the calls, to show there is
// exactly one.
Completion complete_async(CommandHandler& handler, const Invocation& inv) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto done = std::make_shared<std::promise<Completion>>();
  auto future = done->get_future();
  handler.handle_async(inv, [calls, done](Completion c) {
    if (calls->fetch_add(1) == 0) done->set_value(std::move(c));
  });
  if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "handle_async never completed";
    return Completion{};
  }
  Completion c = future.get();
  EXPECT_EQ(calls->load(), 1);
  return c;
}

TEST_F(HandlerTest, HandleAsyncCompletesOnceWithTheReplyOrTheStoresFailure) {
  incident("start DB down");
  Completion c =
      complete_async(*handler_, invocation("timeline", "cache warmed", now_ + minutes{1}));
  ASSERT_TRUE(c.reply.has_value());
  EXPECT_FALSE(c.error.has_value());
  EXPECT_THAT(c.reply->text, HasSubstr("cache warmed"));

  FailingWrites failing(*store_);
  CommandHandler handler(failing, date::locate_zone("UTC"));
  const std::string before = dump(*store_);
  c = complete_async(handler, invocation("timeline", "lost?", now_ + minutes{2}));
  EXPECT_FALSE(c.reply.has_value());
  ASSERT_TRUE(c.error.has_value());
  EXPECT_THAT(c.error->what(), HasSubstr("disk full"));
  EXPECT_EQ(dump(*store_), before);

  // Reads and answers without the store still work while writes fail.
  c = complete_async(handler, invocation("incident", "status", now_ + minutes{3}));
  ASSERT_TRUE(c.reply.has_value());
  EXPECT_THAT(c.reply->text, HasSubstr("DB down"));
}

// ---------------------------------------------------------------------------- buttons

class ButtonPressTest : public HandlerTest {
 protected:
  void SetUp() override {
    HandlerTest::SetUp();
    HandlerOptions options;
    options.platforms = test::platforms();
    options.outbox_wake = [this] { ++wakes_; };
    handler_ = std::make_unique<CommandHandler>(*store_, date::locate_zone("UTC"), options);
  }

  // A click one minute after the previous command, on the reminder message "1700000000.000100".
  PressOutcome press(std::string action, std::string value, const ChannelRef& channel = kChannel,
                     const Person& user = kBob) {
    now_ += minutes{1};
    ButtonPress p;
    p.channel = channel;
    p.user = user;
    p.action = std::move(action);
    p.value = std::move(value);
    p.message_id = "1700000000.000100";
    p.received_at = now_;
    return handler_->press(p);
  }

  std::vector<OutboxMessage> outbox() {
    std::vector<OutboxMessage> out;
    store_->read([&](Transaction& tx) {
      for (std::int64_t id = 1;; ++id) {
        auto m = tx.find_outbox(id);
        if (!m) break;
        out.push_back(*m);
      }
    });
    return out;
  }

  // Asserts that the press is refused with `outcome` and changes nothing, nor wakes the outbox.
  void expect_press_refused(PressOutcome outcome, std::string action, std::string value,
                            const ChannelRef& channel = kChannel) {
    const std::string before = dump(*store_);
    const int wakes_before = wakes_;
    EXPECT_EQ(press(action, value, channel), outcome) << action << " " << value;
    EXPECT_EQ(dump(*store_), before) << "the store changed after " << action << " " << value;
    EXPECT_EQ(wakes_, wakes_before);
  }

  // An incident in kChannel with two action items; returns the second one's global id.
  std::string two_items() {
    incident("start DB down");
    action("Add alert @bob due +3d #detect", {kBob});
    action("Add canary @carol due +7d #prevent", {kCarol});
    return std::to_string(actions().at(1).id);
  }

  int wakes_ = 0;
};

TEST_F(ButtonPressTest, MarkDoneMarksTheItemDoneAndReplacesTheMessage) {
  const std::string id = two_items();
  EXPECT_EQ(press("action.done", id), PressOutcome::kDone);
  const auto items = actions();
  EXPECT_EQ(items[0].status, ActionStatus::kOpen);
  EXPECT_EQ(items[1].status, ActionStatus::kDone);
  EXPECT_EQ(items[1].done_at, now_);
  EXPECT_EQ(items[1].done_by, kBob);
  EXPECT_EQ(wakes_, 1);
  // On the item's audit trail like a typed `/action done`.
  std::vector<ActionRevision> trail;
  store_->read([&](Transaction& tx) { trail = tx.action_revisions(1); });
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].seq, 2);
  EXPECT_EQ(trail[0].field, "status");
  EXPECT_EQ(trail[0].before, "open");
  EXPECT_EQ(trail[0].after, "done");
  EXPECT_EQ(trail[0].changed_by, kBob);

  const auto queued = outbox();
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(queued[0].channel, kChannel);
  EXPECT_EQ(queued[0].next_attempt_at, now_);
  const OutgoingMessage m = outgoing_from_json(queued[0].content).value.value();
  EXPECT_EQ(m.replaces, "1700000000.000100");
  EXPECT_EQ(m.body.text, "☑️ Done: Add canary — marked by @bob");
  EXPECT_THAT(all_text(m.body), HasSubstr("Action #2 of INC-1 \"DB down\""));
  EXPECT_TRUE(m.buttons.empty()) << "nothing left to click";
  EXPECT_EQ(m.body.incident, 1);

  // Clicked again (or on an older reminder): nothing more happens.
  expect_press_refused(PressOutcome::kAlreadyDone, "action.done", id);
  expect_press_refused(PressOutcome::kAlreadyDone, "action.snooze", id);
}

TEST_F(ButtonPressTest, ADroppedItemIsNotSnoozedButCanStillBeMarkedDone) {
  const std::string id = two_items();
  action("drop 2 the canary covers it");
  expect_press_refused(PressOutcome::kDropped, "action.snooze", id);
  // Someone did it after all: done wins, and the reason goes.
  EXPECT_EQ(press("action.done", id), PressOutcome::kDone);
  EXPECT_EQ(actions()[1].status, ActionStatus::kDone);
  EXPECT_EQ(actions()[1].drop_reason, std::nullopt);
}

TEST_F(ButtonPressTest, MarkDoneWorksAfterResolution) {
  const std::string id = two_items();
  incident("resolved");
  EXPECT_EQ(press("action.done", id), PressOutcome::kDone);
  EXPECT_EQ(actions()[1].status, ActionStatus::kDone);
}

TEST_F(ButtonPressTest, SnoozeHoldsTheItemBackForADayAndKeepsMarkDone) {
  const std::string id = two_items();
  EXPECT_EQ(press("action.snooze", id), PressOutcome::kSnoozed);
  const Timestamp clicked = now_;
  auto items = actions();
  EXPECT_EQ(items[1].status, ActionStatus::kOpen);
  EXPECT_EQ(items[1].snoozed_until, clicked + std::chrono::hours{24});
  EXPECT_EQ(items[0].snoozed_until, std::nullopt);
  EXPECT_EQ(wakes_, 1);

  auto queued = outbox();
  ASSERT_EQ(queued.size(), 1u);
  OutgoingMessage m = outgoing_from_json(queued[0].content).value.value();
  EXPECT_EQ(m.replaces, "1700000000.000100");
  EXPECT_EQ(m.body.text, "💤 Snoozed until 2026-11-21 14:04:00 UTC by @bob: Add canary");
  EXPECT_THAT(all_text(m.body), HasSubstr("`/action done 2`"));
  ASSERT_EQ(m.buttons.size(), 1u);
  EXPECT_EQ(m.buttons[0], (Button{"Mark done", "action.done", id}));

  // Snoozing again counts from the new click; then "Mark done" on the updated message.
  EXPECT_EQ(press("action.snooze", id), PressOutcome::kSnoozed);
  EXPECT_EQ(actions()[1].snoozed_until, now_ + std::chrono::hours{24});
  EXPECT_EQ(press("action.done", id), PressOutcome::kDone);
  items = actions();
  EXPECT_EQ(items[1].status, ActionStatus::kDone);
  EXPECT_EQ(items[1].done_by, kBob);
  queued = outbox();
  ASSERT_EQ(queued.size(), 3u);
  m = outgoing_from_json(queued[2].content).value.value();
  EXPECT_THAT(m.body.text, HasSubstr("☑️ Done: Add canary"));
  EXPECT_EQ(wakes_, 3);
}

TEST_F(ButtonPressTest, AnItemOfAnotherChannelIsRefused) {
  const std::string id = two_items();
  run("incident", "start Other trouble", Options{.channel = kOtherChannel});
  expect_press_refused(PressOutcome::kOtherChannel, "action.done", id, kOtherChannel);
  expect_press_refused(PressOutcome::kOtherChannel, "action.snooze", id, kOtherChannel);
  // The same channel id in another workspace, or on another platform, is another channel.
  expect_press_refused(PressOutcome::kOtherChannel, "action.done", id,
                       ChannelRef{"slack", "T0ELSE", kChannel.channel});
  expect_press_refused(PressOutcome::kOtherChannel, "action.done", id,
                       ChannelRef{"matrix", "", kChannel.channel});
  // A payload without its workspace still matches by channel.
  EXPECT_EQ(press("action.done", id, ChannelRef{"slack", "", kChannel.channel}),
            PressOutcome::kDone);
}

TEST_F(ButtonPressTest, UnknownItemsAndActionsChangeNothing) {
  const std::string id = two_items();
  expect_press_refused(PressOutcome::kNoSuchItem, "action.done", "999");
  expect_press_refused(PressOutcome::kNoSuchItem, "action.done", "");
  expect_press_refused(PressOutcome::kNoSuchItem, "action.done", "2x");
  expect_press_refused(PressOutcome::kNoSuchItem, "action.snooze", "-1");
  expect_press_refused(PressOutcome::kNoSuchItem, "action.done", "0");
  expect_press_refused(PressOutcome::kNoSuchItem, "action.done", "99999999999999999999999");
  expect_press_refused(PressOutcome::kUnknownAction, "action.delete", id);
  expect_press_refused(PressOutcome::kUnknownAction, "", id);
  EXPECT_EQ(to_string(PressOutcome::kOtherChannel), "action item of another channel");
}

TEST_F(ButtonPressTest, ASnoozedItemGetsNoReminderUntilTheSnoozeEnds) {
  incident("start DB down");
  action("Add alert @bob due +1d #detect", {kBob});  // due 2026-11-21, reminders at 09:00
  const std::string id = std::to_string(actions().at(0).id);
  ASSERT_EQ(press("action.snooze", id), PressOutcome::kSnoozed);  // at 2026-11-20 14:03
  const std::size_t updates = outbox().size();
  ReminderPlanner planner(*store_, ReminderSettings{});
  EXPECT_EQ(planner.enqueue_due(utc(2026, 11, 21, 10, 0)), 0) << "due, but snoozed";
  EXPECT_EQ(planner.enqueue_due(utc(2026, 11, 21, 14, 2)), 0) << "still snoozed";
  EXPECT_EQ(planner.enqueue_due(utc(2026, 11, 21, 14, 3)), 1) << "the snooze has ended";
  const auto queued = outbox();
  ASSERT_EQ(queued.size(), updates + 1);
  const OutgoingMessage reminder = outgoing_from_json(queued.back().content).value.value();
  EXPECT_THAT(reminder.body.text, HasSubstr("is due today"));
  EXPECT_EQ(reminder.replaces, std::nullopt) << "a reminder is a new message";
  ASSERT_EQ(reminder.buttons.size(), 2u);
  EXPECT_EQ(reminder.buttons[0], (Button{"Mark done", "action.done", id}));
  EXPECT_EQ(reminder.buttons[1], (Button{"Snooze 1 day", "action.snooze", id}));
}

}  // namespace
}  // namespace scribe
