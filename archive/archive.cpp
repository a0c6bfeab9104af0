#include "archive/archive.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include <date/date.h>
#include <fmt/format.h>

#include "postmortem/format.h"

namespace scribe::archive {
namespace {

using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

// --- export ------------------------------------------------------------------------------

ojson time_json(const std::optional<Timestamp>& t) {
  return t ? ojson(format_iso8601(*t)) : ojson(nullptr);
}

ojson person_json(const Person& p) { return ojson{{"id", p.id}, {"name", p.name}}; }

ojson person_json(const std::optional<Person>& p) { return p ? person_json(*p) : ojson(nullptr); }

ojson text_json(const std::optional<std::string>& s) { return s ? ojson(*s) : ojson(nullptr); }

ojson channel_json(const ChannelRef& c) {
  return ojson{{"platform", c.platform}, {"workspace", c.workspace}, {"channel", c.channel}};
}

ojson incident_json(Transaction& tx, const Incident& i) {
  ojson out;
  out["id"] = i.id;
  out["channel"] = channel_json(i.channel);
  out["title"] = i.title;
  out["severity"] = to_string(i.severity);
  out["status"] = to_string(i.status);
  out["commander"] = person_json(i.commander);
  out["declared_at"] = format_iso8601(i.declared_at);
  out["mitigated_at"] = time_json(i.mitigated_at);
  out["resolved_at"] = time_json(i.resolved_at);
  out["closed_at"] = time_json(i.closed_at);
  out["postmortem_owner"] = person_json(i.postmortem_owner);
  out["postmortem_status"] = to_string(i.postmortem_status);
  out["closed_anyway"] = text_json(i.closed_anyway);

  std::vector<TimelineEvent> events = tx.events(i.id, /*include_deleted=*/true);
  std::sort(events.begin(), events.end(),
            [](const TimelineEvent& a, const TimelineEvent& b) { return a.seq < b.seq; });
  ojson event_list = ojson::array();
  for (const TimelineEvent& e : events) {
    ojson links = ojson::array();
    for (const EventLink& l : e.links) {
      links.push_back(ojson{{"kind", to_string(l.kind)}, {"title", l.title}, {"url", l.url}});
    }
    event_list.push_back(ojson{{"seq", e.seq},
                               {"kind", to_string(e.kind)},
                               {"occurred_at", format_iso8601(e.occurred_at)},
                               {"recorded_at", format_iso8601(e.recorded_at)},
                               {"author", person_json(e.author)},
                               {"text", e.text},
                               {"deleted", e.deleted},
                               {"revision", e.revision},
                               {"links", std::move(links)}});
  }
  out["events"] = std::move(event_list);

  ojson revisions = ojson::array();
  for (const EventRevision& r : tx.revisions(i.id)) {
    revisions.push_back(ojson{{"seq", r.seq},
                              {"revision", r.revision},
                              {"change", r.change},
                              {"kind", to_string(r.kind)},
                              {"occurred_at", format_iso8601(r.occurred_at)},
                              {"text", r.text},
                              {"changed_by", person_json(r.changed_by)},
                              {"changed_at", format_iso8601(r.changed_at)}});
  }
  out["event_revisions"] = std::move(revisions);

  ojson notes = ojson::array();
  for (const Note& n : tx.notes(i.id)) {
    notes.push_back(ojson{{"section", to_string(n.section)},
                          {"text", n.text},
                          {"author", person_json(n.author)},
                          {"created_at", format_iso8601(n.created_at)}});
  }
  out["notes"] = std::move(notes);

  std::vector<ActionItem> actions = tx.actions(i.id);
  std::sort(actions.begin(), actions.end(),
            [](const ActionItem& a, const ActionItem& b) { return a.seq < b.seq; });
  ojson action_list = ojson::array();
  for (const ActionItem& a : actions) {
    action_list.push_back(ojson{{"seq", a.seq},
                                {"text", a.text},
                                {"owner", person_json(a.owner)},
                                {"due", text_json(a.due)},
                                {"kind", to_string(a.kind)},
                                {"status", to_string(a.status)},
                                {"created_by", person_json(a.created_by)},
                                {"created_at", format_iso8601(a.created_at)},
                                {"done_at", time_json(a.done_at)},
                                {"done_by", person_json(a.done_by)},
                                {"snoozed_until", time_json(a.snoozed_until)},
                                {"drop_reason", text_json(a.drop_reason)},
                                {"tracker_key", text_json(a.tracker_key)},
                                {"tracker_url", a.tracker_url}});
  }
  out["actions"] = std::move(action_list);

  ojson action_revisions = ojson::array();
  for (const ActionRevision& r : tx.action_revisions(i.id)) {
    action_revisions.push_back(ojson{{"seq", r.seq},
                                     {"field", r.field},
                                     {"before", r.before},
                                     {"after", r.after},
                                     {"changed_by", person_json(r.changed_by)},
                                     {"changed_at", format_iso8601(r.changed_at)}});
  }
  out["action_revisions"] = std::move(action_revisions);

  ojson approvals = ojson::array();
  for (const Approval& a : tx.approvals(i.id)) {
    approvals.push_back(ojson{{"by", person_json(a.by)}, {"at", format_iso8601(a.at)}});
  }
  out["approvals"] = std::move(approvals);

  ojson publications = ojson::array();
  for (const Publication& p : tx.publications(i.id)) {
    publications.push_back(ojson{{"destination", p.destination},
                                 {"remote_id", p.remote_id},
                                 {"url", p.url},
                                 {"version", p.version},
                                 {"content_sha", p.content_sha},
                                 {"published_at", format_iso8601(p.published_at)}});
  }
  out["publications"] = std::move(publications);
  out["latest_draft"] = text_json(tx.latest_draft(i.id));
  return out;
}

// --- reading a document ------------------------------------------------------------------
// Every reader names the place of what it refuses, so a hand-edited file can be fixed.

[[noreturn]] void fail(const std::string& path, std::string_view why) {
  throw ImportError(fmt::format("{}: {}", path, why));
}

const json& at(const json& obj, std::string_view key, const std::string& path) {
  if (!obj.is_object()) fail(path, "must be an object");
  const auto it = obj.find(key);
  if (it == obj.end()) fail(fmt::format("{}.{}", path, key), "is missing");
  return *it;
}

std::string str(const json& obj, std::string_view key, const std::string& path) {
  const json& v = at(obj, key, path);
  if (!v.is_string()) fail(fmt::format("{}.{}", path, key), "must be a string");
  return v.get<std::string>();
}

std::optional<std::string> opt_str(const json& obj, std::string_view key, const std::string& path) {
  const json& v = at(obj, key, path);
  if (v.is_null()) return std::nullopt;
  if (!v.is_string()) fail(fmt::format("{}.{}", path, key), "must be a string or null");
  return v.get<std::string>();
}

std::int64_t integer(const json& obj, std::string_view key, const std::string& path,
                     std::int64_t min, std::int64_t max) {
  const json& v = at(obj, key, path);
  if (!v.is_number_integer()) fail(fmt::format("{}.{}", path, key), "must be a whole number");
  const std::int64_t n = v.get<std::int64_t>();
  if (n < min || n > max) {
    fail(fmt::format("{}.{}", path, key), fmt::format("{} is not within {} and {}", n, min, max));
  }
  return n;
}

bool boolean(const json& obj, std::string_view key, const std::string& path) {
  const json& v = at(obj, key, path);
  if (!v.is_boolean()) fail(fmt::format("{}.{}", path, key), "must be true or false");
  return v.get<bool>();
}

// "2026-11-20T14:05:30.123Z", as format_iso8601 writes it.
Timestamp parse_time(const std::string& text, const std::string& where) {
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  char z = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%5d-%2u-%2uT%2u:%2u:%2u.%3u%c%n", &y, &mo, &d, &h, &mi, &s, &ms,
                  &z, &used) != 8 ||
      z != 'Z' || used != static_cast<int>(text.size()) || text.size() < 24) {
    fail(where, fmt::format("'{}' is not a time like 2026-11-20T14:05:30.123Z", text));
  }
  const date::year_month_day day{date::year{y}, date::month{mo}, date::day{d}};
  if (!day.ok() || h > 23 || mi > 59 || s > 59) fail(where, fmt::format("'{}' is no time", text));
  return date::sys_days{day} + std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{s} + std::chrono::milliseconds{ms};
}

Timestamp time(const json& obj, std::string_view key, const std::string& path) {
  return parse_time(str(obj, key, path), fmt::format("{}.{}", path, key));
}

std::optional<Timestamp> opt_time(const json& obj, std::string_view key, const std::string& path) {
  auto text = opt_str(obj, key, path);
  if (!text) return std::nullopt;
  return parse_time(*text, fmt::format("{}.{}", path, key));
}

Person person_at(const json& v, const std::string& where) {
  return Person{str(v, "id", where), str(v, "name", where)};
}

Person person(const json& obj, std::string_view key, const std::string& path) {
  return person_at(at(obj, key, path), fmt::format("{}.{}", path, key));
}

std::optional<Person> opt_person(const json& obj, std::string_view key, const std::string& path) {
  const json& v = at(obj, key, path);
  if (v.is_null()) return std::nullopt;
  return person_at(v, fmt::format("{}.{}", path, key));
}

template <typename E, typename Parse>
E enum_at(const json& obj, std::string_view key, const std::string& path, Parse parse) {
  const std::string text = str(obj, key, path);
  auto value = parse(text);
  if (!value) fail(fmt::format("{}.{}", path, key), fmt::format("'{}' is not known", text));
  return *value;
}

const json& array_at(const json& obj, std::string_view key, const std::string& path) {
  const json& v = at(obj, key, path);
  if (!v.is_array()) fail(fmt::format("{}.{}", path, key), "must be a list");
  return v;
}

ChannelRef channel_at(const json& obj, const std::string& path) {
  const json& c = at(obj, "channel", path);
  const std::string where = path + ".channel";
  ChannelRef ref{str(c, "platform", where), str(c, "workspace", where), str(c, "channel", where)};
  if (ref.platform.empty() || ref.channel.empty()) fail(where, "needs a platform and a channel");
  return ref;
}

// One incident of the document, read whole before anything is written.
struct Entry {
  IncidentId source_id = 0;
  Incident incident;
  std::vector<TimelineEvent> events;  // seq 1..n
  std::vector<EventRevision> event_revisions;
  std::vector<Note> notes;
  std::vector<ActionItem> actions;  // seq 1..n
  std::vector<ActionRevision> action_revisions;
  std::vector<Approval> approvals;
  std::vector<Publication> publications;
  std::optional<std::string> latest_draft;
};

constexpr std::int64_t kMaxInt = std::numeric_limits<int>::max();

Entry read_entry(const json& j, const std::string& path) {
  Entry e;
  e.source_id = integer(j, "id", path, 1, std::numeric_limits<std::int64_t>::max());
  Incident& i = e.incident;
  i.channel = channel_at(j, path);
  i.title = str(j, "title", path);
  i.severity = enum_at<Severity>(j, "severity", path, severity_from_string);
  i.status = enum_at<IncidentStatus>(j, "status", path, incident_status_from_string);
  i.commander = person(j, "commander", path);
  i.declared_at = time(j, "declared_at", path);
  i.mitigated_at = opt_time(j, "mitigated_at", path);
  i.resolved_at = opt_time(j, "resolved_at", path);
  i.closed_at = opt_time(j, "closed_at", path);
  i.postmortem_owner = opt_person(j, "postmortem_owner", path);
  i.postmortem_status =
      enum_at<PostmortemStatus>(j, "postmortem_status", path, postmortem_status_from_string);
  i.closed_anyway = opt_str(j, "closed_anyway", path);

  const json& events = array_at(j, "events", path);
  for (std::size_t n = 0; n < events.size(); ++n) {
    const std::string where = fmt::format("{}.events[{}]", path, n);
    const json& v = events[n];
    TimelineEvent ev;
    ev.seq = static_cast<int>(integer(v, "seq", where, 1, kMaxInt));
    // The target numbers events as they are added: the document must already be 1, 2, ….
    if (ev.seq != static_cast<int>(n) + 1) {
      fail(where + ".seq", fmt::format("is {}; events must be numbered 1, 2, … in order", ev.seq));
    }
    ev.kind = enum_at<EventKind>(v, "kind", where, event_kind_from_string);
    ev.occurred_at = time(v, "occurred_at", where);
    ev.recorded_at = time(v, "recorded_at", where);
    ev.author = person(v, "author", where);
    ev.text = str(v, "text", where);
    ev.deleted = boolean(v, "deleted", where);
    ev.revision = static_cast<int>(integer(v, "revision", where, 0, kMaxInt));
    const json& links = array_at(v, "links", where);
    for (std::size_t k = 0; k < links.size(); ++k) {
      const std::string lw = fmt::format("{}.links[{}]", where, k);
      EventLink link;
      link.kind = enum_at<EventLink::Kind>(links[k], "kind", lw, event_link_kind_from_string);
      link.title = str(links[k], "title", lw);
      link.url = str(links[k], "url", lw);
      ev.links.push_back(std::move(link));
    }
    e.events.push_back(std::move(ev));
  }

  const json& revisions = array_at(j, "event_revisions", path);
  for (std::size_t n = 0; n < revisions.size(); ++n) {
    const std::string where = fmt::format("{}.event_revisions[{}]", path, n);
    const json& v = revisions[n];
    EventRevision r;
    r.seq = static_cast<int>(integer(v, "seq", where, 1, kMaxInt));
    if (r.seq > static_cast<int>(e.events.size())) {
      fail(where + ".seq", fmt::format("names event {}, which the incident does not have", r.seq));
    }
    r.revision = static_cast<int>(integer(v, "revision", where, 0, kMaxInt));
    r.change = str(v, "change", where);
    r.kind = enum_at<EventKind>(v, "kind", where, event_kind_from_string);
    r.occurred_at = time(v, "occurred_at", where);
    r.text = str(v, "text", where);
    r.changed_by = person(v, "changed_by", where);
    r.changed_at = time(v, "changed_at", where);
    e.event_revisions.push_back(std::move(r));
  }

  const json& notes = array_at(j, "notes", path);
  for (std::size_t n = 0; n < notes.size(); ++n) {
    const std::string where = fmt::format("{}.notes[{}]", path, n);
    Note note;
    note.section = enum_at<NoteSection>(notes[n], "section", where, note_section_from_string);
    note.text = str(notes[n], "text", where);
    note.author = person(notes[n], "author", where);
    note.created_at = time(notes[n], "created_at", where);
    e.notes.push_back(std::move(note));
  }

  const json& actions = array_at(j, "actions", path);
  for (std::size_t n = 0; n < actions.size(); ++n) {
    const std::string where = fmt::format("{}.actions[{}]", path, n);
    const json& v = actions[n];
    ActionItem a;
    a.seq = static_cast<int>(integer(v, "seq", where, 1, kMaxInt));
    if (a.seq != static_cast<int>(n) + 1) {
      fail(where + ".seq",
           fmt::format("is {}; action items must be numbered 1, 2, … in order", a.seq));
    }
    a.text = str(v, "text", where);
    a.owner = opt_person(v, "owner", where);
    a.due = opt_str(v, "due", where);
    a.kind = enum_at<ActionKind>(v, "kind", where, action_kind_from_string);
    a.status = enum_at<ActionStatus>(v, "status", where, action_status_from_string);
    a.created_by = person(v, "created_by", where);
    a.created_at = time(v, "created_at", where);
    a.done_at = opt_time(v, "done_at", where);
    a.done_by = opt_person(v, "done_by", where);
    a.snoozed_until = opt_time(v, "snoozed_until", where);
    a.drop_reason = opt_str(v, "drop_reason", where);
    a.tracker_key = opt_str(v, "tracker_key", where);
    a.tracker_url = str(v, "tracker_url", where);
    e.actions.push_back(std::move(a));
  }

  const json& action_revisions = array_at(j, "action_revisions", path);
  for (std::size_t n = 0; n < action_revisions.size(); ++n) {
    const std::string where = fmt::format("{}.action_revisions[{}]", path, n);
    const json& v = action_revisions[n];
    ActionRevision r;
    r.seq = static_cast<int>(integer(v, "seq", where, 1, kMaxInt));
    if (r.seq > static_cast<int>(e.actions.size())) {
      fail(where + ".seq",
           fmt::format("names action item {}, which the incident does not have", r.seq));
    }
    r.field = str(v, "field", where);
    r.before = str(v, "before", where);
    r.after = str(v, "after", where);
    r.changed_by = person(v, "changed_by", where);
    r.changed_at = time(v, "changed_at", where);
    e.action_revisions.push_back(std::move(r));
  }

  const json& approvals = array_at(j, "approvals", path);
  for (std::size_t n = 0; n < approvals.size(); ++n) {
    const std::string where = fmt::format("{}.approvals[{}]", path, n);
    e.approvals.push_back(
        Approval{0, person(approvals[n], "by", where), time(approvals[n], "at", where)});
  }

  const json& publications = array_at(j, "publications", path);
  std::set<std::string> destinations;
  for (std::size_t n = 0; n < publications.size(); ++n) {
    const std::string where = fmt::format("{}.publications[{}]", path, n);
    const json& v = publications[n];
    Publication p;
    p.destination = str(v, "destination", where);
    if (!destinations.insert(p.destination).second) {
      fail(where + ".destination", fmt::format("'{}' is listed twice", p.destination));
    }
    p.remote_id = str(v, "remote_id", where);
    p.url = str(v, "url", where);
    p.version = integer(v, "version", where, std::numeric_limits<std::int64_t>::min(),
                        std::numeric_limits<std::int64_t>::max());
    p.content_sha = str(v, "content_sha", where);
    p.published_at = time(v, "published_at", where);
    e.publications.push_back(std::move(p));
  }
  e.latest_draft = opt_str(j, "latest_draft", path);
  return e;
}

std::string channel_text(const ChannelRef& c) {
  return c.workspace.empty() ? fmt::format("{}:{}", c.platform, c.channel)
                             : fmt::format("{}:{}/{}", c.platform, c.workspace, c.channel);
}

using IncidentKey = std::tuple<std::string, std::string, std::string, std::int64_t>;

IncidentKey key_of(const Incident& i) {
  return {i.channel.platform, i.channel.workspace, i.channel.channel,
          i.declared_at.time_since_epoch().count()};
}

}  // namespace

std::optional<nlohmann::ordered_json> export_incidents(Transaction& tx,
                                                       std::optional<IncidentId> only) {
  std::vector<Incident> incidents;
  if (only) {
    auto one = tx.find_incident(*only);
    if (!one) return std::nullopt;
    incidents.push_back(std::move(*one));
  } else {
    IncidentId before = std::numeric_limits<IncidentId>::max();
    for (;;) {
      std::vector<Incident> page = tx.list_incidents_before(before, 500);
      if (page.empty()) break;
      before = page.back().id;
      for (Incident& i : page) incidents.push_back(std::move(i));
    }
    std::sort(incidents.begin(), incidents.end(),
              [](const Incident& a, const Incident& b) { return a.id < b.id; });
  }
  ojson doc;
  doc["format"] = kFormat;
  doc["version"] = kVersion;
  ojson list = ojson::array();
  std::vector<ChannelRef> channels;
  for (const Incident& i : incidents) {
    list.push_back(incident_json(tx, i));
    if (std::find(channels.begin(), channels.end(), i.channel) == channels.end()) {
      channels.push_back(i.channel);
    }
  }
  doc["incidents"] = std::move(list);
  ojson zones = ojson::array();
  for (const ChannelRef& c : channels) {
    for (const ChannelZone& z : tx.channel_zones(c)) {
      zones.push_back(ojson{{"channel", channel_json(z.channel)},
                            {"zone", z.zone},
                            {"set_by", person_json(z.set_by)},
                            {"set_at", format_iso8601(z.set_at)}});
    }
  }
  doc["channel_zones"] = std::move(zones);
  return doc;
}

ImportResult import_incidents(Transaction& tx, const nlohmann::json& document) {
  // Read and check the whole document first.
  if (!document.is_object()) fail("document", "must be a JSON object");
  if (str(document, "format", "document") != kFormat) {
    fail("document.format",
         fmt::format("must be \"{}\" (a file made by `scribe export`)", kFormat));
  }
  const std::int64_t version =
      integer(document, "version", "document", 1, std::numeric_limits<std::int64_t>::max());
  if (version != kVersion) {
    fail("document.version",
         fmt::format("{} is not a version this build reads ({}); {}", version, kVersion,
                     version > kVersion ? "it was made by a newer Scribe" : ""));
  }
  std::vector<Entry> entries;
  const json& incidents = array_at(document, "incidents", "document");
  for (std::size_t n = 0; n < incidents.size(); ++n) {
    entries.push_back(read_entry(incidents[n], fmt::format("incidents[{}]", n)));
  }
  std::vector<ChannelZone> zones;
  const json& zone_list = array_at(document, "channel_zones", "document");
  for (std::size_t n = 0; n < zone_list.size(); ++n) {
    const std::string where = fmt::format("channel_zones[{}]", n);
    zones.push_back(ChannelZone{channel_at(zone_list[n], where), str(zone_list[n], "zone", where),
                                person(zone_list[n], "set_by", where),
                                time(zone_list[n], "set_at", where)});
  }

  // Duplicates and conflicts, within the document and with the target, before any write.
  std::map<IncidentKey, IncidentId> existing;
  for (IncidentId before = std::numeric_limits<IncidentId>::max();;) {
    std::vector<Incident> page = tx.list_incidents_before(before, 500);
    if (page.empty()) break;
    before = page.back().id;
    for (const Incident& i : page) existing.emplace(key_of(i), i.id);
  }
  std::map<IncidentKey, IncidentId> in_document;
  std::set<std::string> tracker_keys;
  for (const Entry& e : entries) {
    const std::string ref = incident_ref(e.source_id);
    const IncidentKey key = key_of(e.incident);
    if (auto it = existing.find(key); it != existing.end()) {
      throw ImportError(fmt::format(
          "{} is already in the target as {} (same channel {} and declaration time {}): "
          "import refused, nothing was imported",
          ref, incident_ref(it->second), channel_text(e.incident.channel),
          format_iso8601(e.incident.declared_at)));
    }
    if (auto [it, fresh] = in_document.emplace(key, e.source_id); !fresh) {
      throw ImportError(
          fmt::format("{} and {} in the document are the same incident (same "
                      "channel and declaration time): nothing was imported",
                      incident_ref(it->second), ref));
    }
    if (e.incident.status != IncidentStatus::kClosed) {
      if (auto current = tx.current_incident(e.incident.channel)) {
        throw ImportError(fmt::format(
            "{} is not closed, and the target's {} in the same channel {} is not closed either; "
            "a channel has one incident under way at a time: close one of them first. Nothing "
            "was imported",
            ref, incident_ref(current->id), channel_text(e.incident.channel)));
      }
    }
    for (const ActionItem& a : e.actions) {
      if (!a.tracker_key) continue;
      if (!tracker_keys.insert(*a.tracker_key).second) {
        throw ImportError(
            fmt::format("tracker issue {} is linked to two action items in the "
                        "document: nothing was imported",
                        *a.tracker_key));
      }
      if (auto other = tx.find_action_by_tracker_key(*a.tracker_key)) {
        throw ImportError(fmt::format(
            "{} action {}: tracker issue {} already belongs to {} action {} in the target: "
            "nothing was imported",
            ref, a.seq, *a.tracker_key, incident_ref(other->incident_id), other->seq));
      }
    }
  }
  // A channel's zone settings come in whole or not at all: the same list the target has
  // already is skipped, a different one is a conflict.
  std::vector<ChannelZone> new_zones;
  {
    std::vector<ChannelRef> channels;
    for (const ChannelZone& z : zones) {
      if (std::find(channels.begin(), channels.end(), z.channel) == channels.end()) {
        channels.push_back(z.channel);
      }
    }
    for (const ChannelRef& c : channels) {
      std::vector<ChannelZone> mine;
      for (const ChannelZone& z : zones) {
        if (z.channel == c) mine.push_back(z);
      }
      const std::vector<ChannelZone> theirs = tx.channel_zones(c);
      if (theirs.empty()) {
        new_zones.insert(new_zones.end(), mine.begin(), mine.end());
      } else if (theirs != mine) {
        throw ImportError(fmt::format(
            "channel {} has other time zone settings in the target ({} now) than in the "
            "document ({}): nothing was imported",
            channel_text(c), theirs.back().zone, mine.back().zone));
      }
    }
  }

  // Then write; the caller's transaction makes it all or nothing.
  ImportResult result;
  for (Entry& e : entries) {
    Incident incident = e.incident;
    incident.id = 0;
    const IncidentId id = tx.insert_incident(incident);
    std::vector<TimelineEvent> added;
    for (TimelineEvent ev : e.events) {
      ev.incident_id = id;
      TimelineEvent stored = tx.append_event(std::move(ev));
      if (stored.seq != static_cast<int>(added.size()) + 1) {
        throw ImportError(fmt::format("{}: the target numbered event {} as {}",
                                      incident_ref(e.source_id), added.size() + 1, stored.seq));
      }
      added.push_back(std::move(stored));
    }
    for (EventRevision r : e.event_revisions) {
      const TimelineEvent& current = added[static_cast<std::size_t>(r.seq - 1)];
      r.event_id = current.id;
      tx.revise_event(current, r);  // the event keeps its current state; the trail grows
    }
    for (Note n : e.notes) {
      n.incident_id = id;
      tx.add_note(std::move(n));
    }
    std::vector<ActionItem> items;
    for (const ActionItem& a : e.actions) {
      ActionItem item = a;
      item.incident_id = id;
      ActionItem stored = tx.add_action(item);
      if (stored.seq != static_cast<int>(items.size()) + 1) {
        throw ImportError(fmt::format("{}: the target numbered action item {} as {}",
                                      incident_ref(e.source_id), items.size() + 1, stored.seq));
      }
      // Adding an item does not take its tracker issue; updating it does.
      stored.tracker_key = a.tracker_key;
      stored.tracker_url = a.tracker_url;
      if (stored.tracker_key || !stored.tracker_url.empty()) tx.update_action(stored);
      items.push_back(std::move(stored));
    }
    for (ActionRevision r : e.action_revisions) {
      const ActionItem& current = items[static_cast<std::size_t>(r.seq - 1)];
      r.action_id = current.id;
      tx.revise_action(current, {r});
    }
    for (Approval a : e.approvals) {
      a.incident_id = id;
      tx.add_approval(a);
    }
    for (Publication p : e.publications) {
      p.incident_id = id;
      tx.save_publication(p);
    }
    if (e.latest_draft) {
      // Only the latest draft is exported, without its time: it is dated at the
      // resolution (when Scribe stores one), else at the declaration.
      tx.save_draft(id, e.incident.resolved_at.value_or(e.incident.declared_at), *e.latest_draft);
    }
    result.ids.emplace_back(e.source_id, id);
  }
  for (const ChannelZone& z : new_zones) tx.set_channel_zone(z);
  result.channel_zones = static_cast<int>(new_zones.size());
  return result;
}

}  // namespace scribe::archive
