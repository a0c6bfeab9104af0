// Service configuration: defaults, then the TOML file given with --config, then
// SCRIBE_* environment variables (the environment wins). Loading validates everything
// and throws ConfigError with a message that names the offending key.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "alerts/settings.h"
#include "commands/limits.h"
#include "commands/reminders.h"
#include "postmortem/review.h"
#include "postmortem/review_report.h"
#include "postmortem/template.h"
#include "publish/settings.h"
#include "trackers/settings.h"

namespace scribe {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Config {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string db = "scribe.db";  // SQLite path or postgresql:// URL
  // "normal": an acknowledged command survives kill -9 and any crash of Scribe (the
  // contract's bar); "full" also survives power loss, at an fsync per commit group.
  std::string sqlite_synchronous = "normal";
  // PostgreSQL: read connections per replica (each replica also holds one for its writer).
  int db_pool_size = 4;
  // How long an outbox job a replica took stays its own; a replica that dies holding jobs
  // has them sent by another once this is over. Longer than any one delivery may take.
  std::chrono::seconds claim_lease{60};
  std::string timezone = "UTC";  // reads backdated wall-clock times
  std::string log_level = "info";

  std::string api_token;  // empty: /api/* is refused
  // Rendered postmortems the API keeps for repeated reads (bot/draft_cache.h); 0: none.
  std::size_t api_draft_cache_bytes = 8u << 20;

  std::string slack_signing_secret;  // empty: /slack/* is refused
  std::string slack_bot_token;
  // An app-level token (xapp-…, scope connections:write): Slack Socket Mode, no public URL
  // needed. Works beside the signing secret (HTTP) or alone.
  std::string slack_app_token;
  // A Socket Mode connection idle for half of this is pinged; one that sends nothing back
  // within all of it is replaced (half-open).
  std::chrono::seconds slack_socket_idle_timeout{60};
  std::string slack_api_url = "https://slack.com/api";
  // The reaction that makes a message a timeline event (with a bot token to read it).
  std::string slack_pin_reaction = "pushpin";

  std::string matrix_homeserver_url;
  std::string matrix_as_token;
  std::string matrix_hs_token;
  std::string matrix_user_id;
  // A bot account's access token: Matrix through /sync (adapters/matrix/sync.h) instead of
  // an application service; needs matrix_homeserver_url and matrix_user_id, and excludes
  // matrix_as_token / matrix_hs_token.
  std::string matrix_access_token;

  std::size_t max_body_bytes = 64 * 1024;
  std::chrono::seconds read_timeout{10};    // a request must arrive whole within this
  std::chrono::seconds idle_timeout{75};    // keep-alive connections idle longer are closed
  std::chrono::seconds shutdown_grace{10};  // in-flight requests get this long on SIGTERM
  // Listener threads: they parse, verify and route; the store's writer and readers do the
  // waiting (no listener thread waits for a commit). 0: one per core.
  int threads = 0;
  // Open connections at most; 0: derived from RLIMIT_NOFILE (bot/http_server.h).
  std::size_t max_connections = 0;

  // Per-incident caps, command text length, per-channel command rate ([limits]).
  CommandLimits limits;

  // Reminders (commands/reminders.h); times of day are local to `timezone`.
  std::chrono::minutes reminder_time_of_day{9 * 60};  // "HH:MM"
  std::chrono::hours reminder_overdue_interval{24};
  std::chrono::hours reminder_meeting_after{24};
  std::chrono::hours reminder_meeting_interval{24};
  int reminder_followup_days = 14;
  // "HH:MM-HH:MM", or "off" (nullopt) for none.
  std::optional<QuietHours> reminder_quiet_hours = QuietHours{};

  // The postmortem review (postmortem/review.h): TOML only, in a [review] table, since
  // word lists do not fit environment variables.
  ReviewSettings review;
  // What `/incident close` requires per severity: TOML only, a [close_gate] table with
  // `sev1 = ["summary", "impact", "cause", "owner", "prevent", "no_blame", "approval"]`
  // and so on (an empty list: no requirement).
  CloseGateSettings close_gate;

  // "channel", "direct" (the owner, by Slack DM or Matrix direct room) or "both".
  ReminderDelivery reminder_delivery = ReminderDelivery::kChannel;
  // Overdue by more than this many days: escalated to the postmortem owner
  // (else the commander); 0 (nullopt): never.
  std::optional<int> reminder_escalate_after_days = 7;
  // The owners' weekly digest: 0 = Sunday … 6 = Saturday; "off" (nullopt): none.
  std::optional<unsigned> reminder_digest_day = 1;
  // How often the scheduler looks for reminders that are due.
  std::chrono::milliseconds reminder_tick{60'000};

  // `draft.template` (SCRIBE_DRAFT_TEMPLATE): a Mustache file for the Markdown and HTML
  // drafts (postmortem/template.h), compiled while the configuration loads. Empty path:
  // Scribe's own draft. A broken or unreadable template is not a configuration error: it
  // leaves `draft_template` null (Scribe's own draft is used) and says why in
  // `draft_template_error` ("draft.template: <file>: line 3, column 5: ..."), which
  // `scribe serve` logs once and shows in /metrics and the command line prints, so a
  // template an organisation got wrong never keeps incidents from being recorded.
  std::string draft_template_path;
  std::shared_ptr<const DraftTemplate> draft_template;
  std::string draft_template_error;
  // Issue trackers for action items (trackers/settings.h): [jira], [github], [gitlab],
  // [tracker] and the [tracker.users] map.
  trackers::Settings tracker;
  // Alert webhooks (alerts/settings.h): [pagerduty] with its [pagerduty.services] and
  // [pagerduty.severities] maps, [alertmanager] with [alertmanager.receivers]. Channels
  // are written "slack:<team id>/<channel id>" or "matrix:<room id>" (channel_from_spec).
  alerts::Settings alerts;
  // Publishing postmortems (publish/settings.h): [confluence], [git], [publish]; the GitHub
  // repository and token are the [github] ones.
  publish::Settings publish;
};

// "slack:T0123/C0456" or "matrix:!room:example.org" as a channel; nullopt when neither.
std::optional<ChannelRef> channel_from_spec(std::string_view spec);

// Reads an environment variable; injectable so tests need not touch the process's own.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
EnvLookup process_environment();

Config load_config(const std::optional<std::string>& toml_path, const EnvLookup& env);

// The planner's settings from the configuration, in the configured time zone.
ReminderSettings reminder_settings(const Config& config);

// The configuration reference in Markdown, made from the table of settings that loading
// uses (bot/config.cpp, kSettings): per setting its TOML key, environment variable, default
// and description, then the TOML-only tables. `scribe config --reference` prints it; the
// README holds a copy that a test keeps equal to it.
std::string configuration_reference();

// The settings as the reference lists them, in the table's order.
struct SettingDoc {
  std::string toml_key;
  std::string env_name;
  std::string default_text;  // empty: unset
  std::string description;
};
std::vector<SettingDoc> setting_docs();

// One line for the start-up log: every setting, secrets shown only as set/unset.
std::string describe(const Config& config);

}  // namespace scribe
