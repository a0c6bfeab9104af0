// Export and import of incidents (archive/archive.h) through the Store interface, on real
// SQLite files: a record with every part (deleted and revised events with links, notes,
// action items with their trail and tracker issue, approvals, publications, a draft, channel
// zones) survives export -> import into a fresh database -> export unchanged; duplicates,
// conflicts and malformed documents are refused and change nothing.
#include <filesystem>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "archive/archive.h"
#include "storage/sqlite_store.h"
#include "storage/store.h"
#include "test_support.h"

namespace scribe {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using test::utc;
using testing::HasSubstr;

const Timestamp kT0 = utc(2026, 11, 20, 14, 0, 0, 250);
const Person kAlice{"U0ALICE", "alice"};
const Person kBob{"U0BOB", "bob"};
const ChannelRef kChannel{"slack", "T0TEAM", "C0INC"};
const ChannelRef kRoom{"matrix", "example.org", "!room:example.org"};

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("archive-", dir_)); }
  void TearDown() override { test::remove_temp_dir(dir_); }

  std::unique_ptr<Store> open(const std::string& name) {
    return open_sqlite_store((dir_ / name).string());
  }

  static nlohmann::ordered_json exported(Store& store,
                                         std::optional<IncidentId> only = std::nullopt) {
    std::optional<nlohmann::ordered_json> doc;
    store.read([&](Transaction& tx) { doc = archive::export_incidents(tx, only); });
    EXPECT_TRUE(doc.has_value());
    return doc.value_or(nlohmann::ordered_json());
  }

  // Imports `doc`; the error's text, or empty when it was imported.
  static std::string import(Store& store, const nlohmann::json& doc,
                            archive::ImportResult* result = nullptr) {
    try {
      store.write([&](Transaction& tx) {
        auto r = archive::import_incidents(tx, doc);
        if (result) *result = r;
      });
    } catch (const archive::ImportError& e) {
      return e.what();
    }
    return {};
  }

  // A closed incident with one of everything, and an open one in a Matrix room.
  static void fill(Store& store) {
    store.write([](Transaction& tx) {
      Incident i;
      i.channel = kChannel;
      i.title = "Checkout errors — “quoted” ünïcode";
      i.severity = Severity::kSev1;
      i.status = IncidentStatus::kClosed;
      i.commander = kAlice;
      i.declared_at = kT0;
      i.mitigated_at = kT0 + minutes{20};
      i.resolved_at = kT0 + minutes{45};
      i.closed_at = kT0 + hours{30};
      i.postmortem_owner = kBob;
      i.postmortem_status = PostmortemStatus::kFinal;
      i.closed_anyway = "reviewed in the meeting";
      i.id = tx.insert_incident(i);

      TimelineEvent e;
      e.incident_id = i.id;
      e.kind = EventKind::kImpact;
      e.occurred_at = kT0 + minutes{1};
      e.recorded_at = kT0 + minutes{2};
      e.author = kAlice;
      e.text = "p99 1.2 s";
      e.links = {EventLink{EventLink::Kind::kMessage, "", "https://x.slack.com/archives/C/p1"},
                 EventLink{EventLink::Kind::kImage, "graph.png", "https://files/graph.png"}};
      TimelineEvent first = tx.append_event(e);
      e.kind = EventKind::kNote;
      e.text = "typo'd line";
      e.links.clear();
      TimelineEvent second = tx.append_event(e);
      // Edited, then deleted: two revisions.
      EventRevision r;
      r.event_id = second.id;
      r.seq = second.seq;
      r.revision = 0;
      r.change = "edit";
      r.kind = second.kind;
      r.occurred_at = second.occurred_at;
      r.text = second.text;
      r.changed_by = kBob;
      r.changed_at = kT0 + minutes{5};
      second.text = "fixed line";
      second.revision = 1;
      tx.revise_event(second, r);
      r.revision = 1;
      r.change = "delete";
      r.text = second.text;
      r.changed_at = kT0 + minutes{6};
      second.deleted = true;
      second.revision = 2;
      tx.revise_event(second, r);
      (void)first;

      tx.add_note(Note{0, i.id, NoteSection::kCause, "a config push", kAlice, kT0 + hours{2}});
      tx.add_note(Note{0, i.id, NoteSection::kLesson, "canary first", kBob, kT0 + hours{3}});

      ActionItem a;
      a.incident_id = i.id;
      a.text = "Add a canary stage";
      a.owner = kBob;
      a.due = "2026-12-01";
      a.kind = ActionKind::kPrevent;
      a.created_by = kAlice;
      a.created_at = kT0 + hours{1};
      a = tx.add_action(a);
      a.tracker_key = "OPS-12";
      a.tracker_url = "https://jira/OPS-12";
      tx.update_action(a);
      ActionItem done = a;
      done.status = ActionStatus::kDone;
      done.done_at = kT0 + hours{40};
      done.done_by = kBob;
      tx.revise_action(
          done, {ActionRevision{a.id, a.seq, "status", "open", "done", kBob, kT0 + hours{40}}});
      ActionItem dropped;
      dropped.incident_id = i.id;
      dropped.text = "Rewrite everything";
      dropped.status = ActionStatus::kDropped;
      dropped.drop_reason = "too big";
      dropped.snoozed_until = kT0 + hours{50};
      dropped.created_by = kBob;
      dropped.created_at = kT0 + hours{1};
      tx.add_action(dropped);

      tx.add_approval(Approval{i.id, Person{"U0CAROL", "carol"}, kT0 + hours{29}});
      tx.save_publication(Publication{i.id, "confluence", "98765", "https://wiki/98765", 3,
                                      std::string(64, 'a'), kT0 + hours{29}});
      tx.save_draft(i.id, kT0 + minutes{45}, "# INC draft\n\nold");
      tx.save_draft(i.id, kT0 + minutes{46}, "# INC draft\n\nnewest");
      tx.set_channel_zone(ChannelZone{kChannel, "Europe/Berlin", kAlice, kT0 - hours{1}});
      tx.set_channel_zone(ChannelZone{kChannel, "America/New_York", kBob, kT0 - minutes{30}});

      Incident open;
      open.channel = kRoom;
      open.title = "Still going";
      open.commander = Person{"@carol:example.org", "carol"};
      open.declared_at = kT0 + hours{100};
      open.id = tx.insert_incident(open);
      TimelineEvent x;
      x.incident_id = open.id;
      x.occurred_at = open.declared_at;
      x.recorded_at = open.declared_at;
      x.author = open.commander;
      x.text = "started";
      tx.append_event(x);
    });
  }

  std::filesystem::path dir_;
};

TEST_F(ArchiveTest, ExportImportExportIsIdentical) {
  auto source = open("source.db");
  fill(*source);
  const auto first = exported(*source);
  ASSERT_EQ(first["format"], "scribe-export");
  ASSERT_EQ(first["version"], 1);
  ASSERT_EQ(first["incidents"].size(), 2u);
  const auto& inc = first["incidents"][0];
  EXPECT_EQ(inc["events"].size(), 2u);
  EXPECT_EQ(inc["event_revisions"].size(), 2u);
  EXPECT_EQ(inc["events"][1]["deleted"], true);
  EXPECT_EQ(inc["events"][0]["links"].size(), 2u);
  EXPECT_EQ(inc["actions"][0]["tracker_key"], "OPS-12");
  EXPECT_EQ(inc["actions"][0]["status"], "done");
  EXPECT_EQ(inc["action_revisions"].size(), 1u);
  EXPECT_EQ(inc["latest_draft"], "# INC draft\n\nnewest");
  EXPECT_EQ(first["channel_zones"].size(), 2u);

  auto target = open("target.db");
  archive::ImportResult result;
  ASSERT_EQ(import(*target, nlohmann::json::parse(first.dump()), &result), "");
  EXPECT_EQ(result.ids.size(), 2u);
  EXPECT_EQ(result.channel_zones, 2);
  // Into an empty database, ids come out the same, so the documents match whole.
  EXPECT_EQ(exported(*target).dump(2), first.dump(2));
}

TEST_F(ArchiveTest, ImportIntoADatabaseWithIncidentsRenumbersOnlyTheIncidentIds) {
  auto source = open("source.db");
  fill(*source);
  const auto doc = exported(*source);
  auto target = open("target.db");
  target->write([](Transaction& tx) {
    Incident other;
    other.channel = ChannelRef{"slack", "T0TEAM", "C0OTHER"};
    other.title = "Unrelated";
    other.status = IncidentStatus::kClosed;
    other.commander = kAlice;
    other.declared_at = kT0 - hours{500};
    tx.insert_incident(other);
  });
  archive::ImportResult result;
  ASSERT_EQ(import(*target, nlohmann::json::parse(doc.dump()), &result), "");
  ASSERT_EQ(result.ids.size(), 2u);
  EXPECT_EQ(result.ids[0], std::make_pair(IncidentId{1}, IncidentId{2}));
  EXPECT_EQ(result.ids[1], std::make_pair(IncidentId{2}, IncidentId{3}));
  for (std::size_t n = 0; n < 2; ++n) {
    auto again = exported(*target, result.ids[n].second)["incidents"][0];
    auto original = doc["incidents"][n];
    EXPECT_EQ(again["id"], result.ids[n].second);
    again.erase("id");
    original.erase("id");
    EXPECT_EQ(again.dump(2), original.dump(2));
  }
}

TEST_F(ArchiveTest, ARepeatedImportIsRefusedAndChangesNothing) {
  auto source = open("source.db");
  fill(*source);
  const auto doc = nlohmann::json::parse(exported(*source).dump());
  auto target = open("target.db");
  ASSERT_EQ(import(*target, doc), "");
  const std::string before = exported(*target).dump();
  const std::string error = import(*target, doc);
  EXPECT_THAT(error, HasSubstr("INC-1 is already in the target as INC-1"));
  EXPECT_THAT(error, HasSubstr("nothing was imported"));
  EXPECT_EQ(exported(*target).dump(), before);
}

TEST_F(ArchiveTest, ConflictsAreRefusedBeforeAnythingIsWritten) {
  auto source = open("source.db");
  fill(*source);
  const auto doc = nlohmann::json::parse(exported(*source).dump());

  // An incident under way in the Matrix room already: the document's open one conflicts.
  {
    auto target = open("busy.db");
    target->write([](Transaction& tx) {
      Incident busy;
      busy.channel = kRoom;
      busy.title = "Another one";
      busy.commander = kAlice;
      busy.declared_at = kT0;
      tx.insert_incident(busy);
    });
    const std::string before = exported(*target).dump();
    EXPECT_THAT(import(*target, doc), HasSubstr("is not closed, and the target's INC-1"));
    EXPECT_EQ(exported(*target).dump(), before);
  }
  // The tracker issue already belongs to an item of the target.
  {
    auto target = open("tracked.db");
    target->write([](Transaction& tx) {
      Incident mine;
      mine.channel = ChannelRef{"slack", "T0TEAM", "C0MINE"};
      mine.title = "Mine";
      mine.status = IncidentStatus::kClosed;
      mine.commander = kAlice;
      mine.declared_at = kT0 - hours{1};
      mine.id = tx.insert_incident(mine);
      ActionItem a;
      a.incident_id = mine.id;
      a.text = "Mine";
      a.created_by = kAlice;
      a.created_at = kT0;
      a = tx.add_action(a);
      a.tracker_key = "OPS-12";
      tx.update_action(a);
    });
    const std::string before = exported(*target).dump();
    EXPECT_THAT(import(*target, doc), HasSubstr("tracker issue OPS-12 already belongs to INC-1"));
    EXPECT_EQ(exported(*target).dump(), before);
  }
  // Other time zone settings for the same channel.
  {
    auto target = open("zoned.db");
    target->write([](Transaction& tx) {
      tx.set_channel_zone(ChannelZone{kChannel, "Asia/Tokyo", kAlice, kT0});
    });
    EXPECT_THAT(import(*target, doc), HasSubstr("other time zone settings"));
    EXPECT_EQ(exported(*target)["incidents"].size(), 0u);
  }
}

TEST_F(ArchiveTest, MalformedDocumentsNameThePlaceAndChangeNothing) {
  auto source = open("source.db");
  fill(*source);
  const auto good = nlohmann::json::parse(exported(*source).dump());
  auto target = open("target.db");

  struct Case {
    std::function<void(nlohmann::json&)> spoil;
    std::string message;
  };
  const Case cases[] = {
      {[](nlohmann::json& d) { d["format"] = "something-else"; }, "document.format"},
      {[](nlohmann::json& d) { d["version"] = 2; }, "made by a newer Scribe"},
      {[](nlohmann::json& d) { d.erase("incidents"); }, "document.incidents: is missing"},
      {[](nlohmann::json& d) { d["incidents"][1]["severity"] = "sev9"; },
       "incidents[1].severity: 'sev9' is not known"},
      {[](nlohmann::json& d) { d["incidents"][0]["events"][1]["seq"] = 5; },
       "incidents[0].events[1].seq"},
      {[](nlohmann::json& d) { d["incidents"][0]["event_revisions"][0]["seq"] = 9; },
       "names event 9"},
      {[](nlohmann::json& d) { d["incidents"][0]["declared_at"] = "yesterday"; },
       "incidents[0].declared_at: 'yesterday' is not a time"},
      {[](nlohmann::json& d) { d["incidents"][0]["actions"][0]["owner"] = 7; },
       "incidents[0].actions[0].owner: must be an object"},
      {[](nlohmann::json& d) { d["incidents"][1] = d["incidents"][0]; }, "are the same incident"},
  };
  for (const Case& c : cases) {
    nlohmann::json doc = good;
    c.spoil(doc);
    EXPECT_THAT(import(*target, doc), HasSubstr(c.message)) << c.message;
    EXPECT_EQ(exported(*target)["incidents"].size(), 0u) << c.message;
  }
}

}  // namespace
}  // namespace scribe
