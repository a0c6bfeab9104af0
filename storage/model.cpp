#include "storage/model.h"

#include <array>
#include <cctype>
#include <charconv>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "util/strings.h"

namespace scribe {
namespace {

template <typename E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr NameTable<Severity, 4> kSeverities{{
    {Severity::kSev1, "sev1"},
    {Severity::kSev2, "sev2"},
    {Severity::kSev3, "sev3"},
    {Severity::kSev4, "sev4"},
}};
constexpr NameTable<IncidentStatus, 4> kStatuses{{
    {IncidentStatus::kOpen, "open"},
    {IncidentStatus::kMitigated, "mitigated"},
    {IncidentStatus::kResolved, "resolved"},
    {IncidentStatus::kClosed, "closed"},
}};
constexpr NameTable<EventKind, 13> kEventKinds{{
    {EventKind::kNote, "note"},
    {EventKind::kDetected, "detected"},
    {EventKind::kAlert, "alert"},
    {EventKind::kAction, "action"},
    {EventKind::kComms, "comms"},
    {EventKind::kImpact, "impact"},
    {EventKind::kDeclared, "declared"},
    {EventKind::kSeverityChanged, "severity"},
    {EventKind::kCommanderChanged, "commander"},
    {EventKind::kMitigated, "mitigated"},
    {EventKind::kResolved, "resolved"},
    {EventKind::kReopened, "reopened"},
    {EventKind::kClosed, "closed"},
}};
constexpr NameTable<NoteSection, 12> kSections{{
    {NoteSection::kSummary, "summary"},
    {NoteSection::kImpact, "impact"},
    {NoteSection::kCause, "cause"},
    {NoteSection::kWhy, "why"},
    {NoteSection::kWentWell, "went-well"},
    {NoteSection::kWentWrong, "went-wrong"},
    {NoteSection::kLucky, "lucky"},
    {NoteSection::kLesson, "lesson"},
    {NoteSection::kTrigger, "trigger"},
    {NoteSection::kDetection, "detection"},
    {NoteSection::kResolution, "resolution"},
    {NoteSection::kLink, "link"},
}};
constexpr NameTable<PostmortemStatus, 3> kPostmortemStatuses{{
    {PostmortemStatus::kDraft, "draft"},
    {PostmortemStatus::kInReview, "in_review"},
    {PostmortemStatus::kFinal, "final"},
}};

constexpr NameTable<ActionKind, 5> kActionKinds{{
    {ActionKind::kNone, "none"},
    {ActionKind::kDetect, "detect"},
    {ActionKind::kMitigate, "mitigate"},
    {ActionKind::kPrevent, "prevent"},
    {ActionKind::kProcess, "process"},
}};
constexpr NameTable<ActionStatus, 3> kActionStatuses{{
    {ActionStatus::kOpen, "open"},
    {ActionStatus::kDone, "done"},
    {ActionStatus::kDropped, "dropped"},
}};

constexpr NameTable<OutboxStatus, 3> kOutboxStatuses{{
    {OutboxStatus::kPending, "pending"},
    {OutboxStatus::kSent, "sent"},
    {OutboxStatus::kFailed, "failed"},
}};

constexpr NameTable<JobKind, 8> kJobKinds{{
    {JobKind::kPost, "post"},
    {JobKind::kUpdate, "update"},
    {JobKind::kFetch, "fetch"},
    {JobKind::kJoin, "join"},
    {JobKind::kDirect, "direct"},
    {JobKind::kTrackCreate, "track_create"},
    {JobKind::kTrackState, "track_state"},
    {JobKind::kTrackRefresh, "track_refresh"},
}};

template <typename E, std::size_t N>
std::string_view name_of(const NameTable<E, N>& table, E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "unknown";
}

template <typename E, std::size_t N>
std::optional<E> value_of(const NameTable<E, N>& table, std::string_view name) {
  const std::string wanted = lower(name);
  for (const auto& [e, n] : table) {
    if (n == wanted) return e;
  }
  return std::nullopt;
}

}  // namespace

const Person& postmortem_owner_of(const Incident& i) {
  const auto& named = i.postmortem_owner;
  if (named && (!named->id.empty() || !named->name.empty())) return *named;
  return i.commander;
}

bool is_milestone(EventKind kind) {
  switch (kind) {
    case EventKind::kDeclared:
    case EventKind::kSeverityChanged:
    case EventKind::kCommanderChanged:
    case EventKind::kMitigated:
    case EventKind::kResolved:
    case EventKind::kReopened:
    case EventKind::kClosed:
      return true;
    default:
      return false;
  }
}

std::string_view to_string(Severity s) { return name_of(kSeverities, s); }
std::string_view to_string(IncidentStatus s) { return name_of(kStatuses, s); }
std::string_view to_string(PostmortemStatus s) { return name_of(kPostmortemStatuses, s); }
std::string_view to_string(EventKind k) { return name_of(kEventKinds, k); }
std::string_view to_string(NoteSection s) { return name_of(kSections, s); }
std::string_view to_string(ActionKind k) { return name_of(kActionKinds, k); }
std::string_view to_string(ActionStatus s) { return name_of(kActionStatuses, s); }
std::string_view to_string(OutboxStatus s) { return name_of(kOutboxStatuses, s); }
std::string_view to_string(JobKind k) { return name_of(kJobKinds, k); }

namespace {
constexpr NameTable<EventLink::Kind, 3> kLinkKinds{{
    {EventLink::Kind::kMessage, "message"},
    {EventLink::Kind::kFile, "file"},
    {EventLink::Kind::kImage, "image"},
}};
}  // namespace

std::string_view to_string(EventLink::Kind k) { return name_of(kLinkKinds, k); }
std::optional<EventLink::Kind> event_link_kind_from_string(std::string_view s) {
  return value_of(kLinkKinds, s);
}

std::optional<Severity> severity_from_string(std::string_view s) {
  std::string v = lower(s);
  // "sev-2" and "sev_2" are how people write it; a bare "-1" is not a severity.
  if (v.starts_with("sev")) {
    v.erase(0, 3);
    if (!v.empty() && (v[0] == '-' || v[0] == '_')) v.erase(0, 1);
  }
  if (v.size() == 1 && v[0] >= '1' && v[0] <= '4') return static_cast<Severity>(v[0] - '0');
  return std::nullopt;
}
std::optional<PostmortemStatus> postmortem_status_from_string(std::string_view s) {
  return value_of(kPostmortemStatuses, s);
}
std::optional<IncidentStatus> incident_status_from_string(std::string_view s) {
  return value_of(kStatuses, s);
}
std::optional<EventKind> event_kind_from_string(std::string_view s) {
  return value_of(kEventKinds, s);
}
std::optional<NoteSection> note_section_from_string(std::string_view s) {
  return value_of(kSections, s);
}
std::optional<ActionKind> action_kind_from_string(std::string_view s) {
  return value_of(kActionKinds, s);
}
std::optional<ActionStatus> action_status_from_string(std::string_view s) {
  return value_of(kActionStatuses, s);
}

std::optional<OutboxStatus> outbox_status_from_string(std::string_view s) {
  return value_of(kOutboxStatuses, s);
}

std::optional<JobKind> job_kind_from_string(std::string_view s) { return value_of(kJobKinds, s); }

std::string incident_ref(IncidentId id) { return fmt::format("INC-{}", id); }

std::optional<IncidentId> parse_incident_ref(std::string_view s) {
  std::string v = lower(s);
  std::string_view digits = v;
  if (digits.starts_with("inc-")) digits.remove_prefix(4);
  if (digits.empty()) return std::nullopt;
  IncidentId id = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || id <= 0) return std::nullopt;
  return id;
}

}  // namespace scribe
