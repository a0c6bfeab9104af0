#include "commands/suggest.h"

#include <array>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace scribe {
namespace {

constexpr std::array<std::string_view, 19> kIncident{
    "start", "status",    "sev",        "commander", "summary", "impact",    "cause",
    "why",   "went-well", "went-wrong", "lucky",     "lesson",  "mitigated", "resolved",
    "draft", "close",     "reopen",     "help",      "list"};
constexpr std::array<std::string_view, 3> kTimeline{"list", "edit", "delete"};

std::optional<std::string> incident(std::string_view word) {
  return closest_match(word, kIncident);
}

TEST(SuggestDistance, Basics) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("status", "status"), 0u);
}

TEST(SuggestDistance, TranspositionCountsOne) {
  EXPECT_EQ(edit_distance("lsit", "list"), 1u);
  EXPECT_EQ(edit_distance("abcd", "badc"), 2u);
}

TEST(SuggestDistance, OptimalStringAlignmentNotFullDamerau) {
  // Full Damerau–Levenshtein gives 2 ("ca" -> "ac" -> "abc"); OSA may not edit a
  // transposed pair again.
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);
}

TEST(SuggestDistance, IgnoresAsciiCase) {
  EXPECT_EQ(edit_distance("STATUS", "status"), 0u);
  EXPECT_EQ(edit_distance("LSIT", "list"), 1u);
}

TEST(SuggestMatch, CommonTypos) {
  EXPECT_EQ(incident("reslved"), "resolved");
  EXPECT_EQ(incident("mitgated"), "mitigated");
  EXPECT_EQ(incident("comander"), "commander");
  EXPECT_EQ(incident("sumary"), "summary");
  EXPECT_EQ(incident("satus"), "status");
  EXPECT_EQ(incident("sve"), "sev");
  EXPECT_EQ(incident("hlep"), "help");
  EXPECT_EQ(closest_match("lsit", kTimeline), "list");
  EXPECT_EQ(closest_match("delte", kTimeline), "delete");
}

TEST(SuggestMatch, PrefixBeatsACloserTypo) {
  // "stat" is one edit from "start" but plainly the start of "status".
  EXPECT_EQ(incident("stat"), "status");
  EXPECT_EQ(incident("miti"), "mitigated");
  EXPECT_EQ(incident("comm"), "commander");
  EXPECT_EQ(incident("star"), "start");
}

TEST(SuggestMatch, ShortPrefixesAreNotGuessed) {
  EXPECT_EQ(incident("mi"), std::nullopt);
  EXPECT_EQ(incident("re"), std::nullopt);
}

TEST(SuggestMatch, AmbiguousPrefixFallsBackToDistance) {
  // "went" starts both went-well and went-wrong, and is far from either.
  EXPECT_EQ(incident("went"), std::nullopt);
  EXPECT_EQ(incident("went-wel"), "went-well");
}

TEST(SuggestMatch, DuplicateCandidatesAreOneAnswer) {
  constexpr std::array<std::string_view, 3> merged{"list", "edit", "list"};
  EXPECT_EQ(closest_match("lis", merged), "list");
}

TEST(SuggestMatch, ExactMatchIgnoringCaseReturnsTheCandidateAsGiven) {
  EXPECT_EQ(incident("STATUS"), "status");
  EXPECT_EQ(incident("start"), "start");
  EXPECT_EQ(incident("Reslved"), "resolved");
}

TEST(SuggestMatch, FarWordsGetNothing) {
  EXPECT_EQ(incident("banana"), std::nullopt);
  EXPECT_EQ(incident("xyz"), std::nullopt);
  EXPECT_EQ(incident("postmortem"), std::nullopt);
  EXPECT_EQ(incident(std::string(500, 'a')), std::nullopt);
}

TEST(SuggestMatch, ThresholdGrowsWithLength) {
  // Six letters allow two edits; four letters allow one.
  EXPECT_EQ(incident("sumnary"), "summary");
  EXPECT_EQ(incident("smmary"), "summary");
  EXPECT_EQ(incident("rsolvd"), "resolved");
  EXPECT_EQ(incident("hxlx"), std::nullopt);
}

TEST(SuggestMatch, TiesGoToTheEarlierCandidate) {
  constexpr std::array<std::string_view, 2> cb{"cat", "bat"};
  constexpr std::array<std::string_view, 2> bc{"bat", "cat"};
  EXPECT_EQ(closest_match("hat", cb), "cat");
  EXPECT_EQ(closest_match("hat", bc), "bat");
}

TEST(SuggestMatch, EmptyInputs) {
  EXPECT_EQ(incident(""), std::nullopt);
  EXPECT_EQ(closest_match("status", std::span<const std::string_view>{}), std::nullopt);
}

}  // namespace
}  // namespace scribe
