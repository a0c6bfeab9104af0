// Micro-benchmarks of the work on a command's path and of drafting a large incident, so
// that "a 10,000-event incident drafts in milliseconds" is a measured figure.
#include <benchmark/benchmark.h>
#include <date/tz.h>

#include <chrono>
#include <string>

#include <fmt/format.h>

#include "adapters/slack/form.h"
#include "adapters/slack/signature.h"
#include "adapters/slack/slash_command.h"
#include "commands/grammar.h"
#include "postmortem/draft.h"
#include "postmortem/html.h"
#include "postmortem/json.h"
#include "postmortem/markdown.h"
#include "postmortem/review.h"
#include "postmortem/review_report.h"

namespace scribe {
namespace {

constexpr Timestamp kStart{std::chrono::milliseconds{1'763'647'500'000}};  // 2025-11-20T14:05Z

IncidentRecord record_with_events(int n) {
  IncidentRecord r;
  r.incident.id = 7;
  r.incident.title = "Checkout API returning 502s";
  r.incident.severity = Severity::kSev2;
  r.incident.status = IncidentStatus::kResolved;
  r.incident.commander = Person{"U1", "alice"};
  r.incident.declared_at = kStart;
  r.incident.mitigated_at = kStart + std::chrono::hours(2);
  r.incident.resolved_at = kStart + std::chrono::hours(3);
  const EventKind kinds[] = {EventKind::kNote, EventKind::kAction, EventKind::kComms,
                             EventKind::kAlert, EventKind::kImpact};
  for (int i = 0; i < n; ++i) {
    TimelineEvent e;
    e.incident_id = 7;
    e.seq = i + 1;
    e.kind = kinds[i % 5];
    e.occurred_at = kStart + std::chrono::milliseconds(i * 997);
    e.recorded_at = e.occurred_at;
    e.author = Person{fmt::format("U{}", i % 12), fmt::format("responder{}", i % 12)};
    e.text = fmt::format("p99 latency of checkout-api at {} ms after step {} | pool {}",
                         300 + i % 900, i, i % 20);
    r.events.push_back(std::move(e));
  }
  for (int i = 0; i < 8; ++i) {
    Note note;
    note.section = static_cast<NoteSection>(i);
    note.text = "A note about what happened and why it mattered to users.";
    note.author = Person{"U2", "bob"};
    r.notes.push_back(note);
    ActionItem a;
    a.seq = i + 1;
    a.text = "Validate the pool size at start-up";
    a.owner = Person{"U3", "carol"};
    a.due = "2025-12-01";
    a.kind = ActionKind::kPrevent;
    r.actions.push_back(a);
  }
  return r;
}

void BM_AssembleDraft(benchmark::State& state) {
  const IncidentRecord record = record_with_events(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(assemble_draft(record, kStart + std::chrono::hours(4)));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AssembleDraft)->Arg(100)->Arg(10'000)->Unit(benchmark::kMillisecond);

void BM_DraftToMarkdown(benchmark::State& state) {
  const IncidentRecord record = record_with_events(static_cast<int>(state.range(0)));
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string md = render_markdown(assemble_draft(record, kStart + std::chrono::hours(4)));
    bytes = md.size();
    benchmark::DoNotOptimize(md.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_DraftToMarkdown)->Arg(100)->Arg(10'000)->Unit(benchmark::kMillisecond);

// What a chat message shows of it: the shortened draft (markdown.h, kChatDraftBytes).
void BM_DraftForChat(benchmark::State& state) {
  const IncidentRecord record = record_with_events(static_cast<int>(state.range(0)));
  const Draft draft = assemble_draft(record, kStart + std::chrono::hours(4));
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string md = render_markdown(draft, "/", kChatDraftBytes);
    bytes = md.size();
    benchmark::DoNotOptimize(md.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_DraftForChat)->Arg(10'000)->Unit(benchmark::kMillisecond);

// The API's postmortem.html: Markdown, then HTML in pieces (html.h).
void BM_DraftToHtmlPage(benchmark::State& state) {
  const IncidentRecord record = record_with_events(static_cast<int>(state.range(0)));
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string md = render_markdown(assemble_draft(record, kStart + std::chrono::hours(4)));
    const std::string page = html_page("INC-7 postmortem", md);
    bytes = page.size();
    benchmark::DoNotOptimize(page.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_DraftToHtmlPage)->Arg(10'000)->Unit(benchmark::kMillisecond);

void BM_DraftToJson(benchmark::State& state) {
  const IncidentRecord record = record_with_events(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        render_json(assemble_draft(record, kStart + std::chrono::hours(4)), -1));
  }
}
BENCHMARK(BM_DraftToJson)->Arg(10'000)->Unit(benchmark::kMillisecond);

// A long incident as responders write it: varied sentences, mentions, numbers and typos,
// of which some the review flags (blame, vague sizes, a wish for an action item).
IncidentRecord realistic_record(int n) {
  static constexpr const char* kTexts[] = {
      "rolled back checkout-api to v{} on {} pods",
      "p99 latency of checkout-api at {} ms, error rate {}%",
      "@responder{} is looking at the db-{} replication lag",
      "restarted the payment workers on node {}; queue depth now {}",
      "latency increased a lot on the EU edge",
      "customer support reports some users cannot pay",
      "responder{} forgot to drain node {} before the upgrade",
      "HTTP 503 from the load balancer for /checkout (see dashboard {})",
      "status page updated: investigating elevated errors",
      "CPU on db-{} went up again after the failover",
      "cache hit ratio back to {}% after warming",
      "the canary for build {} failed to start; holding the rollout",
      "traffic shifted {}% to us-west-2",
      "human error: the config push skipped review",
      "confirmed with @responder{}: the flag was already off at 14:{}",
      "Alertmanager: CheckoutErrors firing, 5xx above {}% for 5 minutes",
  };
  const EventKind kinds[] = {
      EventKind::kNote,   EventKind::kAction,   EventKind::kNote, EventKind::kAction,
      EventKind::kImpact, EventKind::kDetected, EventKind::kNote, EventKind::kImpact,
      EventKind::kComms,  EventKind::kAlert,    EventKind::kNote, EventKind::kNote,
      EventKind::kAction, EventKind::kNote,     EventKind::kNote, EventKind::kAlert};
  constexpr int kTemplates = static_cast<int>(std::size(kTexts));
  IncidentRecord r;
  r.incident.id = 7;
  r.incident.title = "Checkout API returning 502s";
  r.incident.severity = Severity::kSev1;
  r.incident.status = IncidentStatus::kResolved;
  r.incident.commander = Person{"U1", "alice"};
  r.incident.declared_at = kStart;
  r.incident.mitigated_at = kStart + std::chrono::hours(9);
  r.incident.resolved_at = kStart + std::chrono::hours(10);
  r.events.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    TimelineEvent e;
    e.id = i + 1;
    e.incident_id = 7;
    e.seq = i + 1;
    e.kind = kinds[i % kTemplates];
    e.occurred_at = kStart + std::chrono::milliseconds(i * 3'500LL);
    e.recorded_at = e.occurred_at;
    e.author = Person{fmt::format("U{}", i % 24), fmt::format("responder{}", i % 24)};
    e.text = fmt::format(fmt::runtime(kTexts[i % kTemplates]), i % 24, 100 + i % 900);
    r.events.push_back(std::move(e));
  }
  const std::pair<NoteSection, const char*> notes[] = {
      {NoteSection::kSummary, "A config push at 14:02 made checkout fail for 24 minutes."},
      {NoteSection::kImpact, "4,100 orders failed; 18% of checkout requests returned 502."},
      {NoteSection::kImpact, "Some users were affected for a while."},
      {NoteSection::kCause, "The pool size in the pushed config was 0 and nothing checked it."},
      {NoteSection::kTrigger, "The 14:02 config push."},
      {NoteSection::kWentWrong, "responder3 ignored the first alert"},
      {NoteSection::kLesson, "Config is code: it needs the same checks."},
  };
  for (int i = 0; i < 60; ++i) {
    Note note;
    note.id = i + 1;
    note.section = notes[i % std::size(notes)].first;
    note.text = notes[i % std::size(notes)].second;
    note.author = Person{"U2", "bob"};
    r.notes.push_back(note);
  }
  const char* actions[] = {"Validate pool sizes in the config pipeline", "Improve code quality",
                           "Alert on checkout 5xx above 2% for 1 minute",
                           "Investigate the memory leak"};
  for (int i = 0; i < 40; ++i) {
    ActionItem a;
    a.id = i + 1;
    a.seq = i + 1;
    a.text = actions[i % 4];
    a.owner = Person{"U3", "carol"};
    a.due = i % 5 == 0 ? "2026-09-01" : "2025-12-01";
    a.kind = i % 3 == 0 ? ActionKind::kPrevent : ActionKind::kNone;
    r.actions.push_back(a);
  }
  return r;
}

// The review of a whole incident, its word lists compiled once (as the service keeps a
// Reviewer) ...
void BM_Review(benchmark::State& state) {
  const IncidentRecord record = realistic_record(static_cast<int>(state.range(0)));
  const Reviewer reviewer{ReviewSettings{}};
  std::size_t findings = 0;
  for (auto _ : state) {
    const auto out = reviewer.review(record, kStart + std::chrono::hours(11));
    findings = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["findings"] = static_cast<double>(findings);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Review)->Arg(100)->Arg(10'000)->Unit(benchmark::kMillisecond);

// ... and from scratch, compiling the word lists too (as a one-off `scribe lint` does).
void BM_ReviewFromSettings(benchmark::State& state) {
  const IncidentRecord record = realistic_record(static_cast<int>(state.range(0)));
  const ReviewSettings settings;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        review_incident(record, settings, kStart + std::chrono::hours(11)).data());
  }
}
BENCHMARK(BM_ReviewFromSettings)->Arg(10'000)->Unit(benchmark::kMillisecond);

// The review as `/incident review`, the drafts and `scribe lint --format json` show it:
// the findings, the Markdown section and the JSON value, and the close gate's check.
void BM_ReviewRendered(benchmark::State& state) {
  const IncidentRecord record = realistic_record(static_cast<int>(state.range(0)));
  const Reviewer reviewer{ReviewSettings{}};
  const CloseGateSettings gate;
  for (auto _ : state) {
    const PostmortemReview review =
        review_postmortem(record, reviewer, kStart + std::chrono::hours(11));
    benchmark::DoNotOptimize(render_review_markdown(review).size());
    benchmark::DoNotOptimize(review_to_json(review).size());
    benchmark::DoNotOptimize(close_objections(record, review, gate).size());
  }
}
BENCHMARK(BM_ReviewRendered)->Arg(10'000)->Unit(benchmark::kMillisecond);

// One entry as it is typed: what an author-only hint would cost per command.
void BM_ReviewEntry(benchmark::State& state) {
  const Reviewer reviewer{ReviewSettings{}};
  EntryContext context;
  for (int i = 0; i < 24; ++i) {
    context.people.push_back(Person{fmt::format("U{}", i), fmt::format("responder{}", i)});
  }
  context.now = kStart;
  TimelineEvent e;
  e.kind = EventKind::kImpact;
  e.text = "latency increased a lot after responder3 forgot to drain node 4";
  for (auto _ : state) benchmark::DoNotOptimize(reviewer.review_entry(e, context).data());
}
BENCHMARK(BM_ReviewEntry)->Unit(benchmark::kMicrosecond);

const std::string kBody =
    "token=legacy&team_id=T0TEAM&team_domain=acme&channel_id=C0INCIDENT&channel_name=incident"
    "&user_id=U0ALICE&user_name=alice&command=%2Ftimeline&text=14%3A05+%23detected+p99+latency+"
    "of+checkout+rose+from+300+ms+to+1.2+s+%3C%40U0BOB%7Cbob%3E&response_url=https%3A%2F%2F"
    "hooks.slack.invalid%2Fcommands%2F1&trigger_id=1.2.3";

// Everything a slash command costs before the store: signature, form, translation, grammar.
void BM_SlashCommandToParsedCommand(benchmark::State& state) {
  const auto now = std::chrono::system_clock::now();
  const std::string ts = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  const std::string signature = slack::compute_signature("secret", ts, kBody);
  const date::time_zone* zone = date::locate_zone("Europe/Berlin");
  const Timestamp received = std::chrono::time_point_cast<std::chrono::milliseconds>(now);
  for (auto _ : state) {
    if (slack::verify_request("secret", ts, signature, kBody, now) != slack::VerifyResult::kOk) {
      state.SkipWithError("signature did not verify");
      break;
    }
    auto form = slack::parse_form(kBody);
    auto command = slack::to_invocation(*form.form, received);
    const Invocation& inv = command.command->invocation;
    grammar::ParseContext ctx;
    ctx.now = received;
    ctx.zone = zone;
    benchmark::DoNotOptimize(grammar::parse(inv.command, inv.text, ctx));
  }
}
BENCHMARK(BM_SlashCommandToParsedCommand)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace scribe

BENCHMARK_MAIN();
