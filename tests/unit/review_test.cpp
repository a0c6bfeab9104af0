// The review rules: for each, the texts it must flag and the near-misses it must leave
// alone (a reviewer that cries wolf gets muted), then the incident-level rules, the order
// of findings, the excerpts and the settings.
#include "postmortem/review.h"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace scribe {
namespace {

using test::kAlice;
using test::kBob;
using test::kCarol;
using test::ts;

const Person kAliceSmith{"U5", "Alice Smith"};
const Person kWill{"U6", "Will"};
const Person kMatrixDan{"@dan:example.org", "dan"};
const Person kSlackErin{"U8", "erin.lee"};

// The moment the tests review at.
const Timestamp kNow = ts("2026-11-20 15:00:00");

struct Case {
  std::string_view text;
  bool flagged;
};

bool has(const std::vector<Finding>& findings, ReviewRule rule, std::string_view code = {}) {
  for (const auto& f : findings) {
    if (f.rule == rule && (code.empty() || f.code == code)) return true;
  }
  return false;
}

std::string describe(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings) {
    out += std::string(to_string(f.rule)) + "/" + std::string(f.code) + ": " + f.excerpt + " | " +
           f.message + "\n";
  }
  return out.empty() ? "no findings" : out;
}

// Whether a string is valid UTF-8 (no stray continuation bytes, no cut sequences).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80             ? 1
                      : (b & 0xE0) == 0xC0 ? 2
                      : (b & 0xF0) == 0xE0 ? 3
                      : (b & 0xF8) == 0xF0 ? 4
                                           : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

class ReviewTest : public testing::Test {
 protected:
  EntryContext context() const {
    EntryContext c;
    c.people = {kAlice, kBob, kCarol, kAliceSmith, kWill, kMatrixDan, kSlackErin};
    c.now = kNow;
    return c;
  }

  std::vector<Finding> note(NoteSection section, std::string_view text) const {
    Note n;
    n.id = 41;
    n.section = section;
    n.text = std::string(text);
    n.author = kAlice;
    return reviewer_.review_entry(n, context());
  }

  std::vector<Finding> event(EventKind kind, std::string_view text) const {
    TimelineEvent e;
    e.id = 99;
    e.seq = 12;
    e.kind = kind;
    e.text = std::string(text);
    e.author = kBob;
    e.occurred_at = ts("2026-11-20 14:30:00");
    return reviewer_.review_entry(e, context());
  }

  // A well-formed action item unless a test takes something away.
  static ActionItem item(std::string_view text) {
    ActionItem a;
    a.id = 300;
    a.seq = 3;
    a.text = std::string(text);
    a.owner = kBob;
    a.due = "2026-12-15";
    a.kind = ActionKind::kPrevent;
    a.created_by = kAlice;
    return a;
  }

  std::vector<Finding> action(const ActionItem& a) const {
    return reviewer_.review_entry(a, context());
  }

  void expect_cases(ReviewRule rule, const std::vector<Case>& cases, auto review) const {
    for (const Case& c : cases) {
      const std::vector<Finding> findings = review(c.text);
      EXPECT_EQ(has(findings, rule), c.flagged)
          << (c.flagged ? "should be flagged: " : "should not be flagged: ") << c.text << "\n"
          << describe(findings);
    }
  }

  Reviewer reviewer_{ReviewSettings{}};
};

// --- blame -------------------------------------------------------------------------------

TEST_F(ReviewTest, BlameFlagsAPersonWithBlameWords) {
  expect_cases(ReviewRule::kBlame,
               {
                   // The issue's own examples.
                   {"Bob forgot to bump the version… careless mistake", true},
                   {"human error: the engineer didn't check the tests", true},
                   // Mentions, participants' names, role words, pronouns.
                   {"@bob forgot to run the migration", true},
                   {"@dan:example.org forgot to renew the certificate", true},
                   {"@zoe neglected the runbook", true},
                   {"Bob’s mistake took the site down", true},
                   {"It was alice's fault", true},
                   {"The engineer failed to follow the runbook", true},
                   {"the on-call engineer ignored the alert", true},
                   {"The on-call ignored the page for twenty minutes", true},
                   {"the alert was ignored by the on-call", true},
                   {"someone forgot to renew the certificate", true},
                   {"he should have checked the diff", true},
                   {"She neglected to update the config", true},
                   {"carol made a careless mistake in the config", true},
                   {"bob didn’t bother to run the tests", true},
                   {"Bob dropped the ball on the rollout", true},
                   {"alice messed up the DNS change", true},
                   {"we blame bob for the outage", true},
                   {"The blame lies with bob", true},
                   {"A careless mistake by bob", true},
                   {"bob was blamed for the outage", true},
                   {"Bob carelessly deleted the volume", true},
                   {"bob simply forgot", true},
                   {"the developer was sloppy with the config", true},
                   {"Alice Smith forgot the feature flag", true},
                   {"Alice forgot the feature flag", true},
                   {"Will forgot to page the database team", true},
                   {"BOB FORGOT TO RUN THE TESTS", true},
                   {"erin.lee forgot to page the database team", true},
                   {"Erin forgot to page the database team", true},
                   {"an engineer accidentally ignored the warning", true},
                   {"The operator should have known better", true},
                   {"Deploy went out because bob failed to run the smoke tests.", true},
                   {"Rollback was slow. Carol forgot the runbook.", true},
                   // Human error as a cause or conclusion.
                   {"Root cause: human error", true},
                   {"The cause was operator error.", true},
                   {"Outage caused by user error", true},
                   {"Human error caused the outage", true},
                   {"Human error.", true},
                   {"It was due to human error on the primary", true},
                   {"Human error is the root cause", true},
               },
               [&](std::string_view t) { return note(NoteSection::kWentWrong, t); });
}

TEST_F(ReviewTest, BlameLeavesNeutralSentencesAlone) {
  expect_cases(ReviewRule::kBlame,
               {
                   {"alice rolled back the deploy", false},
                   {"the deploy failed to start", false},
                   {"the process failed to restart", false},
                   {"alice noticed the deploy failed to start", false},
                   {"alice noticed that the job failed to start", false},
                   {"bob's deploy failed to start", false},
                   {"bob's laptop failed to connect to the VPN", false},
                   {"she restarted the pods, which failed to start", false},
                   {"The health check ignored the Retry-After header", false},
                   {"we ignored nothing", false},
                   {"bob ignored nothing", false},
                   {"bob did not forget to page the team", false},
                   {"Bob didn’t forget the rollback", false},
                   {"bob never forgets the checklist", false},
                   {"It was not bob's fault", false},
                   {"it wasn’t alice's fault: the tool allowed it", false},
                   {"alice blamed the DNS change at first", false},
                   {"alice found a config mistake", false},
                   {"alice fixed the fault in the load balancer", false},
                   {"Page fault storms on db-2", false},
                   {"The Kubernetes operator failed to reconcile", false},
                   {"It was a mistake to deploy on a Friday", false},
                   {"we should have had an alert on queue depth", false},
                   {"the alert should have fired at 14:05", false},
                   {"alice said the alert should have fired", false},
                   {"alice and bob rolled back the release together", false},
                   {"the engineer on call paged the database team", false},
                   {"nobody forgot anything; the runbook was wrong", false},
                   {"mail to bob@example.com failed to send", false},
                   {"Fault injection tests passed; the cluster is fault-tolerant", false},
                   {"the deployer script failed to acquire the lock", false},
                   {"the job will fail to start without the flag", false},  // "will", not Will
                   {"The canary missed the regression", false},
                   {"Lee forgot nothing", false},
                   {"the lee side failed to drain", false},  // "lee" is not erin.lee's name
                   {"Blameless review: we look at the system", false},
                   {"@here the canary failed to catch it", false},
                   // Human error not given as the cause.
                   {"Add a confirmation prompt to guard against operator error", false},
                   {"Reduce the risk of human error in manual failovers", false},
                   {"This was not human error: the tool allowed a bad flag", false},
                   {"Human error is inevitable; design for it", false},
                   {"The user error rate rose after the release", false},
                   {"Was it human error? No, the tool made it easy", false},
                   {"Make the deploy tool tolerant of operator error", false},
               },
               [&](std::string_view t) { return note(NoteSection::kWentWrong, t); });
}

TEST_F(ReviewTest, BlameIsCheckedEverywhereAPersonCanBeBlamed) {
  EXPECT_TRUE(has(event(EventKind::kNote, "bob forgot to drain the node"), ReviewRule::kBlame));
  EXPECT_TRUE(has(note(NoteSection::kCause, "Root cause: human error"), ReviewRule::kBlame));
  EXPECT_TRUE(has(action(item("Talk to bob about his careless mistake")), ReviewRule::kBlame));
  EXPECT_FALSE(has(event(EventKind::kNote, "bob drained the node"), ReviewRule::kBlame));
}

TEST_F(ReviewTest, BlameFindingExplainsAndAsksTheSystemQuestion) {
  const auto findings = note(NoteSection::kWentWrong, "Bob forgot to bump the version");
  ASSERT_EQ(findings.size(), 1u) << describe(findings);
  const Finding& f = findings[0];
  EXPECT_EQ(f.rule, ReviewRule::kBlame);
  EXPECT_EQ(f.code, "blame_word");
  EXPECT_EQ(f.target.type, TargetType::kNote);
  EXPECT_EQ(f.target.section, NoteSection::kWentWrong);
  EXPECT_EQ(f.target.id, 41);
  EXPECT_NE(f.excerpt.find("Bob forgot"), std::string::npos) << f.excerpt;
  EXPECT_NE(f.message.find("Bob forgot"), std::string::npos) << f.message;
  EXPECT_NE(f.suggestion.find("what made this possible or easy?"), std::string::npos)
      << f.suggestion;

  const auto human = note(NoteSection::kCause, "human error: the engineer didn't check the tests");
  ASSERT_TRUE(has(human, ReviewRule::kBlame, "human_error")) << describe(human);
}

// --- vague -------------------------------------------------------------------------------

TEST_F(ReviewTest, VagueFlagsSizesWithoutNumbers) {
  auto impact_note = [&](std::string_view t) { return note(NoteSection::kImpact, t); };
  expect_cases(ReviewRule::kVague,
               {
                   {"latency increased a lot", true},
                   {"some users were affected for a while", true},
                   {"Users could not check out", true},
                   {"errors spiked", true},
                   {"Checkout latency increased", true},
                   {"5xx errors spiked after the deploy", true},
                   {"HTTP 503 for some users", true},
                   {"Customers saw 503s", true},
                   {"IPv6 clients saw elevated latency", true},
                   {"S3 uploads were significantly slower", true},
                   {"sev1: orders failed", true},
                   {"error rate went up briefly", true},
                   {"The error budget was burned", true},
                   {"Latency was high from 14:05", true},
                   {"Traffic dropped off sharply", true},
                   {"a lot of requests timed out", true},
                   {"CPU on db-2 was high", true},
                   {"Memory usage grew on v1.2.3", true},
                   {"p99 went up on checkout-api", true},
                   {"Many customers in us-east-1 saw timeouts", true},
                   {"Intermittent errors for EU customers", true},
                   {"Payments were failing for a while.", true},
                   {"Signups dropped significantly", true},
                   {"users on sev2 regions saw slow pages", true},
                   {"Revenue was lost", true},
               },
               impact_note);
}

TEST_F(ReviewTest, VagueAcceptsAnyQuantity) {
  auto impact_note = [&](std::string_view t) { return note(NoteSection::kImpact, t); };
  expect_cases(ReviewRule::kVague,
               {
                   {"p99 latency grew from 300 ms to 1.2 s within 3 minutes of the deploy", false},
                   {"4,100 orders failed", false},
                   {"errors rose to 18%", false},
                   {"Checkout returned HTTP 503 to 12% of users for 24 minutes", false},
                   {"latency spiked to 2s", false},
                   {"p99 jumped to 1200ms", false},
                   {"error rate doubled", false},
                   {"All users in eu-west-1 were affected", false},
                   {"No customers were affected", false},
                   {"No data was lost", false},
                   {"Two regions were down", false},
                   {"Users were affected from 14:05 to 14:29", false},
                   {"twice the usual latency for EU users", false},
                   {"memory grew 3x", false},
                   {"queue depth reached 10k messages", false},
                   {"Latency did not increase", false},
                   {"Checkout is down", false},
                   {"The new status page went up at 14:30", false},
                   {"Checkout was down for 24 minutes", false},
                   {"about half of the requests failed", false},
                   {"0.5% of logins failed", false},
                   {"hundreds of customers wrote to support", false},
               },
               impact_note);
}

TEST_F(ReviewTest, VagueScopesByKindOfEntry) {
  // Summary: a measurable thing needs a number, as in the impact.
  EXPECT_TRUE(has(note(NoteSection::kSummary, "Checkout failed for a while after a bad deploy"),
                  ReviewRule::kVague));
  EXPECT_TRUE(has(note(NoteSection::kSummary, "A bad config push broke checkout for customers"),
                  ReviewRule::kVague, "unquantified"));
  EXPECT_FALSE(has(note(NoteSection::kSummary,
                        "A bad config push to us-east-1 broke checkout for 4,100 customers"),
                   ReviewRule::kVague));
  EXPECT_FALSE(
      has(note(NoteSection::kSummary, "A bad config push broke checkout."), ReviewRule::kVague));

  // Cause: only sizes given without a number; naming a resource is how causes are told.
  EXPECT_TRUE(has(note(NoteSection::kCause, "A retry storm increased load on the database"),
                  ReviewRule::kVague, "magnitude"));
  EXPECT_FALSE(
      has(note(NoteSection::kCause, "A memory leak in the image resizer exhausted the heap"),
          ReviewRule::kVague));
  EXPECT_FALSE(has(note(NoteSection::kCause, "The load balancer dropped idle connections"),
                   ReviewRule::kVague));
  EXPECT_FALSE(
      has(note(NoteSection::kCause, "High availability pair failed over to a stale replica"),
          ReviewRule::kVague));
  EXPECT_FALSE(has(note(NoteSection::kCause, "The config change set the pool size to 10"),
                   ReviewRule::kVague));
  EXPECT_FALSE(has(note(NoteSection::kCause, "the error budget policy was not enforced"),
                   ReviewRule::kVague));

  // Typed events.
  EXPECT_TRUE(has(event(EventKind::kImpact, "p99 went up"), ReviewRule::kVague));
  EXPECT_TRUE(has(event(EventKind::kImpact, "users see errors at checkout"), ReviewRule::kVague));
  EXPECT_TRUE(
      has(event(EventKind::kAlert, "HighLatency alert: p99 latency elevated"), ReviewRule::kVague));
  EXPECT_TRUE(has(event(EventKind::kDetected, "customers reported many failed payments"),
                  ReviewRule::kVague));
  EXPECT_FALSE(has(event(EventKind::kDetected, "a customer reported it through support"),
                   ReviewRule::kVague));
  EXPECT_FALSE(has(event(EventKind::kAlert, "PagerDuty paged the on-call"), ReviewRule::kVague));
  EXPECT_FALSE(has(event(EventKind::kAlert, "p99 > 800 ms for 5 minutes on checkout-api"),
                   ReviewRule::kVague));

  // Out of scope: other sections and plain events are narrative.
  EXPECT_FALSE(has(note(NoteSection::kWentWrong, "latency increased a lot"), ReviewRule::kVague));
  EXPECT_FALSE(
      has(note(NoteSection::kLesson, "some users were affected for a while"), ReviewRule::kVague));
  EXPECT_FALSE(has(event(EventKind::kNote, "latency increased a lot"), ReviewRule::kVague));
  EXPECT_FALSE(has(event(EventKind::kAction, "errors spiked, rolling back"), ReviewRule::kVague));
}

TEST_F(ReviewTest, VagueFindingQuotesTheWordsAndAsksForTheNumber) {
  const auto findings = note(NoteSection::kImpact, "latency increased a lot");
  ASSERT_EQ(findings.size(), 1u) << describe(findings);
  const Finding& f = findings[0];
  EXPECT_EQ(f.code, "magnitude");
  EXPECT_EQ(f.excerpt, "latency increased a lot");
  EXPECT_NE(f.message.find("“increased”"), std::string::npos) << f.message;
  EXPECT_NE(f.suggestion.find("300 ms"), std::string::npos) << f.suggestion;

  const auto unq = note(NoteSection::kImpact, "Users could not check out");
  ASSERT_EQ(unq.size(), 1u) << describe(unq);
  EXPECT_EQ(unq[0].code, "unquantified");
  EXPECT_NE(unq[0].message.find("Users"), std::string::npos) << unq[0].message;
}

// --- unactionable ------------------------------------------------------------------------

TEST_F(ReviewTest, UnactionableFlagsWishesNotChanges) {
  expect_cases(ReviewRule::kUnactionable,
               {
                   {"Improve code quality", true},
                   {"Ensure bad releases don't go to prod", true},
                   {"Be more careful with deploys", true},
                   {"Monitor better", true},
                   {"Look into the flaky test", true},
                   {"Investigate the memory leak", true},
                   {"Investigate", true},
                   {"Consider adding rate limiting", true},
                   {"Try to deploy earlier in the day", true},
                   {"Review the alert thresholds", true},
                   {"Improve the deploy pipeline", true},
                   {"More tests", true},
                   {"Make sure this never happens again", true},
                   {"Double-check configs before pushing", true},
                   {"Look into adding a canary", true},
                   {"We should investigate why the cache was cold", true},
                   {"Harden the checkout service", true},
                   {"Revisit the on-call rotation", true},
                   {"IMPROVE MONITORING", true},
                   {"Keep an eye on the queue", true},
               },
               [&](std::string_view t) { return action(item(t)); });
}

TEST_F(ReviewTest, UnactionableAcceptsConcreteChanges) {
  expect_cases(ReviewRule::kUnactionable,
               {
                   {"Add a CI check that blocks deploys without a canary", false},
                   {"Alert when p99 latency exceeds 800 ms for 5 minutes", false},
                   {"Investigate the leak and add a heap-usage alert", false},
                   {"Ensure deploys are blocked without a canary", false},
                   {"Improve alerting by adding a queue-depth alert at 1,000 messages", false},
                   {"Rotate the TLS certificate automatically 30 days before expiry", false},
                   {"Document the failover procedure in the runbook", false},
                   {"Set the connection pool size to 200", false},
                   {"Write a postmortem template", false},
                   {"Ensure we add a canary stage to the pipeline", false},
                   {"Page the database on-call when replication lag exceeds 30 s", false},
                   {"Migrate the job scheduler to the new cluster", false},
                   {"Review and lower the alert threshold to 500 ms", false},
                   {"Remove the manual deploy path", false},
                   {"Canary stage in the deploy pipeline", false},  // no verb: not judged
               },
               [&](std::string_view t) { return action(item(t)); });
}

TEST_F(ReviewTest, UnactionableIssueExampleWithOwnerDueAndKindIsClean) {
  // "/action Add a CI check that blocks deploys without a canary @bob due 2026-12-01 #prevent"
  ActionItem a = item("Add a CI check that blocks deploys without a canary");
  a.owner = kBob;
  a.due = "2026-12-01";
  a.kind = ActionKind::kPrevent;
  const auto findings = action(a);
  EXPECT_TRUE(findings.empty()) << describe(findings);
}

TEST_F(ReviewTest, UnactionableNeedsOwnerDueDateAndKind) {
  ActionItem a = item("Add a canary stage");
  a.owner.reset();
  EXPECT_TRUE(has(action(a), ReviewRule::kUnactionable, "no_owner"));
  a.owner = Person{};
  EXPECT_TRUE(has(action(a), ReviewRule::kUnactionable, "no_owner"));

  a = item("Add a canary stage");
  a.due.reset();
  EXPECT_TRUE(has(action(a), ReviewRule::kUnactionable, "no_due"));
  a.due = "";
  EXPECT_TRUE(has(action(a), ReviewRule::kUnactionable, "no_due"));
  a.due = "next sprint";
  const auto bad_date = action(a);
  ASSERT_TRUE(has(bad_date, ReviewRule::kUnactionable, "no_due"));
  EXPECT_EQ(bad_date[0].excerpt, "next sprint");

  a = item("Add a canary stage");
  a.kind = ActionKind::kNone;
  EXPECT_TRUE(has(action(a), ReviewRule::kUnactionable, "no_kind"));

  // All missing: one finding each, in a fixed order, all about the same item.
  a = item("Improve code quality");
  a.owner.reset();
  a.due.reset();
  a.kind = ActionKind::kNone;
  const auto all = action(a);
  ASSERT_EQ(all.size(), 4u) << describe(all);
  EXPECT_EQ(all[0].code, "vague_verb");
  EXPECT_EQ(all[1].code, "no_owner");
  EXPECT_EQ(all[2].code, "no_due");
  EXPECT_EQ(all[3].code, "no_kind");
  for (const auto& f : all) {
    EXPECT_EQ(f.target.type, TargetType::kAction);
    EXPECT_EQ(f.target.seq, 3);
    EXPECT_EQ(f.target.id, 300);
  }
}

TEST_F(ReviewTest, UnactionableHorizon) {
  // Now is 2026-11-20; the default horizon is 90 days: 2027-02-18.
  ActionItem a = item("Add a canary stage");
  a.due = "2027-02-18";
  EXPECT_FALSE(has(action(a), ReviewRule::kUnactionable)) << describe(action(a));
  a.due = "2027-02-19";
  const auto far = action(a);
  ASSERT_TRUE(has(far, ReviewRule::kUnactionable, "due_far")) << describe(far);
  EXPECT_NE(far[0].message.find("91 days"), std::string::npos) << far[0].message;
  a.due = "2026-11-20";
  EXPECT_FALSE(has(action(a), ReviewRule::kUnactionable));

  ReviewSettings s;
  s.action_horizon_days = 30;
  a.due = "2026-12-21";  // 31 days
  EXPECT_TRUE(has(Reviewer(s).review_entry(a, context()), ReviewRule::kUnactionable, "due_far"));
}

// Reviewers made from equal settings share one compiled dictionary (settings() is its
// copy of the settings); a Reviewer with other settings gets its own and reviews by them.
TEST_F(ReviewTest, ReviewersShareTheDictionaryOnlyForEqualSettings) {
  const Reviewer a{ReviewSettings{}};
  const Reviewer b{ReviewSettings{}};
  EXPECT_EQ(&a.settings(), &b.settings());

  ReviewSettings longer;
  longer.action_horizon_days = 400;
  const Reviewer c{longer};
  EXPECT_NE(&a.settings(), &c.settings());
  EXPECT_EQ(c.settings().action_horizon_days, 400);

  ActionItem far = item("Add an alert on queue depth");
  far.due = "2027-06-01";  // about 190 days after context().now
  EXPECT_TRUE(has(a.review_entry(far, context()), ReviewRule::kUnactionable, "due_far"));
  EXPECT_FALSE(has(c.review_entry(far, context()), ReviewRule::kUnactionable, "due_far"));
  EXPECT_TRUE(has(b.review_entry(far, context()), ReviewRule::kUnactionable, "due_far"));

  // A list that differs only in one word is other settings too.
  ReviewSettings blame = ReviewSettings{};
  blame.blame_words.push_back("botched");
  const Reviewer d{blame};
  EXPECT_NE(&a.settings(), &d.settings());
  Note n;
  n.section = NoteSection::kCause;
  n.text = "bob botched the deploy";
  n.author = kAlice;
  EXPECT_TRUE(has(d.review_entry(n, context()), ReviewRule::kBlame));
  EXPECT_FALSE(has(a.review_entry(n, context()), ReviewRule::kBlame));
}

TEST_F(ReviewTest, DoneItemsAreJudgedOnlyByKind) {
  ActionItem a = item("Investigated the leak");
  a.status = ActionStatus::kDone;
  a.owner.reset();
  a.due.reset();
  EXPECT_FALSE(has(action(a), ReviewRule::kUnactionable)) << describe(action(a));
  a.kind = ActionKind::kNone;
  EXPECT_TRUE(has(action(a), ReviewRule::kUnactionable, "no_kind"));
}

// --- the whole record: coverage, missing, order ------------------------------------------

TimelineEvent ev(int seq, const char* when, EventKind kind, std::string text) {
  TimelineEvent e = test::event(seq, when, kAlice, kind, std::move(text));
  e.id = 1000 + seq;
  e.incident_id = 7;
  e.recorded_at = e.occurred_at;
  return e;
}

Note nt(NoteSection section, std::string text, std::int64_t id = 0) {
  Note n;
  n.id = id;
  n.incident_id = 7;
  n.section = section;
  n.text = std::move(text);
  n.author = kBob;
  n.created_at = ts("2026-11-20 15:10:00");
  return n;
}

ActionItem act(int seq, std::string text, ActionKind kind) {
  ActionItem a;
  a.id = 500 + seq;
  a.seq = seq;
  a.text = std::move(text);
  a.owner = kCarol;
  a.due = "2026-12-15";
  a.kind = kind;
  a.created_by = kAlice;
  return a;
}

// A complete, well-written sev2 postmortem: no findings.
IncidentRecord complete_record() {
  IncidentRecord r;
  r.incident.id = 7;
  r.incident.title = "Checkout returning 502s";
  r.incident.severity = Severity::kSev2;
  r.incident.status = IncidentStatus::kResolved;
  r.incident.commander = kAlice;
  r.incident.declared_at = ts("2026-11-20 14:08:00");
  r.incident.mitigated_at = ts("2026-11-20 14:29:00");
  r.incident.resolved_at = ts("2026-11-20 14:40:00");
  r.events = {
      ev(1, "2026-11-20 14:05:00", EventKind::kImpact, "checkout 5xx rose to 18% of requests"),
      ev(2, "2026-11-20 14:07:00", EventKind::kAlert,
         "CheckoutErrors fired: 5xx above 5% for 2 minutes"),
      ev(3, "2026-11-20 14:08:00", EventKind::kDeclared, "Incident declared"),
      ev(4, "2026-11-20 14:15:00", EventKind::kNote, "bob found the 14:02 config push"),
      ev(5, "2026-11-20 14:22:00", EventKind::kAction, "alice rolled back the config"),
      ev(6, "2026-11-20 14:29:00", EventKind::kMitigated, "error rate back to 0.1%"),
      ev(7, "2026-11-20 14:40:00", EventKind::kResolved, "Resolved"),
      ev(8, "2026-11-20 14:45:00", EventKind::kComms, "Status page: all clear"),
  };
  r.notes = {
      nt(NoteSection::kSummary, "A config push at 14:02 made checkout fail for 24 minutes.", 1),
      nt(NoteSection::kImpact, "4,100 orders failed; 18% of checkout requests returned 502.", 2),
      nt(NoteSection::kCause, "The pool size in the pushed config was 0, and nothing validated it.",
         3),
      nt(NoteSection::kTrigger, "The 14:02 config push.", 4),
      nt(NoteSection::kLesson, "Config is code: it needs the same checks.", 5),
  };
  r.actions = {
      act(1, "Validate pool sizes in the config pipeline", ActionKind::kPrevent),
      act(2, "Alert on checkout 5xx above 2% for 1 minute", ActionKind::kDetect),
  };
  return r;
}

std::vector<Finding> review_of(const IncidentRecord& r, ReviewSettings s = {}) {
  return review_incident(r, s, kNow);
}

TEST(ReviewRecord, ACompletePostmortemHasNoFindings) {
  const auto findings = review_of(complete_record());
  EXPECT_TRUE(findings.empty()) << describe(findings);
}

TEST(ReviewRecord, CoverageNeedsAPreventItemForSev1AndSev2) {
  IncidentRecord r = complete_record();
  r.actions[0].kind = ActionKind::kProcess;
  auto findings = review_of(r);
  ASSERT_TRUE(has(findings, ReviewRule::kCoverage, "no_prevent")) << describe(findings);
  EXPECT_EQ(findings[0].target.type, TargetType::kIncident);
  EXPECT_NE(findings[0].excerpt.find("sev2"), std::string::npos) << findings[0].excerpt;

  r.incident.severity = Severity::kSev1;
  EXPECT_TRUE(has(review_of(r), ReviewRule::kCoverage, "no_prevent"));
  r.incident.severity = Severity::kSev3;
  EXPECT_FALSE(has(review_of(r), ReviewRule::kCoverage));

  ReviewSettings s;
  s.coverage_severities = {Severity::kSev1, Severity::kSev2, Severity::kSev3};
  EXPECT_TRUE(has(review_of(r, s), ReviewRule::kCoverage, "no_prevent"));

  // A done prevent item counts.
  r = complete_record();
  r.actions[0].status = ActionStatus::kDone;
  EXPECT_FALSE(has(review_of(r), ReviewRule::kCoverage));
}

TEST(ReviewRecord, CoverageNeedsADetectItemWhenDetectionWasSlowOrUnknown) {
  IncidentRecord r = complete_record();
  r.actions.pop_back();  // no detect item
  // Impact 14:05, alert 14:07: detected in 2 minutes, under the 15-minute threshold.
  EXPECT_FALSE(has(review_of(r), ReviewRule::kCoverage)) << describe(review_of(r));

  // The alert came 20 minutes after impact began (and the declaration even later).
  r.events[1].occurred_at = ts("2026-11-20 14:25:00");
  r.incident.declared_at = ts("2026-11-20 14:26:00");
  auto findings = review_of(r);
  ASSERT_TRUE(has(findings, ReviewRule::kCoverage, "no_detect")) << describe(findings);
  EXPECT_NE(findings[0].message.find("20m 00s"), std::string::npos) << findings[0].message;

  // A threshold of 30 minutes accepts it.
  ReviewSettings s;
  s.detect_threshold = std::chrono::minutes{30};
  EXPECT_FALSE(has(review_of(r, s), ReviewRule::kCoverage));

  // Unknown: nothing marks when impact began.
  r = complete_record();
  r.actions.pop_back();
  r.events.erase(r.events.begin());
  findings = review_of(r);
  ASSERT_TRUE(has(findings, ReviewRule::kCoverage, "no_detect")) << describe(findings);
  EXPECT_NE(findings[0].excerpt.find("unknown"), std::string::npos) << findings[0].excerpt;
  // ... unless there is a detect item.
  r.actions.push_back(act(2, "Alert on checkout 5xx above 2% for 1 minute", ActionKind::kDetect));
  EXPECT_FALSE(has(review_of(r), ReviewRule::kCoverage));
}

TEST(ReviewRecord, MissingSectionsAreNamed) {
  IncidentRecord r = complete_record();
  r.notes.clear();
  auto findings = review_of(r);
  for (std::string_view code : {"no_summary", "no_cause", "no_trigger", "no_lessons"}) {
    EXPECT_TRUE(has(findings, ReviewRule::kMissing, code)) << code << "\n" << describe(findings);
  }
  // The #impact event has a number: the impact is quantified even without an impact note.
  EXPECT_FALSE(has(findings, ReviewRule::kMissing, "no_impact"));
  EXPECT_FALSE(has(findings, ReviewRule::kMissing, "impact_unquantified"));

  r.events.erase(r.events.begin());  // the #impact event
  EXPECT_TRUE(has(review_of(r), ReviewRule::kMissing, "no_impact"));

  r = complete_record();
  r.notes[1].text = "Many customers could not pay.";
  r.events[0].text = "checkout errors";
  findings = review_of(r);
  EXPECT_TRUE(has(findings, ReviewRule::kMissing, "impact_unquantified")) << describe(findings);

  r = complete_record();
  r.events.erase(r.events.begin() + 1);  // the #alert
  findings = review_of(r);
  EXPECT_TRUE(has(findings, ReviewRule::kMissing, "no_detection")) << describe(findings);
}

TEST(ReviewRecord, PostmortemOwnerDefaultsToTheCommander) {
  IncidentRecord r = complete_record();
  EXPECT_FALSE(has(review_of(r), ReviewRule::kMissing, "no_postmortem_owner"));
  r.incident.commander = Person{};
  EXPECT_TRUE(has(review_of(r), ReviewRule::kMissing, "no_postmortem_owner"));
  r.incident.postmortem_owner = kCarol;
  EXPECT_FALSE(has(review_of(r), ReviewRule::kMissing, "no_postmortem_owner"));
}

TEST(ReviewRecord, TimelineGapWhileImpactWasOngoing) {
  IncidentRecord r = complete_record();
  // 14:29 mitigated; nothing between 14:22 and 14:29 is fine. Move the rollback out: the
  // entries are then 14:15 → 14:29 (14 minutes) — still fine under 30.
  EXPECT_FALSE(has(review_of(r), ReviewRule::kMissing, "timeline_gap"));

  // Mitigation at 15:30: 14:22 → 15:30 is 68 minutes of silence.
  r.incident.mitigated_at = ts("2026-11-20 15:30:00");
  r.events[5].occurred_at = ts("2026-11-20 15:30:00");
  r.incident.resolved_at = ts("2026-11-20 15:40:00");
  r.events[6].occurred_at = ts("2026-11-20 15:40:00");
  r.events[7].occurred_at = ts("2026-11-20 15:45:00");
  auto findings = review_of(r);
  ASSERT_TRUE(has(findings, ReviewRule::kMissing, "timeline_gap")) << describe(findings);
  const Finding* gap = nullptr;
  for (const auto& f : findings) {
    if (f.code == "timeline_gap") gap = &f;
  }
  ASSERT_NE(gap, nullptr);
  EXPECT_EQ(gap->excerpt, "2026-11-20 14:22:00 (#5) → 2026-11-20 15:30:00 (#6)");
  EXPECT_NE(gap->message.find("1h 08m 00s"), std::string::npos) << gap->message;

  // A longer allowed span accepts it.
  ReviewSettings s;
  s.timeline_gap = std::chrono::minutes{90};
  EXPECT_FALSE(has(review_of(r, s), ReviewRule::kMissing, "timeline_gap"));

  // Silence after mitigation is not during impact.
  r = complete_record();
  r.events[7].occurred_at = ts("2026-11-20 18:00:00");
  EXPECT_FALSE(has(review_of(r), ReviewRule::kMissing, "timeline_gap"));

  // An open incident: the silence runs up to now.
  r = complete_record();
  r.incident.status = IncidentStatus::kOpen;
  r.incident.mitigated_at.reset();
  r.incident.resolved_at.reset();
  r.events.resize(5);       // up to 14:22
  findings = review_of(r);  // now is 15:00: 38 minutes
  ASSERT_TRUE(has(findings, ReviewRule::kMissing, "timeline_gap")) << describe(findings);
}

TEST(ReviewRecord, EventsAfterResolution) {
  IncidentRecord r = complete_record();
  // The all-clear #comms at 14:45 belongs after the resolution.
  EXPECT_FALSE(has(review_of(r), ReviewRule::kMissing, "after_resolution"));
  r.events.push_back(ev(9, "2026-11-20 14:50:00", EventKind::kImpact, "errors back at 4%"));
  r.events.push_back(ev(10, "2026-11-20 14:55:00", EventKind::kClosed, "Closed"));
  const auto findings = review_of(r);
  int count = 0;
  for (const auto& f : findings) {
    if (f.code != "after_resolution") continue;
    ++count;
    EXPECT_EQ(f.target.type, TargetType::kEvent);
    EXPECT_EQ(f.target.seq, 9);
    EXPECT_EQ(f.target.id, 1009);
    EXPECT_EQ(f.excerpt, "errors back at 4%");
  }
  EXPECT_EQ(count, 1) << describe(findings);
  // A reopened incident is not resolved: nothing is after its resolution.
  r.incident.status = IncidentStatus::kOpen;
  EXPECT_FALSE(has(review_of(r), ReviewRule::kMissing, "after_resolution"));
}

TEST(ReviewRecord, DeletedEventsAreIgnored) {
  IncidentRecord r = complete_record();
  r.events.push_back(ev(9, "2026-11-20 14:20:00", EventKind::kNote, "bob forgot the flag"));
  r.events.back().deleted = true;
  const auto findings = review_of(r);
  EXPECT_TRUE(findings.empty()) << describe(findings);
}

TEST(ReviewRecord, TitleIsCheckedForBlame) {
  IncidentRecord r = complete_record();
  r.incident.title = "Bob's mistake took checkout down";
  const auto findings = review_of(r);
  ASSERT_FALSE(findings.empty());
  EXPECT_EQ(findings[0].rule, ReviewRule::kBlame);
  EXPECT_EQ(findings[0].target.type, TargetType::kIncident);
}

TEST(ReviewRecord, ParticipantsNamesCountAsPersons) {
  IncidentRecord r = complete_record();
  // "Dave" wrote nothing and owns nothing: just a word here. Once he writes an event, his
  // name counts.
  r.notes.push_back(nt(NoteSection::kWentWrong, "Dave forgot to drain the node"));
  EXPECT_FALSE(has(review_of(r), ReviewRule::kBlame));
  r.events.push_back(ev(9, "2026-11-20 14:20:00", EventKind::kNote, "draining node 4"));
  r.events.back().author = test::kDave;
  EXPECT_TRUE(has(review_of(r), ReviewRule::kBlame));
}

TEST(ReviewRecord, FindingsAreOrderedByRuleThenTarget) {
  IncidentRecord r = complete_record();
  r.incident.title = "Bob's mistake";
  r.actions.push_back(act(3, "Improve code quality", ActionKind::kProcess));
  r.actions.push_back(act(4, "Be more careful", ActionKind::kProcess));
  r.notes.push_back(nt(NoteSection::kImpact, "some users were affected for a while", 6));
  r.notes.push_back(nt(NoteSection::kSummary, "Latency increased a lot.", 7));
  r.notes.push_back(nt(NoteSection::kWentWrong, "Carol ignored the page", 8));
  r.events.push_back(ev(9, "2026-11-20 14:20:00", EventKind::kImpact, "errors spiked"));
  r.events.push_back(ev(10, "2026-11-20 14:21:00", EventKind::kNote, "bob forgot the flag"));
  r.actions[0].kind = ActionKind::kMitigate;  // no prevent item left
  r.notes.erase(r.notes.begin() + 4);         // no lessons

  const auto findings = review_of(r);
  std::vector<std::string> got;
  for (const auto& f : findings) {
    std::string where(to_string(f.target.type));
    if (f.target.seq) where += "#" + std::to_string(*f.target.seq);
    if (f.target.section) where += ":" + std::string(to_string(*f.target.section));
    if (f.target.index) where += "/" + std::to_string(f.target.index);
    got.push_back(std::string(to_string(f.rule)) + " " + std::string(f.code) + " " + where);
  }
  const std::vector<std::string> want = {
      "blame blame_word incident",          "blame blame_word event#10",
      "blame blame_word note:went-wrong/1", "vague magnitude event#9",
      "vague magnitude note:summary/2",     "vague magnitude note:impact/2",
      "unactionable vague_verb action#3",   "unactionable vague_verb action#4",
      "coverage no_prevent incident",       "missing no_lessons incident",
  };
  EXPECT_EQ(got, want) << describe(findings);

  // The same input gives the same findings, whatever order the events came in.
  IncidentRecord shuffled = r;
  std::reverse(shuffled.events.begin(), shuffled.events.end());
  const auto again = review_of(shuffled);
  ASSERT_EQ(again.size(), findings.size());
  for (std::size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].rule, findings[i].rule);
    EXPECT_EQ(again[i].code, findings[i].code);
    EXPECT_EQ(again[i].target, findings[i].target);
    EXPECT_EQ(again[i].excerpt, findings[i].excerpt);
    EXPECT_EQ(again[i].message, findings[i].message);
  }
}

TEST(ReviewRecord, EveryRuleCanBeSwitchedOff) {
  IncidentRecord r = complete_record();
  r.incident.severity = Severity::kSev1;
  r.notes.clear();
  r.notes.push_back(nt(NoteSection::kImpact, "latency increased a lot"));
  r.notes.push_back(nt(NoteSection::kWentWrong, "bob forgot the flag"));
  r.actions = {act(1, "Improve code quality", ActionKind::kMitigate)};
  const auto all = review_of(r);
  for (ReviewRule rule : {ReviewRule::kBlame, ReviewRule::kVague, ReviewRule::kUnactionable,
                          ReviewRule::kCoverage, ReviewRule::kMissing}) {
    ASSERT_TRUE(has(all, rule)) << to_string(rule) << "\n" << describe(all);
  }
  auto without = [&](ReviewRule rule) {
    ReviewSettings s;
    s.blame = rule != ReviewRule::kBlame;
    s.vague = rule != ReviewRule::kVague;
    s.unactionable = rule != ReviewRule::kUnactionable;
    s.coverage = rule != ReviewRule::kCoverage;
    s.missing = rule != ReviewRule::kMissing;
    return review_of(r, s);
  };
  for (ReviewRule rule : {ReviewRule::kBlame, ReviewRule::kVague, ReviewRule::kUnactionable,
                          ReviewRule::kCoverage, ReviewRule::kMissing}) {
    const auto findings = without(rule);
    EXPECT_FALSE(has(findings, rule)) << to_string(rule);
    // The others still fire.
    for (ReviewRule other : {ReviewRule::kBlame, ReviewRule::kVague, ReviewRule::kUnactionable,
                             ReviewRule::kCoverage, ReviewRule::kMissing}) {
      if (other == rule) continue;
      EXPECT_TRUE(has(findings, other)) << to_string(other);
    }
  }
}

// --- settings: word lists ----------------------------------------------------------------

TEST_F(ReviewTest, WordListsCanBeReplacedAndExtended) {
  ReviewSettings s;
  s.blame_words.push_back("fat-fingered");
  s.person_words.push_back("the contractor");
  s.measurable_nouns.push_back("checkouts");
  s.vague_verbs.push_back("socialise");
  const Reviewer custom(s);
  auto note_with = [&](const Reviewer& r, NoteSection section, std::string_view text) {
    Note n;
    n.section = section;
    n.text = std::string(text);
    return r.review_entry(n, context());
  };
  EXPECT_TRUE(has(note_with(custom, NoteSection::kWentWrong, "the contractor fat-fingered the DNS"),
                  ReviewRule::kBlame));
  EXPECT_FALSE(
      has(note_with(reviewer_, NoteSection::kWentWrong, "the contractor fat-fingered the DNS"),
          ReviewRule::kBlame));
  EXPECT_TRUE(has(note_with(custom, NoteSection::kImpact, "checkouts failed"), ReviewRule::kVague));
  ActionItem a = item("Socialise the runbook");
  EXPECT_TRUE(has(custom.review_entry(a, context()), ReviewRule::kUnactionable, "vague_verb"));
  EXPECT_FALSE(has(action(a), ReviewRule::kUnactionable));

  // Replaced: without "forgot" in the list, "bob forgot" is not blame.
  ReviewSettings only;
  only.blame_words = {"sloppy"};
  const Reviewer narrow(only);
  EXPECT_FALSE(
      has(note_with(narrow, NoteSection::kWentWrong, "bob forgot the flag"), ReviewRule::kBlame));
  EXPECT_TRUE(
      has(note_with(narrow, NoteSection::kWentWrong, "bob was sloppy"), ReviewRule::kBlame));
  // Case and typographic apostrophes in list entries read like the text.
  ReviewSettings typed;
  typed.blame_words = {"Didn’t Bother"};
  EXPECT_TRUE(has(note_with(Reviewer(typed), NoteSection::kWentWrong, "bob didn't bother"),
                  ReviewRule::kBlame));
}

// --- excerpts ----------------------------------------------------------------------------

TEST_F(ReviewTest, ExcerptsAreShortValidUtf8AroundTheWords) {
  std::string text;
  for (int i = 0; i < 20; ++i) text += "Ünïcödé wörds 🔥 ";
  text += "bob forgot the flag";
  for (int i = 0; i < 20; ++i) text += " — ëxtra ✓ words";
  const auto findings = note(NoteSection::kWentWrong, text);
  ASSERT_EQ(findings.size(), 1u) << describe(findings);
  const std::string& ex = findings[0].excerpt;
  EXPECT_TRUE(valid_utf8(ex)) << ex;
  EXPECT_NE(ex.find("bob forgot"), std::string::npos) << ex;
  EXPECT_LT(ex.size(), 160u) << ex;
  EXPECT_TRUE(ex.starts_with("…")) << ex;
  EXPECT_TRUE(ex.ends_with("…")) << ex;

  // Line breaks read as spaces; a text that fits is shown whole.
  const auto lines = note(NoteSection::kImpact, "checkout was slow\n\nlatency increased a lot");
  ASSERT_EQ(lines.size(), 1u) << describe(lines);
  EXPECT_EQ(lines[0].excerpt, "checkout was slow latency increased a lot");

  // Every excerpt of every finding is valid UTF-8, whatever is cut.
  for (std::size_t cut = 0; cut < 12; ++cut) {
    std::string t =
        std::string(cut, 'x') + " ééééééééééééééééééééééééééééééé some users were affected";
    for (const auto& f : note(NoteSection::kImpact, t))
      EXPECT_TRUE(valid_utf8(f.excerpt)) << f.excerpt;
  }
}

TEST(ReviewNames, RulesAndTargetsHaveStableNames) {
  EXPECT_EQ(to_string(ReviewRule::kBlame), "blame");
  EXPECT_EQ(to_string(ReviewRule::kVague), "vague");
  EXPECT_EQ(to_string(ReviewRule::kUnactionable), "unactionable");
  EXPECT_EQ(to_string(ReviewRule::kCoverage), "coverage");
  EXPECT_EQ(to_string(ReviewRule::kMissing), "missing");
  EXPECT_EQ(review_rule_from_string("Blame"), ReviewRule::kBlame);
  EXPECT_EQ(review_rule_from_string("missing"), ReviewRule::kMissing);
  EXPECT_EQ(review_rule_from_string("blam"), std::nullopt);
  EXPECT_EQ(to_string(TargetType::kEvent), "event");
  EXPECT_EQ(to_string(TargetType::kAction), "action");
  EXPECT_EQ(to_string(TargetType::kNote), "note");
  EXPECT_EQ(to_string(TargetType::kIncident), "incident");
}

}  // namespace
}  // namespace scribe
