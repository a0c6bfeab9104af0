// Service's shutdown order: the outbox's fetchers call back into the command handler, so
// every thread that uses a part must have stopped before that part is destroyed.
#include "bot/service.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "adapters/slack/signature.h"
#include "storage/store.h"
#include "support/await_response.h"
#include "support/slack_standin.h"
#include "test_support.h"

namespace scribe {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

HttpResponse route(Service& service, HttpRequest request) {
  return test::await_response(
      [&](Respond respond) { service.route(std::move(request), std::move(respond)); });
}

constexpr char kSecret[] = "service-test-secret";

HttpRequest signed_request(std::string target, std::string content_type, std::string body) {
  const std::string ts = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  HttpRequest r;
  r.method = "POST";
  r.target = std::move(target);
  r.headers = {{"content-type", std::move(content_type)},
               {"x-slack-request-timestamp", ts},
               {"x-slack-signature", slack::compute_signature(kSecret, ts, body)}};
  r.body = std::move(body);
  return r;
}

class ServiceShutdownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("scribe_service_", dir_));
    config_.listen_port = 0;
    config_.threads = 2;
    config_.db = (dir_ / "scribe.db").string();
    config_.slack_signing_secret = kSecret;
    config_.slack_bot_token = slack_.token();
    config_.slack_api_url = slack_.base_url();
  }
  void TearDown() override { test::remove_temp_dir(dir_); }

  std::filesystem::path dir_;
  testing::SlackStandIn slack_;
  Config config_;
};

// A 📌 fetch is in the outbox's hands (Slack is slow to answer) when the service is
// stopped and destroyed: the fetch finishes, records the message through the handler,
// and only then do the handler and the store go.
TEST_F(ServiceShutdownTest, AFetchInFlightFinishesThroughTheHandlerBeforeItIsDestroyed) {
  const std::string ts = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count() -
                                        60);
  slack_.add_message("C0SHUT", ts + ".000100", "U0BOB", "The queue drained at 14:02");

  auto service = std::make_unique<Service>(config_);
  std::thread running([&] { service->run(/*handle_signals=*/false); });

  const HttpResponse started = route(
      *service,
      signed_request("/slack/commands", "application/x-www-form-urlencoded",
                     "command=%2Fincident&text=start+Shutdown&channel_id=C0SHUT&user_id=U0ALICE&"
                     "user_name=alice&team_id=T0TEAM"));
  ASSERT_EQ(started.status, 200) << started.body;

  slack_.set_delay(700ms);
  const json reaction = {
      {"team_id", "T0TEAM"},
      {"type", "event_callback"},
      {"event_id", "EvShutdown"},
      {"event",
       {{"type", "reaction_added"},
        {"user", "U0CAROL"},
        {"reaction", "pushpin"},
        {"item_user", "U0BOB"},
        {"item", {{"type", "message"}, {"channel", "C0SHUT"}, {"ts", ts + ".000100"}}}}}};
  const HttpResponse queued =
      route(*service, signed_request("/slack/events", "application/json", reaction.dump()));
  ASSERT_EQ(queued.status, 200) << queued.body;

  // The fetch has reached Slack and waits for its answer: stop and destroy now.
  ASSERT_TRUE(slack_.wait_for_calls("conversations.history", 1));
  service->stop();
  running.join();
  service.reset();

  // The fetch was recorded before the handler and the store were destroyed.
  auto store = open_store(config_.db);
  std::vector<TimelineEvent> events;
  store->read([&](Transaction& tx) {
    const auto incident = tx.current_incident(ChannelRef{"slack", "T0TEAM", "C0SHUT"});
    ASSERT_TRUE(incident.has_value());
    events = tx.events(incident->id, /*include_deleted=*/false);
  });
  bool recorded = false;
  for (const auto& e : events) recorded |= e.text == "The queue drained at 14:02";
  EXPECT_TRUE(recorded);
  std::vector<OutboxMessage> pending;
  store->read([&](Transaction& tx) { pending = tx.due_outbox(Service::system_now() + 1h, 10); });
  EXPECT_TRUE(pending.empty()) << "the fetch job was finished, not left pending";
}

// A service that never ran is destroyed without starting, or waiting for, any thread.
TEST_F(ServiceShutdownTest, AServiceThatNeverRanIsDestroyedCleanly) {
  auto service = std::make_unique<Service>(config_);
  EXPECT_NE(service->port(), 0);
  service.reset();
  auto store = open_store(config_.db);
  EXPECT_TRUE(store->healthy());
}

}  // namespace
}  // namespace scribe
