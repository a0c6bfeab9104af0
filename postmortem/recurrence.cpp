#include "postmortem/recurrence.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

namespace scribe {
namespace {

// Common English function words; they say nothing about a cause.
constexpr std::array<std::string_view, 96> kStopWords = {
    "a",    "about", "after", "again",   "all",    "an",      "and",   "any",   "are",   "as",
    "at",   "be",    "been",  "before",  "being",  "but",     "by",    "can",   "could", "did",
    "do",   "does",  "down",  "due",     "during", "each",    "for",   "from",  "had",   "has",
    "have", "he",    "her",   "his",     "how",    "i",       "if",    "in",    "into",  "is",
    "it",   "its",   "just",  "more",    "most",   "no",      "not",   "of",    "off",   "on",
    "once", "only",  "or",    "other",   "our",    "out",     "over",  "same",  "she",   "so",
    "some", "such",  "than",  "that",    "the",    "their",   "them",  "then",  "there", "these",
    "they", "this",  "those", "through", "to",     "too",     "under", "until", "up",    "very",
    "was",  "we",    "were",  "what",    "when",   "where",   "which", "while", "who",   "why",
    "will", "with",  "would", "you",     "your",   "because",
};

bool is_stop_word(std::string_view w) {
  return std::find(kStopWords.begin(), kStopWords.end(), w) != kStopWords.end();
}

std::vector<std::string> tags_with(std::string_view text, std::string_view prefix) {
  std::vector<std::string> tags;
  for (std::size_t at = 0; (at = text.find(prefix, at)) != std::string_view::npos;) {
    std::size_t end = at + prefix.size();
    std::string tag(prefix);
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) {
      tag += static_cast<char>(std::tolower(static_cast<unsigned char>(text[end])));
      ++end;
    }
    // Trailing punctuation ends a sentence, not the tag.
    while (tag.size() > prefix.size() && std::ispunct(static_cast<unsigned char>(tag.back())) &&
           tag.back() != '-' && tag.back() != '_') {
      tag.pop_back();
    }
    if (tag.size() > prefix.size() && std::find(tags.begin(), tags.end(), tag) == tags.end()) {
      tags.push_back(std::move(tag));
    }
    at = end;
  }
  return tags;
}

bool ends_with(std::string_view w, std::string_view suffix) { return w.ends_with(suffix); }

// The text without its `#word:...` tags.
std::string without_tags(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '#' && (i == 0 || std::isspace(static_cast<unsigned char>(text[i - 1])))) {
      const std::size_t end = text.find_first_of(" \t\r\n", i);
      const std::string_view word =
          text.substr(i, end == std::string_view::npos ? text.npos : end - i);
      if (word.find(':') != std::string_view::npos) {
        i = end == std::string_view::npos ? text.size() : end;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace

std::vector<std::string> cause_tags(std::string_view text) {
  std::string lowered(text);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return tags_with(lowered, "#cause:");
}

std::vector<std::string> service_tags(std::string_view text) {
  std::string lowered(text);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return tags_with(lowered, "#service:");
}

std::string cause_stem(std::string_view word) {
  std::string w(word);
  if (w.size() < 4) return w;
  // Longest suffix first; a stem keeps at least three letters.
  struct Rule {
    std::string_view suffix;
    std::string_view replacement;
  };
  static constexpr Rule kRules[] = {
      {"ingly", ""}, {"edly", ""}, {"ies", "y"}, {"ied", "y"}, {"ing", ""},
      {"ed", ""},    {"es", ""},   {"ly", ""},   {"s", ""},
  };
  for (const Rule& r : kRules) {
    if (!ends_with(w, r.suffix) || w.size() - r.suffix.size() + r.replacement.size() < 3) continue;
    if (r.suffix == "s" && (ends_with(w, "ss") || ends_with(w, "us") || ends_with(w, "is"))) break;
    w.resize(w.size() - r.suffix.size());
    w += r.replacement;
    break;
  }
  // "cache"/"cach(ing)", "release"/"releas(ed)": a final e is not part of the stem.
  if (w.size() > 3 && w.back() == 'e') w.pop_back();
  // "stopped" -> "stopp" -> "stop": a doubled final consonant left by a suffix.
  if (w.size() > 3 && w.back() == w[w.size() - 2] &&
      std::string_view("aeiouls").find(w.back()) == std::string_view::npos) {
    w.pop_back();
  }
  return w;
}

std::set<std::string> cause_words(std::string_view text) {
  std::set<std::string> words;
  const std::string plain = without_tags(text);
  std::string word;
  auto flush = [&] {
    // Single letters are the remains of "gateway's" and "v2": no meaning of their own.
    if (word.size() > 1 && !is_stop_word(word)) words.insert(cause_stem(word));
    word.clear();
  };
  for (unsigned char c : plain) {
    if (std::isalnum(c) || c >= 0x80) {
      word += static_cast<char>(std::tolower(c));
    } else {
      flush();
    }
  }
  flush();
  return words;
}

double jaccard(const std::set<std::string>& a, const std::set<std::string>& b) {
  if (a.empty() && b.empty()) return 0;
  std::size_t shared = 0;
  for (const std::string& w : a) shared += b.count(w);
  return static_cast<double>(shared) / static_cast<double>(a.size() + b.size() - shared);
}

bool similar_causes(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::size_t shared = 0;
  for (const std::string& w : a) shared += b.count(w);
  return shared >= kCauseMinShared && jaccard(a, b) >= kCauseSimilarity;
}

std::vector<RelatedIncident> find_related(const Incident& of, const std::vector<Note>& causes,
                                          const TrendsRows& earlier) {
  std::set<std::string> tags;
  std::string text;
  for (const Note& n : causes) {
    for (std::string& t : cause_tags(n.text)) tags.insert(std::move(t));
    text += n.text;
    text += '\n';
  }
  const std::set<std::string> words = cause_words(text);
  if (tags.empty() && words.empty()) return {};

  struct Cause {
    std::set<std::string> tags;
    std::string text;
  };
  std::map<IncidentId, Cause> by_incident;
  for (const Note& n : earlier.causes) {
    if (n.incident_id >= of.id) continue;
    Cause& c = by_incident[n.incident_id];
    for (std::string& t : cause_tags(n.text)) c.tags.insert(std::move(t));
    c.text += n.text;
    c.text += '\n';
  }
  std::vector<RelatedIncident> related;
  for (const Incident& incident : earlier.incidents) {
    const auto it = by_incident.find(incident.id);
    if (it == by_incident.end()) continue;
    RelatedIncident r;
    std::set_intersection(tags.begin(), tags.end(), it->second.tags.begin(), it->second.tags.end(),
                          std::back_inserter(r.shared_tags));
    const std::set<std::string> theirs = cause_words(it->second.text);
    if (similar_causes(words, theirs)) r.similarity = jaccard(words, theirs);
    if (r.shared_tags.empty() && !r.similarity) continue;
    r.incident = incident;
    r.services = service_tags(incident.title);
    related.push_back(std::move(r));
  }
  // Services named in notes of the related incidents (cause notes are what the rows hold).
  for (RelatedIncident& r : related) {
    for (const std::string& s : service_tags(by_incident[r.incident.id].text)) {
      if (std::find(r.services.begin(), r.services.end(), s) == r.services.end()) {
        r.services.push_back(s);
      }
    }
  }
  for (const ActionItem& a : earlier.actions) {
    if (a.status != ActionStatus::kOpen) continue;
    for (RelatedIncident& r : related) {
      if (r.incident.id == a.incident_id) r.open_actions.push_back(a);
    }
  }
  for (RelatedIncident& r : related) {
    std::sort(r.open_actions.begin(), r.open_actions.end(),
              [](const ActionItem& x, const ActionItem& y) { return x.seq < y.seq; });
  }
  std::sort(related.begin(), related.end(), [](const RelatedIncident& x, const RelatedIncident& y) {
    return x.incident.id > y.incident.id;
  });
  return related;
}

}  // namespace scribe
