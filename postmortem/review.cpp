#include "postmortem/review.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <deque>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <date/date.h>
#include <fmt/format.h>

#include "postmortem/format.h"

namespace scribe {

// ---------------------------------------------------------------------------------------
// Default word lists. Kept short and specific: every entry here must earn its place by
// rarely meaning something harmless in an incident's text.
// ---------------------------------------------------------------------------------------

std::vector<std::string> default_blame_words() {
  return {"forgot",
          "forget",
          "forgets",
          "forgetting",
          "forgotten",
          "failed to",
          "fail to",
          "fails to",
          "failing to",
          "neglected",
          "neglects",
          "neglecting",
          "should have",
          "should've",
          "shouldn't have",
          "should not have",
          "should know better",
          "careless",
          "carelessly",
          "carelessness",
          "sloppy",
          "sloppily",
          "mistake",
          "mistakes",
          "fault",
          "at fault",
          "oversight",
          "didn't bother",
          "did not bother",
          "couldn't be bothered",
          "ignored",
          "ignores",
          "ignoring",
          "messed up",
          "screwed up",
          "dropped the ball",
          "blame",
          "blamed",
          "blaming",
          "negligent",
          "negligence",
          "lazy",
          "incompetent",
          "reckless",
          "recklessly",
          "wasn't paying attention",
          "was not paying attention",
          "didn't pay attention",
          "did not pay attention"};
}

std::vector<std::string> default_person_words() {
  return {"someone",
          "somebody",
          "he",
          "she",
          "him",
          "her",
          "his",
          "the engineer",
          "an engineer",
          "the on-call",
          "the oncall",
          "the on call",
          "the on-call engineer",
          "the oncall engineer",
          "the on call engineer",
          "the operator",
          "an operator",
          "the developer",
          "a developer",
          "the dev",
          "the sre",
          "an sre",
          "the admin",
          "an admin",
          "the administrator",
          "the intern",
          "an intern",
          "the reviewer",
          "the deployer"};
}

std::vector<std::string> default_human_error_words() {
  return {"human error",   "operator error",   "user error",    "pilot error",
          "human mistake", "operator mistake", "human failure", "engineer error"};
}

std::vector<std::string> default_measurable_nouns() {
  return {"latency",     "latencies",   "response time", "response times", "errors",
          "error rate",  "error rates", "error budget",  "failures",       "timeouts",
          "time-outs",   "exceptions",  "crashes",       "retries",        "traffic",
          "load",        "throughput",  "cpu",           "memory",         "disk",
          "disk space",  "queue",       "queues",        "queue depth",    "backlog",
          "lag",         "requests",    "calls",         "users",          "customers",
          "clients",     "orders",      "payments",      "transactions",   "revenue",
          "sessions",    "signups",     "sign-ups",      "logins",         "connections",
          "packet loss", "bandwidth",   "downtime",      "availability",   "uptime",
          "saturation",  "utilization", "utilisation",   "usage",          "5xx",
          "5xxs",        "4xx",         "4xxs"};
}

std::vector<std::string> default_magnitude_words() {
  return {"a lot",           "lots of",       "a ton",        "tons of",       "a great deal",
          "significant",     "significantly", "substantial",  "substantially", "considerable",
          "considerably",    "dramatic",      "dramatically", "drastically",   "sharply",
          "noticeably",      "severely",      "a while",      "for a while",   "briefly",
          "for some time",   "for a bit",     "spiked",       "skyrocketed",   "shot up",
          "through the roof"};
}

std::vector<std::string> default_relative_words() {
  return {"increased",     "increase",     "increases",      "increasing",   "decreased",
          "decrease",      "decreasing",   "rose",           "risen",        "rising",
          "grew",          "grown",        "growing",        "went up",      "went down",
          "going up",      "dropped off",  "fell",           "fallen",       "falling",
          "jumped",        "climbed",      "surged",         "surge",        "spike",
          "spikes",        "spiking",      "soared",         "plummeted",    "plunged",
          "tanked",        "degraded",     "elevated",       "high",         "higher",
          "low",           "lower",        "slow",           "slower",       "heavy",
          "heavier",       "huge",         "massive",        "enormous",     "a little",
          "some",          "many",         "a few",          "few",          "several",
          "most",          "numerous",     "a number of",    "a handful of", "a bunch of",
          "a majority of", "intermittent", "intermittently", "occasional",   "occasionally",
          "sporadic",      "sporadically", "worse",          "partial",      "partially"};
}

std::vector<std::string> default_vague_verbs() {
  return {"improve",
          "improved",
          "ensure",
          "make sure",
          "be more careful",
          "be careful",
          "more careful",
          "monitor better",
          "better monitoring",
          "more monitoring",
          "better alerting",
          "more alerting",
          "better testing",
          "more testing",
          "more tests",
          "look into",
          "looking into",
          "investigate",
          "consider",
          "try to",
          "attempt to",
          "review",
          "revisit",
          "re-evaluate",
          "reevaluate",
          "evaluate",
          "explore",
          "think about",
          "discuss",
          "figure out",
          "understand",
          "double-check",
          "double check",
          "pay more attention",
          "keep an eye on",
          "communicate better",
          "be aware",
          "raise awareness",
          "follow up",
          "assess",
          "reconsider",
          "research",
          "dig into",
          "analyse",
          "analyze",
          "prioritize",
          "prioritise",
          "harden",
          "strengthen",
          "streamline",
          "educate",
          "remind"};
}

std::vector<std::string> default_concrete_verbs() {
  return {
      "add",        "remove",    "delete",    "create",    "write",     "build",      "set",
      "configure",  "enable",    "disable",   "alert",     "page",      "block",      "reject",
      "require",    "enforce",   "limit",     "cap",       "throttle",  "rate-limit", "raise",
      "lower",      "increase",  "reduce",    "decrease",  "migrate",   "move",       "replace",
      "rename",     "split",     "merge",     "upgrade",   "downgrade", "pin",        "rotate",
      "renew",      "automate",  "schedule",  "run",       "deploy",    "roll out",   "roll back",
      "ship",       "implement", "introduce", "install",   "document",  "update",     "fix",
      "patch",      "backfill",  "validate",  "test",      "gate",      "scale",      "resize",
      "provision",  "cache",     "retry",     "expose",    "publish",   "emit",       "log",
      "instrument", "lock",      "encrypt",   "revoke",    "restrict",  "allow",      "deny",
      "route",      "redirect",  "isolate",   "partition", "tag",       "label",      "file",
      "adopt",      "switch",    "convert",   "bump",      "extend",    "shorten",    "tune",
      "adjust",     "change",    "use",       "stop",      "turn off",  "turn on",    "wire",
      "hook",       "drain",     "shard",     "check",     "monitor",   "dashboard",  "graph",
      "track",      "record",    "verify",    "audit",     "train",     "drill",      "rehearse",
      "hire",       "assign",    "define",    "cut",       "pause"};
}

// ---------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------

namespace {

constexpr std::array<std::pair<ReviewRule, std::string_view>, 5> kRuleNames{{
    {ReviewRule::kBlame, "blame"},
    {ReviewRule::kVague, "vague"},
    {ReviewRule::kUnactionable, "unactionable"},
    {ReviewRule::kCoverage, "coverage"},
    {ReviewRule::kMissing, "missing"},
}};

}  // namespace

std::string_view to_string(ReviewRule rule) {
  for (const auto& [r, name] : kRuleNames) {
    if (r == rule) return name;
  }
  return "unknown";
}

std::optional<ReviewRule> review_rule_from_string(std::string_view s) {
  for (const auto& [r, name] : kRuleNames) {
    if (name.size() != s.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < s.size() && same; ++i) {
      const char c = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
      same = c == name[i];
    }
    if (same) return r;
  }
  return std::nullopt;
}

std::string_view to_string(TargetType type) {
  switch (type) {
    case TargetType::kIncident:
      return "incident";
    case TargetType::kEvent:
      return "event";
    case TargetType::kAction:
      return "action";
    case TargetType::kNote:
      return "note";
  }
  return "unknown";
}

namespace {

// ---------------------------------------------------------------------------------------
// Tokenising. Words are runs of letters and digits (any non-ASCII letter included);
// '.', ',', ':', '-', '/' stay inside a word between the characters that make it one
// token ("1.2", "4,100", "14:05", "on-call", "us-east-1"), an apostrophe inside a word
// stays ("didn't"), '@' and '#' may start one ("@bob", "#3"), '%' may end a number.
// Sentences end at . ! ? ; … and line breaks; clauses also at , : ( ) quotes and dashes.
// ---------------------------------------------------------------------------------------

struct Token {
  std::uint32_t begin = 0;  // bytes of the original text
  std::uint32_t end = 0;
  std::string_view norm;  // lower-case, "'" for ’, a final "'s" removed
  std::uint32_t sentence = 0;
  std::uint32_t clause = 0;
  bool capitalised = false;
  bool possessive = false;
  bool mention = false;  // "@bob"
  bool hashtag = false;  // "#3", "#prevent"
  bool has_digit = false;
};

enum class CharClass { kWord, kApostrophe, kSentenceEnd, kQuestion, kClauseBreak, kSpace, kOther };

// Decodes one code point; malformed bytes count as one "other" character.
char32_t decode(std::string_view s, std::size_t i, std::size_t& len) {
  const auto b = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]) & 0x3F; };
  if (b < 0x80) {
    len = 1;
    return b;
  }
  if ((b & 0xE0) == 0xC0 && cont(1)) {
    len = 2;
    return ((b & 0x1F) << 6) | at(1);
  }
  if ((b & 0xF0) == 0xE0 && cont(1) && cont(2)) {
    len = 3;
    return ((b & 0x0F) << 12) | (at(1) << 6) | at(2);
  }
  if ((b & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
    len = 4;
    return ((b & 0x07) << 18) | (at(1) << 12) | (at(2) << 6) | at(3);
  }
  len = 1;
  return 0xFFFD;
}

bool ascii_alnum(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool ascii_digit(char32_t c) { return c >= '0' && c <= '9'; }

CharClass classify(char32_t c) {
  if (c < 0x80) {
    if (ascii_alnum(c) || c == '_') return CharClass::kWord;
    switch (c) {
      case '\'':
        return CharClass::kApostrophe;
      case '.':
      case '!':
      case ';':
      case '\n':
      case '\r':
        return CharClass::kSentenceEnd;
      case '?':
        return CharClass::kQuestion;
      case ',':
      case ':':
      case '(':
      case ')':
      case '[':
      case ']':
      case '{':
      case '}':
      case '"':
      case '|':
        return CharClass::kClauseBreak;
      case ' ':
      case '\t':
        return CharClass::kSpace;
      default:
        return CharClass::kOther;
    }
  }
  if (c == 0x2019 || c == 0x02BC) return CharClass::kApostrophe;  // ’ and ʼ
  if (c == 0x2026) return CharClass::kSentenceEnd;                // …
  if (c == 0x2013 || c == 0x2014 || c == 0x201C || c == 0x201D || c == 0x00AB || c == 0x00BB) {
    return CharClass::kClauseBreak;  // – — “ ” « »
  }
  if (c == 0x00A0 || c == 0x202F || c == 0x2009) return CharClass::kSpace;
  if (c == 0x00AA || c == 0x00B5 || c == 0x00BA) return CharClass::kWord;  // ª µ º
  if (c < 0xC0 || c == 0xD7 || c == 0xF7) return CharClass::kOther;        // Latin-1 symbols
  if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
      (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0x1F000 && c <= 0x1FAFF) || c == 0xFEFF ||
      c == 0xFFFD) {
    return CharClass::kOther;  // punctuation, arrows, symbols, emoji
  }
  return CharClass::kWord;
}

struct Text {
  std::string_view text;
  std::string norm;  // reserved to text.size(): normalising never grows, so views stay valid
  std::vector<Token> tokens;
  std::vector<bool> question;  // per sentence
  std::uint32_t clock_times = 0;

  void clear() {
    norm.clear();
    tokens.clear();
    question.clear();
    clock_times = 0;
  }
};

void tokenise(std::string_view text, Text& out) {
  out.clear();
  out.text = text;
  out.norm.reserve(text.size());
  std::uint32_t sentence = 0;
  std::uint32_t clause = 0;
  out.question.push_back(false);

  Token cur;
  bool in_token = false;
  std::size_t norm_start = 0;
  auto finish = [&](std::size_t end) {
    if (!in_token) return;
    in_token = false;
    std::size_t n = out.norm.size() - norm_start;
    // A lone '@' or '#' is not a word.
    if ((cur.mention || cur.hashtag) && n == 1) {
      out.norm.resize(norm_start);
      return;
    }
    if (n > 2 && out.norm.compare(out.norm.size() - 2, 2, "'s") == 0) {
      out.norm.resize(out.norm.size() - 2);
      cur.possessive = true;
    } else if (n > 1 && out.norm.back() == '\'') {
      out.norm.pop_back();  // "engineers'"
      cur.possessive = true;
    }
    n = out.norm.size() - norm_start;
    cur.end = static_cast<std::uint32_t>(end);
    cur.norm = std::string_view(out.norm.data() + norm_start, n);
    cur.sentence = sentence;
    cur.clause = clause;
    out.tokens.push_back(cur);
  };
  auto start = [&](std::size_t at, char32_t c) {
    cur = Token{};
    cur.begin = static_cast<std::uint32_t>(at);
    cur.capitalised = c >= 'A' && c <= 'Z';
    in_token = true;
    norm_start = out.norm.size();
  };
  auto put = [&](char32_t c, std::string_view bytes) {
    if (c >= 'A' && c <= 'Z') {
      out.norm.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out.norm.append(bytes);
    }
    if (ascii_digit(c)) cur.has_digit = true;
  };
  auto peek = [&](std::size_t i) -> char32_t {
    if (i >= text.size()) return 0;
    std::size_t len = 0;
    return decode(text, i, len);
  };

  std::size_t i = 0;
  char32_t prev = 0;
  while (i < text.size()) {
    std::size_t len = 0;
    const char32_t c = decode(text, i, len);
    const CharClass cls = classify(c);
    const char32_t next = peek(i + len);
    const std::string_view bytes = text.substr(i, len);
    if (cls == CharClass::kWord) {
      if (!in_token) start(i, c);
      put(c, bytes);
    } else if (in_token && cls == CharClass::kApostrophe && next < 0x80 &&
               ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z'))) {
      out.norm.push_back('\'');
    } else if (in_token && (c == '.' || c == ':' || c == '-') && ascii_alnum(prev) &&
               ascii_alnum(next)) {
      out.norm.push_back(static_cast<char>(c));
    } else if (in_token && (c == ',' || c == '/') && ascii_digit(prev) && ascii_digit(next)) {
      out.norm.push_back(static_cast<char>(c));
    } else if (in_token && c == '@' && ascii_alnum(next)) {
      out.norm.push_back('@');  // an e-mail address stays one word
    } else if (in_token && c == '%' && ascii_digit(prev)) {
      out.norm.push_back('%');
      finish(i + len);
    } else if (!in_token && (c == '@' || c == '#') && classify(next) == CharClass::kWord) {
      start(i, c);
      (c == '@' ? cur.mention : cur.hashtag) = true;
      out.norm.push_back(static_cast<char>(c));
    } else {
      finish(i);
      if (cls == CharClass::kSentenceEnd || cls == CharClass::kQuestion) {
        if (cls == CharClass::kQuestion) out.question.back() = true;
        // A run of them ("?!", "...") ends one sentence.
        if (!out.tokens.empty() && out.tokens.back().sentence == sentence) {
          ++sentence;
          ++clause;
          out.question.push_back(false);
        }
      } else if (cls == CharClass::kClauseBreak ||
                 (c == '-' && (prev == ' ' || prev == 0) && (next == ' ' || next == 0))) {
        if (!out.tokens.empty() && out.tokens.back().clause == clause) ++clause;
      }
    }
    prev = c;
    i += len;
  }
  finish(text.size());
}

// ---------------------------------------------------------------------------------------
// The compiled dictionary: every configured phrase keyed by its first word, and the
// small closed word classes the rules use (negators, fillers, …) as flags on words.
// ---------------------------------------------------------------------------------------

enum Category : std::uint8_t {
  kBlameWord,
  kPersonWord,
  kHumanError,
  kMeasurable,
  kMagnitude,
  kRelative,
  kVagueVerb,
  kConcreteVerb,
  kNeutral,  // compounds that are names of things, not sizes ("load balancer")
  kCategoryCount,
};

enum WordFlag : std::uint32_t {
  kNegator = 1u << 0,           // not, never, didn't, …
  kFiller = 1u << 1,            // may stand between a subject and its verb: had, just, made, a
  kAgentGap = 1u << 2,          // may stand between a blame word and its agent: made, lies
  kAgentPreposition = 1u << 3,  // by, on, of, with
  kCauseMarker = 1u << 4,       // cause, due, was, …: "human error" stated as the cause
  kGuard = 1u << 5,             // against, prevent, risk, …: "human error" designed against
  kMetricAfter = 1u << 6,       // rate, count, …: "user error rate" is a metric
  kCauseVerb = 1u << 7,         // caused, led, triggered: "Human error caused …"
  kNumberWord = 1u << 8,        // two, dozen, half, all, …
  kIdPrefix = 1u << 9,          // http, port, sev, …: the number after it is a name
  kStatusBefore = 1u << 10,     // returned, got, a: "returned 503"
  kStatusAfter = 1u << 11,      // errors, responses: "503 errors"
  kCommonWord = 1u << 12,       // will, may, mark: a participant so named needs a capital
  kGroupMention = 1u << 13,     // @here, @channel
  kNothingAfter = 1u << 14,     // nothing, none: "ignored nothing"
  kVerbBefore = 1u << 15,       // and, to, by, we, …: the next word is in a verb's place
  kPassive = 1u << 16,          // was, were, got: "bob was blamed"
};

struct Phrase {
  std::vector<std::string_view> words;
  Category category;
};

struct DictEntry {
  std::uint32_t flags = 0;
  std::vector<std::uint32_t> phrases;  // indexes into Compiled::phrases, longest first
};

// A phrase found in a text: tokens [first, last).
struct Match {
  Category category;
  std::uint32_t first;
  std::uint32_t last;
};

}  // namespace

struct ReviewDictionary {
  const ReviewSettings& settings;   // its ReviewRules' (below), which outlive it
  std::deque<std::string> storage;  // owns every word the views below point at
  std::vector<Phrase> phrases;
  std::unordered_map<std::string_view, DictEntry> dict;

  std::string_view intern(std::string_view s) { return storage.emplace_back(s); }

  DictEntry& entry(std::string_view word) {
    auto it = dict.find(word);
    if (it != dict.end()) return it->second;
    return dict.emplace(intern(word), DictEntry{}).first->second;
  }

  // Flags words as the tokeniser reads them ("didn’t" and "didn't" are one word).
  void flag(std::initializer_list<std::string_view> words, std::uint32_t f) {
    Text t;
    for (std::string_view w : words) {
      tokenise(w, t);
      if (t.tokens.size() == 1) entry(t.tokens.front().norm).flags |= f;
    }
  }

  // Adds a phrase as the text tokeniser would read it, so "didn’t" and "Didn't" agree.
  void add(std::string_view phrase, Category category) {
    Text t;
    tokenise(phrase, t);
    if (t.tokens.empty()) return;
    Phrase p;
    p.category = category;
    for (const Token& tok : t.tokens) {
      // The tokeniser strips a final "'s"; a phrase word keeps what the text's token keeps.
      p.words.push_back(intern(tok.norm));
    }
    DictEntry& e = entry(p.words.front());
    phrases.push_back(std::move(p));
    e.phrases.push_back(static_cast<std::uint32_t>(phrases.size() - 1));
  }

  void add_all(const std::vector<std::string>& list, Category category) {
    for (const auto& s : list) add(s, category);
  }

  // A base verb and the forms that mean the same change: "add" → adds, added, adding.
  void add_verb_forms(std::string_view phrase) {
    const std::size_t space = phrase.find(' ');
    const std::string head(phrase.substr(0, space));
    const std::string tail(space == std::string_view::npos ? "" : phrase.substr(space));
    std::vector<std::string> forms{head,        head + "s", head + "es",
                                   head + "ed", head + "d", head + "ing"};
    if (!head.empty()) {
      const char last = head.back();
      forms.push_back(head + last + "ed");  // pin → pinned
      forms.push_back(head + last + "ing");
      if (last == 'e') forms.push_back(head.substr(0, head.size() - 1) + "ing");  // use → using
      if (last == 'y') forms.push_back(head.substr(0, head.size() - 1) + "ied");  // verify
    }
    for (const auto& f : forms) add(f + tail, kConcreteVerb);
  }

  explicit ReviewDictionary(const ReviewSettings& s) : settings(s) {
    add_all(settings.blame_words, kBlameWord);
    add_all(settings.person_words, kPersonWord);
    add_all(settings.human_error_words, kHumanError);
    add_all(settings.measurable_nouns, kMeasurable);
    add_all(settings.magnitude_words, kMagnitude);
    add_all(settings.relative_words, kRelative);
    add_all(settings.vague_verbs, kVagueVerb);
    for (const auto& v : settings.concrete_verbs) add_verb_forms(v);
    for (std::string_view irregular : {"wrote", "written", "built", "ran", "rolled out",
                                       "rolled back", "set up", "sets up", "setting up"}) {
      add(irregular, kConcreteVerb);
    }
    for (std::string_view neutral :
         {"load balancer", "load balancers", "load balancing", "load test", "load tests",
          "load testing", "load shedding", "high availability", "high-availability", "low latency",
          "low-latency", "error budget policy", "disk image", "memory leak"}) {
      add(neutral, kNeutral);
    }

    flag({"not",   "never",  "no",     "didn't",  "don't",  "doesn't", "wasn't",   "weren't",
          "isn't", "aren't", "hasn't", "haven't", "hadn't", "won't",   "wouldn't", "couldn't",
          "can't", "cannot", "nobody", "neither", "nor",    "without", "shouldn't"},
         kNegator);
    flag({"had",    "has",   "have",   "having", "was",     "were",    "is",      "are",
          "be",     "been",  "being",  "did",    "does",    "do",      "just",    "simply",
          "also",   "again", "then",   "once",   "even",    "still",   "already", "made",
          "make",   "makes", "making", "a",      "an",      "another", "big",     "real",
          "own",    "the",   "same",   "who",    "himself", "herself", "not",     "never",
          "didn't", "did",   "wasn't", "hadn't", "doesn't", "don't",   "won't",   "shouldn't"},
         kFiller);
    flag({"made", "lies", "lay", "rests", "falls", "fell", "squarely", "entirely", "solely", "is",
          "was", "the"},
         kAgentGap);
    flag({"by", "on", "of", "with"}, kAgentPreposition | kAgentGap);
    flag({"cause",      "caused",    "causes", "due",     "because",    "result",    "resulted",
          "attributed", "attribute", "blame",  "blamed",  "conclusion", "concluded", "conclude",
          "chalked",    "down",      "was",    "is",      "were",       "simply",    "just",
          "classic",    "pure",      "plain",  "another", "ultimately"},
         kCauseMarker);
    flag(
        {"against",    "prevent",  "prevents",  "preventing", "reduce",   "reduces",     "reducing",
         "avoid",      "avoids",   "avoiding",  "minimise",   "minimize", "catch",       "catches",
         "catching",   "tolerate", "tolerates", "tolerant",   "despite",  "blaming",     "beyond",
         "rather",     "instead",  "than",      "risk",       "chance",   "possibility", "room",
         "likelihood", "proof",    "resilient", "resistant",  "mitigate", "detect",      "guard"},
        kGuard);
    flag({"rate",      "rates",  "count", "counts", "code",    "codes",    "response",
          "responses", "budget", "page",  "pages",  "message", "messages", "metric",
          "metrics",   "log",    "logs",  "ratio",  "spike",   "dashboard"},
         kMetricAfter);
    flag({"caused", "causes", "led", "leads", "triggered", "triggers", "resulted", "results",
          "brought"},
         kCauseVerb);
    flag({"zero",     "none",    "nobody",  "nothing",    "one",      "two",       "three",
          "four",     "five",    "six",     "seven",      "eight",    "nine",      "ten",
          "eleven",   "twelve",  "fifteen", "twenty",     "thirty",   "forty",     "fifty",
          "sixty",    "ninety",  "hundred", "hundreds",   "thousand", "thousands", "million",
          "millions", "billion", "dozen",   "dozens",     "half",     "twice",     "double",
          "doubled",  "triple",  "tripled", "quadrupled", "tenfold",  "all",       "every",
          "third",    "quarter", "thirds",  "quarters",   "entire",   "whole"},
         kNumberWord);
    flag({"http",    "https",    "status", "code",     "codes",   "port",    "version",   "release",
          "sev",     "severity", "pr",     "issue",    "ticket",  "line",    "build",     "shard",
          "node",    "rack",     "inc",    "incident", "rfc",     "cve",     "pid",       "step",
          "phase",   "number",   "bug",    "job",      "run",     "pod",     "host",      "server",
          "replica", "az",       "zone",   "region",   "cluster", "worker",  "partition", "task",
          "v",       "tls",      "ipv",    "python",   "java",    "go",      "api",       "iso",
          "utf",     "sha",      "error",  "exit",     "signal",  "chapter", "section",   "page",
          "item",    "action",   "event",  "room",     "floor",   "route"},
         kIdPrefix);
    flag({"returned", "returning", "returns", "return", "got", "getting", "serving", "served",
          "throwing", "threw", "a", "an", "with", "answered", "responded"},
         kStatusBefore);
    flag({"error", "errors", "response", "responses", "status", "code", "codes", "page", "pages"},
         kStatusAfter);
    // Names that are also everyday words count as a person only when capitalised.
    flag({"will",   "may",    "mark",  "bill",  "grant",  "rob",   "pat",   "sue",  "art",
          "max",    "ray",    "rose",  "june",  "jack",   "frank", "chase", "drew", "gene",
          "hope",   "joy",    "lance", "miles", "page",   "penny", "reed",  "rich", "sky",
          "summer", "victor", "ash",   "bill",  "dawn",   "faith", "grace", "guy",  "hunter",
          "ivy",    "jay",    "jean",  "jim",   "kit",    "lee",   "mason", "nick", "norm",
          "pierce", "sage",   "skip",  "wade",  "warren", "wes",   "win",   "a",    "i",
          "it",     "the",    "on",    "and",   "to",     "in",    "of",    "at",   "we",
          "us",     "me",     "so",    "an",    "or",     "by",    "do",    "go",   "no",
          "up"},
         kCommonWord);
    flag({"@here", "@channel", "@everyone", "@all", "@room"}, kGroupMention);
    flag({"nothing", "none", "no"}, kNothingAfter);
    flag({"and",    "then",  "to",      "by",     "or",      "we",     "will",
          "should", "must",  "also",    "please", "i",       "you",    "they",
          "team",   "we'll", "let's",   "lets",   "can",     "could",  "would",
          "shall",  "are",   "is",      "be",     "been",    "being",  "get",
          "gets",   "got",   "so",      "first",  "just",    "always", "never",
          "not",    "don't", "finally", "via",    "through", "after",  "before",
          "when",   "while", "for",     "that",   "which",   "who",    "automatically"},
         kVerbBefore);
    flag({"was", "were", "is", "are", "be", "been", "being", "got", "get", "gets"}, kPassive);

    // Longest phrase first, so a match at a position is the most specific one.
    for (auto& [word, e] : dict) {
      std::stable_sort(e.phrases.begin(), e.phrases.end(), [&](std::uint32_t a, std::uint32_t b) {
        return phrases[a].words.size() > phrases[b].words.size();
      });
    }
  }

  const DictEntry* lookup(std::string_view word) const {
    auto it = dict.find(word);
    return it == dict.end() ? nullptr : &it->second;
  }
};

namespace {

using Compiled = ReviewDictionary;

// A participant's name as words: "Alice Smith" also as "alice"; everyday-word names
// ("Will") only when written with a capital.
struct NamePhrase {
  std::vector<std::string> words;
  bool needs_capital = false;
};

class NameIndex {
 public:
  NameIndex(const std::vector<Person>& people, const Compiled& c) {
    Text t;
    for (const Person& p : people) {
      tokenise(p.name, t);
      if (t.tokens.empty()) continue;
      std::vector<std::string> words;
      for (const Token& tok : t.tokens) words.emplace_back(tok.norm);
      add(words, c);
      if (words.size() > 1 && words.front().size() >= 3) add({words.front()}, c);
      // A user name like "erin.lee" or "erin_lee" is written "erin" in prose.
      if (words.size() == 1) {
        const std::string& w = words.front();
        const std::size_t cut = w.find_first_of("._-");
        if (cut != std::string::npos && cut >= 3) add({w.substr(0, cut)}, c);
      }
    }
    for (std::size_t i = 0; i < names_.size(); ++i) {
      by_first_[names_[i].words.front()].push_back(i);
    }
  }

  // The longest name starting at token `i`: its end, or 0.
  std::uint32_t match(const Text& t, std::uint32_t i) const {
    if (by_first_.empty()) return 0;
    auto it = by_first_.find(t.tokens[i].norm);
    if (it == by_first_.end()) return 0;
    std::uint32_t best = 0;
    for (const std::size_t n : it->second) {
      const NamePhrase& name = names_[n];
      if (name.needs_capital && !t.tokens[i].capitalised) continue;
      const std::size_t len = name.words.size();
      if (i + len > t.tokens.size()) continue;
      bool same = true;
      for (std::size_t k = 1; k < len && same; ++k) {
        same =
            t.tokens[i + k].norm == name.words[k] && t.tokens[i + k].clause == t.tokens[i].clause;
      }
      if (same) best = std::max(best, static_cast<std::uint32_t>(i + len));
    }
    return best;
  }

 private:
  void add(std::vector<std::string> words, const Compiled& c) {
    if (words.size() == 1) {
      // Too short to be told from a letter or an abbreviation.
      if (words.front().size() < 2) return;
      if (words.front().front() == '@' || words.front().front() == '#') return;
    }
    NamePhrase n;
    n.words = std::move(words);
    if (n.words.size() == 1) {
      // Everyday words, and words the rules themselves look for, need a capital.
      const DictEntry* e = c.lookup(n.words.front());
      n.needs_capital = e != nullptr;
    }
    for (const auto& existing : names_) {
      if (existing.words == n.words) return;
    }
    names_.push_back(std::move(n));
  }

  std::vector<NamePhrase> names_;
  // Keys view names_' strings, which do not change once the index is built.
  std::unordered_map<std::string_view, std::vector<std::size_t>> by_first_;
};

// Everything one text's rules look at: tokens, the dictionary entry of each, and the
// phrases found, by category.
struct Analysis {
  Text text;
  std::vector<const DictEntry*> entries;
  std::array<std::vector<Match>, kCategoryCount> matches;

  std::uint32_t flags(std::size_t i) const {
    return i < entries.size() && entries[i] ? entries[i]->flags : 0;
  }
  bool has(std::size_t i, std::uint32_t f) const { return (flags(i) & f) != 0; }
  const Token& tok(std::size_t i) const { return text.tokens[i]; }
  std::size_t size() const { return text.tokens.size(); }
};

void analyse(std::string_view s, const Compiled& c, Analysis& a) {
  tokenise(s, a.text);
  a.entries.clear();
  for (auto& m : a.matches) m.clear();
  const auto& toks = a.text.tokens;
  a.entries.reserve(toks.size());
  for (const Token& t : toks) a.entries.push_back(c.lookup(t.norm));
  for (std::uint32_t i = 0; i < toks.size(); ++i) {
    const DictEntry* e = a.entries[i];
    if (!e) continue;
    std::array<bool, kCategoryCount> found{};
    for (const std::uint32_t pi : e->phrases) {
      const Phrase& p = c.phrases[pi];
      if (found[p.category]) continue;  // a longer one of this category already matched
      const std::size_t len = p.words.size();
      if (i + len > toks.size()) continue;
      bool same = true;
      for (std::size_t k = 1; k < len && same; ++k) {
        same = toks[i + k].norm == p.words[k] && toks[i + k].clause == toks[i].clause;
      }
      if (!same) continue;
      found[p.category] = true;
      a.matches[p.category].push_back({p.category, i, static_cast<std::uint32_t>(i + len)});
    }
  }
}

// Whether token i is inside a neutral compound ("load balancer").
bool in_neutral(const Analysis& a, std::uint32_t first, std::uint32_t last) {
  for (const Match& m : a.matches[kNeutral]) {
    if (m.first < last && first < m.last) return true;
  }
  return false;
}

bool is_percentile(std::string_view w) {
  // p50, p95, p99, p99.9, p999
  if (w.size() < 3 || w[0] != 'p') return false;
  for (std::size_t i = 1; i < w.size(); ++i) {
    if (!ascii_digit(static_cast<unsigned char>(w[i])) && w[i] != '.') return false;
  }
  return true;
}

// Whether a negation governs the words [first, last): one of the two words before them in
// the same clause is a negator ("did not increase", "wasn't bob's fault").
bool negated_before(const Analysis& a, std::uint32_t first) {
  for (std::uint32_t k = 1; k <= 2 && k <= first; ++k) {
    const std::uint32_t j = first - k;
    if (a.tok(j).clause != a.tok(first).clause) break;
    if (a.has(j, kNegator)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Numbers. Any quantity in a text makes it precise. Digits that name rather than count
// are not quantities: p99, 5xx, HTTP 503, IPv6, S3, sev1, v1.2.3, 2026-11-20, a clock
// time (it says when, not how much: two of them bound a span and do count).
// ---------------------------------------------------------------------------------------

enum class NumberKind { kNone, kQuantity, kClock };

bool all_digits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

bool is_date(std::string_view s) {
  return s.size() == 10 && all_digits(s.substr(0, 4)) && s[4] == '-' &&
         all_digits(s.substr(5, 2)) && s[7] == '-' && all_digits(s.substr(8, 2));
}

bool is_clock(std::string_view s) {
  // H:MM, HH:MM, HH:MM:SS
  const std::size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2) return false;
  if (!all_digits(s.substr(0, colon))) return false;
  std::string_view rest = s.substr(colon + 1);
  if (rest.size() == 2) return all_digits(rest);
  return rest.size() == 5 && all_digits(rest.substr(0, 2)) && rest[2] == ':' &&
         all_digits(rest.substr(3, 2));
}

bool status_code_like(std::string_view digits) {
  return digits.size() == 3 && all_digits(digits) && digits[0] >= '1' && digits[0] <= '5';
}

NumberKind number_kind(const Analysis& a, std::uint32_t i) {
  const Token& t = a.tok(i);
  if (t.mention || t.hashtag) return NumberKind::kNone;
  if (!t.has_digit) {
    if (a.has(i, kNumberWord)) return NumberKind::kQuantity;
    return NumberKind::kNone;
  }
  const std::string_view w = t.norm;
  if (!ascii_digit(static_cast<unsigned char>(w[0]))) return NumberKind::kNone;  // p99, s3, sev1
  const std::size_t num_end = w.find_first_not_of("0123456789.,:/-");
  const std::string_view num = w.substr(0, num_end);
  const std::string_view rest = num_end == std::string_view::npos ? "" : w.substr(num_end);
  if (rest.empty()) {
    if (is_date(num)) return NumberKind::kNone;
    if (num.find(':') != std::string_view::npos) {
      return is_clock(num) ? NumberKind::kClock : NumberKind::kNone;
    }
    if (std::count(num.begin(), num.end(), '.') >= 2) return NumberKind::kNone;  // 1.2.3
    const bool before_in_sentence = i > 0 && a.tok(i - 1).sentence == t.sentence;
    if (before_in_sentence && a.has(i - 1, kIdPrefix)) return NumberKind::kNone;  // port 8080
    if (status_code_like(num)) {
      const bool after_in_sentence = i + 1 < a.size() && a.tok(i + 1).sentence == t.sentence;
      if ((before_in_sentence && a.has(i - 1, kStatusBefore)) ||
          (after_in_sentence && a.has(i + 1, kStatusAfter))) {
        return NumberKind::kNone;  // "returned 503", "500 errors"
      }
    }
    return NumberKind::kQuantity;
  }
  if (rest == "%") return NumberKind::kQuantity;
  if (rest == "xx" || rest == "xxs") return NumberKind::kNone;         // 5xx
  if (rest == "s" && status_code_like(num)) return NumberKind::kNone;  // 503s
  // "300ms", "1.2s", "4gb", "10k", "2x": a number glued to its unit.
  static const std::unordered_set<std::string_view> kUnits{
      "ms",   "s",     "sec",     "secs",    "m",    "min",  "mins", "h",   "hr",  "hrs",
      "d",    "w",     "wk",      "k",       "kb",   "mb",   "gb",   "tb",  "pb",  "kib",
      "mib",  "gib",   "tib",     "b",       "x",    "us",   "µs",   "ns",  "rps", "qps",
      "rpm",  "tps",   "ops",     "bps",     "kbps", "mbps", "gbps", "pct", "day", "days",
      "hour", "hours", "minutes", "seconds", "req",  "reqs"};
  return kUnits.count(rest) ? NumberKind::kQuantity : NumberKind::kNone;
}

// The first quantity in the text, or none; two clock times count as one (a span).
bool has_quantity(const Analysis& a, const Compiled& c) {
  std::uint32_t clocks = 0;
  for (std::uint32_t i = 0; i < a.size(); ++i) {
    switch (number_kind(a, i)) {
      case NumberKind::kQuantity:
        return true;
      case NumberKind::kClock:
        if (++clocks >= 2) return true;
        break;
      case NumberKind::kNone:
        // "no users were affected" is a count: zero.
        if (a.tok(i).norm == "no" && i + 1 < a.size()) {
          const DictEntry* next = a.entries[i + 1];
          if (next) {
            for (std::uint32_t pi : next->phrases) {
              if (c.phrases[pi].category == kMeasurable) return true;
            }
          }
        }
        break;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Excerpts: the matched words with a few words either side, never cut inside a UTF-8
// character, line breaks shown as spaces.
// ---------------------------------------------------------------------------------------

bool is_continuation(char ch) { return (static_cast<unsigned char>(ch) & 0xC0) == 0x80; }

// text[from, to) with runs of white space as one space, and "…" where it was cut.
std::string collapsed(std::string_view text, std::size_t from, std::size_t to) {
  std::string out;
  out.reserve(to - from + 8);
  if (from > 0) out += "…";
  bool space = false;
  bool any = false;
  for (std::size_t i = from; i < to; ++i) {
    const char ch = text[i];
    if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ') {
      space = true;
      continue;
    }
    if (space && any) out.push_back(' ');
    space = false;
    any = true;
    out.push_back(ch);
  }
  if (to < text.size()) out += "…";
  return out;
}

std::string excerpt(std::string_view text, std::size_t begin, std::size_t end,
                    std::size_t context = 40) {
  begin = std::min(begin, text.size());
  end = std::clamp(end, begin, text.size());
  std::size_t from = begin > context ? begin - context : 0;
  std::size_t to = std::min(text.size(), end + context);
  while (from > 0 && is_continuation(text[from])) --from;
  while (to < text.size() && is_continuation(text[to])) ++to;
  // Start and end on word boundaries when the cut is inside the text.
  if (from > 0) {
    const std::size_t space = text.find_first_of(" \t\r\n", from);
    if (space != std::string_view::npos && space < begin) from = space + 1;
  }
  if (to < text.size()) {
    const std::size_t space = text.find_last_of(" \t\r\n", to);
    if (space != std::string_view::npos && space >= end) to = space;
  }
  return collapsed(text, from, to);
}

// The start of a text, cut at a word boundary.
std::string head(std::string_view text, std::size_t max = 80) {
  if (text.size() <= max) return collapsed(text, 0, text.size());
  std::size_t to = max;
  while (to > 0 && is_continuation(text[to])) --to;
  const std::size_t space = text.find_last_of(" \t\r\n", to);
  if (space != std::string_view::npos && space > max / 2) to = space;
  return collapsed(text, 0, to);
}

std::string span_text(const Analysis& a, std::uint32_t first, std::uint32_t last) {
  const std::string_view t = a.text.text;
  std::string out;
  for (std::size_t i = a.tok(first).begin; i < a.tok(last - 1).end; ++i) {
    const char ch = t[i];
    if (ch == '\n' || ch == '\r' || ch == '\t') {
      out.push_back(' ');
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The entry rules
// ---------------------------------------------------------------------------------------

struct PersonSpan {
  std::uint32_t first;
  std::uint32_t last;
};

void find_people(const Analysis& a, const NameIndex& names, std::vector<PersonSpan>& out) {
  out.clear();
  for (std::uint32_t i = 0; i < a.size(); ++i) {
    const Token& t = a.tok(i);
    if (t.mention && !a.has(i, kGroupMention)) {
      out.push_back({i, i + 1});
    } else if (const std::uint32_t end = names.match(a.text, i)) {
      out.push_back({i, end});
    }
  }
  for (const Match& m : a.matches[kPersonWord]) out.push_back({m.first, m.last});
}

bool is_filler(const Analysis& a, std::uint32_t j) {
  if (a.has(j, kFiller)) return true;
  const std::string_view w = a.tok(j).norm;
  return w.size() > 4 && w.ends_with("ly");  // accidentally, simply, clearly
}

// Whether the person did the blame word: as its subject ("bob forgot", "bob's mistake",
// "bob made a careless mistake") or its agent ("ignored by bob", "blame lies with bob").
// Sets `negated` when a negation takes it back ("bob did not forget", "not bob's fault").
bool attributed(const Analysis& a, const PersonSpan& p, const Match& b, bool& negated) {
  negated = false;
  if (a.tok(p.first).clause != a.tok(b.first).clause) return false;
  const bool blame_verb = a.tok(b.first).norm.starts_with("blam");
  if (p.last <= b.first) {
    const std::uint32_t gap = b.first - p.last;
    if (gap > 4) return false;
    bool passive = false;
    for (std::uint32_t j = p.last; j < b.first; ++j) {
      if (!is_filler(a, j)) return false;
      if (a.has(j, kNegator)) negated = true;
      if (a.has(j, kPassive)) passive = true;
    }
    // "alice blamed the DNS change" blames a thing; "alice was blamed" blames alice.
    if (blame_verb && !passive) return false;
    if (negated_before(a, p.first)) negated = true;
    // "bob ignored nothing"
    if (b.last < a.size() && a.tok(b.last).clause == a.tok(b.first).clause &&
        a.has(b.last, kNothingAfter)) {
      negated = true;
    }
    return true;
  }
  if (b.last <= p.first) {
    const std::uint32_t gap = p.first - b.last;
    if (gap > 3) return false;
    if (gap == 0) {
      // Only "blame" takes its person directly: "we blame bob".
      if (!blame_verb) return false;
    } else {
      for (std::uint32_t j = b.last; j < p.first; ++j) {
        if (!a.has(j, kAgentGap)) return false;
      }
      if (!a.has(p.first - 1, kAgentPreposition)) return false;
    }
    if (negated_before(a, b.first)) negated = true;
    return true;
  }
  return false;  // overlapping: a person word that is itself a blame word
}

std::optional<Finding> blame_finding(const Analysis& a, const NameIndex& names,
                                     std::vector<PersonSpan>& people) {
  if (!a.matches[kBlameWord].empty()) {
    find_people(a, names, people);
    for (const Match& b : a.matches[kBlameWord]) {
      for (const PersonSpan& p : people) {
        bool negated = false;
        if (!attributed(a, p, b, negated) || negated) continue;
        const std::uint32_t first = std::min(p.first, b.first);
        const std::uint32_t last = std::max(p.last, b.last);
        Finding f;
        f.rule = ReviewRule::kBlame;
        f.code = "blame_word";
        f.excerpt = excerpt(a.text.text, a.tok(first).begin, a.tok(last - 1).end);
        f.message = fmt::format(
            "“{}” puts the cause in a person: people then stop telling what really happened, "
            "and whatever let it happen stays in place.",
            span_text(a, first, last));
        f.suggestion =
            "Ask the system question instead: what made this possible or easy? Describe the "
            "missing check, the confusing tool or the unsafe default, e.g. “nothing stopped a "
            "deploy whose tests had not run”.";
        return f;
      }
    }
  }
  for (const Match& m : a.matches[kHumanError]) {
    const Token& t = a.tok(m.first);
    if (a.text.question[t.sentence]) continue;  // "was it human error?" asks, not concludes
    if (m.last < a.size() && a.tok(m.last).sentence == t.sentence && a.has(m.last, kMetricAfter)) {
      continue;  // "user error rate"
    }
    bool guarded = false;
    bool cause_before = false;
    for (std::uint32_t k = 1; k <= 5 && k <= m.first; ++k) {
      const std::uint32_t j = m.first - k;
      if (a.tok(j).sentence != t.sentence) break;
      if (a.has(j, kNegator) || a.has(j, kGuard)) guarded = true;
      if (a.has(j, kCauseMarker)) cause_before = true;
    }
    if (guarded) continue;
    // At the head of its clause, it is a conclusion when the clause is only that
    // ("Human error." / "human error: …") or goes on to say what it caused.
    const bool clause_head = m.first == 0 || a.tok(m.first - 1).clause != t.clause;
    const bool clause_alone = m.last >= a.size() || a.tok(m.last).clause != t.clause;
    const bool causes_next = m.last < a.size() && a.tok(m.last).clause == t.clause &&
                             (a.has(m.last, kCauseVerb) ||
                              ((a.tok(m.last).norm == "was" || a.tok(m.last).norm == "is") &&
                               m.last + 1 < a.size() && a.tok(m.last + 1).norm == "the"));
    if (!cause_before && !(clause_head && (clause_alone || causes_next))) continue;
    Finding f;
    f.rule = ReviewRule::kBlame;
    f.code = "human_error";
    f.excerpt = excerpt(a.text.text, t.begin, a.tok(m.last - 1).end);
    f.message = fmt::format(
        "“{}” ends the analysis where it should begin: it says who slipped, not why the "
        "system made the slip possible or its effect so large.",
        span_text(a, m.first, m.last));
    f.suggestion =
        "Ask what made the error possible or easy (a missing guard rail, an ambiguous tool, "
        "an unsafe default, time pressure) and write that as the cause.";
    return f;
  }
  return std::nullopt;
}

enum class VagueScope {
  kImpact,  // impact notes, #impact events, summary: a measurable thing needs a number
  kClaims,  // cause notes, #detected/#alert events: only sizes given without a number
};

std::optional<Finding> vague_finding(const Analysis& a, const Compiled& c, VagueScope scope) {
  bool percentile = false;  // p99 and friends are measurable without being in the list
  for (const Token& t : a.text.tokens) percentile = percentile || is_percentile(t.norm);
  const bool sizes = !a.matches[kMagnitude].empty() || !a.matches[kRelative].empty();
  const bool things = !a.matches[kMeasurable].empty() || percentile;
  if (!sizes && !(scope == VagueScope::kImpact && things)) return std::nullopt;
  if (has_quantity(a, c)) return std::nullopt;

  // Measurable things, sentence by sentence.
  std::vector<std::uint32_t> measurable_sentences;
  std::optional<Match> first_measurable;
  for (const Match& m : a.matches[kMeasurable]) {
    if (in_neutral(a, m.first, m.last)) continue;
    measurable_sentences.push_back(a.tok(m.first).sentence);
    if (!first_measurable) first_measurable = m;
  }
  for (std::uint32_t i = 0; i < a.size(); ++i) {
    if (is_percentile(a.tok(i).norm)) {
      measurable_sentences.push_back(a.tok(i).sentence);
      if (!first_measurable || i < first_measurable->first) {
        first_measurable = Match{kMeasurable, i, i + 1};
      }
    }
  }
  auto measurable_in = [&](std::uint32_t sentence) {
    return std::find(measurable_sentences.begin(), measurable_sentences.end(), sentence) !=
           measurable_sentences.end();
  };

  std::optional<Match> hit;
  // "latency did not increase" says the size: none.
  bool negated_size = false;
  for (const Match& m : a.matches[kMagnitude]) {
    if (in_neutral(a, m.first, m.last)) continue;
    if (negated_before(a, m.first)) {
      negated_size = true;
      continue;
    }
    hit = m;
    break;
  }
  for (const Match& m : a.matches[kRelative]) {
    if (in_neutral(a, m.first, m.last)) continue;
    if (!measurable_in(a.tok(m.first).sentence)) continue;
    if (negated_before(a, m.first)) {
      negated_size = true;
      continue;
    }
    if (!hit || m.first < hit->first) hit = m;
    break;
  }

  Finding f;
  f.rule = ReviewRule::kVague;
  if (hit) {
    f.code = "magnitude";
    f.excerpt = excerpt(a.text.text, a.tok(hit->first).begin, a.tok(hit->last - 1).end);
    f.message = fmt::format(
        "“{}” gives a size without a number: readers cannot tell a blip from an outage, or "
        "compare this incident with the next.",
        span_text(a, hit->first, hit->last));
    f.suggestion =
        "Put the number in, with its unit and the baseline: e.g. “p99 latency grew from 300 ms "
        "to 1.2 s”, “4,100 orders failed”, “for 24 minutes”.";
    return f;
  }
  if (scope == VagueScope::kImpact && first_measurable && !negated_size) {
    const Match& m = *first_measurable;
    f.code = "unquantified";
    f.excerpt = excerpt(a.text.text, a.tok(m.first).begin, a.tok(m.last - 1).end);
    f.message = fmt::format(
        "Speaks of {} without a single number: how many, how much, for how long is what the "
        "impact is.",
        span_text(a, m.first, m.last));
    f.suggestion =
        "Quantify it: how many or what share, how much, for how long (e.g. “18% of checkout "
        "requests failed for 24 minutes; 4,100 orders were lost”).";
    return f;
  }
  return std::nullopt;
}

std::optional<date::year_month_day> parse_date(std::string_view s) {
  if (!is_date(s)) return std::nullopt;
  int y = 0;
  unsigned m = 0, d = 0;
  std::from_chars(s.data(), s.data() + 4, y);
  std::from_chars(s.data() + 5, s.data() + 7, m);
  std::from_chars(s.data() + 8, s.data() + 10, d);
  const date::year_month_day ymd{date::year{y}, date::month{m}, date::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

bool person_set(const std::optional<Person>& p) {
  return p && (!p->id.empty() || !p->name.empty());
}

void unactionable_findings(const ActionItem& item, const Analysis& a, const Compiled& c,
                           Timestamp now, std::vector<Finding>& out) {
  auto add = [&](std::string_view code, std::string excerpt_text, std::string message,
                 std::string suggestion) {
    Finding f;
    f.rule = ReviewRule::kUnactionable;
    f.code = code;
    f.excerpt = std::move(excerpt_text);
    f.message = std::move(message);
    f.suggestion = std::move(suggestion);
    out.push_back(std::move(f));
  };
  const bool open = item.status == ActionStatus::kOpen;

  // Only a wish: a vague verb, and no concrete verb that is not merely its object.
  if (open && !a.matches[kVagueVerb].empty()) {
    bool concrete = false;
    for (const Match& cv : a.matches[kConcreteVerb]) {
      // "Add …", "… and fix …", "by adding …": in a verb's place. "the flaky test" is a
      // noun, and does not make "Look into the flaky test" a change.
      const bool verb_place =
          cv.first == 0 || a.tok(cv.first - 1).clause != a.tok(cv.first).clause ||
          a.has(cv.first - 1, kVerbBefore) ||
          (a.tok(cv.first - 1).norm.size() > 4 && a.tok(cv.first - 1).norm.ends_with("ly"));
      if (!verb_place) continue;
      bool governed = false;
      for (const Match& vv : a.matches[kVagueVerb]) {
        // "consider adding", "try to add", "look into adding": still only considered.
        if (cv.first == vv.last || (cv.first >= vv.first && cv.first < vv.last)) {
          governed = true;
        }
      }
      if (!governed) {
        concrete = true;
        break;
      }
    }
    if (!concrete) {
      const Match& vv = a.matches[kVagueVerb].front();
      add("vague_verb", head(item.text),
          fmt::format("“{}” states a wish, not a change: nobody can tell when it is done, so it "
                      "never is.",
                      span_text(a, vv.first, vv.last)),
          "Write the change itself, so that done is checkable: e.g. “Add a CI check that "
          "blocks deploys without a canary”, “Alert when p99 latency exceeds 800 ms for 5 "
          "minutes”.");
    }
  }
  if (open && !person_set(item.owner)) {
    add("no_owner", head(item.text), "Has no owner: an item that everyone owns is done by no one.",
        "Give it one owner: an @mention in the action item.");
  }
  if (open) {
    if (!item.due || item.due->empty()) {
      add("no_due", head(item.text),
          "Has no due date, so no reminder will nudge it and it can drift forever.",
          "Give it a due date: due YYYY-MM-DD, or +2w.");
    } else if (auto due = parse_date(*item.due)) {
      const date::sys_days today = date::floor<date::days>(now);
      const auto days = (date::sys_days{*due} - today).count();
      if (days > c.settings.action_horizon_days) {
        add("due_far", *item.due,
            fmt::format("Due {}, {} days away (the horizon is {}): items that far out are "
                        "rarely done, and the incident's lessons fade first.",
                        *item.due, days, c.settings.action_horizon_days),
            fmt::format("Bring it within {} days, or split off a first step that fits.",
                        c.settings.action_horizon_days));
      }
    } else {
      add("no_due", *item.due,
          fmt::format("Its due date “{}” is not a date, so no reminder will nudge it.", *item.due),
          "Give it a due date: due YYYY-MM-DD, or +2w.");
    }
  }
  if (item.kind == ActionKind::kNone) {
    add("no_kind", head(item.text),
        "Has no kind, so the review cannot tell whether recurrence, detection or mitigation is "
        "covered.",
        "Tag it #detect, #mitigate, #prevent or #process.");
  }
}

// Where each kind of entry is checked for vagueness, if at all.
std::optional<VagueScope> vague_scope(EventKind kind) {
  switch (kind) {
    case EventKind::kImpact:
      return VagueScope::kImpact;
    case EventKind::kDetected:
    case EventKind::kAlert:
      return VagueScope::kClaims;
    default:
      return std::nullopt;
  }
}

std::optional<VagueScope> vague_scope(NoteSection section) {
  switch (section) {
    case NoteSection::kSummary:
    case NoteSection::kImpact:
      return VagueScope::kImpact;
    case NoteSection::kCause:
      return VagueScope::kClaims;
    default:
      return std::nullopt;
  }
}

// ---------------------------------------------------------------------------------------
// Ordering
// ---------------------------------------------------------------------------------------

int type_rank(TargetType t) {
  switch (t) {
    case TargetType::kIncident:
      return 0;
    case TargetType::kEvent:
      return 1;
    case TargetType::kNote:
      return 2;
    case TargetType::kAction:
      return 3;
  }
  return 4;
}

bool finding_before(const Finding& x, const Finding& y) {
  if (x.rule != y.rule) return x.rule < y.rule;
  const FindingTarget& a = x.target;
  const FindingTarget& b = y.target;
  if (a.type != b.type) return type_rank(a.type) < type_rank(b.type);
  if (a.seq != b.seq) return a.seq.value_or(0) < b.seq.value_or(0);
  const int sa = a.section ? static_cast<int>(*a.section) : -1;
  const int sb = b.section ? static_cast<int>(*b.section) : -1;
  if (sa != sb) return sa < sb;
  return a.index < b.index;
}

// Runs the entry rules with reusable buffers.
class EntryChecker {
 public:
  EntryChecker(const Compiled& c, const NameIndex& names) : c_(c), names_(names) {}

  void event(const TimelineEvent& e, std::vector<Finding>& out) {
    const FindingTarget target{TargetType::kEvent, e.seq, std::nullopt, 0, e.id};
    const auto scope = vague_scope(e.kind);
    run(e.text, target, scope, out);
  }

  void note(const Note& n, int index, std::vector<Finding>& out) {
    const FindingTarget target{TargetType::kNote, std::nullopt, n.section, index, n.id};
    run(n.text, target, vague_scope(n.section), out);
  }

  void action(const ActionItem& item, Timestamp now, std::vector<Finding>& out) {
    const FindingTarget target{TargetType::kAction, item.seq, std::nullopt, 0, item.id};
    run(item.text, target, std::nullopt, out);
    if (c_.settings.unactionable) {
      const std::size_t before = out.size();
      unactionable_findings(item, a_, c_, now, out);
      for (std::size_t i = before; i < out.size(); ++i) out[i].target = target;
    }
  }

  void title(const Incident& inc, std::vector<Finding>& out) {
    run(inc.title, FindingTarget{}, std::nullopt, out);
  }

 private:
  void run(std::string_view text, const FindingTarget& target, std::optional<VagueScope> scope,
           std::vector<Finding>& out) {
    analyse(text, c_, a_);
    if (c_.settings.blame) {
      if (auto f = blame_finding(a_, names_, people_)) {
        f->target = target;
        out.push_back(std::move(*f));
      }
    }
    if (c_.settings.vague && scope) {
      if (auto f = vague_finding(a_, c_, *scope)) {
        f->target = target;
        out.push_back(std::move(*f));
      }
    }
  }

  const Compiled& c_;
  const NameIndex& names_;
  Analysis a_;
  std::vector<PersonSpan> people_;
};

// ---------------------------------------------------------------------------------------
// The incident rules
// ---------------------------------------------------------------------------------------

bool resolved(const Incident& inc) {
  return inc.resolved_at &&
         (inc.status == IncidentStatus::kResolved || inc.status == IncidentStatus::kClosed);
}

std::string kinds_summary(const std::vector<ActionItem>& actions) {
  if (actions.empty()) return "no action items";
  std::array<int, 5> counts{};
  for (const auto& a : actions) ++counts[static_cast<std::size_t>(a.kind)];
  std::string out = "action items:";
  bool first = true;
  for (ActionKind k : {ActionKind::kDetect, ActionKind::kMitigate, ActionKind::kPrevent,
                       ActionKind::kProcess, ActionKind::kNone}) {
    const int n = counts[static_cast<std::size_t>(k)];
    if (n == 0) continue;
    out += fmt::format("{} {} {}", first ? "" : ",", n,
                       k == ActionKind::kNone ? std::string_view{"without kind"} : to_string(k));
    first = false;
  }
  return out;
}

Finding incident_finding(ReviewRule rule, std::string_view code, std::string excerpt_text,
                         std::string message, std::string suggestion) {
  Finding f;
  f.rule = rule;
  f.code = code;
  f.excerpt = std::move(excerpt_text);
  f.message = std::move(message);
  f.suggestion = std::move(suggestion);
  return f;
}

struct TimelineFacts {
  std::vector<const TimelineEvent*> events;  // not deleted, by occurred_at then seq
  std::optional<Timestamp> impact_began;     // earliest #impact
  std::optional<Timestamp> first_detection;  // earliest #detected/#alert
};

TimelineFacts timeline_facts(const IncidentRecord& r) {
  TimelineFacts f;
  f.events.reserve(r.events.size());
  for (const auto& e : r.events) {
    if (!e.deleted) f.events.push_back(&e);
  }
  auto before = [](const TimelineEvent* a, const TimelineEvent* b) {
    if (a->occurred_at != b->occurred_at) return a->occurred_at < b->occurred_at;
    return a->seq < b->seq;
  };
  if (!std::is_sorted(f.events.begin(), f.events.end(), before)) {
    std::stable_sort(f.events.begin(), f.events.end(), before);
  }
  for (const TimelineEvent* e : f.events) {
    if (e->kind == EventKind::kImpact && !f.impact_began) f.impact_began = e->occurred_at;
    if ((e->kind == EventKind::kDetected || e->kind == EventKind::kAlert) && !f.first_detection) {
      f.first_detection = e->occurred_at;
    }
  }
  return f;
}

void coverage_findings(const IncidentRecord& r, const TimelineFacts& t, const Compiled& c,
                       std::vector<Finding>& out) {
  const auto& sevs = c.settings.coverage_severities;
  if (std::find(sevs.begin(), sevs.end(), r.incident.severity) == sevs.end()) return;
  auto has_kind = [&](ActionKind k) {
    return std::any_of(r.actions.begin(), r.actions.end(),
                       [&](const ActionItem& a) { return a.kind == k; });
  };
  const std::string_view sev = to_string(r.incident.severity);
  if (!has_kind(ActionKind::kPrevent)) {
    out.push_back(incident_finding(
        ReviewRule::kCoverage, "no_prevent", fmt::format("{}; {}", sev, kinds_summary(r.actions)),
        fmt::format("A {} incident with no prevent action item: nothing on the list stops it "
                    "from happening again.",
                    sev),
        "Add an item that removes the trigger or the cause, tagged #prevent."));
  }
  if (!has_kind(ActionKind::kDetect)) {
    // Detected: the first #detected/#alert, or the declaration when earlier or there is
    // none (as the draft's key durations measure it).
    std::optional<std::chrono::seconds> ttd;
    if (t.impact_began) {
      Timestamp detected = r.incident.declared_at;
      if (t.first_detection && *t.first_detection < detected) detected = *t.first_detection;
      ttd = std::max(std::chrono::seconds{0}, seconds_between(*t.impact_began, detected));
    }
    const auto threshold =
        std::chrono::duration_cast<std::chrono::seconds>(c.settings.detect_threshold);
    if (!ttd || *ttd > threshold) {
      const std::string what =
          ttd ? fmt::format("time to detect {} (threshold {})", format_duration(*ttd),
                            format_duration(threshold))
              : std::string("time to detect unknown: no #impact event marks when impact began");
      out.push_back(incident_finding(
          ReviewRule::kCoverage, "no_detect",
          fmt::format("{}; {}; {}", sev, what, kinds_summary(r.actions)),
          ttd ? fmt::format("Detection took {}, longer than {}, and no action item is of kind "
                            "detect: next time it will be just as slow.",
                            format_duration(*ttd), format_duration(threshold))
              : std::string("Nobody can say how long detection took, and no action item is of "
                            "kind detect: a slow detection would go unnoticed."),
          "Add an alert or check that would have caught this sooner, tagged #detect (and mark "
          "when impact began with a #impact event)."));
    }
  }
}

void missing_findings(const IncidentRecord& r, const TimelineFacts& t, const Compiled& c,
                      Timestamp now, std::vector<Finding>& out) {
  std::array<int, 12> sections{};
  for (const Note& n : r.notes) {
    const auto s = static_cast<std::size_t>(n.section);
    if (s < sections.size()) ++sections[s];
  }
  auto count = [&](NoteSection s) { return sections[static_cast<std::size_t>(s)]; };
  auto add = [&](std::string_view code, std::string message, std::string suggestion) {
    out.push_back(incident_finding(ReviewRule::kMissing, code, "", std::move(message),
                                   std::move(suggestion)));
  };

  if (count(NoteSection::kSummary) == 0) {
    add("no_summary", "No summary: readers who stop after the first paragraph learn nothing.",
        "Add two or three sentences: what broke, for whom, for how long, and how it ended.");
  }
  // Impact: notes and #impact events; quantified when one of them has a number.
  {
    std::vector<std::string_view> texts;
    for (const Note& n : r.notes) {
      if (n.section == NoteSection::kImpact) texts.push_back(n.text);
    }
    for (const TimelineEvent* e : t.events) {
      if (e->kind == EventKind::kImpact) texts.push_back(e->text);
    }
    if (texts.empty()) {
      add("no_impact",
          "No impact recorded: who was affected, how many, for how long, and whether data was "
          "lost is what decides the priority of every follow-up.",
          "Add an impact note with numbers, and mark when impact began with a #impact event.");
    } else {
      Analysis a;
      bool quantified = false;
      for (std::string_view s : texts) {
        analyse(s, c, a);
        if (has_quantity(a, c)) {
          quantified = true;
          break;
        }
      }
      if (!quantified) {
        add("impact_unquantified",
            "The impact has no number anywhere: without one, this incident cannot be weighed "
            "against others.",
            "Say how many users, requests or orders, what share, and for how long.");
      }
    }
  }
  if (count(NoteSection::kCause) == 0) {
    add("no_cause", "No cause: without it, the action items cannot be checked against it.",
        "Add the root cause and contributing factors, as conditions of the system.");
  }
  if (count(NoteSection::kTrigger) == 0) {
    add("no_trigger",
        "No trigger: what set the latent cause off (a deploy, a config push, a traffic surge) "
        "is not recorded.",
        "Add the trigger: the change or event that turned the cause into an outage.");
  }
  if (!t.first_detection) {
    add("no_detection",
        "No #detected or #alert event, so time to detect can only be measured to the "
        "declaration, not to when anyone or anything noticed.",
        "Add a backdated #detected or #alert event at the moment the problem was first noticed.");
  }
  if (count(NoteSection::kLesson) == 0) {
    add("no_lessons", "No lessons learned: the incident's cost buys nothing for the next one.",
        "Add what the team now knows that it did not know before.");
  }
  // The owner defaults to the commander, so this fires only when neither is known.
  const Person& owner = postmortem_owner_of(r.incident);
  if (owner.id.empty() && owner.name.empty()) {
    add("no_postmortem_owner", "Nobody owns the postmortem, so nobody will finish it.",
        "Name a postmortem owner (by default the commander).");
  }

  // Silences while impact was ongoing: from the first #impact event (else the incident's
  // start) to mitigation (else resolution, else now).
  const Incident& inc = r.incident;
  const bool is_resolved = resolved(inc);
  std::optional<Timestamp> start = t.impact_began;
  const std::string_view start_label = start ? "impact began" : "incident start";
  if (!start) {
    start = inc.declared_at;
    if (!t.events.empty() && t.events.front()->occurred_at < *start) {
      start = t.events.front()->occurred_at;
    }
  }
  Timestamp end = now;
  std::string_view end_label = "now";
  if (inc.mitigated_at) {
    end = *inc.mitigated_at;
    end_label = "mitigated";
  } else if (is_resolved) {
    end = *inc.resolved_at;
    end_label = "resolved";
  }
  if (*start < end) {
    const auto span = std::chrono::duration_cast<std::chrono::seconds>(c.settings.timeline_gap);
    Timestamp last = *start;
    const TimelineEvent* last_event = nullptr;
    auto check = [&](Timestamp at, const TimelineEvent* e) {
      const std::chrono::seconds gap = seconds_between(last, at);
      if (gap > span) {
        auto point = [](Timestamp when, const TimelineEvent* ev, std::string_view fallback) {
          return ev ? fmt::format("{} (#{})", format_utc_datetime(when), ev->seq)
                    : fmt::format("{} ({})", format_utc_datetime(when), fallback);
        };
        out.push_back(incident_finding(
            ReviewRule::kMissing, "timeline_gap",
            fmt::format("{} → {}", point(last, last_event, start_label), point(at, e, end_label)),
            fmt::format("Nothing on the timeline for {} while impact was ongoing: what was "
                        "tried and learned then is lost to the postmortem.",
                        format_duration(gap)),
            "Fill the gap from chat history and dashboards with backdated timeline events."));
      }
    };
    for (const TimelineEvent* e : t.events) {
      if (e->occurred_at <= *start) {
        continue;
      }
      if (e->occurred_at > end) break;
      check(e->occurred_at, e);
      last = e->occurred_at;
      last_event = e;
    }
    // The end itself, unless an event (the mitigation milestone) already sits on it.
    if (last < end) {
      const TimelineEvent* none = nullptr;
      check(end, none);
    }
  }

  // Events after the resolution: the problem was still there, or the entry is follow-up
  // work. Milestones and #comms (the all-clear) belong there.
  if (is_resolved) {
    for (const TimelineEvent* e : t.events) {
      if (e->occurred_at <= *inc.resolved_at) continue;
      if (is_milestone(e->kind) || e->kind == EventKind::kComms) continue;
      Finding f = incident_finding(
          ReviewRule::kMissing, "after_resolution", head(e->text),
          fmt::format("Recorded at {}, after the resolution at {}: either the incident was not "
                      "over, or this is follow-up work.",
                      format_utc_datetime(e->occurred_at), format_utc_datetime(*inc.resolved_at)),
          "If the problem was still there, move the resolution; if it is follow-up work, make "
          "it an action item; if its time is wrong, correct it with timeline edit.");
      f.target = FindingTarget{TargetType::kEvent, e->seq, std::nullopt, 0, e->id};
      out.push_back(std::move(f));
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Reviewer
// ---------------------------------------------------------------------------------------

// The settings, and the dictionary compiled from them by the first review that needs it:
// a server that reviews nothing (no postmortem asked for, no entry hints) never holds it.
struct ReviewRules {
  explicit ReviewRules(ReviewSettings s) : settings(std::move(s)) {}
  const ReviewSettings settings;
  std::once_flag compile_once;
  std::unique_ptr<const ReviewDictionary> dictionary;
};

namespace {

// The rules for `settings`, shared with every live Reviewer made from equal settings. A
// service holds several Reviewers (the command handler, the API, the publisher), nearly
// always with the same settings; each compiled copy of the default lists is about 290 KiB
// of heap (README, idle memory).
std::shared_ptr<ReviewRules> shared_rules(ReviewSettings settings) {
  static std::mutex mu;
  static std::vector<std::weak_ptr<ReviewRules>> made;
  std::lock_guard lock(mu);
  std::erase_if(made, [](const auto& r) { return r.expired(); });
  for (const auto& weak : made) {
    if (auto r = weak.lock(); r && r->settings == settings) return r;
  }
  auto r = std::make_shared<ReviewRules>(std::move(settings));
  made.push_back(r);
  return r;
}

}  // namespace

const ReviewDictionary& Reviewer::compiled() const {
  ReviewRules& r = *rules_;
  std::call_once(r.compile_once,
                 [&r] { r.dictionary = std::make_unique<const ReviewDictionary>(r.settings); });
  return *r.dictionary;
}

Reviewer::Reviewer(ReviewSettings settings) : rules_(shared_rules(std::move(settings))) {}
Reviewer::~Reviewer() = default;
Reviewer::Reviewer(Reviewer&&) noexcept = default;
Reviewer& Reviewer::operator=(Reviewer&&) noexcept = default;

const ReviewSettings& Reviewer::settings() const { return rules_->settings; }

std::vector<Person> review_people(const IncidentRecord& r) {
  std::vector<Person> people;
  std::unordered_set<std::string_view> seen;
  auto add = [&](const Person& p) {
    if (p.name.empty()) return;
    // Keyed by name: that is what the text is searched for.
    if (seen.insert(p.name).second) people.push_back(p);
  };
  add(r.incident.commander);
  if (r.incident.postmortem_owner) add(*r.incident.postmortem_owner);
  for (const auto& e : r.events) {
    if (!e.deleted) add(e.author);
  }
  for (const auto& n : r.notes) add(n.author);
  for (const auto& a : r.actions) {
    add(a.created_by);
    if (a.owner) add(*a.owner);
  }
  return people;
}

std::vector<Finding> Reviewer::review(const IncidentRecord& record, Timestamp now) const {
  const Compiled& c = compiled();
  std::vector<Finding> out;
  const NameIndex names(review_people(record), c);
  EntryChecker check(c, names);

  if (c.settings.blame || c.settings.vague || c.settings.unactionable) {
    check.title(record.incident, out);
    for (const auto& e : record.events) {
      if (!e.deleted) check.event(e, out);
    }
    std::array<int, 12> per_section{};
    for (const auto& n : record.notes) {
      const auto s = static_cast<std::size_t>(n.section);
      const int index = s < per_section.size() ? ++per_section[s] : 0;
      check.note(n, index, out);
    }
    for (const auto& a : record.actions) check.action(a, now, out);
  }
  if (c.settings.coverage || c.settings.missing) {
    const TimelineFacts facts = timeline_facts(record);
    if (c.settings.coverage) coverage_findings(record, facts, c, out);
    if (c.settings.missing) missing_findings(record, facts, c, now, out);
  }
  std::stable_sort(out.begin(), out.end(), finding_before);
  return out;
}

std::vector<Finding> Reviewer::review_entry(const TimelineEvent& event,
                                            const EntryContext& context) const {
  std::vector<Finding> out;
  const NameIndex names(context.people, compiled());
  EntryChecker(compiled(), names).event(event, out);
  return out;
}

std::vector<Finding> Reviewer::review_entry(const Note& note, const EntryContext& context) const {
  std::vector<Finding> out;
  const NameIndex names(context.people, compiled());
  EntryChecker(compiled(), names).note(note, 0, out);
  return out;
}

std::vector<Finding> Reviewer::review_entry(const ActionItem& action,
                                            const EntryContext& context) const {
  std::vector<Finding> out;
  const NameIndex names(context.people, compiled());
  EntryChecker(compiled(), names).action(action, context.now, out);
  return out;
}

std::vector<Finding> review_incident(const IncidentRecord& record, const ReviewSettings& settings,
                                     Timestamp now) {
  return Reviewer(settings).review(record, now);
}

}  // namespace scribe
