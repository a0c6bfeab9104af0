// Configuration: defaults, then a TOML file, then the environment (which wins); every
// value validated with the offending key named; secrets never in describe().
#include "bot/config.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

#include <date/tz.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.h"

namespace scribe {
namespace {

using testing::HasSubstr;
using testing::Not;

class ConfigTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("scribe_config_", dir_)); }
  void TearDown() override { test::remove_temp_dir(dir_); }

  std::string write_toml(std::string_view text, std::string_view name = "scribe.toml") {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // The injected environment: only what the test sets, never the process's own.
  EnvLookup env() const {
    return [vars = env_](const char* name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }

  Config load(const std::optional<std::string>& toml = std::nullopt) {
    return load_config(toml, env());
  }

  // The ConfigError message for a configuration that must be refused.
  std::string error_of(const std::optional<std::string>& toml) {
    try {
      load(toml);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "the configuration was accepted";
    return {};
  }

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(ConfigTest, Defaults) {
  const Config c = load();
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 8080);
  EXPECT_EQ(c.db, "scribe.db");
  EXPECT_EQ(c.sqlite_synchronous, "normal");
  EXPECT_EQ(c.timezone, "UTC");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.api_token, "");
  EXPECT_EQ(c.slack_signing_secret, "");
  EXPECT_EQ(c.slack_bot_token, "");
  EXPECT_EQ(c.slack_api_url, "https://slack.com/api");
  EXPECT_EQ(c.matrix_homeserver_url, "");
  EXPECT_EQ(c.matrix_as_token, "");
  EXPECT_EQ(c.matrix_hs_token, "");
  EXPECT_EQ(c.matrix_user_id, "");
  EXPECT_EQ(c.max_body_bytes, 64u * 1024u);
  EXPECT_EQ(c.read_timeout, std::chrono::seconds(10));
  EXPECT_EQ(c.idle_timeout, std::chrono::seconds(75));
  EXPECT_EQ(c.shutdown_grace, std::chrono::seconds(10));
  EXPECT_EQ(c.threads, 0);  // one per core
}

TEST_F(ConfigTest, TomlSetsEveryValue) {
  const std::string path = write_toml(R"toml(
listen = "0.0.0.0:9000"
db = "/var/lib/scribe/scribe.db"
timezone = "Europe/Berlin"
log_level = "debug"
api_token = "api-token-value"

[storage]
sqlite_synchronous = "full"

[slack]
signing_secret = "slack-signing-value"
bot_token = "xoxb-value"
api_url = "http://127.0.0.1:9999/api"

[matrix]
homeserver_url = "https://matrix.example.org"
as_token = "as-token-value"
hs_token = "hs-token-value"
user_id = "@scribe:example.org"

[server]
max_body_bytes = 1024
read_timeout_seconds = 5
idle_timeout_seconds = "30"
shutdown_grace_seconds = 3
threads = 4
)toml");
  const Config c = load(path);
  EXPECT_EQ(c.listen_host, "0.0.0.0");
  EXPECT_EQ(c.listen_port, 9000);
  EXPECT_EQ(c.db, "/var/lib/scribe/scribe.db");
  EXPECT_EQ(c.timezone, "Europe/Berlin");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.api_token, "api-token-value");
  EXPECT_EQ(c.sqlite_synchronous, "full");
  EXPECT_EQ(c.slack_signing_secret, "slack-signing-value");
  EXPECT_EQ(c.slack_bot_token, "xoxb-value");
  EXPECT_EQ(c.slack_api_url, "http://127.0.0.1:9999/api");
  EXPECT_EQ(c.matrix_homeserver_url, "https://matrix.example.org");
  EXPECT_EQ(c.matrix_as_token, "as-token-value");
  EXPECT_EQ(c.matrix_hs_token, "hs-token-value");
  EXPECT_EQ(c.matrix_user_id, "@scribe:example.org");
  EXPECT_EQ(c.max_body_bytes, 1024u);
  EXPECT_EQ(c.read_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c.idle_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.shutdown_grace, std::chrono::seconds(3));
  EXPECT_EQ(c.threads, 4);
}

TEST_F(ConfigTest, DottedTomlKeysWorkLikeTables) {
  const Config c = load(write_toml("slack.signing_secret = \"s\"\nserver.threads = 3\n"));
  EXPECT_EQ(c.slack_signing_secret, "s");
  EXPECT_EQ(c.threads, 3);
}

TEST_F(ConfigTest, EnvironmentAlone) {
  env_ = {{"SCRIBE_LISTEN", "127.0.0.1:9100"},
          {"SCRIBE_DB", "/tmp/x.db"},
          {"SCRIBE_API_TOKEN", "t"},
          {"SCRIBE_SLACK_SIGNING_SECRET", "s"},
          {"SCRIBE_SLACK_BOT_TOKEN", "b"},
          {"SCRIBE_SLACK_API_URL", "http://localhost:1/api"},
          {"SCRIBE_MATRIX_HOMESERVER_URL", "https://hs"},
          {"SCRIBE_MATRIX_AS_TOKEN", "as"},
          {"SCRIBE_MATRIX_HS_TOKEN", "hs"},
          {"SCRIBE_MATRIX_USER_ID", "@scribe:hs"}};
  const Config c = load();
  EXPECT_EQ(c.listen_port, 9100);
  EXPECT_EQ(c.db, "/tmp/x.db");
  EXPECT_EQ(c.api_token, "t");
  EXPECT_EQ(c.slack_signing_secret, "s");
  EXPECT_EQ(c.slack_bot_token, "b");
  EXPECT_EQ(c.slack_api_url, "http://localhost:1/api");
  EXPECT_EQ(c.matrix_homeserver_url, "https://hs");
  EXPECT_EQ(c.matrix_as_token, "as");
  EXPECT_EQ(c.matrix_hs_token, "hs");
  EXPECT_EQ(c.matrix_user_id, "@scribe:hs");
}

TEST_F(ConfigTest, EnvironmentWinsOverToml) {
  const std::string path = write_toml(R"toml(
listen = "0.0.0.0:9000"
db = "from-toml.db"
api_token = "from-toml"
[slack]
signing_secret = "toml-secret"
bot_token = "toml-bot"
[server]
threads = 4
)toml");
  env_ = {{"SCRIBE_LISTEN", "127.0.0.1:9100"},
          {"SCRIBE_API_TOKEN", "from-env"},
          {"SCRIBE_SLACK_SIGNING_SECRET", "env-secret"},
          {"SCRIBE_THREADS", "8"}};
  const Config c = load(path);
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 9100);
  EXPECT_EQ(c.api_token, "from-env");
  EXPECT_EQ(c.slack_signing_secret, "env-secret");
  EXPECT_EQ(c.threads, 8);
  // What the environment does not set, the file still does.
  EXPECT_EQ(c.db, "from-toml.db");
  EXPECT_EQ(c.slack_bot_token, "toml-bot");
}

TEST_F(ConfigTest, UnknownTomlKeyIsRejectedByName) {
  EXPECT_THAT(error_of(write_toml("[slack]\nsigning_secert = \"oops\"\n")),
              HasSubstr("unknown setting 'slack.signing_secert'"));
  EXPECT_THAT(error_of(write_toml("listn = \"127.0.0.1:1\"\n")),
              HasSubstr("unknown setting 'listn'"));
  EXPECT_THAT(error_of(write_toml("[slak]\nbot_token = \"x\"\n")), HasSubstr("'slak.bot_token'"));
  // A table where a value belongs is unknown too.
  EXPECT_THAT(error_of(write_toml("slack = \"x\"\n")), HasSubstr("'slack'"));
}

TEST_F(ConfigTest, UnreadableTomlIsAConfigError) {
  const std::string bad = write_toml("listen = \"127.0.0.1:1\nthreads = \n");
  EXPECT_THAT(error_of(bad), HasSubstr(bad));
  const std::string missing = (dir_ / "missing.toml").string();
  EXPECT_THAT(error_of(missing), HasSubstr(missing));
}

TEST_F(ConfigTest, WrongTomlTypeIsRejectedByName) {
  // true/false are read for the settings that take them (tracker.auto_track); elsewhere the
  // setting itself refuses the word, still by name.
  EXPECT_THAT(error_of(write_toml("[server]\nthreads = true\n")),
              HasSubstr("server.threads: 'true' must be a positive whole number"));
  EXPECT_THAT(error_of(write_toml("api_token = [\"a\", \"b\"]\n")), HasSubstr("'api_token'"));
  EXPECT_THAT(error_of(write_toml("[server]\nread_timeout_seconds = 1.5\n")),
              HasSubstr("'server.read_timeout_seconds'"));
}

TEST_F(ConfigTest, ListenForms) {
  struct Case {
    const char* listen;
    const char* host;
    int port;
  };
  for (const Case& want : {Case{"[::1]:9443", "::1", 9443}, Case{":9001", "127.0.0.1", 9001},
                           Case{"localhost:65535", "localhost", 65535}}) {
    env_ = {{"SCRIBE_LISTEN", want.listen}};
    const Config c = load();
    EXPECT_EQ(c.listen_host, want.host) << want.listen;
    EXPECT_EQ(c.listen_port, want.port) << want.listen;
  }

  // Port 0 asks the system for a free port (tests and `scribe demo` rely on it).
  env_ = {{"SCRIBE_LISTEN", "127.0.0.1:0"}};
  EXPECT_EQ(load().listen_port, 0);
}

TEST_F(ConfigTest, BadListenIsRejected) {
  for (const char* bad : {"127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:-1", "127.0.0.1:http",
                          "127.0.0.1:", "127.0.0.1:80x", "localhost", "", "127.0.0.1:4294967297"}) {
    env_ = {{"SCRIBE_LISTEN", bad}};
    const std::string message = error_of(std::nullopt);
    EXPECT_THAT(message, HasSubstr("SCRIBE_LISTEN")) << bad;
  }
  EXPECT_THAT(error_of(write_toml("listen = \"0.0.0.0:70000\"\n")), HasSubstr("listen"));
  EXPECT_THAT(error_of(write_toml("listen = 8080\n")), HasSubstr("listen"));
}

TEST_F(ConfigTest, NumbersMustBePositiveWholeNumbers) {
  for (const char* name : {"SCRIBE_THREADS", "SCRIBE_MAX_BODY_BYTES", "SCRIBE_READ_TIMEOUT_SECONDS",
                           "SCRIBE_IDLE_TIMEOUT_SECONDS", "SCRIBE_SHUTDOWN_GRACE_SECONDS"}) {
    for (const char* bad : {"0", "-1", "abc", "10s", ""}) {
      env_ = {{name, bad}};
      EXPECT_THAT(error_of(std::nullopt), HasSubstr(name)) << name << "=" << bad;
    }
  }
  EXPECT_THAT(error_of(write_toml("[server]\nthreads = 0\n")), HasSubstr("server.threads"));
}

TEST_F(ConfigTest, ThreadsAreCapped) {
  env_ = {{"SCRIBE_THREADS", "100000"}};
  EXPECT_EQ(load().threads, 64);
}

TEST_F(ConfigTest, SqliteSynchronousIsValidated) {
  env_ = {{"SCRIBE_SQLITE_SYNCHRONOUS", "full"}};
  EXPECT_EQ(load().sqlite_synchronous, "full");
  env_ = {{"SCRIBE_SQLITE_SYNCHRONOUS", "off"}};
  EXPECT_THAT(error_of(std::nullopt), HasSubstr("sqlite_synchronous"));
  env_.clear();
  EXPECT_THAT(error_of(write_toml("[storage]\nsqlite_synchronous = \"extra\"\n")),
              HasSubstr("'extra'"));
}

TEST_F(ConfigTest, DbPoolSizeIsValidated) {
  EXPECT_EQ(load().db_pool_size, 4);
  env_ = {{"SCRIBE_DB_POOL_SIZE", "12"}};
  EXPECT_EQ(load().db_pool_size, 12);
  for (const char* bad : {"0", "-1", "many", "101"}) {
    env_ = {{"SCRIBE_DB_POOL_SIZE", bad}};
    EXPECT_THAT(error_of(std::nullopt), HasSubstr("SCRIBE_DB_POOL_SIZE")) << bad;
  }
  env_.clear();
  EXPECT_EQ(load(write_toml("[storage]\ndb_pool_size = 2\n")).db_pool_size, 2);
}

TEST_F(ConfigTest, ClaimLeaseIsValidated) {
  EXPECT_EQ(load().claim_lease, std::chrono::seconds(60));
  env_ = {{"SCRIBE_CLAIM_LEASE_SECONDS", "5"}};
  EXPECT_EQ(load().claim_lease, std::chrono::seconds(5));
  for (const char* bad : {"0", "4", "-1", "soon", "3601"}) {
    env_ = {{"SCRIBE_CLAIM_LEASE_SECONDS", bad}};
    EXPECT_THAT(error_of(std::nullopt), HasSubstr("SCRIBE_CLAIM_LEASE_SECONDS")) << bad;
  }
  env_.clear();
  EXPECT_EQ(load(write_toml("[storage]\nclaim_lease_seconds = 120\n")).claim_lease,
            std::chrono::seconds(120));
}

TEST_F(ConfigTest, DbMustNotBeEmpty) {
  env_ = {{"SCRIBE_DB", ""}};
  EXPECT_THAT(error_of(std::nullopt), HasSubstr("db"));
}

TEST_F(ConfigTest, LogLevelIsValidated) {
  for (const char* ok : {"trace", "debug", "info", "warn", "warning", "error", "critical", "off"}) {
    env_ = {{"SCRIBE_LOG_LEVEL", ok}};
    EXPECT_EQ(load().log_level, ok);
  }
  // A typo must not silently switch logging off.
  env_ = {{"SCRIBE_LOG_LEVEL", "debgu"}};
  const std::string message = error_of(std::nullopt);
  EXPECT_THAT(message, HasSubstr("SCRIBE_LOG_LEVEL"));
  EXPECT_THAT(message, HasSubstr("'debgu'"));
  env_.clear();
  EXPECT_THAT(error_of(write_toml("log_level = \"verbose\"\n")), HasSubstr("log_level"));
}

TEST_F(ConfigTest, SlackSocketModeSettings) {
  EXPECT_EQ(load().slack_app_token, "");
  EXPECT_EQ(load().slack_socket_idle_timeout, std::chrono::seconds(60));
  const Config c = load(
      write_toml("[slack]\napp_token = \"xapp-1-A0-TOML\"\nsocket_idle_timeout_seconds = 20\n"));
  EXPECT_EQ(c.slack_app_token, "xapp-1-A0-TOML");
  EXPECT_EQ(c.slack_socket_idle_timeout, std::chrono::seconds(20));
  env_ = {{"SCRIBE_SLACK_APP_TOKEN", "xapp-1-A0-ENV"}};
  EXPECT_EQ(load().slack_app_token, "xapp-1-A0-ENV");
  // A bot token or signing secret in its place is a clear error, not a silent failure.
  env_ = {{"SCRIBE_SLACK_APP_TOKEN", "xoxb-123-bot"}};
  EXPECT_THAT(error_of(std::nullopt), HasSubstr("SCRIBE_SLACK_APP_TOKEN"));
  EXPECT_THAT(error_of(std::nullopt), HasSubstr("xapp-"));
  EXPECT_THAT(error_of(std::nullopt), Not(HasSubstr("xoxb-123-bot")));
  env_ = {{"SCRIBE_SLACK_SOCKET_IDLE_TIMEOUT_SECONDS", "0"}};
  EXPECT_THAT(error_of(std::nullopt), HasSubstr("SCRIBE_SLACK_SOCKET_IDLE_TIMEOUT_SECONDS"));
  env_ = {{"SCRIBE_SLACK_APP_TOKEN", "xapp-1-A0-SECRET-7777"}};
  const std::string line = describe(load());
  EXPECT_THAT(line, HasSubstr("slack_app_token=set"));
  EXPECT_THAT(line, Not(HasSubstr("7777")));
}

TEST_F(ConfigTest, ErrorsInTheEnvironmentWinToo) {
  // A valid file does not excuse a broken environment variable.
  env_ = {{"SCRIBE_LISTEN", "nope"}};
  EXPECT_THAT(error_of(write_toml("listen = \"127.0.0.1:9000\"\n")), HasSubstr("SCRIBE_LISTEN"));
}

TEST_F(ConfigTest, DescribeNeverShowsSecrets) {
  const std::string path = write_toml(R"toml(
api_token = "TOML-API-TOKEN-1111"
[slack]
signing_secret = "TOML-SLACK-SIGNING-2222"
)toml");
  env_ = {{"SCRIBE_SLACK_BOT_TOKEN", "xoxb-ENV-BOT-3333"},
          {"SCRIBE_MATRIX_AS_TOKEN", "ENV-AS-TOKEN-4444"},
          {"SCRIBE_MATRIX_HS_TOKEN", "ENV-HS-TOKEN-5555"},
          {"SCRIBE_DB", "postgresql://scribe:PG-PASSWORD-6666@db.internal:5432/scribe"}};
  const Config c = load(path);
  ASSERT_EQ(c.api_token, "TOML-API-TOKEN-1111");  // the secrets did load
  ASSERT_EQ(c.matrix_hs_token, "ENV-HS-TOKEN-5555");

  const std::string line = describe(c);
  for (const char* secret :
       {"TOML-API-TOKEN-1111", "TOML-SLACK-SIGNING-2222", "xoxb-ENV-BOT-3333", "ENV-AS-TOKEN-4444",
        "ENV-HS-TOKEN-5555", "PG-PASSWORD-6666", "1111", "2222", "3333", "4444", "5555", "6666"}) {
    EXPECT_THAT(line, Not(HasSubstr(secret))) << line;
  }
  EXPECT_THAT(line, HasSubstr("api_token=set"));
  EXPECT_THAT(line, HasSubstr("slack_signing_secret=set"));
  EXPECT_THAT(line, HasSubstr("slack_bot_token=set"));
  EXPECT_THAT(line, HasSubstr("matrix_as_token=set"));
  EXPECT_THAT(line, HasSubstr("matrix_hs_token=set"));
  EXPECT_THAT(line, HasSubstr("db=postgresql://"));
}

TEST_F(ConfigTest, DescribeHidesPasswordsInUrls) {
  env_ = {{"SCRIBE_SLACK_API_URL", "https://proxy-user:PROXY-PASSWORD-7777@proxy.internal/api"},
          {"SCRIBE_MATRIX_HOMESERVER_URL", "https://hs:HS-PASSWORD-8888@matrix.internal"}};
  const std::string line = describe(load());
  EXPECT_THAT(line, Not(HasSubstr("PROXY-PASSWORD-7777")));
  EXPECT_THAT(line, Not(HasSubstr("HS-PASSWORD-8888")));
  EXPECT_THAT(line, HasSubstr("slack_api_url=https://…@proxy.internal/api"));
}

TEST_F(ConfigTest, UnknownTimezoneIsRejected) {
  env_ = {{"SCRIBE_TIMEZONE", "Mars/Olympus_Mons"}};
  EXPECT_THAT(error_of(std::nullopt), HasSubstr("Mars/Olympus_Mons"));
  env_ = {{"SCRIBE_TIMEZONE", "Europe/Berlin"}};
  EXPECT_EQ(load().timezone, "Europe/Berlin");
}

TEST_F(ConfigTest, DraftTemplateIsCompiledWhileLoading) {
  const std::string good = write_toml("# {{incident.ref}}\n", "good.mustache");
  EXPECT_EQ(load(write_toml("[draft]\ntemplate = \"" + good + "\"\n")).draft_template_path, good);
  EXPECT_NE(load(write_toml("[draft]\ntemplate = \"" + good + "\"\n")).draft_template, nullptr);
  EXPECT_EQ(load().draft_template, nullptr);  // none: Scribe's own draft
  EXPECT_EQ(load().draft_template_error, "");
}

// A broken template is no reason to stop recording incidents: the configuration loads,
// without the template, and says what is wrong where.
TEST_F(ConfigTest, BrokenDraftTemplateLoadsWithoutItAndSaysWhy) {
  const std::string broken =
      write_toml("# {{incident.ref}}\n\n{{#actions}}\n- {{text}}\n", "broken.mustache");
  env_ = {{"SCRIBE_DRAFT_TEMPLATE", broken}};
  const Config c = load();
  EXPECT_EQ(c.draft_template, nullptr);
  EXPECT_EQ(c.draft_template_path, broken);
  EXPECT_EQ(c.draft_template_error,
            "draft.template: " + broken + ": line 3, column 1: Unclosed section \"actions\"");
  env_ = {{"SCRIBE_DRAFT_TEMPLATE", (dir_ / "absent.mustache").string()}};
  EXPECT_EQ(load().draft_template, nullptr);
  EXPECT_THAT(load().draft_template_error, HasSubstr("absent.mustache: cannot be read"));
}

TEST_F(ConfigTest, DescribeShowsTheSettings) {
  const std::string line = describe(load());
  EXPECT_THAT(line, HasSubstr("listen=127.0.0.1:8080"));
  EXPECT_THAT(line, HasSubstr("db=scribe.db"));
  EXPECT_THAT(line, HasSubstr("timezone=UTC"));
  EXPECT_THAT(line, HasSubstr("api_token=unset"));
  EXPECT_THAT(line, HasSubstr("slack_signing_secret=unset"));
  EXPECT_THAT(line, HasSubstr("matrix_hs_token=unset"));
  EXPECT_EQ(line.find('\n'), std::string::npos);  // one log line
}

// ---------------------------------------------------------------------------- reminders

TEST_F(ConfigTest, ReminderDefaultsAreWhatAnSreExpects) {
  const Config c = load();
  EXPECT_EQ(c.reminder_time_of_day, std::chrono::hours(9));
  EXPECT_EQ(c.reminder_overdue_interval, std::chrono::hours(24));
  EXPECT_EQ(c.reminder_meeting_after, std::chrono::hours(24));
  EXPECT_EQ(c.reminder_meeting_interval, std::chrono::hours(24));
  EXPECT_EQ(c.reminder_followup_days, 14);
  ASSERT_TRUE(c.reminder_quiet_hours.has_value());
  EXPECT_EQ(to_string(*c.reminder_quiet_hours), "20:00-08:00");

  const ReminderSettings r = reminder_settings(c);
  ASSERT_NE(r.zone, nullptr);
  EXPECT_EQ(r.time_of_day, std::chrono::hours(9));
  EXPECT_EQ(r.followup_after, std::chrono::days(14));
  EXPECT_EQ(r.quiet_hours, c.reminder_quiet_hours);
}

TEST_F(ConfigTest, RemindersFromToml) {
  const std::string path = write_toml(R"toml(
timezone = "Europe/Berlin"
[reminders]
time_of_day = "10:30"
overdue_interval_hours = 48
meeting_after_hours = "36"
meeting_interval_hours = 12
followup_days = 21
quiet_hours = "22:00-07:00"
)toml");
  const Config c = load(path);
  EXPECT_EQ(c.reminder_time_of_day, std::chrono::minutes(10 * 60 + 30));
  EXPECT_EQ(c.reminder_overdue_interval, std::chrono::hours(48));
  EXPECT_EQ(c.reminder_meeting_after, std::chrono::hours(36));
  EXPECT_EQ(c.reminder_meeting_interval, std::chrono::hours(12));
  EXPECT_EQ(c.reminder_followup_days, 21);
  EXPECT_EQ(c.reminder_quiet_hours, (QuietHours{std::chrono::hours(22), std::chrono::hours(7)}));

  const ReminderSettings r = reminder_settings(c);
  EXPECT_EQ(r.zone->name(), "Europe/Berlin");
  EXPECT_EQ(r.time_of_day, std::chrono::minutes(10 * 60 + 30));
  EXPECT_EQ(r.overdue_interval, std::chrono::hours(48));
  EXPECT_EQ(r.meeting_after, std::chrono::hours(36));
  EXPECT_EQ(r.meeting_interval, std::chrono::hours(12));
  EXPECT_EQ(r.followup_after, std::chrono::days(21));

  const std::string line = describe(c);
  EXPECT_THAT(line, HasSubstr("reminders.time_of_day=10:30"));
  EXPECT_THAT(line, HasSubstr("reminders.quiet_hours=22:00-07:00"));
  EXPECT_THAT(line, HasSubstr("reminders.followup_days=21"));
}

TEST_F(ConfigTest, RemindersFromTheEnvironmentWinOverToml) {
  const std::string path = write_toml("[reminders]\ntime_of_day = \"10:30\"\nfollowup_days = 21\n");
  env_ = {{"SCRIBE_REMINDER_TIME_OF_DAY", "08:15"},
          {"SCRIBE_REMINDER_OVERDUE_INTERVAL_HOURS", "12"},
          {"SCRIBE_REMINDER_MEETING_AFTER_HOURS", "48"},
          {"SCRIBE_REMINDER_MEETING_INTERVAL_HOURS", "72"},
          {"SCRIBE_REMINDER_FOLLOWUP_DAYS", "7"},
          {"SCRIBE_REMINDER_QUIET_HOURS", "off"}};
  const Config c = load(path);
  EXPECT_EQ(c.reminder_time_of_day, std::chrono::minutes(8 * 60 + 15));
  EXPECT_EQ(c.reminder_overdue_interval, std::chrono::hours(12));
  EXPECT_EQ(c.reminder_meeting_after, std::chrono::hours(48));
  EXPECT_EQ(c.reminder_meeting_interval, std::chrono::hours(72));
  EXPECT_EQ(c.reminder_followup_days, 7);
  EXPECT_EQ(c.reminder_quiet_hours, std::nullopt);
  EXPECT_THAT(describe(c), HasSubstr("reminders.quiet_hours=off"));
  EXPECT_EQ(reminder_settings(c).quiet_hours, std::nullopt);
}

TEST_F(ConfigTest, ReminderSettingsAreValidated) {
  for (const char* bad : {"9:00", "24:00", "09:60", "0900", "09:00:00", "nine", ""}) {
    env_ = {{"SCRIBE_REMINDER_TIME_OF_DAY", bad}};
    EXPECT_THAT(error_of(std::nullopt), HasSubstr("SCRIBE_REMINDER_TIME_OF_DAY")) << bad;
  }
  for (const char* bad : {"20:00", "20:00-20:00", "20:00-8:00", "20-08", "always", ""}) {
    env_ = {{"SCRIBE_REMINDER_QUIET_HOURS", bad}};
    EXPECT_THAT(error_of(std::nullopt), HasSubstr("SCRIBE_REMINDER_QUIET_HOURS")) << bad;
  }
  for (const char* name :
       {"SCRIBE_REMINDER_OVERDUE_INTERVAL_HOURS", "SCRIBE_REMINDER_MEETING_AFTER_HOURS",
        "SCRIBE_REMINDER_MEETING_INTERVAL_HOURS", "SCRIBE_REMINDER_FOLLOWUP_DAYS"}) {
    for (const char* bad : {"0", "-1", "1.5", "24h", "100000"}) {
      env_ = {{name, bad}};
      EXPECT_THAT(error_of(std::nullopt), HasSubstr(name)) << name << "=" << bad;
    }
  }
  env_.clear();
  EXPECT_THAT(error_of(write_toml("[reminders]\nquiet_hours = \"late\"\n")),
              HasSubstr("reminders.quiet_hours"));
  EXPECT_THAT(error_of(write_toml("[reminders]\nfollowup_day = 3\n")),
              HasSubstr("unknown setting 'reminders.followup_day'"));
  // Quiet hours that do not wrap midnight are fine too.
  env_ = {{"SCRIBE_REMINDER_QUIET_HOURS", "12:00-13:30"}};
  EXPECT_EQ(load().reminder_quiet_hours,
            (QuietHours{std::chrono::hours(12), std::chrono::minutes(13 * 60 + 30)}));
}

TEST_F(ConfigTest, MaxConnectionsIsDerivedUnlessSet) {
  EXPECT_EQ(load().max_connections, 0u);  // derived from RLIMIT_NOFILE by the listener
  EXPECT_THAT(describe(load()), HasSubstr("max_connections=auto"));
  const std::string path = write_toml("[server]\nmax_connections = 500\n");
  EXPECT_EQ(load(path).max_connections, 500u);
  env_ = {{"SCRIBE_MAX_CONNECTIONS", "2000"}};
  EXPECT_EQ(load(path).max_connections, 2000u);
  EXPECT_THAT(describe(load(path)), HasSubstr("max_connections=2000"));
  for (const char* bad : {"0", "-5", "many", "1.5"}) {
    env_ = {{"SCRIBE_MAX_CONNECTIONS", bad}};
    EXPECT_THAT(error_of(std::nullopt), HasSubstr("SCRIBE_MAX_CONNECTIONS")) << bad;
  }
}

// --- [review] ----------------------------------------------------------------------------

TEST_F(ConfigTest, ReviewDefaultsAreTheEnginesOwn) {
  const Config c = load();
  const ReviewSettings defaults;
  EXPECT_TRUE(c.review.blame && c.review.vague && c.review.unactionable && c.review.coverage &&
              c.review.missing);
  EXPECT_EQ(c.review.blame_words, default_blame_words());
  EXPECT_EQ(c.review.vague_verbs, default_vague_verbs());
  EXPECT_EQ(c.review.action_horizon_days, 90);
  EXPECT_EQ(c.review.coverage_severities, defaults.coverage_severities);
  EXPECT_EQ(c.review.detect_threshold, std::chrono::minutes{15});
  EXPECT_EQ(c.review.timeline_gap, std::chrono::minutes{30});
  EXPECT_THAT(describe(c), HasSubstr("review=blame,vague,unactionable,coverage,missing"));
}

TEST_F(ConfigTest, ReviewTableSetsSwitchesListsAndThresholds) {
  const Config c =
      load(write_toml("[review]\n"
                      "vague = false\n"
                      "coverage = false\n"
                      "blame_words = [\"forgot\", \"Didn’t bother\"]\n"
                      "extra_blame_words = [\"fat-fingered\"]\n"
                      "extra_person_words = [\"the contractor\"]\n"
                      "measurable_nouns = [\"checkouts\"]\n"
                      "extra_vague_verbs = [\"socialise\"]\n"
                      "action_horizon_days = 60\n"
                      "coverage_severities = [\"sev1\", \"SEV-2\", \"3\"]\n"
                      "detect_threshold_minutes = 5\n"
                      "timeline_gap_minutes = 45\n"));
  EXPECT_TRUE(c.review.blame);
  EXPECT_FALSE(c.review.vague);
  EXPECT_FALSE(c.review.coverage);
  // Replaced, then extended, whatever the order in the file.
  EXPECT_EQ(c.review.blame_words,
            (std::vector<std::string>{"forgot", "Didn’t bother", "fat-fingered"}));
  std::vector<std::string> persons = default_person_words();
  persons.push_back("the contractor");
  EXPECT_EQ(c.review.person_words, persons);
  EXPECT_EQ(c.review.measurable_nouns, std::vector<std::string>{"checkouts"});
  EXPECT_EQ(c.review.vague_verbs.back(), "socialise");
  EXPECT_EQ(c.review.vague_verbs.size(), default_vague_verbs().size() + 1);
  EXPECT_EQ(c.review.action_horizon_days, 60);
  EXPECT_EQ(c.review.coverage_severities,
            (std::vector<Severity>{Severity::kSev1, Severity::kSev2, Severity::kSev3}));
  EXPECT_EQ(c.review.detect_threshold, std::chrono::minutes{5});
  EXPECT_EQ(c.review.timeline_gap, std::chrono::minutes{45});
  EXPECT_THAT(describe(c), HasSubstr("review=blame,unactionable,missing"));

  // The settings reach the engine: the configured word is blame, "neglected" no longer is.
  Note n;
  n.section = NoteSection::kWentWrong;
  n.text = "the contractor fat-fingered the DNS";
  const Reviewer reviewer(c.review);
  EXPECT_EQ(reviewer.review_entry(n, {}).size(), 1u);
  n.text = "the contractor neglected the DNS";
  EXPECT_TRUE(reviewer.review_entry(n, {}).empty());

  // Everything off, and no coverage severities at all.
  const Config off = load(write_toml(
      "review.blame = false\nreview.vague = false\nreview.unactionable = false\n"
      "review.coverage = false\nreview.missing = false\nreview.coverage_severities = []\n",
      "off.toml"));
  EXPECT_TRUE(off.review.coverage_severities.empty());
  EXPECT_THAT(describe(off), HasSubstr("review=off"));
}

TEST_F(ConfigTest, BadReviewSettingsAreRejectedByName) {
  const std::pair<const char*, const char*> cases[] = {
      {"[review]\nblam = false\n", "unknown setting 'review.blam'"},
      {"[review]\nextra_blame_wrds = [\"x\"]\n", "unknown setting 'review.extra_blame_wrds'"},
      {"[review.blame]\nwords = [\"x\"]\n", "review.blame must be true or false"},
      {"[review.rules]\nblame = false\n", "unknown setting 'review.rules'"},
      {"[review]\nblame = \"no\"\n", "review.blame must be true or false"},
      {"[review]\nblame_words = \"forgot\"\n", "review.blame_words must be a list"},
      {"[review]\nblame_words = [\"forgot\", 3]\n", "review.blame_words: every entry"},
      {"[review]\nextra_vague_verbs = [\"  \"]\n", "review.extra_vague_verbs: an entry is empty"},
      {"[review]\naction_horizon_days = 0\n", "review.action_horizon_days must be"},
      {"[review]\naction_horizon_days = \"90\"\n", "review.action_horizon_days must be"},
      {"[review]\ndetect_threshold_minutes = -5\n", "review.detect_threshold_minutes must be"},
      {"[review]\ntimeline_gap_minutes = 1.5\n", "review.timeline_gap_minutes must be"},
      {"[review]\ncoverage_severities = [\"sev9\"]\n", "'sev9' is not a severity"},
  };
  for (const auto& [toml, message] : cases) {
    EXPECT_THAT(error_of(write_toml(toml)), HasSubstr(message)) << toml;
  }
}

// --- [close_gate] ------------------------------------------------------------------------

TEST_F(ConfigTest, CloseGateDefaultsAndOverrides) {
  const Config defaults = load(std::nullopt);
  const CloseRequirements& sev1 = defaults.close_gate.by_severity.at(Severity::kSev1);
  EXPECT_TRUE(sev1.summary && sev1.impact && sev1.cause && sev1.owner && sev1.prevent &&
              sev1.no_blame);
  EXPECT_EQ(sev1.approvals, 1);
  const CloseRequirements& sev4 = defaults.close_gate.by_severity.at(Severity::kSev4);
  EXPECT_TRUE(sev4.summary && sev4.cause);
  EXPECT_FALSE(sev4.impact || sev4.prevent || sev4.no_blame);
  EXPECT_EQ(sev4.approvals, 0);

  const Config c =
      load(write_toml("[close_gate]\n"
                      "sev1 = [\"summary\", \"approval\", \"approval\"]\n"
                      "sev4 = []\n"));
  const CloseRequirements& one = c.close_gate.by_severity.at(Severity::kSev1);
  EXPECT_TRUE(one.summary);
  EXPECT_FALSE(one.cause);
  EXPECT_EQ(one.approvals, 2);
  const CloseRequirements& four = c.close_gate.by_severity.at(Severity::kSev4);
  EXPECT_FALSE(four.summary || four.cause);
  // Not named: the default.
  EXPECT_TRUE(c.close_gate.by_severity.at(Severity::kSev2).prevent);
}

TEST_F(ConfigTest, BadCloseGateSettingsAreRejectedByName) {
  const std::pair<const char*, const char*> cases[] = {
      {"[close_gate]\nsev5 = []\n", "unknown setting 'close_gate.sev5'"},
      {"[close_gate]\nsevere = []\n", "unknown setting 'close_gate.severe'"},
      {"[close_gate]\nsev1 = \"summary\"\n", "close_gate.sev1 must be a list"},
      {"[close_gate]\nsev2 = [\"summary\", 1]\n", "close_gate.sev2: every entry"},
      {"[close_gate]\nsev3 = [\"sumary\"]\n", "unknown requirement 'sumary'"},
  };
  for (const auto& [toml, message] : cases) {
    EXPECT_THAT(error_of(write_toml(toml)), HasSubstr(message)) << toml;
  }
}

TEST_F(ConfigTest, ProcessEnvironmentReadsTheRealEnvironment) {
  ASSERT_EQ(setenv("SCRIBE_CONFIG_TEST_PROBE", "probe-value", 1), 0);
  const EnvLookup lookup = process_environment();
  EXPECT_EQ(lookup("SCRIBE_CONFIG_TEST_PROBE"), "probe-value");
  unsetenv("SCRIBE_CONFIG_TEST_PROBE");
  EXPECT_EQ(lookup("SCRIBE_CONFIG_TEST_PROBE"), std::nullopt);
}

TEST_F(ConfigTest, IssueTrackers) {
  EXPECT_EQ(load().tracker.active(), trackers::Kind::kNone);
  env_["SCRIBE_GITHUB_TOKEN"] = "ghp_x";
  env_["SCRIBE_GITHUB_REPO"] = "acme/web";
  env_["SCRIBE_GITHUB_WEBHOOK_SECRET"] = "s3cret-value";
  env_["SCRIBE_TRACKER_AUTO_TRACK"] = "true";
  Config c = load(write_toml(R"(
[tracker]
postmortem_url = "https://scribe.example/incidents/{id}"
refresh_minutes = 10
[tracker.users]
U0BOB = "bob-gh"
"@dave" = "dave-gh"
)"));
  EXPECT_EQ(c.tracker.active(), trackers::Kind::kGitHub);
  EXPECT_TRUE(c.tracker.auto_track);
  EXPECT_EQ(c.tracker.refresh_interval, std::chrono::minutes(10));
  EXPECT_EQ(c.tracker.users.at("U0BOB"), "bob-gh");
  EXPECT_EQ(c.tracker.users.at("@dave"), "dave-gh");
  // Secrets are not logged.
  EXPECT_THAT(describe(c), HasSubstr("tracker=GitHub"));
  EXPECT_THAT(describe(c), Not(HasSubstr("s3cret-value")));
  EXPECT_THAT(describe(c), Not(HasSubstr("ghp_x")));
  // Two trackers at once, a bad repo, a bad Jira API, an empty user are refused.
  env_["SCRIBE_GITLAB_TOKEN"] = "glpat";
  env_["SCRIBE_GITLAB_PROJECT"] = "grp/proj";
  EXPECT_THAT(error_of(std::nullopt), HasSubstr("more than one issue tracker"));
  env_.erase("SCRIBE_GITLAB_TOKEN");
  env_["SCRIBE_GITHUB_REPO"] = "acme";
  EXPECT_THAT(error_of(std::nullopt), HasSubstr("owner/name"));
  env_["SCRIBE_GITHUB_REPO"] = "acme/web";
  env_["SCRIBE_JIRA_API"] = "server";
  EXPECT_THAT(error_of(std::nullopt), HasSubstr("auto, cloud, datacenter"));
  env_.erase("SCRIBE_JIRA_API");
  EXPECT_THAT(error_of(write_toml("[tracker.users]\nU0BOB = \"\"\n", "bad.toml")),
              HasSubstr("tracker.users.U0BOB"));
}

}  // namespace
}  // namespace scribe

namespace scribe {
namespace {

// A bot account (SCRIBE_MATRIX_ACCESS_TOKEN) needs the homeserver and its full user id, and
// excludes the application service's tokens; the token itself is never shown.
TEST_F(ConfigTest, AMatrixBotAccountNeedsItsHomeserverAndUserIdAndExcludesTheAppService) {
  env_["SCRIBE_MATRIX_ACCESS_TOKEN"] = "syt_secret_token";
  EXPECT_THAT(error_of(std::nullopt), ::testing::HasSubstr("matrix.homeserver_url"));
  env_["SCRIBE_MATRIX_HOMESERVER_URL"] = "https://matrix.example.org";
  EXPECT_THAT(error_of(std::nullopt), ::testing::HasSubstr("matrix.user_id"));
  env_["SCRIBE_MATRIX_USER_ID"] = "scribe";
  EXPECT_THAT(error_of(std::nullopt), ::testing::HasSubstr("full id"));
  env_["SCRIBE_MATRIX_USER_ID"] = "@scribe:example.org";
  const Config c = load();
  EXPECT_EQ(c.matrix_access_token, "syt_secret_token");
  EXPECT_THAT(describe(c), ::testing::HasSubstr("matrix_access_token=set"));
  EXPECT_THAT(describe(c), ::testing::Not(::testing::HasSubstr("syt_secret_token")));
  env_["SCRIBE_MATRIX_HS_TOKEN"] = "hs";
  EXPECT_THAT(error_of(std::nullopt), ::testing::HasSubstr("choose one Matrix mode"));
  env_.erase("SCRIBE_MATRIX_HS_TOKEN");
  env_.erase("SCRIBE_MATRIX_ACCESS_TOKEN");
  EXPECT_EQ(load(write_toml("[matrix]\naccess_token = \"from-toml\"\nhomeserver_url = "
                            "\"https://hs\"\nuser_id = \"@b:hs\"\n"))
                .matrix_access_token,
            "from-toml");
}

}  // namespace
}  // namespace scribe
