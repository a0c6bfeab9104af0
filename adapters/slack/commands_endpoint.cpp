#include "adapters/slack/commands_endpoint.h"

#include <chrono>
#include <memory>
#include <string_view>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "adapters/slack/blocks.h"
#include "adapters/slack/endpoint_support.h"
#include "adapters/slack/form.h"
#include "adapters/slack/signature.h"
#include "adapters/slack/slash_command.h"

namespace scribe::slack {
namespace {

// Keys of signed requests already run; see handle().
constexpr std::string_view kRequestSource = kSignedRequests;
constexpr std::string_view kTriggerSource = "slack-trigger";

Reply already_recorded() {
  Reply reply;
  reply.text = "Already recorded: this request was received before.";
  return reply;
}

}  // namespace

CommandsEndpoint::CommandsEndpoint(std::string signing_secret, CommandHandler& handler, Clock clock,
                                   UserZones* user_zones)
    : signing_secret_(std::move(signing_secret)),
      handler_(handler),
      clock_(std::move(clock)),
      user_zones_(user_zones) {}

void CommandsEndpoint::handle(const HttpRequest& request, Respond respond) {
  const Timestamp received_at = clock_();
  if (auto refused = refuse_unsigned(request, signing_secret_, received_at, "command")) {
    return respond(std::move(*refused));
  }
  run(request, request.header(kSignatureHeader), received_at, std::move(respond));
}

void CommandsEndpoint::handle_authenticated(const HttpRequest& request, std::string replay_key,
                                            Respond respond) {
  run(request, replay_key, clock_(), std::move(respond));
}

void CommandsEndpoint::run(const HttpRequest& request, std::string_view replay_key,
                           Timestamp received_at, Respond respond) {
  const auto content_type = request.header("content-type");
  if (!content_type.starts_with("application/x-www-form-urlencoded")) {
    return respond(plain(415, "expected application/x-www-form-urlencoded"));
  }
  FormResult form = parse_form(request.body);
  if (!form) return respond(plain(400, "malformed form body: " + form.error));
  if (is_ssl_check(*form.form)) return respond(plain(200, "ok"));

  SlashCommandResult parsed = to_invocation(*form.form, received_at);
  if (!parsed) return respond(plain(400, "malformed slash command: " + parsed.error));
  Invocation invocation = std::move(parsed.command->invocation);
  if (user_zones_ != nullptr) {
    if (const auto known = user_zones_->lookup(invocation.user.id)) {
      invocation.author_zone = known->zone;  // empty: Slack keeps none for them
    } else {
      invocation.author_zone_unknown = true;  // being fetched; the channel's zone for now
    }
  }
  const std::string_view trigger = form_value(*form.form, "trigger_id");
  auto failed = [typed = "/" + invocation.command + " " + invocation.text,
                 channel = invocation.channel.channel,
                 &handler = handler_](const StoreError* error) {
    // Nothing was committed. Slack would show a bare "failed" (or a timeout) for a 5xx and
    // the typed text would be gone, so answer 200, only to the caller, with why and the
    // text to retry. The store logs an episode once; a failure outside one is logged here.
    const std::string trouble = handler.store_trouble();
    if (trouble.empty()) {
      spdlog::error("command {} in {} failed: {}", typed, channel,
                    error != nullptr ? error->what() : "unknown");
    }
    Reply reply;
    reply.text = fmt::format("⚠️ Nothing was recorded: {}. Please try again.",
                             trouble.empty() ? "Scribe could not save it" : trouble);
    reply.details = {typed};
    return HttpResponse{200, "application/json", render_reply(reply), {}};
  };

  PreparedCommand prepared = handler_.prepare(invocation);
  if (prepared.access != Access::kWrite) {
    // Answering a replayed read again changes nothing: no key to record.
    handler_.run_async(std::move(prepared), [failed = std::move(failed),
                                             respond = std::move(respond)](Completion done) {
      if (!done.reply) return respond(failed(done.error ? &*done.error : nullptr));
      respond(HttpResponse{200, "application/json", render_reply(*done.reply), {}});
    });
    return;
  }

  // A change: the request's key, the change and the answer commit together, so a replay (a
  // captured request sent again within its five minutes, or Slack sending it twice) is
  // answered as the first one was and changes nothing, also after a restart. The key is
  // Slack's trigger_id when there is one: it is unique to the user's action and covered by
  // the signature, so it catches a replay of the same body and the same command arriving
  // again in a new envelope or over the other mode; the request's own key (its signature,
  // or the envelope's id) only when there is none. One key, so one row and one stored
  // answer per command (two cost a sixth of the writer's time under load).
  const bool by_trigger = !trigger.empty();
  const std::string_view source = by_trigger ? kTriggerSource : kRequestSource;
  std::string key(by_trigger ? trigger : replay_key);
  const Timestamp expires_at = received_at + kReplayWindow;
  auto answer = std::make_shared<std::string>();
  handler_.transact_async(
      [work = std::move(prepared.work), source, key = std::move(key), received_at, expires_at,
       answer](Transaction& tx) {
        if (!tx.first_delivery_until(source, key, received_at, expires_at)) {
          const auto earlier = tx.delivery_answer(source, key);
          *answer = earlier ? *earlier : render_reply(already_recorded());
          spdlog::info("a replayed Slack command was answered as before; nothing changed");
          return false;
        }
        CommandResult result = work(tx);
        *answer = render_reply(result.reply);
        tx.set_delivery_answer(source, key, *answer);
        return result.enqueued;
      },
      [failed = std::move(failed), answer,
       respond = std::move(respond)](std::optional<StoreError> error) {
        if (error) return respond(failed(&*error));
        respond(HttpResponse{200, "application/json", std::move(*answer), {}});
      });
}

}  // namespace scribe::slack
