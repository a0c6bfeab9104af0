#include "adapters/slack/blocks.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "util/text.h"
#include "util/utf8.h"

namespace scribe::slack {
namespace {

using nlohmann::json;

constexpr std::string_view kZeroWidthSpace = "\xE2\x80\x8B";

// Slack's limits for buttons.
constexpr std::size_t kMaxButtonsPerBlock = 25;
constexpr std::size_t kMaxActionsBlocks = 5;
constexpr std::size_t kMaxButtonLabel = 75;
constexpr std::size_t kMaxActionId = 255;
constexpr std::size_t kMaxButtonValue = 2000;
// Mentions are a lead of the first section, which is never split: keep it well within one.
constexpr std::size_t kMaxLeadBytes = 1000;

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

// One block of a reply's layout: a section, or a context line, of mrkdwn text. The layout is
// kept as plain strings so that the slash-command answer, rendered on the writer thread for
// every command (its bytes are stored for replays), is written out directly rather than
// built as a JSON tree first.
struct Block {
  bool context = false;
  std::string text;
};

struct Layout {
  std::string text;
  std::vector<Block> blocks;
};

nlohmann::json mrkdwn(std::string text) {
  // verbatim: echoed user text such as "@here" must not ping anyone a second time.
  return {{"type", "mrkdwn"}, {"text", std::move(text)}, {"verbatim", true}};
}

nlohmann::json block_json(Block block) {
  if (block.context) {
    return {{"type", "context"},
            {"elements", nlohmann::json::array({mrkdwn(std::move(block.text))})}};
  }
  return {{"type", "section"}, {"text", mrkdwn(std::move(block.text))}};
}

// A JSON string literal as nlohmann::json::dump(-1, ' ', false, replace) writes it: quotes and
// backslashes escaped, control characters as \b \f \n \r \t or \u00XX, UTF-8 kept as it is. Text
// that is not valid UTF-8 goes through nlohmann itself, so that its replacement of bad
// bytes stays exactly the same.
void append_json_string(std::string& out, std::string_view s) {
  if (!valid_utf8(s)) {
    out += nlohmann::json(std::string(s))
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default: {
        const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escape, sizeof escape);
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
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

// A Slack user id ("U024BE7LH", "W0123"): only those can be mentioned as <@ID>.
bool is_slack_user_id(std::string_view id) {
  if (id.size() < 2 || (id.front() != 'U' && id.front() != 'W')) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

std::string mention_lead(const std::vector<Person>& notify) {
  std::string lead;
  for (const auto& person : notify) {
    std::string mention;
    if (is_slack_user_id(person.id)) {
      mention = fmt::format("<@{}> ", person.id);
    } else if (!person.name.empty()) {
      mention = escape_mrkdwn("@" + person.name) + " ";
    } else {
      continue;
    }
    if (lead.find(mention) != std::string::npos) continue;
    if (lead.size() + mention.size() > kMaxLeadBytes) break;
    lead += mention;
  }
  return lead;
}

json button_element(const Button& button) {
  const std::string label = !button.label.empty()    ? button.label
                            : !button.action.empty() ? button.action
                                                     : std::string("OK");
  json element = {
      {"type", "button"},
      {"text",
       {{"type", "plain_text"}, {"text", truncate_utf8(label, kMaxButtonLabel)}, {"emoji", true}}},
  };
  if (!button.action.empty()) element["action_id"] = truncate_utf8(button.action, kMaxActionId);
  if (!button.value.empty()) element["value"] = truncate_utf8(button.value, kMaxButtonValue);
  return element;
}

// Buttons in "actions" blocks. An action_id must be unique within its block, so a second
// button with the same action (two items' "Mark done") starts a new block.
std::vector<json> actions_blocks(const std::vector<Button>& buttons) {
  std::vector<json> blocks;
  json current = json::array();
  std::vector<std::string> ids;
  const auto flush = [&] {
    if (current.empty()) return;
    blocks.push_back({{"type", "actions"}, {"elements", std::move(current)}});
    current = json::array();
    ids.clear();
  };
  for (const auto& button : buttons) {
    json element = button_element(button);
    const std::string id = element.value("action_id", "");
    const bool repeated = !id.empty() && std::find(ids.begin(), ids.end(), id) != ids.end();
    if (repeated || current.size() == kMaxButtonsPerBlock) {
      flush();
      if (blocks.size() == kMaxActionsBlocks) break;
    }
    if (!id.empty()) ids.push_back(id);
    current.push_back(std::move(element));
  }
  if (blocks.size() < kMaxActionsBlocks) flush();
  return blocks;
}

}  // namespace

std::string escape_mrkdwn(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_escaped(out, text, false);
  return out;
}

namespace {

// The layout shared by render_reply and render_blocks: the fallback text and the blocks.
Layout layout(const Reply& reply, const RenderOptions& options, const BlockExtras& extras,
              bool outbox_note) {
  const bool has_document = reply.document && !reply.document->empty();
  const std::size_t section_limit = std::max<std::size_t>(options.max_section_chars, 16);
  // Fences and a closing newline take 8 bytes of the section's budget.
  const std::size_t code_limit =
      std::clamp<std::size_t>(options.max_code_chunk, 1, section_limit - 8);
  const std::string& lead = extras.lead;

  std::vector<Block> blocks;

  // User text arrives here inside replies; bidi overrides, controls and broken UTF-8 are
  // neutralised (util/text.h) before escaping.
  std::string summary = display_text(reply.text);
  for (const auto& line : reply.details) summary.append("\n").append(display_text(line));
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
  if (lead_alone) blocks.push_back({false, lead});
  const auto summary_section = [&](std::size_t i) {
    std::string text = escaped_chunk(summary, summary_chunks[i], false);
    if (i == 0 && !lead_alone) text.insert(0, lead);
    return Block{false, std::move(text)};
  };

  // A document needs room for at least one block and its note.
  const std::size_t summary_cap = max_blocks - blocks.size() - (has_document ? 2 : 0);
  if (summary_chunks.size() <= summary_cap) {
    for (std::size_t i = 0; i < summary_chunks.size(); ++i) blocks.push_back(summary_section(i));
  } else {
    for (std::size_t i = 0; i + 1 < summary_cap; ++i) blocks.push_back(summary_section(i));
    const std::string_view shown(summary.data(), summary_chunks[summary_cap - 2].end);
    blocks.push_back({true, fmt::format("Reply truncated: showing the first {} of {} characters.",
                                        count_code_points(shown), count_code_points(summary))});
  }

  if (has_document) {
    const std::string_view whole = *reply.document;
    // What is shown; counts in the note are of the whole draft.
    const std::string shown_doc =
        display_text(whole.substr(0, cut_point(whole, options.max_document_chars)));
    const std::string_view doc = shown_doc;
    const std::string_view prefix = doc;
    std::vector<Chunk> chunks = chunk_text(prefix, code_limit, true);
    const std::size_t used = blocks.size();
    bool truncated = cut_point(whole, options.max_document_chars) < whole.size();
    if (chunks.size() > max_blocks - used - (truncated ? 1 : 0)) {
      truncated = true;
      chunks.resize(max_blocks - used - 1);
    }
    for (const auto& chunk : chunks) blocks.push_back({false, code_block(doc, chunk)});
    if (truncated) {
      const std::size_t shown = chunks.empty() ? 0 : chunks.back().end;
      blocks.push_back({true, draft_note(count_code_points(doc.substr(0, shown)),
                                         count_code_points(whole), reply.incident, outbox_note)});
    }
  }

  const std::size_t text_limit = section_limit - std::min(lead.size(), section_limit);
  const std::string text = display_text(reply.text);
  const std::string_view fallback = std::string_view(text).substr(0, escaped_cut(text, text_limit));
  return {lead + escape_mrkdwn(fallback), std::move(blocks)};
}

}  // namespace

// Written directly, in the order and form nlohmann::json::dump gives the same object (keys
// sorted: blocks, response_type, text; the blocks' keys too), so the bytes are the same as
// render_blocks's JSON with "response_type" added.
std::string render_reply(const Reply& reply, const RenderOptions& options) {
  const Layout body = layout(reply, options, {}, /*outbox_note=*/true);
  std::size_t size = body.text.size() + 64;
  for (const auto& block : body.blocks) size += block.text.size() + 80;
  std::string out;
  out.reserve(size + size / 8);
  out.push_back('{');
  if (!body.blocks.empty()) {
    out.append("\"blocks\":[");
    for (std::size_t i = 0; i < body.blocks.size(); ++i) {
      const Block& block = body.blocks[i];
      if (i > 0) out.push_back(',');
      if (block.context) {
        out.append("{\"elements\":[{\"text\":");
        append_json_string(out, block.text);
        out.append(",\"type\":\"mrkdwn\",\"verbatim\":true}],\"type\":\"context\"}");
      } else {
        out.append("{\"text\":{\"text\":");
        append_json_string(out, block.text);
        out.append(",\"type\":\"mrkdwn\",\"verbatim\":true},\"type\":\"section\"}");
      }
    }
    out.append("],");
  }
  out.append(reply.visibility == Reply::Visibility::kChannel ? "\"response_type\":\"in_channel\","
                                                             : "\"response_type\":\"ephemeral\",");
  out.append("\"text\":");
  append_json_string(out, body.text);
  out.push_back('}');
  return out;
}

nlohmann::json render_blocks(const Reply& reply, const RenderOptions& options,
                             const BlockExtras& extras) {
  Layout parts = layout(reply, options, extras, /*outbox_note=*/false);
  nlohmann::json body = {{"text", std::move(parts.text)}};
  if (!parts.blocks.empty()) {
    nlohmann::json blocks = nlohmann::json::array();
    for (auto& block : parts.blocks) blocks.push_back(block_json(std::move(block)));
    body["blocks"] = std::move(blocks);
  }
  return body;
}

json message_payload(std::string_view channel, const OutgoingMessage& message,
                     const std::optional<std::string>& thread_ts) {
  const std::vector<json> actions = actions_blocks(message.buttons);
  RenderOptions options;
  options.max_document_chars = kPostedDocumentBytes;
  BlockExtras extras;
  extras.lead = mention_lead(message.notify);
  extras.reserved_blocks = actions.size();
  json parts = render_blocks(message.body, options, extras);

  json payload = {
      {"channel", channel}, {"text", std::move(parts["text"])}, {"unfurl_links", false}};
  json blocks = parts.contains("blocks") ? std::move(parts["blocks"]) : json::array();
  for (const auto& block : actions) blocks.push_back(block);
  if (!blocks.empty()) payload["blocks"] = std::move(blocks);
  if (thread_ts && !thread_ts->empty()) payload["thread_ts"] = *thread_ts;
  return payload;
}

json update_payload(std::string_view channel, std::string_view ts, const OutgoingMessage& message) {
  json posted = message_payload(channel, message);
  json payload = {{"channel", channel}, {"ts", ts}, {"text", std::move(posted["text"])}};
  payload["blocks"] = posted.contains("blocks") ? std::move(posted["blocks"]) : json::array();
  return payload;
}

}  // namespace scribe::slack
