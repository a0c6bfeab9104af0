#include "bot/service.h"

#include <date/tz.h>

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "adapters/matrix/client.h"
#include "adapters/matrix/message_fetcher.h"
#include "adapters/matrix/platform.h"
#include "adapters/matrix/room_events.h"
#include "adapters/matrix/sync.h"
#include "adapters/matrix/transactions_endpoint.h"
#include "adapters/slack/commands_endpoint.h"
#include "adapters/slack/events_endpoint.h"
#include "adapters/slack/interactivity_endpoint.h"
#include "adapters/slack/message_fetcher.h"
#include "adapters/slack/platform.h"
#include "adapters/slack/socket_mode.h"
#include "adapters/slack/web_api.h"
#include "alerts/endpoint.h"
#include "bot/api.h"
#include "bot/http_server.h"
#include "bot/memory.h"
#include "bot/scheduler.h"
#include "commands/handler.h"
#include "commands/outgoing.h"
#include "commands/reminders.h"
#include "outbox/outbox.h"
#include "publish/deliverer.h"
#include "storage/leadership.h"
#include "storage/store.h"
#include "trackers/client.h"
#include "trackers/deliverer.h"
#include "trackers/refresher.h"
#include "trackers/webhooks.h"
#include "util/worker_pool.h"

namespace scribe {
namespace {

const date::time_zone* find_zone(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    throw ConfigError(fmt::format("timezone '{}' is not a known IANA time zone", name));
  }
}

HttpResponse text(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body), {}};
}

// Request counts by route and status class, for /metrics. Fixed arrays of atomics keep
// the hot path lock-free.
enum class Route {
  kSlackCommands,
  kSlackEvents,
  kMatrix,
  kSlackInteractivity,
  kApi,
  kHealth,
  kMetrics,
  kWebhooks,
  kOther,
  kCount
};
constexpr std::array<std::string_view, static_cast<std::size_t>(Route::kCount)> kRouteNames = {
    "slack_commands", "slack_events", "matrix", "slack_interactivity", "api", "health",
    "metrics",        "webhooks",     "other"};

std::string connection_metrics(const HttpServer::Stats& s) {
  return fmt::format(
      "# HELP scribe_http_connections Open HTTP connections.\n"
      "# TYPE scribe_http_connections gauge\n"
      "scribe_http_connections {}\n"
      "# HELP scribe_http_connections_max The most HTTP connections open at once.\n"
      "# TYPE scribe_http_connections_max gauge\n"
      "scribe_http_connections_max {}\n"
      "# HELP scribe_http_connections_shed_total Idle connections closed to make room.\n"
      "# TYPE scribe_http_connections_shed_total counter\n"
      "scribe_http_connections_shed_total {}\n"
      "# HELP scribe_http_accept_errors_total Failed accepts (e.g. out of file descriptors).\n"
      "# TYPE scribe_http_accept_errors_total counter\n"
      "scribe_http_accept_errors_total {}\n",
      s.open_connections, s.max_connections, s.shed_total, s.accept_errors_total);
}

std::string refusal_metrics(const LimitCounters& refused) {
  std::string out =
      "# HELP scribe_commands_refused_total Commands refused by a limit (commands/limits.h).\n"
      "# TYPE scribe_commands_refused_total counter\n";
  for (std::size_t i = 0; i < static_cast<std::size_t>(Limit::kCount); ++i) {
    const auto limit = static_cast<Limit>(i);
    out += fmt::format("scribe_commands_refused_total{{limit=\"{}\"}} {}\n", to_string(limit),
                       refused.of(limit));
  }
  return out;
}

}  // namespace

// The parts of a running service. Who uses whom decides the order of shutdown: the
// listener feeds the endpoints, the endpoints and the scheduler feed the handler and the
// store, and the outbox's fetchers call back into the handler. So the listener goes first
// (server is the last member), then the threads that use the others are stopped
// explicitly (stop_threads: scheduler, then outbox, which finishes the delivery in hand),
// and only then are the handler, the outbox and the store destroyed (in reverse order of
// declaration). The destructor stops the threads too, so an exception out of run(), or a
// Service destroyed without run() returning normally, keeps that order.
struct Service::Parts {
  Parts(const Config& c, Clock clk)
      : config(c),
        clock(std::move(clk)),
        zone(find_zone(c.timezone)),
        store(open_store(c.db, StoreOptions{c.sqlite_synchronous, c.db_pool_size})),
        outbox(make_outbox(c, *store, clock)),
        handler(*store, zone, handler_options(c, outbox.get())),
        api(*store, c.api_token, clock, c.review, c.draft_template, c.timezone,
            c.api_draft_cache_bytes),
        planner(*store, reminders_for(c, *outbox)),
        scheduler(
            planner, clock, [o = outbox.get()] { o->wake(); },
            Scheduler::Options{c.reminder_tick}) {
    const bool can_read_slack = !c.slack_bot_token.empty();
    if (can_read_slack) {
      // Reacted-to messages are fetched through the outbox, so fetches are durable too.
      outbox->add_deliverer(std::string(slack::kPlatform), {JobKind::kFetch},
                            std::make_unique<slack::MessageFetcher>(slack_api(c), handler));
    }
    if (can_post_to_matrix(c)) {
      outbox->add_deliverer(std::string(matrix::kPlatform), {JobKind::kFetch},
                            std::make_unique<matrix::MessageFetcher>(matrix_api(c), handler));
    }
    if (!c.matrix_hs_token.empty() || !c.matrix_access_token.empty()) {
      // Matrix replies cannot travel in the HTTP answer: they go out through the outbox,
      // keyed by the command's event id so that a replayed transaction replies once.
      // All three run inside the store transaction of the homeserver's transaction (or of
      // the sync response), the same in both Matrix modes.
      matrix::RoomEvents::Hooks hooks;
      hooks.reply_sink = [this](Transaction& tx, const ChannelRef& room, const Reply& r,
                                const std::string& event_id) {
        OutgoingMessage message;
        message.body = r;  // an ephemeral reply goes to the room as a notice
        // Without an event id the transaction's own dedupe (same commit) covers it.
        handler.post_in(tx, room, message, clock(), event_id.empty() ? "" : "reply:" + event_id);
        return true;
      };
      hooks.on_invite = [this](Transaction& tx, const std::string& room_id) {
        handler.join_in(tx, matrix::channel_of(room_id), clock(), "join:" + room_id);
        return true;
      };
      // Keyed by room: said once per room, also across restarts (outbox keys are kept).
      hooks.on_encrypted = [this, bot = c.matrix_user_id](Transaction& tx,
                                                          const std::string& room_id) {
        OutgoingMessage message;
        message.body = matrix::encrypted_room_notice(bot);
        handler.post_in(tx, matrix::channel_of(room_id), message, clock(), "encrypted:" + room_id);
        return true;
      };
      if (!c.matrix_hs_token.empty()) {
        matrix_transactions = std::make_unique<matrix::TransactionsEndpoint>(
            c.matrix_hs_token, c.matrix_user_id, handler, clock, std::move(hooks),
            c.matrix_homeserver_url);
      } else {
        matrix_room_events = std::make_unique<matrix::RoomEvents>(
            c.matrix_user_id, handler, std::move(hooks), c.matrix_homeserver_url);
        matrix::SyncLoop::Options sync;
        sync.api = matrix_api(c);
        sync.user_id = c.matrix_user_id;
        matrix_sync = std::make_unique<matrix::SyncLoop>(std::move(sync), *matrix_room_events,
                                                         handler, *store, clock);
      }
    }
    if (c.tracker.active() != trackers::Kind::kNone) {
      // Issue trackers: the extension delivers the core's tracker jobs, takes the
      // tracker's webhooks, and refreshes open tracked items as a fallback.
      outbox->add_deliverer(
          std::string(kTrackerPlatform),
          {JobKind::kTrackCreate, JobKind::kTrackState, JobKind::kTrackRefresh},
          std::make_unique<trackers::TrackerDeliverer>(*store, handler, c.tracker,
                                                       trackers::make_client(c.tracker), clock));
      webhooks = std::make_unique<trackers::WebhookEndpoint>(c.tracker.active(), c.tracker, handler,
                                                             clock);
      refresher = std::make_unique<trackers::Refresher>(*store, c.tracker.refresh_interval, clock,
                                                        [o = outbox.get()] { o->wake(); });
      if (!webhooks->configured()) {
        spdlog::warn("{} is configured without a webhook secret: its webhooks will be refused",
                     trackers::display_name(c.tracker.active()));
      }
    }
    if (!c.publish.destinations().empty()) {
      // Publishing: the extension writes the pages the core's publish jobs ask for.
      outbox->add_deliverer(
          std::string(kPublishPlatform), {JobKind::kPublish},
          std::make_unique<publish::PublishDeliverer>(
              *store, handler, publish::make_destinations(c.publish),
              std::make_shared<const Reviewer>(c.review), c.draft_template, c.timezone, clock));
    }
    if (c.alerts.pagerduty_enabled() || c.alerts.alertmanager_enabled()) {
      // Alert webhooks: alerts on the timeline at their own time (alerts/).
      alerts::Settings settings = c.alerts;
      settings.resolve_channel = &channel_from_spec;
      if (settings.pagerduty_enabled()) {
        pagerduty = std::make_unique<alerts::AlertEndpoint>(alerts::Sender::kPagerDuty, settings,
                                                            handler, clock);
      }
      if (settings.alertmanager_enabled()) {
        alertmanager = std::make_unique<alerts::AlertEndpoint>(alerts::Sender::kAlertmanager,
                                                               settings, handler, clock);
      }
    }
    // The endpoints serve both Slack modes: HTTP (signed requests) and Socket Mode.
    if (!c.slack_signing_secret.empty() || !c.slack_app_token.empty()) {
      if (can_read_slack) {
        slack::UserZones::Options zones;
        zones.api = slack_api(c);
        user_zones = std::make_unique<slack::UserZones>(std::move(zones));
      }
      slack = std::make_unique<slack::CommandsEndpoint>(c.slack_signing_secret, handler, clock,
                                                        user_zones.get());
      slack_events = std::make_unique<slack::EventsEndpoint>(
          c.slack_signing_secret, handler, clock, can_read_slack ? c.slack_pin_reaction : "");
      slack_interactivity =
          std::make_unique<slack::InteractivityEndpoint>(c.slack_signing_secret, handler, clock);
    }
    if (!c.slack_app_token.empty()) {
      slack::SocketMode::Options socket;
      socket.api_url = c.slack_api_url;
      socket.app_token = c.slack_app_token;
      socket.idle_timeout = c.slack_socket_idle_timeout;
      socket_options = socket;
    }
  }

  // Socket Mode is Slack's only way in: without a connection Scribe hears nothing from
  // Slack, so it is not ready. With HTTP configured too, Slack can still POST.
  bool socket_only() const { return socket_options && config.slack_signing_secret.empty(); }

  static slack::WebApi::Options slack_api(const Config& c) {
    slack::WebApi::Options api;
    api.base_url = c.slack_api_url;
    api.token = c.slack_bot_token;
    return api;
  }

  // With a bot token, Scribe posts to Slack on its own (the draft on resolution).
  static std::unique_ptr<OutboxSender> make_outbox(const Config& c, Store& store,
                                                   const Clock& clock) {
    OutboxSender::Options options;
    options.claim_lease = c.claim_lease;
    auto outbox = std::make_unique<OutboxSender>(store, clock, options);
    if (!c.slack_bot_token.empty()) {
      outbox->add_deliverer(std::string(slack::kPlatform),
                            {JobKind::kPost, JobKind::kUpdate, JobKind::kDirect},
                            std::make_unique<slack::SlackDeliverer>(slack_api(c)));
    }
    if (can_post_to_matrix(c)) {
      outbox->add_deliverer(std::string(matrix::kPlatform),
                            {JobKind::kPost, JobKind::kUpdate, JobKind::kJoin, JobKind::kDirect},
                            std::make_unique<matrix::MatrixDeliverer>(matrix_api(c)));
    }
    return outbox;
  }

  static bool can_post_to_matrix(const Config& c) {
    return !c.matrix_homeserver_url.empty() &&
           (!c.matrix_as_token.empty() || !c.matrix_access_token.empty());
  }

  static matrix::ClientApi::Options matrix_api(const Config& c) {
    matrix::ClientApi::Options api;
    api.homeserver_url = c.matrix_homeserver_url;
    if (!c.matrix_access_token.empty()) {
      api.as_token = c.matrix_access_token;  // a bot account acts as itself: no user_id
    } else {
      api.as_token = c.matrix_as_token;
      api.user_id = c.matrix_user_id;
    }
    return api;
  }

  // Every platform Scribe speaks, as its adapter describes it to the core.
  static Platforms platforms() {
    Platforms p;
    p.add(std::string(slack::kPlatform), slack::traits());
    p.add(std::string(matrix::kPlatform), matrix::traits());
    return p;
  }

  // The platforms whose channels the outbox can post to.
  static std::set<std::string> posting_platforms(const OutboxSender& outbox) {
    std::set<std::string> out;
    for (std::string_view p : {slack::kPlatform, matrix::kPlatform}) {
      if (outbox.delivers_to(std::string(p))) out.emplace(p);
    }
    return out;
  }

  static ReminderSettings reminders_for(const Config& c, const OutboxSender& outbox) {
    ReminderSettings settings = reminder_settings(c);
    settings.platforms = posting_platforms(outbox);
    std::set<std::string> direct;
    for (std::string_view p : {slack::kPlatform, matrix::kPlatform}) {
      if (outbox.delivers_to(std::string(p), JobKind::kDirect)) direct.emplace(p);
    }
    settings.direct_platforms = std::move(direct);
    settings.platform_traits = platforms();
    return settings;
  }

  static HandlerOptions handler_options(const Config& c, OutboxSender* outbox) {
    HandlerOptions options;
    options.limits = c.limits;
    options.review = c.review;
    options.close_gate = c.close_gate;
    options.draft_template = c.draft_template;
    options.posting_platforms = posting_platforms(*outbox);
    options.outbox_wake = [outbox] { outbox->wake(); };
    options.platforms = platforms();
    if (c.tracker.active() != trackers::Kind::kNone) {
      options.tracking.enabled = true;
      options.tracking.name = trackers::display_name(c.tracker.active());
      options.tracking.auto_track = c.tracker.auto_track;
    }
    if (const auto destinations = c.publish.destinations(); !destinations.empty()) {
      options.publishing.destinations = destinations;
      options.publishing.automatic = c.publish.automatic;
    }
    return options;
  }

  ~Parts() { stop_threads(); }
  Parts(const Parts&) = delete;
  Parts& operator=(const Parts&) = delete;

  // Messages left pending by an earlier run go out as soon as the service is up, and
  // reminders whose time came while it was down are sent once.
  void start_threads() {
    outbox->start();
    scheduler.start();
    if (refresher) refresher->start();
    // The clients that must run on one replica only start when this one leads.
    leadership->start([this](bool leading) {
      if (leading) {
        start_clients();
      } else {
        stop_clients();
      }
    });
  }
  // On the leadership's thread. A SocketMode runs once, so each term of leadership gets a
  // new one; the sync loop starts again from the position stored in the shared database.
  void start_clients() {
    if (matrix_sync) matrix_sync->start();
    if (socket_options) {
      auto socket = std::make_unique<slack::SocketMode>(
          *socket_options,
          slack::SocketMode::Endpoints{*slack, *slack_events, *slack_interactivity});
      socket->start();
      std::lock_guard lock(socket_mu);
      slack_socket = std::move(socket);
    }
  }
  // Envelopes in hand are acknowledged (or, unacknowledged, redelivered by Slack to the
  // next leader); a sync response in hand is committed with its position or not at all.
  void stop_clients() {
    std::unique_ptr<slack::SocketMode> socket;
    {
      std::lock_guard lock(socket_mu);
      socket = std::move(slack_socket);
    }
    if (socket) {
      socket->stop();
      const auto st = socket->stats();
      std::lock_guard lock(socket_mu);
      socket_past.opened_total += st.opened_total;
      socket_past.envelopes_total += st.envelopes_total;
      socket_past.acks_total += st.acks_total;
    }
    if (matrix_sync) matrix_sync->stop();  // it writes through the handler and the store
  }
  // Counts over every term of leadership (a counter must not fall when a SocketMode is
  // replaced).
  slack::SocketMode::Stats socket_stats() const {
    std::lock_guard lock(socket_mu);
    slack::SocketMode::Stats st = socket_past;
    if (slack_socket) {
      const auto now = slack_socket->stats();
      st.connected = now.connected;
      st.opened_total += now.opened_total;
      st.envelopes_total += now.envelopes_total;
      st.acks_total += now.acks_total;
    }
    return st;
  }
  // Idempotent. The scheduler enqueues into the outbox, so it stops first; the outbox
  // finishes the delivery in hand (a fetch may still record through the handler).
  void stop_threads() {
    // Socket Mode feeds the handler as the listener does: it stops taking envelopes first
    // (acknowledging those in hand); stepping down stops it and the sync loop.
    leadership->stop();
    if (refresher) refresher->stop();
    scheduler.stop();
    outbox->stop();
    // Writes still queued (answers that came too late for the grace period) call back into
    // the endpoints: finish them while those exist. An empty write waits for everything
    // queued before it.
    try {
      store->write([](Transaction&) {});
    } catch (const StoreError& e) {
      spdlog::warn("store unavailable at shutdown: {}", e.what());
    }
  }

  Config config;
  Clock clock;
  const date::time_zone* zone;
  std::unique_ptr<Store> store;
  std::unique_ptr<OutboxSender> outbox;
  CommandHandler handler;
  Api api;
  ReminderPlanner planner;
  Scheduler scheduler;
  std::unique_ptr<matrix::TransactionsEndpoint> matrix_transactions;
  // A bot account (SCRIBE_MATRIX_ACCESS_TOKEN): the sync loop and the events it applies.
  std::unique_ptr<matrix::RoomEvents> matrix_room_events;
  std::unique_ptr<matrix::SyncLoop> matrix_sync;
  std::unique_ptr<slack::UserZones> user_zones;  // before the endpoint that uses it
  std::unique_ptr<slack::CommandsEndpoint> slack;
  std::unique_ptr<slack::EventsEndpoint> slack_events;
  std::unique_ptr<slack::InteractivityEndpoint> slack_interactivity;
  // Slack Socket Mode (SCRIBE_SLACK_APP_TOKEN): run while this replica leads.
  std::optional<slack::SocketMode::Options> socket_options;
  mutable std::mutex socket_mu;                     // guards the two below
  std::unique_ptr<slack::SocketMode> slack_socket;  // after the endpoints it calls
  slack::SocketMode::Stats socket_past;             // of the SocketModes stopped
  // Who runs the sync clients among replicas sharing a PostgreSQL (SQLite: always this).
  std::unique_ptr<Leadership> leadership = open_leadership(config.db);
  std::unique_ptr<trackers::WebhookEndpoint> webhooks;  // the configured tracker's
  std::unique_ptr<trackers::Refresher> refresher;
  std::unique_ptr<alerts::AlertEndpoint> pagerduty;     // /webhooks/pagerduty
  std::unique_ptr<alerts::AlertEndpoint> alertmanager;  // /webhooks/alertmanager
  std::unique_ptr<HttpServer> server;
  // The API's reads and the readiness probe: they block on SQLite, so not on the
  // listener's threads. Destroyed first (declared last but one): it runs what is posted.
  // At a lower CPU priority (nice 10): a large draft rendered for the API takes the cores
  // only when acknowledging commands leaves them idle, which is what keeps the command
  // latency unmoved by readers (bench/load_commands.cpp, "with readers").
  std::unique_ptr<WorkerPool> read_pool = std::make_unique<WorkerPool>(2, "api", 10);
  MemoryReleaser memory{MemoryReleaser::Options{}};
  std::array<std::array<std::atomic<std::uint64_t>, 6>, static_cast<std::size_t>(Route::kCount)>
      requests{};

  void count(Route route, int status) {
    const auto cls = static_cast<std::size_t>(std::clamp(status / 100, 0, 5));
    requests[static_cast<std::size_t>(route)][cls].fetch_add(1, std::memory_order_relaxed);
  }

  std::string metrics() const {
    std::string out =
        "# HELP scribe_http_requests_total HTTP requests answered, by route and status class.\n"
        "# TYPE scribe_http_requests_total counter\n";
    for (std::size_t r = 0; r < kRouteNames.size(); ++r) {
      for (std::size_t cls = 1; cls < 6; ++cls) {
        out += fmt::format("scribe_http_requests_total{{route=\"{}\",code=\"{}xx\"}} {}\n",
                           kRouteNames[r], cls, requests[r][cls].load(std::memory_order_relaxed));
      }
    }
    if (server) out += connection_metrics(server->stats());
    out += fmt::format(
        "# HELP scribe_leader 1 while this replica runs the Socket Mode and Matrix sync "
        "clients (the leader among replicas; always 1 on SQLite).\n"
        "# TYPE scribe_leader gauge\n"
        "scribe_leader {}\n",
        leadership->leading() ? 1 : 0);
    if (socket_options) {
      const auto st = socket_stats();
      out += fmt::format(
          "# HELP scribe_slack_socket_connections Slack Socket Mode connections open (said "
          "hello).\n"
          "# TYPE scribe_slack_socket_connections gauge\n"
          "scribe_slack_socket_connections {}\n"
          "# HELP scribe_slack_socket_opened_total Slack Socket Mode connections opened.\n"
          "# TYPE scribe_slack_socket_opened_total counter\n"
          "scribe_slack_socket_opened_total {}\n"
          "# HELP scribe_slack_socket_envelopes_total Slack Socket Mode envelopes received.\n"
          "# TYPE scribe_slack_socket_envelopes_total counter\n"
          "scribe_slack_socket_envelopes_total {}\n"
          "# HELP scribe_slack_socket_acks_total Slack Socket Mode envelopes acknowledged.\n"
          "# TYPE scribe_slack_socket_acks_total counter\n"
          "scribe_slack_socket_acks_total {}\n",
          st.connected, st.opened_total, st.envelopes_total, st.acks_total);
    }
    out += refusal_metrics(handler.refusals());
    out += outbox_metrics();
    const DraftCache::Stats drafts = api.draft_cache_stats();
    out += fmt::format(
        "# HELP scribe_draft_cache_hits_total API postmortem reads served from the draft cache.\n"
        "# TYPE scribe_draft_cache_hits_total counter\n"
        "scribe_draft_cache_hits_total {}\n"
        "# HELP scribe_draft_cache_misses_total API postmortem reads that rendered the draft.\n"
        "# TYPE scribe_draft_cache_misses_total counter\n"
        "scribe_draft_cache_misses_total {}\n"
        "# HELP scribe_draft_cache_evictions_total Drafts dropped to keep within "
        "api.draft_cache_bytes.\n"
        "# TYPE scribe_draft_cache_evictions_total counter\n"
        "scribe_draft_cache_evictions_total {}\n"
        "# HELP scribe_draft_cache_bytes Bytes of rendered drafts kept.\n"
        "# TYPE scribe_draft_cache_bytes gauge\n"
        "scribe_draft_cache_bytes {}\n",
        drafts.hits, drafts.misses, drafts.evictions, drafts.bytes);
    // Set at start-up when draft.template could not be compiled: alerting sees the drafts
    // are not in the organisation's layout, which the log line alone would not make loud.
    out += fmt::format(
        "# HELP scribe_draft_template_fallback 1 when draft.template is broken and drafts use "
        "the built-in template.\n"
        "# TYPE scribe_draft_template_fallback gauge\n"
        "scribe_draft_template_fallback {}\n",
        config.draft_template_error.empty() ? 0 : 1);
    return out;
  }

  // Jobs waiting in the outbox, and jobs given up. Tests wait for pending to reach 0
  // instead of sleeping; operators see a platform outage as a growing queue. Left out
  // (and logged) when the store cannot be read, rather than shown as 0.
  std::string outbox_metrics() const {
    std::int64_t pending = 0;
    std::int64_t failed = 0;
    try {
      store->read([&](Transaction& tx) {
        pending = tx.count_outbox(OutboxStatus::kPending);
        failed = tx.count_outbox(OutboxStatus::kFailed);
      });
    } catch (const StoreError& e) {
      spdlog::warn("metrics: cannot read the outbox: {}", e.what());
      return {};
    }
    return fmt::format(
        "# HELP scribe_outbox_pending Outbox jobs (posts, updates, fetches, joins) not yet "
        "delivered or given up.\n"
        "# TYPE scribe_outbox_pending gauge\n"
        "scribe_outbox_pending {}\n"
        "# HELP scribe_outbox_failed Outbox jobs given up (a permanent error, or 24 h of "
        "failures).\n"
        "# TYPE scribe_outbox_failed gauge\n"
        "scribe_outbox_failed {}\n",
        pending, failed);
  }
};

Timestamp Service::system_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

Service::Service(const Config& config, Clock clock)
    : parts_(std::make_unique<Parts>(config, std::move(clock))) {
  HttpServer::Options options;
  options.host = config.listen_host;
  options.port = config.listen_port;
  options.max_body_bytes = config.max_body_bytes;
  options.read_timeout = config.read_timeout;
  options.idle_timeout = config.idle_timeout;
  options.shutdown_grace = config.shutdown_grace;
  options.threads = config.threads;
  options.max_connections = config.max_connections;
  parts_->server = std::make_unique<HttpServer>(
      options,
      [this](HttpRequest r, HttpResponder respond) { route(std::move(r), std::move(respond)); });
  if (config.slack_signing_secret.empty()) {
    spdlog::warn(config.slack_app_token.empty()
                     ? "no Slack signing secret set: /slack/* will refuse requests"
                     : "no Slack signing secret set: Slack over Socket Mode only; /slack/* will "
                       "refuse requests");
  }
  if (config.api_token.empty()) spdlog::warn("no API token set: /api/* will refuse requests");
  if (!config.draft_template_error.empty()) {
    spdlog::error("{}; drafts use Scribe's built-in template until it is fixed",
                  config.draft_template_error);
  }
}

// ~Parts stops the threads before any part is destroyed; see Parts.
Service::~Service() = default;

std::uint16_t Service::port() const { return parts_->server->port(); }

void Service::run(bool handle_signals) {
  parts_->start_threads();
  // Stopped however run() ends, a throwing listener included.
  struct StopThreads {
    Parts& parts;
    ~StopThreads() { parts.stop_threads(); }
  } stop_threads{*parts_};
  parts_->server->run(handle_signals);
  // The listener has drained: nothing more is enqueued; stop_threads does the rest.
}

void Service::stop() { parts_->server->stop(); }

void Service::route(HttpRequest request, Respond respond) {
  const std::string_view target = request.target;
  const auto q = target.find('?');
  const std::string path(target.substr(0, q));
  const std::string query(q == std::string_view::npos ? "" : target.substr(q + 1));

  Parts* parts = parts_.get();
  auto counted = [parts, &respond](Route r) -> Respond {
    return [parts, r, respond](HttpResponse response) {
      parts->count(r, response.status);
      respond(std::move(response));
    };
  };
  auto only = [&](Route r, std::string_view method) {
    if (request.method == method) return false;
    HttpResponse res = text(405, fmt::format("use {} here\n", method));
    res.headers.emplace_back("Allow", std::string(method));
    counted(r)(std::move(res));
    return true;
  };
  auto not_configured = [&](Route r, std::string_view what) {
    counted(r)(text(503, fmt::format("{} is not configured on this Scribe\n", what)));
  };

  if (path == "/slack/commands") {
    if (only(Route::kSlackCommands, "POST")) return;
    if (!parts->slack || parts->config.slack_signing_secret.empty()) {
      return not_configured(Route::kSlackCommands, "Slack over HTTP");
    }
    return parts->slack->handle(request, counted(Route::kSlackCommands));
  }
  if (matrix::TransactionsEndpoint::handles_path(path)) {
    if (!parts->matrix_transactions) return not_configured(Route::kMatrix, "Matrix");
    return parts->matrix_transactions->handle(request, counted(Route::kMatrix));
  }
  if (path == "/slack/events") {
    if (only(Route::kSlackEvents, "POST")) return;
    if (!parts->slack_events || parts->config.slack_signing_secret.empty()) {
      return not_configured(Route::kSlackEvents, "Slack over HTTP");
    }
    return parts->slack_events->handle(request, counted(Route::kSlackEvents));
  }
  if (path == "/slack/interactivity") {
    if (only(Route::kSlackInteractivity, "POST")) return;
    if (!parts->slack_interactivity || parts->config.slack_signing_secret.empty()) {
      return not_configured(Route::kSlackInteractivity, "Slack over HTTP");
    }
    return parts->slack_interactivity->handle(request, counted(Route::kSlackInteractivity));
  }
  if (path == "/webhooks/github" || path == "/webhooks/gitlab" || path == "/webhooks/jira") {
    if (only(Route::kWebhooks, "POST")) return;
    const trackers::Kind kind = path == "/webhooks/github"   ? trackers::Kind::kGitHub
                                : path == "/webhooks/gitlab" ? trackers::Kind::kGitLab
                                                             : trackers::Kind::kJira;
    const auto& tracker = parts->config.tracker;
    if (!parts->webhooks || tracker.active() != kind || !parts->webhooks->configured()) {
      return not_configured(Route::kWebhooks,
                            fmt::format("{} webhooks", trackers::display_name(kind)));
    }
    return parts->webhooks->handle(request, counted(Route::kWebhooks));
  }
  if (path == "/webhooks/pagerduty" || path == "/webhooks/alertmanager") {
    if (only(Route::kWebhooks, "POST")) return;
    const bool pd = path == "/webhooks/pagerduty";
    const auto& endpoint = pd ? parts->pagerduty : parts->alertmanager;
    if (!endpoint) {
      return not_configured(Route::kWebhooks, pd ? "PagerDuty webhooks" : "Alertmanager webhooks");
    }
    return endpoint->handle(request, counted(Route::kWebhooks));
  }
  if (path == "/api/incidents" || path.starts_with("/api/incidents/") || path == "/api/trends" ||
      path == "/api/actions") {
    auto task = [parts, request = std::move(request), path, query,
                 respond = counted(Route::kApi)]() {
      respond(parts->api.handle(request, path, query));
    };
    if (!parts->read_pool->post(std::move(task))) {
      counted(Route::kApi)(text(503, "shutting down\n"));
    }
    return;
  }
  if (path == "/healthz") {
    if (only(Route::kHealth, "GET")) return;
    return counted(Route::kHealth)(text(200, "ok\n"));
  }
  if (path == "/readyz") {
    if (only(Route::kHealth, "GET")) return;
    auto task = [parts, respond = counted(Route::kHealth)]() {
      // Not logged here: the store logs each episode once, however often this is asked.
      StoreHealth health;
      try {
        health = parts->store->health();
      } catch (const StoreError& e) {
        health = StoreHealth{false, e.what()};
      }
      if (!health.ready) return respond(text(503, "not ready: " + health.reason + "\n"));
      // A bot account whose token the homeserver refuses hears nothing: not ready.
      if (parts->matrix_sync && !parts->matrix_sync->token_accepted()) {
        return respond(text(503, "matrix access token refused by the homeserver\n"));
      }
      // A standby runs no clients: it is ready for HTTP all the same.
      if (!parts->leadership->leading()) return respond(text(200, "ready (standby)\n"));
      if (parts->socket_only() && parts->socket_stats().connected == 0) {
        return respond(text(503, "no Slack Socket Mode connection\n"));
      }
      respond(text(200, "ready (leader)\n"));
    };
    if (!parts->read_pool->post(std::move(task))) {
      counted(Route::kHealth)(text(503, "shutting down\n"));
    }
    return;
  }
  if (path == "/metrics") {
    if (only(Route::kMetrics, "GET")) return;
    // The outbox gauges read the store: not on a listener thread.
    auto task = [parts, respond = counted(Route::kMetrics)]() {
      HttpResponse res = text(200, parts->metrics());
      res.content_type = "text/plain; version=0.0.4; charset=utf-8";
      respond(std::move(res));
    };
    if (!parts->read_pool->post(std::move(task))) {
      counted(Route::kMetrics)(text(503, "shutting down\n"));
    }
    return;
  }
  counted(Route::kOther)(text(404, "not found\n"));
}

}  // namespace scribe
