// The chat grammar against PRODUCT.md's command table: every form parses to the command
// it names, near misses get a suggestion, and usage texts use the platform's prefix.
#include "commands/grammar.h"

#include <date/date.h>
#include <date/tz.h>

#include <array>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.h"

namespace scribe::grammar {
namespace {

using std::chrono::minutes;
using test::utc;
using testing::HasSubstr;
using testing::Not;

// Friday 2026-11-20 14:30:15 UTC (15:30:15 in Berlin, CET).
const Timestamp kNow = utc(2026, 11, 20, 14, 30, 15);

std::string show(Timestamp t) { return date::format("%F %T", t); }

std::string describe(const Command& c) {
  static constexpr std::array<std::string_view, std::variant_size_v<Command>> kNames = {
      "StartIncident", "ShowStatus",      "ChangeSeverity", "ChangeCommander", "AddNote",
      "MarkMilestone", "ShowDraft",       "CloseIncident",  "ReopenIncident",  "ShowHelp",
      "AddEvent",      "ListEvents",      "EditEvent",      "DeleteEvent",     "AddAction",
      "ListActions",   "SetActionStatus", "EditAction",     "AssignAction",    "SetActionDue",
      "SetActionKind", "DropAction",      "ListMyActions",  "UsageError"};
  std::string out(kNames[c.index()]);
  if (const auto* e = std::get_if<UsageError>(&c)) out += ": " + e->message;
  if (const auto* a = std::get_if<AddEvent>(&c)) out += ": \"" + a->text + "\"";
  if (const auto* a = std::get_if<AddAction>(&c)) out += ": \"" + a->text + "\"";
  return out;
}

// The command as the alternative the test expects; a mismatch fails the test, naming
// what was parsed instead.
template <typename T>
T as(const Command& c) {
  if (const T* p = std::get_if<T>(&c)) return *p;
  ADD_FAILURE() << "parsed as " << describe(c);
  throw std::runtime_error("unexpected command alternative");
}

class GrammarTest : public testing::Test {
 protected:
  Command parse_in(std::string_view zone, std::string_view command, std::string_view text,
                   Timestamp now = kNow, std::string_view prefix = "/") {
    ParseContext ctx;
    ctx.prefix = prefix;
    ctx.now = now;
    ctx.zone = date::locate_zone(zone);
    return parse(command, text, ctx);
  }
  Command incident(std::string_view text) { return parse_in("UTC", "incident", text); }
  Command timeline(std::string_view text) { return parse_in("UTC", "timeline", text); }
  Command action(std::string_view text) { return parse_in("UTC", "action", text); }
  Command berlin(std::string_view command, std::string_view text, Timestamp now = kNow) {
    return parse_in("Europe/Berlin", command, text, now);
  }
  Command matrix(std::string_view command, std::string_view text) {
    return parse_in("UTC", command, text, kNow, "!");
  }
};

// ---------------------------------------------------------------------------- /incident

class GrammarIncidentTest : public GrammarTest {
 protected:
  // `/incident <text>` starts an incident with this severity and title.
  void expect_start(std::string_view text, std::optional<Severity> severity,
                    std::string_view title) {
    const auto s = as<StartIncident>(incident(text));
    EXPECT_EQ(s.severity, severity) << text;
    EXPECT_EQ(s.title, title) << text;
  }
};

TEST_F(GrammarIncidentTest, StartWithSeverity) {
  expect_start("start sev2 Checkout API returning 502s", Severity::kSev2,
               "Checkout API returning 502s");
  expect_start("START SEV1 db down", Severity::kSev1, "db down");
  expect_start("start sev-4 slow dashboard", Severity::kSev4, "slow dashboard");
}

TEST_F(GrammarIncidentTest, StartWithoutSeverityLeavesItToTheDefault) {
  expect_start("start Database failover", std::nullopt, "Database failover");
}

TEST_F(GrammarIncidentTest, StartTitleMayBeginWithANumber) {
  // Only "sevN" names a severity; "2 regions down" is a title, not sev2 "regions down".
  expect_start("start 2 regions down", std::nullopt, "2 regions down");
  expect_start("start sev3 3 AZs unreachable", Severity::kSev3, "3 AZs unreachable");
}

TEST_F(GrammarIncidentTest, StartKeepsTheTitlesOwnSpacing) {
  EXPECT_EQ(as<StartIncident>(incident("  start   sev2   DB  down  ")).title, "DB  down");
}

TEST_F(GrammarIncidentTest, DeclareAndNewMeanStart) {
  EXPECT_EQ(as<StartIncident>(incident("declare Payments down")).title, "Payments down");
  EXPECT_EQ(as<StartIncident>(incident("new Payments down")).title, "Payments down");
}

TEST_F(GrammarIncidentTest, StartWithoutTitleShowsUsage) {
  for (std::string_view text : {"start", "start sev2", "start   "}) {
    auto e = as<UsageError>(incident(text));
    EXPECT_THAT(e.message, HasSubstr("title")) << text;
    EXPECT_EQ(e.usage, "`/incident start [sev1-sev4] <title>`") << text;
  }
}

TEST_F(GrammarIncidentTest, Status) {
  as<ShowStatus>(incident("status"));
  as<ShowStatus>(incident("  Status  "));
}

TEST_F(GrammarIncidentTest, SeverityChange) {
  EXPECT_EQ(as<ChangeSeverity>(incident("sev sev1")).severity, Severity::kSev1);
  EXPECT_EQ(as<ChangeSeverity>(incident("sev 2")).severity, Severity::kSev2);
  EXPECT_EQ(as<ChangeSeverity>(incident("severity SEV4")).severity, Severity::kSev4);
}

TEST_F(GrammarIncidentTest, SeverityShorthand) {
  EXPECT_EQ(as<ChangeSeverity>(incident("sev1")).severity, Severity::kSev1);
  EXPECT_EQ(as<ChangeSeverity>(incident("SEV3")).severity, Severity::kSev3);
}

TEST_F(GrammarIncidentTest, BadSeverityShowsUsage) {
  auto e = as<UsageError>(incident("sev sev5"));
  EXPECT_THAT(e.message, HasSubstr("`sev5` is not a severity"));
  EXPECT_EQ(e.usage, "`/incident sev <sev1-sev4>`");

  e = as<UsageError>(incident("sev"));
  EXPECT_EQ(e.message, "Which severity?");

  // Extra words are not silently dropped.
  e = as<UsageError>(incident("sev sev1 now"));
  EXPECT_EQ(e.usage, "`/incident sev <sev1-sev4>`");
}

TEST_F(GrammarIncidentTest, Commander) {
  EXPECT_EQ(as<ChangeCommander>(incident("commander @bob")).mention, "@bob");
  EXPECT_EQ(as<ChangeCommander>(incident("ic @carol")).mention, "@carol");
}

TEST_F(GrammarIncidentTest, CommanderNeedsOneMention) {
  for (std::string_view text : {"commander", "commander bob", "commander @", "commander @a @b"}) {
    auto e = as<UsageError>(incident(text));
    EXPECT_THAT(e.message, HasSubstr("@mention")) << text;
    EXPECT_EQ(e.usage, "`/incident commander @user`") << text;
  }
}

TEST_F(GrammarIncidentTest, EveryNoteSection) {
  struct Case {
    std::string_view word;
    NoteSection section;
  };
  const Case cases[] = {
      {"summary", NoteSection::kSummary},
      {"impact", NoteSection::kImpact},
      {"cause", NoteSection::kCause},
      {"why", NoteSection::kWhy},
      {"went-well", NoteSection::kWentWell},
      {"went-wrong", NoteSection::kWentWrong},
      {"lucky", NoteSection::kLucky},
      {"lesson", NoteSection::kLesson},
      // The spellings people use for the same sections.
      {"went_well", NoteSection::kWentWell},
      {"wentwell", NoteSection::kWentWell},
      {"Went-Well", NoteSection::kWentWell},
      {"went_wrong", NoteSection::kWentWrong},
      {"wentwrong", NoteSection::kWentWrong},
      {"lessons", NoteSection::kLesson},
      {"root-cause", NoteSection::kCause},
      {"root_cause", NoteSection::kCause},
      {"rootcause", NoteSection::kCause},
  };
  for (const Case& c : cases) {
    const std::string text = std::string(c.word) + " the pager  fired late";
    auto note = as<AddNote>(incident(text));
    EXPECT_EQ(note.section, c.section) << c.word;
    EXPECT_EQ(note.text, "the pager  fired late") << c.word;
  }
}

TEST_F(GrammarIncidentTest, NoteWithoutTextShowsUsage) {
  auto e = as<UsageError>(incident("lesson"));
  EXPECT_THAT(e.message, HasSubstr("lesson"));
  EXPECT_EQ(e.usage, "`/incident lesson <text>`");
  EXPECT_EQ(as<UsageError>(incident("wentwell")).usage, "`/incident went-well <text>`");
}

TEST_F(GrammarIncidentTest, MilestonesWithoutTimeOrText) {
  for (const auto& [text, kind] : {std::pair{"mitigated", EventKind::kMitigated},
                                   std::pair{"resolved", EventKind::kResolved}}) {
    auto m = as<MarkMilestone>(incident(text));
    EXPECT_EQ(m.kind, kind) << text;
    EXPECT_FALSE(m.when.has_value()) << text;
    EXPECT_EQ(m.text, "") << text;
  }

  EXPECT_EQ(as<MarkMilestone>(incident("resolve")).kind, EventKind::kResolved);
  EXPECT_EQ(as<MarkMilestone>(incident("mitigate")).kind, EventKind::kMitigated);
}

TEST_F(GrammarIncidentTest, MilestonesWithText) {
  auto m = as<MarkMilestone>(incident("mitigated rolled back the deploy"));
  EXPECT_FALSE(m.when.has_value());
  EXPECT_EQ(m.text, "rolled back the deploy");
}

TEST_F(GrammarIncidentTest, MilestonesWithTime) {
  auto m = as<MarkMilestone>(incident("mitigated 14:05 rolled back"));
  ASSERT_TRUE(m.when.has_value());
  EXPECT_EQ(show(m.when->at), show(utc(2026, 11, 20, 14, 5)));
  EXPECT_EQ(m.text, "rolled back");

  m = as<MarkMilestone>(incident("resolved -10m"));
  ASSERT_TRUE(m.when.has_value());
  EXPECT_EQ(m.when->at, kNow - minutes{10});
  EXPECT_EQ(m.text, "");

  m = as<MarkMilestone>(incident("resolved 2026-11-20T14:20:30Z all green"));
  ASSERT_TRUE(m.when.has_value());
  EXPECT_EQ(m.when->at, utc(2026, 11, 20, 14, 20, 30));
  EXPECT_EQ(m.text, "all green");
}

TEST_F(GrammarIncidentTest, MilestoneTimeInTheLocalZone) {
  // 15:05 in Berlin (CET) is 14:05 UTC.
  auto m = as<MarkMilestone>(berlin("incident", "mitigated 15:05 failover done"));
  ASSERT_TRUE(m.when.has_value());
  EXPECT_EQ(show(m.when->at), show(utc(2026, 11, 20, 14, 5)));
  EXPECT_EQ(m.text, "failover done");
}

TEST_F(GrammarIncidentTest, MilestoneInTheFutureIsRefused) {
  auto e = as<UsageError>(incident("resolved 2026-11-20T16:00Z"));
  EXPECT_THAT(e.message, HasSubstr("future"));
  EXPECT_EQ(e.usage, "`/incident resolved [HH:MM] [text]`");

  e = as<UsageError>(incident("mitigated +5m"));
  EXPECT_THAT(e.message, HasSubstr("future"));
  EXPECT_EQ(e.usage, "`/incident mitigated [HH:MM] [text]`");
}

TEST_F(GrammarIncidentTest, MilestoneWithImpossibleTime) {
  auto e = as<UsageError>(incident("resolved 25:00 done"));
  EXPECT_THAT(e.message, HasSubstr("`25:00`"));
}

TEST_F(GrammarIncidentTest, DraftCloseReopenHelp) {
  as<ShowDraft>(incident("draft"));
  as<CloseIncident>(incident("close"));
  as<ReopenIncident>(incident("reopen"));
  EXPECT_EQ(as<ShowHelp>(incident("help")).command, "incident");
}

TEST_F(GrammarIncidentTest, ReviewCloseGateAndPostmortemSections) {
  const auto plain = as<CloseIncident>(incident("close"));
  EXPECT_FALSE(plain.anyway);
  const auto anyway = as<CloseIncident>(incident("close Anyway meeting held; numbers follow"));
  EXPECT_TRUE(anyway.anyway);
  EXPECT_EQ(anyway.reason, "meeting held; numbers follow");
  EXPECT_THAT(as<UsageError>(incident("close anyway")).message, HasSubstr("Say why"));
  EXPECT_THAT(as<UsageError>(incident("close it")).usage, HasSubstr("close anyway <reason>"));

  as<ShowReview>(incident("review"));
  as<RequestReview>(incident("review request"));
  as<RequestReview>(incident("review REQUEST"));
  EXPECT_THAT(as<UsageError>(incident("review now")).usage, HasSubstr("review request"));
  as<ApprovePostmortem>(incident("approve"));
  as<ApprovePostmortem>(incident("approved"));
  EXPECT_THAT(as<UsageError>(incident("approve it")).message, HasSubstr("takes no text"));

  EXPECT_EQ(as<SetPostmortemOwner>(incident("owner @carol")).mention, "@carol");
  EXPECT_THAT(as<UsageError>(incident("owner")).message, HasSubstr("@mention"));
  EXPECT_THAT(as<UsageError>(incident("owner carol")).message, HasSubstr("@mention"));

  const std::pair<const char*, NoteSection> sections[] = {
      {"trigger The 14:02 config push", NoteSection::kTrigger},
      {"detection CheckoutErrors paged at 14:07", NoteSection::kDetection},
      {"resolution Rolled the config back", NoteSection::kResolution},
      {"link https://grafana.example/d/checkout", NoteSection::kLink},
      {"links https://grafana.example/d/checkout", NoteSection::kLink},
  };
  for (const auto& [text, section] : sections) {
    EXPECT_EQ(as<AddNote>(incident(text)).section, section) << text;
  }
  EXPECT_THAT(as<UsageError>(incident("aprove")).message,
              HasSubstr("Did you mean `/incident approve`?"));
  EXPECT_THAT(as<UsageError>(incident("triger x")).message,
              HasSubstr("Did you mean `/incident trigger`?"));
  EXPECT_THAT(grammar::usage("incident", "!"), HasSubstr("`!incident close anyway <reason>`"));
  EXPECT_THAT(grammar::usage("incident", "/"), HasSubstr("`/incident owner @user`"));
}

TEST_F(GrammarIncidentTest, EmptyShowsHelp) {
  EXPECT_EQ(as<ShowHelp>(incident("")).command, "incident");
  EXPECT_EQ(as<ShowHelp>(incident("   ")).command, "incident");
}

// ---------------------------------------------------------------------------- /timeline

using GrammarTimelineTest = GrammarTest;

TEST_F(GrammarTimelineTest, EventNow) {
  auto a = as<AddEvent>(timeline("DB primary failed over to replica-b"));
  EXPECT_EQ(a.kind, EventKind::kNote);
  EXPECT_FALSE(a.when.has_value());
  EXPECT_EQ(a.text, "DB primary failed over to replica-b");
}

TEST_F(GrammarTimelineTest, BackdatedHourMinute) {
  auto a = as<AddEvent>(timeline("14:05 paged the DBA"));
  ASSERT_TRUE(a.when.has_value());
  EXPECT_EQ(show(a.when->at), show(utc(2026, 11, 20, 14, 5)));
  EXPECT_EQ(a.text, "paged the DBA");
}

TEST_F(GrammarTimelineTest, BackdatedWithSeconds) {
  auto a = as<AddEvent>(timeline("14:05:30 paged the DBA"));
  ASSERT_TRUE(a.when.has_value());
  EXPECT_EQ(show(a.when->at), show(utc(2026, 11, 20, 14, 5, 30)));
  EXPECT_EQ(a.text, "paged the DBA");

  // "14:05:30: paged" — the colon people type after the time is not part of it.
  a = as<AddEvent>(timeline("14:05:30: paged"));
  ASSERT_TRUE(a.when.has_value());
  EXPECT_EQ(show(a.when->at), show(utc(2026, 11, 20, 14, 5, 30)));
  EXPECT_EQ(a.text, "paged");
}

TEST_F(GrammarTimelineTest, BackdatedRelative) {
  auto a = as<AddEvent>(timeline("-15m users report errors"));
  ASSERT_TRUE(a.when.has_value());
  EXPECT_EQ(a.when->at, kNow - minutes{15});
  EXPECT_EQ(a.text, "users report errors");

  a = as<AddEvent>(timeline("-1h30m deploy 4512 started"));
  ASSERT_TRUE(a.when.has_value());
  EXPECT_EQ(a.when->at, kNow - minutes{90});
}

TEST_F(GrammarTimelineTest, BackdatedIso) {
  auto a = as<AddEvent>(timeline("2026-11-20T14:05Z deploy started"));
  ASSERT_TRUE(a.when.has_value());
  EXPECT_EQ(a.when->at, utc(2026, 11, 20, 14, 5));
  EXPECT_EQ(a.text, "deploy started");

  a = as<AddEvent>(timeline("2026-11-20T14:05:30+01:00 deploy started"));
  ASSERT_TRUE(a.when.has_value());
  EXPECT_EQ(a.when->at, utc(2026, 11, 20, 13, 5, 30));
}

TEST_F(GrammarTimelineTest, WallClockIsReadInTheGivenZone) {
  auto a = as<AddEvent>(berlin("timeline", "15:05 paged"));
  ASSERT_TRUE(a.when.has_value());
  EXPECT_EQ(show(a.when->at), show(utc(2026, 11, 20, 14, 5)));

  // ISO without an offset is local too; with "Z" it is UTC whatever the zone.
  a = as<AddEvent>(berlin("timeline", "2026-11-20T15:05 paged"));
  ASSERT_TRUE(a.when.has_value());
  EXPECT_EQ(a.when->at, utc(2026, 11, 20, 14, 5));
  a = as<AddEvent>(berlin("timeline", "2026-11-20T14:05Z paged"));
  ASSERT_TRUE(a.when.has_value());
  EXPECT_EQ(a.when->at, utc(2026, 11, 20, 14, 5));
  a = as<AddEvent>(berlin("timeline", "14:05Z paged"));
  ASSERT_TRUE(a.when.has_value());
  EXPECT_EQ(show(a.when->at), show(utc(2026, 11, 20, 14, 5)));
}

TEST_F(GrammarTimelineTest, LaterWallClockTimeMeansYesterday) {
  auto a = as<AddEvent>(timeline("23:50 first alert"));
  ASSERT_TRUE(a.when.has_value());
  EXPECT_EQ(show(a.when->at), show(utc(2026, 11, 19, 23, 50)));
  EXPECT_THAT(a.when->note, HasSubstr("yesterday"));
}

TEST_F(GrammarTimelineTest, EveryTag) {
  struct Case {
    std::string_view tag;
    EventKind kind;
  };
  const Case cases[] = {
      {"#detected", EventKind::kDetected}, {"#alert", EventKind::kAlert},
      {"#action", EventKind::kAction},     {"#comms", EventKind::kComms},
      {"#impact", EventKind::kImpact},     {"#DETECTED", EventKind::kDetected},
      {"#detect", EventKind::kDetected},
  };
  for (const Case& c : cases) {
    auto a = as<AddEvent>(timeline(std::string(c.tag) + " users report errors"));
    EXPECT_EQ(a.kind, c.kind) << c.tag;
    EXPECT_FALSE(a.when.has_value()) << c.tag;
    EXPECT_EQ(a.text, "users report errors") << c.tag;
  }
}

TEST_F(GrammarTimelineTest, TagAndTimeInEitherOrder) {
  for (std::string_view text : {"#alert 14:05 pager fired", "14:05 #alert pager fired"}) {
    auto a = as<AddEvent>(timeline(text));
    EXPECT_EQ(a.kind, EventKind::kAlert) << text;
    ASSERT_TRUE(a.when.has_value()) << text;
    EXPECT_EQ(show(a.when->at), show(utc(2026, 11, 20, 14, 5))) << text;
    EXPECT_EQ(a.text, "pager fired") << text;
  }
}

TEST_F(GrammarTimelineTest, HashNumberIsText) {
  auto a = as<AddEvent>(timeline("#4512 ticket opened"));
  EXPECT_EQ(a.kind, EventKind::kNote);
  EXPECT_EQ(a.text, "#4512 ticket opened");
}

TEST_F(GrammarTimelineTest, List) {
  as<ListEvents>(timeline("list"));
  as<ListEvents>(timeline(" LIST "));
}

TEST_F(GrammarTimelineTest, WordsWithoutArgumentsInEventTextStayEvents) {
  EXPECT_EQ(as<AddEvent>(timeline("list of hosts drained")).text, "list of hosts drained");
  EXPECT_EQ(as<AddEvent>(timeline("help desk flooded with tickets")).text,
            "help desk flooded with tickets");
  // After a time or tag the first word is text whatever it is.
  EXPECT_EQ(as<AddEvent>(timeline("14:05 delete caches on web-3")).text, "delete caches on web-3");
}

TEST_F(GrammarTimelineTest, EditOrDeleteWithoutANumberIsRefusedWithHowToQuote) {
  // "edit"/"delete" first means the command: a mistyped number must not become an event
  // posted to the channel. The refusal shows the user's own text quoted.
  auto e = as<UsageError>(timeline("delete caches on web-3"));
  EXPECT_THAT(e.message, HasSubstr("`caches` is not an event number"));
  EXPECT_THAT(e.message, HasSubstr("`/timeline \"delete caches on web-3\"`"));
  EXPECT_EQ(e.usage, "`/timeline edit N <text>` · `/timeline delete N`");

  e = as<UsageError>(timeline("delete x"));
  EXPECT_THAT(e.message, HasSubstr("`x` is not an event number"));
  e = as<UsageError>(timeline("Edit the config map and redeploy"));
  EXPECT_THAT(e.message, HasSubstr("begins with \"Edit\""));
  EXPECT_THAT(e.message, HasSubstr("`/timeline \"Edit the config map and redeploy\"`"));
}

TEST_F(GrammarTimelineTest, TextWhollyInQuotesIsTakenWithoutThem) {
  EXPECT_EQ(as<AddEvent>(timeline("\"delete caches on web-3\"")).text, "delete caches on web-3");
  EXPECT_EQ(as<AddEvent>(timeline("\u201cedit 3 was wrong\u201d")).text, "edit 3 was wrong");
  auto a = as<AddEvent>(timeline("#action 14:05 \"delete caches\""));
  EXPECT_EQ(a.kind, EventKind::kAction);
  EXPECT_EQ(a.text, "delete caches");
  // Quotes around part of the text are the user's own: kept.
  EXPECT_EQ(as<AddEvent>(timeline("\"502 Bad Gateway\" from the LB")).text,
            "\"502 Bad Gateway\" from the LB");
  EXPECT_EQ(as<AddEvent>(timeline("\"unclosed quote")).text, "\"unclosed quote");
  EXPECT_EQ(as<UsageError>(timeline("\"\"")).message, "What happened? Add the event's text.");
}

TEST_F(GrammarTimelineTest, EditText) {
  auto e = as<EditEvent>(timeline("edit 3 DB failover to replica-b"));
  EXPECT_EQ(e.seq, 3);
  EXPECT_FALSE(e.kind.has_value());
  EXPECT_FALSE(e.when.has_value());
  EXPECT_EQ(e.text, "DB failover to replica-b");

  EXPECT_EQ(as<EditEvent>(timeline("edit #3 fixed")).seq, 3);
}

TEST_F(GrammarTimelineTest, EditTime) {
  auto e = as<EditEvent>(timeline("edit 3 14:05:30 paged the DBA"));
  EXPECT_EQ(e.seq, 3);
  ASSERT_TRUE(e.when.has_value());
  EXPECT_EQ(show(e.when->at), show(utc(2026, 11, 20, 14, 5, 30)));
  EXPECT_EQ(e.text, "paged the DBA");

  // Only the time: the text stays as it was.
  e = as<EditEvent>(timeline("edit 3 -20m"));
  ASSERT_TRUE(e.when.has_value());
  EXPECT_EQ(e.when->at, kNow - minutes{20});
  EXPECT_EQ(e.text, "");
}

TEST_F(GrammarTimelineTest, EditTag) {
  auto e = as<EditEvent>(timeline("edit 4 #impact"));
  EXPECT_EQ(e.seq, 4);
  EXPECT_EQ(e.kind, EventKind::kImpact);
  EXPECT_EQ(e.text, "");
}

TEST_F(GrammarTimelineTest, EditWithoutChangeShowsUsage) {
  auto e = as<UsageError>(timeline("edit 3"));
  EXPECT_THAT(e.message, HasSubstr("#3"));
  EXPECT_EQ(e.usage, "`/timeline edit N <text>`");

  e = as<UsageError>(timeline("edit"));
  EXPECT_THAT(e.message, HasSubstr("Which event?"));
  EXPECT_THAT(e.message, HasSubstr("`/timeline list`"));
}

TEST_F(GrammarTimelineTest, EditWithBadTime) {
  auto e = as<UsageError>(timeline("edit 3 25:00 paged"));
  EXPECT_THAT(e.message, HasSubstr("`25:00`"));
  EXPECT_EQ(e.usage, "`/timeline edit N [HH:MM] [#tag] <text>`");
}

TEST_F(GrammarTimelineTest, Delete) {
  EXPECT_EQ(as<DeleteEvent>(timeline("delete 4")).seq, 4);
  EXPECT_EQ(as<DeleteEvent>(timeline("delete #4")).seq, 4);
  EXPECT_EQ(as<DeleteEvent>(timeline("del 5")).seq, 5);
  EXPECT_EQ(as<DeleteEvent>(timeline("remove 6")).seq, 6);
}

TEST_F(GrammarTimelineTest, NumbersThatCannotBeEventsAreRefusedNotRecorded) {
  for (const char* text : {"delete 0", "delete -1", "edit 0 new text", "delete #0"}) {
    auto e = as<UsageError>(timeline(text));
    EXPECT_THAT(e.message, HasSubstr("numbered from 1")) << text;
  }
}

TEST_F(GrammarTimelineTest, DeleteTakesOnlyTheNumber) {
  auto e = as<UsageError>(timeline("delete 4 please"));
  EXPECT_THAT(e.message, HasSubstr("only the event's number"));
  EXPECT_EQ(e.usage, "`/timeline delete N`");

  e = as<UsageError>(timeline("delete"));
  EXPECT_THAT(e.message, HasSubstr("Which event?"));
}

TEST_F(GrammarTimelineTest, HelpAndEmpty) {
  EXPECT_EQ(as<ShowHelp>(timeline("help")).command, "timeline");
  EXPECT_EQ(as<ShowHelp>(timeline("")).command, "timeline");
}

TEST_F(GrammarTimelineTest, TimeOrTagWithoutTextAsksWhatHappened) {
  for (std::string_view text : {"14:05", "#alert", "-5m #impact"}) {
    auto e = as<UsageError>(timeline(text));
    EXPECT_THAT(e.message, HasSubstr("What happened?")) << text;
    EXPECT_EQ(e.usage, usage("timeline", "/")) << text;
  }
}

TEST_F(GrammarTimelineTest, FutureTimesAreRefused) {
  auto e = as<UsageError>(timeline("2026-11-20T16:00Z deploy"));
  EXPECT_THAT(e.message, HasSubstr("future"));
  EXPECT_EQ(e.usage, usage("timeline", "/"));

  e = as<UsageError>(timeline("+15m deploy"));
  EXPECT_THAT(e.message, HasSubstr("future"));
  EXPECT_THAT(e.message, HasSubstr("`-15m`"));  // says how to write the past
}

TEST_F(GrammarTimelineTest, ImpossibleClockTime) {
  auto e = as<UsageError>(timeline("25:00 db down"));
  EXPECT_THAT(e.message, HasSubstr("`25:00`"));
  EXPECT_THAT(e.message, HasSubstr("0 to 23"));
  EXPECT_EQ(e.usage, usage("timeline", "/"));

  e = as<UsageError>(timeline("14:75 db down"));
  EXPECT_THAT(e.message, HasSubstr("`14:75`"));
}

TEST_F(GrammarTimelineTest, TooFarBackIsRefused) {
  auto e = as<UsageError>(timeline("2025-11-20T14:05Z wrong year"));
  EXPECT_THAT(e.message, HasSubstr("30 days"));
}

// ---------------------------------------------------------------------------- /action

using GrammarActionTest = GrammarTest;

TEST_F(GrammarActionTest, FullForm) {
  auto a = as<AddAction>(action("Add alert on replication lag @bob due 2026-12-01 #prevent"));
  EXPECT_EQ(a.text, "Add alert on replication lag");
  EXPECT_EQ(a.owner, "@bob");
  EXPECT_EQ(a.due, "2026-12-01");
  EXPECT_EQ(a.due_note, std::nullopt);
  EXPECT_EQ(a.kind, ActionKind::kPrevent);
}

TEST_F(GrammarActionTest, EveryKind) {
  EXPECT_EQ(as<AddAction>(action("x @bob #detect")).kind, ActionKind::kDetect);
  EXPECT_EQ(as<AddAction>(action("x @bob #mitigate")).kind, ActionKind::kMitigate);
  EXPECT_EQ(as<AddAction>(action("x @bob #prevent")).kind, ActionKind::kPrevent);
  EXPECT_EQ(as<AddAction>(action("x @bob #PROCESS")).kind, ActionKind::kProcess);
}

TEST_F(GrammarActionTest, RelativeDueDates) {
  // Today is 2026-11-20.
  EXPECT_EQ(as<AddAction>(action("x @bob due +3d")).due, "2026-11-23");
  EXPECT_EQ(as<AddAction>(action("x @bob due +2w")).due, "2026-12-04");
  EXPECT_EQ(as<AddAction>(action("x @bob due tomorrow")).due, "2026-11-21");
  EXPECT_EQ(as<AddAction>(action("x @bob due today")).due, "2026-11-20");
  EXPECT_EQ(as<AddAction>(action("x @bob due +3d")).due_note, std::nullopt);
}

TEST_F(GrammarActionTest, RelativeDueDatesCountFromTheLocalDay) {
  // 23:30 UTC on the 20th is already 00:30 on the 21st in Berlin.
  const Timestamp late = utc(2026, 11, 20, 23, 30);
  EXPECT_EQ(as<AddAction>(berlin("action", "x @bob due tomorrow", late)).due, "2026-11-22");
  EXPECT_EQ(as<AddAction>(parse_in("UTC", "action", "x @bob due tomorrow", late)).due,
            "2026-11-21");
}

TEST_F(GrammarActionTest, TrailingPartsInAnyOrder) {
  for (std::string_view text : {"Fix the retry storm @carol due +3d #prevent",
                                "Fix the retry storm #prevent due +3d @carol",
                                "Fix the retry storm due +3d @carol #prevent",
                                "Fix the retry storm #prevent @carol due +3d"}) {
    auto a = as<AddAction>(action(text));
    EXPECT_EQ(a.text, "Fix the retry storm") << text;
    EXPECT_EQ(a.owner, "@carol") << text;
    EXPECT_EQ(a.due, "2026-11-23") << text;
    EXPECT_EQ(a.kind, ActionKind::kPrevent) << text;
  }
}

TEST_F(GrammarActionTest, OwnerFirst) {
  auto a = as<AddAction>(action("@bob fix the alert threshold #detect"));
  EXPECT_EQ(a.owner, "@bob");
  EXPECT_EQ(a.text, "fix the alert threshold");
  EXPECT_EQ(a.kind, ActionKind::kDetect);
}

TEST_F(GrammarActionTest, NoOwnerNoDueNoKind) {
  auto a = as<AddAction>(action("Write a runbook for DB failover"));
  EXPECT_EQ(a.text, "Write a runbook for DB failover");
  EXPECT_EQ(a.owner, std::nullopt);
  EXPECT_EQ(a.due, std::nullopt);
  EXPECT_EQ(a.kind, ActionKind::kNone);
}

TEST_F(GrammarActionTest, TextKeepsItsSpacingAndInnerWords) {
  auto a = as<AddAction>(action("Ask @dave about  the due date logic @bob"));
  EXPECT_EQ(a.text, "Ask @dave about  the due date logic");
  EXPECT_EQ(a.owner, "@bob");
  EXPECT_EQ(a.due, std::nullopt);
}

TEST_F(GrammarActionTest, PastDueDateIsKeptWithANote) {
  auto a = as<AddAction>(action("x @bob due 2026-11-01"));
  EXPECT_EQ(a.due, "2026-11-01");
  ASSERT_TRUE(a.due_note.has_value());
  EXPECT_THAT(*a.due_note, HasSubstr("past"));
}

TEST_F(GrammarActionTest, BadDueDates) {
  auto e = as<UsageError>(action("x @bob due 2026-13-45"));
  EXPECT_THAT(e.message, HasSubstr("`2026-13-45` is not a calendar date"));
  EXPECT_EQ(e.usage, usage("action", "/"));

  e = as<UsageError>(action("x @bob due 2026-02-30"));
  EXPECT_THAT(e.message, HasSubstr("not a calendar date"));

  e = as<UsageError>(action("x @bob due someday"));
  EXPECT_THAT(e.message, HasSubstr("`someday` is not a due date"));
  EXPECT_THAT(e.message, HasSubstr("YYYY-MM-DD"));

  e = as<UsageError>(action("x @bob due +0d"));
  EXPECT_THAT(e.message, HasSubstr("+Nd"));
}

TEST_F(GrammarActionTest, NothingToDo) {
  auto e = as<UsageError>(action("@bob due +3d #prevent"));
  EXPECT_THAT(e.message, HasSubstr("what should be done"));
  EXPECT_EQ(e.usage, usage("action", "/"));
}

TEST_F(GrammarActionTest, ListDoneReopen) {
  as<ListActions>(action("list"));
  auto s = as<SetActionStatus>(action("done 2"));
  EXPECT_EQ(s.seq, 2);
  EXPECT_EQ(s.status, ActionStatus::kDone);
  s = as<SetActionStatus>(action("reopen #2"));
  EXPECT_EQ(s.seq, 2);
  EXPECT_EQ(s.status, ActionStatus::kOpen);
}

TEST_F(GrammarActionTest, Track) {
  EXPECT_EQ(as<TrackAction>(action("track 3")).seq, 3);
  EXPECT_EQ(as<TrackAction>(action("track #3")).seq, 3);
  EXPECT_EQ(as<UsageError>(action("track")).usage, "`/action track N`");
  EXPECT_THAT(as<UsageError>(action("track 3 now")).message, HasSubstr("only the item's number"));
  // An item that merely begins with the word, in quotes, stays an item.
  EXPECT_EQ(as<AddAction>(action("\"track the deploys\" @bob")).text, "track the deploys");
}

TEST_F(GrammarActionTest, DoneWithoutNumberShowsUsage) {
  auto e = as<UsageError>(action("done"));
  EXPECT_THAT(e.message, HasSubstr("Which action item?"));
  EXPECT_EQ(e.usage, "`/action done N`");
  EXPECT_EQ(as<UsageError>(action("reopen")).usage, "`/action reopen N`");
}

TEST_F(GrammarActionTest, HelpAndEmpty) {
  EXPECT_EQ(as<ShowHelp>(action("help")).command, "action");
  EXPECT_EQ(as<ShowHelp>(action("")).command, "action");
}

TEST_F(GrammarActionTest, ListInTextIsAnAction) {
  EXPECT_EQ(as<AddAction>(action("list all cron jobs @bob")).text, "list all cron jobs");
}

// ------------------------------------------------------------------ numbers in commands

using GrammarNumbersTest = GrammarTest;

// A subcommand word followed by anything but a valid number (or severity) is refused with
// usage, naming what was wrong: never recorded as an event or an item.
TEST_F(GrammarNumbersTest, EveryBadNumberIsAUsageErrorNamingIt) {
  struct Case {
    std::string_view command;
    std::string_view text;
    std::string_view says;
  };
  const Case cases[] = {
      {"action", "done -1", "`-1` is not an action item number"},
      {"action", "done 0", "`0` is not an action item number"},
      {"action", "done 99999999999999999999", "`99999999999999999999` is not"},
      {"action", "done 2147483648", "`2147483648` is not"},
      {"action", "reopen 1e3", "`1e3` is not an action item number"},
      {"action", "done 2.5", "`2.5` is not"},
      {"action", "done #0", "`#0` is not"},
      {"action", "done +3", "`+3` is not"},
      {"action", "done .5", "`.5` is not"},
      {"action", "done 3 4", "takes only the item's number"},
      {"action", "done 3 please", "takes only the item's number"},
      {"action", "done", "Which action item?"},
      {"action", "reopen", "Which action item?"},
      {"action", "edit 0 better text", "`0` is not"},
      {"action", "edit -3 better text", "`-3` is not"},
      {"action", "edit", "Which action item?"},
      {"action", "assign -2 @bob", "`-2` is not"},
      {"action", "due 1e3 +3d", "`1e3` is not"},
      {"action", "kind 0 #detect", "`0` is not"},
      {"action", "drop -1 duplicate", "`-1` is not"},
      {"action", "drop 99999999999999999999 duplicate", "`99999999999999999999` is not"},
      {"action", "drop", "Which action item?"},
      {"timeline", "edit 2.5 x", "`2.5` is not an event number"},
      {"timeline", "edit 1e3 x", "`1e3` is not an event number"},
      {"timeline", "delete x", "`x` is not an event number"},
      {"timeline", "delete -1", "`-1` is not an event number"},
      {"timeline", "delete 99999999999999999999", "`99999999999999999999` is not"},
      {"timeline", "del +4", "`+4` is not"},
      {"incident", "sev -1", "`-1` is not a severity"},
      {"incident", "sev 0", "`0` is not a severity"},
      {"incident", "sev 5", "`5` is not a severity"},
      {"incident", "sev 1.5", "`1.5` is not a severity"},
      {"incident", "sev sev5", "`sev5` is not a severity"},
      {"incident", "sev5", "`sev5` is not a severity"},
      {"incident", "SEV-0", "`SEV-0` is not a severity"},
      {"incident", "start sev5 Payments down", "`sev5` is not a severity"},
      {"incident", "start sev0 Payments down", "`sev0` is not a severity"},
  };
  for (const Case& c : cases) {
    const Command parsed = parse_in("UTC", c.command, c.text);
    const auto* e = std::get_if<UsageError>(&parsed);
    ASSERT_NE(e, nullptr) << c.command << " " << c.text << " parsed as " << describe(parsed);
    EXPECT_THAT(e->message, HasSubstr(c.says)) << c.command << " " << c.text;
    EXPECT_FALSE(e->usage.empty()) << c.command << " " << c.text;
  }
}

TEST_F(GrammarNumbersTest, UsageNamesTheSubcommandsForm) {
  EXPECT_EQ(as<UsageError>(action("done -1")).usage, "`/action done N`");
  EXPECT_EQ(as<UsageError>(action("drop x")).usage, "`/action drop N <reason>`");
  EXPECT_EQ(as<UsageError>(action("assign x")).usage, "`/action assign N @owner`");
  EXPECT_EQ(as<UsageError>(matrix("action", "reopen 1e3")).usage, "`!action reopen N`");
  EXPECT_EQ(as<UsageError>(incident("sev -1")).usage, "`/incident sev <sev1-sev4>`");
}

TEST_F(GrammarNumbersTest, ValidNumbersAndSeverities) {
  EXPECT_EQ(as<SetActionStatus>(action("done 2147483647")).seq, 2147483647);
  EXPECT_EQ(as<SetActionStatus>(action("DONE #7")).seq, 7);
  EXPECT_EQ(as<SetActionStatus>(action("done 007")).seq, 7);
  EXPECT_EQ(as<DeleteEvent>(timeline("delete 2147483647")).seq, 2147483647);
  EXPECT_EQ(as<ChangeSeverity>(incident("sev sev-2")).severity, Severity::kSev2);
  EXPECT_EQ(as<ChangeSeverity>(incident("sev SEV_4")).severity, Severity::kSev4);
  EXPECT_EQ(as<ChangeSeverity>(incident("sev 1")).severity, Severity::kSev1);
  // A title that only begins like a severity is a title.
  EXPECT_EQ(as<StartIncident>(incident("start severe DB outage")).title, "severe DB outage");
}

// "/action done …" could be an item whose text begins with "done". The rule: a subcommand
// word first is the subcommand; an item that begins with one goes in quotes, and the
// refusal shows exactly how, with the user's own text.
TEST_F(GrammarNumbersTest, ItemTextBeginningWithASubcommandWordIsRefusedWithHowToQuote) {
  auto e = as<UsageError>(action("done criteria for rollbacks @bob due +2w"));
  EXPECT_THAT(e.message, HasSubstr("`criteria` is not an action item number"));
  EXPECT_THAT(e.message, HasSubstr("`/action \"done criteria for rollbacks\" @bob due +2w`"));
  EXPECT_EQ(e.usage, "`/action done N`");

  e = as<UsageError>(action("Drop the unused index @bob due +2w #prevent"));
  EXPECT_THAT(e.message, HasSubstr("begins with \"Drop\""));
  EXPECT_THAT(e.message, HasSubstr("`/action \"Drop the unused index\" @bob due +2w #prevent`"));

  e = as<UsageError>(matrix("action", "edit the runbook"));
  EXPECT_THAT(e.message, HasSubstr("`!action \"edit the runbook\"`"));

  // Forgotten number: say so rather than suggest quoting.
  e = as<UsageError>(action("due tomorrow"));
  EXPECT_THAT(e.message, HasSubstr("Give the item's number first: `/action due N tomorrow`"));
  e = as<UsageError>(action("assign @dave"));
  EXPECT_THAT(e.message, HasSubstr("Give the item's number first: `/action assign N @dave`"));

  // The quoted form is an item, with its parts.
  const auto a = as<AddAction>(action("\"Drop the unused index\" @bob due +2w #prevent"));
  EXPECT_EQ(a.text, "Drop the unused index");
  EXPECT_EQ(a.owner, "@bob");
  EXPECT_EQ(a.due, "2026-12-04");
  EXPECT_EQ(a.kind, ActionKind::kPrevent);
  EXPECT_EQ(as<AddAction>(action("\u201cdone means green\u201d @bob")).text, "done means green");

  // Words without arguments are subcommands only alone.
  EXPECT_EQ(as<AddAction>(action("mine the logs for errors @bob")).text,
            "mine the logs for errors");
  as<ListMyActions>(action("mine"));
  as<ListMyActions>(action(" MINE "));
}

// ----------------------------------------------------------------- action grammar

using GrammarActionPartsTest = GrammarTest;

Command with_mentions(std::string_view text, std::vector<Person> mentions) {
  ParseContext ctx;
  ctx.now = kNow;
  ctx.zone = date::locate_zone("UTC");
  ctx.mentions = mentions;
  return parse("action", text, ctx);
}

TEST_F(GrammarActionPartsTest, OwnerDueAndKindInAnyOrderAfterTheText) {
  // The adapter turned <@U0DAVE|dave> into "@dave".
  for (std::string_view text : {
           "Write runbook @dave due +2w #mitigate",
           "Write runbook due +2w @dave #mitigate",
           "Write runbook #mitigate due +2w @dave",
           "Write runbook #mitigate @dave due +2w",
           "Write runbook due +2w #mitigate @dave",
           "Write runbook +2w @dave #mitigate",
           "@dave Write runbook #mitigate due 2026-12-04",
           "Write runbook @dave. due +2w #MITIGATE",
           "Write runbook #mitigate @dave due +2w #mitigate @dave",
       }) {
    const auto a = as<AddAction>(with_mentions(text, {{"U0DAVE", "dave"}}));
    EXPECT_EQ(a.text, "Write runbook") << text;
    EXPECT_EQ(a.owner, "@dave") << text;
    EXPECT_EQ(a.due, "2026-12-04") << text;
    EXPECT_EQ(a.kind, ActionKind::kMitigate) << text;
  }
}

TEST_F(GrammarActionPartsTest, AMentionedNameWithSpacesIsOneOwner) {
  const auto a =
      as<AddAction>(with_mentions("Write runbook @Dave Smith due +2w", {{"U0DAVE", "Dave Smith"}}));
  EXPECT_EQ(a.text, "Write runbook");
  EXPECT_EQ(a.owner, "@Dave Smith");
}

TEST_F(GrammarActionPartsTest, EveryPartNotUnderstoodIsRefusedNeverFoldedIntoText) {
  struct Case {
    std::string_view text;
    std::string_view says;
  };
  const Case cases[] = {
      {"Write runbook @dave due +2w #mitigate #process",
       "`#mitigate` and `#process`: an action item has one kind"},
      {"Write runbook #detect @dave #prevent", "`#detect` and `#prevent`"},
      {"x @bob due 2026-13-45", "`2026-13-45` is not a calendar date"},
      {"x @bob due 2026-02-30", "`2026-02-30` is not a calendar date"},
      {"x @bob due someday", "`someday` is not a due date"},
      {"x @bob due 2026-1-5", "`2026-1-5` is not a due date"},
      {"x @bob due +3x", "`+3x` is not a due date"},
      {"x @bob due", "`due` needs a date"},
      {"x due @bob", "`due` needs a date"},
      {"x @", "`@` alone names nobody"},
      {"x @.", "`@.` alone names nobody"},
      {"x @here", "`@here` is everyone"},
      {"x @bob @carol", "Two owners, `@bob` and `@carol`"},
      {"@bob x @carol", "Two owners, `@bob` and `@carol`"},
      {"x @bob due +2w due +3d", "Two due dates, 2026-12-04 and 2026-11-23"},
      {"x @bob #prevnt", "Did you mean `#prevent`?"},
  };
  for (const Case& c : cases) {
    const Command parsed = action(c.text);
    const auto* e = std::get_if<UsageError>(&parsed);
    ASSERT_NE(e, nullptr) << c.text << " parsed as " << describe(parsed);
    EXPECT_THAT(e->message, HasSubstr(c.says)) << c.text;
    EXPECT_EQ(e->usage, usage("action", "/")) << c.text;
  }
}

TEST_F(GrammarActionPartsTest, AbsurdDueDatesAreRefused) {
  // Today is 2026-11-20; 30 days back and 5 years ahead are the bounds.
  struct Case {
    std::string_view due;
    std::string_view says;
  };
  const Case cases[] = {
      {"0000-01-01", "long past"},
      {"1970-01-01", "long past"},
      {"2026-10-20", "long past"},
      {"9999-12-31", "more than 5 years ahead"},
      {"2031-11-21", "more than 5 years ahead"},
      {"+1827d", "more than 5 years ahead"},
      {"+262w", "more than 5 years ahead"},
      {"+99999999999w", "more than 5 years ahead"},
      {"+99999999999999999999d", "more than 5 years ahead"},
      {"+0d", "no time at all"},
      {"+000w", "no time at all"},
  };
  for (const Case& c : cases) {
    const Command parsed = action("x @bob due " + std::string(c.due));
    const auto* e = std::get_if<UsageError>(&parsed);
    ASSERT_NE(e, nullptr) << c.due << " parsed as " << describe(parsed);
    EXPECT_THAT(e->message, HasSubstr(c.says)) << c.due;
  }
  // The bounds themselves are accepted; a recent past date with a note.
  EXPECT_EQ(as<AddAction>(action("x @bob due 2031-11-20")).due, "2031-11-20");
  EXPECT_EQ(as<AddAction>(action("x @bob due +1826d")).due, "2031-11-20");
  const auto a = as<AddAction>(action("x @bob due 2026-10-21"));
  EXPECT_EQ(a.due, "2026-10-21");
  ASSERT_TRUE(a.due_note.has_value());
  EXPECT_THAT(*a.due_note, HasSubstr("already past"));
  // 29 February five years on does not exist: the limit is the 28th.
  const Timestamp leap = utc(2028, 2, 29, 12, 0);
  EXPECT_EQ(as<AddAction>(parse_in("UTC", "action", "x due 2033-02-28", leap)).due, "2033-02-28");
  as<UsageError>(parse_in("UTC", "action", "x due 2033-03-01", leap));
}

TEST_F(GrammarActionPartsTest, QuotedTextKeepsMentionsTagsAndDueAsText) {
  auto a = as<AddAction>(action("\"Ask @carol whether #prevent items are due\" @bob due +3d"));
  EXPECT_EQ(a.text, "Ask @carol whether #prevent items are due");
  EXPECT_EQ(a.owner, "@bob");
  EXPECT_EQ(a.due, "2026-11-23");
  EXPECT_EQ(a.kind, ActionKind::kNone);
  // An owner first, then the quoted text.
  a = as<AddAction>(action("@bob \"edit the runbook\" #process"));
  EXPECT_EQ(a.text, "edit the runbook");
  EXPECT_EQ(a.owner, "@bob");
  EXPECT_EQ(a.kind, ActionKind::kProcess);
  // Quotes around part of the text are text.
  a = as<AddAction>(action("Alert on \"disk full\" errors @bob"));
  EXPECT_EQ(a.text, "Alert on \"disk full\" errors");
  a = as<AddAction>(action("\"a\" b \"c\" @bob"));
  EXPECT_EQ(a.text, "\"a\" b \"c\"");
  EXPECT_EQ(as<UsageError>(action("\"\" @bob")).message, "Say what should be done.");
}

TEST_F(GrammarActionPartsTest, InnerMentionsAndHashNumbersStayText) {
  auto a = as<AddAction>(action("Fix #4512 with @carol first @bob"));
  EXPECT_EQ(a.text, "Fix #4512 with @carol first");
  EXPECT_EQ(a.owner, "@bob");
  a = as<AddAction>(action("Meet @ noon about the pager"));
  EXPECT_EQ(a.text, "Meet @ noon about the pager");
  EXPECT_EQ(a.owner, std::nullopt);
}

// ----------------------------------------------------------------- action subcommands

using GrammarActionSubcommandsTest = GrammarTest;

TEST_F(GrammarActionSubcommandsTest, Edit) {
  auto e = as<EditAction>(action("edit 3 Alert on replication lag > 30s"));
  EXPECT_EQ(e.seq, 3);
  EXPECT_EQ(e.text, "Alert on replication lag > 30s");
  EXPECT_EQ(e.owner, std::nullopt);
  EXPECT_EQ(e.due, std::nullopt);

  // Parts written with the text change too, never become text.
  e = as<EditAction>(action("edit #3 Alert on lag @dave due +3d #detect"));
  EXPECT_EQ(e.text, "Alert on lag");
  EXPECT_EQ(e.owner, "@dave");
  EXPECT_EQ(e.due, "2026-11-23");
  EXPECT_EQ(e.kind, ActionKind::kDetect);

  e = as<EditAction>(action("edit 3 @dave"));
  EXPECT_EQ(e.text, "");
  EXPECT_EQ(e.owner, "@dave");

  EXPECT_THAT(as<UsageError>(action("edit 3")).message,
              HasSubstr("What should action item #3 say?"));
  EXPECT_THAT(as<UsageError>(action("edit 3 x #mitigate #process")).message,
              HasSubstr("`#mitigate` and `#process`"));
  EXPECT_EQ(as<UsageError>(action("edit 3")).usage, "`/action edit N <text>`");
}

TEST_F(GrammarActionSubcommandsTest, Assign) {
  auto a = as<AssignAction>(action("assign 3 @dave"));
  EXPECT_EQ(a.seq, 3);
  EXPECT_EQ(a.owner, "@dave");
  EXPECT_EQ(as<AssignAction>(action("assign #3 to @dave.")).owner, "@dave");
  EXPECT_EQ(as<AssignAction>(with_mentions("assign 3 @Dave Smith", {{"U0D", "Dave Smith"}})).owner,
            "@Dave Smith");
  EXPECT_THAT(as<UsageError>(action("assign 3 dave")).message, HasSubstr("@mention"));
  EXPECT_THAT(as<UsageError>(action("assign 3")).message, HasSubstr("@mention"));
  EXPECT_THAT(as<UsageError>(action("assign 3 @dave @bob")).message,
              HasSubstr("Two owners, `@dave` and `@bob`"));
  EXPECT_THAT(as<UsageError>(action("assign 3 @")).message, HasSubstr("names nobody"));
  EXPECT_THAT(as<UsageError>(action("assign 3 @channel")).message, HasSubstr("is everyone"));
  EXPECT_THAT(as<UsageError>(action("assign 3 @dave now")).message, HasSubstr("one @owner"));
}

TEST_F(GrammarActionSubcommandsTest, Due) {
  auto d = as<SetActionDue>(action("due 3 tomorrow"));
  EXPECT_EQ(d.seq, 3);
  EXPECT_EQ(d.due, "2026-11-21");
  EXPECT_EQ(d.due_note, std::nullopt);
  EXPECT_EQ(as<SetActionDue>(action("due 3 2026-12-01")).due, "2026-12-01");
  EXPECT_EQ(as<SetActionDue>(action("due 3 +2w")).due, "2026-12-04");
  EXPECT_TRUE(as<SetActionDue>(action("due 3 2026-11-19")).due_note.has_value());
  for (std::string_view text : {"due 3 someday", "due 3 2026-13-45", "due 3 9999-12-31",
                                "due 3 1970-01-01", "due 3", "due 3 +3d please"}) {
    const auto e = as<UsageError>(action(text));
    EXPECT_EQ(e.usage, "`/action due N <YYYY-MM-DD|+3d|+2w|tomorrow>`") << text;
  }
}

TEST_F(GrammarActionSubcommandsTest, Kind) {
  EXPECT_EQ(as<SetActionKind>(action("kind 3 #prevent")).kind, ActionKind::kPrevent);
  EXPECT_EQ(as<SetActionKind>(action("kind 3 Process")).kind, ActionKind::kProcess);
  EXPECT_EQ(as<SetActionKind>(action("kind 3 #detect #detect")).kind, ActionKind::kDetect);
  EXPECT_THAT(as<UsageError>(action("kind 3 #prevnt")).message,
              HasSubstr("Did you mean `#prevent`?"));
  EXPECT_THAT(as<UsageError>(action("kind 3 #none")).message, HasSubstr("`#none` is not a kind"));
  EXPECT_THAT(as<UsageError>(action("kind 3 #mitigate #process")).message,
              HasSubstr("`#mitigate` and `#process`: an action item has one kind"));
  EXPECT_THAT(as<UsageError>(action("kind 3")).message, HasSubstr("Which kind"));
}

TEST_F(GrammarActionSubcommandsTest, Drop) {
  auto d = as<DropAction>(action("drop 3 duplicate of #2, which covers it"));
  EXPECT_EQ(d.seq, 3);
  EXPECT_EQ(d.reason, "duplicate of #2, which covers it");
  const auto e = as<UsageError>(action("drop 3"));
  EXPECT_THAT(e.message, HasSubstr("Say why #3 won't be done"));
  EXPECT_EQ(e.usage, "`/action drop N <reason>`");
}

// ----------------------------------------------------------------- property: nothing is lost

// Random commands built from the words that matter (owners, tags, dates, subcommand words,
// bad numbers, quotes): parsing never fails to answer, and an item's text never ends in
// something the grammar reads as a part, so nothing written as an owner, date or kind
// was quietly folded into the text. Deterministic (fixed seed).
TEST_F(GrammarTest, RandomCommandsNeverHideAPartInTheText) {
  const std::vector<std::string> pool = {
      "fix",        "the",        "alert",      "@bob",
      "@carol",     "@",          "@here",      "@dave.",
      "#detect",    "#mitigate",  "#4512",      "#prevnt",
      "due",        "+3d",        "+2w",        "+0d",
      "2026-12-01", "2026-13-45", "9999-12-31", "tomorrow",
      "someday",    "done",       "drop",       "edit",
      "mine",       "list",       "-1",         "0",
      "1e3",        "2.5",        "3",          "99999999999999999999",
      "sev5",       "sev-1",      "14:05",      "-15m",
      "\"",         "\"x",        "y\"",        "\u201c",
      "\u201d",     "delete",     "#alert",     "assign",
      "kind",       "reopen",     "due:"};
  std::mt19937 rng(20261120);
  std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
  std::uniform_int_distribution<int> length(0, 8);
  int items = 0;
  for (int i = 0; i < test::rounds(20000); ++i) {
    std::string text;
    const int n = length(rng);
    for (int w = 0; w < n; ++w) text += (w ? " " : "") + pool[pick(rng)];
    for (std::string_view command : {"incident", "timeline", "action"}) {
      const Command c = parse_in("UTC", command, text);
      if (const auto* e = std::get_if<UsageError>(&c)) {
        EXPECT_FALSE(e->message.empty()) << command << " " << text;
      }
    }
    const Command c = action(text);
    const auto* a = std::get_if<AddAction>(&c);
    if (!a) continue;
    ++items;
    ASSERT_FALSE(a->text.empty()) << text;
    if (text.find('"') != std::string::npos || text.find("\u201c") != std::string::npos ||
        a->text.front() == '@') {
      continue;  // quoted text is literal by design; a second leading @ is text
    }
    // The text alone, parsed again, has no owner, due date or kind left in it.
    const Command again = action(a->text);
    const auto* b = std::get_if<AddAction>(&again);
    if (!b) continue;  // e.g. the text now begins with a subcommand word
    EXPECT_EQ(b->text, a->text) << text;
    EXPECT_EQ(b->owner, std::nullopt) << text;
    EXPECT_EQ(b->due, std::nullopt) << text;
    EXPECT_EQ(b->kind, ActionKind::kNone) << text;
  }
  EXPECT_GT(items, test::rounds(20000) / 20);  // the property was exercised, not skipped
}

// ---------------------------------------------------------------------------- typos

using GrammarTyposTest = GrammarTest;

TEST_F(GrammarTyposTest, AbbreviatedSubcommandSuggestsIt) {
  auto e = as<UsageError>(incident("stat"));
  EXPECT_THAT(e.message, HasSubstr("`/incident stat`"));
  EXPECT_THAT(e.message, HasSubstr("Did you mean `/incident status`?"));
  EXPECT_EQ(e.usage, usage("incident", "/"));
}

TEST_F(GrammarTyposTest, MisspelledSubcommandSuggestsIt) {
  EXPECT_THAT(as<UsageError>(incident("reslved")).message,
              HasSubstr("Did you mean `/incident resolved`?"));
  EXPECT_THAT(as<UsageError>(incident("comander @bob")).message,
              HasSubstr("Did you mean `/incident commander`?"));
}

TEST_F(GrammarTyposTest, UnknownSubcommandWithoutSuggestionStillShowsUsage) {
  auto e = as<UsageError>(incident("xyzzy"));
  EXPECT_THAT(e.message, HasSubstr("I don't know `/incident xyzzy`"));
  EXPECT_THAT(e.message, Not(HasSubstr("Did you mean")));
  EXPECT_EQ(e.usage, usage("incident", "/"));
}

TEST_F(GrammarTyposTest, TimelineSubcommandTypo) {
  auto e = as<UsageError>(timeline("lsit"));
  EXPECT_THAT(e.message, HasSubstr("Did you mean `/timeline list`?"));
  EXPECT_EQ(e.usage, usage("timeline", "/"));
}

TEST_F(GrammarTyposTest, EventTagTypo) {
  auto e = as<UsageError>(timeline("#detcted users report errors"));
  EXPECT_THAT(e.message, HasSubstr("`#detcted`"));
  EXPECT_THAT(e.message, HasSubstr("Did you mean `#detected`?"));

  e = as<UsageError>(timeline("14:05 #alrt pager fired"));
  EXPECT_THAT(e.message, HasSubstr("Did you mean `#alert`?"));
}

TEST_F(GrammarTyposTest, ActionKindTypo) {
  auto e = as<UsageError>(action("Add a canary stage @bob #prevnt"));
  EXPECT_THAT(e.message, HasSubstr("`#prevnt`"));
  EXPECT_THAT(e.message, HasSubstr("Did you mean `#prevent`?"));
  EXPECT_EQ(e.usage, usage("action", "/"));
}

TEST_F(GrammarTyposTest, UnknownCommandWord) {
  auto e = as<UsageError>(parse_in("UTC", "timelin", "db down"));
  EXPECT_THAT(e.message, HasSubstr("`/timelin`"));
  EXPECT_THAT(e.message, HasSubstr("Did you mean `/timeline`?"));
  EXPECT_THAT(e.usage, HasSubstr("`/incident help`"));

  e = as<UsageError>(parse_in("UTC", "incidnet", "status"));
  EXPECT_THAT(e.message, HasSubstr("Did you mean `/incident`?"));

  e = as<UsageError>(parse_in("UTC", "deploy", "now"));
  EXPECT_THAT(e.message, Not(HasSubstr("Did you mean")));
  EXPECT_THAT(e.usage, HasSubstr("`/timeline`"));
}

TEST_F(GrammarTyposTest, CommandWordIsCaseInsensitive) {
  as<ShowStatus>(parse_in("UTC", "Incident", "status"));
  as<ListEvents>(parse_in("UTC", "TIMELINE", "list"));
}

// ---------------------------------------------------------------------------- usage texts

using GrammarUsageTest = GrammarTest;

TEST_F(GrammarUsageTest, UsageNamesEveryForm) {
  const std::string inc = usage("incident", "/");
  for (std::string_view form :
       {"`/incident start [sev1-sev4] <title>`", "`/incident status`",
        "`/incident sev <sev1-sev4>`", "`/incident commander @user`", "went-well",
        "`/incident mitigated [HH:MM] [text]`", "`/incident resolved [HH:MM] [text]`",
        "`/incident draft`", "`/incident close`", "`/incident reopen`", "`/incident help`"}) {
    EXPECT_THAT(inc, HasSubstr(form));
  }
  const std::string tl = usage("timeline", "/");
  for (std::string_view form :
       {"`/timeline <text>`", "`/timeline 14:05 <text>`", "`/timeline -15m <text>`",
        "#detected|#alert|#action|#comms|#impact", "`/timeline list`", "`/timeline edit N <text>`",
        "`/timeline delete N`"}) {
    EXPECT_THAT(tl, HasSubstr(form));
  }
  const std::string act = usage("action", "/");
  for (std::string_view form :
       {"`/action <text> @owner [due YYYY-MM-DD|+3d] [#detect|#mitigate|#prevent|#process]`",
        "`/action list`", "`/action done N`", "`/action reopen N`", "`/action mine`",
        "`/action drop N <reason>`", "`/action edit N <text>`", "`/action assign N @owner`",
        "`/action due N <date>`", "`/action kind N #kind`", "in quotes"}) {
    EXPECT_THAT(act, HasSubstr(form));
  }
}

TEST_F(GrammarUsageTest, MatrixPrefixEverywhere) {
  for (std::string_view command : {"incident", "timeline", "action"}) {
    const std::string text = usage(command, "!");
    EXPECT_THAT(text, HasSubstr("`!" + std::string(command)));
    EXPECT_THAT(text, Not(HasSubstr("`/"))) << command;
  }
  auto e = as<UsageError>(matrix("incident", "start"));
  EXPECT_EQ(e.usage, "`!incident start [sev1-sev4] <title>`");

  e = as<UsageError>(matrix("incident", "stat"));
  EXPECT_THAT(e.message, HasSubstr("Did you mean `!incident status`?"));
  EXPECT_EQ(e.usage, usage("incident", "!"));

  e = as<UsageError>(matrix("timeline", "lsit"));
  EXPECT_THAT(e.message, HasSubstr("`!timeline list`"));
  EXPECT_THAT(e.usage, Not(HasSubstr("`/")));

  e = as<UsageError>(matrix("timeline", "edit"));
  EXPECT_THAT(e.message, HasSubstr("`!timeline list`"));
  EXPECT_EQ(e.usage, "`!timeline edit N <text>` · `!timeline delete N`");

  e = as<UsageError>(matrix("action", "done"));
  EXPECT_THAT(e.message, HasSubstr("`!action list`"));
  EXPECT_EQ(e.usage, "`!action done N`");

  e = as<UsageError>(matrix("timelin", "x"));
  EXPECT_THAT(e.message, HasSubstr("Did you mean `!timeline`?"));
  EXPECT_THAT(e.usage, HasSubstr("`!incident help`"));
  EXPECT_THAT(e.usage, Not(HasSubstr("`/")));
}

TEST_F(GrammarUsageTest, UsageOfUnknownCommandFallsBackToIncident) {
  EXPECT_EQ(usage("nonsense", "/"), usage("incident", "/"));
}

}  // namespace
}  // namespace scribe::grammar

// ---------------------------------------------------------------------------- /incident tz

namespace scribe::grammar {
namespace {

TEST_F(GrammarTest, ZoneIsShownOrSetWithANameFromTheTzDatabase) {
  as<ShowChannelZone>(incident("tz"));
  EXPECT_EQ(as<SetChannelZone>(incident("tz Europe/Berlin")).zone, "Europe/Berlin");
  EXPECT_EQ(as<SetChannelZone>(incident("timezone America/New_York")).zone, "America/New_York");
  EXPECT_EQ(as<SetChannelZone>(incident("tz UTC")).zone, "UTC");
  // Only the case differs: found, and stored as the database spells it.
  EXPECT_EQ(as<SetChannelZone>(incident("tz asia/kolkata")).zone, "Asia/Kolkata");
}

TEST_F(GrammarTest, AnUnknownZoneIsAUsageErrorThatSaysNothingChanged) {
  for (std::string_view bad :
       {"tz Mars/Olympus", "tz Berlin", "tz +02:00", "tz Europe/Berlin x", "tz ../../etc/passwd"}) {
    const auto e = as<UsageError>(incident(bad));
    EXPECT_THAT(e.message, testing::AnyOf(HasSubstr("nothing was changed"),
                                          HasSubstr("Give one time zone name")))
        << bad;
    EXPECT_THAT(e.usage, HasSubstr("/incident tz Europe/Berlin")) << bad;
  }
}

TEST_F(GrammarTest, AWallClockTimeSaysItWasReadInTheZoneAndOtherFormsDoNot) {
  EXPECT_EQ(as<AddEvent>(berlin("timeline", "14:05 db failover")).when->local_token, "14:05");
  EXPECT_EQ(as<AddEvent>(berlin("timeline", "2pm, paged")).when->local_token, "2pm");
  EXPECT_EQ(as<AddEvent>(berlin("timeline", "2026-11-20T14:05 x")).when->local_token,
            "2026-11-20T14:05");
  EXPECT_EQ(as<AddEvent>(berlin("timeline", "14:05Z x")).when->local_token, "");
  EXPECT_EQ(as<AddEvent>(berlin("timeline", "-15m x")).when->local_token, "");
  EXPECT_EQ(as<AddEvent>(berlin("timeline", "2026-11-20T14:05+01:00 x")).when->local_token, "");
}

}  // namespace
}  // namespace scribe::grammar
