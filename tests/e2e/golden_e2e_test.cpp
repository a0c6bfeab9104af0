// Golden files: a real, public incident scripted through signed Slack commands to the
// real `scribe serve`, its postmortem in Markdown, HTML and JSON compared byte for byte
// with the files in tests/golden/, the JSON validated against the schema kept in the repo
// (postmortem/schema/draft.schema.json) and the HTML checked to be well-formed.
//
// The incident: the Amazon S3 service disruption in us-east-1 on 2017-02-28, from AWS's
// public "Summary of the Amazon S3 Service Disruption in the Northern Virginia (US-EAST-1)
// Region" (https://aws.amazon.com/message/41926/). Facts taken from it (times converted
// from PST to UTC): at 9:37 AM PST a command from an established playbook, meant to remove
// a small number of servers of a subsystem used by the S3 billing process, was entered
// with one input wrong and removed a larger set, which supported the index and the
// placement subsystems; both needed a full restart; the Service Health Dashboard could
// not be updated until 11:37 AM because its administration console depended on S3; at
// 12:26 PM the index subsystem could serve GET, LIST and DELETE again and was fully
// recovered at 1:18 PM; the placement subsystem was fully recovered at 1:54 PM and S3
// operated normally; the follow-ups (a slower capacity-removal tool that refuses to go
// below a subsystem's minimum capacity, an audit of other tools, partitioning the index
// into cells, the dashboard console across regions). Ours, not the report's: the names
// of the responders, when the incident was declared, the due dates.
//
// The service's clock is held still with libfaketime at chosen times (moved between
// commands), so the drafts come out the same on every run. To regenerate the golden files
// after an intended change: SCRIBE_UPDATE_GOLDEN=1 ctest -R Golden, then review the diff.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <date/date.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/fixture.h"
#include "e2e/socket_fixture.h"

namespace scribe {
namespace {

using json = nlohmann::json;
using testing::CliResult;
using testing::run_shell;
using testing::SlackClient;
using testing::SlackUser;

const SlackUser kAlice{"U0ALICE", "alice"};
const SlackUser kBob{"U0BOB", "bob"};
const SlackUser kCarol{"U0CAROL", "carol"};
const std::string kSource = SCRIBE_SOURCE_DIR;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class GoldenE2E : public testing::ScribeE2E {
 protected:
  // A slash command at the service's (fake) time, as Slack would send it then over the
  // test's Slack mode (over HTTP signed at that time); a failure unless 200 with JSON.
  json say(const SlackUser& user, const std::string& command, const std::string& text) {
    const json reply = command_at_held_time(user, command, text, "C0S3");
    if (reply.is_null()) return reply;
    EXPECT_NE(reply.value("response_type", ""), "") << reply.dump();
    return reply;
  }

  // Compares with tests/golden/<name>, or writes it with SCRIBE_UPDATE_GOLDEN=1.
  void expect_golden(const std::string& name, const std::string& actual) {
    const std::filesystem::path path = std::filesystem::path(kSource) / "tests/golden" / name;
    if (std::getenv("SCRIBE_UPDATE_GOLDEN") != nullptr) {
      write_file(path, actual);
      return;
    }
    ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing";
    const std::string expected = read_file(path);
    if (expected == actual) return;
    const std::filesystem::path got = dir_.parent_path() / ("actual-" + name);
    write_file(got, actual);
    ADD_FAILURE() << name << " differs from the golden file; compare: diff -u " << path << " "
                  << got;
  }
};

// The same draft, byte for byte, whichever Slack mode the commands came over.
using GoldenModesE2E = testing::SlackModes<GoldenE2E>;
INSTANTIATE_TEST_SUITE_P(Modes, GoldenModesE2E, testing::kBothSlackModes, testing::mode_name);

TEST_P(GoldenModesE2E, AwsS3Us_East_1_2017_02_28) {
  clock_at("2017-02-28 17:52:00");
  start_with_fake_clock();
  say(kAlice, "/incident", "start sev1 S3 in us-east-1 is failing requests");
  say(kAlice, "/timeline",
      "17:37 A command from an established playbook, meant to remove a small number of servers "
      "of a subsystem used by the S3 billing process, was run with one input entered "
      "incorrectly; a larger set of servers was removed");
  say(kBob, "/timeline",
      "17:37 #impact S3 in us-east-1 stops serving GET, LIST, PUT and DELETE requests: the "
      "removed servers supported the index and placement subsystems, and both need a full "
      "restart");

  clock_at("2017-02-28 19:40:00");
  say(kCarol, "/timeline",
      "19:37 #comms The Service Health Dashboard shows per-service status again; its "
      "administration console depended on S3, so until now status went out on Twitter "
      "(@AWSCloud) and as banner text");

  clock_at("2017-02-28 20:30:00");
  say(kBob, "/timeline",
      "20:26 The index subsystem has activated enough capacity to serve GET, LIST and DELETE "
      "requests again");

  clock_at("2017-02-28 21:20:00");
  say(kBob, "/timeline",
      "21:18 The index subsystem is fully recovered: GET, LIST and DELETE work normally; the "
      "placement subsystem's recovery begins, PUT still fails");

  clock_at("2017-02-28 21:56:00");
  say(kAlice, "/incident",
      "resolved 21:54 The placement subsystem is fully recovered; S3 operates normally");

  clock_at("2017-02-28 22:30:00");
  say(kAlice, "/incident",
      "summary For 4 hours 17 minutes (17:37 to 21:54 UTC) S3 in us-east-1 could not serve "
      "requests after a capacity-removal command with one wrong input took more servers than "
      "intended out of two core subsystems.");
  say(kBob, "/incident",
      "impact S3 in us-east-1 failed GET, LIST, PUT and DELETE requests for 4h 17m (PUT for "
      "the whole 4h 17m, GET/LIST/DELETE for 2h 49m until 20:26); services in the region that "
      "depend on S3 (the S3 console, new EC2 instance launches, EBS volumes restored from "
      "snapshots, AWS Lambda) were impaired.");
  say(kAlice, "/incident",
      "cause The servers removed supported the index subsystem (metadata and location of "
      "every S3 object in the region) and the placement subsystem (allocation of new "
      "storage); with too little capacity left both needed a full restart, which had not been "
      "done in the larger regions for many years and took longer than expected.");
  say(kAlice, "/incident",
      "trigger A capacity-removal command from a playbook, run with one input entered "
      "incorrectly");
  say(kCarol, "/incident",
      "lesson A tool that removes capacity must check each subsystem's minimum required "
      "capacity before it acts");
  say(kCarol, "/incident", "went-wrong The status dashboard depended on the service it reports on");
  say(kAlice, "/incident", "link https://aws.amazon.com/message/41926/");
  say(kAlice, "/action",
      "Make the capacity-removal tool remove capacity more slowly and refuse to take any "
      "subsystem below its minimum required capacity <@U0BOB|bob> due 2017-03-31 #prevent");
  say(kAlice, "/action",
      "Audit other operational tools for the same minimum-capacity check <@U0CAROL|carol> due "
      "2017-04-30 #prevent");
  say(kAlice, "/action",
      "Partition the index subsystem into smaller cells to shorten its restart <@U0BOB|bob> due "
      "2017-05-31 #mitigate");
  say(kAlice, "/action",
      "Run the Service Health Dashboard administration console in several regions "
      "<@U0ALICE|alice> due 2017-03-15 #process");

  const HttpResult md = api("/api/incidents/1/postmortem.md");
  const HttpResult html = api("/api/incidents/1/postmortem.html");
  const HttpResult js = api("/api/incidents/1/postmortem.json");
  ASSERT_EQ(md.status, 200) << md.body;
  ASSERT_EQ(html.status, 200) << html.body;
  ASSERT_EQ(js.status, 200) << js.body;
  // The published facts, whatever the layout: 4h 17m of customer impact.
  EXPECT_NE(md.body.find("- **Customer impact:** 4h 17m 00s (impact began 2017-02-28 17:37:00 "
                         "UTC → resolved 2017-02-28 21:54:00 UTC"),
            std::string::npos)
      << md.body;
  EXPECT_EQ(json::parse(js.body)["customer_impact"]["seconds"], 4 * 3600 + 17 * 60);

  expect_golden("aws-s3-2017-02-28.md", md.body);
  expect_golden("aws-s3-2017-02-28.html", html.body);
  expect_golden("aws-s3-2017-02-28.json", js.body);

  write_file(dir_ / "draft.json", js.body);
  write_file(dir_ / "draft.html", html.body);
  const CliResult schema =
      run_shell("python3 '" + kSource + "/tests/support/check_draft.py' schema '" + kSource +
                "/postmortem/schema/draft.schema.json' '" + (dir_ / "draft.json").string() + "'");
  EXPECT_EQ(schema.status, 0) << schema.out;
  const CliResult well_formed =
      run_shell("python3 '" + kSource + "/tests/support/check_draft.py' html '" +
                (dir_ / "draft.html").string() + "'");
  EXPECT_EQ(well_formed.status, 0) << well_formed.out;
}

// The checks themselves catch what they are for: a draft missing a required field or with a
// wrongly typed one fails the schema; an unclosed element fails the HTML check.
TEST_F(GoldenE2E, TheChecksRefuseBrokenDrafts) {
  slack_->command("/incident", "start sev2 Checks", "C0CHK", kAlice);
  json draft = api_json("/api/incidents/1/postmortem.json");
  const std::string checker = "python3 '" + kSource + "/tests/support/check_draft.py' ";
  const std::string schema = "'" + kSource + "/postmortem/schema/draft.schema.json' ";
  auto check_json = [&](const json& j) {
    write_file(dir_ / "x.json", j.dump());
    return run_shell(checker + "schema " + schema + "'" + (dir_ / "x.json").string() + "'");
  };
  EXPECT_EQ(check_json(draft).status, 0) << check_json(draft).out;
  json missing = draft;
  missing.erase("customer_impact");
  EXPECT_EQ(check_json(missing).status, 1);
  json wrong = draft;
  wrong["incident"]["severity"] = "sev9";
  const CliResult r = check_json(wrong);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("incident/severity"), std::string::npos) << r.out;

  const std::string page = api("/api/incidents/1/postmortem.html").body;
  write_file(dir_ / "ok.html", page);
  EXPECT_EQ(run_shell(checker + "html '" + (dir_ / "ok.html").string() + "'").status, 0);
  std::string broken = page;
  broken.insert(broken.find("</body>"), "<table><tr><td>x</td>");
  write_file(dir_ / "bad.html", broken);
  EXPECT_EQ(run_shell(checker + "html '" + (dir_ / "bad.html").string() + "'").status, 1);
}

}  // namespace
}  // namespace scribe
