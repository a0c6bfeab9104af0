// End-to-end: kill -9 under load never doubles or loses a command. Clients send distinct
// signed commands concurrently; the server is killed at an arbitrary point of its work
// (mid-batch, mid-commit, between commit and answer) several times; then every request is
// sent again exactly as it was (what a client or Slack does after a failure). Each command
// must then be in the timeline exactly once, and a request answered before the crash gets
// the same answer again.
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/fixture.h"

namespace scribe {
namespace {

using namespace std::chrono_literals;
using testing::json;

struct Sent {
  std::string text;
  std::string body;
  std::vector<std::string> headers;
  std::string answer;  // set when answered before a crash
};

class CrashE2E : public testing::ScribeE2E {
 protected:
  void SetUp() override {
    // 480 commands into one channel as fast as four clients can send: past the channel's
    // command rate by design of the test, which is about crashes, not rates.
    env_["SCRIBE_CHANNEL_COMMANDS_PER_MINUTE"] = "off";
    ScribeE2E::SetUp();
  }
};

TEST_F(CrashE2E, KillNineUnderLoadNeverDoublesOrLosesACommand) {
  slack_->command("/incident", "start sev2 Crash target", "C0CRASH");
  constexpr int kClients = 4;
  constexpr int kRounds = 3;
  constexpr int kPerClient = 40;
  // Signed once, up front: the retries are the same requests, byte for byte.
  std::vector<Sent> sent;
  for (int i = 0; i < kClients * kRounds * kPerClient; ++i) {
    Sent s;
    s.text = fmt::format("crash-test command {}", i);
    s.body = testing::SlackClient::form_body("/timeline", s.text, "C0CRASH", testing::kAlice);
    s.headers = slack_->signed_headers(s.body);
    sent.push_back(std::move(s));
  }

  for (int round = 0; round < kRounds; ++round) {
    const std::string url = scribe_->base_url() + "/slack/commands";
    std::mutex answered_mu;
    std::condition_variable answered_cv;
    int answered = 0;  // guarded by answered_mu
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        HttpClient http(5s, 1s);
        for (int k = 0; k < kPerClient; ++k) {
          Sent& s = sent[static_cast<std::size_t>((round * kClients + c) * kPerClient + k)];
          const HttpResult r = http.request("POST", url, s.headers, s.body);
          if (r.transport_failed()) return;  // the server is gone: the rest is retried later
          if (r.status == 200) s.answer = r.body;
          {
            std::lock_guard lock(answered_mu);
            ++answered;
          }
          answered_cv.notify_all();
        }
      });
    }
    // Kill while the clients are busy: after a round-dependent number of answers, so the
    // crash lands at different points of the writer's work.
    const int kill_after = 10 + round * 17;
    {
      std::unique_lock lock(answered_mu);
      answered_cv.wait_for(lock, 10s, [&] { return answered >= kill_after; });
    }
    scribe_->kill_hard();
    for (auto& t : clients) t.join();
    start();  // recovery: a new process on the same file
  }

  // Everything again, as sent: what was stored answers as before and changes nothing,
  // what was not is stored now.
  const std::string url = scribe_->base_url() + "/slack/commands";
  for (const Sent& s : sent) {
    const HttpResult r = http_.request("POST", url, s.headers, s.body);
    ASSERT_EQ(r.status, 200) << r.body;
    if (!s.answer.empty()) {
      EXPECT_EQ(r.body, s.answer) << s.text;
    }
  }

  std::map<std::string, int> recorded;
  const json incident = api_json("/api/incidents/1");  // kept: the loop reads into it
  for (const auto& e : incident["timeline"]) {
    recorded[e["text"].get<std::string>()]++;
  }
  std::string seen;
  for (const auto& [text, n] : recorded) seen += fmt::format("{} x{}\n", text, n);
  for (const Sent& s : sent) EXPECT_EQ(recorded[s.text], 1) << s.text << "; recorded:\n" << seen;
}

}  // namespace
}  // namespace scribe
