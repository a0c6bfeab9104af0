// Arbitrary incident records for the fuzz targets that take one (draft_render, review):
// any incident, events of any kind at any time (the clock's extremes included: the store
// keeps whatever the adapters took), notes in every section, action items in every state
// with an audit trail of any changes, people with and without ids. Single-threaded.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <date/date.h>

#include "fuzz/fuzz_support.h"
#include "fuzz/text_checks.h"
#include "postmortem/draft.h"
#include "storage/model.h"

namespace scribe::fuzz {

inline const Timestamp kYear0 = Timestamp{date::sys_days{date::year{0} / 1 / 1}};
inline const Timestamp kYear10000 = Timestamp{date::sys_days{date::year{10000} / 1 / 1}};

class RecordMaker {
 public:
  using Ms = std::chrono::milliseconds;
  explicit RecordMaker(FuzzedDataProvider& in) : in_(in) {}

  bool all_valid_utf8 = true;

  Timestamp time() {
    switch (in_.ConsumeIntegralInRange(0, 3)) {
      case 0:  // around the incident: the common case
        return now() + Ms{in_.ConsumeIntegralInRange<std::int64_t>(
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
        return now() + std::chrono::seconds{in_.ConsumeIntegral<std::int32_t>()};
    }
  }

  std::optional<Timestamp> maybe_time() {
    if (in_.ConsumeBool()) return time();
    return std::nullopt;
  }

  std::string text(std::size_t max = 120) {
    std::string s = in_.ConsumeRandomLengthString(max);
    if (!valid_utf8(s)) all_valid_utf8 = false;
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
    if (in_.ConsumeBool()) inc.postmortem_owner = person();
    inc.postmortem_status = in_.PickValueInArray(
        {PostmortemStatus::kDraft, PostmortemStatus::kInReview, PostmortemStatus::kFinal});
    if (in_.ConsumeIntegralInRange(0, 3) == 0) inc.closed_anyway = text(200);
    const int approvals = in_.ConsumeIntegralInRange(0, 3);
    for (int i = 0; i < approvals; ++i) r.approvals.push_back(Approval{inc.id, person(), time()});

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

}  // namespace scribe::fuzz
