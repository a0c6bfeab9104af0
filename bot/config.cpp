#include "bot/config.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <set>
#include <sstream>

#include <date/tz.h>
#include <fmt/format.h>
#include <toml++/toml.h>

#include "adapters/matrix/platform.h"
#include "adapters/slack/platform.h"
#include "publish/google.h"
#include "util/strings.h"

namespace scribe {
namespace {

ChannelRef channel_setting(const std::string& v, std::string_view source) {
  auto channel = channel_from_spec(v);
  if (!channel) {
    throw ConfigError(
        fmt::format("{}: '{}' is not a channel (\"slack:<team id>/<channel id>\" or "
                    "\"matrix:<room id>\")",
                    source, v));
  }
  return *channel;
}

bool bool_setting(const std::string& v, std::string_view source) {
  if (v == "true" || v == "on" || v == "1") return true;
  if (v == "false" || v == "off" || v == "0") return false;
  throw ConfigError(fmt::format("{}: '{}' is not true or false", source, v));
}

void parse_listen(Config& c, const std::string& value, std::string_view source) {
  // "host:port", "[::1]:port" or ":port".
  const auto colon = value.rfind(':');
  if (colon == std::string::npos) {
    throw ConfigError(fmt::format("{}: listen address '{}' must be host:port", source, value));
  }
  std::string host = value.substr(0, colon);
  const std::string port_text = value.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) {
    throw ConfigError(fmt::format("{}: '{}' is not a port number", source, port_text));
  }
  c.listen_host = host.empty() ? "127.0.0.1" : host;
  c.listen_port = static_cast<std::uint16_t>(port);
}

long long parse_positive(const std::string& text, std::string_view source) {
  long long v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v <= 0) {
    throw ConfigError(fmt::format("{}: '{}' must be a positive whole number", source, text));
  }
  return v;
}

// A limit: a positive whole number that fits an int (a billion is "no limit" in practice).
int parse_count(const std::string& text, std::string_view source) {
  const long long v = parse_positive(text, source);
  if (v > 1'000'000'000) {
    throw ConfigError(fmt::format("{}: '{}' is more than 1000000000", source, text));
  }
  return static_cast<int>(v);
}

std::chrono::hours parse_hours(const std::string& text, std::string_view source) {
  const long long v = parse_positive(text, source);
  // A year of hours: beyond it a reminder would never come, which is surely a typo.
  if (v > 24 * 366) {
    throw ConfigError(fmt::format("{}: '{}' hours is more than a year", source, text));
  }
  return std::chrono::hours(v);
}

std::chrono::minutes parse_time_of_day_setting(const std::string& text, std::string_view source) {
  auto t = parse_time_of_day(text);
  if (!t) throw ConfigError(fmt::format("{}: '{}' must be a time of day HH:MM", source, text));
  return *t;
}

std::optional<QuietHours> parse_quiet_hours_setting(const std::string& text,
                                                    std::string_view source) {
  if (text == "off" || text == "none") return std::nullopt;
  auto q = parse_quiet_hours(text);
  if (!q) {
    throw ConfigError(fmt::format(
        "{}: '{}' must be quiet hours HH:MM-HH:MM (e.g. 20:00-08:00) or 'off'", source, text));
  }
  return q;
}

// The names spdlog::level::from_str knows; it silently turns logging off for any other.
std::string parse_log_level(const std::string& value, std::string_view source) {
  static constexpr std::string_view kLevels[] = {"trace", "debug",    "info", "warn", "warning",
                                                 "error", "critical", "off",  "err"};
  for (std::string_view level : kLevels) {
    if (value == level) return value;
  }
  throw ConfigError(fmt::format(
      "{}: '{}' is not a log level: use trace, debug, info, warn, error, critical or off", source,
      value));
}

// Each known key, with how to apply a string value. TOML and the environment share
// these setters, so both are validated the same way.
struct Setting {
  std::string_view toml_key;  // "slack.signing_secret"
  std::string_view env_name;  // "SCRIBE_SLACK_SIGNING_SECRET"
  // For the configuration reference (`scribe config --reference`, README): the default as
  // an operator would write it (empty: unset), and what the setting does. Every setting has
  // a description; a test holds each default to what Config really starts with.
  std::string_view default_text;
  std::string_view description;
  void (*apply)(Config&, const std::string&, std::string_view source);
};

// clang-format 14 reflows this long braced list of lambdas differently on every pass,
// so the table keeps the layout below by hand.
// clang-format off
const Setting kSettings[] =
    {
        {"listen", "SCRIBE_LISTEN", "127.0.0.1:8080",
         "host:port the HTTP listener binds (`:0` picks a free port and logs it)",
         [](Config& c, const std::string& v, std::string_view s) { parse_listen(c, v, s); }},
        {"db", "SCRIBE_DB", "scribe.db",
         "a SQLite file, or a `postgresql://` URL for the PostgreSQL backend",
         [](Config& c, const std::string& v, std::string_view) { c.db = v; }},
        {"timezone", "SCRIBE_TIMEZONE", "UTC",
         "IANA zone in which times like `14:05` and `+3d` are read, for channels without `/incident tz`; reminders' times of day are local to it",
         [](Config& c, const std::string& v, std::string_view) { c.timezone = v; }},
        {"draft.template", "SCRIBE_DRAFT_TEMPLATE", "",
         "a Mustache file for the Markdown and HTML drafts; empty: Scribe's own draft (a broken template is logged and the built-in one used)",
         [](Config& c, const std::string& v, std::string_view) { c.draft_template_path = v; }},
        {"log_level", "SCRIBE_LOG_LEVEL", "info",
         "trace, debug, info, warn, error, critical or off",
         [](Config& c, const std::string& v, std::string_view s) {
           c.log_level = parse_log_level(v, s);
         }},
        {"api_token", "SCRIBE_API_TOKEN", "",
         "bearer token for `/api/*`; unset: the API is refused",
         [](Config& c, const std::string& v, std::string_view) { c.api_token = v; }},
        {"api.draft_cache_bytes", "SCRIBE_API_DRAFT_CACHE_BYTES", "8388608",
         "bytes of rendered postmortems (`postmortem.md`, `.html`, `.json`) the API keeps for repeated reads, least recently used first out; a kept draft is served only while nothing it is made from has changed; `0`: none kept",
         [](Config& c, const std::string& v, std::string_view s) {
           c.api_draft_cache_bytes = v == "0" ? 0 : static_cast<std::size_t>(parse_positive(v, s));
         }},
        {"storage.sqlite_synchronous", "SCRIBE_SQLITE_SYNCHRONOUS", "normal",
         "`normal`: an acknowledged command survives `kill -9` and any crash of Scribe; `full` also survives power loss, at an fsync per commit group",
         [](Config& c, const std::string& v, std::string_view) { c.sqlite_synchronous = v; }},
        {"storage.db_pool_size", "SCRIBE_DB_POOL_SIZE", "4",
         "PostgreSQL only: read connections per replica (1-100); writes have one connection of their own",
         [](Config& c, const std::string& v, std::string_view s) {
           const long long n = parse_positive(v, s);
           if (n > 100) throw ConfigError(fmt::format("{}: '{}' is more than 100 connections", s, v));
           c.db_pool_size = static_cast<int>(n);
         }},
        {"storage.claim_lease_seconds", "SCRIBE_CLAIM_LEASE_SECONDS", "60",
         "PostgreSQL replicas: how long an outbox job (a post, a reminder) taken by one replica is its own (5-3600); a replica killed while holding jobs has them sent by another after this",
         [](Config& c, const std::string& v, std::string_view s) {
           const long long n = parse_positive(v, s);
           if (n < 5 || n > 3600) {
             throw ConfigError(fmt::format(
                 "{}: '{}' is outside 5-3600 seconds (a lease shorter than a slow delivery "
                 "would let two replicas send the same job)", s, v));
           }
           c.claim_lease = std::chrono::seconds(n);
         }},
        {"slack.signing_secret", "SCRIBE_SLACK_SIGNING_SECRET", "",
         "the Slack app's signing secret; unset: `/slack/*` is refused",
         [](Config& c, const std::string& v, std::string_view) { c.slack_signing_secret = v; }},
        {"slack.bot_token", "SCRIBE_SLACK_BOT_TOKEN", "",
         "bot token `xoxb-…`; with it Scribe posts drafts and reminders and reads reacted-to messages",
         [](Config& c, const std::string& v, std::string_view) { c.slack_bot_token = v; }},
        {"slack.app_token", "SCRIBE_SLACK_APP_TOKEN", "",
         "app-level token `xapp-…` (scope `connections:write`): Slack over Socket Mode, no public URL needed",
         [](Config& c, const std::string& v, std::string_view s) {
           if (!v.empty() && !v.starts_with("xapp-")) {
             throw ConfigError(fmt::format(
                 "{}: a Slack app-level token starts with xapp- (Basic Information, App-Level "
                 "Tokens, scope connections:write)",
                 s));
           }
           c.slack_app_token = v;
         }},
        {"slack.socket_idle_timeout_seconds", "SCRIBE_SLACK_SOCKET_IDLE_TIMEOUT_SECONDS", "60",
         "a Socket Mode connection idle for half of this is pinged, and replaced when nothing comes back within all of it",
         [](Config& c, const std::string& v, std::string_view s) {
           c.slack_socket_idle_timeout = std::chrono::seconds(parse_positive(v, s));
         }},
        {"slack.api_url", "SCRIBE_SLACK_API_URL", "https://slack.com/api",
         "where Slack's Web API is (tests point it at a stand-in)",
         [](Config& c, const std::string& v, std::string_view) { c.slack_api_url = v; }},
        {"slack.pin_reaction", "SCRIBE_SLACK_PIN_REACTION", "pushpin",
         "the reaction that puts a message on the timeline (`:pushpin:` is read as `pushpin`)",
         [](Config& c, const std::string& v, std::string_view) {
           // Slack names reactions without colons; accept ":pushpin:" as people write it.
           c.slack_pin_reaction = v;
           if (c.slack_pin_reaction.size() > 2 && c.slack_pin_reaction.front() == ':' &&
               c.slack_pin_reaction.back() == ':') {
             c.slack_pin_reaction = c.slack_pin_reaction.substr(1, c.slack_pin_reaction.size() - 2);
           }
         }},
        {"matrix.homeserver_url", "SCRIBE_MATRIX_HOMESERVER_URL", "",
         "the homeserver's client-server API",
         [](Config& c, const std::string& v, std::string_view) { c.matrix_homeserver_url = v; }},
        {"matrix.as_token", "SCRIBE_MATRIX_AS_TOKEN", "",
         "application service: the `as_token` of the registration",
         [](Config& c, const std::string& v, std::string_view) { c.matrix_as_token = v; }},
        {"matrix.hs_token", "SCRIBE_MATRIX_HS_TOKEN", "",
         "application service: the `hs_token` of the registration; unset: Matrix pushes are refused",
         [](Config& c, const std::string& v, std::string_view) { c.matrix_hs_token = v; }},
        {"matrix.user_id", "SCRIBE_MATRIX_USER_ID", "",
         "the bot user, e.g. `@scribe:example.org`",
         [](Config& c, const std::string& v, std::string_view) { c.matrix_user_id = v; }},
        {"matrix.access_token", "SCRIBE_MATRIX_ACCESS_TOKEN", "",
         "a bot account's access token: Matrix through `/sync` instead of an application service (not together with the AS tokens)",
         [](Config& c, const std::string& v, std::string_view) { c.matrix_access_token = v; }},
        {"server.max_body_bytes", "SCRIBE_MAX_BODY_BYTES", "65536",
         "larger requests are answered 413",
         [](Config& c, const std::string& v, std::string_view s) {
           c.max_body_bytes = static_cast<std::size_t>(parse_positive(v, s));
         }},
        {"server.read_timeout_seconds", "SCRIBE_READ_TIMEOUT_SECONDS", "10",
         "a begun request must arrive whole within this",
         [](Config& c, const std::string& v, std::string_view s) {
           c.read_timeout = std::chrono::seconds(parse_positive(v, s));
         }},
        {"server.idle_timeout_seconds", "SCRIBE_IDLE_TIMEOUT_SECONDS", "75",
         "idle keep-alive connections are closed after this",
         [](Config& c, const std::string& v, std::string_view s) {
           c.idle_timeout = std::chrono::seconds(parse_positive(v, s));
         }},
        {"server.shutdown_grace_seconds", "SCRIBE_SHUTDOWN_GRACE_SECONDS", "10",
         "on SIGTERM, requests in flight get this long",
         [](Config& c, const std::string& v, std::string_view s) {
           c.shutdown_grace = std::chrono::seconds(parse_positive(v, s));
         }},
        {"server.threads", "SCRIBE_THREADS", "",
         "listener threads (parse, verify, route), at most 64; unset: one per core",
         [](Config& c, const std::string& v, std::string_view s) {
           c.threads = static_cast<int>(std::min(64LL, parse_positive(v, s)));
         }},
        {"server.max_connections", "SCRIBE_MAX_CONNECTIONS", "",
         "open connections at most; unset: from `RLIMIT_NOFILE` less headroom (1/8, at least 64), at most 8192",
         [](Config& c, const std::string& v, std::string_view s) {
           c.max_connections = static_cast<std::size_t>(parse_positive(v, s));
         }},
        {"limits.events_per_incident", "SCRIBE_MAX_EVENTS_PER_INCIDENT", "5000",
         "timeline events one incident holds (deleted ones count)",
         [](Config& c, const std::string& v, std::string_view s) {
           c.limits.per_incident.events = parse_count(v, s);
         }},
        {"limits.notes_per_incident", "SCRIBE_MAX_NOTES_PER_INCIDENT", "1000",
         "postmortem notes one incident holds",
         [](Config& c, const std::string& v, std::string_view s) {
           c.limits.per_incident.notes = parse_count(v, s);
         }},
        {"limits.actions_per_incident", "SCRIBE_MAX_ACTIONS_PER_INCIDENT", "500",
         "action items one incident holds",
         [](Config& c, const std::string& v, std::string_view s) {
           c.limits.per_incident.actions = parse_count(v, s);
         }},
        {"limits.command_text_chars", "SCRIBE_MAX_COMMAND_CHARS", "4000",
         "characters (code points) of one command's text",
         [](Config& c, const std::string& v, std::string_view s) {
           c.limits.max_text_chars = static_cast<std::size_t>(parse_count(v, s));
         }},
        {"limits.channel_command_burst", "SCRIBE_CHANNEL_COMMAND_BURST", "100",
         "commands a channel may send at once",
         [](Config& c, const std::string& v, std::string_view s) {
           c.limits.rate.burst = parse_count(v, s);
         }},
        {"limits.channel_commands_per_minute", "SCRIBE_CHANNEL_COMMANDS_PER_MINUTE", "120",
         "sustained commands a minute per channel; `off`: no rate limit",
         [](Config& c, const std::string& v, std::string_view s) {
           c.limits.rate.enabled = v != "off";
           if (c.limits.rate.enabled) c.limits.rate.per_minute = parse_count(v, s);
         }},
        {"reminders.time_of_day", "SCRIBE_REMINDER_TIME_OF_DAY", "09:00",
         "local time (`timezone`) of action item reminders",
         [](Config& c, const std::string& v, std::string_view s) {
           c.reminder_time_of_day = parse_time_of_day_setting(v, s);
         }},
        {"reminders.overdue_interval_hours", "SCRIBE_REMINDER_OVERDUE_INTERVAL_HOURS", "24",
         "how often an overdue item is nudged",
         [](Config& c, const std::string& v, std::string_view s) {
           c.reminder_overdue_interval = parse_hours(v, s);
         }},
        {"reminders.meeting_after_hours", "SCRIBE_REMINDER_MEETING_AFTER_HOURS", "24",
         "first \"hold the postmortem meeting\" reminder after resolution",
         [](Config& c, const std::string& v, std::string_view s) {
           c.reminder_meeting_after = parse_hours(v, s);
         }},
        {"reminders.meeting_interval_hours", "SCRIBE_REMINDER_MEETING_INTERVAL_HOURS", "24",
         "the meeting reminder repeats this often until `/incident close`",
         [](Config& c, const std::string& v, std::string_view s) {
           c.reminder_meeting_interval = parse_hours(v, s);
         }},
        {"reminders.followup_days", "SCRIBE_REMINDER_FOLLOWUP_DAYS", "14",
         "days after resolution of the follow-up review listing every action item",
         [](Config& c, const std::string& v, std::string_view s) {
           const long long days = parse_positive(v, s);
           if (days > 366)
             throw ConfigError(fmt::format("{}: '{}' days is more than a year", s, v));
           c.reminder_followup_days = static_cast<int>(days);
         }},
        {"reminders.quiet_hours", "SCRIBE_REMINDER_QUIET_HOURS", "20:00-08:00",
         "no reminders then (moved to the end); `off`: none",
         [](Config& c, const std::string& v, std::string_view s) {
           c.reminder_quiet_hours = parse_quiet_hours_setting(v, s);
         }},
        {"reminders.delivery", "SCRIBE_REMINDER_DELIVERY", "channel",
         "where reminders go: `channel`, `direct` (Slack DM, Matrix direct room) or `both`",
         [](Config& c, const std::string& v, std::string_view s) {
           auto d = reminder_delivery_from_string(v);
           if (!d) {
             throw ConfigError(fmt::format("{}: '{}' must be channel, direct or both", s, v));
           }
           c.reminder_delivery = *d;
         }},
        {"reminders.escalate_after_days", "SCRIBE_REMINDER_ESCALATE_AFTER_DAYS", "7",
         "an item overdue this many days is escalated to the postmortem owner (else the commander); `off` or 0: never",
         [](Config& c, const std::string& v, std::string_view s) {
           if (v == "0" || v == "off") {
             c.reminder_escalate_after_days.reset();
             return;
           }
           const long long days = parse_positive(v, s);
           if (days > 366)
             throw ConfigError(fmt::format("{}: '{}' days is more than a year", s, v));
           c.reminder_escalate_after_days = static_cast<int>(days);
         }},
        {"reminders.digest_day", "SCRIBE_REMINDER_DIGEST_DAY", "monday",
         "weekday of the owners' weekly digest; `off`: none",
         [](Config& c, const std::string& v, std::string_view s) {
           static constexpr std::string_view kDays[] = {
               "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
           if (v == "off") {
             c.reminder_digest_day.reset();
             return;
           }
           for (unsigned i = 0; i < 7; ++i) {
             if (lower(v) == kDays[i]) {
               c.reminder_digest_day = i;
               return;
             }
           }
           throw ConfigError(
               fmt::format("{}: '{}' must be a weekday (monday … sunday) or 'off'", s, v));
         }},
        {"reminders.tick_ms", "SCRIBE_REMINDER_TICK_MS", "60000",
         "how often the scheduler looks for due reminders (10 ms to an hour; tests lower it)",
         [](Config& c, const std::string& v, std::string_view s) {
           const long long ms = parse_positive(v, s);
           if (ms < 10 || ms > 3'600'000) {
             throw ConfigError(fmt::format("{}: '{}' must be within 10 ms and an hour", s, v));
           }
           c.reminder_tick = std::chrono::milliseconds(ms);
         }},
        // Issue trackers (trackers/settings.h).
        {"jira.url", "SCRIBE_JIRA_URL", "",
         "Jira site for action items' issues, e.g. `https://acme.atlassian.net`",
         [](Config& c, const std::string& v, std::string_view) { c.tracker.jira_url = v; }},
        {"jira.user", "SCRIBE_JIRA_USER", "",
         "the Jira account (Cloud: its e-mail)",
         [](Config& c, const std::string& v, std::string_view) { c.tracker.jira_user = v; }},
        {"jira.token", "SCRIBE_JIRA_TOKEN", "",
         "Jira API token (Cloud) or personal access token (Data Center); set: Jira is the tracker",
         [](Config& c, const std::string& v, std::string_view) { c.tracker.jira_token = v; }},
        {"jira.project", "SCRIBE_JIRA_PROJECT", "",
         "project key the issues go in",
         [](Config& c, const std::string& v, std::string_view) { c.tracker.jira_project = v; }},
        {"jira.webhook_secret", "SCRIBE_JIRA_WEBHOOK_SECRET", "",
         "secret of Jira's webhook to `/webhooks/jira` (Cloud: HMAC; Data Center: `?secret=` in the URL)",
         [](Config& c, const std::string& v, std::string_view) {
           c.tracker.jira_webhook_secret = v;
         }},
        {"jira.api", "SCRIBE_JIRA_API", "auto",
         "`auto`, `cloud` (REST v3, ADF) or `datacenter` (REST v2)",
         [](Config& c, const std::string& v, std::string_view s) {
           if (v != "auto" && v != "cloud" && v != "datacenter") {
             throw ConfigError(fmt::format("{}: '{}' is not one of auto, cloud, datacenter", s, v));
           }
           c.tracker.jira_api = v;
         }},
        {"jira.issue_type", "SCRIBE_JIRA_ISSUE_TYPE", "Task",
         "issue type of created issues",
         [](Config& c, const std::string& v, std::string_view) { c.tracker.jira_issue_type = v; }},
        {"github.api_url", "SCRIBE_GITHUB_API_URL", "https://api.github.com",
         "GitHub's API base (GitHub Enterprise: `https://host/api/v3`)",
         [](Config& c, const std::string& v, std::string_view) { c.tracker.github_api_url = v; }},
        {"github.token", "SCRIBE_GITHUB_TOKEN", "",
         "GitHub token; set: GitHub is the tracker, and the `git` publishing destination can write",
         [](Config& c, const std::string& v, std::string_view) { c.tracker.github_token = v; }},
        {"github.repo", "SCRIBE_GITHUB_REPO", "",
         "`owner/name` of the repository for issues and postmortem files",
         [](Config& c, const std::string& v, std::string_view s) {
           if (!v.empty() &&
               (v.find('/') == std::string::npos || v.front() == '/' || v.back() == '/')) {
             throw ConfigError(fmt::format("{}: '{}' is not owner/name", s, v));
           }
           c.tracker.github_repo = v;
         }},
        {"github.webhook_secret", "SCRIBE_GITHUB_WEBHOOK_SECRET", "",
         "secret of GitHub's webhook to `/webhooks/github` (`X-Hub-Signature-256`)",
         [](Config& c, const std::string& v, std::string_view) {
           c.tracker.github_webhook_secret = v;
         }},
        {"gitlab.url", "SCRIBE_GITLAB_URL", "https://gitlab.com",
         "the GitLab instance",
         [](Config& c, const std::string& v, std::string_view) { c.tracker.gitlab_url = v; }},
        {"gitlab.token", "SCRIBE_GITLAB_TOKEN", "",
         "GitLab token; set: GitLab is the tracker",
         [](Config& c, const std::string& v, std::string_view) { c.tracker.gitlab_token = v; }},
        {"gitlab.project", "SCRIBE_GITLAB_PROJECT", "",
         "project path or id the issues go in",
         [](Config& c, const std::string& v, std::string_view) { c.tracker.gitlab_project = v; }},
        {"gitlab.webhook_token", "SCRIBE_GITLAB_WEBHOOK_TOKEN", "",
         "token of GitLab's webhook to `/webhooks/gitlab` (`X-Gitlab-Token`)",
         [](Config& c, const std::string& v, std::string_view) {
           c.tracker.gitlab_webhook_token = v;
         }},
        {"tracker.auto_track", "SCRIBE_TRACKER_AUTO_TRACK", "false",
         "an issue for every new action item, without `/action track`",
         [](Config& c, const std::string& v, std::string_view s) {
           c.tracker.auto_track = bool_setting(v, s);
         }},
        {"confluence.url", "SCRIBE_CONFLUENCE_URL", "",
         "Confluence site (Cloud) or base URL (Data Center) to publish postmortems to",
         [](Config& c, const std::string& v, std::string_view) { c.publish.confluence_url = v; }},
        {"confluence.user", "SCRIBE_CONFLUENCE_USER", "",
         "the Confluence account's e-mail",
         [](Config& c, const std::string& v, std::string_view) { c.publish.confluence_user = v; }},
        {"confluence.token", "SCRIBE_CONFLUENCE_TOKEN", "",
         "Confluence API token",
         [](Config& c, const std::string& v, std::string_view) { c.publish.confluence_token = v; }},
        {"confluence.space", "SCRIBE_CONFLUENCE_SPACE", "",
         "space key of the postmortem pages",
         [](Config& c, const std::string& v, std::string_view) { c.publish.confluence_space = v; }},
        {"confluence.parent", "SCRIBE_CONFLUENCE_PARENT", "",
         "id of the page the postmortems go under; empty: the space's root",
         [](Config& c, const std::string& v, std::string_view) {
           c.publish.confluence_parent = v;
         }},
        {"confluence.api", "SCRIBE_CONFLUENCE_API", "auto",
         "`auto` (Cloud when the host ends in `.atlassian.net`), `cloud` (REST v2) or `datacenter` (REST `/rest/api/content`, a personal access token as bearer when no user is set)",
         [](Config& c, const std::string& v, std::string_view s) {
           if (v != "auto" && v != "cloud" && v != "datacenter") {
             throw ConfigError(fmt::format("{}: '{}' must be auto, cloud or datacenter", s, v));
           }
           c.publish.confluence_api = v;
         }},
        {"git.provider", "SCRIBE_GIT_PROVIDER", "auto",
         "where `git` publishes: `github`, `gitlab` or `auto` (whichever has a token and repository, GitHub first)",
         [](Config& c, const std::string& v, std::string_view s) {
           const std::string p = lower(trim(v));
           if (p != "auto" && p != "github" && p != "gitlab") {
             throw ConfigError(fmt::format("{}: '{}' must be auto, github or gitlab", s, v));
           }
           c.publish.git_provider = p;
         }},
        {"notion.api_url", "SCRIBE_NOTION_API_URL", "https://api.notion.com",
         "the Notion API",
         [](Config& c, const std::string& v, std::string_view) { c.publish.notion_api_url = v; }},
        {"notion.token", "SCRIBE_NOTION_TOKEN", "",
         "a Notion internal integration secret; with `notion.parent`: publish to Notion",
         [](Config& c, const std::string& v, std::string_view) { c.publish.notion_token = v; }},
        {"notion.parent", "SCRIBE_NOTION_PARENT", "",
         "id of the Notion page the postmortems go under (shared with the integration)",
         [](Config& c, const std::string& v, std::string_view) { c.publish.notion_parent = v; }},
        {"google.credentials", "SCRIBE_GOOGLE_CREDENTIALS", "",
         "path of a Google service account JSON key file; with `google.folder`: publish to Google Docs",
         [](Config& c, const std::string& v, std::string_view) {
           c.publish.google_credentials = v;
         }},
        {"google.folder", "SCRIBE_GOOGLE_FOLDER", "",
         "id of the Drive folder the documents go in (shared with the service account)",
         [](Config& c, const std::string& v, std::string_view) { c.publish.google_folder = v; }},
        {"google.api_url", "SCRIBE_GOOGLE_API_URL", "https://www.googleapis.com",
         "the Google Drive API",
         [](Config& c, const std::string& v, std::string_view) { c.publish.google_api_url = v; }},
        {"google.token_url", "SCRIBE_GOOGLE_TOKEN_URL", "",
         "Google OAuth token endpoint; empty: the key file's `token_uri`",
         [](Config& c, const std::string& v, std::string_view) {
           c.publish.google_token_url = v;
         }},
        {"git.branch", "SCRIBE_GIT_BRANCH", "",
         "branch postmortem files are committed to; empty: the repository's default",
         [](Config& c, const std::string& v, std::string_view) { c.publish.git_branch = v; }},
        {"git.directory", "SCRIBE_GIT_DIRECTORY", "postmortems",
         "folder of the postmortem files in the repository",
         [](Config& c, const std::string& v, std::string_view) { c.publish.git_directory = v; }},
        {"publish.automatic", "SCRIBE_PUBLISH_AUTOMATIC", "",
         "destinations published at resolution and on every later change: `confluence`, `notion`, `gdocs`, `git`, comma-separated",
         [](Config& c, const std::string& v, std::string_view s) {
           c.publish.automatic.clear();
           for (std::string_view rest = v; !rest.empty();) {
             const auto comma = rest.find(',');
             const std::string name = lower(trim(rest.substr(0, comma)));
             rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
             if (name.empty() || name == "off") continue;
             if (name != publish::kConfluence && name != publish::kGit &&
                 name != publish::kNotion && name != publish::kGoogleDocs) {
               throw ConfigError(fmt::format(
                   "{}: '{}' is not a destination (confluence, notion, gdocs, git)", s, name));
             }
             c.publish.automatic.push_back(name);
           }
         }},
        {"pagerduty.webhook_secret", "SCRIBE_PAGERDUTY_WEBHOOK_SECRET", "",
         "PagerDuty v3 webhook secret; set: `/webhooks/pagerduty` is open",
         [](Config& c, const std::string& v, std::string_view) {
           c.alerts.pagerduty_webhook_secret = v;
         }},
        {"pagerduty.channel", "SCRIBE_PAGERDUTY_CHANNEL", "",
         "channel (`slack:T…/C…` or `matrix:!room`) for services not in `[pagerduty.services]`; unset: their alerts are ignored",
         [](Config& c, const std::string& v, std::string_view s) {
           c.alerts.pagerduty_channel = channel_setting(v, s);
         }},
        {"pagerduty.declare", "SCRIBE_PAGERDUTY_DECLARE", "false",
         "a triggered high-urgency PagerDuty incident declares one in its channel when none is under way",
         [](Config& c, const std::string& v, std::string_view s) {
           c.alerts.pagerduty_declare = bool_setting(v, s);
         }},
        {"alertmanager.token", "SCRIBE_ALERTMANAGER_TOKEN", "",
         "bearer token (or basic password) of Alertmanager/Grafana webhooks to `/webhooks/alertmanager`",
         [](Config& c, const std::string& v, std::string_view) {
           c.alerts.alertmanager_token = v;
         }},
        {"alertmanager.channel", "SCRIBE_ALERTMANAGER_CHANNEL", "",
         "channel for alerts no label or receiver routes",
         [](Config& c, const std::string& v, std::string_view s) {
           c.alerts.alertmanager_channel = channel_setting(v, s);
         }},
        {"alertmanager.channel_label", "SCRIBE_ALERTMANAGER_CHANNEL_LABEL", "scribe_channel",
         "the alert label that names a channel",
         [](Config& c, const std::string& v, std::string_view s) {
           if (v.empty()) throw ConfigError(fmt::format("{}: a label name is needed", s));
           c.alerts.alertmanager_channel_label = v;
         }},
        {"tracker.postmortem_url", "SCRIBE_TRACKER_POSTMORTEM_URL", "",
         "link to the postmortem in each issue; `{id}` becomes the incident's number",
         [](Config& c, const std::string& v, std::string_view) { c.tracker.postmortem_url = v; }},
        {"tracker.refresh_minutes", "SCRIBE_TRACKER_REFRESH_MINUTES", "30",
         "how often open tracked items are checked against their issues; `off` or 0: never",
         [](Config& c, const std::string& v, std::string_view s) {
           c.tracker.refresh_interval =
               std::chrono::minutes(v == "off" || v == "0" ? 0 : parse_positive(v, s));
         }},
};
// clang-format on

// The tables only TOML can hold (maps and lists), read by apply_toml and apply_review /
// apply_close_gate; listed after the settings in the reference.
struct TomlTable {
  std::string_view name;
  std::string_view description;
};

constexpr TomlTable kTomlTables[] = {
    {"review", "the postmortem review's rules, word lists and thresholds (see Postmortem review)"},
    {"close_gate", "what `/incident close` requires per severity: `sev1 = [\"summary\", ...]`"},
    {"tracker.users", "chat user (platform id or @name) = tracker user, for issue assignees"},
    {"pagerduty.services",
     "PagerDuty service id or name = channel (`slack:T…/C…`, `matrix:!room`)"},
    {"pagerduty.severities", "PagerDuty priority name (`P1`) = severity of a declared incident"},
    {"alertmanager.receivers", "Alertmanager receiver = channel"},
};

std::string toml_value_text(const toml::node& node, std::string_view key) {
  if (auto s = node.value<std::string>()) return *s;
  if (auto i = node.value<std::int64_t>(); i && node.is_integer()) return std::to_string(*i);
  if (auto b = node.value<bool>(); b && node.is_boolean()) return *b ? "true" : "false";
  throw ConfigError(fmt::format("config: '{}' must be a string or a whole number", key));
}

// --- [review] ------------------------------------------------------------------------------
// Each rule's switch (`blame = false`), each word list replaced (`blame_words = [...]`) or
// extended (`extra_blame_words = [...]`; applied after a replacement, whatever the order in
// the file), and the thresholds. Anything else in the table is refused, as elsewhere.

struct ReviewList {
  std::string_view key;  // "blame_words"; "extra_blame_words" extends it
  std::vector<std::string> ReviewSettings::*list;
};

constexpr ReviewList kReviewLists[] = {
    {"blame_words", &ReviewSettings::blame_words},
    {"person_words", &ReviewSettings::person_words},
    {"human_error_words", &ReviewSettings::human_error_words},
    {"measurable_nouns", &ReviewSettings::measurable_nouns},
    {"magnitude_words", &ReviewSettings::magnitude_words},
    {"relative_words", &ReviewSettings::relative_words},
    {"vague_verbs", &ReviewSettings::vague_verbs},
    {"concrete_verbs", &ReviewSettings::concrete_verbs},
};

struct ReviewSwitch {
  std::string_view key;
  bool ReviewSettings::*on;
};

constexpr ReviewSwitch kReviewSwitches[] = {
    {"blame", &ReviewSettings::blame},
    {"vague", &ReviewSettings::vague},
    {"unactionable", &ReviewSettings::unactionable},
    {"coverage", &ReviewSettings::coverage},
    {"missing", &ReviewSettings::missing},
};

std::vector<std::string> review_words(const toml::node& node, const std::string& where) {
  const auto* array = node.as_array();
  if (!array)
    throw ConfigError(fmt::format("{} must be a list of words, e.g. [\"forgot\"]", where));
  std::vector<std::string> words;
  for (const auto& item : *array) {
    auto text = item.value<std::string>();
    if (!text || !item.is_string()) {
      throw ConfigError(fmt::format("{}: every entry must be a string", where));
    }
    const auto first = text->find_first_not_of(" \t");
    if (first == std::string::npos) {
      throw ConfigError(fmt::format("{}: an entry is empty", where));
    }
    if (text->size() > 100) {
      throw ConfigError(
          fmt::format("{}: '{}…' is longer than 100 characters", where, text->substr(0, 20)));
    }
    words.push_back(*text);
  }
  return words;
}

long long review_number(const toml::node& node, const std::string& where, long long max) {
  auto v = node.value<std::int64_t>();
  if (!v || !node.is_integer() || *v <= 0 || *v > max) {
    throw ConfigError(fmt::format("{} must be a whole number from 1 to {}", where, max));
  }
  return *v;
}

void apply_review(ReviewSettings& review, const toml::table& table, const std::string& path) {
  std::vector<std::pair<const ReviewList*, std::vector<std::string>>> extras;
  for (const auto& [k, node] : table) {
    const std::string key(k.str());
    const std::string where = fmt::format("{}: review.{}", path, key);
    bool done = false;
    for (const auto& sw : kReviewSwitches) {
      if (key != sw.key) continue;
      auto on = node.value<bool>();
      if (!on || !node.is_boolean()) throw ConfigError(where + " must be true or false");
      review.*sw.on = *on;
      done = true;
    }
    for (const auto& list : kReviewLists) {
      if (key == list.key) {
        review.*list.list = review_words(node, where);
        done = true;
      } else if (key == "extra_" + std::string(list.key)) {
        extras.emplace_back(&list, review_words(node, where));
        done = true;
      }
    }
    if (done) continue;
    if (key == "action_horizon_days") {
      review.action_horizon_days = static_cast<int>(review_number(node, where, 3660));
    } else if (key == "detect_threshold_minutes") {
      review.detect_threshold = std::chrono::minutes(review_number(node, where, 7 * 24 * 60));
    } else if (key == "timeline_gap_minutes") {
      review.timeline_gap = std::chrono::minutes(review_number(node, where, 7 * 24 * 60));
    } else if (key == "coverage_severities") {
      std::vector<Severity> severities;
      for (const std::string& word : review_words(node, where)) {
        auto sev = severity_from_string(word);
        if (!sev)
          throw ConfigError(fmt::format("{}: '{}' is not a severity (sev1-sev4)", where, word));
        if (std::find(severities.begin(), severities.end(), *sev) == severities.end()) {
          severities.push_back(*sev);
        }
      }
      review.coverage_severities = std::move(severities);
    } else {
      throw ConfigError(fmt::format("{}: unknown setting 'review.{}'", path, key));
    }
  }
  for (auto& [list, words] : extras) {
    auto& target = review.*list->list;
    target.insert(target.end(), words.begin(), words.end());
  }
}

// --- [close_gate] --------------------------------------------------------------------------
// sev1 … sev4, each a list of requirement names (review_report.h); severities not given
// keep their defaults.
void apply_close_gate(CloseGateSettings& gate, const toml::table& table, const std::string& path) {
  for (const auto& [k, node] : table) {
    const std::string key(k.str());
    const std::string where = fmt::format("{}: close_gate.{}", path, key);
    const auto severity = severity_from_string(key);
    if (!severity || !key.starts_with("sev")) {
      throw ConfigError(
          fmt::format("{}: unknown setting 'close_gate.{}' (sev1 to sev4)", path, key));
    }
    const auto* array = node.as_array();
    if (!array) throw ConfigError(where + " must be a list, e.g. [\"summary\", \"cause\"]");
    std::vector<std::string> names;
    for (const auto& item : *array) {
      auto text = item.value<std::string>();
      if (!text || !item.is_string()) throw ConfigError(where + ": every entry must be a string");
      names.push_back(*text);
    }
    std::string bad;
    auto requirements = close_requirements_from_names(names, &bad);
    if (!requirements) {
      throw ConfigError(fmt::format(
          "{}: unknown requirement '{}' (summary, impact, cause, owner, prevent, no_blame, "
          "approval)",
          where, bad));
    }
    gate.by_severity[*severity] = *requirements;
  }
}

void apply_toml(Config& config, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << e.source().begin;
    throw ConfigError(fmt::format("{}: {} (at {})", path, e.description(), where.str()));
  }
  std::set<std::string> known;
  for (const auto& s : kSettings) known.insert(std::string(s.toml_key));

  // Unknown keys are refused: a typo in a secret's name must not silently leave it unset.
  auto visit = [&](const toml::table& table, const std::string& prefix, auto& self) -> void {
    for (const auto& [k, node] : table) {
      const std::string key =
          prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      if (const auto* sub = node.as_table(); sub && key == "review") {
        apply_review(config.review, *sub, path);
        continue;
      }
      if (const auto* sub = node.as_table(); sub && key == "tracker.users") {
        // Chat user (platform id or @name) = tracker user.
        for (const auto& [user, value] : *sub) {
          const toml::node& entry = value;
          auto v = entry.value<std::string>();
          if (!v || !entry.is_string() || v->empty()) {
            throw ConfigError(fmt::format("{}: tracker.users.{} must be a non-empty string", path,
                                          std::string(user.str())));
          }
          config.tracker.users[std::string(user.str())] = *v;
        }
        continue;
      }
      if (const auto* sub = node.as_table();
          sub && (key == "pagerduty.services" || key == "pagerduty.severities" ||
                  key == "alertmanager.receivers")) {
        for (const auto& [name, value] : *sub) {
          const toml::node& entry = value;
          const std::string where = fmt::format("{}: {}.{}", path, key, std::string(name.str()));
          auto v = entry.value<std::string>();
          if (!v || !entry.is_string() || v->empty()) {
            throw ConfigError(fmt::format("{} must be a non-empty string", where));
          }
          if (key == "pagerduty.severities") {
            auto severity = severity_from_string(*v);
            if (!severity) throw ConfigError(fmt::format("{}: '{}' is not sev1-sev4", where, *v));
            config.alerts.pagerduty_severities[std::string(name.str())] = *severity;
          } else if (key == "pagerduty.services") {
            config.alerts.pagerduty_services[std::string(name.str())] = channel_setting(*v, where);
          } else {
            config.alerts.alertmanager_receivers[std::string(name.str())] =
                channel_setting(*v, where);
          }
        }
        continue;
      }
      if (const auto* sub = node.as_table(); sub && key == "close_gate") {
        apply_close_gate(config.close_gate, *sub, path);
        continue;
      }
      if (const auto* sub = node.as_table()) {
        self(*sub, key, self);
        continue;
      }
      if (!known.count(key)) {
        throw ConfigError(fmt::format("{}: unknown setting '{}'", path, key));
      }
      for (const auto& s : kSettings) {
        if (s.toml_key == key)
          s.apply(config, toml_value_text(node, key), fmt::format("{}: {}", path, key));
      }
    }
  };
  visit(root, "", visit);
}

// "postgresql://user:pw@host/db" -> "postgresql://…@host/db": URLs may carry passwords.
std::string without_credentials(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto at = url.find('@', scheme + 3);
  const auto slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return url;
  return url.substr(0, scheme + 3) + "…" + url.substr(at);
}

// "blame,vague,…" for the rules switched on, "off" for none.
std::string review_rules_on(const ReviewSettings& r) {
  std::string out;
  for (const auto& sw : kReviewSwitches) {
    if (!(r.*sw.on)) continue;
    if (!out.empty()) out += ',';
    out += sw.key;
  }
  return out.empty() ? "off" : out;
}

}  // namespace

std::optional<ChannelRef> channel_from_spec(std::string_view spec) {
  if (spec.starts_with("slack:")) return slack::channel_from_config(spec.substr(6));
  if (spec.starts_with("matrix:")) return matrix::channel_from_config(spec.substr(7));
  return std::nullopt;
}

EnvLookup process_environment() {
  return [](const char* name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name)) return std::string(v);
    return std::nullopt;
  };
}

Config load_config(const std::optional<std::string>& toml_path, const EnvLookup& env) {
  Config config;
  if (toml_path) apply_toml(config, *toml_path);
  for (const auto& s : kSettings) {
    if (auto v = env(std::string(s.env_name).c_str())) s.apply(config, *v, s.env_name);
  }
  if (config.sqlite_synchronous != "full" && config.sqlite_synchronous != "normal") {
    throw ConfigError(fmt::format("storage.sqlite_synchronous must be 'full' or 'normal', not '{}'",
                                  config.sqlite_synchronous));
  }
  if (config.db.empty()) throw ConfigError("db must name a SQLite file or a postgresql:// URL");
  if (!config.matrix_access_token.empty()) {
    // A bot account and an application service would both answer every command.
    if (!config.matrix_as_token.empty() || !config.matrix_hs_token.empty()) {
      throw ConfigError(
          "matrix.access_token (a bot account) and matrix.as_token / matrix.hs_token (an "
          "application service) are both set: choose one Matrix mode and leave the other unset");
    }
    if (config.matrix_homeserver_url.empty()) {
      throw ConfigError(
          "matrix.access_token is set but matrix.homeserver_url is not: the bot account syncs "
          "with that homeserver (e.g. https://matrix.org)");
    }
    if (config.matrix_user_id.empty() || !config.matrix_user_id.starts_with('@') ||
        config.matrix_user_id.find(':') == std::string::npos) {
      throw ConfigError(
          "matrix.access_token is set but matrix.user_id is not the bot account's full id "
          "(e.g. @scribe:example.org)");
    }
  }
  if (config.tracker.configured_count() > 1) {
    throw ConfigError(
        "more than one issue tracker is configured (Jira, GitHub, GitLab): action items go to "
        "one; leave the others' token unset");
  }
  try {
    date::locate_zone(config.timezone);
  } catch (const std::exception&) {
    throw ConfigError(
        fmt::format("timezone '{}' is not a known IANA time zone (e.g. UTC, "
                    "Europe/Berlin)",
                    config.timezone));
  }
  // The git destination writes to the GitHub repository or GitLab project the [github] or
  // [gitlab] settings name.
  config.publish.github_api_url = config.tracker.github_api_url;
  config.publish.github_token = config.tracker.github_token;
  config.publish.github_repo = config.tracker.github_repo;
  config.publish.gitlab_url = config.tracker.gitlab_url;
  config.publish.gitlab_token = config.tracker.gitlab_token;
  config.publish.gitlab_project = config.tracker.gitlab_project;
  if (config.publish.git_provider == "github" && !config.publish.github()) {
    throw ConfigError("git.provider is github but github.token and github.repo are not both set");
  }
  if (config.publish.git_provider == "gitlab" && !config.publish.gitlab()) {
    throw ConfigError(
        "git.provider is gitlab but gitlab.token and gitlab.project are not both set");
  }
  if (!config.publish.notion_token.empty() && config.publish.notion_parent.empty()) {
    throw ConfigError(
        "notion.token is set but notion.parent is not: the id of the Notion page the "
        "postmortems go under (shared with the integration)");
  }
  if (!config.publish.google_credentials.empty()) {
    if (config.publish.google_folder.empty()) {
      throw ConfigError(
          "google.credentials is set but google.folder is not: the id of the Drive folder the "
          "postmortems go in (shared with the service account)");
    }
    std::string error;
    auto account = publish::read_service_account(config.publish.google_credentials, error);
    if (!account) throw ConfigError(fmt::format("google.credentials: {}", error));
    config.publish.google_account = std::move(*account);
    if (config.publish.google_token_url.empty()) {
      config.publish.google_token_url = config.publish.google_account.token_uri;
    }
  }
  const std::vector<std::string> configured = config.publish.destinations();
  for (const std::string& name : config.publish.automatic) {
    if (std::find(configured.begin(), configured.end(), name) == configured.end()) {
      throw ConfigError(fmt::format(
          "publish.automatic names {}, which is not configured (see the README's Publishing)",
          name));
    }
  }
  if (!config.draft_template_path.empty()) {
    try {
      config.draft_template = load_draft_template(config.draft_template_path);
    } catch (const TemplateError& e) {
      config.draft_template_error = fmt::format("draft.template: {}", e.what());
    }
  }
  return config;
}

ReminderSettings reminder_settings(const Config& c) {
  ReminderSettings r;
  r.zone = date::locate_zone(c.timezone);
  r.time_of_day = c.reminder_time_of_day;
  r.overdue_interval = c.reminder_overdue_interval;
  r.meeting_after = c.reminder_meeting_after;
  r.meeting_interval = c.reminder_meeting_interval;
  r.followup_after = std::chrono::days(c.reminder_followup_days);
  r.quiet_hours = c.reminder_quiet_hours;
  r.delivery = c.reminder_delivery;
  r.escalate_after.reset();
  if (c.reminder_escalate_after_days)
    r.escalate_after = std::chrono::days(*c.reminder_escalate_after_days);
  r.digest_day = c.reminder_digest_day;
  return r;
}

std::string configuration_reference() {
  // A Markdown table cell: a `|` would end it.
  auto cell = [](std::string_view text) {
    std::string out;
    for (char ch : text) {
      if (ch == '|') out += '\\';
      out += ch;
    }
    return out;
  };
  std::string out =
      "Defaults, then the TOML file (`scribe --config scribe.toml serve`), then environment "
      "variables: the environment wins. A TOML key `a.b` is `b` in the table `[a]`.\n\n"
      "| TOML key | environment variable | default | description |\n"
      "|---|---|---|---|\n";
  for (const Setting& s : kSettings) {
    out += fmt::format(
        "| `{}` | `{}` | {} | {} |\n", s.toml_key, s.env_name,
        s.default_text.empty() ? std::string("unset") : fmt::format("`{}`", cell(s.default_text)),
        cell(s.description));
  }
  out += "\nTOML only (maps and lists do not fit environment variables):\n\n";
  for (const TomlTable& t : kTomlTables) {
    out += fmt::format("- `[{}]`: {}\n", t.name, t.description);
  }
  return out;
}

std::vector<SettingDoc> setting_docs() {
  std::vector<SettingDoc> out;
  for (const Setting& s : kSettings) {
    out.push_back(SettingDoc{std::string(s.toml_key), std::string(s.env_name),
                             std::string(s.default_text), std::string(s.description)});
  }
  return out;
}

std::string describe(const Config& c) {
  auto secret = [](const std::string& s) { return s.empty() ? "unset" : "set"; };
  return fmt::format(
      "listen={}:{} db={} sqlite_synchronous={} timezone={} log_level={} max_body={}B "
      "read_timeout={}s idle_timeout={}s shutdown_grace={}s threads={} max_connections={} "
      "limits.events_per_incident={} limits.notes_per_incident={} "
      "limits.actions_per_incident={} limits.command_text_chars={} "
      "limits.channel_command_burst={} limits.channel_commands_per_minute={} api_token={} "
      "slack_signing_secret={} slack_bot_token={} slack_app_token={} slack_api_url={} "
      "matrix_homeserver_url={} "
      "matrix_user_id={} matrix_hs_token={} matrix_as_token={} matrix_access_token={} "
      "reminders.time_of_day={} "
      "reminders.overdue_interval={}h reminders.meeting_after={}h reminders.meeting_interval={}h "
      "reminders.followup_days={} reminders.quiet_hours={} review={} reminders.delivery={} "
      "reminders.escalate_after_days={} reminders.digest_day={} reminders.tick_ms={} tracker={} "
      "tracker.auto_track={} jira_token={} github_token={} gitlab_token={} "
      "jira_webhook_secret={} github_webhook_secret={} gitlab_webhook_token={} "
      "pagerduty_webhook_secret={} pagerduty.services={} pagerduty.declare={} "
      "alertmanager_token={} alertmanager.receivers={} publish={} confluence.api={} "
      "confluence_token={} git.provider={} notion_token={} google.credentials={} "
      "publish.automatic={}",
      c.listen_host, c.listen_port, without_credentials(c.db), c.sqlite_synchronous, c.timezone,
      c.log_level, c.max_body_bytes, c.read_timeout.count(), c.idle_timeout.count(),
      c.shutdown_grace.count(), c.threads,
      c.max_connections == 0 ? std::string("auto") : std::to_string(c.max_connections),
      c.limits.per_incident.events, c.limits.per_incident.notes, c.limits.per_incident.actions,
      c.limits.max_text_chars, c.limits.rate.burst,
      c.limits.rate.enabled ? std::to_string(c.limits.rate.per_minute) : std::string("off"),
      secret(c.api_token), secret(c.slack_signing_secret), secret(c.slack_bot_token),
      secret(c.slack_app_token), without_credentials(c.slack_api_url),
      without_credentials(c.matrix_homeserver_url), c.matrix_user_id, secret(c.matrix_hs_token),
      secret(c.matrix_as_token), secret(c.matrix_access_token),
      format_time_of_day(c.reminder_time_of_day), c.reminder_overdue_interval.count(),
      c.reminder_meeting_after.count(), c.reminder_meeting_interval.count(),
      c.reminder_followup_days,
      c.reminder_quiet_hours ? to_string(*c.reminder_quiet_hours) : std::string("off"),
      review_rules_on(c.review), to_string(c.reminder_delivery),
      c.reminder_escalate_after_days ? std::to_string(*c.reminder_escalate_after_days) : "off",
      c.reminder_digest_day ? std::to_string(*c.reminder_digest_day) : "off",
      c.reminder_tick.count(),
      c.tracker.active() == trackers::Kind::kNone ? std::string("none")
                                                  : trackers::display_name(c.tracker.active()),
      c.tracker.auto_track, secret(c.tracker.jira_token), secret(c.tracker.github_token),
      secret(c.tracker.gitlab_token), secret(c.tracker.jira_webhook_secret),
      secret(c.tracker.github_webhook_secret), secret(c.tracker.gitlab_webhook_token),
      secret(c.alerts.pagerduty_webhook_secret), c.alerts.pagerduty_services.size(),
      c.alerts.pagerduty_declare, secret(c.alerts.alertmanager_token),
      c.alerts.alertmanager_receivers.size(), fmt::join(c.publish.destinations(), ","),
      c.publish.confluence_api, secret(c.publish.confluence_token), c.publish.git_provider,
      secret(c.publish.notion_token),
      c.publish.google_credentials.empty() ? std::string("unset") : c.publish.google_credentials,
      fmt::join(c.publish.automatic, ","));
}

}  // namespace scribe
