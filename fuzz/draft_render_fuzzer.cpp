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
#include "fuzz/record_maker.h"
#include "fuzz/text_checks.h"
#include "postmortem/draft.h"
#include "postmortem/html.h"
#include "postmortem/json.h"
#include "postmortem/markdown.h"

using namespace scribe;
using namespace std::chrono_literals;
using fuzz::kYear0;
using fuzz::kYear10000;
using fuzz::RecordMaker;

namespace {

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
  // The default template says exactly what the built-in writer it replaced says.
  FUZZ_CHECK(markdown == render_markdown_reference(draft, prefix), markdown);
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
