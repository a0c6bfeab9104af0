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

constexpr std::string_view kZeroWidthSpace = "\xE2\x80\x8B";

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

std::string unescape(std::string_view s) {
  std::string out;
  append_unescaped(out, s);
  return out;
}

void add_mention(std::vector<Person>& mentions, Person person) {
  const bool known = std::any_of(mentions.begin(), mentions.end(),
                                 [&](const Person& p) { return p.id == person.id; });
  if (!known) mentions.push_back(std::move(person));
}

// One "<...>" control sequence, without the angle brackets. False when it is not one
// Slack would produce, so the caller keeps the text as typed.
bool append_control(std::string& out, std::string_view token, std::vector<Person>& mentions) {
  if (token.empty()) return false;
  std::string_view ref = token;
  std::string label;
  if (const auto bar = token.find('|'); bar != std::string_view::npos) {
    ref = token.substr(0, bar);
    label = unescape(token.substr(bar + 1));
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

// Size of one raw byte once escaped. In code blocks a backtick that follows another gets
// a zero-width space first, so draft text can never close the surrounding ``` fence.
std::size_t escaped_byte_size(char c, char prev, bool code) {
  switch (c) {
    case '&':
      return 5;
    case '<':
    case '>':
      return 4;
    case '`':
      return code && prev == '`' ? 1 + kZeroWidthSpace.size() : 1;
    default:
      return 1;
  }
}

std::size_t escaped_size(std::string_view raw, bool code) {
  std::size_t size = 0;
  char prev = '\0';
  for (char c : raw) {
    size += escaped_byte_size(c, prev, code);
    prev = c;
  }
  return size;
}

void append_escaped(std::string& out, std::string_view raw, bool code) {
  char prev = '\0';
  for (char c : raw) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '`':
        if (code && prev == '`') out.append(kZeroWidthSpace);
        out.push_back(c);
        break;
      default:
        out.push_back(c);
    }
    prev = c;
  }
}

// A run of raw bytes [begin, end) that is packed into chunks as a unit.
struct Piece {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t escaped = 0;
  bool heading = false;  // starts a "## " line: a good place to begin a new block
};

struct Chunk {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// Lines, with any line too long for one chunk cut at code point boundaries.
std::vector<Piece> split_pieces(std::string_view raw, std::size_t limit, bool code) {
  std::vector<Piece> pieces;
  std::size_t line_begin = 0;
  while (line_begin < raw.size()) {
    const auto nl = raw.find('\n', line_begin);
    const std::size_t line_end = nl == std::string_view::npos ? raw.size() : nl + 1;
    const std::string_view line = raw.substr(line_begin, line_end - line_begin);
    const std::size_t size = escaped_size(line, code);
    if (size <= limit) {
      pieces.push_back({line_begin, line_end, size, line.starts_with("## ")});
    } else {
      std::size_t begin = line_begin;
      std::size_t used = 0;
      char prev = '\0';
      std::size_t i = line_begin;
      while (i < line_end) {
        std::size_t cp_end = i + 1;
        while (cp_end < line_end && cp_end - i < 4 && is_utf8_continuation(raw[cp_end])) ++cp_end;
        std::size_t cp_size = 0;
        char p = prev;
        for (std::size_t k = i; k < cp_end; ++k) {
          cp_size += escaped_byte_size(raw[k], p, code);
          p = raw[k];
        }
        if (used + cp_size > limit && i > begin) {
          pieces.push_back({begin, i, used, false});
          begin = i;
          used = 0;
          // The piece starts a new block, so no backtick precedes it there.
          cp_size = escaped_size(raw.substr(i, cp_end - i), code);
          p = raw[cp_end - 1];
        }
        used += cp_size;
        prev = p;
        i = cp_end;
      }
      if (begin < line_end) pieces.push_back({begin, line_end, used, false});
    }
    line_begin = line_end;
  }
  return pieces;
}

// Greedy packing at line boundaries. When a chunk would overflow and it holds a "## "
// heading past its first half, the chunk ends before that heading instead, so sections
// tend to start at the top of a block.
std::vector<Chunk> chunk_text(std::string_view raw, std::size_t limit, bool code) {
  const std::vector<Piece> pieces = split_pieces(raw, limit, code);
  std::vector<std::size_t> prefix(pieces.size() + 1, 0);
  for (std::size_t i = 0; i < pieces.size(); ++i) prefix[i + 1] = prefix[i] + pieces[i].escaped;

  std::vector<Chunk> chunks;
  std::size_t start = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    while (i > start && prefix[i + 1] - prefix[start] > limit) {
      std::size_t split = i;
      for (std::size_t k = i - 1; k > start; --k) {
        if (pieces[k].heading) {
          if (prefix[k] - prefix[start] >= limit / 2) split = k;
          break;
        }
      }
      chunks.push_back({pieces[start].begin, pieces[split - 1].end});
      start = split;
    }
  }
  if (start < pieces.size()) chunks.push_back({pieces[start].begin, pieces.back().end});
  return chunks;
}

// The longest prefix of `s` of at most `limit` bytes that does not end inside a UTF-8
// sequence; at a line boundary when one is reasonably close.
std::size_t cut_point(std::string_view s, std::size_t limit) {
  if (s.size() <= limit) return s.size();
  if (limit == 0) return 0;
  const auto nl = s.rfind('\n', limit - 1);
  if (nl != std::string_view::npos && nl + 1 >= limit / 2) return nl + 1;
  return utf8_prefix(s, limit);
}

// The longest prefix of `s`, ending on a code point boundary, whose escaped form fits `limit`.
std::size_t escaped_cut(std::string_view s, std::size_t limit) {
  std::size_t used = 0;
  char prev = '\0';
  std::size_t cut = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!is_utf8_continuation(s[i])) cut = i;
    used += escaped_byte_size(s[i], prev, false);
    if (used > limit) return cut;
    prev = s[i];
  }
  return s.size();
}

nlohmann::json mrkdwn(std::string text) {
  // verbatim: echoed user text such as "@here" must not ping anyone a second time.
  return {{"type", "mrkdwn"}, {"text", std::move(text)}, {"verbatim", true}};
}

nlohmann::json section(std::string text) {
  return {{"type", "section"}, {"text", mrkdwn(std::move(text))}};
}

nlohmann::json context(std::string text) {
  return {{"type", "context"}, {"elements", nlohmann::json::array({mrkdwn(std::move(text))})}};
}

std::string escaped_chunk(std::string_view raw, const Chunk& chunk, bool code) {
  std::string out;
  append_escaped(out, raw.substr(chunk.begin, chunk.end - chunk.begin), code);
  return out;
}

std::string code_block(std::string_view raw, const Chunk& chunk) {
  std::string text = "```\n";
  append_escaped(text, raw.substr(chunk.begin, chunk.end - chunk.begin), true);
  if (text.back() != '\n') text.push_back('\n');
  text.append("```");
  return text;
}

// `outbox_note`: the slash-command answer also says that the channel gets the full draft.
std::string draft_note(std::size_t shown, std::size_t total, std::optional<IncidentId> incident,
                       bool outbox_note) {
  const std::string where =
      incident
          ? fmt::format("`scribe draft {}` or `GET /api/incidents/{}/postmortem.md`",
                        incident_ref(*incident), *incident)
          : std::string("`scribe draft <incident>` or `GET /api/incidents/<id>/postmortem.md`");
  return escape_mrkdwn(fmt::format(
      "Showing the first {} of {} characters. The full draft: {}{}", shown, total, where,
      outbox_note ? "; posting the full draft to the channel comes with the outbox." : "."));
}

}  // namespace

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

std::string escape_mrkdwn(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_escaped(out, text, false);
  return out;
}

namespace {

// The layout shared by render_reply and render_blocks: {"text", "blocks"}.
nlohmann::json layout(const Reply& reply, const RenderOptions& options, const BlockExtras& extras,
                      bool outbox_note) {
  const bool has_document = reply.document && !reply.document->empty();
  const std::size_t section_limit = std::max<std::size_t>(options.max_section_chars, 16);
  // Fences and a closing newline take 8 bytes of the section's budget.
  const std::size_t code_limit =
      std::clamp<std::size_t>(options.max_code_chunk, 1, section_limit - 8);
  const std::string& lead = extras.lead;

  nlohmann::json blocks = nlohmann::json::array();

  std::string summary = reply.text;
  for (const auto& line : reply.details) summary.append("\n").append(line);
  const std::vector<Chunk> summary_chunks = chunk_text(summary, section_limit, false);
  // The lead joins the first section when both fit in one, else it is a section of its own.
  const bool lead_alone =
      !lead.empty() &&
      (summary_chunks.empty() ||
       lead.size() + escaped_size(std::string_view(summary).substr(0, summary_chunks.front().end),
                                  false) >
           section_limit);
  // Room for the lead, two summary blocks, one draft block and the draft's note.
  const std::size_t reserved = std::min(extras.reserved_blocks, options.max_blocks);
  const std::size_t max_blocks =
      std::max<std::size_t>(options.max_blocks - reserved, lead_alone ? 5 : 4);
  if (lead_alone) blocks.push_back(section(lead));
  const auto summary_section = [&](std::size_t i) {
    std::string text = escaped_chunk(summary, summary_chunks[i], false);
    if (i == 0 && !lead_alone) text.insert(0, lead);
    return section(std::move(text));
  };

  // A document needs room for at least one block and its note.
  const std::size_t summary_cap = max_blocks - blocks.size() - (has_document ? 2 : 0);
  if (summary_chunks.size() <= summary_cap) {
    for (std::size_t i = 0; i < summary_chunks.size(); ++i) blocks.push_back(summary_section(i));
  } else {
    for (std::size_t i = 0; i + 1 < summary_cap; ++i) blocks.push_back(summary_section(i));
    const std::string_view shown(summary.data(), summary_chunks[summary_cap - 2].end);
    blocks.push_back(context(fmt::format("Reply truncated: showing the first {} of {} characters.",
                                         count_code_points(shown), count_code_points(summary))));
  }

  if (has_document) {
    const std::string_view doc = *reply.document;
    const std::string_view prefix = doc.substr(0, cut_point(doc, options.max_document_chars));
    std::vector<Chunk> chunks = chunk_text(prefix, code_limit, true);
    const std::size_t used = blocks.size();
    bool truncated = prefix.size() < doc.size();
    if (chunks.size() > max_blocks - used - (truncated ? 1 : 0)) {
      truncated = true;
      chunks.resize(max_blocks - used - 1);
    }
    for (const auto& chunk : chunks) blocks.push_back(section(code_block(doc, chunk)));
    if (truncated) {
      const std::size_t shown = chunks.empty() ? 0 : chunks.back().end;
      blocks.push_back(context(draft_note(count_code_points(doc.substr(0, shown)),
                                          count_code_points(doc), reply.incident, outbox_note)));
    }
  }

  const std::size_t text_limit = section_limit - std::min(lead.size(), section_limit);
  const std::string_view fallback =
      std::string_view(reply.text).substr(0, escaped_cut(reply.text, text_limit));
  nlohmann::json body = {{"text", lead + escape_mrkdwn(fallback)}};
  if (!blocks.empty()) body["blocks"] = std::move(blocks);
  return body;
}

}  // namespace

std::string render_reply(const Reply& reply, const RenderOptions& options) {
  nlohmann::json body = layout(reply, options, {}, /*outbox_note=*/true);
  body["response_type"] =
      reply.visibility == Reply::Visibility::kChannel ? "in_channel" : "ephemeral";
  // Invalid UTF-8 from anywhere upstream becomes U+FFFD instead of an exception.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json render_blocks(const Reply& reply, const RenderOptions& options,
                             const BlockExtras& extras) {
  return layout(reply, options, extras, /*outbox_note=*/false);
}

}  // namespace scribe::slack
