#include "adapters/slack/commands_endpoint.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "adapters/slack/blocks.h"
#include "adapters/slack/endpoint_support.h"
#include "adapters/slack/form.h"
#include "adapters/slack/slash_command.h"

namespace scribe::slack {
namespace {}  // namespace

CommandsEndpoint::CommandsEndpoint(std::string signing_secret, CommandHandler& handler, Clock clock)
    : signing_secret_(std::move(signing_secret)), handler_(handler), clock_(std::move(clock)) {}

HttpResponse CommandsEndpoint::handle(const HttpRequest& request) {
  const Timestamp received_at = clock_();
  if (auto refused = refuse_unsigned(request, signing_secret_, received_at, "command")) {
    return *refused;
  }
  const auto content_type = request.header("content-type");
  if (!content_type.starts_with("application/x-www-form-urlencoded")) {
    return plain(415, "expected application/x-www-form-urlencoded");
  }
  FormResult form = parse_form(request.body);
  if (!form) return plain(400, "malformed form body: " + form.error);
  if (is_ssl_check(*form.form)) return plain(200, "ok");

  SlashCommandResult parsed = to_invocation(*form.form, received_at);
  if (!parsed) return plain(400, "malformed slash command: " + parsed.error);
  const Invocation& invocation = parsed.command->invocation;

  Reply reply;
  try {
    reply = handler_.handle(invocation);
  } catch (const StoreError& e) {
    // Nothing was committed. Slack would show a bare "failed" for a 5xx and the typed
    // text would be gone, so answer 200 with the text to retry, and say so plainly.
    spdlog::error("command /{} in {} failed: {}", invocation.command, invocation.channel.channel,
                  e.what());
    reply = Reply{};
    reply.text = "⚠️ Scribe could not save this, so nothing was recorded. Please try again.";
    reply.details = {"/" + invocation.command + " " + invocation.text};
  }
  return HttpResponse{200, "application/json", render_reply(reply), {}};
}

}  // namespace scribe::slack
