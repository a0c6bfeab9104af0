#include "postmortem/json.h"

#include <string_view>
#include <utility>

#include "postmortem/format.h"

#include <date/tz.h>

namespace scribe {
namespace {

using Json = nlohmann::ordered_json;

// Objects are built by appending members in order: nlohmann's initializer-list form
// copies every value once more, which is most of the cost on a 10,000-event timeline.
class Object {
 public:
  explicit Object(std::size_t members) : json_(Json::value_t::object) {
    members_().reserve(members);
  }
  template <typename T>
  Object& add(std::string_view key, T&& value) {
    members_().emplace_back(std::string(key), Json(std::forward<T>(value)));
    return *this;
  }
  Json take() { return std::move(json_); }

 private:
  Json::object_t& members_() { return json_.get_ref<Json::object_t&>(); }
  Json json_;
};

Json person(const Person& p) { return Object(2).add("id", p.id).add("name", p.name).take(); }

Json time_or_null(const std::optional<Timestamp>& t) {
  return t ? Json(format_iso8601(*t)) : Json(nullptr);
}

Json text_or_null(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

Json array(std::size_t size) {
  Json out = Json::array();
  out.get_ref<Json::array_t&>().reserve(size);
  return out;
}

Json notes(const std::vector<Note>& list) {
  Json out = array(list.size());
  for (const auto& n : list) {
    out.push_back(Object(3)
                      .add("text", n.text)
                      .add("author", person(n.author))
                      .add("created_at", format_iso8601(n.created_at))
                      .take());
  }
  return out;
}

// {name, at, fallback, missing}: `fallback` says what stood in for the event, `missing`
// why there is no time at all.
Json moment(const Moment& m) {
  return Object(4)
      .add("name", m.name)
      .add("at", time_or_null(m.at))
      .add("fallback", text_or_null(m.fallback))
      .add("missing", text_or_null(m.missing))
      .take();
}

}  // namespace

Json draft_to_json(const Draft& d) {
  const Incident& inc = d.incident;
  Object j(10);
  j.add("incident", Object(10)
                        .add("id", inc.id)
                        .add("ref", d.ref)
                        .add("title", inc.title)
                        .add("severity", to_string(inc.severity))
                        .add("status", to_string(inc.status))
                        .add("commander", person(inc.commander))
                        .add("declared_at", format_iso8601(inc.declared_at))
                        .add("mitigated_at", time_or_null(inc.mitigated_at))
                        .add("resolved_at", time_or_null(inc.resolved_at))
                        .add("closed_at", time_or_null(inc.closed_at))
                        .add("time_zone", d.zone == nullptr ? "UTC" : d.zone->name())
                        .take());

  Json participants = array(d.participants.size());
  for (const auto& p : d.participants) participants.push_back(person(p));
  j.add("participants", std::move(participants));

  j.add("total_duration", Object(5)
                              .add("from", format_iso8601(d.started_at))
                              .add("to", format_iso8601(d.ended_at))
                              .add("ongoing", d.ongoing)
                              .add("seconds", d.duration.count())
                              .add("display", format_duration(d.duration))
                              .take());

  // Labelled apart from total_duration: how long customers were affected (impact began →
  // mitigated, else resolved; `ongoing` while neither has happened).
  const KeyDuration& ci = d.customer_impact;
  j.add("customer_impact",
        Object(7)
            .add("from", moment(ci.from))
            .add("to", moment(ci.to))
            .add("ongoing", d.impact_ongoing)
            .add("seconds", ci.seconds ? Json(ci.seconds->count()) : Json(nullptr))
            .add("display", format_key_duration(ci))
            .add("remark", text_or_null(ci.remark))
            .take());

  const DraftSections& s = d.sections;
  j.add("sections", Object(12)
                        .add("summary", notes(s.summary))
                        .add("impact", notes(s.impact))
                        .add("cause", notes(s.cause))
                        .add("why", notes(s.why))
                        .add("went_well", notes(s.went_well))
                        .add("went_wrong", notes(s.went_wrong))
                        .add("lucky", notes(s.lucky))
                        .add("lessons", notes(s.lessons))
                        .add("trigger", notes(s.trigger))
                        .add("detection", notes(s.detection))
                        .add("resolution", notes(s.resolution))
                        .add("links", notes(s.links))
                        .take());

  // By seq: the events themselves are in `timeline`, with kind "impact".
  Json impact_events = array(d.impact_events.size());
  for (const std::size_t i : d.impact_events) impact_events.push_back(d.timeline[i].event.seq);
  j.add("impact_events", std::move(impact_events));

  Json durations = array(d.durations.size());
  for (const KeyDuration& k : d.durations) {
    durations.push_back(Object(7)
                            .add("id", k.id)
                            .add("measure", k.measure)
                            .add("from", moment(k.from))
                            .add("to", moment(k.to))
                            .add("seconds", k.seconds ? Json(k.seconds->count()) : Json(nullptr))
                            .add("display", format_key_duration(k))
                            .add("remark", text_or_null(k.remark))
                            .take());
  }
  j.add("durations", std::move(durations));

  Json timeline = array(d.timeline.size());
  for (const TimelineRow& row : d.timeline) {
    const TimelineEvent& e = row.event;
    Object item(7);
    item.add("seq", e.seq).add("occurred_at", format_iso8601(e.occurred_at));
    // The channel's local time with its UTC offset, where the channel has a zone of its own.
    if (d.zone != nullptr)
      item.add("occurred_at_local", format_iso8601_local(e.occurred_at, d.zone));
    Json links = array(e.links.size());
    for (const EventLink& l : e.links) {
      links.push_back(
          Object(3).add("kind", to_string(l.kind)).add("title", l.title).add("url", l.url).take());
    }
    timeline.push_back(item.add("offset_seconds", row.offset.count())
                           .add("author", person(e.author))
                           .add("kind", to_string(e.kind))
                           .add("text", e.text)
                           .add("links", std::move(links))
                           .take());
  }
  j.add("timeline", std::move(timeline));

  Json actions = array(d.actions.size());
  for (const ActionItem& a : d.actions) {
    Json history = array(0);
    for (const ActionRevision& r : d.action_history) {
      if (r.action_id != a.id) continue;
      history.push_back(Object(5)
                            .add("field", r.field)
                            .add("before", r.before)
                            .add("after", r.after)
                            .add("changed_by", person(r.changed_by))
                            .add("changed_at", format_iso8601(r.changed_at))
                            .take());
    }
    Object item(10);
    item.add("seq", a.seq)
        .add("text", a.text)
        .add("owner", a.owner ? person(*a.owner) : Json(nullptr))
        .add("due", a.due && !a.due->empty() ? Json(*a.due) : Json(nullptr))
        .add("kind", a.kind == ActionKind::kNone ? Json(nullptr) : Json(to_string(a.kind)))
        .add("status", to_string(a.status))
        .add("done_at", time_or_null(a.done_at))
        .add("drop_reason", a.drop_reason ? Json(*a.drop_reason) : Json(nullptr))
        .add("history", std::move(history));
    // Only for a tracked item, so the drafts of untracked ones read as before.
    if (a.tracker_key) {
      item.add("tracker", Object(2).add("key", *a.tracker_key).add("url", a.tracker_url).take());
    }
    actions.push_back(item.take());
  }
  j.add("actions", std::move(actions));

  // Only when there are some, so a draft without a recurring cause keeps its old shape.
  if (!d.related.empty()) {
    Json related = array(d.related.size());
    for (const RelatedIncident& r : d.related) {
      Json open = array(r.open_actions.size());
      for (const ActionItem& a : r.open_actions) {
        open.push_back(Object(4)
                           .add("seq", a.seq)
                           .add("text", a.text)
                           .add("owner", a.owner ? person(*a.owner) : Json(nullptr))
                           .add("due", a.due && !a.due->empty() ? Json(*a.due) : Json(nullptr))
                           .take());
      }
      related.push_back(Object(8)
                            .add("id", r.incident.id)
                            .add("ref", incident_ref(r.incident.id))
                            .add("title", r.incident.title)
                            .add("declared_at", format_iso8601(r.incident.declared_at))
                            .add("shared_cause_tags", r.shared_tags)
                            .add("similarity", r.similarity ? Json(*r.similarity) : Json(nullptr))
                            .add("services", r.services)
                            .add("open_actions", std::move(open))
                            .take());
    }
    j.add("related_incidents", std::move(related));
    j.add("related_incidents_total", d.related_total);
  }

  j.add("generated_at", format_iso8601(d.generated_at));
  return j.take();
}

std::string render_json(const Draft& draft, int indent) {
  // Chat text is not guaranteed UTF-8; the default handler would throw mid-request.
  return draft_to_json(draft).dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace scribe
