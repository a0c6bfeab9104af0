// The API's draft cache (bot/draft_cache.h): what it serves (same version, fresh), its
// byte budget and least-recently-used eviction, its clock rules, and If-None-Match.
#include "bot/draft_cache.h"

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "test_support.h"

namespace scribe {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::utc;

const Timestamp kNow = utc(2026, 11, 20, 14, 5, 30, 250);

// An incident's draft version with `incident` and `related` (and events at 10).
DraftVersion V(std::int64_t incident, std::int64_t related) {
  return DraftVersion{.incident = incident, .events = 10, .related = related};
}

std::shared_ptr<const DraftCache::Entry> entry(std::size_t body_bytes,
                                               DraftVersion version = V(1, 1),
                                               bool uses_related = false, Timestamp at = kNow,
                                               bool ongoing = false) {
  auto e = std::make_shared<DraftCache::Entry>();
  e->version = version;
  e->uses_related = uses_related;
  e->drafted_at = at;
  e->fresh_until = DraftCache::fresh_until(at, ongoing);
  e->etag = DraftCache::etag(1, DraftFormat::kMarkdown, version, uses_related, at);
  e->content_type = "text/markdown";
  e->body = std::string(body_bytes, 'x');
  return e;
}

// The cost of an entry with a body of `n` bytes, as the cache counts it.
std::size_t cost(std::size_t n) {
  const auto e = entry(n);
  return n + e->etag.size() + e->content_type.size() + DraftCache::kEntryOverhead;
}

TEST(DraftCache, ServesAnEntryOnlyAtTheVersionItWasMadeAt) {
  DraftCache cache(1 << 20);
  cache.put(1, DraftFormat::kMarkdown, entry(100, V(5, 9)));
  EXPECT_FALSE(cache.find(1, DraftFormat::kHtml, V(5, 9), kNow)) << "another format";
  EXPECT_FALSE(cache.find(2, DraftFormat::kMarkdown, V(5, 9), kNow)) << "another incident";
  const auto hit = cache.find(1, DraftFormat::kMarkdown, V(5, 9), kNow);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->body.size(), 100u);
  // Without related incidents, the related number does not matter.
  EXPECT_TRUE(cache.find(1, DraftFormat::kMarkdown, V(5, 10), kNow));
  // A new event (the highest event number moved) is a change.
  EXPECT_FALSE(cache.find(1, DraftFormat::kMarkdown,
                          DraftVersion{.incident = 5, .events = 11, .related = 9}, kNow));
  cache.put(1, DraftFormat::kMarkdown, entry(100, V(5, 9)));
  // The incident changed: the entry is gone, also for a later read at the old number.
  EXPECT_FALSE(cache.find(1, DraftFormat::kMarkdown, V(6, 9), kNow));
  EXPECT_FALSE(cache.find(1, DraftFormat::kMarkdown, V(5, 9), kNow));
  const DraftCache::Stats s = cache.stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 5u);
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
}

TEST(DraftCache, ADraftWithRelatedIncidentsAlsoChecksTheirNumber) {
  DraftCache cache(1 << 20);
  cache.put(1, DraftFormat::kJson, entry(10, V(5, 9), /*uses_related=*/true));
  EXPECT_TRUE(cache.find(1, DraftFormat::kJson, V(5, 9), kNow));
  EXPECT_FALSE(cache.find(1, DraftFormat::kJson, V(5, 10), kNow));
}

TEST(DraftCache, FreshUntilTheNextSecondWhileOngoingElseTheNextUtcMidnight) {
  EXPECT_EQ(DraftCache::fresh_until(kNow, true), utc(2026, 11, 20, 14, 5, 31));
  EXPECT_EQ(DraftCache::fresh_until(kNow, false), utc(2026, 11, 21, 0, 0, 0));
  DraftCache cache(1 << 20);
  cache.put(1, DraftFormat::kMarkdown, entry(10, V(1, 1), false, kNow, /*ongoing=*/true));
  EXPECT_TRUE(cache.find(1, DraftFormat::kMarkdown, V(1, 1), utc(2026, 11, 20, 14, 5, 30, 999)));
  EXPECT_FALSE(cache.find(1, DraftFormat::kMarkdown, V(1, 1), utc(2026, 11, 20, 14, 5, 31)));

  cache.put(1, DraftFormat::kMarkdown, entry(10, V(1, 1), false, kNow, /*ongoing=*/false));
  EXPECT_TRUE(cache.find(1, DraftFormat::kMarkdown, V(1, 1), utc(2026, 11, 20, 23, 59, 59, 999)));
  // A clock that went back is not trusted.
  EXPECT_FALSE(cache.find(1, DraftFormat::kMarkdown, V(1, 1), kNow - milliseconds(1)));
  cache.put(1, DraftFormat::kMarkdown, entry(10, V(1, 1), false, kNow, /*ongoing=*/false));
  EXPECT_FALSE(cache.find(1, DraftFormat::kMarkdown, V(1, 1), utc(2026, 11, 21, 0, 0, 0)));
}

TEST(DraftCache, StaysWithinItsBudgetEvictingTheLeastRecentlyUsed) {
  const std::size_t one = cost(1000);
  DraftCache cache(3 * one);  // room for exactly three
  cache.put(1, DraftFormat::kMarkdown, entry(1000));
  cache.put(2, DraftFormat::kMarkdown, entry(1000));
  cache.put(3, DraftFormat::kMarkdown, entry(1000));
  EXPECT_EQ(cache.stats().bytes, 3 * one);
  // Reading 1 makes 2 the least recently used.
  ASSERT_TRUE(cache.find(1, DraftFormat::kMarkdown, V(1, 1), kNow));
  cache.put(4, DraftFormat::kMarkdown, entry(1000));
  EXPECT_EQ(cache.stats().entries, 3u);
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_LE(cache.stats().bytes, cache.budget());
  EXPECT_FALSE(cache.find(2, DraftFormat::kMarkdown, V(1, 1), kNow));
  EXPECT_TRUE(cache.find(1, DraftFormat::kMarkdown, V(1, 1), kNow));
  EXPECT_TRUE(cache.find(3, DraftFormat::kMarkdown, V(1, 1), kNow));
  EXPECT_TRUE(cache.find(4, DraftFormat::kMarkdown, V(1, 1), kNow));

  // One costing two pushes out the two least recently used: 1, then 3 (read before 4).
  cache.put(5, DraftFormat::kMarkdown, entry(one + 1000));
  EXPECT_EQ(cache.stats().bytes, 3 * one);
  EXPECT_LE(cache.stats().bytes, cache.budget());
  EXPECT_TRUE(cache.find(5, DraftFormat::kMarkdown, V(1, 1), kNow));
  EXPECT_TRUE(cache.find(4, DraftFormat::kMarkdown, V(1, 1), kNow));
  EXPECT_FALSE(cache.find(1, DraftFormat::kMarkdown, V(1, 1), kNow));
  EXPECT_FALSE(cache.find(3, DraftFormat::kMarkdown, V(1, 1), kNow));
}

TEST(DraftCache, ReplacingAnEntryCountsItsBytesOnce) {
  DraftCache cache(1 << 20);
  cache.put(1, DraftFormat::kHtml, entry(5000));
  cache.put(1, DraftFormat::kHtml, entry(100, V(2, 1)));
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_EQ(cache.stats().bytes, cost(100));
  EXPECT_TRUE(cache.find(1, DraftFormat::kHtml, V(2, 1), kNow));
}

TEST(DraftCache, ABodyLargerThanTheBudgetIsNotKeptAndDropsTheOldCopy) {
  DraftCache cache(10'000);
  cache.put(1, DraftFormat::kMarkdown, entry(100));
  cache.put(2, DraftFormat::kMarkdown, entry(100));
  cache.put(1, DraftFormat::kMarkdown, entry(20'000, V(2, 1)));
  EXPECT_FALSE(cache.find(1, DraftFormat::kMarkdown, V(1, 1), kNow)) << "the old copy is gone";
  EXPECT_FALSE(cache.find(1, DraftFormat::kMarkdown, V(2, 1), kNow));
  EXPECT_TRUE(cache.find(2, DraftFormat::kMarkdown, V(1, 1), kNow)) << "others stay";
  EXPECT_EQ(cache.stats().evictions, 0u);
}

TEST(DraftCache, ABudgetOfZeroKeepsNothing) {
  DraftCache cache(0);
  cache.put(1, DraftFormat::kMarkdown, entry(1));
  EXPECT_FALSE(cache.find(1, DraftFormat::kMarkdown, V(1, 1), kNow));
  EXPECT_EQ(cache.stats().bytes, 0u);
}

TEST(DraftCache, EtagsDifferByFormatVersionAndTime) {
  const std::string a = DraftCache::etag(7, DraftFormat::kMarkdown, V(3, 4), false, kNow);
  EXPECT_EQ(a.front(), '"');
  EXPECT_EQ(a.back(), '"');
  EXPECT_NE(a, DraftCache::etag(7, DraftFormat::kHtml, V(3, 4), false, kNow));
  EXPECT_NE(a, DraftCache::etag(7, DraftFormat::kMarkdown, V(4, 4), false, kNow));
  EXPECT_NE(a,
            DraftCache::etag(7, DraftFormat::kMarkdown,
                             DraftVersion{.incident = 3, .events = 11, .related = 4}, false, kNow));
  EXPECT_NE(a, DraftCache::etag(7, DraftFormat::kMarkdown, V(3, 4), false, kNow + seconds(1)));
  EXPECT_NE(a, DraftCache::etag(8, DraftFormat::kMarkdown, V(3, 4), false, kNow));
  EXPECT_NE(DraftCache::etag(7, DraftFormat::kMarkdown, V(3, 4), true, kNow),
            DraftCache::etag(7, DraftFormat::kMarkdown, V(3, 5), true, kNow));
  // Without related incidents their number is not part of the tag.
  EXPECT_EQ(a, DraftCache::etag(7, DraftFormat::kMarkdown, V(3, 5), false, kNow));
}

TEST(DraftCache, IfNoneMatchListsAndWeakTags) {
  const std::string tag = "\"m1-2-0-99\"";
  EXPECT_TRUE(DraftCache::none_match_names(tag, tag));
  EXPECT_TRUE(DraftCache::none_match_names("W/" + tag, tag));
  EXPECT_TRUE(DraftCache::none_match_names("\"other\", " + tag, tag));
  EXPECT_TRUE(DraftCache::none_match_names("\"other\",\t" + tag + " ", tag));
  EXPECT_TRUE(DraftCache::none_match_names("*", tag));
  EXPECT_FALSE(DraftCache::none_match_names("", tag));
  EXPECT_FALSE(DraftCache::none_match_names("\"other\"", tag));
  EXPECT_FALSE(DraftCache::none_match_names("m1-2-0-99", tag)) << "unquoted is another tag";
  EXPECT_FALSE(DraftCache::none_match_names(",", tag));
}

}  // namespace
}  // namespace scribe
