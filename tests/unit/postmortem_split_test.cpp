#include "postmortem/split.h"

#include <numeric>
#include <string>

#include <gtest/gtest.h>

namespace scribe {
namespace {

std::string joined(const std::vector<std::string>& pieces) {
  return std::accumulate(pieces.begin(), pieces.end(), std::string());
}

TEST(PostmortemSplit, ShortDocumentIsOnePiece) {
  const std::string md = "# Title\n\n## A\ntext\n";
  EXPECT_EQ(split_markdown(md, 1000), std::vector<std::string>{md});
}

TEST(PostmortemSplit, CutsAtSectionBoundaries) {
  const std::string a = "# Title\n\n## Summary\n" + std::string(40, 'a') + "\n";
  const std::string b = "## Impact\n" + std::string(40, 'b') + "\n";
  const std::string c = "## Timeline\n" + std::string(40, 'c') + "\n";
  const auto pieces = split_markdown(a + b + c, 120);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0], a + b);
  EXPECT_EQ(pieces[1], c);
}

TEST(PostmortemSplit, LongSectionIsCutAtLineEndsAndNothingIsLost) {
  std::string md = "## Timeline\n";
  for (int i = 0; i < 200; ++i) md += "| " + std::to_string(i) + " | event text here |\n";
  const auto pieces = split_markdown(md, 500);
  EXPECT_GT(pieces.size(), 5u);
  for (const auto& p : pieces) {
    EXPECT_LE(p.size(), 500u);
    EXPECT_EQ(p.back(), '\n') << "pieces end at line ends";
  }
  EXPECT_EQ(joined(pieces), md);
}

TEST(PostmortemSplit, NeverCutsInsideAUtf8Character) {
  std::string line;
  for (int i = 0; i < 100; ++i) line += "é✓";  // 2- and 3-byte characters, no newline
  const auto pieces = split_markdown(line, 10);
  for (const auto& p : pieces) {
    EXPECT_LE(p.size(), 10u);
    EXPECT_NE(static_cast<unsigned char>(p.front()) & 0xC0, 0x80) << "starts mid-character";
  }
  EXPECT_EQ(joined(pieces), line);
}

}  // namespace
}  // namespace scribe
