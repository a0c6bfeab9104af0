// Recurrence: which earlier incidents had this incident's cause. Pure functions over rows the
// store reads (Transaction::trends_rows), so they are tested without a database.
//
// Tags are part of the text people type, read back from it (no column of their own):
//   - `#cause:<tag>` in a cause note (`/incident cause <text> #cause:config-default`);
//   - `#service:<name>` in the incident's title or a cause note (`/incident cause ...
//     #service:checkout`): shown beside a related incident, not a reason for relating it.
// Both are lower-cased; a tag ends at white space.
//
// Two incidents are related when they share a cause tag, or when their cause texts are
// similar: each incident's cause words are the words (letters and digits) of its cause
// notes with the tags taken out, lower-cased, minus single letters and English stop words,
// each reduced by a
// light suffix stemmer (cause_stem), as a set. Similar means a token-set Jaccard index
// |A ∩ B| / |A ∪ B| of at least kCauseSimilarity (0.5) with at least kCauseMinShared (3)
// words in common, so two short notes that share one generic word ("outage") do not match.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storage/model.h"
#include "storage/store.h"

namespace scribe {

inline constexpr double kCauseSimilarity = 0.5;
inline constexpr std::size_t kCauseMinShared = 3;

// The `#cause:<tag>` / `#service:<name>` tags in `text`, lower case, with their prefix
// ("#cause:config-default"), in order of appearance, each once.
std::vector<std::string> cause_tags(std::string_view text);
std::vector<std::string> service_tags(std::string_view text);

// A word reduced to its stem: "caching", "cached", "caches", "cache" -> "cach";
// "retries", "retry" -> "retry"; "exhausted" -> "exhaust". Words under 4 letters unchanged.
std::string cause_stem(std::string_view word);

// The cause words of `text` (see above): tags removed, stop words dropped, stemmed.
std::set<std::string> cause_words(std::string_view text);

// |a ∩ b| / |a ∪ b|; 0 when both are empty.
double jaccard(const std::set<std::string>& a, const std::set<std::string>& b);

// Whether two cause word sets are similar by the rule above.
bool similar_causes(const std::set<std::string>& a, const std::set<std::string>& b);

struct RelatedIncident {
  Incident incident;
  std::vector<std::string> shared_tags;  // the cause tags both have
  std::optional<double> similarity;      // set when the cause texts are similar
  std::vector<std::string> services;     // the earlier incident's #service: tags
  std::vector<ActionItem> open_actions;  // its action items still open, by seq
};

// The incidents among `earlier` (rows of incidents declared before `of`; `of` itself and
// later ones are skipped) related to `of`, whose cause notes are `causes`; most recent first.
std::vector<RelatedIncident> find_related(const Incident& of, const std::vector<Note>& causes,
                                          const TrendsRows& earlier);

}  // namespace scribe
