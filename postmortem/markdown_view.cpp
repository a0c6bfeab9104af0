#include "postmortem/markdown_view.h"

#include <optional>
#include <string>
#include <utility>

#include <date/tz.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "postmortem/format.h"
#include "postmortem/markdown_parts.h"
#include "postmortem/review_report.h"

namespace scribe {

namespace mus = kainjow::mustache;
using namespace markdown;

mus::data& view::slot(const mus::data* placed) {
  // The data's own, non-const object that the library hands out only as const; it is
  // filled before anything else refers to it.
  return const_cast<mus::data&>(*placed);
}

void view::add(mus::data& object, const std::string& key, mus::data&& v) {
  object.set(key, mus::data{false});
  slot(object.get(key)) = std::move(v);
}

void view::add(mus::data& object, const std::string& key, std::string_view text) {
  // The text is written once, into the string the data owns (the library's constructors
  // would copy it from a temporary).
  object.set(key, mus::data{false});
  mus::data& placed = slot(object.get(key));
  placed = mus::data{mus::data::type::string};
  const_cast<std::string&>(placed.string_value()).assign(text.data(), text.size());
}

void view::add(mus::data& object, const std::string& key, const std::string& text) {
  add(object, key, std::string_view(text));
}

void view::add(mus::data& object, const std::string& key, const char* text) {
  add(object, key, std::string_view(text));
}

void view::add(mus::data& object, const std::string& key, bool flag) {
  object.set(key, mus::data{flag});
}

namespace {

using view::add;

// The text a writer puts into `out`; valid until `out` is written again, so each is
// added to the view before the next is made.
template <typename Write>
std::string_view md(Buffer& out, Write&& write) {
  out.clear();
  write(out);
  return std::string_view(out.data(), out.size());
}

std::string_view cell(Buffer& out, std::string_view raw) {
  return md(out, [&](Buffer& b) { put_cell(b, raw); });
}

std::string_view inline_text(Buffer& out, std::string_view raw) {
  return md(out, [&](Buffer& b) { put_inline(b, raw); });
}

// A list of notes as bullets (`text`: the body, continuation lines indented by `indent`).
mus::data notes(Buffer& out, const std::vector<Note>& list, std::size_t indent) {
  return view::list(list.size(), [&](std::size_t i) {
    mus::data item;
    add(item, "text", md(out, [&](Buffer& b) { put_block(b, list[i].text, indent); }));
    add(item, "at", false);
    return item;
  });
}

std::string_view moment(Buffer& out, const DraftClock& clock, const Moment& m) {
  return md(out, [&](Buffer& b) {
    put(b, m.name);
    if (!m.at) return put(b, ": —");
    put(b, " at ");
    clock.put(b, *m.at);
    if (!m.fallback.empty()) fmt::format_to(fmt::appender(b), " ({})", m.fallback);
  });
}

mus::data action_view(Buffer& out, const ActionItem& a) {
  mus::data item;
  add(item, "seq", std::to_string(a.seq));
  add(item, "text", cell(out, a.text));
  add(item, "owner",
      a.owner ? cell(out, display_name(*a.owner)) : std::string_view("**unassigned**"));
  add(item, "due",
      a.due && !a.due->empty() ? cell(out, *a.due) : std::string_view("**no due date**"));
  add(item, "kind", a.kind == ActionKind::kNone ? std::string_view{"—"} : to_string(a.kind));
  add(item, "status", md(out, [&](Buffer& b) {
        if (a.status == ActionStatus::kDropped) {
          put(b, "won't do: ");
          put_cell(b, a.drop_reason.value_or("no reason given"));
        } else {
          put(b, to_string(a.status));
        }
      }));
  if (a.tracker_key) {
    mus::data tracker;
    add(tracker, "key", cell(out, *a.tracker_key));
    if (a.tracker_url.empty()) {
      add(tracker, "url", false);
    } else {
      add(tracker, "url", cell(out, a.tracker_url));
    }
    add(item, "tracker", std::move(tracker));
  } else {
    add(item, "tracker", false);
  }
  return item;
}

mus::data related_view(Buffer& out, const RelatedIncident& r) {
  mus::data item;
  add(item, "ref", incident_ref(r.incident.id));
  add(item, "title", cell(out, r.incident.title));
  add(item, "severity", to_string(r.incident.severity));
  add(item, "declared", format_utc(r.incident.declared_at));
  std::vector<std::string> why = r.shared_tags;
  if (r.similarity) why.push_back(fmt::format("similar cause ({:.0f}%)", *r.similarity * 100));
  add(item, "why", cell(out, fmt::format("{}", fmt::join(why, ", "))));
  if (r.services.empty()) {
    add(item, "services", false);
  } else {
    add(item, "services", cell(out, fmt::format("{}", fmt::join(r.services, ", "))));
  }
  add(item, "open", view::list(r.open_actions.size(), [&](std::size_t i) {
        const ActionItem& a = r.open_actions[i];
        mus::data open;
        add(open, "seq", std::to_string(a.seq));
        add(open, "text", cell(out, a.text));
        if (a.owner) {
          add(open, "owner", cell(out, display_name(*a.owner)));
        } else {
          add(open, "owner", false);
        }
        if (a.due && !a.due->empty()) {
          add(open, "due", cell(out, *a.due));
        } else {
          add(open, "due", false);
        }
        return open;
      }));
  return item;
}

}  // namespace

TimelineRows::TimelineRows(const Draft& d) : d_(d), clock_(d) {}

std::optional<std::string_view> TimelineRows::field(std::size_t i, std::string_view name) {
  const TimelineRow& row = d_.timeline[i];
  const TimelineEvent& e = row.event;
  out_.clear();
  if (name == "seq") {
    fmt::format_to(fmt::appender(out_), "{}", e.seq);
  } else if (name == "time") {
    clock_.put(out_, e.occurred_at);
  } else if (name == "since") {
    put(out_, format_offset(row.offset));
  } else if (name == "author") {
    put_cell(out_, display_name(e.author));
  } else if (name == "kind") {
    // Plain notes leave the kind empty so typed events and milestones stand out.
    if (e.kind != EventKind::kNote) put(out_, to_string(e.kind));
  } else if (name == "text") {
    put_cell(out_, e.text);
    put_links(out_, e.links);
  } else {
    return std::nullopt;
  }
  return std::string_view(out_.data(), out_.size());
}

mus::data markdown_view(const Draft& d, const PostmortemReview* review,
                        std::string_view command_prefix, bool lazy_timeline) {
  const Incident& inc = d.incident;
  const DraftClock clock(d);
  Buffer out;
  mus::data v;
  add(v, "prefix", command_prefix);
  add(v, "nl", std::string_view("\n"));

  // The title and the facts list.
  add(v, "ref", d.ref);
  if (inc.title.empty()) {
    add(v, "title", false);
  } else {
    add(v, "title", md(out, [&](Buffer& b) { put_inline(b, inc.title, /*hashes=*/true); }));
  }
  // What customers felt leads, labelled apart from how long the responders worked on it.
  add(v, "customer_impact_label",
      d.impact_ongoing ? std::string_view("Customer impact so far") : "Customer impact");
  add(v, "customer_impact", customer_impact_text(d, command_prefix));
  add(v, "duration_label",
      d.ongoing ? std::string_view("Incident duration so far") : "Incident duration");
  add(v, "duration",
      d.ongoing
          ? fmt::format("{} (first timeline event to this draft; not resolved)",
                        format_duration(d.duration))
          : fmt::format("{} (first timeline event to resolution)", format_duration(d.duration)));
  add(v, "severity", to_string(inc.severity));
  add(v, "status", status_title(inc.status));
  add(v, "declared", format_utc_and_local(inc.declared_at, d.zone));
  add(v, "mitigated", inc.mitigated_at ? format_utc_and_local(*inc.mitigated_at, d.zone) : "—");
  add(v, "resolved", d.ongoing ? "—" : format_utc_and_local(d.ended_at, d.zone));
  add(v, "commander", inline_text(out, display_name(inc.commander)));
  add(v, "participants", md(out, [&](Buffer& b) {
        for (std::size_t i = 0; i < d.participants.size(); ++i) {
          if (i > 0) put(b, ", ");
          put_inline(b, display_name(d.participants[i]));
        }
        if (d.participants.empty()) put(b, "—");
      }));

  const DraftSections& s = d.sections;
  add(v, "summary", notes(out, s.summary, 0));

  // Impact: the notes, then the #impact events with their times.
  const std::size_t impact_notes = s.impact.size();
  add(v, "impact", view::list(impact_notes + d.impact_events.size(), [&](std::size_t i) {
        mus::data item;
        if (i < impact_notes) {
          add(item, "at", false);
          add(item, "text", md(out, [&](Buffer& b) { put_block(b, s.impact[i].text, 2); }));
        } else {
          const TimelineEvent& e = d.timeline[d.impact_events[i - impact_notes]].event;
          add(item, "at", md(out, [&](Buffer& b) { clock.put(b, e.occurred_at); }));
          add(item, "text", md(out, [&](Buffer& b) { put_block(b, e.text, 2); }));
        }
        return item;
      }));

  add(v, "durations", view::list(d.durations.size(), [&](std::size_t i) {
        const KeyDuration& k = d.durations[i];
        mus::data item;
        add(item, "measure", k.measure);
        add(item, "from", moment(out, clock, k.from));
        add(item, "to", moment(out, clock, k.to));
        add(item, "duration", cell(out, format_key_duration(k)));
        return item;
      }));

  // The timeline: which dates and zone its times are in, then a row per event.
  if (d.timeline.empty()) {
    add(v, "timeline_intro", false);
  } else {
    mus::data intro;
    add(intro, "span",
        clock.with_dates() ? fmt::format(", from {} to {}", format_utc_date(clock.first_date()),
                                         format_utc_date(clock.last_date()))
                           : fmt::format(" on {}", format_utc_date(clock.first_date())));
    add(intro, "local",
        d.zone == nullptr ? std::string()
                          : fmt::format(", local time in {} in brackets", d.zone->name()));
    add(intro, "time_heading",
        d.zone == nullptr ? std::string_view("Time (UTC)") : "Time (UTC, local)");
    add(v, "timeline_intro", std::move(intro));
  }
  if (lazy_timeline) {
    // Stand-ins only: TimelineRows makes each row's fields while the template reads them.
    mus::data rows{mus::data::type::list};
    auto& items = const_cast<mus::list&>(rows.list_value());
    items.reserve(d.timeline.size());
    for (std::size_t i = 0; i < d.timeline.size(); ++i) items.emplace_back(true);
    add(v, "timeline", std::move(rows));
  } else {
    TimelineRows rows(d);
    add(v, "timeline", view::list(d.timeline.size(), [&](std::size_t i) {
          mus::data item;
          for (const std::string_view name : TimelineRows::kFields) {
            add(item, std::string(name), *rows.field(i, name));
          }
          return item;
        }));
  }

  add(v, "cause", notes(out, s.cause, 2));
  add(v, "whys", view::list(s.why.size(), [&](std::size_t i) {
        const std::string_view text = s.why[i].text;
        const std::string number = fmt::format("{}. ", i + 1);
        // Notes usually give the answer; the question is implied unless the author wrote it.
        const bool asks = text.size() >= 3 && (text[0] == 'W' || text[0] == 'w') &&
                          (text[1] == 'H' || text[1] == 'h') && (text[2] == 'Y' || text[2] == 'y');
        mus::data item;
        add(item, "number", std::to_string(i + 1));
        add(item, "asks", asks);
        add(item, "text", md(out, [&](Buffer& b) { put_block(b, text, number.size()); }));
        return item;
      }));
  add(v, "trigger", notes(out, s.trigger, 2));
  add(v, "detection", notes(out, s.detection, 2));
  add(v, "resolution", notes(out, s.resolution, 2));
  add(v, "went_well", notes(out, s.went_well, 2));
  add(v, "went_wrong", notes(out, s.went_wrong, 2));
  add(v, "lucky", notes(out, s.lucky, 2));
  add(v, "lessons", notes(out, s.lessons, 2));
  add(v, "links", notes(out, s.links, 2));
  // Sections shown only when something was written in them.
  add(v, "has_trigger", !s.trigger.empty());
  add(v, "has_detection", !s.detection.empty());
  add(v, "has_resolution", !s.resolution.empty());
  add(v, "has_links", !s.links.empty());

  add(v, "actions",
      view::list(d.actions.size(), [&](std::size_t i) { return action_view(out, d.actions[i]); }));
  add(v, "has_actions", !d.actions.empty());
  add(v, "action_history", view::list(d.action_history.size(), [&](std::size_t i) {
        const ActionRevision& r = d.action_history[i];
        mus::data item;
        add(item, "at", format_utc_datetime(r.changed_at));
        add(item, "seq", std::to_string(r.seq));
        add(item, "field", r.field);
        add(item, "before",
            cell(out, r.before.empty() ? std::string_view{"(none)"} : std::string_view{r.before}));
        add(item, "after",
            cell(out, r.after.empty() ? std::string_view{"(none)"} : std::string_view{r.after}));
        add(item, "by", cell(out, display_name(r.changed_by)));
        return item;
      }));
  add(v, "has_action_history", !d.action_history.empty());

  add(v, "related",
      view::list(d.related.size(), [&](std::size_t i) { return related_view(out, d.related[i]); }));
  add(v, "has_related", !d.related.empty());
  if (d.related_total > d.related.size()) {
    add(v, "related_more", std::to_string(d.related_total - d.related.size()));
  } else {
    add(v, "related_more", false);
  }

  if (d.zone == nullptr) {
    add(v, "drafted_at", format_utc(d.generated_at));
    add(v, "zone", false);
  } else {
    add(v, "drafted_at", format_utc_and_local(d.generated_at, d.zone));
    add(v, "zone", d.zone->name());
  }

  if (review == nullptr) {
    add(v, "review", false);
  } else {
    add(v, "review", review_markdown_view(*review));
  }
  return v;
}

}  // namespace scribe
