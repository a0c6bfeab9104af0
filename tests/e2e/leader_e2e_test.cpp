// Replicas on one PostgreSQL elect one leader to run the clients that must run once
// (storage/leadership.h): two real `scribe serve` processes on a fresh database of the
// throwaway server (SCRIBE_TEST_POSTGRES_URL; skipped without it, failed under CI=true) and
// the Matrix stand-in homeserver in bot-account mode. Only the leader syncs; the standby
// serves HTTP; kill -9 of the leader makes the standby sync within a bounded time, from the
// position stored in the shared database, and every message typed in the room is recorded
// exactly once. Each replica gets its own access token (the stand-in takes any), so the
// stand-in's record of /sync calls tells which replica made each.
//
// store_backends.h comes first: it names gtest's ::testing from inside namespace scribe,
// before e2e/fixture.h declares scribe::testing.
#include "unit/store_backends.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "e2e/fixture.h"
#include "support/matrix_standin.h"

namespace scribe::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRoom = "!leader:standin.test";
constexpr const char* kBot = "@scribe:standin.test";
constexpr const char* kApiToken = "e2e-api-token";

class LeaderE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    SCRIBE_REQUIRE_DATABASE(db_);
    homeserver_.join_bot(kRoom);
  }

  std::unique_ptr<ScribeProcess> start(const std::string& access_token) {
    const std::map<std::string, std::string> env = {
        {"SCRIBE_DB", db_.location()},   {"SCRIBE_API_TOKEN", kApiToken},
        {"SCRIBE_LOG_LEVEL", "info"},    {"SCRIBE_MATRIX_HOMESERVER_URL", homeserver_.base_url()},
        {"SCRIBE_MATRIX_USER_ID", kBot}, {"SCRIBE_MATRIX_ACCESS_TOKEN", access_token},
    };
    ScribeProcessOptions options;
    options.inherit_scribe_env = false;
    return std::make_unique<ScribeProcess>(SCRIBE_BINARY, env, options);
  }

  // The /sync calls made with `token`, in order.
  std::vector<MatrixCall> syncs_of(const std::string& token) const {
    std::vector<MatrixCall> out;
    for (auto& call : homeserver_.calls_to("/sync")) {
      if (call.header("authorization") == "Bearer " + token) out.push_back(std::move(call));
    }
    return out;
  }

  // Waits (at most `limit`) until `token` has made a /sync call.
  bool wait_for_sync_by(const std::string& token, std::chrono::seconds limit) const {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (syncs_of(token).empty()) {
      if (std::chrono::steady_clock::now() >= until) return false;
      homeserver_.wait_for("/sync", homeserver_.calls_to("/sync").size() + 1, 200ms);
    }
    return true;
  }

  // The replica's scribe_leader gauge, -1 when /metrics does not show it.
  int leader_gauge(const ScribeProcess& p) {
    const HttpResult r = http_.request("GET", p.base_url() + "/metrics");
    const auto at = r.body.find("\nscribe_leader ");
    if (r.status != 200 || at == std::string::npos) return -1;
    return std::stoi(r.body.substr(at + 15));
  }

  // Appends `body` typed by alice to the room (the homeserver's timeline).
  void type(const std::string& body) {
    homeserver_.add_message(kRoom, "@alice:standin.test", body);
  }

  // How many of the incident's timeline events have `text`.
  static int recorded(const json& incident, const std::string& text) {
    int n = 0;
    for (const auto& e : incident["timeline"]) n += e["text"] == text ? 1 : 0;
    return n;
  }

  json incident_via(const ScribeProcess& p) {
    const HttpResult r = http_.request("GET", p.base_url() + "/api/incidents/1",
                                       {std::string("Authorization: Bearer ") + kApiToken});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body) : json();
  }

  test::TestDatabase db_{test::Backend::kPostgres};
  MatrixStandIn homeserver_{""};  // any access token
  HttpClient http_;
};

TEST_F(LeaderE2E, OnlyTheLeaderSyncsAndAKilledLeadersStandbyResumesFromTheStoredPosition) {
  auto a = start("tok-a");
  // A leads: its first sync learns the current position.
  ASSERT_TRUE(homeserver_.wait_for_sync_since(homeserver_.stream_position())) << a->logs();
  auto b = start("tok-b");
  EXPECT_EQ(leader_gauge(*a), 1);
  EXPECT_EQ(leader_gauge(*b), 0);
  const HttpResult standby = http_.request("GET", b->base_url() + "/readyz");
  EXPECT_EQ(standby.status, 200);
  EXPECT_EQ(standby.body, "ready (standby)\n");

  std::vector<std::string> texts;
  type("!incident start Leader election");
  for (int i = 0; i < 10; ++i) {
    texts.push_back("before " + std::to_string(i));
    type("!timeline " + texts.back());
  }
  ASSERT_TRUE(homeserver_.wait_for_sync_since(homeserver_.stream_position())) << a->logs();
  // The standby serves HTTP (the API reads the shared database) but has not synced.
  EXPECT_EQ(incident_via(*b)["timeline"].size(), incident_via(*a)["timeline"].size());

  // More messages, and the leader dies while it may be applying them.
  for (int i = 0; i < 20; ++i) {
    texts.push_back("during " + std::to_string(i));
    type("!timeline " + texts.back());
  }
  EXPECT_TRUE(syncs_of("tok-b").empty()) << "the standby synced while A led";
  a->kill_hard();
  const auto killed = std::chrono::steady_clock::now();

  ASSERT_TRUE(wait_for_sync_by("tok-b", 20s)) << b->logs();
  const auto b_syncs = syncs_of("tok-b");
  const auto takeover =
      std::chrono::duration_cast<std::chrono::milliseconds>(b_syncs.front().arrived - killed);
  // From the position A stored, not a first start's (which would skip what A missed).
  EXPECT_FALSE(b_syncs.front().param("since").empty()) << "B did not resume from a stored token";
  EXPECT_LT(takeover, 10s);
  std::printf("takeover after kill -9 of the leader: %lld ms to the standby's first /sync\n",
              static_cast<long long>(takeover.count()));
  EXPECT_EQ(leader_gauge(*b), 1);
  EXPECT_EQ(http_.request("GET", b->base_url() + "/readyz").body, "ready (leader)\n");

  for (int i = 0; i < 5; ++i) {
    texts.push_back("after " + std::to_string(i));
    type("!timeline " + texts.back());
  }
  ASSERT_TRUE(homeserver_.wait_for_sync_since(homeserver_.stream_position(), 20s)) << b->logs();

  // Every message, once.
  const json incident = incident_via(*b);
  for (const auto& text : texts) EXPECT_EQ(recorded(incident, text), 1) << text;
  EXPECT_EQ(db_.query_int("SELECT count(*) FROM incidents"), 1);
}

}  // namespace
}  // namespace scribe::testing
