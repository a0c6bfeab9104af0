// Rows to model objects, shared by the SQLite and PostgreSQL transactions: both read the
// same columns in the same order, and their statement types answer the same accessors
// (i64, text, opt_text, time, opt_time, is_null), so one copy of each mapping serves both.
// A stored value that is not a known enum name is a StoreError.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "storage/model.h"
#include "storage/store.h"

namespace scribe::rows {

// Links as stored: a JSON array, NULL (nullopt) for none.
std::optional<std::string> links_json(const std::vector<EventLink>& links);
// The links of a stored array; a row that does not parse (written by hand, say) loses its
// links rather than the event.
std::vector<EventLink> links_from(const std::string& text);

template <typename E, typename Parse>
E parse_enum(const std::string& s, Parse parse) {
  auto v = parse(s);
  if (!v) throw StoreError(fmt::format("unknown stored value '{}'", s));
  return *v;
}

inline constexpr std::string_view kIncidentColumns =
    "id, platform, workspace, channel, title, severity, status, commander_id, commander_name, "
    "declared_at, mitigated_at, resolved_at, closed_at, postmortem_owner_id, "
    "postmortem_owner_name, "
    "postmortem_status, closed_anyway";
inline constexpr std::string_view kEventColumns =
    "id, incident_id, seq, kind, occurred_at, recorded_at, author_id, author_name, text, deleted, "
    "revision, links";
inline constexpr std::string_view kOutboxColumns =
    "id, platform, workspace, channel, content, thread_parent, dedupe_key, status, attempts, "
    "created_at, next_attempt_at, sent_at, delivered_id, last_error, kind, in_doubt";
// A channel's messages go out in the order they were written: only the oldest pending
// message of each channel is eligible (a thread's parent is always older than its replies).
// Fetches form a lane of their own in each channel: reading a marked message back neither
// waits behind the channel's posts nor holds them up. The outbox row is named `o`.
inline constexpr std::string_view kHeadOfChannel =
    "NOT EXISTS (SELECT 1 FROM outbox e WHERE e.status='pending' AND e.platform=o.platform AND "
    "e.workspace=o.workspace AND e.channel=o.channel AND (e.kind='fetch') = (o.kind='fetch') "
    "AND e.id < o.id)";

// The SET list of a claim (binds: the owner twice, then the lease's end). A job claimed
// while another owner's claim is on it is in doubt: that owner may have died after the
// platform took the job and before it recorded so.
inline constexpr std::string_view kClaimAssignments =
    "in_doubt = CASE WHEN claimed_by IS NOT NULL AND claimed_by <> ? THEN 1 ELSE in_doubt END, "
    "claimed_by=?, claim_expires_at=?";

// An incident's DraftVersion in one statement (binds: the incident twice): its row of
// draft_versions (kept by the schema's triggers), its highest event number (a new event
// moves it, found in the (incident_id, seq) index like the event cap's count), and the row
// of incident 0, which stands for what related incidents are made from.
inline constexpr std::string_view kDraftVersionQuery =
    "SELECT (SELECT version FROM draft_versions WHERE incident_id=?), "
    "(SELECT COALESCE(MAX(seq), 0) FROM events WHERE incident_id=?), "
    "(SELECT version FROM draft_versions WHERE incident_id=0)";

inline constexpr std::string_view kActionColumns =
    "id, incident_id, seq, text, owner_id, owner_name, due, kind, status, created_by_id, "
    "created_by_name, created_at, done_at, done_by_id, done_by_name, snoozed_until, drop_reason, "
    "tracker_key, tracker_url";

template <typename Row>
Incident read_incident(const Row& s) {
  Incident i;
  i.id = s.i64(0);
  i.channel = ChannelRef{s.text(1), s.text(2), s.text(3)};
  i.title = s.text(4);
  i.severity = static_cast<Severity>(s.i64(5));
  i.status = parse_enum<IncidentStatus>(s.text(6), incident_status_from_string);
  i.commander = Person{s.text(7), s.text(8)};
  i.declared_at = s.time(9);
  i.mitigated_at = s.opt_time(10);
  i.resolved_at = s.opt_time(11);
  i.closed_at = s.opt_time(12);
  if (!s.is_null(13)) i.postmortem_owner = Person{s.text(13), s.text(14)};
  i.postmortem_status = parse_enum<PostmortemStatus>(s.text(15), postmortem_status_from_string);
  i.closed_anyway = s.opt_text(16);
  return i;
}

template <typename Row>
TimelineEvent read_event(const Row& s) {
  TimelineEvent e;
  e.id = s.i64(0);
  e.incident_id = s.i64(1);
  e.seq = static_cast<int>(s.i64(2));
  e.kind = parse_enum<EventKind>(s.text(3), event_kind_from_string);
  e.occurred_at = s.time(4);
  e.recorded_at = s.time(5);
  e.author = Person{s.text(6), s.text(7)};
  e.text = s.text(8);
  e.deleted = s.i64(9) != 0;
  e.revision = static_cast<int>(s.i64(10));
  e.links = links_from(s.text(11));
  return e;
}

template <typename Row>
OutboxMessage read_outbox(const Row& s) {
  OutboxMessage m;
  m.id = s.i64(0);
  m.channel = ChannelRef{s.text(1), s.text(2), s.text(3)};
  m.content = s.text(4);
  if (!s.is_null(5)) m.thread_parent = s.i64(5);
  m.dedupe_key = s.text(6);
  m.status = parse_enum<OutboxStatus>(s.text(7), outbox_status_from_string);
  m.attempts = static_cast<int>(s.i64(8));
  m.created_at = s.time(9);
  m.next_attempt_at = s.time(10);
  m.sent_at = s.opt_time(11);
  m.delivered_id = s.text(12);
  m.last_error = s.text(13);
  m.kind = parse_enum<JobKind>(s.text(14), job_kind_from_string);
  m.in_doubt = s.i64(15) != 0;
  return m;
}

// The jobs an UPDATE … RETURNING of kOutboxColumns claimed, by id (RETURNING keeps no order).
template <typename Stmt>
std::vector<OutboxMessage> claimed_jobs(Stmt& s) {
  std::vector<OutboxMessage> out;
  while (s.step()) out.push_back(read_outbox(s));
  std::sort(out.begin(), out.end(),
            [](const OutboxMessage& a, const OutboxMessage& b) { return a.id < b.id; });
  return out;
}

template <typename Row>
ActionItem read_action(const Row& s) {
  ActionItem a;
  a.id = s.i64(0);
  a.incident_id = s.i64(1);
  a.seq = static_cast<int>(s.i64(2));
  a.text = s.text(3);
  if (!s.is_null(4)) a.owner = Person{s.text(4), s.text(5)};
  a.due = s.opt_text(6);
  a.kind = parse_enum<ActionKind>(s.text(7), action_kind_from_string);
  a.status = parse_enum<ActionStatus>(s.text(8), action_status_from_string);
  a.created_by = Person{s.text(9), s.text(10)};
  a.created_at = s.time(11);
  a.done_at = s.opt_time(12);
  if (!s.is_null(13)) a.done_by = Person{s.text(13), s.text(14)};
  a.snoozed_until = s.opt_time(15);
  a.drop_reason = s.opt_text(16);
  a.tracker_key = s.opt_text(17);
  a.tracker_url = s.text(18);
  return a;
}

// The row of kDraftVersionQuery; none for a store whose schema keeps no versions.
template <typename Row>
std::optional<DraftVersion> read_draft_version(const Row& s) {
  if (s.is_null(0) || s.is_null(2)) return std::nullopt;
  return DraftVersion{s.i64(0), s.i64(1), s.i64(2)};
}

}  // namespace scribe::rows
