// The postmortem renderers on arbitrary records: any incident, events of any kind at any
// time (the extremes of the clock included: the store keeps whatever the adapters took),
// notes in every section, action items in every state with an audit trail of any changes.
// The draft assembles and renders as Markdown, JSON and HTML without a crash; the JSON
// parses, has one timeline row per event left after deletions, and writes every time of
// years 0-9999 as ISO 8601; the HTML holds only tags the renderer makes, so no user '<'
// became markup; output from valid UTF-8 is valid UTF-8, the shortened chat draft included.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <date/date.h>
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.h"
#include "fuzz/html_checks.h"
#include "fuzz/text_checks.h"
#include "postmortem/draft.h"
#include "postmortem/html.h"
#include "postmortem/json.h"
#include "postmortem/markdown.h"

using namespace scribe;
using namespace std::chrono_literals;
using Ms = std::chrono::milliseconds;

namespace {

const Timestamp kYear0 = Timestamp{date::sys_days{date::year{0} / 1 / 1}};
const Timestamp kYear10000 = Timestamp{date::sys_days{date::year{10000} / 1 / 1}};

class RecordMaker {
 public:
  explicit RecordMaker(FuzzedDataProvider& in) : in_(in) {}

  bool all_valid_utf8 = true;

  Timestamp time() {
    switch (in_.ConsumeIntegralInRange(0, 3)) {
      case 0:  // around the incident: the common case
        return fuzz::now() + Ms{in_.ConsumeIntegralInRange<std::int64_t>(
                                 -std::chrono::duration_cast<Ms>(std::chrono::days{40}).count(),
                                 std::chrono::duration_cast<Ms>(std::chrono::days{2}).count())};
      case 1:
        return Timestamp{Ms{in_.ConsumeIntegral<std::int64_t>()}};
      case 2: {
        static const std::array<Timestamp, 10> kEdges = {
            Timestamp{Ms{std::numeric_limits<std::int64_t>::min()}},
            Timestamp{Ms{std::numeric_limits<std::int64_t>::max()}},
            Timestamp{Ms{0}},
            Timestamp{Ms{-1}},
            kYear0,
            kYear0 - Ms{1},
            kYear10000,
            kYear10000 - Ms{1},
            Timestamp{date::sys_days{date::year{2404} / 2 / 29}},
            Timestamp{Ms{253402300799999}},
        };
        return in_.PickValueInArray(kEdges);
      }
      default:
        return fuzz::now() + std::chrono::seconds{in_.ConsumeIntegral<std::int32_t>()};
    }
  }

  std::optional<Timestamp> maybe_time() {
    if (in_.ConsumeBool()) return time();
    return std::nullopt;
  }

  std::string text(std::size_t max = 120) {
    std::string s = in_.ConsumeRandomLengthString(max);
    if (!fuzz::valid_utf8(s)) all_valid_utf8 = false;
    return s;
  }

  Person person() {
    switch (in_.ConsumeIntegralInRange(0, 4)) {
      case 0:
        return Person{"U0ALICE", "alice"};
      case 1:
        return Person{"@bob:example.org", "bob"};
      case 2:
        return Person{};
      case 3:
        return Person{"", text(20)};
      default:
        return Person{text(20), text(20)};
    }
  }

  IncidentRecord record() {
    IncidentRecord r;
    Incident& inc = r.incident;
    inc.id = in_.ConsumeIntegral<std::int64_t>();
    inc.channel = ChannelRef{"slack", "T0TEAM", "C0INCIDENT"};
    inc.title = text();
    inc.severity =
        in_.PickValueInArray({Severity::kSev1, Severity::kSev2, Severity::kSev3, Severity::kSev4});
    inc.status = in_.PickValueInArray({IncidentStatus::kOpen, IncidentStatus::kMitigated,
                                       IncidentStatus::kResolved, IncidentStatus::kClosed});
    inc.commander = person();
    inc.declared_at = time();
    inc.mitigated_at = maybe_time();
    inc.resolved_at = maybe_time();
    inc.closed_at = maybe_time();

    const int events = in_.ConsumeIntegralInRange(0, 40);
    for (int i = 0; i < events && in_.remaining_bytes() > 0; ++i) {
      TimelineEvent e;
      e.id = i + 1;
      e.incident_id = inc.id;
      e.seq = in_.ConsumeBool() ? i + 1 : in_.ConsumeIntegral<int>();
      e.kind = static_cast<EventKind>(
          in_.ConsumeIntegralInRange<int>(0, static_cast<int>(EventKind::kClosed)));
      e.occurred_at = time();
      e.recorded_at = time();
      e.author = person();
      e.text = text(300);
      e.deleted = in_.ConsumeIntegralInRange(0, 7) == 0;
      e.revision = in_.ConsumeIntegralInRange(0, 3);
      r.events.push_back(std::move(e));
    }
    const int notes = in_.ConsumeIntegralInRange(0, 24);
    for (int i = 0; i < notes && in_.remaining_bytes() > 0; ++i) {
      Note n;
      n.id = i + 1;
      n.incident_id = inc.id;
      n.section = static_cast<NoteSection>(
          in_.ConsumeIntegralInRange<int>(0, static_cast<int>(NoteSection::kLesson)));
      n.text = text(300);
      n.author = person();
      n.created_at = time();
      r.notes.push_back(std::move(n));
    }
    const int actions = in_.ConsumeIntegralInRange(0, 16);
    for (int i = 0; i < actions && in_.remaining_bytes() > 0; ++i) {
      ActionItem a;
      a.id = i + 1;
      a.incident_id = inc.id;
      a.seq = in_.ConsumeBool() ? i + 1 : in_.ConsumeIntegral<int>();
      a.text = text(200);
      if (in_.ConsumeBool()) a.owner = person();
      if (in_.ConsumeBool()) a.due = in_.ConsumeBool() ? std::string("2026-11-23") : text(12);
      a.kind = static_cast<ActionKind>(
          in_.ConsumeIntegralInRange<int>(0, static_cast<int>(ActionKind::kProcess)));
      a.status =
          in_.PickValueInArray({ActionStatus::kOpen, ActionStatus::kDone, ActionStatus::kDropped});
      if (a.status == ActionStatus::kDropped || in_.ConsumeIntegralInRange(0, 7) == 0) {
        a.drop_reason = text(200);
      }
      a.created_by = person();
      a.created_at = time();
      a.done_at = maybe_time();
      r.actions.push_back(std::move(a));
    }
    // The audit trail: changes to items, of any field, naming items that may not exist.
    const int changes = in_.ConsumeIntegralInRange(0, 24);
    for (int i = 0; i < changes && in_.remaining_bytes() > 0; ++i) {
      ActionRevision c;
      c.seq = in_.ConsumeBool() ? in_.ConsumeIntegralInRange(1, actions + 1)
                                : in_.ConsumeIntegral<int>();
      c.action_id = c.seq;
      c.field = in_.ConsumeBool() ? std::string(in_.PickValueInArray<std::string_view>(
                                        {"text", "owner", "due", "kind", "status"}))
                                  : text(12);
      c.before = text(120);
      c.after = text(120);
      c.changed_by = person();
      c.changed_at = time();
      r.action_history.push_back(std::move(c));
    }
    return r;
  }

 private:
  FuzzedDataProvider& in_;
};

bool iso8601(std::string_view s) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (s.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (kShape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != kShape[i]) return false;
  }
  return true;
}

bool in_four_digit_years(Timestamp t) { return t >= kYear0 && t < kYear10000; }

void check_time(const nlohmann::json& value, Timestamp t, std::string_view what) {
  FUZZ_CHECK(value.is_string(), what);
  if (in_four_digit_years(t)) FUZZ_CHECK(iso8601(value.get<std::string>()), value.dump());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::silence_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  RecordMaker maker(in);
  const std::string_view prefix = in.ConsumeBool() ? "!" : "/";
  const Timestamp generated_at = in.ConsumeBool() ? fuzz::now() : maker.time();
  IncidentRecord record = maker.record();
  const bool valid = maker.all_valid_utf8;

  std::size_t live_events = 0;
  for (const auto& e : record.events) live_events += e.deleted ? 0 : 1;
  const std::size_t actions = record.actions.size();

  const Draft draft = assemble_draft(std::move(record), generated_at);
  FUZZ_CHECK(draft.timeline.size() == live_events, "timeline rows");
  FUZZ_CHECK(draft.duration.count() >= 0, "negative duration");
  for (const KeyDuration& k : draft.durations) {
    if (k.seconds) FUZZ_CHECK(k.seconds->count() >= 0, k.measure);
  }

  const std::string markdown = render_markdown(draft, prefix);
  if (valid) FUZZ_CHECK(fuzz::valid_utf8(markdown), markdown);
  // The shortened chat draft, with a limit from tiny to the chat size.
  const std::size_t max_bytes = in.ConsumeIntegralInRange<std::size_t>(1, kChatDraftBytes);
  const std::string shortened = render_markdown(draft, prefix, max_bytes);
  if (valid) FUZZ_CHECK(fuzz::valid_utf8(shortened), shortened);
  fuzz::check_html(markdown_to_html(shortened), shortened);

  const std::string json_text = render_json(draft, in.ConsumeBool() ? 2 : -1);
  const nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(j.is_object(), json_text);
  FUZZ_CHECK(fuzz::valid_utf8(json_text), json_text);
  FUZZ_CHECK(j["timeline"].is_array() && j["timeline"].size() == live_events, json_text);
  FUZZ_CHECK(j["actions"].is_array() && j["actions"].size() == actions, json_text);
  check_time(j["incident"]["declared_at"], draft.incident.declared_at, json_text);
  check_time(j["generated_at"], draft.generated_at, json_text);
  for (std::size_t i = 0; i < draft.timeline.size(); ++i) {
    check_time(j["timeline"][i]["occurred_at"], draft.timeline[i].event.occurred_at, json_text);
  }

  const std::string fragment = markdown_to_html(markdown);
  fuzz::check_html(fragment, markdown);
  const std::string page = html_page(draft.incident.title, markdown);
  fuzz::check_html(page, markdown);
  if (valid) FUZZ_CHECK(fuzz::valid_utf8(page), markdown);
  return 0;
}
