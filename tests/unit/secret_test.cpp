// util/secret: the digests and HMAC keep their known answers now that each thread keeps one
// HMAC context and re-keys it per call: keys of every kind in turn on one thread, and many
// threads at once.
#include "util/secret.h"

#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace scribe {
namespace {

struct Known {
  std::string key;
  std::string data;
  std::string hmac;
};

// RFC 4231 cases 2 and 6 (a key longer than SHA-256's block), and the empty key.
std::vector<Known> known_answers() {
  return {
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"", "", "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
  };
}

TEST(Secret, HmacKnownAnswersWithTheKeyChangingEveryCall) {
  for (int round = 0; round < 3; ++round) {
    for (const Known& k : known_answers()) {
      EXPECT_EQ(hmac_sha256_hex(k.key, k.data), k.hmac) << k.data << " round " << round;
    }
  }
}

TEST(Secret, HmacFromManyThreadsAtOnce) {
  std::vector<std::thread> threads;
  std::vector<int> wrong(8, 0);
  for (std::size_t t = 0; t < wrong.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        for (const Known& k : known_answers()) {
          wrong[t] += hmac_sha256_hex(k.key, k.data) == k.hmac ? 0 : 1;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t t = 0; t < wrong.size(); ++t) EXPECT_EQ(wrong[t], 0) << "thread " << t;
}

TEST(Secret, HmacOverPartsIsTheHmacOfTheirConcatenation) {
  for (const Known& k : known_answers()) {
    // Split the data at every point (and into empty pieces): the same MAC each time.
    for (std::size_t cut = 0; cut <= k.data.size(); ++cut) {
      const std::string_view data = k.data;
      char out[64];
      ASSERT_TRUE(hmac_sha256_hex_into(k.key, {data.substr(0, cut), "", data.substr(cut)}, out));
      EXPECT_EQ(std::string(out, sizeof out), k.hmac) << k.data << " cut at " << cut;
    }
  }
}

TEST(Secret, SameLengthSecretEquals) {
  EXPECT_TRUE(same_length_secret_equals("v0=abc", "v0=abc"));
  EXPECT_FALSE(same_length_secret_equals("v0=abc", "v0=abd"));
  EXPECT_FALSE(same_length_secret_equals("v0=abc", "v0=ab"));
  EXPECT_FALSE(same_length_secret_equals("", "x"));
  EXPECT_TRUE(same_length_secret_equals("", ""));
}

TEST(Secret, Sha256KnownAnswers) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace scribe
