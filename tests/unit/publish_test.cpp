// Publishing: the core's jobs and rule (commands/publishing.h) and the destinations' names.
#include <date/tz.h>
#include <gtest/gtest.h>

#include "commands/grammar.h"
#include "commands/publishing.h"
#include "publish/destinations.h"

namespace scribe {
namespace {

TEST(PublishJob, RoundTripsAndRefusesWhatIsNotOne) {
  const PublishJob job{42, "confluence"};
  const auto back = publish_job_from_json(to_json(job));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->incident_id, 42);
  EXPECT_EQ(back->destination, "confluence");
  for (const char* bad : {"", "[]", "{}", R"({"incident_id":"42","destination":"git"})",
                          R"({"incident_id":42})", R"({"incident_id":42,"destination":7})"}) {
    EXPECT_FALSE(publish_job_from_json(bad).has_value()) << bad;
  }
}

Incident incident(IncidentStatus status, PostmortemStatus pm, IncidentId id = 1) {
  Incident i;
  i.id = id;
  i.status = status;
  i.postmortem_status = pm;
  return i;
}

TEST(PublishesAutomatically, ResolvedOrClosedUntilTheChangeAfterFinal) {
  const auto open = incident(IncidentStatus::kOpen, PostmortemStatus::kDraft);
  const auto resolved = incident(IncidentStatus::kResolved, PostmortemStatus::kDraft);
  const auto closed = incident(IncidentStatus::kClosed, PostmortemStatus::kInReview);
  const auto final_now = incident(IncidentStatus::kClosed, PostmortemStatus::kFinal);
  EXPECT_FALSE(publishes_automatically(std::nullopt, open));
  EXPECT_FALSE(publishes_automatically(open, open));
  EXPECT_TRUE(publishes_automatically(open, resolved));  // the resolution itself
  EXPECT_TRUE(publishes_automatically(resolved, resolved));
  EXPECT_TRUE(publishes_automatically(resolved, closed));
  EXPECT_TRUE(publishes_automatically(closed, final_now));  // the approval that makes it final
  EXPECT_FALSE(publishes_automatically(final_now, final_now));
  // Another incident in the channel: its own state counts.
  EXPECT_TRUE(publishes_automatically(
      final_now, incident(IncidentStatus::kResolved, PostmortemStatus::kDraft, 2)));
}

TEST(PublishGrammar, OneDestinationOrAll) {
  grammar::ParseContext ctx;
  ctx.zone = date::locate_zone("UTC");
  const auto all = grammar::parse("incident", "publish", ctx);
  ASSERT_TRUE(std::holds_alternative<grammar::PublishPostmortem>(all));
  EXPECT_EQ(std::get<grammar::PublishPostmortem>(all).destination, "");
  const auto one = grammar::parse("incident", "publish Confluence", ctx);
  ASSERT_TRUE(std::holds_alternative<grammar::PublishPostmortem>(one));
  EXPECT_EQ(std::get<grammar::PublishPostmortem>(one).destination, "confluence");
  EXPECT_TRUE(std::holds_alternative<grammar::UsageError>(
      grammar::parse("incident", "publish confluence git", ctx)));
}

TEST(Slug, LowerCaseWordsJoinedAndBounded) {
  EXPECT_EQ(publish::slug("Checkout errors!"), "checkout-errors");
  EXPECT_EQ(publish::slug("  DB: primary -- down (eu-west-1) "), "db-primary-down-eu-west-1");
  EXPECT_EQ(publish::slug("Ünïcode ☃ only"), "n-code-only");
  EXPECT_EQ(publish::slug("☃☃"), "incident");
  EXPECT_LE(publish::slug(std::string(200, 'a')).size(), 60u);
}

}  // namespace
}  // namespace scribe
