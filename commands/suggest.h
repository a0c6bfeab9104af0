// "Did you mean …?" for chat commands typed in a hurry. `closest_match` picks the
// candidate a misspelled or abbreviated word most plausibly meant, or nothing when no
// candidate is close enough to suggest with a straight face. Matching is ASCII
// case-insensitive (bytes beyond ASCII compare as they are); the candidate is returned
// exactly as given. Pure; meant for short command words, not for free text.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace scribe {

// In order:
//   1. a candidate equal to `word` ignoring case;
//   2. the only candidate that starts with `word`, when `word` has at least 3 characters
//      ("miti" -> "mitigated", "stat" -> "status");
//   3. the candidate with the smallest optimal-string-alignment distance (Damerau–
//      Levenshtein where a transposition counts 1: "lsit" -> "list"), if that distance is
//      at most max(1, size(word) / 3); ties go to the earlier candidate.
std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string_view> candidates);

// The optimal-string-alignment distance between `a` and `b`, ignoring ASCII case.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace scribe
