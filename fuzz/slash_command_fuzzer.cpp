// A slash command's form body, the whole way a command travels before it reaches the
// store: form -> Invocation (Slack escapes translated) -> the command grammar, and the
// reply rendering back: that text as a reply, its details and a document, rendered with
// Slack's limits and with tight ones, meets every promise of check_slack_body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "adapters/slack/blocks.h"
#include "adapters/slack/form.h"
#include "adapters/slack/slash_command.h"
#include "commands/grammar.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/slack_checks.h"
#include "fuzz/text_checks.h"

using namespace scribe;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::silence_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const slack::FormResult form = slack::parse_form(body);
  if (!form) return 0;
  slack::is_ssl_check(*form.form);
  const slack::SlashCommandResult parsed = slack::to_invocation(*form.form, fuzz::now());
  if (!parsed) {
    FUZZ_CHECK(!parsed.error.empty(), body);
    return 0;
  }
  const Invocation& inv = parsed.command->invocation;
  FUZZ_CHECK(!inv.command.empty() && !inv.channel.channel.empty() && !inv.user.id.empty(), body);
  FUZZ_CHECK(!inv.user.name.empty(), body);
  FUZZ_CHECK(fuzz::valid_utf8(inv.text), body);
  for (std::size_t i = 0; i < inv.mentions.size(); ++i) {
    FUZZ_CHECK(!inv.mentions[i].id.empty() && !inv.mentions[i].name.empty(), body);
    for (std::size_t k = 0; k < i; ++k) FUZZ_CHECK(inv.mentions[k].id != inv.mentions[i].id, body);
  }

  const grammar::ParseContext context{"/", fuzz::now(), &fuzz::zone(size), inv.mentions};
  grammar::parse(inv.command, inv.text, context);

  Reply reply;
  reply.visibility = size % 2 ? Reply::Visibility::kChannel : Reply::Visibility::kEphemeral;
  reply.text = inv.text;
  reply.details = {inv.text, std::string(slack::form_value(*form.form, "user_name"))};
  reply.document = inv.text + "\n## " + inv.text + "\n" + inv.text;
  reply.incident = 7;
  const slack::RenderOptions slack_limits;
  fuzz::check_slack_body(slack::render_reply(reply, slack_limits), slack_limits, body);
  slack::RenderOptions tight;
  tight.max_blocks = 6;
  tight.max_section_chars = 40;
  tight.max_code_chunk = 24;
  tight.max_document_chars = 120;
  fuzz::check_slack_body(slack::render_reply(reply, tight), tight, body);
  return 0;
}
