#include "adapters/slack/interactivity_endpoint.h"

#include <exception>
#include <utility>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "adapters/slack/endpoint_support.h"
#include "adapters/slack/form.h"
#include "adapters/slack/signature.h"
#include "commands/outgoing.h"
#include "util/json_fields.h"

namespace scribe::slack {
namespace {

using nlohmann::json;

// What Slack wants for a handled interaction: 200 and nothing else.
HttpResponse acknowledged() { return HttpResponse{200, "text/plain; charset=utf-8", "", {}}; }

// j[key] when it is a string; "" otherwise (also when j is no object).
const json& object_at(const json& j, const char* key) {
  static const json kNone = json::object();
  if (!j.is_object()) return kNone;
  const auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kNone;
}

bool is_scribe_action(std::string_view action_id) {
  return action_id == kActionDone || action_id == kActionSnooze;
}

InteractivityResult malformed(std::string error) {
  InteractivityResult r;
  r.error = std::move(error);
  return r;
}

}  // namespace

InteractivityResult parse_interactivity_payload(std::string_view payload_json,
                                                Timestamp received_at) {
  const json payload = json::parse(payload_json, nullptr, /*allow_exceptions=*/false);
  if (!payload.is_object()) return malformed("payload is not a JSON object");
  InteractivityResult result;
  result.type = string_at(payload, "type");
  if (result.type.empty()) return malformed("payload without a type");
  result.ok = true;
  if (result.type != "block_actions") return result;

  const auto actions = payload.find("actions");
  if (actions == payload.end() || !actions->is_array()) {
    return malformed("block_actions without actions");
  }
  const json& user = object_at(payload, "user");
  const json& container = object_at(payload, "container");
  Person clicked_by{string_at(user, "id"), string_at(user, "username")};
  if (clicked_by.name.empty()) clicked_by.name = string_at(user, "name");
  if (clicked_by.name.empty()) clicked_by.name = clicked_by.id;
  std::string workspace = string_at(object_at(payload, "team"), "id");
  if (workspace.empty()) workspace = string_at(user, "team_id");
  std::string channel = string_at(object_at(payload, "channel"), "id");
  if (channel.empty()) channel = string_at(container, "channel_id");
  std::string message_ts = string_at(container, "message_ts");
  if (message_ts.empty()) message_ts = string_at(object_at(payload, "message"), "ts");

  for (const json& action : *actions) {
    const std::string action_id = string_at(action, "action_id");
    if (!is_scribe_action(action_id)) continue;
    if (clicked_by.id.empty()) return malformed("block_actions without a user");
    if (channel.empty()) return malformed("block_actions without a channel");
    if (message_ts.empty()) return malformed("block_actions without the message's ts");
    const auto value = action.find("value");
    if (value == action.end() || !value->is_string()) {
      return malformed(action_id + " without a value");
    }
    ButtonPress press;
    press.channel = ChannelRef{"slack", workspace, channel};
    press.user = clicked_by;
    press.action = action_id;
    press.value = value->get<std::string>();
    press.message_id = message_ts;
    press.received_at = received_at;
    result.presses.push_back(std::move(press));
  }
  return result;
}

InteractivityEndpoint::InteractivityEndpoint(std::string signing_secret, CommandHandler& handler,
                                             Clock clock)
    : signing_secret_(std::move(signing_secret)), handler_(handler), clock_(std::move(clock)) {}

void InteractivityEndpoint::handle(const HttpRequest& request, Respond respond) {
  const Timestamp received_at = clock_();
  if (auto refused = refuse_unsigned(request, signing_secret_, received_at, "interaction")) {
    return respond(std::move(*refused));
  }
  run(request, std::string(request.header(kSignatureHeader)), received_at, std::move(respond));
}

void InteractivityEndpoint::handle_authenticated(const HttpRequest& request, std::string replay_key,
                                                 Respond respond) {
  run(request, std::move(replay_key), clock_(), std::move(respond));
}

void InteractivityEndpoint::run(const HttpRequest& request, std::string replay_key,
                                Timestamp received_at, Respond respond) {
  const auto content_type = request.header("content-type");
  if (!content_type.starts_with("application/x-www-form-urlencoded")) {
    return respond(plain(415, "expected application/x-www-form-urlencoded"));
  }
  const FormResult form = parse_form(request.body);
  if (!form) return respond(plain(400, "malformed form body: " + form.error));
  const std::string_view payload = form_value(*form.form, "payload");
  if (payload.empty()) return respond(plain(400, "no payload"));
  const InteractivityResult parsed = parse_interactivity_payload(payload, received_at);
  if (!parsed) return respond(plain(400, "malformed payload: " + parsed.error));
  if (parsed.type != "block_actions") {
    spdlog::debug("ignored a Slack interaction of type {}", parsed.type);
    return respond(acknowledged());
  }

  // All presses of one request in one transaction: stored together or not at all.
  auto presses = std::make_shared<std::vector<ButtonPress>>(parsed.presses);
  const std::string signature = std::move(replay_key);
  handler_.transact_async(
      [this, presses, signature, received_at](Transaction& tx) {
        if (!tx.first_delivery_until(kSignedRequests, signature, received_at,
                                     received_at + kReplayWindow)) {
          spdlog::info("a replayed Slack interaction was ignored");
          return false;
        }
        bool enqueued = false;
        for (const ButtonPress& press : *presses) {
          const PressOutcome outcome = handler_.press_in(tx, press);
          spdlog::info("button {} on action item {} in {} by {}: {}", press.action, press.value,
                       press.channel.channel, press.user.id, to_string(outcome));
          if (outcome == PressOutcome::kDone || outcome == PressOutcome::kSnoozed) enqueued = true;
        }
        return enqueued;
      },
      [this, presses, respond = std::move(respond)](std::optional<StoreError> error) {
        if (error) {
          // Nothing of these presses was committed. A 5xx makes Slack tell the user the
          // click did not work, so they can click again.
          if (handler_.store_trouble().empty()) {
            spdlog::error("{} button press(es) not recorded: {}", presses->size(), error->what());
          }
          return respond(plain(503, "not recorded; please try again"));
        }
        respond(acknowledged());
      });
}

}  // namespace scribe::slack
