#include "bot/demo.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "adapters/slack/signature.h"
#include "adapters/slack/slash_command.h"
#include "bot/service.h"
#include "net/http_client.h"
#include "util/percent.h"

namespace scribe {
namespace {

struct Step {
  int minute;  // scenario time: minutes after the first symptom
  const char* user_id;
  const char* user_name;
  const char* command;
  const char* text;
};

// A checkout outage as responders would type it, over 50 minutes, mentions in Slack's
// escaped form. Backdated entries ("-9m") show how late-written facts keep their time.
const Step kScenario[] = {
    {9, "U0ALICE", "alice", "/incident", "start sev2 Checkout API returning 502s"},
    {9, "U0ALICE", "alice", "/timeline",
     "-9m #impact Checkout error rate rose from 0.1% to 18% (first symptom on the dashboard)"},
    {9, "U0ALICE", "alice", "/timeline",
     "-4m #alert CheckoutHighErrorRate fired and paged on-call"},
    {10, "U0ALICE", "alice", "/timeline", "#detected On-call acknowledged; investigating"},
    {14, "U0BOB", "bob", "/timeline",
     "Deploy 2026.11.21-3 of checkout-api matches the start of errors"},
    {15, "U0ALICE", "alice", "/incident", "commander <@U0BOB|bob>"},
    {16, "U0BOB", "bob", "/incident", "sev1"},
    {16, "U0BOB", "bob", "/timeline", "+5m Rollback will be done"},
    {17, "U0BOB", "bob", "/timeline", "#action Rolling back checkout-api to 2026.11.21-2"},
    {18, "U0CAROL", "carol", "/timeline", "#comms Status page: checkout degraded"},
    {24, "U0BOB", "bob", "/incident", "mitigated Error rate back to 0.1% after the rollback"},
    {25, "U0BOB", "bob", "/timeline", "lsit"},
    {25, "U0BOB", "bob", "/timeline", "list"},
    {30, "U0BOB", "bob", "/incident",
     "summary A config default in deploy 2026.11.21-3 set the DB pool size to 0; checkout "
     "failed for 24 minutes until the rollback."},
    {31, "U0CAROL", "carol", "/incident",
     "impact About 18% of checkout attempts failed for 24 minutes; no data lost."},
    {32, "U0BOB", "bob", "/incident",
     "cause The pool size default changed from 20 to 0 in a library upgrade"},
    {33, "U0BOB", "bob", "/incident",
     "why Why did checkout fail? No DB connections could be opened."},
    {33, "U0BOB", "bob", "/incident", "why Why? The pool size was 0."},
    {34, "U0BOB", "bob", "/incident",
     "why Why? The library changed its default and we relied on it."},
    {35, "U0ALICE", "alice", "/incident", "went-well The alert fired within 5 minutes"},
    {35, "U0ALICE", "alice", "/incident", "went-wrong Canary did not cover the checkout path"},
    {36, "U0CAROL", "carol", "/incident", "lucky It happened outside the evening peak"},
    {36, "U0BOB", "bob", "/incident", "lesson Set every pool size explicitly in config"},
    {40, "U0BOB", "bob", "/action",
     "Validate DB pool size > 0 at start-up <@U0ALICE|alice> due +7d #prevent"},
    {41, "U0BOB", "bob", "/action",
     "Add checkout to the canary's synthetic checks <@U0CAROL|carol> due +14d #detect"},
    {42, "U0BOB", "bob", "/action", "Improve things"},
    {50, "U0BOB", "bob", "/incident", "resolved Rollback verified for 30 minutes"},
};

// Slack escapes &, < and > in message text; show them as a person would see them.
// The reply as the channel sees it: the first block holds the text and its details.
std::string shown_text(const nlohmann::json& reply) {
  std::string text = reply.value("text", "");
  if (reply.contains("blocks") && !reply["blocks"].empty()) {
    text = reply["blocks"][0]["text"].value("text", text);
  }
  std::string indented;
  for (char c : text) {
    indented += c;
    if (c == '\n') indented += "    ";
  }
  return indented;
}

std::string random_secret() {
  std::random_device rd;
  return fmt::format("{:016x}{:016x}", (std::uint64_t{rd()} << 32) | rd(),
                     (std::uint64_t{rd()} << 32) | rd());
}

}  // namespace

int run_demo(std::ostream& out, bool keep_database) {
  const auto dir = std::filesystem::temp_directory_path() /
                   fmt::format("scribe-demo-{}", std::random_device{}());
  std::filesystem::create_directories(dir);

  Config config;
  config.listen_host = "127.0.0.1";
  config.listen_port = 0;
  config.db = (dir / "scribe.db").string();
  config.slack_signing_secret = random_secret();
  config.api_token = random_secret();
  spdlog::set_level(spdlog::level::warn);

  // The scenario runs on its own clock, starting an hour ago, so that 50 minutes of
  // incident take a second and the draft still shows real spans of time.
  const Timestamp first_symptom =
      std::chrono::floor<std::chrono::minutes>(Service::system_now()) - std::chrono::hours(1);
  std::atomic<std::int64_t> scenario_minute{0};
  auto clock = [&] {
    return first_symptom + std::chrono::minutes(scenario_minute.load()) + std::chrono::seconds(17);
  };

  Service service(config, clock);
  std::thread server([&] { service.run(/*handle_signals=*/false); });
  const std::string base = fmt::format("http://127.0.0.1:{}", service.port());
  out << fmt::format("Scribe is listening on {} with a fresh database at {}.\n", base, config.db);
  out << "Each command below is sent as a signed Slack slash command over HTTP.\n\n";

  HttpClient client;
  int failures = 0;
  for (const auto& step : kScenario) {
    scenario_minute = step.minute;
    const std::string body = fmt::format(
        "token=demo&team_id=T0DEMO&team_domain=demo&channel_id=C0INCIDENT&channel_name=inc-checkout"
        "&user_id={}&user_name={}&command={}&text={}&response_url=&trigger_id=demo",
        step.user_id, step.user_name, form_encode(step.command), form_encode(step.text));
    const std::string ts = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(clock().time_since_epoch()).count());
    const auto started = std::chrono::steady_clock::now();
    const HttpResult r = client.request(
        "POST", base + "/slack/commands",
        {"Content-Type: application/x-www-form-urlencoded", "X-Slack-Request-Timestamp: " + ts,
         "X-Slack-Signature: " + slack::compute_signature(config.slack_signing_secret, ts, body)},
        body);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
    out << fmt::format("[+{:02}m] @{} › {} {}\n", step.minute, step.user_name, step.command,
                       step.text);
    if (r.status != 200) {
      ++failures;
      out << fmt::format("  ✗ HTTP {} {}{}\n\n", r.status, r.error, r.body);
      continue;
    }
    const auto reply = nlohmann::json::parse(r.body, nullptr, false);
    const std::string visibility = reply.value("response_type", "");
    out << fmt::format("  Scribe ({}, answered in {} µs): {}\n",
                       visibility == "in_channel" ? "to the channel" : "only to you", micros,
                       slack::unescape_mrkdwn(shown_text(reply)));
  }

  const HttpResult draft = client.request("GET", base + "/api/incidents/1/postmortem.md",
                                          {"Authorization: Bearer " + config.api_token});
  out << "\n──── GET /api/incidents/1/postmortem.md ────\n\n" << draft.body << "\n";
  if (draft.status != 200) ++failures;

  service.stop();
  server.join();
  if (keep_database) {
    out << fmt::format("The demo database is kept at {}; try `scribe draft 1` with SCRIBE_DB={}.\n",
                       config.db, config.db);
  } else {
    std::filesystem::remove_all(dir);
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace scribe
