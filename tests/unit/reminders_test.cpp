// Reminders over a real SQLite store, with a clock the test moves by hand: no sleeping.
// ReminderPlanner decides what is due and writes it to the outbox; the tests read the
// outbox back (channel, addressee, buttons, text) and restart the store where it matters.
#include "commands/reminders.h"

#include <date/tz.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bot/scheduler.h"
#include "commands/outgoing.h"
#include "outbox/outbox.h"
#include "storage/store.h"
#include "test_support.h"

namespace scribe {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using test::ts;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::Not;

const Person kCommander{"U100", "carol"};
const Person kOwner{"U200", "bob"};
const Person kOther{"U300", "alice"};
const ChannelRef kChannel{"slack", "T1", "C-INC"};

class RemindersTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("scribe_reminders_", dir_));
    open();
  }
  void TearDown() override {
    planner_.reset();
    store_.reset();
    test::remove_temp_dir(dir_);
  }

  // A fresh store and planner on the same file: what a restart does.
  void open() {
    planner_.reset();
    store_.reset();
    store_ = open_store((dir_ / "scribe.db").string());
    settings_.platform_traits = test::platforms();
    planner_ = std::make_unique<ReminderPlanner>(*store_, settings_);
  }

  void configure(const ReminderSettings& settings) {
    settings_ = settings;
    settings_.platform_traits = test::platforms();
    planner_ = std::make_unique<ReminderPlanner>(*store_, settings_);
  }

  int run() { return planner_->enqueue_due(now_); }

  // An incident declared two days before `resolved` (when given) and resolved then.
  IncidentId incident(std::optional<Timestamp> resolved = std::nullopt,
                      ChannelRef channel = kChannel) {
    Incident i;
    i.channel = std::move(channel);
    i.title = "Checkout errors";
    i.commander = kCommander;
    i.declared_at = resolved ? *resolved - hours(2) : now_;
    if (resolved) {
      i.status = IncidentStatus::kResolved;
      i.mitigated_at = *resolved - hours(1);
      i.resolved_at = resolved;
    }
    IncidentId id = 0;
    store_->write([&](Transaction& tx) { id = tx.insert_incident(i); });
    return id;
  }

  void close(IncidentId id) {
    store_->write([&](Transaction& tx) {
      Incident i = *tx.find_incident(id);
      i.status = IncidentStatus::kClosed;
      i.closed_at = now_;
      tx.update_incident(i);
    });
  }

  ActionItem action(IncidentId incident_id, std::optional<std::string> due,
                    std::optional<Person> owner = kOwner, std::string text = "Alert on disk use") {
    ActionItem a;
    a.incident_id = incident_id;
    a.text = std::move(text);
    a.owner = std::move(owner);
    a.due = std::move(due);
    a.kind = ActionKind::kDetect;
    a.created_by = kCommander;
    a.created_at = now_;
    store_->write([&](Transaction& tx) { a = tx.add_action(a); });
    return a;
  }

  // Applies `change` to the stored item (what /action done, the buttons and edits do).
  void change(std::int64_t id, const std::function<void(ActionItem&)>& fn) {
    store_->write([&](Transaction& tx) {
      ActionItem a = *tx.find_action_by_id(id);
      fn(a);
      tx.update_action(a);
    });
  }

  std::vector<OutboxMessage> outbox() {
    std::vector<OutboxMessage> all;
    store_->read([&](Transaction& tx) {
      for (std::int64_t id = 1;; ++id) {
        auto m = tx.find_outbox(id);
        if (!m) break;
        all.push_back(*m);
      }
    });
    return all;
  }

  std::vector<std::string> keys() {
    std::vector<std::string> out;
    for (const auto& m : outbox()) out.push_back(m.dedupe_key);
    return out;
  }

  OutgoingMessage last() {
    const auto all = outbox();
    EXPECT_FALSE(all.empty());
    if (all.empty()) return {};
    return outgoing_from_json(all.back().content).value.value();
  }

  std::filesystem::path dir_;
  ReminderSettings settings_;  // UTC, 09:00, quiet hours 20:00-08:00
  Timestamp now_ = test::utc(2026, 11, 20, 12, 0);
  std::unique_ptr<Store> store_;
  std::unique_ptr<ReminderPlanner> planner_;
};

std::string action_key(const ActionItem& a, const std::string& what) {
  return "reminder:action:" + std::to_string(a.id) + ":" + what;
}

// ---------------------------------------------------------------------------- action items

TEST_F(RemindersTest, DueSoonThenDueThenOverdueAtNineInTheMorning) {
  const IncidentId inc = incident();
  const ActionItem item = action(inc, "2026-11-25");

  now_ = test::utc(2026, 11, 24, 8, 59);
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 24, 9, 0);
  EXPECT_EQ(run(), 1);

  const auto sent = outbox();
  ASSERT_EQ(sent.size(), 1u);
  const OutboxMessage& m = sent[0];
  EXPECT_EQ(m.channel, kChannel);
  EXPECT_EQ(m.dedupe_key, action_key(item, "due-soon:2026-11-25"));
  EXPECT_EQ(m.status, OutboxStatus::kPending);
  EXPECT_EQ(m.next_attempt_at, now_);
  const OutgoingMessage soon = outgoing_from_json(m.content).value.value();
  EXPECT_THAT(soon.body.text, HasSubstr("@bob"));
  EXPECT_THAT(soon.body.text, HasSubstr("#1 of INC-" + std::to_string(inc)));
  EXPECT_THAT(soon.body.text, HasSubstr("due tomorrow (2026-11-25)"));
  EXPECT_THAT(soon.body.text, HasSubstr("Alert on disk use"));
  EXPECT_THAT(soon.notify, ElementsAre(kOwner));
  const std::string id = std::to_string(item.id);
  EXPECT_THAT(soon.buttons, ElementsAre(Button{"Mark done", "action.done", id},
                                        Button{"Snooze 1 day", "action.snooze", id}));
  EXPECT_EQ(soon.body.incident, inc);

  now_ = test::utc(2026, 11, 24, 17, 0);
  EXPECT_EQ(run(), 0) << "one due-soon reminder, not one per tick";

  now_ = test::utc(2026, 11, 25, 9, 0);
  EXPECT_EQ(run(), 1);
  EXPECT_THAT(last().body.text, HasSubstr("due today (2026-11-25)"));
  EXPECT_THAT(last().notify, ElementsAre(kOwner));

  now_ = test::utc(2026, 11, 26, 8, 59);
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 26, 9, 0);
  EXPECT_EQ(run(), 1);
  EXPECT_THAT(last().body.text, HasSubstr("overdue"));
  EXPECT_THAT(last().body.text, HasSubstr("1 day ago"));
  EXPECT_EQ(last().buttons.size(), 2u);

  // The next nudge comes one interval (24 h) later, and not before.
  now_ = test::utc(2026, 11, 27, 8, 59);
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 27, 9, 0);
  EXPECT_EQ(run(), 1);
  EXPECT_THAT(last().body.text, HasSubstr("2 days ago"));

  EXPECT_THAT(keys(), ElementsAre(action_key(item, "due-soon:2026-11-25"),
                                  action_key(item, "due:2026-11-25"),
                                  action_key(item, "overdue:2026-11-25:1"),
                                  action_key(item, "overdue:2026-11-25:2")));
  for (const auto& sent_message : outbox()) EXPECT_EQ(sent_message.channel, kChannel);
}

TEST_F(RemindersTest, OverdueIntervalIsConfigurable) {
  ReminderSettings s;
  s.overdue_interval = hours(48);
  configure(s);
  const ActionItem item = action(incident(), "2026-11-25");
  now_ = test::utc(2026, 11, 26, 9, 0);
  EXPECT_EQ(run(), 1);
  now_ = test::utc(2026, 11, 27, 9, 0);
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 28, 9, 0);
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(keys().back(), action_key(item, "overdue:2026-11-25:2"));
}

TEST_F(RemindersTest, DoneStopsThem) {
  const ActionItem item = action(incident(), "2026-11-25");
  now_ = test::utc(2026, 11, 24, 9, 0);
  EXPECT_EQ(run(), 1);
  change(item.id, [&](ActionItem& a) {
    a.status = ActionStatus::kDone;
    a.done_at = now_;
    a.done_by = kOwner;
  });
  for (int day = 25; day <= 30; ++day) {
    now_ = test::utc(2026, 11, static_cast<unsigned>(day), 9, 0);
    EXPECT_EQ(run(), 0) << "day " << day;
  }
  EXPECT_EQ(outbox().size(), 1u);
}

TEST_F(RemindersTest, DroppedItemsAreNeverReminded) {
  const ActionItem item = action(incident(), "2026-11-25");
  change(item.id, [&](ActionItem& a) {
    a.status = ActionStatus::kDropped;
    a.drop_reason = "duplicate of #2";
  });
  for (int day = 21; day <= 30; ++day) {
    now_ = test::utc(2026, 11, static_cast<unsigned>(day), 9, 0);
    EXPECT_EQ(run(), 0) << "day " << day;
  }
  EXPECT_TRUE(outbox().empty());
}

TEST_F(RemindersTest, FollowUpShowsDroppedItemsWithTheirReason) {
  const Timestamp resolved = test::utc(2026, 11, 21, 10, 0);
  now_ = resolved;
  const IncidentId inc = incident(resolved);
  const ActionItem dropped = action(inc, "2026-11-28", kOther, "Add a canary stage");
  action(inc, "2026-12-30", kOwner, "Alert on disk use");
  change(dropped.id, [&](ActionItem& a) {
    a.status = ActionStatus::kDropped;
    a.drop_reason = "the new deploy tool has canaries";
  });
  now_ = test::utc(2026, 11, 23, 12, 0);
  close(inc);  // no meeting reminders in the way
  now_ = test::utc(2026, 12, 5, 10, 0);
  EXPECT_EQ(run(), 1);
  const OutgoingMessage m = last();
  EXPECT_THAT(m.body.text, HasSubstr("0 of 2 action items done, 1 dropped"));
  ASSERT_GE(m.body.details.size(), 2u);
  EXPECT_THAT(m.body.details[0],
              HasSubstr("🚫 #1 @alice · due 2026-11-28 · won't do: the new deploy tool has "
                        "canaries: Add a canary stage"));
  EXPECT_THAT(m.notify, ElementsAre(kCommander, kOwner)) << "not the dropped item's owner";
}

TEST_F(RemindersTest, SnoozeSkipsThemUntilItEnds) {
  const ActionItem item = action(incident(), "2026-11-25");
  now_ = test::utc(2026, 11, 25, 9, 0);
  EXPECT_EQ(run(), 1);  // due today
  // "Snooze 1 day" clicked a few minutes later.
  now_ = test::utc(2026, 11, 25, 9, 5);
  change(item.id, [&](ActionItem& a) { a.snoozed_until = now_ + hours(24); });
  store_->read([&](Transaction& tx) {
    EXPECT_EQ(tx.find_action_by_id(item.id)->snoozed_until, now_ + hours(24));
  });

  now_ = test::utc(2026, 11, 26, 9, 0);  // the first overdue slot, inside the snooze
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 26, 9, 4);
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 26, 9, 5);  // the snooze is over: the slot it held back
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(keys().back(), action_key(item, "overdue:2026-11-25:1"));
  now_ = test::utc(2026, 11, 27, 9, 0);  // and then on schedule again
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(keys().back(), action_key(item, "overdue:2026-11-25:2"));
}

TEST_F(RemindersTest, SnoozeEndingInQuietHoursWaitsForMorning) {
  const ActionItem item = action(incident(), "2026-11-25");
  now_ = test::utc(2026, 11, 25, 21, 30);
  change(item.id, [&](ActionItem& a) { a.snoozed_until = test::utc(2026, 11, 26, 21, 30); });
  now_ = test::utc(2026, 11, 26, 21, 30);
  EXPECT_EQ(run(), 0) << "the snooze ends at 21:30, in quiet hours";
  now_ = test::utc(2026, 11, 27, 7, 59);
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 27, 8, 0);
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(keys().back(), action_key(item, "overdue:2026-11-25:1"));
}

TEST_F(RemindersTest, QuietHoursMoveAReminderToTheirEnd) {
  ReminderSettings s;
  s.zone = date::locate_zone("Europe/Berlin");  // UTC+1 in November
  s.time_of_day = hours(7);                     // inside quiet hours 20:00-08:00
  configure(s);
  const ActionItem item = action(incident(), "2026-11-25");

  now_ = test::utc(2026, 11, 24, 6, 0);  // 07:00 in Berlin: the slot, but quiet
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 24, 6, 59);
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 24, 7, 0);  // 08:00 in Berlin: quiet hours are over
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(keys().back(), action_key(item, "due-soon:2026-11-25"));
  EXPECT_EQ(outbox().back().next_attempt_at, test::utc(2026, 11, 24, 7, 0));
  EXPECT_THAT(last().body.text, HasSubstr("due tomorrow"));
}

TEST_F(RemindersTest, AReminderMovedPastMidnightIsWordedForTheDayItGoesOut) {
  ReminderSettings s;
  s.time_of_day = hours(21);  // quiet: the day-before reminder goes out the next morning
  configure(s);
  const ActionItem item = action(incident(), "2026-11-25");
  now_ = test::utc(2026, 11, 24, 21, 0);
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 25, 8, 0);
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(keys().back(), action_key(item, "due-soon:2026-11-25"));
  EXPECT_THAT(last().body.text, HasSubstr("due today (2026-11-25)"));
}

TEST_F(RemindersTest, TimeOfDayIsLocalToTheZone) {
  ReminderSettings s;
  s.zone = date::locate_zone("America/New_York");  // UTC-5 in November
  configure(s);
  action(incident(), "2026-11-25");
  now_ = test::utc(2026, 11, 24, 13, 59);  // 08:59 in New York
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 24, 14, 0);  // 09:00 in New York
  EXPECT_EQ(run(), 1);
}

TEST_F(RemindersTest, ANewDueDateBringsFreshReminders) {
  const ActionItem item = action(incident(), "2026-11-25");
  now_ = test::utc(2026, 11, 24, 9, 0);
  EXPECT_EQ(run(), 1);
  change(item.id, [](ActionItem& a) { a.due = "2026-11-28"; });
  now_ = test::utc(2026, 11, 25, 9, 0);
  EXPECT_EQ(run(), 0) << "no longer due today";
  now_ = test::utc(2026, 11, 27, 9, 0);
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(keys().back(), action_key(item, "due-soon:2026-11-28"));
  EXPECT_THAT(last().body.text, HasSubstr("due tomorrow (2026-11-28)"));
}

TEST_F(RemindersTest, AnItemCreatedAfterItsSlotWaitsForTheNextOne) {
  now_ = test::utc(2026, 11, 25, 10, 0);
  const ActionItem item = action(incident(), "2026-11-25");  // "due today", an hour late
  now_ = test::utc(2026, 11, 25, 10, 1);
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 26, 9, 0);
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(keys().back(), action_key(item, "overdue:2026-11-25:1"));
}

TEST_F(RemindersTest, ItemsWithoutOwnerOrDateAndItemsOfClosedIncidents) {
  const IncidentId open_incident = incident();
  const ActionItem ownerless = action(open_incident, "2026-11-25", std::nullopt);
  action(open_incident, std::nullopt);  // no due date: nothing to remind of
  const IncidentId closed = incident(test::utc(2026, 11, 19, 10, 0));
  const ActionItem of_closed = action(closed, "2026-11-25");
  close(closed);

  // Closing the incident ends its postmortem, not the follow-up of its action items.
  now_ = test::utc(2026, 11, 24, 9, 0);
  EXPECT_EQ(run(), 2);
  EXPECT_EQ(keys(), (std::vector<std::string>{action_key(ownerless, "due-soon:2026-11-25"),
                                              action_key(of_closed, "due-soon:2026-11-25")}));
  change(of_closed.id, [&](ActionItem& a) { a.status = ActionStatus::kDone; });
  now_ = test::utc(2026, 11, 25, 9, 0);
  EXPECT_EQ(run(), 1) << "the closed incident's item is done: only the other one";
  EXPECT_EQ(keys().back(), action_key(ownerless, "due:2026-11-25"));
  const auto all = outbox();
  const OutgoingMessage m = outgoing_from_json(all[0].content).value.value();
  EXPECT_TRUE(m.notify.empty());
  EXPECT_THAT(m.body.text, Not(HasSubstr("@")));
  EXPECT_THAT(m.body.details, testing::Contains(HasSubstr("no owner")));
}

TEST_F(RemindersTest, MatrixRoomsGetTheirOwnCommandPrefix) {
  const ChannelRef room{"matrix", "example.org", "!room:example.org"};
  action(incident(std::nullopt, room), "2026-11-25");
  now_ = test::utc(2026, 11, 24, 9, 0);
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(outbox().back().channel, room);
  EXPECT_THAT(last().body.details, testing::Contains(HasSubstr("`!action done 1`")));
}

// ---------------------------------------------------------------------------- the meeting

TEST_F(RemindersTest, OnlyPlatformsScribeCanPostToGetReminders) {
  ReminderSettings settings = settings_;
  settings.platforms = std::set<std::string>{"slack"};
  configure(settings);
  const ChannelRef room{"matrix", "example.org", "!room:example.org"};
  action(incident(std::nullopt, room), "2026-11-25");
  action(incident(), "2026-11-25");
  now_ = test::utc(2026, 11, 24, 9, 0);
  EXPECT_EQ(run(), 1);
  ASSERT_EQ(outbox().size(), 1u);
  EXPECT_EQ(outbox().back().channel.platform, "slack");
}

TEST_F(RemindersTest, MeetingReminderRepeatsUntilClose) {
  const Timestamp resolved = test::utc(2026, 11, 21, 10, 0);
  now_ = resolved;
  const IncidentId inc = incident(resolved);

  now_ = test::utc(2026, 11, 22, 9, 59);
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 22, 10, 0);
  EXPECT_EQ(run(), 1);
  const auto sent = outbox();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].channel, kChannel);
  EXPECT_EQ(sent[0].dedupe_key,
            "reminder:incident:" + std::to_string(inc) + ":meeting:20261121T100000Z:1");
  const OutgoingMessage m = outgoing_from_json(sent[0].content).value.value();
  EXPECT_THAT(m.body.text, HasSubstr("postmortem meeting"));
  EXPECT_THAT(m.body.text, HasSubstr("24 hours ago"));
  EXPECT_THAT(m.notify, ElementsAre(kCommander));
  EXPECT_THAT(m.body.details, testing::Contains(HasSubstr("`/incident close`")));
  EXPECT_TRUE(m.buttons.empty());

  now_ = test::utc(2026, 11, 22, 18, 0);
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 23, 10, 0);
  EXPECT_EQ(run(), 1);
  EXPECT_THAT(last().body.text, HasSubstr("2 days ago"));

  now_ = test::utc(2026, 11, 23, 12, 0);
  close(inc);
  for (int day = 24; day <= 30; ++day) {
    now_ = test::utc(2026, 11, static_cast<unsigned>(day), 10, 0);
    EXPECT_EQ(run(), 0) << "day " << day;
  }
  EXPECT_EQ(outbox().size(), 2u);
}

TEST_F(RemindersTest, MeetingReminderInQuietHoursWaitsForMorning) {
  ReminderSettings s;
  s.zone = date::locate_zone("Europe/Berlin");
  configure(s);
  incident(test::utc(2026, 11, 21, 19, 30));  // 20:30 in Berlin
  now_ = test::utc(2026, 11, 22, 19, 30);     // 24 h later: quiet
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 23, 6, 59);
  EXPECT_EQ(run(), 0);
  now_ = test::utc(2026, 11, 23, 7, 0);  // 08:00 in Berlin
  EXPECT_EQ(run(), 1);
}

TEST_F(RemindersTest, AReopenedAndReResolvedIncidentStartsOver) {
  const IncidentId inc = incident(test::utc(2026, 11, 21, 10, 0));
  now_ = test::utc(2026, 11, 22, 10, 0);
  EXPECT_EQ(run(), 1);
  // Reopened, then resolved again a day later.
  store_->write([&](Transaction& tx) {
    Incident i = *tx.find_incident(inc);
    i.resolved_at = test::utc(2026, 11, 22, 11, 0);
    tx.update_incident(i);
  });
  now_ = test::utc(2026, 11, 23, 10, 0);
  EXPECT_EQ(run(), 0) << "the first meeting reminder counts from the new resolution";
  now_ = test::utc(2026, 11, 23, 11, 0);
  EXPECT_EQ(run(), 1);
  EXPECT_THAT(keys().back(), HasSubstr(":meeting:20261122T110000Z:1"));
}

// ---------------------------------------------------------------------------- follow-up

TEST_F(RemindersTest, FollowUpAfterNDaysListsEveryActionItemAndItsStatus) {
  const Timestamp resolved = test::utc(2026, 11, 21, 10, 0);
  now_ = resolved;
  const IncidentId inc = incident(resolved);
  const ActionItem done = action(inc, "2026-11-28", kOther, "Add a canary stage");
  const ActionItem late = action(inc, "2026-12-01", kOwner, "Alert on disk use");
  const ActionItem vague = action(inc, std::nullopt, std::nullopt, "Write a runbook");
  change(done.id, [&](ActionItem& a) {
    a.status = ActionStatus::kDone;
    a.done_at = now_;
  });
  now_ = test::utc(2026, 11, 23, 12, 0);
  close(inc);  // closed: no more meeting reminders; open items and the follow-up go on

  now_ = test::utc(2026, 12, 5, 9, 59);
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(keys().back(), action_key(late, "overdue:2026-12-01:4"))
      << "open item, closed incident";
  now_ = test::utc(2026, 12, 5, 10, 0);  // 14 days after resolution
  EXPECT_EQ(run(), 1);
  const auto sent = outbox();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].channel, kChannel);
  const std::string followup_key =
      "reminder:incident:" + std::to_string(inc) + ":followup:20261121T100000Z";
  EXPECT_EQ(sent[1].dedupe_key, followup_key);
  const OutgoingMessage m = outgoing_from_json(sent[1].content).value.value();
  EXPECT_THAT(m.body.text, HasSubstr("Follow-up review of INC-" + std::to_string(inc)));
  EXPECT_THAT(m.body.text, HasSubstr("14 days ago"));
  EXPECT_THAT(m.body.text, HasSubstr("1 of 3 action items done"));
  ASSERT_GE(m.body.details.size(), 3u);
  EXPECT_THAT(m.body.details[0], HasSubstr("#1 @alice · due 2026-11-28 · done: Add a canary"));
  EXPECT_THAT(m.body.details[1],
              HasSubstr("#2 @bob · due 2026-12-01 · open, overdue: Alert on disk use"));
  EXPECT_THAT(m.body.details[2], HasSubstr("#3 no owner · no due date · open: Write a runbook"));
  EXPECT_THAT(m.notify, ElementsAre(kCommander, kOwner)) << "the commander and open items' owners";
  (void)vague;

  auto followups = [&] {
    const auto k = keys();
    return std::count(k.begin(), k.end(), followup_key);
  };
  now_ = test::utc(2026, 12, 6, 10, 0);
  run();
  EXPECT_EQ(followups(), 1) << "one follow-up";
  now_ = test::utc(2027, 1, 30, 10, 0);
  run();
  EXPECT_EQ(followups(), 1);
}

TEST_F(RemindersTest, FollowUpDaysAreConfigurableAndOldIncidentsAreLeftAlone) {
  ReminderSettings s;
  s.followup_after = std::chrono::days(3);
  configure(s);
  const IncidentId recent = incident(test::utc(2026, 11, 17, 12, 0));
  close(recent);
  const IncidentId ancient = incident(test::utc(2025, 6, 1, 12, 0));
  close(ancient);
  now_ = test::utc(2026, 11, 20, 12, 0);
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(keys(), std::vector<std::string>{"reminder:incident:" + std::to_string(recent) +
                                             ":followup:20261117T120000Z"});
  EXPECT_THAT(last().body.text, HasSubstr("has no action items"));
}

// ---------------------------------------------------------------------------- once only

TEST_F(RemindersTest, AfterDowntimeOneRunEnqueuesOnlyTheLatestSlot) {
  const IncidentId inc = incident(test::utc(2026, 11, 21, 10, 0));
  const ActionItem item = action(inc, "2026-11-25");
  // Scribe was down from before the due-soon slot until the fourth overdue slot.
  now_ = test::utc(2026, 11, 29, 12, 0);
  EXPECT_EQ(run(), 2);
  EXPECT_THAT(keys(), ElementsAre(action_key(item, "overdue:2026-11-25:4"),
                                  "reminder:incident:" + std::to_string(inc) +
                                      ":meeting:20261121T100000Z:8"));
  EXPECT_EQ(run(), 0);
}

TEST_F(RemindersTest, TwoRunsAtTheSameTimeEnqueueOnce) {
  action(incident(test::utc(2026, 11, 21, 10, 0)), "2026-11-25");
  now_ = test::utc(2026, 11, 25, 10, 0);
  EXPECT_EQ(run(), 2);  // due today, and the meeting
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(outbox().size(), 2u);
}

// Delivers whatever it is given, counting.
class CountingDeliverer : public Deliverer {
 public:
  explicit CountingDeliverer(std::vector<std::string>& log) : log_(log) {}
  DeliveryResult deliver(const OutboxMessage& m, const std::optional<std::string>&) override {
    log_.push_back(m.dedupe_key);
    return {DeliveryResult::Outcome::kSent, "ts-" + std::to_string(m.id), std::nullopt, ""};
  }

 private:
  std::vector<std::string>& log_;
};

TEST_F(RemindersTest, ARestartBetweenDueTimeAndSendStillSendsOnce) {
  const ActionItem item = action(incident(), "2026-11-25");
  now_ = test::utc(2026, 11, 25, 9, 0);
  EXPECT_EQ(run(), 1);  // enqueued, and then the process dies before the sender ran

  open();  // restart
  now_ = test::utc(2026, 11, 25, 9, 1);
  EXPECT_EQ(run(), 0) << "the slot was enqueued before the restart";
  ASSERT_EQ(outbox().size(), 1u);

  std::vector<std::string> delivered;
  {
    OutboxSender sender(
        *store_, [this] { return now_; }, OutboxSender::Options{});
    sender.add_deliverer("slack", {JobKind::kPost}, std::make_unique<CountingDeliverer>(delivered));
    EXPECT_EQ(sender.run_once(), 1);
    open();  // and another restart after sending
    EXPECT_EQ(run(), 0);
  }
  {
    OutboxSender sender(
        *store_, [this] { return now_; }, OutboxSender::Options{});
    sender.add_deliverer("slack", {JobKind::kPost}, std::make_unique<CountingDeliverer>(delivered));
    EXPECT_EQ(sender.run_once(), 0);
  }
  EXPECT_EQ(delivered, std::vector<std::string>{action_key(item, "due:2026-11-25")});
  EXPECT_EQ(outbox().at(0).status, OutboxStatus::kSent);
}

// ---------------------------------------------------------------------------- settings

TEST(RemindersSettings, ParseAndFormat) {
  EXPECT_EQ(parse_time_of_day("09:00"), minutes(9 * 60));
  EXPECT_EQ(parse_time_of_day("23:59"), minutes(23 * 60 + 59));
  EXPECT_EQ(parse_time_of_day("00:00"), minutes(0));
  for (const char* bad : {"24:00", "9:00", "09:5", "09-00", "0900", " 09:00", ""}) {
    EXPECT_EQ(parse_time_of_day(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(parse_quiet_hours("20:00-08:00"), (QuietHours{hours(20), hours(8)}));
  EXPECT_EQ(parse_quiet_hours("20:00-20:00"), std::nullopt);
  EXPECT_EQ(parse_quiet_hours("20:00"), std::nullopt);
  EXPECT_EQ(format_time_of_day(minutes(9 * 60 + 5)), "09:05");
  EXPECT_EQ(to_string(QuietHours{hours(22), minutes(6 * 60 + 30)}), "22:00-06:30");
}

TEST(RemindersSettings, QuietHoursWrapMidnight) {
  const QuietHours night{hours(20), hours(8)};
  EXPECT_TRUE(night.contains(hours(20)));
  EXPECT_TRUE(night.contains(hours(23)));
  EXPECT_TRUE(night.contains(hours(0)));
  EXPECT_TRUE(night.contains(minutes(7 * 60 + 59)));
  EXPECT_FALSE(night.contains(hours(8)));
  EXPECT_FALSE(night.contains(minutes(19 * 60 + 59)));
  const QuietHours lunch{hours(12), hours(13)};
  EXPECT_TRUE(lunch.contains(hours(12)));
  EXPECT_FALSE(lunch.contains(hours(13)));
  EXPECT_FALSE(lunch.contains(hours(2)));
}

TEST(RemindersSettings, NonsenseIsRefused) {
  struct NoStore : Store {
    void write(const std::function<void(Transaction&)>&) override {}
    void read(const std::function<void(Transaction&)>&) override {}
    bool healthy() override { return true; }
  } store;
  ReminderSettings s;
  s.overdue_interval = hours(0);
  EXPECT_THROW((ReminderPlanner{store, s}), std::invalid_argument);
  s = {};
  s.time_of_day = hours(24);
  EXPECT_THROW((ReminderPlanner{store, s}), std::invalid_argument);
  s = {};
  EXPECT_NE((ReminderPlanner{store, s}.settings().zone), nullptr) << "no zone means UTC";
}

// ---------------------------------------------------------------------------- scheduler

// A store whose transactions fail until told otherwise, counting the attempts.
class FlakyStore : public Store {
 public:
  explicit FlakyStore(Store& real) : real_(real) {}
  void write(const std::function<void(Transaction&)>& fn) override {
    ++writes;
    if (failing) throw StoreError("disk I/O error");
    real_.write(fn);
  }
  void read(const std::function<void(Transaction&)>& fn) override { real_.read(fn); }
  bool healthy() override { return !failing; }
  std::atomic<bool> failing{false};
  std::atomic<int> writes{0};

 private:
  Store& real_;
};

TEST_F(RemindersTest, SchedulerWakesTheOutboxOnlyWhenSomethingWasEnqueued) {
  action(incident(), "2026-11-25");
  int wakes = 0;
  ReminderPlanner planner(*store_, settings_);
  Scheduler scheduler(
      planner, [this] { return now_; }, [&] { ++wakes; }, Scheduler::Options{});
  now_ = test::utc(2026, 11, 24, 8, 0);
  EXPECT_EQ(scheduler.run_once(), 0);
  EXPECT_EQ(wakes, 0);
  now_ = test::utc(2026, 11, 24, 9, 0);
  EXPECT_EQ(scheduler.run_once(), 1);
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(scheduler.run_once(), 0);
  EXPECT_EQ(wakes, 1);
}

TEST_F(RemindersTest, SchedulerSurvivesAFailingStore) {
  action(incident(), "2026-11-25");
  FlakyStore flaky(*store_);
  ReminderPlanner planner(flaky, settings_);
  int wakes = 0;
  Scheduler scheduler(
      planner, [this] { return now_; }, [&] { ++wakes; }, Scheduler::Options{});
  now_ = test::utc(2026, 11, 24, 9, 0);
  flaky.failing = true;
  EXPECT_EQ(scheduler.run_once(), 0);  // logged, not thrown
  EXPECT_EQ(outbox().size(), 0u);
  flaky.failing = false;
  EXPECT_EQ(scheduler.run_once(), 1);  // the next tick catches up
  EXPECT_EQ(wakes, 1);
}

TEST_F(RemindersTest, SchedulerThreadRunsAtStartAndStopsPromptly) {
  action(incident(), "2026-11-25");
  now_ = test::utc(2026, 11, 24, 9, 0);
  std::promise<void> woken;
  std::atomic<bool> once{false};
  ReminderPlanner planner(*store_, settings_);
  Scheduler::Options options;
  options.tick = hours(1);  // stop() must not wait for it
  Scheduler scheduler(
      planner, [this] { return now_; },
      [&] {
        if (!once.exchange(true)) woken.set_value();
      },
      options);
  scheduler.start();
  ASSERT_EQ(woken.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the first pass runs at start";
  const auto before = std::chrono::steady_clock::now();
  scheduler.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
  EXPECT_EQ(outbox().size(), 1u);
  scheduler.stop();  // twice is harmless
}

}  // namespace
}  // namespace scribe

// ---------------------------------------------------------------------------- direct, escalation,
// digest

namespace scribe {
namespace {

TEST_F(RemindersTest, DirectDeliveryGoesToTheOwnerAndBothGoesToBoth) {
  ReminderSettings s;
  s.delivery = ReminderDelivery::kDirect;
  configure(s);
  const IncidentId inc = incident();
  const ActionItem owned = action(inc, "2026-11-25");
  const ActionItem ownerless = action(inc, "2026-11-25", std::nullopt, "Write a runbook");
  const ActionItem by_name = action(inc, "2026-11-25", Person{"", "zoe"}, "Tune the pool");

  now_ = test::utc(2026, 11, 24, 9, 0);
  EXPECT_EQ(run(), 3);
  const auto sent = outbox();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].kind, JobKind::kDirect);
  EXPECT_EQ(sent[0].channel, (ChannelRef{"slack", "T1", "U200"})) << "the owner's own id";
  EXPECT_EQ(sent[0].dedupe_key, action_key(owned, "due-soon:2026-11-25:direct"));
  EXPECT_THAT(outgoing_from_json(sent[0].content).value->body.text, HasSubstr("due tomorrow"));
  // No owner, or one without a platform id: only the channel can tell them.
  EXPECT_EQ(sent[1].kind, JobKind::kPost);
  EXPECT_EQ(sent[1].channel, kChannel);
  EXPECT_EQ(sent[1].dedupe_key, action_key(ownerless, "due-soon:2026-11-25"));
  EXPECT_EQ(sent[2].kind, JobKind::kPost);
  EXPECT_EQ(sent[2].dedupe_key, action_key(by_name, "due-soon:2026-11-25"));

  s.delivery = ReminderDelivery::kBoth;
  configure(s);
  now_ = test::utc(2026, 11, 25, 9, 0);
  EXPECT_EQ(run(), 4);
  const auto after = outbox();
  std::vector<std::string> owned_keys;
  for (const auto& m : after) {
    if (m.dedupe_key.starts_with(action_key(owned, "due:"))) owned_keys.push_back(m.dedupe_key);
  }
  EXPECT_THAT(owned_keys,
              testing::UnorderedElementsAre(action_key(owned, "due:2026-11-25"),
                                            action_key(owned, "due:2026-11-25:direct")));
  EXPECT_EQ(run(), 0) << "exactly once";
}

TEST_F(RemindersTest, DirectDeliveryFallsBackToTheChannelWhereThePlatformCannotDeliverIt) {
  ReminderSettings s;
  s.delivery = ReminderDelivery::kDirect;
  s.direct_platforms = std::set<std::string>{"slack"};
  configure(s);
  const ChannelRef room{"matrix", "example.org", "!room:example.org"};
  action(incident(std::nullopt, room), "2026-11-25", Person{"@bob:example.org", "bob"});
  now_ = test::utc(2026, 11, 24, 9, 0);
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(outbox()[0].kind, JobKind::kPost);
  EXPECT_EQ(outbox()[0].channel, room);
}

TEST_F(RemindersTest, AnItemLongOverdueIsEscalatedOnceToTheCommander) {
  ReminderSettings s;
  s.escalate_after = std::chrono::days{7};
  configure(s);
  const IncidentId inc = incident();
  const ActionItem late = action(inc, "2026-11-25");
  const ActionItem dropped = action(inc, "2026-11-25", kOther, "Rewrite the cache");
  change(dropped.id, [&](ActionItem& a) {
    a.status = ActionStatus::kDropped;
    a.drop_reason = "cache removed";
  });
  close(inc);

  auto escalations = [&] {
    std::vector<OutboxMessage> out;
    for (const auto& m : outbox()) {
      if (m.dedupe_key.find(":escalate:") != std::string::npos) out.push_back(m);
    }
    return out;
  };
  now_ = test::utc(2026, 12, 3, 8, 59);  // overdue by 7 days and a bit: not more than 7 days
  run();
  EXPECT_TRUE(escalations().empty());
  now_ = test::utc(2026, 12, 3, 9, 0);
  run();
  auto e = escalations();
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].dedupe_key, action_key(late, "escalate:2026-11-25"));
  EXPECT_EQ(e[0].channel, kChannel);
  const OutgoingMessage m = outgoing_from_json(e[0].content).value.value();
  EXPECT_THAT(m.body.text, HasSubstr("@carol"));
  EXPECT_THAT(m.body.text, HasSubstr("8 days overdue"));
  EXPECT_THAT(m.body.text, HasSubstr("@bob"));
  EXPECT_THAT(m.notify, ElementsAre(kCommander, kOwner));
  now_ = test::utc(2026, 12, 9, 9, 0);
  run();
  EXPECT_EQ(escalations().size(), 1u) << "once per due date";
  change(late.id, [&](ActionItem& a) { a.due = "2026-12-10"; });
  now_ = test::utc(2026, 12, 19, 9, 0);
  run();
  EXPECT_EQ(escalations().size(), 2u) << "a new due date that also slips escalates again";
}

TEST_F(RemindersTest, WeeklyDigestPerOwnerAcrossIncidentsOverdueFirst) {
  ReminderSettings s;
  s.digest_day = 1;  // Monday
  s.delivery = ReminderDelivery::kDirect;
  configure(s);
  const IncidentId first = incident();
  const IncidentId second = incident(std::nullopt, ChannelRef{"slack", "T1", "C-OTHER"});
  action(first, "2026-12-20", kOwner, "Add a canary stage");
  action(second, "2026-11-21", kOwner, "Alert on disk use");
  action(second, std::nullopt, kOwner, "Write a runbook");
  const ActionItem done = action(first, "2026-11-22", kOwner, "Already done");
  change(done.id, [&](ActionItem& a) { a.status = ActionStatus::kDone; });
  action(first, "2026-12-20", kOther, "Alice's item");
  action(first, "2026-12-20", std::nullopt, "Nobody's item");

  auto digests = [&] {
    std::vector<OutboxMessage> out;
    for (const auto& m : outbox()) {
      if (m.dedupe_key.starts_with("reminder:digest:")) out.push_back(m);
    }
    return out;
  };
  now_ = test::utc(2026, 11, 23, 8, 59);  // Monday before 09:00
  run();
  EXPECT_TRUE(digests().empty());
  now_ = test::utc(2026, 11, 23, 9, 0);
  run();
  auto d = digests();
  ASSERT_EQ(d.size(), 2u) << "bob and alice; an item without owner has no digest";
  const auto bob = std::find_if(d.begin(), d.end(), [](const auto& m) {
    return m.dedupe_key == "reminder:digest:slack:T1:U200:2026-11-23";
  });
  ASSERT_NE(bob, d.end());
  EXPECT_EQ(bob->kind, JobKind::kDirect);
  EXPECT_EQ(bob->channel.channel, "U200");
  const OutgoingMessage m = outgoing_from_json(bob->content).value.value();
  EXPECT_THAT(m.body.text, HasSubstr("3 action items open, 1 overdue"));
  ASSERT_GE(m.body.details.size(), 3u);
  EXPECT_THAT(m.body.details[0], HasSubstr("Alert on disk use"));
  EXPECT_THAT(m.body.details[0], HasSubstr("overdue since 2026-11-21"));
  EXPECT_THAT(m.body.details[1], HasSubstr("Add a canary stage"));
  EXPECT_THAT(m.body.details[2], HasSubstr("Write a runbook"));
  for (const auto& line : m.body.details) EXPECT_THAT(line, Not(HasSubstr("Already done")));

  now_ = test::utc(2026, 11, 25, 9, 0);
  run();
  EXPECT_EQ(digests().size(), 2u) << "once a week";
  now_ = test::utc(2026, 12, 1, 10, 0);  // Tuesday: last Monday's was missed by more than a day
  run();
  EXPECT_EQ(digests().size(), 2u);
  now_ = test::utc(2026, 12, 7, 9, 30);
  run();
  EXPECT_EQ(digests().size(), 4u);

  // Channel delivery: the digest goes to the channel of the owner's newest incident.
  s.delivery = ReminderDelivery::kChannel;
  configure(s);
  now_ = test::utc(2026, 12, 14, 9, 0);
  run();
  d = digests();
  ASSERT_EQ(d.size(), 6u);
  const auto bob_channel = std::find_if(d.begin(), d.end(), [](const auto& job) {
    return job.dedupe_key == "reminder:digest:slack:T1:U200:2026-12-14";
  });
  ASSERT_NE(bob_channel, d.end());
  EXPECT_EQ(bob_channel->kind, JobKind::kPost);
  EXPECT_EQ(bob_channel->channel.channel, "C-OTHER");
}

}  // namespace
}  // namespace scribe
