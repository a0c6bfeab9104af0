// scribe: `serve` runs the service, `draft` prints a postmortem draft from the database,
// `lint` its review findings, `demo` runs a whole sample incident through the real HTTP path.
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>

#include <date/date.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "adapters/matrix/registration.h"
#include "adapters/matrix/sync.h"
#include "bot/config.h"
#include "bot/demo.h"
#include "bot/memory.h"
#include "bot/process_lock.h"
#include "bot/service.h"
#include "postmortem/draft.h"
#include "postmortem/html.h"
#include "postmortem/json.h"
#include "postmortem/markdown.h"
#include "postmortem/record.h"
#include "postmortem/review_report.h"
#include "postmortem/trends.h"
#include "storage/store.h"

namespace {

// For tests only: SCRIBE_TEST_CLOCK_FILE names a file holding the current time as
// "2026-12-01T09:00:00Z" (a whole file, replaced by rename). The service then reads its
// clock from there, so that an end-to-end test can move a running service to tomorrow's
// reminder time. A file that cannot be read keeps the last time read (never goes back to
// the real clock); one that never could be is an error at start-up.
class FileClock {
 public:
  explicit FileClock(std::string path) : path_(std::move(path)) {
    if (!read())
      throw std::runtime_error("SCRIBE_TEST_CLOCK_FILE: cannot read a time from " + path_);
  }
  scribe::Timestamp now() {
    read();
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  bool read() {
    std::ifstream in(path_);
    std::string text;
    if (!in || !std::getline(in, text)) return false;
    int y = 0;
    unsigned mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (std::sscanf(text.c_str(), "%4d-%2u-%2uT%2u:%2u:%2uZ", &y, &mo, &d, &h, &mi, &sec) != 6) {
      return false;
    }
    const date::year_month_day day{date::year{y}, date::month{mo}, date::day{d}};
    if (!day.ok() || h > 23 || mi > 59 || sec > 60) return false;
    std::lock_guard lock(mu_);
    last_ = date::sys_days{day} + std::chrono::hours{h} + std::chrono::minutes{mi} +
            std::chrono::seconds{sec};
    return true;
  }
  std::string path_;
  std::mutex mu_;
  scribe::Timestamp last_{};
};

void setup_logging(const std::string& level) {
  // Logs go to stderr so that `scribe draft` output stays clean on stdout.
  auto logger = spdlog::stderr_color_mt("scribe");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
}

// A SIGBUS means a mapped file shrank underneath: with the database read, not mapped
// (mmap_size=0), that is SQLite's WAL index (<db>-shm) truncated by someone else. The
// process cannot go on (the memory it reads is gone), but it must not die silently: say
// why on stderr (the log) with what async-signal-safe calls allow, then die of the signal.
void on_sigbus(int) {
  static constexpr char kMessage[] =
      "scribe: SIGBUS: a memory-mapped file was truncated underneath the process, most likely "
      "the database's -shm file (SQLite's WAL index); stopping. Nothing unacknowledged was "
      "lost; restart Scribe, and keep other programs away from the database's files.\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  std::signal(SIGBUS, SIG_DFL);
  std::raise(SIGBUS);
}

void install_fault_signals() {
  struct sigaction bus {};
  bus.sa_handler = on_sigbus;
  sigemptyset(&bus.sa_mask);
  sigaction(SIGBUS, &bus, nullptr);
  // Past a file-size limit (RLIMIT_FSIZE) a write fails with EFBIG, which the store reports
  // as a full disk and recovers from when the limit is raised; the signal's default
  // action would kill the process instead.
  std::signal(SIGXFSZ, SIG_IGN);
}

// Every connection costs a descriptor, and the soft limit is often 1024 while the hard
// one is far higher: take all that is allowed. The listener caps connections below it.
void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn("cannot read the file descriptor limit: {}", std::strerror(errno));
    return;
  }
  if (limit.rlim_cur == limit.rlim_max) {
    spdlog::info("file descriptor limit: {}", limit.rlim_cur);
    return;
  }
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn("file descriptor limit stays {}: raising it to {} failed: {}", before,
                 limit.rlim_max, std::strerror(errno));
    return;
  }
  spdlog::info("file descriptor limit: raised from {} to {}", before, limit.rlim_max);
}

int serve(const std::optional<std::string>& config_path) {
  scribe::configure_allocator();
  const scribe::Config config = scribe::load_config(config_path, scribe::process_environment());
  setup_logging(config.log_level);
  install_fault_signals();
  raise_fd_limit();
  // One process per database file (not for a server database, which has its own locking).
  std::optional<scribe::ProcessLock> lock;
  if (!config.db.starts_with("postgres://") && !config.db.starts_with("postgresql://")) {
    lock.emplace(config.db);
  }
  std::shared_ptr<FileClock> test_clock;
  if (const char* path = std::getenv("SCRIBE_TEST_CLOCK_FILE"); path && *path) {
    test_clock = std::make_shared<FileClock>(path);
    spdlog::warn("clock: read from {} (SCRIBE_TEST_CLOCK_FILE, for tests only)", path);
  }
  scribe::Service service(
      config, test_clock ? scribe::Service::Clock([test_clock] { return test_clock->now(); })
                         : scribe::Service::Clock(scribe::Service::system_now));
  spdlog::info("config: {}", scribe::describe(config));
  // Tests and scripts read the bound port from this line (port 0 picks a free one).
  spdlog::info("listening on {}:{}", config.listen_host, service.port());
  service.run(/*handle_signals=*/true);
  spdlog::info("stopped");
  return 0;
}

// A broken draft.template does not stop a command-line run: the same error the service
// logs goes to stderr, and the draft is made with the built-in template.
void report_template_error(const scribe::Config& config) {
  if (!config.draft_template_error.empty()) {
    std::cerr << "scribe: " << config.draft_template_error
              << "; using Scribe's built-in template\n";
  }
}

int draft(const std::optional<std::string>& config_path, const std::string& id_text,
          const std::string& format) {
  const scribe::Config config = scribe::load_config(config_path, scribe::process_environment());
  setup_logging(config.log_level);
  report_template_error(config);
  const auto id = scribe::parse_incident_ref(id_text);
  if (!id) {
    std::cerr << "scribe draft: '" << id_text << "' is not an incident id (42 or INC-42)\n";
    return 2;
  }
  auto store = scribe::open_store(
      config.db, scribe::StoreOptions{config.sqlite_synchronous, config.db_pool_size});
  std::optional<scribe::IncidentRecord> record;
  store->read(
      [&](scribe::Transaction& tx) { record = scribe::read_record(tx, *id, config.timezone); });
  if (!record) {
    std::cerr << "scribe draft: no incident " << scribe::incident_ref(*id) << " in " << config.db
              << "\n";
    return 1;
  }
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const scribe::PostmortemReview review =
      scribe::review_postmortem(*record, scribe::Reviewer(config.review), now);
  const scribe::Draft d = scribe::assemble_draft(std::move(*record), now);
  if (format == "json") {
    std::cout << scribe::render_reviewed_json(d, review) << "\n";
  } else if (format == "html") {
    std::cout << scribe::html_page(
        d.ref + " postmortem",
        scribe::render_reviewed_markdown(d, review, "/", 0, config.draft_template.get()));
  } else {
    std::cout << scribe::render_reviewed_markdown(d, review, "/", 0, config.draft_template.get());
  }
  return 0;
}

// Prints the review findings of one incident. Exit status: 0 without findings, 1 with
// some, 2 when the incident cannot be read (so scripts can tell "findings" from "failed").
int lint(const std::optional<std::string>& config_path, const std::string& id_text,
         const std::string& format) {
  const scribe::Config config = scribe::load_config(config_path, scribe::process_environment());
  setup_logging(config.log_level);
  report_template_error(config);
  const auto id = scribe::parse_incident_ref(id_text);
  if (!id) {
    std::cerr << "scribe lint: '" << id_text << "' is not an incident id (42 or INC-42)\n";
    return 2;
  }
  auto store = scribe::open_store(
      config.db, scribe::StoreOptions{config.sqlite_synchronous, config.db_pool_size});
  std::optional<scribe::IncidentRecord> record;
  store->read(
      [&](scribe::Transaction& tx) { record = scribe::read_record(tx, *id, config.timezone); });
  if (!record) {
    std::cerr << "scribe lint: no incident " << scribe::incident_ref(*id) << " in " << config.db
              << "\n";
    return 2;
  }
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const scribe::PostmortemReview review =
      scribe::review_postmortem(*record, scribe::Reviewer(config.review), now);
  if (format == "json") {
    std::cout << scribe::review_to_json(review).dump(
                     2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << scribe::incident_ref(*id) << ": " << review.findings.size() << " finding"
              << (review.findings.size() == 1 ? "" : "s") << "\n";
    for (const std::string& line : scribe::finding_lines(review.findings)) {
      std::cout << line << "\n";
    }
  }
  return review.findings.empty() ? 0 : 1;
}

int report(const std::optional<std::string>& config_path, const std::string& since_text,
           const std::string& format) {
  const scribe::Config config = scribe::load_config(config_path, scribe::process_environment());
  setup_logging(config.log_level);
  const auto span = scribe::parse_span(since_text);
  if (!span) {
    std::cerr << "scribe report: --since '" << since_text
              << "' is not a span like 90d, 12w, 6m or 1y\n";
    return 2;
  }
  // The service's clock, so that a test sees the figures `/incident trends` shows.
  scribe::Timestamp now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  if (const char* path = std::getenv("SCRIBE_TEST_CLOCK_FILE"); path && *path) {
    now = FileClock(path).now();
  }
  const scribe::Timestamp since = now - *span;
  auto store = scribe::open_store(
      config.db, scribe::StoreOptions{config.sqlite_synchronous, config.db_pool_size});
  scribe::TrendsRows rows;
  store->read([&](scribe::Transaction& tx) { rows = tx.trends_rows(since); });
  const scribe::Trends t = scribe::compute_trends(rows, since, now);
  if (format == "json") {
    std::cout << scribe::trends_json(t) << "\n";
  } else if (format == "html") {
    std::cout << scribe::trends_html(t);
  } else {
    std::cout << scribe::trends_markdown(t);
  }
  return 0;
}

// `scribe matrix-login`: a bot account's access token from its user name and password. The
// password comes from SCRIBE_MATRIX_PASSWORD when set, else the first line of stdin (not
// echoed when stdin is a terminal); never from the command line, where `ps` and shell
// history would show it. Prints only the token on stdout, so that
// `SCRIBE_MATRIX_ACCESS_TOKEN=$(scribe matrix-login --user scribe)` works.
int matrix_login(const std::optional<std::string>& config_path, std::string homeserver,
                 const std::string& user, const std::string& device_name) {
  const auto env = scribe::process_environment();
  if (homeserver.empty()) {
    // The configured homeserver, as `serve` would use it.
    homeserver = scribe::load_config(config_path, env).matrix_homeserver_url;
  }
  if (homeserver.empty()) {
    std::cerr << "scribe matrix-login: no homeserver: pass --homeserver https://matrix.example.org "
                 "or set SCRIBE_MATRIX_HOMESERVER_URL\n";
    return 2;
  }
  std::string password;
  if (auto from_env = env("SCRIBE_MATRIX_PASSWORD"); from_env && !from_env->empty()) {
    password = *from_env;
  } else {
    const bool terminal = isatty(STDIN_FILENO) == 1;
    termios saved{};
    if (terminal) {
      std::cerr << "Password for " << user << ": " << std::flush;
      if (tcgetattr(STDIN_FILENO, &saved) == 0) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
      }
    }
    std::getline(std::cin, password);
    if (terminal) {
      tcsetattr(STDIN_FILENO, TCSANOW, &saved);
      std::cerr << "\n";
    }
    if (!password.empty() && password.back() == '\r') password.pop_back();
  }
  if (password.empty()) {
    std::cerr
        << "scribe matrix-login: no password: give it on stdin or in SCRIBE_MATRIX_PASSWORD\n";
    return 2;
  }
  const scribe::matrix::ClientResult r =
      scribe::matrix::password_login(homeserver, user, password, device_name);
  const std::string token =
      r.ok && r.json.contains("access_token") && r.json["access_token"].is_string()
          ? r.json["access_token"].get<std::string>()
          : std::string();
  if (token.empty()) {
    std::cerr << "scribe matrix-login: the homeserver refused the login: "
              << (r.errcode.empty() ? "" : r.errcode + ": ")
              << (r.ok ? std::string("no access_token in its answer") : r.error) << "\n";
    return 1;
  }
  const std::string user_id = r.json.value("user_id", std::string());
  std::cerr << "Logged in as " << user_id << " (device " << r.json.value("device_id", std::string())
            << "). Run Scribe with SCRIBE_MATRIX_HOMESERVER_URL=" << homeserver
            << " SCRIBE_MATRIX_USER_ID=" << user_id
            << " and SCRIBE_MATRIX_ACCESS_TOKEN set to the token printed on stdout.\n";
  std::cout << token << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Scribe: the incident channel's scribe"};
  app.require_subcommand(1);
  std::optional<std::string> config_path;
  app.add_option("--config", config_path, "TOML configuration file")->check(CLI::ExistingFile);

  auto* serve_cmd = app.add_subcommand("serve", "run the service");

  std::string draft_id;
  std::string draft_format = "md";
  auto* draft_cmd = app.add_subcommand("draft", "print an incident's postmortem draft");
  draft_cmd->add_option("incident", draft_id, "incident id (42 or INC-42)")->required();
  draft_cmd->add_option("--format", draft_format, "md, html or json")
      ->check(CLI::IsMember({"md", "html", "json"}));

  std::string lint_id;
  std::string lint_format = "md";
  auto* lint_cmd = app.add_subcommand(
      "lint", "print an incident's review findings; exit status 1 when there are any");
  lint_cmd->add_option("incident", lint_id, "incident id (42 or INC-42)")->required();
  lint_cmd->add_option("--format", lint_format, "md or json")->check(CLI::IsMember({"md", "json"}));

  std::string report_since = "90d";
  std::string report_format = "md";
  auto* report_cmd = app.add_subcommand("report", "print trends across incidents");
  report_cmd->add_option("--since", report_since, "how far back: 90d, 12w, 6m, 1y");
  report_cmd->add_option("--format", report_format, "md, html or json")
      ->check(CLI::IsMember({"md", "html", "json"}));

  auto* demo_cmd = app.add_subcommand(
      "demo", "run a sample incident through the real HTTP path and print the draft");
  bool demo_keep = false;
  demo_cmd->add_flag("--keep", demo_keep, "keep the demo's database and print its path");

  auto* registration_cmd =
      app.add_subcommand("matrix-registration",
                         "print the application-service registration YAML for a Matrix homeserver");
  scribe::matrix::RegistrationOptions registration;
  registration_cmd->add_option("--url", registration.url, "where the homeserver reaches Scribe")
      ->required();
  registration_cmd
      ->add_option("--homeserver-domain", registration.homeserver_domain,
                   "the homeserver's server name, e.g. example.org")
      ->required();
  registration_cmd->add_option("--id", registration.id, "application service id");
  registration_cmd->add_option("--localpart", registration.sender_localpart,
                               "the bot user's localpart");

  auto* login_cmd = app.add_subcommand(
      "matrix-login",
      "log a Matrix bot account in and print its access token (password from stdin or "
      "SCRIBE_MATRIX_PASSWORD)");
  std::string login_homeserver;
  std::string login_user;
  std::string login_device = "Scribe";
  login_cmd->add_option(
      "--homeserver", login_homeserver,
      "the homeserver's client-server URL (default: SCRIBE_MATRIX_HOMESERVER_URL)");
  login_cmd->add_option("--user", login_user, "the bot account: a localpart or @user:server")
      ->required();
  login_cmd->add_option("--device-name", login_device, "the session's name in the account");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*serve_cmd) return serve(config_path);
    if (*draft_cmd) return draft(config_path, draft_id, draft_format);
    if (*lint_cmd) return lint(config_path, lint_id, lint_format);
    if (*report_cmd) return report(config_path, report_since, report_format);
    if (*demo_cmd) return scribe::run_demo(std::cout, demo_keep);
    if (*login_cmd) return matrix_login(config_path, login_homeserver, login_user, login_device);
    if (*registration_cmd) {
      // Tokens come from the environment when set (so the YAML matches the running
      // service), else fresh random ones that the operator copies into both places.
      const auto env = scribe::process_environment();
      registration.as_token =
          env("SCRIBE_MATRIX_AS_TOKEN").value_or(scribe::matrix::random_token());
      registration.hs_token =
          env("SCRIBE_MATRIX_HS_TOKEN").value_or(scribe::matrix::random_token());
      std::cout << scribe::matrix::registration_yaml(registration);
      return 0;
    }
  } catch (const scribe::AlreadyRunning& e) {
    std::cerr << "scribe: " << e.what() << "\n";
    return 3;
  } catch (const scribe::ConfigError& e) {
    std::cerr << "scribe: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "scribe: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
