#include "adapters/slack/slash_command.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "util/strings.h"
#include "util/utf8.h"

namespace scribe::slack {
namespace {

// Slack escapes only these three; anything else that looks like an entity is user text.
void append_unescaped(std::string& out, std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '&') {
      const std::string_view rest = s.substr(i);
      if (rest.starts_with("&amp;")) {
        out.push_back('&');
        i += 5;
        continue;
      }
      if (rest.starts_with("&lt;")) {
        out.push_back('<');
        i += 4;
        continue;
      }
      if (rest.starts_with("&gt;")) {
        out.push_back('>');
        i += 4;
        continue;
      }
    }
    out.push_back(s[i]);
    ++i;
  }
}

// One "<...>" control sequence, without the angle brackets. False when it is not one
// Slack would produce, so the caller keeps the text as typed.
bool append_control(std::string& out, std::string_view token, std::vector<Person>& mentions) {
  if (token.empty()) return false;
  std::string_view ref = token;
  std::string label;
  if (const auto bar = token.find('|'); bar != std::string_view::npos) {
    ref = token.substr(0, bar);
    label = unescape_mrkdwn(token.substr(bar + 1));
  }
  if (ref.empty()) return false;
  switch (ref.front()) {
    case '@': {
      const std::string id(ref.substr(1));
      if (id.empty()) return false;
      std::string name = label.empty() ? id : label;
      if (name.front() == '@') name.erase(0, 1);
      if (name.empty()) name = id;
      out.append("@").append(name);
      add_mention(mentions, Person{id, std::move(name)});
      return true;
    }
    case '#': {
      const std::string_view id = ref.substr(1);
      if (id.empty()) return false;
      out.append("#").append(label.empty() ? std::string(id) : label);
      return true;
    }
    case '!': {
      // <!here>, <!channel>, <!everyone>, <!subteam^S1|@oncall>, <!date^...|fallback>
      const std::string_view name = ref.substr(1);
      const std::string_view base = name.substr(0, name.find('^'));
      if (base == "here" || base == "channel" || base == "everyone") {
        out.append("@").append(base);
      } else if (!label.empty()) {
        out.append(label);
      } else if (base == "subteam" && name.size() > base.size() + 1) {
        out.append("@").append(name.substr(base.size() + 1));
      } else {
        out.append("@").append(base);
      }
      return true;
    }
    default:
      // A link: the URL is what responders need later; the label was only decoration.
      append_unescaped(out, ref);
      return true;
  }
}

}  // namespace

std::string unescape_mrkdwn(std::string_view s) {
  std::string out;
  append_unescaped(out, s);
  return out;
}

bool is_ssl_check(const Form& form) {
  return form_value(form, "ssl_check") == "1" && form_value(form, "command").empty();
}

SlashCommandResult to_invocation(const Form& form, Timestamp received_at) {
  SlashCommandResult result;
  std::vector<std::string_view> missing;
  for (std::string_view field : {"channel_id", "user_id", "command"}) {
    if (form_value(form, field).empty()) missing.push_back(field);
  }
  if (!missing.empty()) {
    result.error = fmt::format("missing {}", fmt::join(missing, ", "));
    return result;
  }
  std::string_view command = form_value(form, "command");
  if (command.front() == '/') command.remove_prefix(1);
  if (command.empty()) {
    result.error = "empty command name";
    return result;
  }

  SlashCommand out;
  Invocation& inv = out.invocation;
  inv.channel = ChannelRef{"slack", std::string(form_value(form, "team_id")),
                           std::string(form_value(form, "channel_id"))};
  const std::string_view user_id = form_value(form, "user_id");
  const std::string_view user_name = form_value(form, "user_name");
  inv.user = Person{std::string(user_id), std::string(user_name.empty() ? user_id : user_name)};
  inv.command = std::string(command);
  inv.text = translate_text(form_value(form, "text"), inv.mentions);
  inv.received_at = received_at;
  out.response_url = std::string(form_value(form, "response_url"));
  result.command = std::move(out);
  return result;
}

std::string translate_text(std::string_view slack_text, std::vector<Person>& mentions) {
  const std::string_view s = trim(slack_text);
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '<') {
      const auto close = s.find('>', i + 1);
      if (close != std::string_view::npos) {
        const std::string_view token = s.substr(i + 1, close - i - 1);
        if (token.find('<') == std::string_view::npos && append_control(out, token, mentions)) {
          i = close + 1;
          continue;
        }
      }
      out.push_back('<');
      ++i;
      continue;
    }
    const auto next = std::min(s.find('<', i), s.size());
    append_unescaped(out, s.substr(i, next - i));
    i = next;
  }
  return std::string(trim(out));
}

}  // namespace scribe::slack
