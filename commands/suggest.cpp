#include "commands/suggest.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "util/strings.h"

namespace scribe {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rolling rows: a transposition looks two rows back.
  const std::size_t m = b.size();
  std::vector<std::size_t> before(m + 1), prev(m + 1), cur(m + 1);
  for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        cur[j] = std::min(cur[j], before[j - 2] + 1);
      }
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string_view> candidates) {
  if (word.empty()) return std::nullopt;

  for (std::string_view c : candidates) {
    if (c.size() == word.size() && starts_with_ci(c, word)) return std::string(c);
  }

  // An abbreviation beats a one-letter typo: "stat" is one edit from "start" but is
  // plainly the start of "status".
  if (word.size() >= 3) {
    std::optional<std::string_view> only;
    bool several = false;
    for (std::string_view c : candidates) {
      if (!starts_with_ci(c, word)) continue;
      // The same word listed twice (merged candidate lists) is still one answer.
      if (only && only->size() == c.size() && starts_with_ci(*only, c)) continue;
      if (only) several = true;
      only = c;
    }
    if (only && !several) return std::string(*only);
  }

  const std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  std::optional<std::string_view> best;
  std::size_t best_distance = limit + 1;
  for (std::string_view c : candidates) {
    // The distance is at least the difference in length; skip hopeless ones cheaply.
    const std::size_t gap =
        c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    if (gap >= best_distance) continue;
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  if (best) return std::string(*best);
  return std::nullopt;
}

}  // namespace scribe
