#include "bot/api.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <vector>

#include <fmt/format.h>
#include <boost/url/parse_query.hpp>
#include <nlohmann/json.hpp>

#include "bot/memory.h"
#include "bot/paging.h"
#include "postmortem/draft.h"
#include "postmortem/format.h"
#include "postmortem/html.h"
#include "postmortem/json.h"
#include "postmortem/markdown.h"
#include "postmortem/record.h"
#include "postmortem/review_report.h"
#include "postmortem/trends.h"
#include "util/secret.h"

namespace scribe {
namespace {

using nlohmann::ordered_json;

HttpResponse json_response(int status, const ordered_json& body) {
  // Stored text is whatever chat sent; the default handler would throw on invalid UTF-8.
  std::string text = body.dump(2, ' ', false, ordered_json::error_handler_t::replace);
  text.push_back('\n');
  return HttpResponse{status, "application/json", std::move(text), {}};
}

HttpResponse error(int status, std::string_view message) {
  return json_response(status, ordered_json{{"error", message}});
}

ordered_json time_or_null(const std::optional<Timestamp>& t) {
  return t ? ordered_json(format_iso8601(*t)) : ordered_json(nullptr);
}

ordered_json person_json(const Person& p) { return {{"id", p.id}, {"name", p.name}}; }

ordered_json incident_json(const Incident& i) {
  return {{"id", i.id},
          {"ref", incident_ref(i.id)},
          {"title", i.title},
          {"severity", to_string(i.severity)},
          {"status", to_string(i.status)},
          {"channel",
           {{"platform", i.channel.platform},
            {"workspace", i.channel.workspace},
            {"channel", i.channel.channel}}},
          {"commander", person_json(i.commander)},
          {"declared_at", format_iso8601(i.declared_at)},
          {"mitigated_at", time_or_null(i.mitigated_at)},
          {"resolved_at", time_or_null(i.resolved_at)},
          {"closed_at", time_or_null(i.closed_at)}};
}

// Everything the store holds about one incident, deleted events and the audit trail
// included: the API is where the full record can be inspected.
ordered_json full_incident_json(Transaction& tx, const Incident& incident) {
  ordered_json out = {{"incident", incident_json(incident)}};
  ordered_json& events = out["timeline"] = ordered_json::array();
  for (const auto& e : tx.events(incident.id, /*include_deleted=*/true)) {
    events.push_back({{"seq", e.seq},
                      {"kind", to_string(e.kind)},
                      {"occurred_at", format_iso8601(e.occurred_at)},
                      {"recorded_at", format_iso8601(e.recorded_at)},
                      {"author", person_json(e.author)},
                      {"text", e.text},
                      {"deleted", e.deleted},
                      {"revision", e.revision}});
  }
  ordered_json& revisions = out["revisions"] = ordered_json::array();
  for (const auto& r : tx.revisions(incident.id)) {
    revisions.push_back({{"seq", r.seq},
                         {"revision", r.revision},
                         {"change", r.change},
                         {"kind", to_string(r.kind)},
                         {"occurred_at", format_iso8601(r.occurred_at)},
                         {"text", r.text},
                         {"changed_by", person_json(r.changed_by)},
                         {"changed_at", format_iso8601(r.changed_at)}});
  }
  ordered_json& notes = out["notes"] = ordered_json::array();
  for (const auto& n : tx.notes(incident.id)) {
    notes.push_back({{"section", to_string(n.section)},
                     {"text", n.text},
                     {"author", person_json(n.author)},
                     {"created_at", format_iso8601(n.created_at)}});
  }
  ordered_json& actions = out["actions"] = ordered_json::array();
  for (const auto& a : tx.actions(incident.id)) {
    actions.push_back(
        {{"seq", a.seq},
         {"text", a.text},
         {"owner", a.owner ? person_json(*a.owner) : ordered_json(nullptr)},
         {"due", a.due ? ordered_json(*a.due) : ordered_json(nullptr)},
         {"kind", to_string(a.kind)},
         {"status", to_string(a.status)},
         {"created_at", format_iso8601(a.created_at)},
         {"done_at", time_or_null(a.done_at)},
         {"snoozed_until", time_or_null(a.snoozed_until)},
         {"drop_reason", a.drop_reason ? ordered_json(*a.drop_reason) : ordered_json(nullptr)},
         {"tracker", a.tracker_key ? ordered_json{{"key", *a.tracker_key}, {"url", a.tracker_url}}
                                   : ordered_json(nullptr)}});
  }
  ordered_json& action_revisions = out["action_revisions"] = ordered_json::array();
  for (const auto& r : tx.action_revisions(incident.id)) {
    action_revisions.push_back({{"seq", r.seq},
                                {"field", r.field},
                                {"before", r.before},
                                {"after", r.after},
                                {"changed_by", person_json(r.changed_by)},
                                {"changed_at", format_iso8601(r.changed_at)}});
  }
  return out;
}

// A page of the incident list, newest first; `next` is the URL of the following page, or
// null on the last one (also in a Link header, RFC 8288).
HttpResponse incident_page(Store& store, std::string_view query) {
  const Parsed<PageRequest> page = parse_page_request(query);
  if (!page) return error(400, page.error);
  std::vector<Incident> incidents;
  store.read([&](Transaction& tx) {
    // One more than asked for says whether a next page exists without an empty last page.
    incidents = page->after ? tx.list_incidents_before(*page->after, page->limit + 1)
                            : tx.list_incidents(page->limit + 1);
  });
  const bool more = incidents.size() > static_cast<std::size_t>(page->limit);
  if (more) incidents.resize(static_cast<std::size_t>(page->limit));
  ordered_json list = ordered_json::array();
  for (const auto& i : incidents) list.push_back(incident_json(i));
  ordered_json next = nullptr;
  if (more) {
    next = fmt::format("/api/incidents?limit={}&after={}", page->limit, incidents.back().id);
  }
  HttpResponse response =
      json_response(200, ordered_json{{"incidents", std::move(list)}, {"next", next}});
  if (more) {
    response.headers.emplace_back("Link",
                                  fmt::format("<{}>; rel=\"next\"", next.get<std::string>()));
  }
  return response;
}

}  // namespace

Api::Api(Store& store, std::string token, std::function<Timestamp()> clock,
         const ReviewSettings& review, std::shared_ptr<const DraftTemplate> draft_template,
         std::string default_zone, std::size_t draft_cache_bytes)
    : store_(store),
      token_(std::move(token)),
      clock_(std::move(clock)),
      reviewer_(std::make_shared<const Reviewer>(review)),
      draft_template_(std::move(draft_template)),
      default_zone_(std::move(default_zone)),
      cache_(draft_cache_bytes) {}

HttpResponse Api::handle(const HttpRequest& request, std::string_view path,
                         std::string_view query) {
  if (token_.empty()) return error(403, "the API is disabled: set SCRIBE_API_TOKEN");
  const std::string_view auth = request.header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!auth.starts_with(kBearer) || !secret_equals(auth.substr(kBearer.size()), token_)) {
    HttpResponse r = error(401, "missing or wrong bearer token");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"scribe\"");
    return r;
  }
  if (request.method != "GET") {
    HttpResponse r = error(405, "only GET is supported here");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }

  if (path == "/api/trends") return trends_answer(query);
  if (path == "/api/actions") return actions_answer(query);

  constexpr std::string_view kPrefix = "/api/incidents";
  std::string_view rest = path.substr(kPrefix.size());
  if (rest.empty() || rest == "/") return incident_page(store_, query);
  rest.remove_prefix(1);  // '/'
  const auto slash = rest.find('/');
  const auto id = parse_incident_ref(rest.substr(0, slash));
  if (!id) return error(404, "no such incident");
  const std::string_view sub = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  std::optional<DraftFormat> format;
  if (sub == "postmortem.md") {
    format = DraftFormat::kMarkdown;
  } else if (sub == "postmortem.html") {
    format = DraftFormat::kHtml;
  } else if (sub == "postmortem.json") {
    format = DraftFormat::kJson;
  } else if (!sub.empty()) {
    return error(404, "not found");
  }

  if (format) {
    const Timestamp now = clock_();
    // A draft that has not changed is served as it was made: one small read, no render
    // and no render slot, so repeated reads neither queue behind renders nor take CPU
    // from the writer.
    if (cache_.budget() > 0) {
      std::optional<DraftVersion> version;
      store_.read([&](Transaction& tx) { version = tx.draft_version(*id); });
      if (version) {
        if (auto entry = cache_.find(*id, *format, *version, now)) {
          return answer_from(*entry, request);
        }
      }
    }
    RenderSlot slot(*this);
    HttpResponse response = postmortem_answer(*id, *format, now, request);
    slot.rendered(response.body.size());
    return response;
  }
  // Everything below copies a whole incident, tens of MB for a large one: a bounded
  // number at once, and what a large one freed is given back to the system afterwards.
  RenderSlot slot(*this);
  HttpResponse response = incident_answer(*id);
  slot.rendered(response.body.size());
  return response;
}

HttpResponse Api::trends_answer(std::string_view query) {
  std::string since_text = "90d";
  std::string format = "json";
  auto params = boost::urls::parse_query(query);
  if (!params) return error(400, "the query string does not parse");
  for (const auto& p : *params) {
    if (p.key == "since") {
      since_text = p.value.decode();
    } else if (p.key == "format") {
      format = p.value.decode();
    } else {
      return error(400, "unknown parameter '" + std::string(p.key) + "' (since, format)");
    }
  }
  const auto span = parse_span(since_text);
  if (!span) return error(400, "since must be a span like 90d, 12w, 6m or 1y");
  if (format != "json" && format != "md" && format != "html") {
    return error(400, "format must be json, md or html");
  }
  const Timestamp now = clock_();
  const Timestamp since = now - *span;
  TrendsRows rows;
  store_.read([&](Transaction& tx) { rows = tx.trends_rows(since); });
  const Trends t = compute_trends(rows, since, now);
  if (format == "md")
    return HttpResponse{200, "text/markdown; charset=utf-8", trends_markdown(t), {}};
  if (format == "html") return HttpResponse{200, "text/html; charset=utf-8", trends_html(t), {}};
  return HttpResponse{200, "application/json", trends_json(t), {}};
}

HttpResponse Api::actions_answer(std::string_view query) {
  std::optional<std::string> owner;
  std::optional<ActionStatus> status;
  std::optional<bool> overdue;
  int limit = 500;
  auto params = boost::urls::parse_query(query);
  if (!params) return error(400, "the query string does not parse");
  for (const auto& p : *params) {
    const std::string value = p.value.decode();
    if (p.key == "owner") {
      if (!value.empty()) owner = value;
    } else if (p.key == "status") {
      if (value.empty()) continue;
      status = action_status_from_string(value);
      if (!status) return error(400, "status must be open, done or dropped");
    } else if (p.key == "overdue") {
      if (value == "true" || value == "1") {
        overdue = true;
      } else if (value == "false" || value == "0") {
        overdue = false;
      } else if (!value.empty()) {
        return error(400, "overdue must be true or false");
      }
    } else if (p.key == "limit") {
      int v = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || ptr != value.data() + value.size() || v <= 0 || v > 500) {
        return error(400, "limit must be a number from 1 to 500");
      }
      limit = v;
    } else {
      return error(
          400, "unknown parameter '" + std::string(p.key) + "' (owner, status, overdue, limit)");
    }
  }
  // Overdue: open, due before today (UTC).
  const std::string today = format_iso8601(clock_()).substr(0, 10);
  if (overdue && *overdue) status = ActionStatus::kOpen;
  ordered_json list = ordered_json::array();
  store_.read([&](Transaction& tx) {
    std::map<IncidentId, std::optional<Incident>> incidents;
    // Filtering by overdue after the query: read generously, then cut at `limit`.
    for (const ActionItem& a : tx.find_actions(owner, status, overdue ? 100'000 : limit)) {
      const bool late = a.status == ActionStatus::kOpen && a.due && *a.due < today;
      if (overdue && *overdue != late) continue;
      if (std::ssize(list) >= limit) break;
      auto [it, fresh] = incidents.try_emplace(a.incident_id);
      if (fresh) it->second = tx.find_incident(a.incident_id);
      ordered_json j{{"incident", incident_ref(a.incident_id)},
                     {"incident_title", it->second ? ordered_json(it->second->title) : nullptr},
                     {"seq", a.seq},
                     {"text", a.text},
                     {"owner", a.owner ? person_json(*a.owner) : ordered_json(nullptr)},
                     {"due", a.due ? ordered_json(*a.due) : ordered_json(nullptr)},
                     {"kind", to_string(a.kind)},
                     {"status", to_string(a.status)},
                     {"overdue", late},
                     {"done_at", time_or_null(a.done_at)},
                     {"drop_reason", a.drop_reason ? ordered_json(*a.drop_reason) : nullptr},
                     {"url", fmt::format("/api/incidents/{}", a.incident_id)}};
      list.push_back(std::move(j));
    }
  });
  return json_response(200, ordered_json{{"actions", std::move(list)}});
}

HttpResponse Api::incident_answer(IncidentId id) {
  std::optional<HttpResponse> response;
  store_.read([&](Transaction& tx) {
    if (auto incident = tx.find_incident(id)) {
      response = json_response(200, full_incident_json(tx, *incident));
    }
  });
  return response ? std::move(*response) : error(404, "no such incident");
}

HttpResponse Api::postmortem_answer(IncidentId id, DraftFormat format, Timestamp now,
                                    const HttpRequest& request) {
  std::optional<IncidentRecord> record;
  std::optional<DraftVersion> version;
  store_.read([&](Transaction& tx) {
    // The version first: the record read after it in the same snapshot is never older
    // than the version it is kept under (on any backend, whatever its isolation).
    version = tx.draft_version(id);
    record = read_record(tx, id, default_zone_);
  });
  if (!record) return error(404, "no such incident");
  // Only a draft with a cause lists related incidents (read_record), so only then do other
  // incidents' changes matter to it.
  const bool uses_related =
      std::any_of(record->notes.begin(), record->notes.end(),
                  [](const Note& n) { return n.section == NoteSection::kCause; });
  // Rendering happens outside the read: the store's reader is not held for it.
  const PostmortemReview review = review_postmortem(*record, *reviewer_, now);
  std::optional<Draft> draft = assemble_draft(std::move(*record), now);
  record.reset();
  const bool ongoing = draft->ongoing || draft->impact_ongoing;
  auto entry = std::make_shared<DraftCache::Entry>();
  if (format == DraftFormat::kMarkdown) {
    entry->content_type = "text/markdown; charset=utf-8";
    entry->body = render_reviewed_markdown(*draft, review, "/", 0, draft_template_.get());
  } else if (format == DraftFormat::kJson) {
    entry->content_type = "application/json";
    entry->body = render_reviewed_json(*draft, review);
    entry->body.push_back('\n');
  } else {
    const std::string title = draft->ref + " postmortem";
    const std::string markdown =
        render_reviewed_markdown(*draft, review, "/", 0, draft_template_.get());
    draft.reset();  // only the Markdown is needed for the page
    entry->content_type = "text/html; charset=utf-8";
    entry->body = html_page(title, markdown);
  }
  if (!version) {  // a store without versions: nothing to check a kept copy against
    return HttpResponse{200, std::move(entry->content_type), std::move(entry->body), {}};
  }
  entry->version = *version;
  entry->uses_related = uses_related;
  entry->drafted_at = now;
  entry->fresh_until = DraftCache::fresh_until(now, ongoing);
  entry->etag = DraftCache::etag(id, format, *version, uses_related, now);
  HttpResponse response = answer_from(*entry, request);
  if (cache_.budget() > 0) cache_.put(id, format, std::move(entry));
  return response;
}

HttpResponse Api::answer_from(const DraftCache::Entry& entry, const HttpRequest& request) {
  HttpResponse response{200, entry.content_type, {}, {}};
  response.headers.emplace_back("ETag", entry.etag);
  // Clients may keep it but must ask again each time; the answer depends on the token.
  response.headers.emplace_back("Cache-Control", "private, no-cache");
  if (DraftCache::none_match_names(request.header("if-none-match"), entry.etag)) {
    response.status = 304;
    return response;
  }
  response.body = entry.body;
  return response;
}

Api::RenderSlot::RenderSlot(Api& api) : api_(api) { api_.renders_.acquire(); }

Api::RenderSlot::~RenderSlot() {
  api_.renders_.release();
  // A large answer's intermediates (the record, the draft, the Markdown) are freed by now.
  if (rendered_ >= kReleaseAfterBytes) release_free_memory();
}

}  // namespace scribe
