// End-to-end: one `scribe serve` per database file. A second one on the same database
// refuses to start, names the first one's pid, and changes nothing; the first keeps
// serving and delivering its outbox (once). The read-only CLI needs no lock.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/fixture.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::json;

struct CliRun {
  int status = -1;
  std::string output;
};

// Runs `scribe <args>` with `env` to its end (it is expected to end on its own); stdout and
// stderr together.
CliRun run_scribe(const std::map<std::string, std::string>& env, const std::string& args) {
  std::string command;
  for (const auto& [k, v] : env) command += k + "='" + v + "' ";
  command += std::string("timeout 30 ") + SCRIBE_BINARY + " " + args + " 2>&1";
  CliRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) run.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class ProcessLockE2E : public testing::SlackE2E {
 protected:
  std::map<std::string, std::string> same_database() const {
    return {{"SCRIBE_DB", (dir_ / "scribe.db").string()},
            {"SCRIBE_LISTEN", "127.0.0.1:0"},
            {"SCRIBE_SLACK_SIGNING_SECRET", kSecret},
            {"SCRIBE_SLACK_BOT_TOKEN", standin_.token()},
            {"SCRIBE_SLACK_API_URL", standin_.base_url()}};
  }
};

TEST_F(ProcessLockE2E, ASecondServeOnTheSameDatabaseExitsNamingTheFirstAndChangesNothing) {
  slack_->command("/incident", "start sev2 Lock test", "C0LOCK");

  const CliRun second = run_scribe(same_database(), "serve");
  EXPECT_NE(second.status, 0) << second.output;
  EXPECT_THAT(second.output,
              HasSubstr(fmt::format("another scribe (pid {}) is already serving", scribe_->pid())));

  // The first one still serves, and delivers what it enqueues exactly once.
  slack_->command("/timeline", "after the second start was refused", "C0LOCK");
  const json resolved = slack_->command("/incident", "resolved", "C0LOCK");
  EXPECT_THAT(resolved.dump(), HasSubstr("resolved"));
  ASSERT_TRUE(standin_.wait_for_calls("chat.postMessage", 2, 20s));
  const json list = api_json("/api/incidents");
  ASSERT_EQ(list["incidents"].size(), 1u);
  // Once the first process stops, the lock is free again: a restart works.
  restart();
  EXPECT_EQ(incident_count(), 1u);
}

TEST_F(ProcessLockE2E, TheReadOnlyDraftToolWorksWhileServeRuns) {
  slack_->command("/incident", "start sev2 Draft while serving", "C0LOCK");
  slack_->command("/timeline", "a line for the draft", "C0LOCK");
  const CliRun draft = run_scribe({{"SCRIBE_DB", (dir_ / "scribe.db").string()}}, "draft 1");
  EXPECT_EQ(draft.status, 0) << draft.output;
  EXPECT_THAT(draft.output, HasSubstr("a line for the draft"));
}

}  // namespace
}  // namespace scribe
