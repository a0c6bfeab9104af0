#include "adapters/matrix/message_text.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "adapters/matrix/platform.h"
#include "commands/invocation.h"
#include "util/json_fields.h"
#include "util/percent.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace scribe::matrix {
namespace {

// ---- HTML (formatted_body) ----

// Decodes the character references of HTML text; unknown ones stay as written.
std::string decode_entities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const auto semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    const std::string_view name = s.substr(i + 1, semi - i - 1);
    std::string replacement;
    if (name == "amp") replacement = "&";
    if (name == "lt") replacement = "<";
    if (name == "gt") replacement = ">";
    if (name == "quot") replacement = "\"";
    if (name == "apos") replacement = "'";
    if (name == "nbsp") replacement = " ";
    if (name.size() > 1 && name[0] == '#') {
      const bool hex = name[1] == 'x' || name[1] == 'X';
      const std::string_view digits = name.substr(hex ? 2 : 1);
      std::uint32_t cp = 0;
      auto [p, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (ec == std::errc() && p == digits.data() + digits.size() && !digits.empty()) {
        // As HTML decodes them: NUL, surrogates and code points past U+10FFFF are U+FFFD,
        // so the text stays valid UTF-8 (JSON refuses anything else when it is sent on).
        const bool valid = cp != 0 && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
        append_utf8(replacement, valid ? cp : 0xFFFD);
      } else if (ec == std::errc::result_out_of_range) {
        append_utf8(replacement, 0xFFFD);
      }
    }
    if (replacement.empty()) {
      out += s[i];
      continue;
    }
    out += replacement;
    i = semi;
  }
  return out;
}

std::string strip_tags(std::string_view html) {
  std::string out;
  bool in_tag = false;
  for (char c : html) {
    if (c == '<') in_tag = true;
    if (!in_tag) out += c;
    if (c == '>') in_tag = false;
  }
  return decode_entities(out);
}

// The value of attribute `name` in a start tag's text (`a href="…" …`), entities decoded.
std::string attribute(std::string_view tag, std::string_view name) {
  const std::string l = lower(tag);
  std::size_t pos = 0;
  while ((pos = l.find(name, pos)) != std::string::npos) {
    const bool starts = pos > 0 && std::isspace(static_cast<unsigned char>(l[pos - 1]));
    std::size_t p = pos + name.size();
    while (p < l.size() && l[p] == ' ') ++p;
    if (!starts || p >= l.size() || l[p] != '=') {
      pos += name.size();
      continue;
    }
    ++p;
    while (p < l.size() && l[p] == ' ') ++p;
    if (p >= l.size()) return {};
    if (l[p] == '"' || l[p] == '\'') {
      const auto end = l.find(l[p], p + 1);
      return decode_entities(
          tag.substr(p + 1, end == std::string::npos ? std::string::npos : end - p - 1));
    }
    const auto end = l.find_first_of(" \t\r\n>", p);
    return decode_entities(tag.substr(p, end == std::string::npos ? std::string::npos : end - p));
  }
  return {};
}

// The user id a matrix.to permalink names ("https://matrix.to/#/@alice:example.org?via=…"),
// or empty when it names something else (a room, an event).
std::string pill_user(std::string_view href) {
  constexpr std::string_view kPrefix = "https://matrix.to/#/";
  if (!href.starts_with(kPrefix)) return {};
  std::string id = percent_decode(href.substr(kPrefix.size()));
  id = id.substr(0, id.find_first_of("?/"));
  if (id.size() < 4 || id[0] != '@' || id.find(':') == std::string::npos) return {};
  // User ids are printable ASCII; a link decoding to anything else (%00, %FF) names no one.
  if (std::any_of(id.begin(), id.end(), [](char c) { return c <= ' ' || c > '~'; })) return {};
  return id;
}

struct Pill {
  std::string user_id;
  std::string text;  // the link text, as the body shows it
};

// The user pills of formatted_body, in order, leaving out the quoted <mx-reply>.
std::vector<Pill> pills_in(std::string_view html) {
  // Lower-cased once: closing tags are searched in it, at the offsets of `html`.
  const std::string lowered = lower(html);
  std::vector<Pill> pills;
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string_view::npos) {
    const auto close = html.find('>', i);
    if (close == std::string_view::npos) break;
    const std::string_view tag = html.substr(i + 1, close - i - 1);
    const std::string name = lower(tag.substr(0, tag.find_first_of(" \t\r\n/")));
    if (name == "mx-reply") {
      const auto end = lowered.find("</mx-reply>", close);
      if (end == std::string::npos) break;
      i = end + 1;
      continue;
    }
    if (name == "a") {
      const auto end = lowered.find("</a>", close);
      const std::string user = pill_user(attribute(tag, "href"));
      if (!user.empty() && end != std::string::npos) {
        pills.push_back(
            Pill{user, std::string(trim(strip_tags(html.substr(close + 1, end - close - 1))))});
        i = end + 4;
        continue;
      }
    }
    i = close + 1;
  }
  return pills;
}

// ---- plain text ----

// The body without a rich reply's fallback: the leading "> " quote lines and the blank
// line after them.
std::string_view without_reply_fallback(std::string_view body) {
  if (!body.starts_with("> ")) return body;
  while (body.starts_with(">")) {
    const auto nl = body.find('\n');
    if (nl == std::string_view::npos) return {};
    body.remove_prefix(nl + 1);
  }
  if (body.starts_with("\n")) body.remove_prefix(1);
  return body;
}

bool localpart_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '=' ||
         c == '-' || c == '/' || c == '+';
}

bool server_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
}

// Bare user ids ("@alice:example.org", "@bob:host:8448") -> "@alice".
std::string translate_user_ids(std::string_view text, std::vector<Person>& mentions) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const bool boundary =
        i == 0 || !(std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '@');
    if (text[i] == '@' && boundary) {
      std::size_t p = i + 1;
      while (p < text.size() && localpart_char(text[p])) ++p;
      const std::size_t colon = p;
      if (p > i + 1 && p < text.size() && text[p] == ':') {
        std::size_t q = p + 1;
        while (q < text.size() && server_char(text[q])) ++q;
        while (q > p + 1 && (text[q - 1] == '.' || text[q - 1] == '-')) --q;  // sentence end
        if (q > p + 1) {
          if (q + 1 < text.size() && text[q] == ':' &&
              std::isdigit(static_cast<unsigned char>(text[q + 1]))) {
            ++q;
            while (q < text.size() && std::isdigit(static_cast<unsigned char>(text[q]))) ++q;
          }
          const std::string id(text.substr(i, q - i));
          add_mention(mentions, person_of(id));
          out += '@';
          out += text.substr(i + 1, colon - i - 1);
          i = q;
          continue;
        }
      }
    }
    out += text[i];
    ++i;
  }
  return out;
}

}  // namespace

std::vector<EventLink> message_links(const std::string& room_id, const std::string& event_id,
                                     const nlohmann::json& content,
                                     std::string_view homeserver_url) {
  std::vector<EventLink> out;
  if (!room_id.empty() && !event_id.empty()) {
    out.push_back(EventLink{
        EventLink::Kind::kMessage, "",
        "https://matrix.to/#/" + percent_encode(room_id) + "/" + percent_encode(event_id)});
  }
  if (!content.is_object() || homeserver_url.empty()) return out;
  const std::string type = content.value("msgtype", "");
  if (type != "m.file" && type != "m.image" && type != "m.video" && type != "m.audio") return out;
  const auto url = content.find("url");
  if (url == content.end() || !url->is_string()) return out;
  const std::string mxc = url->get<std::string>();
  if (!mxc.starts_with("mxc://")) return out;
  const std::string_view rest = std::string_view(mxc).substr(6);
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) return out;
  std::string base(homeserver_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (!base.starts_with("https://") && !base.starts_with("http://")) return out;
  std::string title = content.value("filename", "");
  if (title.empty()) title = content.value("body", "");
  out.push_back(
      EventLink{type == "m.image" ? EventLink::Kind::kImage : EventLink::Kind::kFile, title,
                base + "/_matrix/media/v3/download/" + percent_encode(rest.substr(0, slash)) + "/" +
                    percent_encode(rest.substr(slash + 1))});
  return out;
}

std::string message_text(const nlohmann::json& content, std::vector<Person>& mentions) {
  std::string text(without_reply_fallback(string_at(content, "body")));
  if (string_at(content, "format") == "org.matrix.custom.html") {
    // The body shows each pill as its link text; replace them in order.
    std::size_t cursor = 0;
    for (const Pill& pill : pills_in(string_at(content, "formatted_body"))) {
      add_mention(mentions, person_of(pill.user_id));
      if (pill.text.empty()) continue;
      const auto at = text.find(pill.text, cursor);
      if (at == std::string::npos) continue;
      const std::string replacement = "@" + localpart_of(pill.user_id);
      text.replace(at, pill.text.size(), replacement);
      cursor = at + replacement.size();
    }
  }
  return std::string(trim(translate_user_ids(text, mentions)));
}

}  // namespace scribe::matrix
