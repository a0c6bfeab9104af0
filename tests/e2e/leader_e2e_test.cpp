// Replicas on one PostgreSQL elect one leader to run the clients that must run once
// (storage/leadership.h): two real `scribe serve` processes on a fresh database of the
// throwaway server (SCRIBE_TEST_POSTGRES_URL; skipped without it, failed under CI=true) and
// the Matrix stand-in homeserver in bot-account mode. Only the leader syncs; the standby
// serves HTTP; kill -9 of the leader makes the standby sync within a bounded time, from the
// position stored in the shared database, and every message typed in the room is recorded
// exactly once. Each replica gets its own access token (the stand-in takes any), so the
// stand-in's record of /sync calls tells which replica made each. The same with Slack in
// Socket Mode: only the leader holds connections (the stand-in counts them), and after a
// kill -9 the standby connects and takes commands.
//
// store_backends.h comes first: it names gtest's ::testing from inside namespace scribe,
// before e2e/fixture.h declares scribe::testing.
#include "unit/store_backends.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>

#include "e2e/fixture.h"
#include "e2e/socket_fixture.h"
#include "storage/postgres_schema.h"
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

class LeaderSocketE2E : public ::testing::Test, public SocketModeSupport {
 protected:
  void SetUp() override { SCRIBE_REQUIRE_DATABASE(db_); }

  std::unique_ptr<ScribeProcess> start() {
    std::map<std::string, std::string> env = {
        {"SCRIBE_DB", db_.location()},
        {"SCRIBE_API_TOKEN", kApiToken},
        {"SCRIBE_LOG_LEVEL", "info"},
    };
    enable_socket_mode(env, /*http_too=*/false);
    ScribeProcessOptions options;
    options.inherit_scribe_env = false;
    return std::make_unique<ScribeProcess>(SCRIBE_BINARY, env, options);
  }

  std::string get(const ScribeProcess& p, const std::string& path) {
    return http_
        .request("GET", p.base_url() + path, {std::string("Authorization: Bearer ") + kApiToken})
        .body;
  }

  // A slash command over the newest open connection; its acknowledgement's payload.
  json command(const std::string& slash, const std::string& text) {
    return socket_command(
        SlackClient::form_body(slash, text, "C0LEADER", SlackUser{"U0ALICE", "alice"}));
  }

  test::TestDatabase db_{test::Backend::kPostgres};
  HttpClient http_;
};

TEST_F(LeaderSocketE2E, OnlyTheLeaderHoldsSocketModeConnectionsAndAStandbyTakesOver) {
  auto a = start();
  ASSERT_TRUE(sockets_.wait_for_open(2)) << a->logs();
  auto b = start();
  // Socket Mode only, yet the standby is ready: it serves the API and /metrics.
  EXPECT_EQ(get(*b, "/readyz"), "ready (standby)\n");
  EXPECT_THAT(get(*b, "/metrics"), ::testing::HasSubstr("\nscribe_leader 0\n"));
  EXPECT_THAT(get(*b, "/metrics"), ::testing::HasSubstr("\nscribe_slack_socket_connections 0\n"));

  ASSERT_NO_THROW(command("/incident", "start sev2 Socket leader"));
  // The acknowledgement came over a connection whose hello Scribe had read before it: the
  // leader is ready.
  EXPECT_EQ(get(*a, "/readyz"), "ready (leader)\n");
  ASSERT_NO_THROW(command("/timeline", "before the takeover"));
  EXPECT_EQ(sockets_.connections_total(), 2u) << "the standby opened Socket Mode connections";

  const std::vector<int> old = sockets_.open_connections();
  a->kill_hard();
  const auto killed = std::chrono::steady_clock::now();
  for (const int id : old) ASSERT_TRUE(sockets_.wait_for_closed(id));
  ASSERT_TRUE(sockets_.wait_for_open(2)) << b->logs();
  const int first_new = sockets_.open_connections().front();
  ASSERT_GT(first_new, *std::max_element(old.begin(), old.end()));
  const auto takeover = std::chrono::duration_cast<std::chrono::milliseconds>(
      *sockets_.opened_at(first_new) - killed);
  EXPECT_LT(takeover, 10s);
  std::printf(
      "takeover after kill -9 of the leader: %lld ms to the standby's first Socket Mode "
      "connection\n",
      static_cast<long long>(takeover.count()));
  EXPECT_EQ(sockets_.connections_total(), 4u);

  ASSERT_NO_THROW(command("/timeline", "after the takeover"));
  EXPECT_EQ(get(*b, "/readyz"), "ready (leader)\n");
  const json incident = json::parse(get(*b, "/api/incidents/1"));
  std::map<std::string, int> texts;
  for (const auto& e : incident["timeline"]) ++texts[e["text"].get<std::string>()];
  EXPECT_EQ(texts["before the takeover"], 1);
  EXPECT_EQ(texts["after the takeover"], 1);
  EXPECT_EQ(db_.query_int("SELECT count(*) FROM incidents"), 1);
}

// The leader's database connection is cut (pg_terminate_backend of the session holding the
// leader lock, as a failover or a network cut looks to it): it steps down, closing its
// connections before the standby opens its own, and stays up as a standby.
TEST_F(LeaderSocketE2E, ALeaderCutOffFromTheDatabaseStepsDownBeforeTheStandbyTakesOver) {
  auto a = start();
  ASSERT_TRUE(sockets_.wait_for_open(2)) << a->logs();
  auto b = start();
  const std::vector<int> old = sockets_.open_connections();
  const auto key = static_cast<std::uint64_t>(pg::kLeaderLock);
  // The lock's holder in this test's database (advisory locks are per database).
  ASSERT_EQ(db_.query_int(fmt::format(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = "
                "'advisory' AND classid = {} AND objid = {} AND granted AND database = (SELECT "
                "oid FROM pg_database WHERE datname = current_database())",
                key >> 32, key & 0xffffffffU)),
            1);
  for (const int id : old) ASSERT_TRUE(sockets_.wait_for_closed(id)) << a->logs();
  ASSERT_TRUE(sockets_.wait_for_open(2)) << b->logs();
  std::chrono::steady_clock::time_point last_closed{};
  for (const int id : old) last_closed = std::max(last_closed, *sockets_.closed_at(id));
  for (const int id : sockets_.open_connections()) {
    EXPECT_GT(id, *std::max_element(old.begin(), old.end()));
    EXPECT_GE(*sockets_.opened_at(id), last_closed) << "the two leaders overlapped";
  }
  EXPECT_EQ(get(*a, "/readyz"), "ready (standby)\n");
  EXPECT_THAT(get(*a, "/metrics"), ::testing::HasSubstr("\nscribe_leader 0\n"));
  EXPECT_TRUE(a->wait_for_log("stepping down", 1s));
  ASSERT_NO_THROW(command("/incident", "start sev3 After the cut"));
  EXPECT_EQ(db_.query_int("SELECT count(*) FROM incidents"), 1);
}

}  // namespace
}  // namespace scribe::testing
