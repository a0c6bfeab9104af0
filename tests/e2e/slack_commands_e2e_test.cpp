// End-to-end: the real `scribe serve` on a loopback port with a temporary SQLite file,
// driven with correctly signed Slack slash commands over HTTP.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include <signal.h>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "adapters/slack/signature.h"
#include "e2e/fixture.h"
#include "e2e/socket_fixture.h"
#include "net/http_client.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::iso;
using testing::kAlice;
using testing::kBob;
using testing::SlackClient;

using SlackCommandsE2E = testing::ScribeE2E;
// The scenarios that do not depend on HTTP itself run in both Slack modes, HTTP and Socket
// Mode, through the same code: `slack_->command()` goes over the mode of the parameter.
using SlackCommandsBothModesE2E = testing::SlackModesE2E;
INSTANTIATE_TEST_SUITE_P(Modes, SlackCommandsBothModesE2E,
                         ::testing::Values(testing::SlackMode::kHttp, testing::SlackMode::kSocket),
                         testing::mode_name);

TEST_P(SlackCommandsBothModesE2E, WholeIncidentSurvivesRestartsAndDraftsEveryEventInOrder) {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const auto impact = now - 40min;
  const auto alert = now - 36min;  // time to detect: 4m 00s
  const auto detected = now - 33min;
  const auto action = now - 20min;

  json r = slack_->command("/incident", "start sev2 Checkout API returning 502s", "C0INC", kAlice);
  EXPECT_EQ(r["response_type"], "in_channel");
  EXPECT_THAT(r["text"].get<std::string>(), HasSubstr("INC-1"));

  slack_->command("/timeline", iso(impact) + " #impact Error rate rose from 0.1% to 18%", "C0INC",
                  kAlice);
  slack_->command("/timeline", "#alert " + iso(alert) + " CheckoutHighErrorRate fired", "C0INC",
                  kAlice);
  restart();  // mid-incident: everything acknowledged so far must still be there
  slack_->command("/timeline", iso(detected) + " #detected On-call acknowledged", "C0INC", kBob);
  slack_->command("/incident", "commander <@U0BOB|bob>", "C0INC", kAlice);
  slack_->command("/timeline", iso(action) + " #action Rolled back deploy 2026.11.21-3", "C0INC",
                  kBob);
  slack_->command("/timeline", "Pool size was 0 in the new config & <b>not</b> 20", "C0INC", kBob);
  slack_->command("/incident", "cause Library default for the pool size changed to 0", "C0INC",
                  kBob);
  slack_->command("/action", "Validate pool size at start-up <@U0ALICE|alice> due +7d #prevent",
                  "C0INC", kBob);
  slack_->command("/incident", "mitigated Error rate back to normal", "C0INC", kBob);
  restart();
  json resolved = slack_->command("/incident", "resolved", "C0INC", kBob);
  EXPECT_EQ(resolved["response_type"], "in_channel");
  EXPECT_THAT(resolved.dump(), HasSubstr("Postmortem: INC-1"));

  // The draft through the API, as JSON: every event in time order with its own time.
  const json draft = api_json("/api/incidents/1/postmortem.json");
  std::vector<std::string> texts;
  std::vector<std::string> times;
  for (const auto& row : draft["timeline"]) {
    texts.push_back(row["text"]);
    times.push_back(row["occurred_at"]);
  }
  ASSERT_GE(texts.size(), 9u) << draft.dump(2);
  EXPECT_EQ(texts[0], "Error rate rose from 0.1% to 18%");
  EXPECT_EQ(texts[1], "CheckoutHighErrorRate fired");
  EXPECT_EQ(texts[2], "On-call acknowledged");
  EXPECT_EQ(texts[3], "Rolled back deploy 2026.11.21-3");
  EXPECT_THAT(times[0], HasSubstr(fmt::format("{:%Y-%m-%dT%H:%M:%S}", impact)));
  EXPECT_THAT(times[1], HasSubstr(fmt::format("{:%Y-%m-%dT%H:%M:%S}", alert)));
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
  const std::vector<std::string> kinds = [&] {
    std::vector<std::string> k;
    for (const auto& row : draft["timeline"]) k.push_back(row["kind"]);
    return k;
  }();
  EXPECT_THAT(kinds, ::testing::IsSupersetOf({"impact", "alert", "detected", "action", "declared",
                                              "commander", "mitigated", "resolved"}));

  // Key durations: detect is exact (both ends backdated); the others end at real times.
  std::map<std::string, json> durations;
  for (const auto& d : draft["durations"]) durations[d["id"]] = d;
  EXPECT_EQ(durations["time_to_detect"]["seconds"], 240);
  const auto mitigated_s = durations["time_to_mitigate"]["seconds"].get<long>();
  const auto resolved_s = durations["time_to_resolve"]["seconds"].get<long>();
  EXPECT_GE(mitigated_s, 40 * 60);
  EXPECT_LT(mitigated_s, 40 * 60 + 120);
  EXPECT_GE(resolved_s, mitigated_s);

  // The Markdown draft has the same events in the same order, and the action item.
  const HttpResult md = api("/api/incidents/1/postmortem.md");
  ASSERT_EQ(md.status, 200);
  const auto timeline_at = md.body.find("## Timeline");
  ASSERT_NE(timeline_at, std::string::npos);
  std::size_t last = timeline_at;
  for (const auto& text : texts) {
    const auto at = md.body.find(text.substr(0, 20), timeline_at);
    ASSERT_NE(at, std::string::npos) << text;
    EXPECT_GE(at, last) << text;
    last = at;
  }
  EXPECT_THAT(md.body, HasSubstr("Validate pool size at start-up"));
  EXPECT_THAT(md.body, HasSubstr("4m 00s"));
  EXPECT_THAT(md.body, HasSubstr("Library default for the pool size changed to 0"));

  // The stored draft and the printed one agree: `scribe draft` reads the same file.
  const json incident = api_json("/api/incidents/1");
  EXPECT_EQ(incident["incident"]["status"], "resolved");
  EXPECT_EQ(incident["incident"]["commander"]["id"], "U0BOB");
}

// In Socket Mode an acknowledgement is the promise: what was acknowledged survives kill -9.
TEST_P(SlackCommandsBothModesE2E, KillNineLosesNothingThatWasAcknowledged) {
  slack_->command("/incident", "start Database failover");
  int acknowledged = 0;
  for (int i = 0; i < 40; ++i) {
    slack_->command("/timeline", fmt::format("event number {}", i));
    ++acknowledged;
  }
  scribe_->kill_hard();
  start();
  const json incident = api_json("/api/incidents/1");
  int found = 0;
  for (const auto& e : incident["timeline"]) {
    if (e["text"].get<std::string>().starts_with("event number ")) ++found;
  }
  EXPECT_EQ(found, acknowledged);
}

TEST_F(SlackCommandsE2E, BadSignaturesAreRefusedAndStoreNothing) {
  const std::string body = SlackClient::form_body("/incident", "start Forged", "C0X", kAlice);
  const auto ts = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  const std::string type = "Content-Type: application/x-www-form-urlencoded";

  // No signature headers at all.
  EXPECT_EQ(slack_->post(body, {type}).status, 401);
  // A signature made with another secret.
  SlackClient wrong(scribe_->base_url(), "not-the-secret");
  EXPECT_EQ(wrong.post_signed(body).status, 401);
  // A valid signature over a different body (tampered in transit).
  SlackClient right(scribe_->base_url(), kSecret);
  const std::string other = SlackClient::form_body("/incident", "start Other", "C0X", kAlice);
  const HttpResult signed_other = right.post(
      body,
      {type, "X-Slack-Request-Timestamp: " + ts, "X-Slack-Signature: v0=" + std::string(64, '0')});
  EXPECT_EQ(signed_other.status, 401);
  // Stale: correctly signed, six minutes old, and six minutes ahead.
  EXPECT_EQ(right.post_signed(body, std::chrono::system_clock::now() - 6min).status, 401);
  EXPECT_EQ(right.post_signed(body, std::chrono::system_clock::now() + 6min).status, 401);
  // Not a number.
  EXPECT_EQ(right.post(body, {type, "X-Slack-Request-Timestamp: soon", "X-Slack-Signature: v0=abc"})
                .status,
            401);
  (void)other;

  EXPECT_EQ(incident_count(), 0u);
  // The same request, correctly signed and fresh, is accepted.
  EXPECT_EQ(right.post_signed(body).status, 200);
  EXPECT_EQ(incident_count(), 1u);
}

TEST_F(SlackCommandsE2E, MalformedAndOversizeBodiesGetFourHundreds) {
  const auto count_before = incident_count();
  // Signed, but not a valid form (a broken percent-escape).
  EXPECT_EQ(slack_->post_signed("command=%2Fincident&text=start%zzBroken&channel_id=C1&user_id=U1")
                .status,
            400);
  // Signed, valid form, but not a slash command (no channel or user).
  EXPECT_EQ(slack_->post_signed("command=%2Fincident&text=start+x").status, 400);
  // Signed JSON where a form is expected.
  EXPECT_EQ(slack_->post_signed(R"({"command":"/incident"})", {}, "application/json").status, 415);
  // Larger than the 64 KiB limit: refused before it is read whole.
  const std::string huge =
      SlackClient::form_body("/timeline", std::string(70 * 1024, 'x'), "C0INCIDENT", kAlice);
  EXPECT_EQ(slack_->post_signed(huge).status, 413);
  EXPECT_EQ(incident_count(), count_before);
}

TEST_P(SlackCommandsBothModesE2E, UnknownCommandsAndTyposGetHelpfulAnswers) {
  slack_->command("/incident", "start Typos");
  json r = slack_->command("/incident", "stauts");
  EXPECT_EQ(r["response_type"], "ephemeral");
  EXPECT_THAT(r.dump(), HasSubstr("/incident status"));

  r = slack_->command("/timelime", "something");  // a command Slack routed under another name
  EXPECT_THAT(r.dump(), HasSubstr("/timeline"));

  r = slack_->command("/timeline", "#detcted users report errors");
  EXPECT_THAT(r.dump(), HasSubstr("#detected"));

  r = slack_->command("/timeline", "+10m this is in the future");
  EXPECT_EQ(r["response_type"], "ephemeral");
  EXPECT_THAT(r.dump(), HasSubstr("future"));

  // None of these became timeline events: only the declaration is there.
  EXPECT_EQ(api_json("/api/incidents/1")["timeline"].size(), 1u);
}

TEST_P(SlackCommandsBothModesE2E, CommandsWithoutAnIncidentSaySoClearly) {
  for (const auto& [command, text] :
       std::vector<std::pair<std::string, std::string>>{{"/timeline", "db is down"},
                                                        {"/incident", "status"},
                                                        {"/incident", "resolved"},
                                                        {"/action", "fix it @bob"}}) {
    json r = slack_->command(command, text, "C0QUIET");
    EXPECT_EQ(r["response_type"], "ephemeral") << command << " " << text;
    EXPECT_THAT(r["text"].get<std::string>(), HasSubstr("no open incident")) << command;
    EXPECT_THAT(r["text"].get<std::string>(), HasSubstr("/incident start"));
  }
  EXPECT_EQ(incident_count(), 0u);
}

TEST_P(SlackCommandsBothModesE2E, SecondStartInAChannelIsRefusedWithTheExistingId) {
  slack_->command("/incident", "start First one", "C0ONE");
  json r = slack_->command("/incident", "start sev1 Second one", "C0ONE");
  EXPECT_EQ(r["response_type"], "ephemeral");
  EXPECT_THAT(r["text"].get<std::string>(), HasSubstr("INC-1"));
  EXPECT_EQ(incident_count(), 1u);
  // Another channel is another incident.
  r = slack_->command("/incident", "start Elsewhere", "C0TWO");
  EXPECT_THAT(r["text"].get<std::string>(), HasSubstr("INC-2"));
}

TEST_F(SlackCommandsE2E, ApiNeedsTheBearerToken) {
  EXPECT_EQ(api("/api/incidents", "wrong").status, 401);
  EXPECT_EQ(http_.request("GET", scribe_->base_url() + "/api/incidents").status, 401);
  EXPECT_EQ(api("/api/incidents").status, 200);
  EXPECT_EQ(api("/api/incidents/99").status, 404);
  EXPECT_EQ(api("/api/incidents/1/postmortem.md").status, 404);
}

TEST_F(SlackCommandsE2E, HealthReadinessAndMetrics) {
  EXPECT_EQ(http_.request("GET", scribe_->base_url() + "/healthz").status, 200);
  EXPECT_EQ(http_.request("GET", scribe_->base_url() + "/readyz").status, 200);
  slack_->command("/incident", "help");
  const HttpResult m = http_.request("GET", scribe_->base_url() + "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_THAT(m.body,
              HasSubstr("scribe_http_requests_total{route=\"slack_commands\",code=\"2xx\"} 1"));
  EXPECT_EQ(http_.request("POST", scribe_->base_url() + "/healthz").status, 405);
  EXPECT_EQ(http_.request("GET", scribe_->base_url() + "/nope").status, 404);
}

// A client that starts a request and never finishes it is cut off after the read
// timeout, while other clients are served meanwhile.
TEST_F(SlackCommandsE2E, SlowClientsAreCutOff) {
  scribe_->terminate();
  start({{"SCRIBE_READ_TIMEOUT_SECONDS", "1"}});

  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(scribe_->port());
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string partial = "POST /slack/commands HTTP/1.1\r\nHost: x\r\nContent-Le";
  ASSERT_EQ(send(fd, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));

  // Served while the slow one hangs.
  EXPECT_EQ(http_.request("GET", scribe_->base_url() + "/healthz").status, 200);

  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const auto started = std::chrono::steady_clock::now();
  std::string got;
  char buf[512];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<std::size_t>(n));
  const auto waited = std::chrono::steady_clock::now() - started;
  close(fd);
  EXPECT_EQ(n, 0) << "the connection should be closed by the server";
  EXPECT_LT(waited, 4s);
  EXPECT_EQ(got, "");  // the timed-out stream is closed, not answered
}

// Runs `scribe draft ...` against the test's database and returns what it printed.
std::string run_draft_cli(const std::filesystem::path& db, const std::string& args) {
  const std::string command =
      fmt::format("SCRIBE_DB='{}' '{}' draft {} 2>/dev/null", db.string(), SCRIBE_BINARY, args);
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  pclose(pipe);
  return out;
}

// Everything but the line that says when the draft was made.
std::string without_generated_line(const std::string& md) {
  const auto at = md.find("Drafted by Scribe at");
  return at == std::string::npos ? md : md.substr(0, at);
}

TEST_P(SlackCommandsBothModesE2E, DraftCommandPrintsTheSameDraftFromTheDatabase) {
  slack_->command("/incident", "start sev3 Queue backlog");
  slack_->command("/timeline", "-5m #impact Jobs delayed by 10 minutes");
  slack_->command("/incident", "resolved");
  const HttpResult api_md = api("/api/incidents/1/postmortem.md");
  ASSERT_EQ(api_md.status, 200);
  ASSERT_EQ(scribe_->terminate(), 0);

  const std::string cli_md = run_draft_cli(dir_ / "scribe.db", "INC-1");
  EXPECT_THAT(cli_md, HasSubstr("# Postmortem: INC-1"));
  EXPECT_EQ(without_generated_line(cli_md), without_generated_line(api_md.body));
  const json cli_json = json::parse(run_draft_cli(dir_ / "scribe.db", "1 --format json"));
  EXPECT_EQ(cli_json["incident"]["title"], "Queue backlog");
  EXPECT_THAT(run_draft_cli(dir_ / "scribe.db", "7"), ::testing::IsEmpty());
  start();  // for TearDown symmetry
}

// A request already under way when SIGTERM arrives is finished and answered; then the
// service exits.
TEST_F(SlackCommandsE2E, SigtermFinishesTheRequestInFlight) {
  slack_->command("/incident", "start In-flight test");
  const std::string body =
      SlackClient::form_body("/timeline", "sent across the shutdown", "C0INCIDENT", kAlice);
  const auto ts = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  const std::string request = fmt::format(
      "POST /slack/commands HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\nX-Slack-Request-Timestamp: {}\r\n"
      "X-Slack-Signature: {}\r\nContent-Length: {}\r\n\r\n{}",
      ts, slack::compute_signature(kSecret, ts, body), body.size(), body);

  const auto open_before = metric("scribe_http_connections");
  ASSERT_TRUE(open_before);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(scribe_->port());
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::size_t half = request.size() / 2;
  ASSERT_EQ(send(fd, request.data(), half, 0), static_cast<ssize_t>(half));
  // The server has accepted the connection (its first half is in the socket): a stop
  // finishes such a request rather than dropping it.
  ASSERT_TRUE(
      wait_for_metric("scribe_http_connections", [&](long long n) { return n > *open_before; }));

  kill(scribe_->pid(), SIGTERM);
  ASSERT_TRUE(scribe_->wait_for_log("stopping: no new connections", 10s)) << scribe_->logs();
  ASSERT_EQ(send(fd, request.data() + half, request.size() - half, 0),
            static_cast<ssize_t>(request.size() - half));

  std::string response;
  char buf[4096];
  ssize_t n;
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) response.append(buf, static_cast<std::size_t>(n));
  close(fd);
  EXPECT_THAT(response, HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(response, HasSubstr("Connection: close"));
  EXPECT_THAT(response, HasSubstr("sent across the shutdown"));
  // Told once: a second SIGTERM during the drain would end it at once (by design).
  EXPECT_EQ(scribe_->wait_until_exited(), 0);

  start();
  const json incident = api_json("/api/incidents/1");
  EXPECT_EQ(incident["timeline"].back()["text"], "sent across the shutdown");
}

TEST_F(SlackCommandsE2E, SigtermStopsPromptlyAndCleanly) {
  slack_->command("/incident", "start Shutdown test");
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(scribe_->terminate(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_THAT(scribe_->logs(), HasSubstr("stopped"));
  EXPECT_THAT(scribe_->logs(), Not(HasSubstr(kSecret)));
  EXPECT_THAT(scribe_->logs(), Not(HasSubstr(kToken)));
}

TEST_F(SlackCommandsE2E, DraftHeaderLeadsWithCustomerImpactApartFromIncidentDuration) {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const auto impact = now - 25min;
  slack_->command("/incident", "start sev2 Login failures", "C0IMP", kAlice);
  slack_->command("/timeline", iso(impact) + " #impact 7% of logins fail", "C0IMP", kAlice);
  slack_->command("/incident", "mitigated failed over to the standby", "C0IMP", kBob);
  slack_->command("/incident", "resolved", "C0IMP", kBob);

  const json draft = api_json("/api/incidents/1/postmortem.json");
  const json& ci = draft["customer_impact"];
  EXPECT_EQ(ci["from"]["at"], fmt::format("{:%Y-%m-%dT%H:%M:%S}.000Z", impact)) << ci.dump();
  EXPECT_EQ(ci["to"]["name"], "mitigated");
  const long seconds = ci["seconds"].get<long>();
  EXPECT_GE(seconds, 25 * 60);
  EXPECT_LT(seconds, 25 * 60 + 120);
  EXPECT_EQ(ci["ongoing"], false);
  EXPECT_TRUE(draft["total_duration"]["seconds"].is_number());

  // The Markdown header's first two facts, labelled apart; the HTML shows the same.
  const HttpResult md = api("/api/incidents/1/postmortem.md");
  ASSERT_EQ(md.status, 200);
  const std::string line =
      fmt::format("- **Customer impact:** {} (impact began {:%Y-%m-%d %H:%M:%S} UTC → mitigated ",
                  ci["display"].get<std::string>(), impact);
  const auto at = md.body.find(line);
  ASSERT_NE(at, std::string::npos) << md.body;
  EXPECT_EQ(md.body.find("- **"), at) << "customer impact is not the first fact";
  EXPECT_THAT(md.body.substr(at), HasSubstr("\n- **Incident duration:** "));
  const HttpResult html = api("/api/incidents/1/postmortem.html");
  ASSERT_EQ(html.status, 200);
  EXPECT_THAT(html.body,
              HasSubstr("<strong>Customer impact:</strong> " + ci["display"].get<std::string>()));
  EXPECT_THAT(html.body, HasSubstr("<strong>Incident duration:</strong> "));
}

}  // namespace
}  // namespace scribe
