#include "storage/sqlite_transaction.h"

#include <utility>

#include <nlohmann/json.hpp>

#include "storage/row_readers.h"

namespace scribe::sqlite {

using rows::claimed_jobs;
using rows::kActionColumns;
using rows::kClaimAssignments;
using rows::kEventColumns;
using rows::kHeadOfChannel;
using rows::kIncidentColumns;
using rows::kOutboxColumns;
using rows::links_from;
using rows::links_json;
using rows::parse_enum;
using rows::read_action;
using rows::read_event;
using rows::read_incident;
using rows::read_outbox;

IncidentId SqliteTransaction::insert_incident(const Incident& i) {
  require_writable();
  prepare(
      "INSERT INTO incidents (platform, workspace, channel, title, severity, status, "
      "commander_id, commander_name, declared_at, mitigated_at, resolved_at, closed_at, "
      "postmortem_owner_id, postmortem_owner_name, postmortem_status, closed_anyway) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
      .bind(1, i.channel.platform)
      .bind(2, i.channel.workspace)
      .bind(3, i.channel.channel)
      .bind(4, i.title)
      .bind(5, static_cast<int>(i.severity))
      .bind(6, to_string(i.status))
      .bind(7, i.commander.id)
      .bind(8, i.commander.name)
      .bind(9, i.declared_at)
      .bind(10, i.mitigated_at)
      .bind(11, i.resolved_at)
      .bind(12, i.closed_at)
      .bind_person(13, i.postmortem_owner)
      .bind(15, to_string(i.postmortem_status))
      .bind(16, i.closed_anyway)
      .run();
  return last_id();
}

void SqliteTransaction::update_incident(const Incident& i) {
  require_writable();
  prepare(
      "UPDATE incidents SET title=?, severity=?, status=?, commander_id=?, commander_name=?, "
      "declared_at=?, mitigated_at=?, resolved_at=?, closed_at=?, postmortem_owner_id=?, "
      "postmortem_owner_name=?, postmortem_status=?, closed_anyway=? WHERE id=?")
      .bind(1, i.title)
      .bind(2, static_cast<int>(i.severity))
      .bind(3, to_string(i.status))
      .bind(4, i.commander.id)
      .bind(5, i.commander.name)
      .bind(6, i.declared_at)
      .bind(7, i.mitigated_at)
      .bind(8, i.resolved_at)
      .bind(9, i.closed_at)
      .bind_person(10, i.postmortem_owner)
      .bind(12, to_string(i.postmortem_status))
      .bind(13, i.closed_anyway)
      .bind(14, i.id)
      .run();
}

std::optional<Incident> SqliteTransaction::find_incident(IncidentId id) {
  Stmt s = prepare(fmt::format("SELECT {} FROM incidents WHERE id=?", kIncidentColumns));
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_incident(s);
}

// Every command of a channel starts here; on the writer, the memo answers while no row of
// `incidents` has changed (see WriterMemo).
std::optional<Incident> SqliteTransaction::current_incident(const ChannelRef& c) {
  if (memo_ != nullptr) {
    if (const std::optional<Incident>* known = memo_->current_incident(c)) return *known;
  }
  Stmt s = prepare(
      fmt::format("SELECT {} FROM incidents WHERE platform=? AND workspace=? AND channel=? AND "
                  "status != 'closed' ORDER BY id DESC LIMIT 1",
                  kIncidentColumns));
  s.bind(1, c.platform).bind(2, c.workspace).bind(3, c.channel);
  std::optional<Incident> found;
  if (s.step()) found = read_incident(s);
  if (memo_ != nullptr) memo_->remember_current_incident(c, found);
  return found;
}

std::optional<Incident> SqliteTransaction::latest_incident(const ChannelRef& c) {
  Stmt s =
      prepare(fmt::format("SELECT {} FROM incidents WHERE platform=? AND workspace=? AND channel=? "
                          "ORDER BY id DESC LIMIT 1",
                          kIncidentColumns));
  s.bind(1, c.platform).bind(2, c.workspace).bind(3, c.channel);
  if (!s.step()) return std::nullopt;
  return read_incident(s);
}

std::vector<Incident> SqliteTransaction::list_incidents(int limit) {
  Stmt s =
      prepare(fmt::format("SELECT {} FROM incidents ORDER BY id DESC LIMIT ?", kIncidentColumns));
  s.bind(1, limit);
  std::vector<Incident> out;
  while (s.step()) out.push_back(read_incident(s));
  return out;
}

std::vector<Incident> SqliteTransaction::list_incidents_before(IncidentId before, int limit) {
  Stmt s = prepare(fmt::format("SELECT {} FROM incidents WHERE id < ? ORDER BY id DESC LIMIT ?",
                               kIncidentColumns));
  s.bind(1, before);
  s.bind(2, limit);
  std::vector<Incident> out;
  while (s.step()) out.push_back(read_incident(s));
  return out;
}

// Events and actions are numbered 1, 2, … per incident and never removed (a deletion is a
// flag), so the largest seq is their count, found in the (incident_id, seq) index without
// reading the rows: the check costs the same at 10 events as at 100,000. Notes have no
// seq; their cap is small and counted in their index.
std::int64_t SqliteTransaction::count_in_incident(IncidentId incident, IncidentPart part) {
  std::string_view sql;
  switch (part) {
    case IncidentPart::kEvents:
      return last_event_seq(incident);
    case IncidentPart::kNotes:
      sql = "SELECT COUNT(*) FROM notes WHERE incident_id=?";
      break;
    case IncidentPart::kActions:
      sql = "SELECT COALESCE(MAX(seq), 0) FROM actions WHERE incident_id=?";
      break;
  }
  Stmt s = prepare(sql);
  s.bind(1, incident);
  s.step();
  return s.i64(0);
}

TimelineEvent SqliteTransaction::append_event(TimelineEvent e) {
  require_writable();
  e.seq = last_event_seq(e.incident_id) + 1;
  prepare(
      "INSERT INTO events (incident_id, seq, kind, occurred_at, recorded_at, author_id, "
      "author_name, text, deleted, revision, links) VALUES (?,?,?,?,?,?,?,?,?,?,?)")
      .bind(1, e.incident_id)
      .bind(2, e.seq)
      .bind(3, to_string(e.kind))
      .bind(4, e.occurred_at)
      .bind(5, e.recorded_at)
      .bind(6, e.author.id)
      .bind(7, e.author.name)
      .bind(8, e.text)
      .bind(9, e.deleted ? 1 : 0)
      .bind(10, e.revision)
      .bind(11, links_json(e.links))
      .run();
  e.id = last_id();
  // After the INSERT, whose row made the writer's memo forget every number.
  remember_last_event_seq(e.incident_id, e.seq);
  return e;
}

// A command checks the incident's event cap and then appends: one lookup of the largest seq
// serves both. Kept for this transaction (one write's savepoint, see SqliteStore), in which
// every event is added by append_event, and on the writer in its memo while no other row of
// `events` changes; a rolled-back write discards both.
int SqliteTransaction::last_event_seq(IncidentId incident) {
  if (last_event_seq_ && last_event_seq_->first == incident) return last_event_seq_->second;
  if (memo_ != nullptr) {
    if (const std::optional<int> known = memo_->last_event_seq(incident)) {
      last_event_seq_ = {incident, *known};
      return *known;
    }
  }
  const int seq =
      next_seq("SELECT COALESCE(MAX(seq), 0) FROM events WHERE incident_id=?", incident);
  remember_last_event_seq(incident, seq);
  return seq;
}

std::optional<TimelineEvent> SqliteTransaction::find_event(IncidentId incident, int seq) {
  Stmt s =
      prepare(fmt::format("SELECT {} FROM events WHERE incident_id=? AND seq=?", kEventColumns));
  s.bind(1, incident).bind(2, seq);
  if (!s.step()) return std::nullopt;
  return read_event(s);
}

std::vector<TimelineEvent> SqliteTransaction::events(IncidentId incident, bool include_deleted) {
  Stmt s = prepare(fmt::format(
      "SELECT {} FROM events WHERE incident_id=? AND (deleted=0 OR ?) ORDER BY occurred_at, seq",
      kEventColumns));
  s.bind(1, incident).bind(2, include_deleted ? 1 : 0);
  std::vector<TimelineEvent> out;
  while (s.step()) out.push_back(read_event(s));
  return out;
}

void SqliteTransaction::revise_event(const TimelineEvent& u, const EventRevision& p) {
  require_writable();
  prepare(
      "INSERT INTO event_revisions (event_id, revision, change, kind, occurred_at, text, "
      "changed_by_id, changed_by_name, changed_at) VALUES (?,?,?,?,?,?,?,?,?)")
      .bind(1, u.id)
      .bind(2, p.revision)
      .bind(3, p.change)
      .bind(4, to_string(p.kind))
      .bind(5, p.occurred_at)
      .bind(6, p.text)
      .bind(7, p.changed_by.id)
      .bind(8, p.changed_by.name)
      .bind(9, p.changed_at)
      .run();
  prepare("UPDATE events SET kind=?, occurred_at=?, text=?, deleted=?, revision=? WHERE id=?")
      .bind(1, to_string(u.kind))
      .bind(2, u.occurred_at)
      .bind(3, u.text)
      .bind(4, u.deleted ? 1 : 0)
      .bind(5, u.revision)
      .bind(6, u.id)
      .run();
}

std::vector<EventRevision> SqliteTransaction::revisions(IncidentId incident) {
  Stmt s = prepare(
      "SELECT r.event_id, e.seq, r.revision, r.change, r.kind, r.occurred_at, r.text, "
      "r.changed_by_id, r.changed_by_name, r.changed_at FROM event_revisions r "
      "JOIN events e ON e.id = r.event_id WHERE e.incident_id=? ORDER BY r.id");
  s.bind(1, incident);
  std::vector<EventRevision> out;
  while (s.step()) {
    EventRevision r;
    r.event_id = s.i64(0);
    r.seq = static_cast<int>(s.i64(1));
    r.revision = static_cast<int>(s.i64(2));
    r.change = s.text(3);
    r.kind = parse_enum<EventKind>(s.text(4), event_kind_from_string);
    r.occurred_at = s.time(5);
    r.text = s.text(6);
    r.changed_by = Person{s.text(7), s.text(8)};
    r.changed_at = s.time(9);
    out.push_back(std::move(r));
  }
  return out;
}

void SqliteTransaction::set_channel_zone(const ChannelZone& z) {
  require_writable();
  prepare(
      "INSERT INTO channel_zones (platform, workspace, channel, zone, set_by_id, set_by_name, "
      "set_at) VALUES (?,?,?,?,?,?,?)")
      .bind(1, z.channel.platform)
      .bind(2, z.channel.workspace)
      .bind(3, z.channel.channel)
      .bind(4, z.zone)
      .bind(5, z.set_by.id)
      .bind(6, z.set_by.name)
      .bind(7, z.set_at)
      .run();
}

std::vector<ChannelZone> SqliteTransaction::channel_zones(const ChannelRef& channel) {
  // Every command reads its channel's zone; on the writer the memo answers while no row of
  // `channel_zones` has changed.
  if (memo_ != nullptr) {
    if (const std::vector<ChannelZone>* known = memo_->channel_zones(channel)) return *known;
  }
  Stmt s = prepare(
      "SELECT zone, set_by_id, set_by_name, set_at FROM channel_zones "
      "WHERE platform=? AND workspace=? AND channel=? ORDER BY id");
  s.bind(1, channel.platform).bind(2, channel.workspace).bind(3, channel.channel);
  std::vector<ChannelZone> out;
  while (s.step()) {
    out.push_back(ChannelZone{channel, s.text(0), Person{s.text(1), s.text(2)}, s.time(3)});
  }
  if (memo_ != nullptr) memo_->remember_channel_zones(channel, out);
  return out;
}

void SqliteTransaction::hold_alert(const ChannelRef& channel, const TimelineEvent& a) {
  require_writable();
  prepare("DELETE FROM held_alerts WHERE received_at < ?")
      .bind(1, a.recorded_at - std::chrono::hours(24))
      .run();
  prepare(
      "INSERT INTO held_alerts (platform, workspace, channel, kind, occurred_at, received_at, "
      "author_id, author_name, text, links) VALUES (?,?,?,?,?,?,?,?,?,?)")
      .bind(1, channel.platform)
      .bind(2, channel.workspace)
      .bind(3, channel.channel)
      .bind(4, to_string(a.kind))
      .bind(5, a.occurred_at)
      .bind(6, a.recorded_at)
      .bind(7, a.author.id)
      .bind(8, a.author.name)
      .bind(9, a.text)
      .bind(10, links_json(a.links))
      .run();
}

std::vector<TimelineEvent> SqliteTransaction::take_held_alerts(const ChannelRef& channel,
                                                               Timestamp since) {
  require_writable();
  Stmt s = prepare(
      "SELECT kind, occurred_at, received_at, author_id, author_name, text, links "
      "FROM held_alerts WHERE platform=? AND workspace=? AND channel=? AND occurred_at >= ? "
      "ORDER BY occurred_at, id");
  s.bind(1, channel.platform).bind(2, channel.workspace).bind(3, channel.channel).bind(4, since);
  std::vector<TimelineEvent> out;
  while (s.step()) {
    TimelineEvent e;
    e.kind = parse_enum<EventKind>(s.text(0), event_kind_from_string);
    e.occurred_at = s.time(1);
    e.recorded_at = s.time(2);
    e.author = Person{s.text(3), s.text(4)};
    e.text = s.text(5);
    e.links = links_from(s.text(6));
    out.push_back(std::move(e));
  }
  prepare("DELETE FROM held_alerts WHERE platform=? AND workspace=? AND channel=?")
      .bind(1, channel.platform)
      .bind(2, channel.workspace)
      .bind(3, channel.channel)
      .run();
  return out;
}

namespace {

constexpr std::string_view kPublicationColumns =
    "incident_id, destination, remote_id, url, version, content_sha, published_at";

Publication read_publication(const Stmt& s) {
  return Publication{s.i64(0), s.text(1), s.text(2), s.text(3), s.i64(4), s.text(5), s.time(6)};
}

}  // namespace

std::optional<Publication> SqliteTransaction::find_publication(IncidentId incident,
                                                               std::string_view destination) {
  Stmt s = prepare(fmt::format("SELECT {} FROM publications WHERE incident_id=? AND destination=?",
                               kPublicationColumns));
  s.bind(1, incident).bind(2, destination);
  if (!s.step()) return std::nullopt;
  return read_publication(s);
}

void SqliteTransaction::save_publication(const Publication& p) {
  require_writable();
  prepare(fmt::format("INSERT OR REPLACE INTO publications ({}) VALUES (?,?,?,?,?,?,?)",
                      kPublicationColumns))
      .bind(1, p.incident_id)
      .bind(2, p.destination)
      .bind(3, p.remote_id)
      .bind(4, p.url)
      .bind(5, p.version)
      .bind(6, p.content_sha)
      .bind(7, p.published_at)
      .run();
}

std::vector<Publication> SqliteTransaction::publications(IncidentId incident) {
  Stmt s = prepare(fmt::format(
      "SELECT {} FROM publications WHERE incident_id=? ORDER BY destination", kPublicationColumns));
  s.bind(1, incident);
  std::vector<Publication> out;
  while (s.step()) out.push_back(read_publication(s));
  return out;
}

void SqliteTransaction::add_approval(const Approval& a) {
  require_writable();
  prepare(
      "INSERT INTO postmortem_approvals (incident_id, by_id, by_name, approved_at) "
      "VALUES (?,?,?,?)")
      .bind(1, a.incident_id)
      .bind(2, a.by.id)
      .bind(3, a.by.name)
      .bind(4, a.at)
      .run();
}

std::vector<Approval> SqliteTransaction::approvals(IncidentId incident) {
  Stmt s = prepare(
      "SELECT incident_id, by_id, by_name, approved_at FROM postmortem_approvals "
      "WHERE incident_id=? ORDER BY id");
  s.bind(1, incident);
  std::vector<Approval> out;
  while (s.step()) out.push_back(Approval{s.i64(0), Person{s.text(1), s.text(2)}, s.time(3)});
  return out;
}

Note SqliteTransaction::add_note(Note n) {
  require_writable();
  prepare(
      "INSERT INTO notes (incident_id, section, text, author_id, author_name, created_at) "
      "VALUES (?,?,?,?,?,?)")
      .bind(1, n.incident_id)
      .bind(2, to_string(n.section))
      .bind(3, n.text)
      .bind(4, n.author.id)
      .bind(5, n.author.name)
      .bind(6, n.created_at)
      .run();
  n.id = last_id();
  return n;
}

std::vector<Note> SqliteTransaction::notes(IncidentId incident) {
  Stmt s = prepare(
      "SELECT id, incident_id, section, text, author_id, author_name, created_at FROM notes "
      "WHERE incident_id=? ORDER BY id");
  s.bind(1, incident);
  std::vector<Note> out;
  while (s.step()) {
    Note n;
    n.id = s.i64(0);
    n.incident_id = s.i64(1);
    n.section = parse_enum<NoteSection>(s.text(2), note_section_from_string);
    n.text = s.text(3);
    n.author = Person{s.text(4), s.text(5)};
    n.created_at = s.time(6);
    out.push_back(std::move(n));
  }
  return out;
}

ActionItem SqliteTransaction::add_action(ActionItem a) {
  require_writable();
  a.seq =
      next_seq("SELECT COALESCE(MAX(seq), 0) + 1 FROM actions WHERE incident_id=?", a.incident_id);
  Stmt s = prepare(
      "INSERT INTO actions (incident_id, seq, text, owner_id, owner_name, due, kind, status, "
      "created_by_id, created_by_name, created_at, done_at, done_by_id, done_by_name, "
      "snoozed_until, drop_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, a.incident_id).bind(2, a.seq).bind(3, a.text);
  s.bind_person(4, a.owner);
  s.bind(6, a.due)
      .bind(7, to_string(a.kind))
      .bind(8, to_string(a.status))
      .bind(9, a.created_by.id)
      .bind(10, a.created_by.name)
      .bind(11, a.created_at)
      .bind(12, a.done_at);
  s.bind_person(13, a.done_by);
  s.bind(15, a.snoozed_until).bind(16, a.drop_reason);
  s.run();
  a.id = last_id();
  return a;
}

void SqliteTransaction::update_action(const ActionItem& a) {
  require_writable();
  Stmt s = prepare(
      "UPDATE actions SET text=?, owner_id=?, owner_name=?, due=?, kind=?, status=?, done_at=?, "
      "done_by_id=?, done_by_name=?, snoozed_until=?, drop_reason=?, tracker_key=?, tracker_url=? "
      "WHERE id=?");
  s.bind(1, a.text);
  s.bind_person(2, a.owner);
  s.bind(4, a.due).bind(5, to_string(a.kind)).bind(6, to_string(a.status)).bind(7, a.done_at);
  s.bind_person(8, a.done_by);
  s.bind(10, a.snoozed_until)
      .bind(11, a.drop_reason)
      .bind(12, a.tracker_key)
      .bind(13, a.tracker_url)
      .bind(14, a.id)
      .run();
}

void SqliteTransaction::revise_action(const ActionItem& a,
                                      const std::vector<ActionRevision>& changes) {
  update_action(a);
  for (const ActionRevision& r : changes) {
    prepare(
        "INSERT INTO action_revisions (action_id, field, before, after, changed_by_id, "
        "changed_by_name, changed_at) VALUES (?,?,?,?,?,?,?)")
        .bind(1, a.id)
        .bind(2, r.field)
        .bind(3, r.before)
        .bind(4, r.after)
        .bind(5, r.changed_by.id)
        .bind(6, r.changed_by.name)
        .bind(7, r.changed_at)
        .run();
  }
}

std::vector<ActionRevision> SqliteTransaction::action_revisions(IncidentId incident) {
  Stmt s = prepare(
      "SELECT r.action_id, a.seq, r.field, r.before, r.after, r.changed_by_id, "
      "r.changed_by_name, r.changed_at FROM action_revisions r "
      "JOIN actions a ON a.id = r.action_id WHERE a.incident_id=? ORDER BY r.id");
  s.bind(1, incident);
  std::vector<ActionRevision> out;
  while (s.step()) {
    ActionRevision r;
    r.action_id = s.i64(0);
    r.seq = static_cast<int>(s.i64(1));
    r.field = s.text(2);
    r.before = s.text(3);
    r.after = s.text(4);
    r.changed_by = Person{s.text(5), s.text(6)};
    r.changed_at = s.time(7);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<ActionItem> SqliteTransaction::open_actions_owned_by(const Person& owner,
                                                                 std::string_view platform) {
  Stmt s = prepare(fmt::format(
      "SELECT {} FROM actions WHERE status='open' AND "
      "((owner_id != '' AND owner_id = ?) OR (owner_id = '' AND owner_name = ?)) AND "
      "incident_id IN (SELECT id FROM incidents WHERE platform = ?) ORDER BY incident_id, seq",
      kActionColumns));
  s.bind(1, owner.id).bind(2, owner.name).bind(3, platform);
  std::vector<ActionItem> out;
  while (s.step()) out.push_back(read_action(s));
  return out;
}

std::optional<ActionItem> SqliteTransaction::find_action_by_tracker_key(std::string_view key) {
  Stmt s = prepare(fmt::format("SELECT {} FROM actions WHERE tracker_key=?", kActionColumns));
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return read_action(s);
}

std::vector<ActionItem> SqliteTransaction::open_tracked_actions(std::int64_t after, int limit) {
  Stmt s = prepare(
      fmt::format("SELECT {} FROM actions WHERE status='open' AND tracker_key IS NOT NULL AND id>? "
                  "ORDER BY id LIMIT ?",
                  kActionColumns));
  s.bind(1, after).bind(2, limit);
  std::vector<ActionItem> out;
  while (s.step()) out.push_back(read_action(s));
  return out;
}

std::optional<ActionItem> SqliteTransaction::find_action(IncidentId incident, int seq) {
  Stmt s =
      prepare(fmt::format("SELECT {} FROM actions WHERE incident_id=? AND seq=?", kActionColumns));
  s.bind(1, incident).bind(2, seq);
  if (!s.step()) return std::nullopt;
  return read_action(s);
}

std::vector<ActionItem> SqliteTransaction::actions(IncidentId incident) {
  Stmt s = prepare(
      fmt::format("SELECT {} FROM actions WHERE incident_id=? ORDER BY seq", kActionColumns));
  s.bind(1, incident);
  std::vector<ActionItem> out;
  while (s.step()) out.push_back(read_action(s));
  return out;
}

void SqliteTransaction::save_draft(IncidentId incident, Timestamp created_at,
                                   const std::string& markdown) {
  require_writable();
  prepare("INSERT INTO drafts (incident_id, created_at, markdown) VALUES (?,?,?)")
      .bind(1, incident)
      .bind(2, created_at)
      .bind(3, markdown)
      .run();
}

std::optional<std::string> SqliteTransaction::latest_draft(IncidentId incident) {
  Stmt s = prepare("SELECT markdown FROM drafts WHERE incident_id=? ORDER BY id DESC LIMIT 1");
  s.bind(1, incident);
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

std::optional<DraftVersion> SqliteTransaction::draft_version(IncidentId incident) {
  if (incident <= 0) return std::nullopt;
  Stmt s = prepare(rows::kDraftVersionQuery);
  s.bind(1, incident).bind(2, incident);
  if (!s.step()) return std::nullopt;
  return rows::read_draft_version(s);
}

std::vector<Incident> SqliteTransaction::incidents_with_status(IncidentStatus status) {
  Stmt s =
      prepare(fmt::format("SELECT {} FROM incidents WHERE status=? ORDER BY id", kIncidentColumns));
  s.bind(1, to_string(status));
  std::vector<Incident> out;
  while (s.step()) out.push_back(read_incident(s));
  return out;
}

std::vector<ActionItem> SqliteTransaction::open_actions_with_due_date() {
  Stmt s = prepare(
      fmt::format("SELECT {} FROM actions WHERE status='open' AND due IS NOT NULL ORDER BY id",
                  kActionColumns));
  std::vector<ActionItem> out;
  while (s.step()) out.push_back(read_action(s));
  return out;
}

std::vector<ActionItem> SqliteTransaction::open_actions() {
  Stmt s = prepare(
      fmt::format("SELECT {} FROM actions WHERE status='open' ORDER BY id", kActionColumns));
  std::vector<ActionItem> out;
  while (s.step()) out.push_back(read_action(s));
  return out;
}

std::vector<ActionItem> SqliteTransaction::find_actions(const std::optional<std::string>& owner,
                                                        std::optional<ActionStatus> status,
                                                        int limit) {
  Stmt s = prepare(
      fmt::format("SELECT {} FROM actions WHERE (?1 IS NULL OR owner_id=?1 OR owner_name=?1) AND "
                  "(?2 IS NULL OR status=?2) ORDER BY due IS NULL, due, id LIMIT ?3",
                  kActionColumns));
  s.bind(1, owner);
  s.bind(2, status ? std::optional<std::string>(to_string(*status)) : std::nullopt);
  s.bind(3, limit);
  std::vector<ActionItem> out;
  while (s.step()) out.push_back(read_action(s));
  return out;
}

TrendsRows SqliteTransaction::trends_rows(Timestamp since) {
  TrendsRows rows;
  {
    Stmt s = prepare(
        fmt::format("SELECT {} FROM incidents WHERE declared_at>=? ORDER BY id", kIncidentColumns));
    s.bind(1, since);
    while (s.step()) rows.incidents.push_back(read_incident(s));
  }
  {
    Stmt s = prepare(
        fmt::format("SELECT {} FROM actions WHERE incident_id IN (SELECT id FROM incidents WHERE "
                    "declared_at>=?) ORDER BY id",
                    kActionColumns));
    s.bind(1, since);
    while (s.step()) rows.actions.push_back(read_action(s));
  }
  {
    Stmt s = prepare(
        "SELECT id, incident_id, section, text, author_id, author_name, created_at FROM notes "
        "WHERE section=? AND incident_id IN (SELECT id FROM incidents WHERE declared_at>=?) "
        "ORDER BY id");
    s.bind(1, to_string(NoteSection::kCause)).bind(2, since);
    while (s.step()) {
      Note n;
      n.id = s.i64(0);
      n.incident_id = s.i64(1);
      n.section = NoteSection::kCause;
      n.text = s.text(3);
      n.author = Person{s.text(4), s.text(5)};
      n.created_at = s.time(6);
      rows.causes.push_back(std::move(n));
    }
  }
  const auto earliest = [&](std::vector<EventKind> kinds,
                            std::vector<std::pair<IncidentId, Timestamp>>& out) {
    std::string in;
    for (std::size_t i = 0; i < kinds.size(); ++i) in += i ? ",?" : "?";
    Stmt s = prepare(fmt::format(
        "SELECT incident_id, MIN(occurred_at) FROM events WHERE deleted=0 AND kind IN ({}) AND "
        "incident_id IN (SELECT id FROM incidents WHERE declared_at>=?) GROUP BY incident_id "
        "ORDER BY incident_id",
        in));
    int i = 1;
    for (EventKind k : kinds) s.bind(i++, to_string(k));
    s.bind(i, since);
    while (s.step()) out.emplace_back(s.i64(0), s.time(1));
  };
  earliest({EventKind::kImpact}, rows.impact_started);
  earliest({EventKind::kDetected, EventKind::kAlert}, rows.detected);
  return rows;
}

TrendsRows SqliteTransaction::cause_rows(IncidentId before) {
  TrendsRows rows;
  const std::string with_cause =
      "(SELECT DISTINCT incident_id FROM notes WHERE section=? AND incident_id<?)";
  const std::string cause = std::string(to_string(NoteSection::kCause));
  {
    Stmt s = prepare(fmt::format("SELECT {} FROM incidents WHERE id IN {} ORDER BY id",
                                 kIncidentColumns, with_cause));
    s.bind(1, cause).bind(2, before);
    while (s.step()) rows.incidents.push_back(read_incident(s));
  }
  {
    Stmt s = prepare(
        fmt::format("SELECT {} FROM actions WHERE status=? AND incident_id IN {} ORDER BY id",
                    kActionColumns, with_cause));
    s.bind(1, to_string(ActionStatus::kOpen)).bind(2, cause).bind(3, before);
    while (s.step()) rows.actions.push_back(read_action(s));
  }
  {
    Stmt s = prepare(
        "SELECT id, incident_id, text, author_id, author_name, created_at FROM notes "
        "WHERE section=? AND incident_id<? ORDER BY id");
    s.bind(1, cause).bind(2, before);
    while (s.step()) {
      Note n;
      n.id = s.i64(0);
      n.incident_id = s.i64(1);
      n.section = NoteSection::kCause;
      n.text = s.text(2);
      n.author = Person{s.text(3), s.text(4)};
      n.created_at = s.time(5);
      rows.causes.push_back(std::move(n));
    }
  }
  return rows;
}

std::optional<ActionItem> SqliteTransaction::find_action_by_id(std::int64_t id) {
  Stmt s = prepare(fmt::format("SELECT {} FROM actions WHERE id=?", kActionColumns));
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_action(s);
}

std::vector<Incident> SqliteTransaction::incidents_resolved_between(Timestamp from, Timestamp to) {
  Stmt s = prepare(
      fmt::format("SELECT {} FROM incidents WHERE resolved_at BETWEEN ? AND ? AND status IN "
                  "('resolved', 'closed') ORDER BY resolved_at, id",
                  kIncidentColumns));
  s.bind(1, from).bind(2, to);
  std::vector<Incident> out;
  while (s.step()) out.push_back(read_incident(s));
  return out;
}

std::int64_t SqliteTransaction::enqueue(OutboxMessage m) {
  require_writable();
  if (!m.dedupe_key.empty()) {
    Stmt s = prepare("SELECT id FROM outbox WHERE dedupe_key=?");
    s.bind(1, m.dedupe_key);
    if (s.step()) return s.i64(0);
  }
  Stmt s = prepare(
      "INSERT INTO outbox (platform, workspace, channel, content, thread_parent, dedupe_key, "
      "status, attempts, created_at, next_attempt_at, sent_at, delivered_id, last_error, kind) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, m.channel.platform).bind(2, m.channel.workspace).bind(3, m.channel.channel);
  s.bind(4, m.content).bind(5, m.thread_parent);
  if (m.dedupe_key.empty()) {
    s.bind_null(6);
  } else {
    s.bind(6, m.dedupe_key);
  }
  s.bind(7, to_string(m.status))
      .bind(8, m.attempts)
      .bind(9, m.created_at)
      .bind(10, m.next_attempt_at)
      .bind(11, m.sent_at)
      .bind(12, m.delivered_id)
      .bind(13, m.last_error)
      .bind(14, to_string(m.kind))
      .run();
  return last_id();
}

std::optional<OutboxMessage> SqliteTransaction::find_outbox(std::int64_t id) {
  Stmt s = prepare(fmt::format("SELECT {} FROM outbox WHERE id=?", kOutboxColumns));
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_outbox(s);
}

std::optional<OutboxMessage> SqliteTransaction::find_outbox_by_key(std::string_view key) {
  Stmt s = prepare(fmt::format("SELECT {} FROM outbox WHERE dedupe_key=?", kOutboxColumns));
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return read_outbox(s);
}

std::vector<OutboxMessage> SqliteTransaction::due_outbox(Timestamp now, int limit) {
  Stmt s = prepare(
      fmt::format("SELECT {} FROM outbox o WHERE status='pending' AND next_attempt_at <= ? AND {} "
                  "ORDER BY id LIMIT ?",
                  kOutboxColumns, kHeadOfChannel));
  s.bind(1, now).bind(2, limit);
  std::vector<OutboxMessage> out;
  while (s.step()) out.push_back(read_outbox(s));
  return out;
}

// One process owns a SQLite database, so a claim by anyone else is one a dead process left:
// it does not hold the job back, but the job is in doubt (its delivery may have happened).
std::vector<OutboxMessage> SqliteTransaction::claim_outbox(Timestamp now, int limit,
                                                           std::string_view owner,
                                                           std::chrono::milliseconds lease) {
  require_writable();
  Stmt s = prepare(fmt::format(
      "UPDATE outbox SET {} WHERE id IN (SELECT id FROM outbox o WHERE status='pending' AND "
      "next_attempt_at <= ? AND {} ORDER BY id LIMIT ?) RETURNING {}",
      kClaimAssignments, kHeadOfChannel, kOutboxColumns));
  s.bind(1, owner).bind(2, owner).bind(3, now + lease).bind(4, now).bind(5, limit);
  return claimed_jobs(s);
}

std::optional<Timestamp> SqliteTransaction::next_outbox_attempt() {
  Stmt s = prepare(fmt::format(
      "SELECT MIN(next_attempt_at) FROM outbox o WHERE status='pending' AND {}", kHeadOfChannel));
  if (!s.step() || s.is_null(0)) return std::nullopt;
  return s.time(0);
}

std::int64_t SqliteTransaction::count_outbox(OutboxStatus status) {
  Stmt s = prepare("SELECT count(*) FROM outbox WHERE status=?");  // outbox_pending's prefix
  s.bind(1, to_string(status));
  return s.step() ? s.i64(0) : 0;
}

void SqliteTransaction::update_outbox(const OutboxMessage& m) {
  require_writable();
  prepare(
      "UPDATE outbox SET status=?, attempts=?, next_attempt_at=?, sent_at=?, delivered_id=?, "
      "last_error=?, in_doubt=?, claimed_by=NULL, claim_expires_at=NULL WHERE id=?")
      .bind(1, to_string(m.status))
      .bind(2, m.attempts)
      .bind(3, m.next_attempt_at)
      .bind(4, m.sent_at)
      .bind(5, m.delivered_id)
      .bind(6, m.last_error)
      .bind(7, m.in_doubt ? 1 : 0)
      .bind(8, m.id)
      .run();
}

bool SqliteTransaction::first_delivery(std::string_view source, std::string_view key,
                                       Timestamp at) {
  require_writable();
  prepare("INSERT OR IGNORE INTO inbound_deliveries (source, key, received_at) VALUES (?,?,?)")
      .bind(1, source)
      .bind(2, key)
      .bind(3, at)
      .run();
  if (sqlite3_changes(connection_.db()) != 1) return false;
  inserted_deliveries_.push_back({std::string(source), std::string(key), last_id()});
  return true;
}

bool SqliteTransaction::first_delivery_until(std::string_view source, std::string_view key,
                                             Timestamp at, Timestamp expires_at) {
  require_writable();
  prepare(
      "INSERT OR IGNORE INTO inbound_deliveries (source, key, received_at, expires_at) "
      "VALUES (?,?,?,?)")
      .bind(1, source)
      .bind(2, key)
      .bind(3, at)
      .bind(4, expires_at)
      .run();
  if (sqlite3_changes(connection_.db()) != 1) return false;
  inserted_deliveries_.push_back({std::string(source), std::string(key), last_id()});
  return true;
}

std::optional<std::string> SqliteTransaction::delivery_answer(std::string_view source,
                                                              std::string_view key) {
  Stmt s = prepare("SELECT answer FROM inbound_deliveries WHERE source=? AND key=?");
  s.bind(1, source).bind(2, key);
  if (!s.step()) return std::nullopt;
  return s.opt_text(0);
}

void SqliteTransaction::set_delivery_answer(std::string_view source, std::string_view key,
                                            std::string_view answer) {
  require_writable();
  for (const auto& d : inserted_deliveries_) {
    if (d.source == source && d.key == key) {
      prepare("UPDATE inbound_deliveries SET answer=? WHERE rowid=?")
          .bind(1, answer)
          .bind(2, d.rowid)
          .run();
      return;
    }
  }
  prepare("UPDATE inbound_deliveries SET answer=? WHERE source=? AND key=?")
      .bind(1, answer)
      .bind(2, source)
      .bind(3, key)
      .run();
}

std::optional<std::string> SqliteTransaction::stream_position(std::string_view stream) {
  Stmt s = prepare("SELECT position FROM stream_positions WHERE stream=?");
  s.bind(1, stream);
  if (!s.step()) return std::nullopt;
  return s.opt_text(0);
}

void SqliteTransaction::set_stream_position(std::string_view stream, std::string_view position,
                                            Timestamp at) {
  require_writable();
  prepare(
      "INSERT INTO stream_positions (stream, position, updated_at) VALUES (?,?,?) "
      "ON CONFLICT(stream) DO UPDATE SET position=excluded.position, "
      "updated_at=excluded.updated_at")
      .bind(1, stream)
      .bind(2, position)
      .bind(3, at)
      .run();
}

std::int64_t SqliteTransaction::purge_expired_deliveries(Timestamp now, int limit) {
  require_writable();
  // The partial index inbound_deliveries_expiring gives the oldest first without a scan.
  prepare(
      "DELETE FROM inbound_deliveries WHERE rowid IN (SELECT rowid FROM inbound_deliveries "
      "WHERE expires_at IS NOT NULL AND expires_at < ? ORDER BY expires_at LIMIT ?)")
      .bind(1, now)
      .bind(2, limit)
      .run();
  return sqlite3_changes(connection_.db());
}

void SqliteTransaction::probe() {
  require_writable();
  prepare("INSERT OR REPLACE INTO store_probe (id, pad) VALUES (1, zeroblob(65536))").run();
  prepare("DELETE FROM store_probe WHERE id = 1").run();
}

}  // namespace scribe::sqlite
