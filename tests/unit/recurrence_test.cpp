// Recurrence (postmortem/recurrence.h): cause and service tags, the stemmer, the similarity
// rule and its threshold, and find_related over rows as the store returns them.
#include "postmortem/recurrence.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace scribe {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(Recurrence, TagsAreLowerCasedEachOnceAndLoseSentencePunctuation) {
  EXPECT_THAT(cause_tags("Default TLS off #cause:Config-Default. Again #cause:config-default"),
              ElementsAre("#cause:config-default"));
  EXPECT_THAT(cause_tags("#cause:a #cause:b"), ElementsAre("#cause:a", "#cause:b"));
  EXPECT_THAT(cause_tags("no tag here, #cause: alone"), IsEmpty());
  EXPECT_THAT(service_tags("Checkout down #service:Checkout #service:payments,"),
              ElementsAre("#service:checkout", "#service:payments"));
}

TEST(Recurrence, StemmerFoldsInflectionsTogether) {
  EXPECT_EQ(cause_stem("caching"), cause_stem("cache"));
  EXPECT_EQ(cause_stem("cached"), cause_stem("caches"));
  EXPECT_EQ(cause_stem("retries"), cause_stem("retry"));
  EXPECT_EQ(cause_stem("exhausted"), "exhaust");
  EXPECT_EQ(cause_stem("stopped"), cause_stem("stop"));
  EXPECT_EQ(cause_stem("class"), "class");  // not "clas"
  EXPECT_EQ(cause_stem("dns"), "dns");      // short words stay
}

TEST(Recurrence, CauseWordsDropStopWordsAndTags) {
  EXPECT_EQ(cause_words("The cache was flushed by the deploy #cause:cache-flush #service:api"),
            (std::set<std::string>{"cach", "flush", "deploy"}));
}

TEST(Recurrence, SimilarCauseTextsMatch) {
  const auto a = cause_words("A config default disabled TLS verification on the payment gateway");
  const auto b = cause_words("The payment gateway's config default turned off TLS verification");
  EXPECT_TRUE(similar_causes(a, b)) << jaccard(a, b);
  EXPECT_GE(jaccard(a, b), kCauseSimilarity);
}

// Near misses: they share words, but not enough of them to be the same cause.
TEST(Recurrence, NearMissesDoNotMatch) {
  // Same component, different failure: 3 words shared of 8.
  const auto pool_a = cause_words("Database connection pool exhausted by a retry storm");
  const auto pool_b = cause_words("Database connection pool resized after the migration");
  EXPECT_FALSE(similar_causes(pool_a, pool_b)) << jaccard(pool_a, pool_b);
  EXPECT_LT(jaccard(pool_a, pool_b), kCauseSimilarity);

  // Two words, all shared (Jaccard 1.0), but below the minimum of shared words.
  const auto short_a = cause_words("DNS outage");
  const auto short_b = cause_words("the DNS outage");
  EXPECT_DOUBLE_EQ(jaccard(short_a, short_b), 1.0);
  EXPECT_FALSE(similar_causes(short_a, short_b));

  // Only stop words in common.
  EXPECT_FALSE(similar_causes(cause_words("it was the disk that was full"),
                              cause_words("it was the certificate that was expired")));

  // The same failure of a different thing: 3 words shared of 7.
  const auto cert_a = cause_words("expired TLS certificate on the edge proxy");
  const auto cert_b = cause_words("expired TLS certificate on the internal registry");
  EXPECT_FALSE(similar_causes(cert_a, cert_b)) << jaccard(cert_a, cert_b);
}

Incident incident(IncidentId id, std::string title) {
  Incident i;
  i.id = id;
  i.title = std::move(title);
  i.severity = Severity::kSev2;
  return i;
}

Note cause(IncidentId id, std::string text) {
  Note n;
  n.incident_id = id;
  n.section = NoteSection::kCause;
  n.text = std::move(text);
  return n;
}

TEST(Recurrence, FindRelatedByTagOrSimilarTextNeverLaterOrDifferentCauses) {
  TrendsRows rows;
  rows.incidents = {incident(1, "Payments down #service:payments"), incident(2, "Search slow"),
                    incident(3, "Checkout errors"), incident(4, "Login failures"),
                    incident(6, "Later incident")};
  rows.causes = {
      cause(1, "Feature flag left on in production #cause:config-default"),
      cause(2, "Reindex job saturated the search cluster"),
      cause(3, "A config default disabled TLS verification on the payment gateway"),
      cause(4, "Certificate expired on the login service"),
      cause(6, "Another thing entirely #cause:config-default"),
  };
  ActionItem open;
  open.incident_id = 1;
  open.seq = 2;
  open.text = "Lint flags at deploy";
  ActionItem done = open;
  done.seq = 1;
  done.status = ActionStatus::kDone;
  rows.actions = {done, open};

  const Incident now = incident(5, "Gateway refusing cards");
  const std::vector<Note> causes = {
      cause(5, "The payment gateway's config default turned off TLS verification"),
      cause(5, "#cause:config-default")};
  const auto related = find_related(now, causes, rows);
  ASSERT_EQ(related.size(), 2u);
  // Most recent first: 3 by similar text, 1 by the shared tag; 2 and 4 differ; 6 is later.
  EXPECT_EQ(related[0].incident.id, 3);
  EXPECT_TRUE(related[0].similarity.has_value());
  EXPECT_THAT(related[0].shared_tags, IsEmpty());
  EXPECT_EQ(related[1].incident.id, 1);
  EXPECT_THAT(related[1].shared_tags, ElementsAre("#cause:config-default"));
  EXPECT_FALSE(related[1].similarity.has_value());
  EXPECT_THAT(related[1].services, ElementsAre("#service:payments"));
  ASSERT_EQ(related[1].open_actions.size(), 1u) << "only items still open";
  EXPECT_EQ(related[1].open_actions[0].seq, 2);
}

TEST(Recurrence, NoCauseNoRelated) {
  TrendsRows rows;
  rows.incidents = {incident(1, "x")};
  rows.causes = {cause(1, "anything at all #cause:x")};
  EXPECT_THAT(find_related(incident(2, "y"), {}, rows), IsEmpty());
}

}  // namespace
}  // namespace scribe
