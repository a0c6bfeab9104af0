#include "commands/handler.h"

#include <date/tz.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <variant>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands/action_items.h"
#include "commands/grammar.h"
#include "commands/limits.h"
#include "commands/outgoing.h"
#include "commands/time_parse.h"
#include "postmortem/draft.h"
#include "postmortem/format.h"
#include "postmortem/markdown.h"
#include "postmortem/record.h"
#include "postmortem/review_report.h"
#include "postmortem/split.h"
#include "postmortem/trends.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace scribe {

// Thread-safe; bounded (emptied when it reaches kMaxChannels: it is only a first guess).
class ChannelZoneCache {
 public:
  const date::time_zone* get(const ChannelRef& channel, const date::time_zone* fallback) const {
    std::lock_guard lock(mu_);
    const auto it = zones_.find(key(channel));
    return it == zones_.end() ? fallback : it->second;
  }
  void put(const ChannelRef& channel, const date::time_zone* zone) {
    std::lock_guard lock(mu_);
    if (zones_.size() >= kMaxChannels) zones_.clear();
    zones_[key(channel)] = zone;
  }

 private:
  static constexpr std::size_t kMaxChannels = 10000;
  static std::string key(const ChannelRef& c) {
    return fmt::format("{}\x1f{}\x1f{}", c.platform, c.workspace, c.channel);
  }
  mutable std::mutex mu_;
  std::unordered_map<std::string, const date::time_zone*> zones_;
};

namespace {

using Visibility = Reply::Visibility;

// How far before the declaration a milestone may be given: people round times down, and
// clocks disagree a little.
constexpr std::chrono::minutes kMilestoneTolerance{5};

Reply ephemeral(std::string text, std::vector<std::string> details = {}) {
  Reply r;
  r.visibility = Visibility::kEphemeral;
  r.text = std::move(text);
  r.details = std::move(details);
  return r;
}

Reply to_channel(std::string text, std::vector<std::string> details = {}) {
  Reply r = ephemeral(std::move(text), std::move(details));
  r.visibility = Visibility::kChannel;
  return r;
}

std::string_view status_word(IncidentStatus s) {
  switch (s) {
    case IncidentStatus::kOpen:
      return "open";
    case IncidentStatus::kMitigated:
      return "mitigated";
    case IncidentStatus::kResolved:
      return "resolved";
    case IncidentStatus::kClosed:
      return "closed";
  }
  return "unknown";
}

std::string_view section_title(NoteSection s) {
  switch (s) {
    case NoteSection::kSummary:
      return "Summary";
    case NoteSection::kImpact:
      return "Impact";
    case NoteSection::kCause:
      return "Root cause and contributing factors";
    case NoteSection::kWhy:
      return "5 whys";
    case NoteSection::kWentWell:
      return "What went well";
    case NoteSection::kWentWrong:
      return "What went wrong";
    case NoteSection::kLucky:
      return "Where we got lucky";
    case NoteSection::kLesson:
      return "Lessons learned";
    case NoteSection::kTrigger:
      return "Trigger";
    case NoteSection::kDetection:
      return "Detection";
    case NoteSection::kResolution:
      return "Resolution";
    case NoteSection::kLink:
      return "Supporting links";
  }
  return "Notes";
}

// An action item's global id as a button carries it: decimal digits only.
std::optional<std::int64_t> parse_item_id(std::string_view text) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || id <= 0) {
    return std::nullopt;
  }
  return id;
}

// The same chat user: by id when both have one, else by name (an @name the platform did
// not resolve).
bool same_person(const Person& a, const Person& b) {
  if (!a.id.empty() && !b.id.empty()) return a.id == b.id;
  return !a.name.empty() && lower(a.name) == lower(b.name);
}

// Whether an incident's channel is the one a button was clicked in. A workspace only one
// side names (a payload without a team) does not tell them apart.
bool same_channel(const ChannelRef& incident, const ChannelRef& clicked) {
  if (incident.platform != clicked.platform || incident.channel != clicked.channel) return false;
  return incident.workspace.empty() || clicked.workspace.empty() ||
         incident.workspace == clicked.workspace;
}

// The refusal text when the incident already holds `count` of `part`, at or past its cap;
// nullopt while there is room.
std::optional<std::string> cap_reached(std::int64_t count, const IncidentCaps& caps,
                                       IncidentPart part, IncidentId incident,
                                       std::string_view prefix) {
  const std::string ref = incident_ref(incident);
  switch (part) {
    case IncidentPart::kEvents:
      if (count < caps.events) return std::nullopt;
      return limits::incident_full(ref, "timeline events", count, caps.events,
                                   "limits.events_per_incident", prefix);
    case IncidentPart::kNotes:
      if (count < caps.notes) return std::nullopt;
      return limits::incident_full(ref, "postmortem notes", count, caps.notes,
                                   "limits.notes_per_incident", prefix);
    case IncidentPart::kActions:
      if (count < caps.actions) return std::nullopt;
      return limits::incident_full(ref, "action items", count, caps.actions,
                                   "limits.actions_per_incident", prefix);
  }
  return std::nullopt;
}

// The zones one command uses: the channel's (times shown, and times read unless the author
// has a zone of their own) and the one its backdated wall-clock times are read in.
struct ZoneChoice {
  enum class Source {
    kChannel,        // read in the channel's zone: the platform has no user zones
    kAuthor,         // read in the author's own zone, which differs from the channel's
    kAuthorUnknown,  // the platform has user zones, but this author's is not known yet
  };
  const date::time_zone* channel = nullptr;
  const date::time_zone* reading = nullptr;
  Source source = Source::kChannel;
};

const date::time_zone* zone_named(const std::string& name) {
  if (name.empty()) return nullptr;
  try {
    return date::locate_zone(name);
  } catch (const std::runtime_error&) {
    return nullptr;
  }
}

ZoneChoice choose_zone(const Invocation& inv, const date::time_zone* channel) {
  ZoneChoice z{channel, channel, ZoneChoice::Source::kChannel};
  if (const date::time_zone* author = zone_named(inv.author_zone)) {
    // Same rules, different name ("Asia/Calcutta" vs "Asia/Kolkata") reads the same.
    if (author != channel) {
      z.reading = author;
      z.source = ZoneChoice::Source::kAuthor;
    }
  } else if (inv.author_zone_unknown || !inv.author_zone.empty()) {
    z.source = ZoneChoice::Source::kAuthorUnknown;
  }
  return z;
}

bool is_utc(const date::time_zone& zone) {
  return zone.name() == "UTC" || zone.name() == "Etc/UTC";
}

// One command's execution: its own copy of the invocation, the platform's traits and how
// to show times. Each run() is a function of the transaction the handler opened for it
// (none for the commands answered without the store); it never opens one itself.
class Execution {
 public:
  Execution(ZoneChoice zones, Invocation inv, PlatformTraits traits, bool can_post,
            std::shared_ptr<const Reviewer> reviewer, const CloseGateSettings& gate,
            IncidentCaps caps, LimitCounters& refused,
            std::shared_ptr<const DraftTemplate> draft_template, TrackingSettings tracking,
            const PublishSettings& publishing)
      : zone_(*zones.channel),
        zones_(zones),
        inv_(std::move(inv)),
        traits_(std::move(traits)),
        can_post_(can_post),
        reviewer_(std::move(reviewer)),
        gate_(gate),
        caps_(caps),
        refused_(refused),
        draft_template_(std::move(draft_template)),
        tracking_(std::move(tracking)),
        publishing_(publishing) {}

  // Whether this command wrote messages to the outbox.
  bool enqueued() const { return enqueued_; }

  Reply run(const grammar::UsageError& e) { return ephemeral(e.message, {"Usage:", e.usage}); }

  Reply run(const grammar::ShowHelp& h) {
    return ephemeral(fmt::format("How to use `{}{}`:", prefix(), h.command),
                     {grammar::usage(h.command, prefix())});
  }

  Reply run(const grammar::StartIncident& s, Transaction& tx) {
    const Severity severity = s.severity.value_or(Severity::kSev3);
    const std::optional<Incident> existing = tx.current_incident(inv_.channel);
    const bool ongoing = existing && (existing->status == IncidentStatus::kOpen ||
                                      existing->status == IncidentStatus::kMitigated);
    Incident incident;
    std::vector<TimelineEvent> took_in;
    if (!ongoing) {
      incident.channel = inv_.channel;
      incident.title = s.title;
      incident.severity = severity;
      incident.status = IncidentStatus::kOpen;
      incident.commander = inv_.user;
      incident.declared_at = inv_.received_at;
      incident.id = tx.insert_incident(incident);
      append(tx, incident, EventKind::kDeclared, inv_.received_at,
             fmt::format("Incident declared: {} ({}), commander {}", s.title, to_string(severity),
                         mention(inv_.user)));
      took_in = take_in_held_alerts(tx, incident);
    }
    if (ongoing) {
      return ephemeral(
          fmt::format("{} \"{}\" is still {} in this channel (declared {}). One incident per "
                      "channel: resolve it first, or see `{}incident status`.",
                      incident_ref(existing->id), existing->title, status_word(existing->status),
                      show_time(existing->declared_at), prefix()));
    }
    std::vector<std::string> details = {
        fmt::format("Severity {}{}, commander {}.", to_string(severity),
                    s.severity ? ""
                               : " (the default; change it with `" + prefix() +
                                     "incident sev <sev1-sev4>`)",
                    mention(inv_.user)),
        fmt::format("Record what happens with `{0}timeline <what happened>` (backdate with "
                    "`{0}timeline 14:05 …`), actions with `{0}action`.",
                    prefix())};
    if (!took_in.empty()) {
      details.push_back(fmt::format(
          "Took in {} alert{} that arrived for this channel in the hour before, at {} own time "
          "(the first at {}).",
          took_in.size(), took_in.size() == 1 ? "" : "s", took_in.size() == 1 ? "its" : "their",
          show_time(took_in.front().occurred_at)));
    }
    return to_channel(fmt::format("🚨 {} declared: {}", incident_ref(incident.id), s.title),
                      std::move(details));
  }

  Reply run(const grammar::ShowStatus&, Transaction& tx) {
    auto incident = tx.current_incident(inv_.channel);
    if (!incident) return no_incident();
    return status_reply(tx, *incident);
  }

  Reply run(const grammar::ChangeSeverity& c, Transaction& tx) {
    return change_incident(tx, [&](Incident& incident) -> Reply {
      if (incident.severity == c.severity) {
        return ephemeral(
            fmt::format("{} is already {}.", incident_ref(incident.id), to_string(c.severity)));
      }
      if (auto refusal = full(tx, incident, IncidentPart::kEvents)) return *refusal;
      const Severity before = incident.severity;
      incident.severity = c.severity;
      tx.update_incident(incident);
      append(tx, incident, EventKind::kSeverityChanged, inv_.received_at,
             fmt::format("Severity changed from {} to {} by {}", to_string(before),
                         to_string(c.severity), mention(inv_.user)));
      return to_channel(fmt::format("{} severity is now {} (was {}).", incident_ref(incident.id),
                                    to_string(c.severity), to_string(before)));
    });
  }

  Reply run(const grammar::ChangeCommander& c, Transaction& tx) {
    const Person next = person_for(c.mention);
    return change_incident(tx, [&](Incident& incident) -> Reply {
      if (incident.commander.id == next.id && !next.id.empty()) {
        return ephemeral(fmt::format("{} is already the commander.", mention(next)));
      }
      if (auto refusal = full(tx, incident, IncidentPart::kEvents)) return *refusal;
      const Person before = incident.commander;
      incident.commander = next;
      tx.update_incident(incident);
      append(tx, incident, EventKind::kCommanderChanged, inv_.received_at,
             fmt::format("Commander changed from {} to {}", mention(before), mention(next)));
      return to_channel(fmt::format("{} is now the incident commander of {} (was {}).",
                                    mention(next), incident_ref(incident.id), mention(before)));
    });
  }

  Reply run(const grammar::AddNote& n, Transaction& tx) {
    return change_incident(
        tx,
        [&](Incident& incident) -> Reply {
          if (auto refusal = full(tx, incident, IncidentPart::kNotes)) return *refusal;
          Note note;
          note.incident_id = incident.id;
          note.section = n.section;
          note.text = n.text;
          note.author = inv_.user;
          note.created_at = inv_.received_at;
          note = tx.add_note(note);
          hint(tx, incident, note, fmt::format("your {} note", to_string(n.section)),
               fmt::format("note:{}", note.id));
          const auto notes = tx.notes(incident.id);
          const auto count = std::count_if(notes.begin(), notes.end(),
                                           [&](const Note& x) { return x.section == n.section; });
          return to_channel(fmt::format("📝 Noted under \"{}\" for {} ({} so far).",
                                        section_title(n.section), incident_ref(incident.id),
                                        count));
        },
        /*allow_resolved=*/true);
  }

  Reply run(const grammar::MarkMilestone& m, Transaction& tx) {
    const Timestamp at = m.when ? m.when->at : inv_.received_at;
    const bool resolving = m.kind == EventKind::kResolved;
    std::optional<std::string> draft;
    Reply reply = change_incident(
        tx,
        [&](Incident& incident) -> Reply {
          if (incident.status == IncidentStatus::kResolved) {
            return ephemeral(
                fmt::format("{} was resolved at {}. To go on working it, `{}incident reopen`.",
                            incident_ref(incident.id), show_time(*incident.resolved_at), prefix()));
          }
          if (!resolving && incident.status == IncidentStatus::kMitigated) {
            return ephemeral(fmt::format("{} was already marked mitigated at {}.",
                                         incident_ref(incident.id),
                                         show_time(*incident.mitigated_at)));
          }
          if (resolving && incident.mitigated_at && at < *incident.mitigated_at) {
            return ephemeral(fmt::format(
                "{} was mitigated at {}; it cannot be resolved before that. Give a later time, "
                "or none for now.",
                incident_ref(incident.id), show_time(*incident.mitigated_at)));
          }
          if (auto refusal = milestone_before_declaration(incident, m.kind, at)) {
            return *refusal;
          }
          if (resolving) {
            incident.status = IncidentStatus::kResolved;
            incident.resolved_at = at;
          } else {
            incident.status = IncidentStatus::kMitigated;
            incident.mitigated_at = at;
          }
          tx.update_incident(incident);
          const std::string word = resolving ? "Resolved" : "Mitigated";
          append(tx, incident, m.kind, at, m.text.empty() ? word : word + ": " + m.text);

          std::vector<std::string> details;
          read_note(m.when, details);
          const std::string since = format_duration(seconds_between(incident.declared_at, at));
          if (!resolving) {
            return to_channel(fmt::format("✅ {} mitigated at {} ({} after declaration).",
                                          incident_ref(incident.id), show_time(at), since),
                              std::move(details));
          }
          auto record = read_record(tx, incident.id, zone_.name());
          const PostmortemReview review = review_postmortem(*record, *reviewer_, inv_.received_at);
          const Draft assembled = assemble_draft(std::move(*record), inv_.received_at);
          draft = render_reviewed_markdown(assembled, review, prefix(), 0, tmpl());
          tx.save_draft(incident.id, inv_.received_at, *draft);
          // Chat gets a shortened draft of a long incident; the whole one is stored.
          if (draft->size() > kChatDraftBytes) {
            draft = render_reviewed_markdown(assembled, review, prefix(), kChatDraftBytes, tmpl());
          }
          if (can_post_) {
            post_draft(tx, incident, assembled, *draft);
            draft.reset();  // posted to the channel instead of in this reply
          }
          details.push_back(resolution_summary(assembled));
          if (!review.findings.empty()) {
            details.push_back(fmt::format(
                "The review has {} finding{} for the authors (at the end of the draft; "
                "`{}incident review` lists them).",
                review.findings.size(), review.findings.size() == 1 ? "" : "s", prefix()));
          }
          details.push_back(fmt::format(
              "The postmortem draft follows. Add causes, lessons and action items with "
              "`{0}incident cause …`, `{0}incident lesson …`, `{0}action …`; see it again "
              "with `{0}incident draft`; `{0}incident close` once it is reviewed.",
              prefix()));
          Reply r = to_channel(fmt::format("🎉 {} resolved at {} ({} after declaration).",
                                           incident_ref(incident.id), show_time(at), since),
                               std::move(details));
          r.incident = incident.id;
          return r;
        },
        /*allow_resolved=*/true);
    if (draft) reply.document = std::move(draft);
    return reply;
  }

  Reply run(const grammar::ShowDraft&, Transaction& tx) {
    auto incident = tx.current_incident(inv_.channel);
    if (!incident) return no_incident();
    auto record = read_record(tx, incident->id, zone_.name());
    Reply r =
        ephemeral(fmt::format("Postmortem draft of {} as of now:", incident_ref(incident->id)));
    const PostmortemReview review = review_postmortem(*record, *reviewer_, inv_.received_at);
    r.document = render_reviewed_markdown(assemble_draft(std::move(*record), inv_.received_at),
                                          review, prefix(), kChatDraftBytes, tmpl());
    r.incident = incident->id;
    return r;
  }

  // `/incident close` passes the close gate (the incident's severity's requirements, see
  // review_report.h) or is refused with what is missing; `close anyway <reason>` by the
  // commander closes over the objections and records them and the reason.
  Reply run(const grammar::CloseIncident& c, Transaction& tx) {
    return change_incident(
        tx,
        [&](Incident& incident) -> Reply {
          if (incident.status != IncidentStatus::kResolved) {
            return ephemeral(fmt::format(
                "{} is {}: resolve it first (`{}incident resolved`), then close it once the "
                "postmortem is reviewed.",
                incident_ref(incident.id), status_word(incident.status), prefix()));
          }
          auto record = read_record(tx, incident.id, zone_.name());
          const PostmortemReview review = review_postmortem(*record, *reviewer_, inv_.received_at);
          const std::vector<std::string> objections =
              close_objections(*record, review, gate_, prefix());
          if (!objections.empty() && !c.anyway) {
            std::vector<std::string> details = objections;
            details.push_back(fmt::format(
                "Fill these in and `{0}incident close` again; `{0}incident review` shows every "
                "finding. The commander can close regardless with `{0}incident close anyway "
                "<reason>` (the reason is kept on the timeline and in the draft).",
                prefix()));
            return ephemeral(fmt::format("{} cannot close yet: the {} postmortem needs {} more "
                                         "thing{}.",
                                         incident_ref(incident.id), to_string(incident.severity),
                                         objections.size(), objections.size() == 1 ? "" : "s"),
                             std::move(details));
          }
          const bool over = !objections.empty();
          if (over && !same_person(inv_.user, incident.commander)) {
            return ephemeral(
                fmt::format("Only the commander ({}) can close {} over the review's objections.",
                            mention(incident.commander), incident_ref(incident.id)));
          }
          incident.status = IncidentStatus::kClosed;
          incident.closed_at = inv_.received_at;
          if (over) incident.closed_anyway = c.reason;
          tx.update_incident(incident);
          if (over) {
            append(tx, incident, EventKind::kClosed, inv_.received_at,
                   fmt::format("Closed by {} over {} open review objection{} ({}). Reason: {}",
                               mention(inv_.user), objections.size(),
                               objections.size() == 1 ? "" : "s", fmt::join(objections, " "),
                               c.reason));
            return to_channel(fmt::format("📕 {} closed by {} over {} open review objection{}.",
                                          incident_ref(incident.id), mention(inv_.user),
                                          objections.size(), objections.size() == 1 ? "" : "s"),
                              {"Reason: " + c.reason});
          }
          append(tx, incident, EventKind::kClosed, inv_.received_at,
                 fmt::format("Postmortem reviewed; closed by {}", mention(inv_.user)));
          return to_channel(fmt::format("📕 {} closed: postmortem reviewed. Thank you all.",
                                        incident_ref(incident.id)));
        },
        /*allow_resolved=*/true);
  }

  // Queues the postmortem for the configured destinations; the deliverer posts the link.
  Reply run(const grammar::PublishPostmortem& p, Transaction& tx) {
    const std::vector<std::string>& configured = publishing_.destinations;
    if (configured.empty()) {
      return ephemeral(
          "No publishing destination is configured on this Scribe (Confluence, Notion, Google "
          "Docs, a git repository): see the README's Publishing section.");
    }
    std::vector<std::string> chosen = configured;
    if (!p.destination.empty()) {
      if (std::find(configured.begin(), configured.end(), p.destination) == configured.end()) {
        return ephemeral(fmt::format("`{}` is not a configured destination; configured: {}.",
                                     p.destination, fmt::join(configured, ", ")));
      }
      chosen = {p.destination};
    }
    auto incident = tx.current_incident(inv_.channel);
    if (!incident) incident = tx.latest_incident(inv_.channel);
    if (!incident) return no_incident();
    for (const std::string& destination : chosen) {
      request_publish(tx, incident->id, destination, inv_.received_at);
    }
    enqueued_ = true;
    return ephemeral(
        fmt::format("Publishing the {} postmortem to {}; the link is posted here "
                    "once the page is up, and later changes update the same page.",
                    incident_ref(incident->id), fmt::join(chosen, " and ")));
  }

  // Earlier incidents with this incident's cause, to the caller only.
  Reply run(const grammar::ShowRelated&, Transaction& tx) {
    auto incident = tx.current_incident(inv_.channel);
    if (!incident) incident = tx.latest_incident(inv_.channel);
    if (!incident) return no_incident();
    const auto record = read_record(tx, incident->id);
    const bool has_cause =
        std::any_of(record->notes.begin(), record->notes.end(),
                    [](const Note& n) { return n.section == NoteSection::kCause; });
    if (!has_cause) {
      return ephemeral(fmt::format(
          "{} has no cause yet: `{}incident cause <text> #cause:<tag>` records one, and "
          "then earlier incidents with the same tag or a similar cause show here.",
          incident_ref(incident->id), prefix()));
    }
    if (record->related.empty()) {
      return ephemeral(fmt::format("No earlier incident shares {}'s cause tag or a similar cause.",
                                   incident_ref(incident->id)));
    }
    std::vector<std::string> lines;
    for (const RelatedIncident& r : record->related) {
      std::vector<std::string> why = r.shared_tags;
      if (r.similarity) why.push_back(fmt::format("similar cause ({:.0f}%)", *r.similarity * 100));
      for (const std::string& service : r.services) why.push_back(service);
      std::string because;
      for (const std::string& w : why) because += (because.empty() ? "" : ", ") + w;
      lines.push_back(fmt::format("{} \"{}\" ({}, {}): {}", incident_ref(r.incident.id),
                                  r.incident.title, to_string(r.incident.severity),
                                  status_word(r.incident.status), because));
      for (const ActionItem& a : r.open_actions) {
        lines.push_back(fmt::format("    still open: {}", action_items::line(a)));
      }
    }
    return ephemeral(fmt::format("Earlier incidents related to {} ({}):",
                                 incident_ref(incident->id), record->related.size()),
                     std::move(lines));
  }

  // Trends across every incident since `since` ago, to the caller only: the same figures
  // and Markdown as `scribe report --format md` (postmortem/trends.h).
  Reply run(const grammar::ShowTrends& t, Transaction& tx) {
    const Timestamp since = inv_.received_at - t.since;
    const Trends trends = compute_trends(tx.trends_rows(since), since, inv_.received_at);
    Reply r =
        ephemeral(fmt::format("Trends over the last {} days ({} incident{}):", t.since.count(),
                              trends.incidents, trends.incidents == 1 ? "" : "s"));
    r.document = trends_markdown(trends);
    return r;
  }

  // The findings, to the caller only.
  Reply run(const grammar::ShowReview&, Transaction& tx) {
    auto incident = tx.current_incident(inv_.channel);
    if (!incident) return no_incident();
    auto record = read_record(tx, incident->id, zone_.name());
    const PostmortemReview review = review_postmortem(*record, *reviewer_, inv_.received_at);
    std::vector<std::string> lines;
    lines.push_back(fmt::format("Postmortem {} · owner {} · {} approval{}",
                                postmortem_status_words(review.status), mention(review.owner),
                                review.approvals.size(), review.approvals.size() == 1 ? "" : "s"));
    if (review.findings.empty()) {
      lines.push_back(
          "No findings: blameless, precise, actionable and complete as far as the "
          "review can tell.");
    } else {
      // A chat message holds a few dozen; the rest are in the draft and `scribe lint`.
      constexpr std::size_t kShown = 40;
      std::vector<std::string> all = finding_lines(review.findings);
      for (std::size_t i = 0; i < all.size() && i < kShown; ++i) lines.push_back(std::move(all[i]));
      if (all.size() > kShown) {
        lines.push_back(
            fmt::format("… and {} more: see the end of `{}incident draft`, or "
                        "`scribe lint {}` on the server.",
                        all.size() - kShown, prefix(), incident_ref(incident->id)));
      }
    }
    if (incident->status == IncidentStatus::kResolved) {
      const auto objections = close_objections(*record, review, gate_, prefix());
      if (objections.empty()) {
        lines.push_back(fmt::format("`{}incident close` would be accepted.", prefix()));
      } else {
        lines.push_back(fmt::format("Before `{}incident close`:", prefix()));
        for (const auto& o : objections) lines.push_back("  " + o);
      }
    }
    Reply r = ephemeral(fmt::format("Review of {}: {} finding{}.", incident_ref(incident->id),
                                    review.findings.size(), review.findings.size() == 1 ? "" : "s"),
                        std::move(lines));
    r.incident = incident->id;
    return r;
  }

  // draft → in review: the channel is asked to review.
  Reply run(const grammar::RequestReview&, Transaction& tx) {
    return change_incident(
        tx,
        [&](Incident& incident) -> Reply {
          if (incident.postmortem_status == PostmortemStatus::kInReview) {
            return ephemeral(fmt::format("The postmortem of {} is already in review.",
                                         incident_ref(incident.id)));
          }
          if (incident.postmortem_status == PostmortemStatus::kFinal) {
            return ephemeral(fmt::format("The postmortem of {} is already final (approved).",
                                         incident_ref(incident.id)));
          }
          incident.postmortem_status = PostmortemStatus::kInReview;
          tx.update_incident(incident);
          append(tx, incident, EventKind::kNote, inv_.received_at,
                 fmt::format("Postmortem review requested by {}", mention(inv_.user)));
          return to_channel(
              fmt::format("🔎 The postmortem of {} is in review: read it (`{}incident draft`) "
                          "and approve with `{}incident approve` (not the commander or the "
                          "postmortem owner).",
                          incident_ref(incident.id), prefix(), prefix()));
        },
        /*allow_resolved=*/true);
  }

  // An approval by someone other than the commander and the postmortem owner makes the
  // postmortem final.
  Reply run(const grammar::ApprovePostmortem&, Transaction& tx) {
    return change_incident(
        tx,
        [&](Incident& incident) -> Reply {
          const Person& owner = postmortem_owner_of(incident);
          if (same_person(inv_.user, incident.commander) || same_person(inv_.user, owner)) {
            return ephemeral(
                fmt::format("An approval comes from someone other than the commander ({}) and the "
                            "postmortem owner ({}): ask a reviewer.",
                            mention(incident.commander), mention(owner)));
          }
          for (const Approval& a : tx.approvals(incident.id)) {
            if (same_person(a.by, inv_.user)) {
              return ephemeral(fmt::format("You approved the postmortem of {} already ({}).",
                                           incident_ref(incident.id), show_time(a.at)));
            }
          }
          tx.add_approval(Approval{incident.id, inv_.user, inv_.received_at});
          incident.postmortem_status = PostmortemStatus::kFinal;
          tx.update_incident(incident);
          append(tx, incident, EventKind::kNote, inv_.received_at,
                 fmt::format("Postmortem approved by {}", mention(inv_.user)));
          return to_channel(fmt::format("✅ {} approved the postmortem of {}: it is final.",
                                        mention(inv_.user), incident_ref(incident.id)));
        },
        /*allow_resolved=*/true);
  }

  Reply run(const grammar::SetPostmortemOwner& o, Transaction& tx) {
    const Person next = person_for(o.mention);
    return change_incident(
        tx,
        [&](Incident& incident) -> Reply {
          const Person before = postmortem_owner_of(incident);
          if (same_person(before, next)) {
            return ephemeral(fmt::format("{} already owns the postmortem of {}.", mention(next),
                                         incident_ref(incident.id)));
          }
          if (auto refusal = full(tx, incident, IncidentPart::kEvents)) return *refusal;
          incident.postmortem_owner = next;
          tx.update_incident(incident);
          append(tx, incident, EventKind::kNote, inv_.received_at,
                 fmt::format("Postmortem owner changed from {} to {} by {}", mention(before),
                             mention(next), mention(inv_.user)));
          return to_channel(fmt::format("{} now owns the postmortem of {} (was {}).", mention(next),
                                        incident_ref(incident.id), mention(before)));
        },
        /*allow_resolved=*/true);
  }

  Reply run(const grammar::ReopenIncident&, Transaction& tx) {
    return change_incident(
        tx,
        [&](Incident& incident) -> Reply {
          if (incident.status != IncidentStatus::kResolved) {
            return ephemeral(fmt::format("{} is {}, not resolved: nothing to reopen.",
                                         incident_ref(incident.id), status_word(incident.status)));
          }
          if (auto refusal = full(tx, incident, IncidentPart::kEvents)) return *refusal;
          incident.status = IncidentStatus::kOpen;
          incident.resolved_at.reset();
          incident.mitigated_at.reset();
          // The postmortem will change: whatever was approved is a draft again.
          incident.postmortem_status = PostmortemStatus::kDraft;
          tx.update_incident(incident);
          append(tx, incident, EventKind::kReopened, inv_.received_at,
                 fmt::format("Reopened by {}", mention(inv_.user)));
          return to_channel(
              fmt::format("↩️ {} reopened. Mark it `{}incident mitigated` and "
                          "`{}incident resolved` again when it is.",
                          incident_ref(incident.id), prefix(), prefix()));
        },
        /*allow_resolved=*/true);
  }

  Reply run(const grammar::AddEvent& a, Transaction& tx) {
    const Timestamp at = a.when ? a.when->at : inv_.received_at;
    return change_incident(
        tx,
        [&](Incident& incident) -> Reply {
          if (auto refusal = full(tx, incident, IncidentPart::kEvents)) return *refusal;
          TimelineEvent e = append(tx, incident, a.kind, at, a.text);
          hint(tx, incident, e, fmt::format("timeline #{}", e.seq), fmt::format("event:{}", e.id));
          std::vector<std::string> details;
          read_note(a.when, details);
          if (incident.status == IncidentStatus::kResolved) {
            details.push_back(fmt::format("{} is resolved; the event is added to its timeline.",
                                          incident_ref(incident.id)));
          }
          const std::string tag =
              a.kind == EventKind::kNote ? "" : fmt::format(" #{}", to_string(a.kind));
          return to_channel(fmt::format("🕒 #{}{} at {}: {}", e.seq, tag, show_time(at), a.text),
                            std::move(details));
        },
        /*allow_resolved=*/true);
  }

  Reply run(const grammar::ListEvents&, Transaction& tx) {
    auto incident = tx.current_incident(inv_.channel);
    if (!incident) return no_incident();
    const auto all = tx.events(incident->id, /*include_deleted=*/true);
    std::vector<std::string> lines;
    int deleted = 0;
    // Offsets count from the earliest event still on the timeline, as in the draft and
    // the status: a deleted (mistyped) early event must not shift them all.
    std::optional<Timestamp> start;
    for (const auto& e : all) {
      if (e.deleted) {
        ++deleted;
        continue;
      }
      if (!start) start = e.occurred_at;
      lines.push_back(event_line(e, *start));
    }
    constexpr std::size_t kMaxLines = 100;
    std::string head = fmt::format(
        "Timeline of {} ({} events, all times UTC{}):", incident_ref(incident->id), lines.size(),
        is_utc(zone_) ? std::string() : fmt::format(", local {} in brackets", zone_.name()));
    if (lines.size() > kMaxLines) {
      lines.erase(lines.begin(), lines.end() - kMaxLines);
      head += fmt::format(" the last {} shown; the draft has them all.", kMaxLines);
    }
    if (deleted > 0) {
      lines.push_back(fmt::format("({} deleted event{} kept in the audit trail, not shown.)",
                                  deleted, deleted == 1 ? "" : "s"));
    }
    return ephemeral(std::move(head), std::move(lines));
  }

  Reply run(const grammar::EditEvent& ed, Transaction& tx) {
    return change_incident(
        tx,
        [&](Incident& incident) -> Reply {
          auto found = editable_event(tx, incident, ed.seq);
          if (auto* refusal = std::get_if<Reply>(&found)) return *refusal;
          TimelineEvent event = std::get<TimelineEvent>(found);
          const EventRevision previous = revision_of(event, "edit");
          if (ed.kind) event.kind = *ed.kind;
          if (ed.when) event.occurred_at = ed.when->at;
          if (!ed.text.empty()) event.text = ed.text;
          event.revision += 1;
          tx.revise_event(event, previous);
          std::vector<std::string> details = {
              fmt::format("Was: {} at {} (kept in the audit trail).", previous.text,
                          show_time(previous.occurred_at))};
          read_note(ed.when, details);
          return to_channel(fmt::format("✏️ #{} edited: {} at {}", event.seq, event.text,
                                        show_time(event.occurred_at)),
                            std::move(details));
        },
        /*allow_resolved=*/true);
  }

  Reply run(const grammar::DeleteEvent& d, Transaction& tx) {
    return change_incident(
        tx,
        [&](Incident& incident) -> Reply {
          auto found = editable_event(tx, incident, d.seq);
          if (auto* refusal = std::get_if<Reply>(&found)) return *refusal;
          TimelineEvent event = std::get<TimelineEvent>(found);
          const EventRevision previous = revision_of(event, "delete");
          event.deleted = true;
          event.revision += 1;
          tx.revise_event(event, previous);
          return to_channel(
              fmt::format("🗑️ #{} deleted from the timeline: {} (kept in the "
                          "audit trail).",
                          event.seq, event.text));
        },
        /*allow_resolved=*/true);
  }

  Reply run(const grammar::AddAction& a, Transaction& tx) {
    return change_incident(
        tx,
        [&](Incident& incident) -> Reply {
          if (auto refusal = full(tx, incident, IncidentPart::kActions)) return *refusal;
          ActionItem item;
          item.incident_id = incident.id;
          item.text = a.text;
          if (a.owner) item.owner = person_for(*a.owner);
          item.due = a.due;
          item.kind = a.kind;
          item.created_by = inv_.user;
          item.created_at = inv_.received_at;
          item = tx.add_action(item);
          hint(tx, incident, item, fmt::format("action #{}", item.seq),
               fmt::format("action:{}", item.id));
          std::vector<std::string> details;
          if (tracking_.enabled && tracking_.auto_track) {
            request_tracking(tx, item, inv_.received_at);
            enqueued_ = true;
            details.push_back(
                fmt::format("🎫 An issue for it is being created in {}.", tracking_.name));
          }
          if (!item.owner) {
            details.push_back(no_owner_warning(item));
          }
          if (!item.due)
            details.push_back("⚠️ No due date: add `due YYYY-MM-DD` or `due +7d`.");
          if (a.due_note) details.push_back("⚠️ The " + *a.due_note + ".");
          if (item.kind == ActionKind::kNone) {
            details.push_back("Tip: tag it `#detect`, `#mitigate`, `#prevent` or `#process`.");
          }
          if (!details.empty()) {
            details.push_back(fmt::format(
                "Add the missing parts with `{0}action assign|due|kind {1} …`; `{0}action list` "
                "shows all.",
                prefix(), item.seq));
          }
          return to_channel(fmt::format("📌 Action {} for {}: {}", action_items::summary(item),
                                        incident_ref(incident.id), item.text),
                            std::move(details));
        },
        /*allow_resolved=*/true);
  }

  Reply run(const grammar::ListActions&, Transaction& tx) {
    auto incident = tx.current_incident(inv_.channel);
    if (!incident) incident = tx.latest_incident(inv_.channel);
    if (!incident) return no_incident();
    std::vector<std::string> lines;
    int open = 0;
    const std::vector<ActionRevision> history = tx.action_revisions(incident->id);
    const std::vector<ActionItem> items = tx.actions(incident->id);
    for (const auto& item : items) {
      if (item.status == ActionStatus::kOpen) ++open;
      lines.push_back(action_items::line(item));
      append_history(lines, item, history);
    }
    if (lines.empty()) {
      return ephemeral(
          fmt::format("{} has no action items yet. Add one with `{}action <text> "
                      "@owner due +7d #prevent`.",
                      incident_ref(incident->id), prefix()));
    }
    // The head is formatted first: in one call, `std::move(lines)` may be evaluated
    // before `lines.size()` (argument order is unspecified) and count nothing.
    std::string head = fmt::format(
        "Action items of {} ({} open of {}):", incident_ref(incident->id), open, items.size());
    return ephemeral(std::move(head), std::move(lines));
  }

  Reply run(const grammar::SetActionStatus& s, Transaction& tx) {
    const bool done = s.status == ActionStatus::kDone;
    return change_action(tx, s.seq, [&](ActionItem& item) -> std::optional<Reply> {
      if (item.status == s.status) {
        return ephemeral(fmt::format("Action #{} is already {}.", s.seq, to_string(s.status)));
      }
      item.status = s.status;
      item.drop_reason.reset();
      if (done) {
        item.done_at = inv_.received_at;
        item.done_by = inv_.user;
      } else {
        item.done_at.reset();
        item.done_by.reset();
      }
      std::vector<std::string> details;
      if (tracking_.enabled && request_state_sync(tx, item, inv_.received_at)) {
        enqueued_ = true;
        details.push_back(fmt::format("Its {} issue{} will be {} too.", tracking_.name,
                                      item.tracker_key ? " " + *item.tracker_key : "",
                                      done ? "closed" : "reopened"));
      }
      return to_channel(fmt::format("{} Action #{} {}: {}", done ? "☑️" : "↩️", s.seq,
                                    done ? "done" : "reopened", item.text),
                        std::move(details));
    });
  }

  Reply run(const grammar::EditAction& e, Transaction& tx) {
    return change_action(
        tx, e.seq,
        [&](ActionItem& item) -> std::optional<Reply> {
          if (!e.text.empty()) item.text = e.text;
          if (e.owner) item.owner = person_for(*e.owner);
          if (e.due) item.due = e.due;
          if (e.kind != ActionKind::kNone) item.kind = e.kind;
          return std::nullopt;
        },
        e.due_note);
  }

  Reply run(const grammar::AssignAction& a, Transaction& tx) {
    return change_action(tx, a.seq, [&](ActionItem& item) -> std::optional<Reply> {
      item.owner = person_for(a.owner);
      return std::nullopt;
    });
  }

  Reply run(const grammar::SetActionDue& d, Transaction& tx) {
    return change_action(
        tx, d.seq,
        [&](ActionItem& item) -> std::optional<Reply> {
          item.due = d.due;
          return std::nullopt;
        },
        d.due_note);
  }

  Reply run(const grammar::SetActionKind& k, Transaction& tx) {
    return change_action(tx, k.seq, [&](ActionItem& item) -> std::optional<Reply> {
      item.kind = k.kind;
      return std::nullopt;
    });
  }

  Reply run(const grammar::DropAction& d, Transaction& tx) {
    return change_action(tx, d.seq, [&](ActionItem& item) -> std::optional<Reply> {
      if (item.status == ActionStatus::kDropped) {
        return ephemeral(fmt::format("Action #{} was already dropped: {}", d.seq,
                                     item.drop_reason.value_or("no reason given")));
      }
      if (item.status == ActionStatus::kDone) {
        return ephemeral(fmt::format(
            "Action #{} is done; there is nothing to drop. `{}action reopen {}` first if it "
            "was not really done.",
            d.seq, prefix(), d.seq));
      }
      item.status = ActionStatus::kDropped;
      item.drop_reason = d.reason;
      std::vector<std::string> details = {
          "Reason: " + d.reason,
          fmt::format("No more reminders. `{}action reopen {}` takes it up again.", prefix(),
                      d.seq)};
      if (tracking_.enabled && request_state_sync(tx, item, inv_.received_at)) {
        enqueued_ = true;
        details.push_back(fmt::format("Its {} issue will be closed too.", tracking_.name));
      }
      return to_channel(fmt::format("🚫 Action #{} dropped (won't do): {}", d.seq, item.text),
                        std::move(details));
    });
  }

  Reply run(const grammar::TrackAction& t, Transaction& tx) {
    if (!tracking_.enabled) {
      return ephemeral(
          "No issue tracker is configured on this Scribe; ask the operator to set one up "
          "(README, \"Issue trackers\").");
    }
    return change_incident(
        tx,
        [&](Incident& incident) -> Reply {
          auto item = tx.find_action(incident.id, t.seq);
          if (!item) {
            return ephemeral(fmt::format("{} has no action item #{}; see `{}action list`.",
                                         incident_ref(incident.id), t.seq, prefix()));
          }
          switch (request_tracking(tx, *item, inv_.received_at)) {
            case TrackRequest::kAlreadyTracked:
              return ephemeral(fmt::format("Action #{} is already tracked in {}: {} {}", t.seq,
                                           tracking_.name, *item->tracker_key, item->tracker_url));
            case TrackRequest::kPending:
              return ephemeral(fmt::format(
                  "Action #{}'s {} issue is on its way; `{}action list` shows it once created.",
                  t.seq, tracking_.name, prefix()));
            case TrackRequest::kQueued:
              break;
          }
          enqueued_ = true;
          return to_channel(
              fmt::format("🎫 Action #{} will be tracked in {}: {}", t.seq, tracking_.name,
                          item->text),
              {fmt::format("`{}action list` shows the issue once it is created.", prefix())});
        },
        /*allow_resolved=*/true);
  }

  Reply run(const grammar::ListMyActions&, Transaction& tx) {
    std::vector<ActionItem> items = tx.open_actions_owned_by(inv_.user, inv_.channel.platform);
    std::map<IncidentId, Incident> incidents;
    for (const ActionItem& item : items) {
      if (incidents.count(item.incident_id)) continue;
      if (auto incident = tx.find_incident(item.incident_id)) {
        incidents.emplace(item.incident_id, std::move(*incident));
      }
    }
    if (items.empty()) {
      return ephemeral("You own no open action items, in any incident.");
    }
    const date::local_days today = local_day(inv_.received_at);
    action_items::sort_for_owner(items, today);
    std::vector<std::string> lines;
    int late = 0;
    for (const ActionItem& item : items) {
      const auto it = incidents.find(item.incident_id);
      std::string where = incident_ref(item.incident_id);
      if (it != incidents.end()) {
        where += fmt::format(" \"{}\" (channel {})", it->second.title, it->second.channel.channel);
      }
      std::string when;
      if (auto days = action_items::days_overdue(item, today)) {
        ++late;
        when = fmt::format(" — ⚠️ overdue by {} day{}", *days, *days == 1 ? "" : "s");
      }
      lines.push_back(fmt::format("{} · {}{}", where, action_items::line(item), when));
    }
    lines.push_back(
        fmt::format("Close one with `{0}action done N` in its incident's channel, or "
                    "`{0}action drop N <reason>`.",
                    prefix()));
    std::string head = fmt::format(
        "Your open action items ({}, {} overdue), across all incidents:", items.size(), late);
    return ephemeral(std::move(head), std::move(lines));
  }

 private:
  // A refusal when `incident` already holds its cap of `part` (commands/limits.h), read in
  // the transaction that would add one more. What brings an incident and its postmortem to
  // an end (mitigated, resolved, close, review request, approve) is not checked: a full
  // incident can always be finished, and those add at most a handful of events each
  // (reopen, which would start the cycle again, is checked).
  std::optional<Reply> full(Transaction& tx, const Incident& incident, IncidentPart part) const {
    const std::int64_t count = tx.count_in_incident(incident.id, part);
    if (auto text = cap_reached(count, caps_, part, incident.id, prefix())) {
      refused_.count(part == IncidentPart::kEvents  ? Limit::kEvents
                     : part == IncidentPart::kNotes ? Limit::kNotes
                                                    : Limit::kActions);
      spdlog::info("{} of {} refused: {}", inv_.command, incident_ref(incident.id), *text);
      return ephemeral(std::move(*text));
    }
    return std::nullopt;
  }

  // Runs `change` on the channel's current incident or, when it has none, on its latest
  // closed one: action items are followed up after the incident is closed.
  template <typename Change>
  Reply change_incident_or_closed(Transaction& tx, Change&& change) {
    auto incident = tx.current_incident(inv_.channel);
    if (!incident) incident = tx.latest_incident(inv_.channel);
    if (!incident) return no_incident();
    return change(*incident);
  }

  // Runs `change` on the channel's current incident.
  template <typename Change>
  Reply change_incident(Transaction& tx, Change&& change, bool allow_resolved = false) {
    auto incident = tx.current_incident(inv_.channel);
    if (!incident) return no_incident();
    if (!allow_resolved && incident->status == IncidentStatus::kResolved) {
      return ephemeral(fmt::format("{} is resolved. `{}incident reopen` to change it.",
                                   incident_ref(incident->id), prefix()));
    }
    return change(*incident);
  }

  // Runs `change` on action item `seq` of the channel's incident. `change` edits the item
  // and returns nothing, or returns a reply and leaves it alone (a refusal, or its own
  // answer). What changed is stored with its audit trail in the same transaction; a
  // change that changes nothing is answered as such and stores nothing.
  template <typename Change>
  Reply change_action(Transaction& tx, int seq, Change&& change,
                      const std::optional<std::string>& due_note = std::nullopt) {
    return change_incident_or_closed(tx, [&](Incident& incident) -> Reply {
      auto item = tx.find_action(incident.id, seq);
      if (!item) {
        return ephemeral(fmt::format("{} has no action item #{}; see `{}action list`.",
                                     incident_ref(incident.id), seq, prefix()));
      }
      const ActionItem before = *item;
      std::optional<Reply> answer = change(*item);
      const std::vector<ActionRevision> changes =
          action_items::changes_between(before, *item, inv_.user, inv_.received_at);
      if (changes.empty()) {
        if (answer) return *answer;
        return ephemeral(fmt::format("Nothing to change: action #{} is already so.", seq),
                         {action_items::line(before)});
      }
      if (answer && answer->visibility == Visibility::kEphemeral) return *answer;
      tx.revise_action(*item, changes);
      if (answer) return *answer;
      std::vector<std::string> parts;
      for (const ActionRevision& c : changes) parts.push_back(action_items::describe(c));
      std::vector<std::string> details = {action_items::line(*item)};
      if (due_note) details.push_back("⚠️ The " + *due_note + ".");
      if (!item->owner) details.push_back(no_owner_warning(*item));
      return to_channel(
          fmt::format("✏️ Action #{} of {}: {} (by {})", seq, incident_ref(incident.id),
                      fmt::join(parts, "; "), mention(inv_.user)),
          std::move(details));
    });
  }

  // A milestone earlier than the declaration (beyond kMilestoneTolerance: people round
  // "14:05" down) would make every duration of the postmortem negative: refused, with
  // the way to record an incident noticed late. Computed on whole seconds, which cannot
  // overflow whatever the stored times.
  std::optional<Reply> milestone_before_declaration(const Incident& incident, EventKind kind,
                                                    Timestamp at) const {
    const std::chrono::seconds early = seconds_between(at, incident.declared_at);
    if (early <= kMilestoneTolerance) return std::nullopt;
    const std::string_view word = kind == EventKind::kResolved ? "resolved" : "mitigated";
    return ephemeral(
        fmt::format("{} was declared at {}; it cannot be {} at {}, {} before that.",
                    incident_ref(incident.id), show_time(incident.declared_at), word, show_time(at),
                    format_duration(early)),
        {fmt::format("Give a time after the declaration, or none for now. If the incident began "
                     "before it was declared, record that on the timeline: `{}timeline <time> "
                     "#impact <what happened>`.",
                     prefix())});
  }

  // "5m 00s ago"; a time after now (a clock gone wrong) as "5m 00s from now", not "-5m ago".
  static std::string since(std::chrono::seconds elapsed) {
    return relative(elapsed, "ago", "from now");
  }

  // "3m 00s after"/"2m 00s before": a duration with its sign in words. -d cannot overflow:
  // seconds_between never returns seconds::min().
  static std::string relative(std::chrono::seconds d, std::string_view positive,
                              std::string_view negative) {
    if (d.count() >= 0) return fmt::format("{} {}", format_duration(d), positive);
    return fmt::format("{} {}", format_duration(-d), negative);
  }

  // "No owner", and how to name one; an @mention left in the text is the likely owner.
  std::string no_owner_warning(const ActionItem& item) const {
    std::string warning = "⚠️ No owner: an action item needs one.";
    for (const auto& p : inv_.mentions) {
      if (item.text.find("@" + p.name) != std::string::npos) {
        return warning + fmt::format(" To make @{} the owner: `{}action assign {} @{}`.", p.name,
                                     prefix(), item.seq, p.name);
      }
    }
    return warning + fmt::format(" `{}action assign {} @owner`.", prefix(), item.seq);
  }

  // The changes of `item` in the audit trail, indented under its line; the latest few.
  static void append_history(std::vector<std::string>& lines, const ActionItem& item,
                             const std::vector<ActionRevision>& history) {
    constexpr std::size_t kShown = 3;
    std::vector<const ActionRevision*> mine;
    for (const auto& r : history) {
      if (r.action_id == item.id) mine.push_back(&r);
    }
    const std::size_t skip = mine.size() > kShown ? mine.size() - kShown : 0;
    if (skip > 0)
      lines.push_back(fmt::format("    ↳ {} earlier change{}", skip, skip == 1 ? "" : "s"));
    for (std::size_t i = skip; i < mine.size(); ++i) {
      lines.push_back(fmt::format("    ↳ {} ({}, {})", action_items::describe(*mine[i]),
                                  mention(mine[i]->changed_by), format_utc(mine[i]->changed_at)));
    }
  }

  date::local_days local_day(Timestamp t) const {
    return date::floor<date::days>(zone_.to_local(t));
  }

  // The alerts held for the channel of `incident`, just declared, from the hour before
  // (commands/alerts.h), put on its timeline at their own times, as many as fit.
  std::vector<TimelineEvent> take_in_held_alerts(Transaction& tx, const Incident& incident) {
    std::vector<TimelineEvent> held =
        tx.take_held_alerts(incident.channel, inv_.received_at - kHeldAlertsWindow);
    // The declaration is one event already.
    const auto room = static_cast<std::size_t>(std::max<std::int64_t>(caps_.events - 1, 0));
    if (held.size() > room) held.resize(room);
    for (TimelineEvent& e : held) {
      e.incident_id = incident.id;
      e = tx.append_event(std::move(e));
    }
    return held;
  }

  TimelineEvent append(Transaction& tx, const Incident& incident, EventKind kind, Timestamp at,
                       std::string text) {
    TimelineEvent e;
    e.incident_id = incident.id;
    e.kind = kind;
    e.occurred_at = at;
    e.recorded_at = inv_.received_at;
    e.author = inv_.user;
    e.text = std::move(text);
    return tx.append_event(std::move(e));
  }

  std::variant<TimelineEvent, Reply> editable_event(Transaction& tx, const Incident& incident,
                                                    int seq) {
    auto event = tx.find_event(incident.id, seq);
    if (!event) {
      return ephemeral(fmt::format("{} has no timeline event #{}; see `{}timeline list`.",
                                   incident_ref(incident.id), seq, prefix()));
    }
    if (event->deleted) {
      return ephemeral(fmt::format("Event #{} was already deleted.", seq));
    }
    if (is_milestone(event->kind)) {
      return ephemeral(
          fmt::format("#{} is a milestone ({}); it changes only through `{}incident` commands.",
                      seq, to_string(event->kind), prefix()));
    }
    return *event;
  }

  EventRevision revision_of(const TimelineEvent& e, std::string change) const {
    EventRevision r;
    r.event_id = e.id;
    r.seq = e.seq;
    r.revision = e.revision;
    r.change = std::move(change);
    r.kind = e.kind;
    r.occurred_at = e.occurred_at;
    r.text = e.text;
    r.changed_by = inv_.user;
    r.changed_at = inv_.received_at;
    return r;
  }

  // An @mention as written; the adapter told us who it names when the platform knows.
  Person person_for(const std::string& token) const {
    const std::string name = token.substr(1);
    for (const auto& p : inv_.mentions) {
      if (p.name == name || p.id == name) return p;
    }
    return Person{"", name};
  }

  Reply no_incident() const {
    return ephemeral(
        fmt::format("There is no open incident in this channel. Declare one with `{}incident start "
                    "[sev1-sev4] <title>`.",
                    prefix()));
  }

  // What the user should know about how a backdated time was read: the zone, when it is
  // not simply the channel's UTC, and the parser's own remarks.
  void read_note(const std::optional<TimeOk>& when, std::vector<std::string>& details) const {
    if (!when) return;
    if (!when->local_token.empty()) {
      const date::time_zone& reading = *zones_.reading;
      const std::string as = fmt::format("read as {} {} ({})", when->local_token, reading.name(),
                                         format_utc(when->at));
      switch (zones_.source) {
        case ZoneChoice::Source::kAuthor:
          details.push_back(
              fmt::format("{}: your own time zone; this channel's is {}.", as, zone_.name()));
          break;
        case ZoneChoice::Source::kAuthorUnknown:
          details.push_back(fmt::format(
              "{}: this channel's time zone, since yours is not known to Scribe yet (it will "
              "be in a moment). Write `{}Z` to give UTC.",
              as, when->local_token));
          break;
        case ZoneChoice::Source::kChannel:
          if (!is_utc(reading)) details.push_back(as + ": this channel's time zone.");
          break;
      }
    }
    if (!when->note.empty()) details.push_back(when->note);
  }

 public:
  Reply run(const grammar::ShowChannelZone&, Transaction& tx) {
    const std::vector<ChannelZone> history = tx.channel_zones(inv_.channel);
    std::vector<std::string> lines;
    constexpr std::size_t kShown = 5;
    const std::size_t skip = history.size() > kShown ? history.size() - kShown : 0;
    for (std::size_t i = skip; i < history.size(); ++i) {
      lines.push_back(fmt::format("{} set by {} at {}", history[i].zone, mention(history[i].set_by),
                                  format_utc(history[i].set_at)));
    }
    const std::string now_local = format_local(inv_.received_at, zone_);
    if (history.empty()) {
      return ephemeral(
          fmt::format("This channel uses the service's time zone, {} (now {}). Set "
                      "its own with `{}incident tz Area/City`.",
                      zone_.name(), now_local, prefix()));
    }
    return ephemeral(
        fmt::format("This channel's time zone is {} (now {}).", zone_.name(), now_local),
        std::move(lines));
  }

  Reply run(const grammar::SetChannelZone& z, Transaction& tx) {
    if (z.zone == zone_.name()) {
      return ephemeral(fmt::format("This channel's time zone is already {}.", z.zone));
    }
    const std::string before(zone_.name());
    tx.set_channel_zone(ChannelZone{inv_.channel, z.zone, inv_.user, inv_.received_at});
    return to_channel(
        fmt::format("🕰️ This channel's time zone is now {} (was {}), set by {}.", z.zone,
                    before, mention(inv_.user)),
        {fmt::format("Backdated times like `{}timeline 14:05 …` are read in it, and drafts show "
                     "its local times beside UTC. Now: {}.",
                     prefix(), format_local(inv_.received_at, *date::locate_zone(z.zone)))});
  }

 private:
  // UTC always; the channel's zone as well when it is not UTC.
  std::string show_time(Timestamp t) const {
    const std::string utc = format_utc(t);
    if (is_utc(zone_)) return utc;
    return fmt::format("{} ({})", utc, format_local(t, zone_));
  }

  std::string event_line(const TimelineEvent& e, Timestamp start) const {
    const std::string local =
        is_utc(zone_) ? std::string()
                      : fmt::format(" ({})", format_local_datetime(e.occurred_at, &zone_));
    std::string links;
    for (const EventLink& l : e.links) {
      links += fmt::format(" · {}{}", l.title.empty() ? "" : l.title + ": ", l.url);
    }
    return fmt::format("#{} {}{} {} {} {}: {}{}{}", e.seq, format_utc_datetime(e.occurred_at),
                       local, format_offset(seconds_between(start, e.occurred_at)),
                       to_string(e.kind), mention(e.author), e.text, links,
                       e.revision > 0 ? " (edited)" : "");
  }

  std::string resolution_summary(const Draft& d) const {
    std::vector<std::string> parts;
    for (const auto& k : d.durations) {
      parts.push_back(fmt::format(
          "{}: {}", k.measure, k.seconds ? format_duration(*k.seconds) : std::string("unknown")));
    }
    return fmt::format("{}; {} timeline events, {} action items.", fmt::join(parts, "; "),
                       d.timeline.size(), d.actions.size());
  }

  Reply status_reply(Transaction& tx, const Incident& incident) const {
    std::vector<std::string> lines;
    lines.push_back(fmt::format("Severity {} · status {} · commander {}",
                                to_string(incident.severity), status_word(incident.status),
                                mention(incident.commander)));
    lines.push_back(fmt::format("Declared {} ({})", show_time(incident.declared_at),
                                since(seconds_between(incident.declared_at, inv_.received_at))));
    if (incident.mitigated_at) {
      lines.push_back(
          fmt::format("Mitigated {} ({} declaration)", show_time(*incident.mitigated_at),
                      relative(seconds_between(incident.declared_at, *incident.mitigated_at),
                               "after", "before")));
    }
    if (incident.resolved_at) {
      lines.push_back(
          fmt::format("Resolved {} ({} declaration)", show_time(*incident.resolved_at),
                      relative(seconds_between(incident.declared_at, *incident.resolved_at),
                               "after", "before")));
    }
    const auto events = tx.events(incident.id, /*include_deleted=*/false);
    if (!events.empty()) {
      lines.push_back(fmt::format("Last events ({} in all):", events.size()));
      const std::size_t first = events.size() > 5 ? events.size() - 5 : 0;
      for (std::size_t i = first; i < events.size(); ++i) {
        lines.push_back("  " + event_line(events[i], events.front().occurred_at));
      }
    }
    int open = 0;
    std::vector<std::string> open_lines;
    for (const auto& item : tx.actions(incident.id)) {
      if (item.status != ActionStatus::kOpen) continue;
      ++open;
      open_lines.push_back("  " + action_items::line(item));
    }
    lines.push_back(fmt::format("Open action items: {}", open));
    lines.insert(lines.end(), open_lines.begin(), open_lines.end());
    return ephemeral(fmt::format("{} \"{}\"", incident_ref(incident.id), incident.title),
                     std::move(lines));
  }

  // When the entry just typed is flagged by the review's entry rules, its author alone gets
  // a quiet hint through the outbox (ephemeral in Slack, a notice in Matrix), once per entry
  // (`key` dedupes it), in the same transaction as the entry, never instead of it. Only
  // where the outbox can post: elsewhere the only answer is the command's reply, which the
  // channel sees. The people are those known without reading the timeline: commander,
  // postmortem owner, author, mentions (an @mention counts anyway).
  template <typename Entry>
  void hint(Transaction& tx, const Incident& incident, const Entry& entry, const std::string& what,
            const std::string& key) {
    if (!can_post_) return;
    EntryContext context;
    context.people = {incident.commander, postmortem_owner_of(incident), inv_.user};
    context.people.insert(context.people.end(), inv_.mentions.begin(), inv_.mentions.end());
    context.now = inv_.received_at;
    std::vector<Finding> findings = reviewer_->review_entry(entry, context);
    // The reply to a new action item already asks for a missing owner, due date or kind.
    std::erase_if(findings, [](const Finding& f) {
      return f.code == "no_owner" || f.code == "no_due" || f.code == "no_kind";
    });
    if (findings.empty()) return;
    OutgoingMessage message;
    message.body.visibility = Visibility::kEphemeral;
    message.body.text = fmt::format("💡 A reviewer's note on {} (only you see this):", what);
    message.body.details = finding_lines(findings);
    message.body.details.push_back(fmt::format(
        "Nothing is blocked; reword it if you agree (`{}incident review` lists every finding).",
        prefix()));
    message.notify = {inv_.user};
    OutboxMessage m;
    m.channel = incident.channel;
    m.created_at = inv_.received_at;
    m.next_attempt_at = inv_.received_at;
    m.content = to_json(message);
    m.dedupe_key = fmt::format("hint:{}:{}", incident.id, key);
    tx.enqueue(m);
    enqueued_ = true;
  }

  // The draft goes to the channel through the outbox: a short summary message, then the
  // draft in pieces that fit a message, as replies in its thread.
  void post_draft(Transaction& tx, const Incident& incident, const Draft& draft,
                  const std::string& markdown) {
    OutboxMessage summary;
    summary.channel = incident.channel;
    summary.created_at = inv_.received_at;
    summary.next_attempt_at = inv_.received_at;
    OutgoingMessage head;
    head.body.text = fmt::format("📝 Postmortem draft of {}: {}", draft.ref, incident.title);
    head.body.details = {resolution_summary(draft), "The whole draft follows in this thread."};
    head.body.incident = incident.id;
    summary.content = to_json(head);
    summary.dedupe_key =
        fmt::format("draft:{}:{}", incident.id, inv_.received_at.time_since_epoch().count());
    const std::int64_t parent = tx.enqueue(summary);
    int part = 0;
    for (auto& piece : split_markdown(markdown, traits_.max_message_bytes)) {
      OutboxMessage m = summary;
      OutgoingMessage body;
      body.body.document = std::move(piece);
      body.body.incident = incident.id;
      m.content = to_json(body);
      m.thread_parent = parent;
      m.dedupe_key = fmt::format("{}:{}", summary.dedupe_key, ++part);
      tx.enqueue(m);
    }
    enqueued_ = true;
  }

  // How users type commands on the invocation's platform, for help texts.
  const std::string& prefix() const { return traits_.prefix; }
  // The organisation's draft template, or null for Scribe's own draft.
  const DraftTemplate* tmpl() const { return draft_template_.get(); }

  const date::time_zone& zone_;  // the channel's: times are shown in it
  const ZoneChoice zones_;       // and where backdated wall-clock times were read
  const Invocation inv_;
  const PlatformTraits traits_;
  bool can_post_;
  const std::shared_ptr<const Reviewer> reviewer_;
  const CloseGateSettings gate_;
  const IncidentCaps caps_;
  LimitCounters& refused_;
  const std::shared_ptr<const DraftTemplate> draft_template_;
  const TrackingSettings tracking_;
  const PublishSettings& publishing_;  // the handler's, which outlives every execution
  bool enqueued_ = false;
};

// What each command needs of the store; a change unless listed otherwise.
template <typename C>
constexpr Access kAccess = Access::kWrite;
template <>
constexpr Access kAccess<grammar::UsageError> = Access::kNone;
template <>
constexpr Access kAccess<grammar::ShowHelp> = Access::kNone;
template <>
constexpr Access kAccess<grammar::ShowStatus> = Access::kRead;
template <>
constexpr Access kAccess<grammar::ShowDraft> = Access::kRead;
template <>
constexpr Access kAccess<grammar::ShowReview> = Access::kRead;
template <>
constexpr Access kAccess<grammar::ShowTrends> = Access::kRead;
template <>
constexpr Access kAccess<grammar::ShowRelated> = Access::kRead;
template <>
constexpr Access kAccess<grammar::ShowChannelZone> = Access::kRead;
template <>
constexpr Access kAccess<grammar::ListEvents> = Access::kRead;
template <>
constexpr Access kAccess<grammar::ListActions> = Access::kRead;
template <>
constexpr Access kAccess<grammar::ListMyActions> = Access::kRead;

// ---- the work of the other entry points, each a function of its transaction ----

MarkOutcome record_marked(Transaction& tx, const MarkedMessage& m, const IncidentCaps& caps) {
  auto incident = tx.current_incident(m.channel);
  if (!incident) return MarkOutcome::kNoIncident;
  if (tx.count_in_incident(incident->id, IncidentPart::kEvents) >= caps.events) {
    return MarkOutcome::kIncidentFull;  // the adapter logs it
  }
  const std::string key = fmt::format("{}/{}/{}/{}", m.channel.platform, m.channel.workspace,
                                      m.channel.channel, m.message_id);
  if (!tx.first_delivery("marked-message", key, m.received_at)) {
    return MarkOutcome::kAlreadyRecorded;
  }
  TimelineEvent e;
  e.incident_id = incident->id;
  e.kind = EventKind::kNote;
  e.occurred_at = m.written_at;
  e.recorded_at = m.received_at;
  e.author = m.author;
  e.text = m.text.empty() ? "(a pinned message without text)" : m.text;
  e.links = m.links;
  tx.append_event(std::move(e));
  return MarkOutcome::kRecorded;
}

MarkOutcome defer_marked(Transaction& tx, const MarkedMessage& m, const std::string& content) {
  if (!tx.current_incident(m.channel)) return MarkOutcome::kNoIncident;
  OutboxMessage job;
  job.channel = m.channel;
  job.kind = JobKind::kFetch;
  job.content = content;
  job.dedupe_key = fmt::format("fetch:{}/{}/{}/{}", m.channel.platform, m.channel.workspace,
                               m.channel.channel, m.message_id);
  job.created_at = m.received_at;
  job.next_attempt_at = m.received_at;
  const bool existed = tx.find_outbox_by_key(job.dedupe_key).has_value();
  tx.enqueue(job);
  return existed ? MarkOutcome::kAlreadyRecorded : MarkOutcome::kRecorded;
}

// `id`: the item the button names; `prefix`: how users type commands in the press's channel.
PressOutcome apply_press(Transaction& tx, const ButtonPress& p, std::int64_t id,
                         std::string_view prefix, bool tracking) {
  const bool done = p.action == kActionDone;
  std::optional<ActionItem> item = tx.find_action_by_id(id);
  if (!item) return PressOutcome::kNoSuchItem;
  const std::optional<Incident> incident = tx.find_incident(item->incident_id);
  if (!incident) return PressOutcome::kNoSuchItem;
  if (!same_channel(incident->channel, p.channel)) return PressOutcome::kOtherChannel;
  if (item->status == ActionStatus::kDone) return PressOutcome::kAlreadyDone;
  if (!done && item->status == ActionStatus::kDropped) return PressOutcome::kDropped;

  const ActionItem before = *item;
  const std::string who = "@" + (p.user.name.empty() ? p.user.id : p.user.name);
  const std::string about = fmt::format("Action #{} of {} \"{}\"", item->seq,
                                        incident_ref(incident->id), incident->title);
  OutgoingMessage update;
  PressOutcome outcome;
  if (done) {
    item->status = ActionStatus::kDone;
    item->drop_reason.reset();
    item->done_at = p.received_at;
    item->done_by = p.user;
    update.body.text = fmt::format("☑️ Done: {} — marked by {}", item->text, who);
    update.body.details = {about};
    outcome = PressOutcome::kDone;
  } else {
    item->snoozed_until = p.received_at + kSnoozeFor;
    update.body.text = fmt::format("💤 Snoozed until {} by {}: {}", format_utc(*item->snoozed_until),
                                   who, item->text);
    update.body.details = {
        about,
        fmt::format("Done? Click \"Mark done\" or type `{}action done {}`.", prefix, item->seq)};
    update.buttons = {{"Mark done", std::string(kActionDone), std::to_string(item->id)}};
    outcome = PressOutcome::kSnoozed;
  }
  tx.revise_action(*item, action_items::changes_between(before, *item, p.user, p.received_at));
  if (done && tracking) request_state_sync(tx, *item, p.received_at);

  update.body.visibility = Visibility::kChannel;
  update.body.incident = incident->id;
  if (!p.message_id.empty()) update.replaces = p.message_id;
  OutboxMessage message;
  message.channel = incident->channel;
  message.kind = update.replaces ? JobKind::kUpdate : JobKind::kPost;
  message.content = to_json(update);
  message.dedupe_key = fmt::format("press:{}:{}:{}:{}", item->id, p.action, p.message_id,
                                   p.received_at.time_since_epoch().count());
  message.created_at = p.received_at;
  message.next_attempt_at = p.received_at;
  tx.enqueue(std::move(message));
  return outcome;
}

grammar::Command parse_with(const Invocation& inv, const PlatformTraits& traits,
                            const ZoneChoice& zones) {
  grammar::ParseContext context;
  context.prefix = traits.prefix;
  context.now = inv.received_at;
  context.zone = zones.reading;
  context.mentions = inv.mentions;
  return grammar::parse(inv.command, inv.text, context);
}

// The channel's zone as stored (its latest `/incident tz`), else `fallback` (the service's).
const date::time_zone* channel_zone(Transaction& tx, const ChannelRef& channel,
                                    const date::time_zone* fallback) {
  const std::vector<ChannelZone> settings = tx.channel_zones(channel);
  if (settings.empty()) return fallback;
  const date::time_zone* z = zone_named(settings.back().zone);
  if (z == nullptr) {
    // Only if the tz database lost a name it had when the setting was checked.
    spdlog::warn("channel {}/{} has time zone '{}', unknown to this tz database; using {}",
                 channel.platform, channel.channel, settings.back().zone, fallback->name());
    return fallback;
  }
  return z;
}

OutboxMessage job_at(const ChannelRef& channel, JobKind kind, std::string content, Timestamp at,
                     const std::string& dedupe_key) {
  OutboxMessage m;
  m.channel = channel;
  m.kind = kind;
  m.content = std::move(content);
  m.dedupe_key = dedupe_key;
  m.created_at = at;
  m.next_attempt_at = at;
  return m;
}

}  // namespace

CommandHandler::CommandHandler(Store& store, const date::time_zone* zone, HandlerOptions options)
    : store_(store),
      zone_(zone),
      options_(std::move(options)),
      rate_limiter_(std::make_unique<RateLimiter>(options_.limits.rate, options_.rate_clock)),
      refused_(std::make_unique<LimitCounters>()),
      reviewer_(std::make_shared<const Reviewer>(options_.review)),
      zones_(std::make_shared<ChannelZoneCache>()) {}

template <typename Result>
Result CommandHandler::transact(Access access, const std::function<Result(Transaction&)>& work,
                                bool (*enqueued)(const Result&)) {
  std::optional<Result> result;
  const auto run = [&](Transaction& tx) { result.emplace(work(tx)); };
  if (access == Access::kWrite) {
    store_.write(run);
  } else {
    store_.read(run);
  }
  if (enqueued != nullptr && enqueued(*result)) wake_outbox();
  return std::move(*result);
}

void CommandHandler::wake_outbox() const {
  if (options_.outbox_wake) options_.outbox_wake();
}

PreparedCommand CommandHandler::prepare(const Invocation& invocation) const {
  const PlatformTraits& traits = options_.platforms.of(invocation.channel.platform);
  if (std::optional<Reply> refusal = over_limits(invocation)) {
    PreparedCommand refused;
    refused.access = Access::kNone;
    refused.answer = std::move(refusal);
    return refused;
  }
  // The channel's zone is in the store, which prepare does not read: the command is parsed
  // here with the zone last seen for the channel only to learn what it needs of the store,
  // and parsed again inside its transaction with the zone stored there (parsing is cheap).
  const ZoneChoice guess = choose_zone(invocation, zones_->get(invocation.channel, zone_));
  const bool can_post = options_.posting_platforms.count(invocation.channel.platform) > 0;
  // Everything the work needs, by value or by pointer to what outlives it.
  const auto make = [inv = invocation, traits, can_post, reviewer = reviewer_,
                     gate = &options_.close_gate, caps = options_.limits.per_incident,
                     refused = refused_.get(), tmpl = options_.draft_template,
                     tracking = options_.tracking,
                     publishing = &options_.publishing](const ZoneChoice& zones) {
    return std::make_shared<Execution>(zones, inv, traits, can_post, reviewer, *gate, caps,
                                       *refused, tmpl, tracking, *publishing);
  };
  grammar::Command command = parse_with(invocation, traits, guess);
  return std::visit(
      [&](auto& c) {
        using C = std::decay_t<decltype(c)>;
        PreparedCommand prepared;
        prepared.access = kAccess<C>;
        if constexpr (kAccess<C> == Access::kNone) {
          prepared.answer = make(guess)->run(c);
        } else {
          prepared.work = [make, inv = invocation, traits, zones = zones_, fallback = zone_,
                           automatic = &options_.publishing.automatic](Transaction& tx) {
            // Automatic publishing compares the channel's incident before and after.
            std::optional<Incident> before;
            if (!automatic->empty()) before = tx.latest_incident(inv.channel);
            const date::time_zone* channel = channel_zone(tx, inv.channel, fallback);
            zones->put(inv.channel, channel);
            const ZoneChoice actual = choose_zone(inv, channel);
            auto execution = make(actual);
            grammar::Command again_parsed = parse_with(inv, traits, actual);
            CommandResult result;
            result.reply = std::visit(
                [&](auto& again) -> Reply {
                  using A = std::decay_t<decltype(again)>;
                  // Only a time can read differently in another zone, and only commands that
                  // write take one: the access can only fall (to an answer), never rise.
                  if constexpr (kAccess<A> == Access::kNone) {
                    return execution->run(again);
                  } else {
                    return execution->run(again, tx);
                  }
                },
                again_parsed);
            result.enqueued = execution->enqueued();
            if (!automatic->empty() && kAccess<C> == Access::kWrite) {
              const std::optional<Incident> after = tx.latest_incident(inv.channel);
              if (after && publishes_automatically(before, *after)) {
                for (const std::string& destination : *automatic) {
                  request_publish(tx, after->id, destination, inv.received_at);
                }
                result.enqueued = true;
              }
            }
            return result;
          };
        }
        return prepared;
      },
      command);
}

std::optional<Reply> CommandHandler::over_limits(const Invocation& invocation) const {
  // The rate first: a flood of over-long commands is a flood all the same.
  const std::string bucket = fmt::format("{}\x1f{}\x1f{}", invocation.channel.platform,
                                         invocation.channel.workspace, invocation.channel.channel);
  if (const auto refusal = rate_limiter_->acquire(bucket)) {
    refused_->count(Limit::kChannelRate);
    const bool public_replies = !options_.platforms.of(invocation.channel.platform).private_replies;
    if (refusal->first) {
      spdlog::warn(
          limits::rate_log(fmt::format("{}/{}/{}", invocation.channel.platform,
                                       invocation.channel.workspace, invocation.channel.channel),
                           options_.limits.rate));
    } else if (public_replies) {
      // The room was told once; a notice per refused command would flood it too.
      Reply quiet;
      quiet.silent = true;
      return quiet;
    }
    Reply reply = ephemeral(limits::too_fast(refusal->retry_after, options_.limits.rate));
    if (public_replies) {
      reply.details.push_back("Until then, commands here are not recorded and get no answer.");
    }
    return reply;
  }
  const std::size_t chars = count_code_points(invocation.text);
  if (chars > options_.limits.max_text_chars) {
    refused_->count(Limit::kTextLength);
    return ephemeral(limits::too_long(chars, options_.limits.max_text_chars));
  }
  return std::nullopt;
}

Reply CommandHandler::handle(const Invocation& invocation) {
  PreparedCommand prepared = prepare(invocation);
  if (prepared.access == Access::kNone) return std::move(*prepared.answer);
  return transact<CommandResult>(prepared.access, prepared.work,
                                 [](const CommandResult& r) { return r.enqueued; })
      .reply;
}

namespace {

// Calls `done` with the outcome of an asynchronous store call; see handle_async.
template <typename Done>
void complete(std::exception_ptr error, Done& done, std::function<void()> on_success) {
  if (!error) {
    on_success();
    return;
  }
  try {
    std::rethrow_exception(error);
  } catch (const StoreError& e) {
    // A new message string, not a copy of `e`: the copy would share e's reference-counted
    // one with the writer thread that raised it.
    done(std::optional<StoreError>(StoreError(std::string(e.what()))));
  } catch (const std::exception& e) {
    spdlog::error("a command failed with a programming error: {}", e.what());
  }
}

}  // namespace

void CommandHandler::handle_async(Invocation invocation, std::function<void(Completion)> done) {
  run_async(prepare(invocation), std::move(done));
}

void CommandHandler::run_async(PreparedCommand prepared, std::function<void(Completion)> done) {
  if (prepared.access == Access::kNone) {
    done(Completion{std::move(prepared.answer), std::nullopt});
    return;
  }
  auto result = std::make_shared<std::optional<CommandResult>>();
  auto work = [result, work = std::move(prepared.work)](Transaction& tx) {
    result->emplace(work(tx));
  };
  auto finished = [this, result, done = std::move(done)](std::exception_ptr error) mutable {
    auto on_error = [&done](std::optional<StoreError> e) {
      done(Completion{std::nullopt, std::move(e)});
    };
    complete(error, on_error, [&] {
      if ((*result)->enqueued) wake_outbox();
      done(Completion{std::move((*result)->reply), std::nullopt});
    });
  };
  if (prepared.access == Access::kWrite) {
    store_.write_async(std::move(work), std::move(finished));
  } else {
    store_.read_async(std::move(work), std::move(finished));
  }
}

void CommandHandler::transact_async(std::function<bool(Transaction&)> work,
                                    std::function<void(std::optional<StoreError>)> done) {
  auto enqueued = std::make_shared<bool>(false);
  store_.write_async([enqueued, work = std::move(work)](Transaction& tx) { *enqueued = work(tx); },
                     [this, enqueued, done = std::move(done)](std::exception_ptr error) mutable {
                       complete(error, done, [&] {
                         if (*enqueued) wake_outbox();
                         done(std::nullopt);
                       });
                     });
}

CommandResult CommandHandler::run_in(Transaction& tx, const Invocation& invocation) const {
  PreparedCommand prepared = prepare(invocation);
  if (prepared.access == Access::kNone) return CommandResult{std::move(*prepared.answer), false};
  return prepared.work(tx);
}

MarkOutcome CommandHandler::record_marked_in(Transaction& tx, const MarkedMessage& m) const {
  return record_marked(tx, m, options_.limits.per_incident);
}

MarkOutcome CommandHandler::defer_marked_in(Transaction& tx, const MarkedMessage& m,
                                            const std::string& content) const {
  return defer_marked(tx, m, content);
}

PressOutcome CommandHandler::press_in(Transaction& tx, const ButtonPress& p) const {
  if (p.action != kActionDone && p.action != kActionSnooze) return PressOutcome::kUnknownAction;
  const std::optional<std::int64_t> id = parse_item_id(p.value);
  if (!id) return PressOutcome::kNoSuchItem;
  return apply_press(tx, p, *id, options_.platforms.of(p.channel.platform).prefix,
                     options_.tracking.enabled);
}

void CommandHandler::post_in(Transaction& tx, const ChannelRef& channel,
                             const OutgoingMessage& message, Timestamp at,
                             const std::string& dedupe_key) const {
  tx.enqueue(job_at(channel, message.replaces ? JobKind::kUpdate : JobKind::kPost, to_json(message),
                    at, dedupe_key));
}

void CommandHandler::join_in(Transaction& tx, const ChannelRef& channel, Timestamp at,
                             const std::string& dedupe_key) const {
  tx.enqueue(job_at(channel, JobKind::kJoin, "{}", at, dedupe_key));
}

TrackerOutcome CommandHandler::tracker_state_in(Transaction& tx,
                                                const TrackerReport& report) const {
  ActionItem item;
  const TrackerOutcome outcome = apply_tracker_state(tx, report, &item);
  if (outcome != TrackerOutcome::kDone && outcome != TrackerOutcome::kReopened) return outcome;
  const std::optional<Incident> incident = tx.find_incident(item.incident_id);
  if (!incident || options_.posting_platforms.count(incident->channel.platform) == 0) {
    return outcome;
  }
  OutgoingMessage message;
  message.body.visibility = Visibility::kChannel;
  message.body.incident = incident->id;
  const bool done = outcome == TrackerOutcome::kDone;
  message.body.text = fmt::format("{} Action #{} {} in {} ({}, by {}): {}",
                                  done ? "☑️" : "↩️", item.seq, done ? "done" : "reopened",
                                  options_.tracking.name, report.key, report.by.name, item.text);
  post_in(tx, incident->channel, message, report.at);
  return outcome;
}

AlertOutcome CommandHandler::alert_in(Transaction& tx, const AlertReport& a) const {
  if (!tx.first_delivery("alert:" + a.source, a.key, a.received_at)) {
    return AlertOutcome::kDuplicate;
  }
  const auto ongoing = [](const std::optional<Incident>& i) {
    return i && (i->status == IncidentStatus::kOpen || i->status == IncidentStatus::kMitigated);
  };
  std::optional<Incident> incident = tx.current_incident(a.channel);
  bool declared = false;
  if (a.begins && a.declare && !ongoing(incident)) {
    // Declared as if the sender had typed it, so it is the same incident, announcement and
    // audit trail; the alerts held for the channel come in with it.
    Invocation start;
    start.channel = a.channel;
    start.user = a.author;
    start.command = "incident";
    start.text = fmt::format("start {} {}", to_string(a.declare->severity), a.declare->title);
    start.received_at = a.received_at;
    const CommandResult result = run_in(tx, start);
    incident = tx.current_incident(a.channel);
    declared = ongoing(incident);
    if (declared && options_.posting_platforms.count(a.channel.platform) > 0) {
      OutgoingMessage message;
      message.body = result.reply;
      message.body.visibility = Visibility::kChannel;
      post_in(tx, a.channel, message, a.received_at, "declared:" + a.source + ":" + a.key);
    }
  }
  const bool fits =
      a.begins ? ongoing(incident) : incident && incident->status != IncidentStatus::kClosed;
  TimelineEvent e;
  e.kind = a.kind;
  e.occurred_at = a.occurred_at;
  e.recorded_at = a.received_at;
  e.author = a.author;
  e.text = a.text;
  e.links = a.links;
  if (!fits) {
    tx.hold_alert(a.channel, e);
    return AlertOutcome::kHeld;
  }
  if (tx.count_in_incident(incident->id, IncidentPart::kEvents) >=
      options_.limits.per_incident.events) {
    return AlertOutcome::kIncidentFull;
  }
  e.incident_id = incident->id;
  tx.append_event(std::move(e));
  return declared ? AlertOutcome::kDeclared : AlertOutcome::kRecorded;
}

bool CommandHandler::published_in(Transaction& tx, const Publication& p, std::string_view where,
                                  Timestamp at) const {
  const bool first = !tx.find_publication(p.incident_id, p.destination).has_value();
  tx.save_publication(p);
  if (!first) return false;
  const std::optional<Incident> incident = tx.find_incident(p.incident_id);
  if (!incident) return false;
  Note note;
  note.incident_id = p.incident_id;
  note.section = NoteSection::kLink;
  note.text = fmt::format("Published to {}: {}", where, p.url);
  note.author = Person{fmt::format("publish:{}", p.destination), std::string(where)};
  note.created_at = at;
  tx.add_note(std::move(note));
  request_publish(tx, p.incident_id, p.destination, at);
  if (options_.posting_platforms.count(incident->channel.platform) > 0) {
    OutgoingMessage message;
    message.body.visibility = Visibility::kChannel;
    message.body.incident = incident->id;
    message.body.text = fmt::format("📄 The {} postmortem is published to {}: {}",
                                    incident_ref(incident->id), where, p.url);
    post_in(tx, incident->channel, message, at);
  }
  return true;
}

std::string_view to_string(AlertOutcome outcome) {
  switch (outcome) {
    case AlertOutcome::kRecorded:
      return "recorded";
    case AlertOutcome::kDeclared:
      return "declared an incident and recorded";
    case AlertOutcome::kHeld:
      return "held for the next incident";
    case AlertOutcome::kDuplicate:
      return "duplicate";
    case AlertOutcome::kIncidentFull:
      return "not recorded: the incident is full";
  }
  return "unknown";
}

MarkOutcome CommandHandler::record_marked_message(const MarkedMessage& m) {
  return transact<MarkOutcome>(
      Access::kWrite,
      [&](Transaction& tx) { return record_marked(tx, m, options_.limits.per_incident); }, nullptr);
}

MarkOutcome CommandHandler::defer_marked_message(const MarkedMessage& m,
                                                 const std::string& content) {
  return transact<MarkOutcome>(
      Access::kWrite, [&](Transaction& tx) { return defer_marked(tx, m, content); },
      [](const MarkOutcome& o) { return o == MarkOutcome::kRecorded; });
}

std::string_view to_string(PressOutcome outcome) {
  switch (outcome) {
    case PressOutcome::kDone:
      return "done";
    case PressOutcome::kSnoozed:
      return "snoozed";
    case PressOutcome::kAlreadyDone:
      return "already done";
    case PressOutcome::kDropped:
      return "dropped";
    case PressOutcome::kUnknownAction:
      return "unknown action";
    case PressOutcome::kNoSuchItem:
      return "no such action item";
    case PressOutcome::kOtherChannel:
      return "action item of another channel";
  }
  return "unknown";
}

PressOutcome CommandHandler::press(const ButtonPress& p) {
  if (p.action != kActionDone && p.action != kActionSnooze) return PressOutcome::kUnknownAction;
  const std::optional<std::int64_t> id = parse_item_id(p.value);
  if (!id) return PressOutcome::kNoSuchItem;
  const std::string& prefix = options_.platforms.of(p.channel.platform).prefix;
  return transact<PressOutcome>(
      Access::kWrite,
      [&](Transaction& tx) { return apply_press(tx, p, *id, prefix, options_.tracking.enabled); },
      [](const PressOutcome& o) {
        return o == PressOutcome::kDone || o == PressOutcome::kSnoozed;
      });
}

void CommandHandler::post(const ChannelRef& channel, const OutgoingMessage& message, Timestamp at,
                          const std::string& dedupe_key) {
  const OutboxMessage m = job_at(channel, message.replaces ? JobKind::kUpdate : JobKind::kPost,
                                 to_json(message), at, dedupe_key);
  transact<std::int64_t>(
      Access::kWrite, [&](Transaction& tx) { return tx.enqueue(m); },
      [](const std::int64_t&) { return true; });
}

void CommandHandler::join(const ChannelRef& channel, Timestamp at, const std::string& dedupe_key) {
  const OutboxMessage m = job_at(channel, JobKind::kJoin, "{}", at, dedupe_key);
  transact<std::int64_t>(
      Access::kWrite, [&](Transaction& tx) { return tx.enqueue(m); },
      [](const std::int64_t&) { return true; });
}

}  // namespace scribe
