#include "postmortem/trends.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_map>

#include <date/date.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "postmortem/html.h"
#include "postmortem/recurrence.h"

namespace scribe {
namespace {

using std::chrono::milliseconds;

DurationStats stats(std::vector<double> minutes) {
  DurationStats d;
  d.count = minutes.size();
  if (minutes.empty()) return d;
  std::sort(minutes.begin(), minutes.end());
  const std::size_t n = minutes.size();
  d.median_minutes = n % 2 ? minutes[n / 2] : (minutes[n / 2 - 1] + minutes[n / 2]) / 2;
  // Nearest rank: the smallest value with at least 90% of the values at or below it.
  const std::size_t rank = (n * 90 + 99) / 100;
  d.p90_minutes = minutes[std::max<std::size_t>(rank, 1) - 1];
  return d;
}

double minutes_between(Timestamp from, Timestamp to) {
  const auto ms = (to - from).count();
  return ms < 0 ? 0.0 : static_cast<double>(ms) / 60'000.0;
}

std::string month_of(Timestamp t) {
  const date::year_month_day ymd{date::floor<date::days>(t)};
  return fmt::format("{:04}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()));
}

// The end of the due day (UTC), or nullopt for an unreadable date.
std::optional<Timestamp> end_of_due_day(const std::string& due) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (std::sscanf(due.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3) return std::nullopt;
  const date::year_month_day ymd{date::year{y}, date::month{m}, date::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return Timestamp{date::sys_days{ymd} + date::days{1}} - milliseconds{1};
}

std::string minutes_text(const std::optional<double>& m) {
  if (!m) return "–";
  if (*m < 120) return fmt::format("{:.1f} min", *m);
  return fmt::format("{:.1f} h", *m / 60);
}

std::string share(int part, int whole) {
  if (whole == 0) return "–";
  return fmt::format("{:.0f}%", 100.0 * part / whole);
}

// Owners and causes are user text: keep table cells whole.
std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::optional<std::chrono::days> parse_span(std::string_view text) {
  if (text.size() < 2 || text.size() > 7) return std::nullopt;
  long long n = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    n = n * 10 + (text[i] - '0');
  }
  if (n <= 0) return std::nullopt;
  switch (text.back()) {
    case 'd':
      return std::chrono::days{n};
    case 'w':
      return std::chrono::days{n * 7};
    case 'm':
      return std::chrono::days{n * 30};
    case 'y':
      return std::chrono::days{n * 365};
    default:
      return std::nullopt;
  }
}

std::string normalise_cause(std::string_view text) {
  std::string out;
  bool space = false;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c >= 0x80) {
      if (space && !out.empty()) out += ' ';
      space = false;
      out += static_cast<char>(std::tolower(c));
    } else {
      space = true;
    }
  }
  return out;
}

Trends compute_trends(const TrendsRows& rows, Timestamp since, Timestamp now) {
  Trends t;
  t.since = since;
  t.now = now;
  t.incidents = rows.incidents.size();
  std::unordered_map<IncidentId, Timestamp> impact(rows.impact_started.begin(),
                                                   rows.impact_started.end());
  std::unordered_map<IncidentId, Timestamp> detected(rows.detected.begin(), rows.detected.end());
  std::vector<double> ttd, ttm, ttr, impact_minutes;
  for (const Incident& i : rows.incidents) {
    const int sev = std::clamp(static_cast<int>(i.severity), 1, 4);
    t.by_month_severity[month_of(i.declared_at)][static_cast<std::size_t>(sev - 1)]++;
    Timestamp began = i.declared_at;
    if (auto it = impact.find(i.id); it != impact.end()) {
      began = it->second;
    } else {
      ++t.impact_start_fallbacks;
    }
    Timestamp found = i.declared_at;
    if (auto it = detected.find(i.id); it != detected.end() && it->second < found)
      found = it->second;
    ttd.push_back(minutes_between(began, found));
    const std::optional<Timestamp> mitigated = i.mitigated_at ? i.mitigated_at : i.resolved_at;
    if (mitigated) {
      ttm.push_back(minutes_between(began, *mitigated));
      impact_minutes.push_back(minutes_between(began, *mitigated));
    }
    if (i.resolved_at) ttr.push_back(minutes_between(began, *i.resolved_at));
  }
  t.time_to_detect = stats(std::move(ttd));
  t.time_to_mitigate = stats(std::move(ttm));
  t.time_to_resolve = stats(std::move(ttr));
  t.impact_minutes = stats(std::move(impact_minutes));

  const date::sys_days today = date::floor<date::days>(now);
  for (const ActionItem& a : rows.actions) {
    const std::string owner =
        a.owner ? (a.owner->name.empty() ? a.owner->id : a.owner->name) : std::string("(no owner)");
    const std::string kind(to_string(a.kind));
    ActionCounts* counts[] = {&t.actions_by_owner[owner], &t.actions_by_kind[kind],
                              &t.actions_total};
    const std::optional<Timestamp> due_end = a.due ? end_of_due_day(*a.due) : std::nullopt;
    const bool overdue = a.status == ActionStatus::kOpen && due_end && *due_end < Timestamp{today};
    for (ActionCounts* c : counts) {
      switch (a.status) {
        case ActionStatus::kOpen:
          ++c->open;
          if (overdue) ++c->overdue;
          break;
        case ActionStatus::kDone:
          ++c->done;
          break;
        case ActionStatus::kDropped:
          ++c->dropped;
          break;
      }
    }
    if (due_end && (overdue || a.status == ActionStatus::kDone)) {
      ++t.due_considered;
      if (a.status == ActionStatus::kDone && a.done_at && *a.done_at <= *due_end) ++t.done_by_due;
    }
  }

  std::map<std::string, std::set<IncidentId>> causes;
  for (const Note& n : rows.causes) {
    const std::vector<std::string> tags = cause_tags(n.text);
    if (!tags.empty()) {
      for (const std::string& tag : tags) causes[tag].insert(n.incident_id);
    } else if (std::string norm = normalise_cause(n.text); !norm.empty()) {
      causes[norm].insert(n.incident_id);
    }
  }
  for (auto& [cause, ids] : causes) {
    if (ids.size() < 2) continue;
    t.recurring_causes.push_back({cause, {ids.begin(), ids.end()}});
  }
  std::stable_sort(t.recurring_causes.begin(), t.recurring_causes.end(),
                   [](const RecurringCause& a, const RecurringCause& b) {
                     return a.incidents.size() > b.incidents.size();
                   });
  return t;
}

std::string trends_markdown(const Trends& t) {
  std::string out;
  const auto day = [](Timestamp ts) { return date::format("%F", date::floor<date::days>(ts)); };
  out += fmt::format("# Incident trends since {}\n\n", day(t.since));
  out += fmt::format("{} incidents declared from {} to {} (UTC).\n\n", t.incidents, day(t.since),
                     day(t.now));
  out +=
      "## Incidents by month and severity\n\n| month | sev1 | sev2 | sev3 | sev4 | total |\n"
      "|---|---|---|---|---|---|\n";
  for (const auto& [month, sev] : t.by_month_severity) {
    out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", month, sev[0], sev[1], sev[2], sev[3],
                       sev[0] + sev[1] + sev[2] + sev[3]);
  }
  out += "\n## Durations\n\n| measure | incidents | median | p90 |\n|---|---|---|---|\n";
  const std::pair<const char*, const DurationStats*> rows[] = {
      {"Time to detect", &t.time_to_detect},
      {"Time to mitigate", &t.time_to_mitigate},
      {"Time to resolve", &t.time_to_resolve},
      {"Customer impact", &t.impact_minutes}};
  for (const auto& [name, d] : rows) {
    out += fmt::format("| {} | {} | {} | {} |\n", name, d->count, minutes_text(d->median_minutes),
                       minutes_text(d->p90_minutes));
  }
  out += fmt::format(
      "\nMeasured from the earliest #impact event; {} of {} incidents have none, and for them "
      "the declaration stands in. Customer impact ends at mitigation (else resolution): Scribe "
      "records no separate end of impact.\n",
      t.impact_start_fallbacks, t.incidents);
  const auto table = [&](const char* title, const char* what,
                         const std::map<std::string, ActionCounts>& m) {
    out +=
        fmt::format("\n## {}\n\n| {} | open | overdue | done | dropped |\n|---|---|---|---|---|\n",
                    title, what);
    for (const auto& [k, c] : m) {
      out += fmt::format("| {} | {} | {} | {} | {} |\n", cell(k), c.open, c.overdue, c.done,
                         c.dropped);
    }
  };
  table("Action items by owner", "owner", t.actions_by_owner);
  table("Action items by kind", "kind", t.actions_by_kind);
  out += fmt::format(
      "\n{} open ({} overdue), {} done, {} dropped. Done by their due date: {} ({} of {} due "
      "items that are done or overdue).\n",
      t.actions_total.open, t.actions_total.overdue, t.actions_total.done, t.actions_total.dropped,
      share(t.done_by_due, t.due_considered), t.done_by_due, t.due_considered);
  out += "\n## Recurring causes\n\n";
  if (t.recurring_causes.empty()) out += "No cause is shared by two incidents.\n";
  for (const RecurringCause& c : t.recurring_causes) {
    std::vector<std::string> refs;
    for (IncidentId id : c.incidents) refs.push_back(incident_ref(id));
    out += fmt::format("- {} — {} incidents: {}\n", cell(c.cause), c.incidents.size(),
                       fmt::join(refs, ", "));
  }
  return out;
}

std::string trends_json(const Trends& t) {
  using nlohmann::json;
  const auto duration = [](const DurationStats& d) {
    json j{{"incidents", d.count}, {"median_minutes", nullptr}, {"p90_minutes", nullptr}};
    if (d.median_minutes) j["median_minutes"] = *d.median_minutes;
    if (d.p90_minutes) j["p90_minutes"] = *d.p90_minutes;
    return j;
  };
  const auto counts = [](const ActionCounts& c) {
    return json{{"open", c.open}, {"overdue", c.overdue}, {"done", c.done}, {"dropped", c.dropped}};
  };
  json months = json::array();
  for (const auto& [month, sev] : t.by_month_severity) {
    months.push_back(
        {{"month", month}, {"sev1", sev[0]}, {"sev2", sev[1]}, {"sev3", sev[2]}, {"sev4", sev[3]}});
  }
  json owners = json::object(), kinds = json::object();
  for (const auto& [k, c] : t.actions_by_owner) owners[k] = counts(c);
  for (const auto& [k, c] : t.actions_by_kind) kinds[k] = counts(c);
  json causes = json::array();
  for (const RecurringCause& c : t.recurring_causes) {
    json ids = json::array();
    for (IncidentId id : c.incidents) ids.push_back(incident_ref(id));
    causes.push_back({{"cause", c.cause}, {"incidents", ids}});
  }
  const auto day = [](Timestamp ts) { return date::format("%F", date::floor<date::days>(ts)); };
  json j{{"since", day(t.since)},
         {"until", day(t.now)},
         {"incidents", t.incidents},
         {"by_month", months},
         {"durations",
          {{"time_to_detect", duration(t.time_to_detect)},
           {"time_to_mitigate", duration(t.time_to_mitigate)},
           {"time_to_resolve", duration(t.time_to_resolve)},
           {"customer_impact", duration(t.impact_minutes)}}},
         {"impact_start",
          {{"measured_from", "earliest #impact event, else the declaration"},
           {"incidents_without_impact_event", t.impact_start_fallbacks},
           {"impact_end", "mitigation, else resolution"}}},
         {"actions",
          {{"total", counts(t.actions_total)},
           {"by_owner", owners},
           {"by_kind", kinds},
           {"done_by_due_date", t.done_by_due},
           {"due_done_or_overdue", t.due_considered}}},
         {"recurring_causes", causes}};
  return j.dump(2);
}

std::string trends_html(const Trends& t) {
  return html_page("Incident trends", trends_markdown(t));
}

}  // namespace scribe
