// The API's draft cache end to end (bot/draft_cache.h): the real `scribe serve` on a held
// clock (libfaketime), changed only by correctly signed Slack slash commands, read over
// HTTP. An unchanged draft is answered 304 to its own ETag (so it is kept: the cache is in
// use), and after every kind of change the next read of each format is the new draft. With
// the clock held, nothing but the change can make a draft differ.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/fixture.h"

namespace scribe {
namespace {

using json = nlohmann::json;
using testing::SlackUser;

const SlackUser kAlice{"U0ALICE", "alice"};
const SlackUser kBob{"U0BOB", "bob"};
const SlackUser kCarol{"U0CAROL", "carol"};
const std::vector<std::string> kFormats = {"md", "html", "json"};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string header(const HttpResult& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

class DraftCacheE2E : public testing::ScribeE2E {
 protected:
  void SetUp() override {
    ScribeE2E::SetUp();
    clock_at("2026-11-20 12:00:00");
    start_with_fake_clock();
  }

  // A slash command signed at the service's (held) time; fails the test unless answered.
  json say(const std::string& command, const std::string& text, const std::string& channel,
           const SlackUser& user = kAlice) {
    return command_at_held_time(user, command, text, channel);
  }

  struct Read {
    long status = 0;
    std::string body;
    std::string etag;
  };
  // GET postmortem.<format> of `incident`, with If-None-Match when `etag` is given.
  Read read(int incident, const std::string& format, const std::string& etag = "") {
    std::vector<std::string> headers = {std::string("Authorization: Bearer ") + kToken};
    if (!etag.empty()) headers.push_back("If-None-Match: " + etag);
    const HttpResult r = http_.request(
        "GET",
        scribe_->base_url() + fmt::format("/api/incidents/{}/postmortem.{}", incident, format),
        headers);
    return {r.status, r.body, header(r, "etag")};
  }

  // The drafts of `incident` in every format as last read, by format.
  std::map<std::string, Read> last_;

  // Reads every format, expecting a fresh 200 that differs from the last one read, then a
  // 304 for its own ETag (kept). The Markdown must contain each of `present` and none of
  // `absent`.
  void expect_new_draft(int incident, const std::string& after,
                        const std::vector<std::string>& present = {},
                        const std::vector<std::string>& absent = {}) {
    SCOPED_TRACE(after);
    for (const std::string& format : kFormats) {
      SCOPED_TRACE(format);
      const std::string key = fmt::format("{}.{}", incident, format);
      const auto before = last_.find(key);
      const Read fresh = read(incident, format, before == last_.end() ? "" : before->second.etag);
      ASSERT_EQ(fresh.status, 200) << "the change must show in the next read";
      ASSERT_FALSE(fresh.etag.empty());
      if (before != last_.end()) {
        EXPECT_NE(fresh.etag, before->second.etag);
        EXPECT_NE(fresh.body, before->second.body);
      }
      const Read again = read(incident, format, fresh.etag);
      EXPECT_EQ(again.status, 304) << "unchanged: answered from the cache";
      EXPECT_EQ(again.etag, fresh.etag);
      EXPECT_TRUE(again.body.empty());
      if (format == "md") {
        for (const auto& p : present) EXPECT_TRUE(contains(fresh.body, p)) << p;
        for (const auto& a : absent) EXPECT_FALSE(contains(fresh.body, a)) << a;
      }
      last_[key] = fresh;
    }
  }

  // Nothing changed: every format answers 304 to the ETag last read.
  void expect_unchanged(int incident, const std::string& after) {
    SCOPED_TRACE(after);
    for (const std::string& format : kFormats) {
      const Read r = read(incident, format, last_.at(fmt::format("{}.{}", incident, format)).etag);
      EXPECT_EQ(r.status, 304) << format;
    }
  }
};

TEST_F(DraftCacheE2E, EveryKindOfChangeShowsInTheNextReadOfEveryFormat) {
  const std::string ch = "C0CACHE";
  say("/incident", "start sev2 Checkout errors", ch);
  say("/timeline", "#impact checkout returns 500 for 30% of users", ch);
  say("/timeline", "rolled back the deploy", ch);
  expect_new_draft(1, "the first read", {"rolled back the deploy"});

  // The cache is in use: a plain read of an unchanged draft is a hit, the same bytes.
  const auto hits = metric("scribe_draft_cache_hits_total");
  const Read plain = read(1, "md");
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body, last_["1.md"].body);
  EXPECT_EQ(plain.etag, last_["1.md"].etag);
  EXPECT_EQ(metric("scribe_draft_cache_hits_total"), *hits + 1);

  // A command that changes nothing (a read, and a refused one) leaves the draft as it was.
  say("/incident", "status", ch);
  say("/timeline", "edit 99 no such event", ch);
  expect_unchanged(1, "a status and a refused edit");
  // Another incident's timeline is not this draft.
  say("/incident", "start sev3 Unrelated noise", "C0ELSEWHERE");
  say("/timeline", "unrelated event", "C0ELSEWHERE");
  expect_unchanged(1, "another incident's commands");

  say("/timeline", "#detected pager fired for checkout", ch);
  expect_new_draft(1, "an event", {"pager fired for checkout"});
  say("/timeline", "edit 3 rolled back deploy 4812", ch);
  expect_new_draft(1, "an edit", {"rolled back deploy 4812"}, {"rolled back the deploy"});
  say("/timeline", "delete 3", ch);
  expect_new_draft(1, "a deletion", {}, {"rolled back deploy 4812"});
  say("/incident", "summary Checkout failed for 30% of users for 20 minutes", ch);
  expect_new_draft(1, "a summary note", {"Checkout failed for 30% of users"});
  say("/incident", "cause the payment pool was exhausted by a retry storm", ch);
  expect_new_draft(1, "a cause note", {"retry storm"});
  say("/action", "Add an alert on payment pool saturation @bob due 2026-12-01 #detect", ch);
  expect_new_draft(1, "an action item", {"payment pool saturation"});
  say("/action", "edit 1 Alert when the payment pool is 90% used", ch);
  expect_new_draft(1, "an action item's edit", {"90% used"});
  say("/action", "done 1", ch);
  expect_new_draft(1, "an action item done");
  say("/incident", "sev sev1", ch);
  expect_new_draft(1, "the severity");
  say("/incident", "commander @bob", ch);
  expect_new_draft(1, "the commander");
  say("/incident", "owner @carol", ch);
  expect_new_draft(1, "the postmortem owner");
  say("/incident", "link https://status.example.org/incidents/42", ch);
  expect_new_draft(1, "a link", {"status.example.org/incidents/42"});
  say("/incident", "tz Europe/Paris", ch);
  expect_new_draft(1, "the channel's time zone", {"Europe/Paris"});
  say("/incident", "mitigated", ch);
  expect_new_draft(1, "mitigated");
  say("/incident", "resolved", ch);
  expect_new_draft(1, "resolved");
  say("/incident", "review request", ch);
  expect_new_draft(1, "a review request");
  say("/incident", "approve", ch, SlackUser{"U0DAVE", "dave"});
  expect_new_draft(1, "an approval");
  say("/incident", "reopen", ch);
  expect_new_draft(1, "reopened");
}

// A draft with a cause lists earlier incidents with the same cause and their open items:
// a change to one of those (here its item done, in its own channel) shows in the later
// incident's next read, though nothing of the later incident changed.
TEST_F(DraftCacheE2E, AChangeToARelatedIncidentShowsInTheNextRead) {
  say("/incident", "start sev2 Payments down in March", "C0FIRST");
  say("/incident", "cause the payment database connection pool was exhausted", "C0FIRST");
  say("/action", "Cap retries in the payment client @bob due 2026-12-15 #prevent", "C0FIRST");
  say("/incident", "resolved", "C0FIRST");
  say("/incident", "start sev2 Payments down again", "C0SECOND");
  say("/incident", "cause the payment database connection pool was exhausted", "C0SECOND");
  expect_new_draft(2, "the first read", {"Cap retries in the payment client"});
  say("/action", "done 1", "C0FIRST");
  expect_new_draft(2, "the related incident's item done", {},
                   {"Cap retries in the payment client"});
  // An incident without a cause does not list related ones: other incidents' changes
  // leave its kept draft as it is.
  say("/incident", "start sev3 Unrelated", "C0THIRD");
  expect_new_draft(3, "the first read");
  say("/incident", "summary something else entirely", "C0FIRST");
  expect_unchanged(3, "a change to another incident");
}

// The clock is part of a draft: an ongoing incident's durations run to now, so its kept
// draft is good for the second it was made in; a resolved one's until the next UTC day.
TEST_F(DraftCacheE2E, TheClockMovesADraftOnAsItWouldAFreshOne) {
  say("/incident", "start sev2 Clock test", "C0CLOCK");
  expect_new_draft(1, "the first read");
  clock_at("2026-11-20 12:00:01");
  expect_new_draft(1, "a second later, ongoing");
  say("/incident", "resolved", "C0CLOCK");
  expect_new_draft(1, "resolved");
  clock_at("2026-11-20 23:59:59");
  expect_unchanged(1, "later the same day, resolved");
  clock_at("2026-11-21 00:00:00");
  expect_new_draft(1, "the next UTC day");
}

// api.draft_cache_bytes 0: nothing is kept, every read renders, and changes show all the same.
TEST_F(DraftCacheE2E, ABudgetOfZeroKeepsNothing) {
  start_with_fake_clock({{"SCRIBE_API_DRAFT_CACHE_BYTES", "0"}});
  say("/incident", "start sev2 No cache", "C0NONE");
  const Read first = read(1, "md");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(read(1, "md").status, 200);
  EXPECT_EQ(metric("scribe_draft_cache_hits_total"), 0);
  EXPECT_EQ(metric("scribe_draft_cache_bytes"), 0);
  say("/timeline", "something happened", "C0NONE");
  EXPECT_TRUE(contains(read(1, "md").body, "something happened"));
}

}  // namespace
}  // namespace scribe
