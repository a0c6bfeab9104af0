#include "adapters/slack/events_endpoint.h"

#include <charconv>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "adapters/slack/endpoint_support.h"
#include "adapters/slack/message_fetcher.h"
#include "adapters/slack/slash_command.h"
#include "util/json_fields.h"

namespace scribe::slack {
namespace {

using nlohmann::json;

// The author as Slack describes them in the message; the name when the message carries
// a profile, else the id (names are looked up later, not on the request path).
Person author_of(const json& message) {
  Person p{string_at(message, "user"), ""};
  if (auto profile = message.find("user_profile");
      profile != message.end() && profile->is_object()) {
    p.name = string_at(*profile, "display_name");
    if (p.name.empty()) p.name = string_at(*profile, "real_name");
    if (p.name.empty()) p.name = string_at(*profile, "name");
  }
  if (p.name.empty()) p.name = p.id;
  return p;
}

HttpResponse outcome_response(MarkOutcome outcome) {
  switch (outcome) {
    case MarkOutcome::kRecorded:
      return plain(200, "recorded");
    case MarkOutcome::kAlreadyRecorded:
      return plain(200, "already recorded");
    case MarkOutcome::kNoIncident:
      return plain(200, "no incident in this channel");
    case MarkOutcome::kIncidentFull:
      return plain(200, "the incident holds its most timeline events; not recorded");
  }
  return plain(200, "ok");
}

bool web_url(const std::string& url) {
  return url.starts_with("https://") || url.starts_with("http://");
}

}  // namespace

std::vector<EventLink> message_links(const json& message, const std::string& permalink) {
  std::vector<EventLink> out;
  if (web_url(permalink)) out.push_back(EventLink{EventLink::Kind::kMessage, "", permalink});
  const auto files = message.find("files");
  if (files == message.end() || !files->is_array()) return out;
  for (const json& f : *files) {
    if (!f.is_object()) continue;
    std::string url = string_at(f, "permalink");
    if (!web_url(url)) url = string_at(f, "url_private");
    if (!web_url(url)) continue;
    std::string title = string_at(f, "name");
    if (title.empty()) title = string_at(f, "title");
    const bool image = string_at(f, "mimetype").starts_with("image/");
    out.push_back(EventLink{image ? EventLink::Kind::kImage : EventLink::Kind::kFile, title, url});
  }
  return out;
}

std::optional<Timestamp> parse_message_ts(std::string_view ts) {
  // Seconds of years 1970-9999: a sign or more would be no Slack ts, and the milliseconds
  // of a larger count overflow.
  constexpr std::int64_t kLastSecond = 253402300799;  // 9999-12-31T23:59:59Z
  const auto dot = ts.find('.');
  const std::string_view whole = ts.substr(0, dot);
  std::int64_t seconds = 0;
  auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (ec != std::errc() || p != whole.data() + whole.size() || whole.empty()) return std::nullopt;
  if (whole.front() == '-' || seconds > kLastSecond) return std::nullopt;
  std::int64_t micros = 0;
  if (dot != std::string_view::npos) {
    std::string frac(ts.substr(dot + 1));
    if (frac.empty() || frac.size() > 6 ||
        frac.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    frac.resize(6, '0');
    micros = std::stoll(frac);
  }
  return Timestamp{std::chrono::milliseconds(seconds * 1000 + micros / 1000)};
}

EventsEndpoint::EventsEndpoint(std::string signing_secret, CommandHandler& handler, Clock clock,
                               std::string pin_reaction)
    : signing_secret_(std::move(signing_secret)),
      handler_(handler),
      clock_(std::move(clock)),
      pin_reaction_(std::move(pin_reaction)) {}

void EventsEndpoint::handle(const HttpRequest& request, Respond respond) {
  const Timestamp received_at = clock_();
  if (auto refused = refuse_unsigned(request, signing_secret_, received_at, "event")) {
    return respond(std::move(*refused));
  }
  run(request, received_at, std::move(respond));
}

void EventsEndpoint::handle_authenticated(const HttpRequest& request, Respond respond) {
  run(request, clock_(), std::move(respond));
}

void EventsEndpoint::run(const HttpRequest& request, Timestamp received_at, Respond respond) {
  const json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return respond(plain(400, "malformed JSON body"));

  const std::string type = string_at(body, "type");
  if (type == "url_verification") {
    const std::string challenge = string_at(body, "challenge");
    if (challenge.empty()) return respond(plain(400, "url_verification without a challenge"));
    return respond(
        HttpResponse{200, "application/json", json{{"challenge", challenge}}.dump(), {}});
  }
  if (type != "event_callback") return respond(plain(200, "ignored"));

  const auto event = body.find("event");
  if (event == body.end() || !event->is_object())
    return respond(plain(400, "event_callback without an event"));
  const std::string event_type = string_at(*event, "type");
  if (!request.header("x-slack-retry-num").empty()) {
    spdlog::info("Slack retried event {} ({}), attempt {}", string_at(body, "event_id"), event_type,
                 request.header("x-slack-retry-num"));
  }
  if (event_type == "pin_added") return on_pin(body, *event, received_at, respond);
  if (event_type == "reaction_added") return on_reaction(body, *event, received_at, respond);
  return respond(plain(200, "ignored"));
}

void EventsEndpoint::on_pin(const json& body, const json& event, Timestamp received_at,
                            Respond& respond) {
  const auto item = event.find("item");
  if (item == event.end() || !item->is_object() || string_at(*item, "type") != "message") {
    return respond(plain(200, "ignored: not a message"));
  }
  const auto message = item->find("message");
  if (message == item->end() || !message->is_object()) {
    return respond(plain(400, "pin_added without its message"));
  }
  const auto written_at = parse_message_ts(string_at(*message, "ts"));
  if (!written_at) return respond(plain(400, "pin_added message without a valid ts"));

  MarkedMessage marked;
  std::string channel = string_at(event, "channel_id");
  if (channel.empty()) channel = string_at(*item, "channel");
  marked.channel = ChannelRef{"slack", string_at(body, "team_id"), channel};
  marked.author = author_of(*message);
  marked.marked_by = Person{string_at(event, "user"), string_at(event, "user")};
  marked.written_at = *written_at;
  marked.message_id = string_at(*message, "ts");
  std::vector<Person> mentions;
  marked.text = translate_text(string_at(*message, "text"), mentions);
  marked.received_at = received_at;
  // Slack puts the permalink in the pinned message (or beside it, in the item).
  std::string permalink = string_at(*message, "permalink");
  if (permalink.empty()) permalink = string_at(*item, "permalink");
  marked.links = message_links(*message, permalink);
  mark(std::move(marked), /*defer=*/false, respond);
}

void EventsEndpoint::on_reaction(const json& body, const json& event, Timestamp received_at,
                                 Respond& respond) {
  if (pin_reaction_.empty() || string_at(event, "reaction") != pin_reaction_) {
    return respond(plain(200, "ignored: another reaction"));
  }
  const auto item = event.find("item");
  if (item == event.end() || !item->is_object() || string_at(*item, "type") != "message") {
    return respond(plain(200, "ignored: not a message"));
  }
  const auto written_at = parse_message_ts(string_at(*item, "ts"));
  if (!written_at) return respond(plain(400, "reaction_added without a valid message ts"));

  MarkedMessage marked;
  marked.channel = ChannelRef{"slack", string_at(body, "team_id"), string_at(*item, "channel")};
  marked.author = Person{string_at(event, "item_user"), string_at(event, "item_user")};
  marked.marked_by = Person{string_at(event, "user"), string_at(event, "user")};
  marked.written_at = *written_at;
  marked.message_id = string_at(*item, "ts");
  marked.received_at = received_at;
  mark(std::move(marked), /*defer=*/true, respond);
}

void EventsEndpoint::mark(MarkedMessage marked, bool defer, Respond& respond) {
  auto outcome = std::make_shared<MarkOutcome>(MarkOutcome::kNoIncident);
  const std::string content = defer ? fetch_job(marked) : std::string();
  handler_.transact_async(
      [this, outcome, marked = std::move(marked), defer, content](Transaction& tx) {
        *outcome = defer ? handler_.defer_marked_in(tx, marked, content)
                         : handler_.record_marked_in(tx, marked);
        return defer && *outcome == MarkOutcome::kRecorded;
      },
      [this, outcome, respond = std::move(respond)](std::optional<StoreError> error) {
        if (error) {
          // Not stored: a 5xx makes Slack deliver the event again. An episode of the store
          // is logged once, by the store.
          const std::string trouble = handler_.store_trouble();
          if (trouble.empty()) spdlog::error("Slack event not recorded: {}", error->what());
          return respond(plain(503, "not recorded (" +
                                        (trouble.empty() ? std::string(error->what()) : trouble) +
                                        "); please retry"));
        }
        respond(outcome_response(*outcome));
      });
}

}  // namespace scribe::slack
