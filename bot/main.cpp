// scribe: `serve` runs the service, `draft` prints a postmortem draft from the database,
// `lint` its review findings, `demo` runs a whole sample incident through the real HTTP path;
// `migrate`, `backup`, `restore`, `export`, `import` and `config` are the operator's tools.
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <date/date.h>
#include <fmt/format.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "adapters/matrix/registration.h"
#include "adapters/matrix/sync.h"
#include "archive/archive.h"
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
#include "storage/postgres_maintenance.h"
#include "storage/sqlite_maintenance.h"
#include "storage/sqlite_store.h"
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

bool is_server_database(const std::string& db) {
  return db.starts_with("postgres://") || db.starts_with("postgresql://");
}

std::string utc_seconds(scribe::Timestamp t) {
  return date::format("%Y-%m-%d %H:%M:%SZ", std::chrono::time_point_cast<std::chrono::seconds>(t));
}

// What `scribe migrate` applied to the database at `where`; `version` is asked only when
// nothing was.
void report_applied(const std::string& where, const std::vector<int>& applied,
                    const std::function<int()>& version) {
  if (applied.empty()) {
    std::cout << where << ": schema version " << version() << ", nothing to apply\n";
  } else {
    std::cout << where << ": applied " << applied.size() << " migration"
              << (applied.size() == 1 ? "" : "s") << " (" << applied.front() << " to "
              << applied.back() << "); schema version " << applied.back() << "\n";
  }
}

// `scribe migrate [--status]`: shows each migration as applied (when) or pending, or applies
// the pending ones. On SQLite applying takes the process lock when there is something to
// apply, so a running server (perhaps an older build) never has its schema changed
// underneath it; on PostgreSQL the same numbered migrations, under the migration advisory
// lock.
int migrate(const std::optional<std::string>& config_path, bool status_only) {
  const scribe::Config config = scribe::load_config(config_path, scribe::process_environment());
  setup_logging(config.log_level);
  const bool server = is_server_database(config.db);
  // Never the URL's password on the terminal.
  const std::string where = server ? scribe::postgres_location(config.db) : config.db;
  if (status_only) {
    const auto states = server ? scribe::postgres_migration_status(config.db)
                               : scribe::sqlite_migration_status(config.db);
    std::size_t pending = 0;
    int version = 0;
    for (const auto& m : states) {
      if (m.applied_at) {
        version = m.version;
      } else {
        ++pending;
      }
    }
    std::cout << where << ": schema version " << version << " of " << states.size() << ", "
              << (pending == 0 ? std::string("nothing pending")
                               : std::to_string(pending) + " pending")
              << "\n";
    for (const auto& m : states) {
      std::cout << fmt::format(
          "{:>4}  {:<30}  {}\n", m.version,
          m.applied_at ? "applied " + utc_seconds(*m.applied_at) : std::string("pending"), m.name);
    }
    return 0;
  }
  if (server) {
    // Replicas may be serving: the migration advisory lock keeps appliers apart; a replica
    // of an older build refuses to start on the newer schema, as its own start would.
    report_applied(where, scribe::postgres_migrate(config.db), [&] {
      return static_cast<int>(scribe::postgres_migration_status(config.db).size());
    });
    return 0;
  }
  std::optional<scribe::ProcessLock> lock;
  {
    std::error_code ec;
    bool pending = !std::filesystem::exists(config.db, ec);
    if (!pending) {
      for (const auto& m : scribe::sqlite_migration_status(config.db)) {
        if (!m.applied_at) pending = true;
      }
    }
    if (pending) lock.emplace(config.db);
  }
  report_applied(where, scribe::sqlite_migrate(config.db), [&] {
    return static_cast<int>(scribe::sqlite_migration_status(config.db).size());
  });
  return 0;
}

constexpr const char* kSqliteOnly =
    "works on SQLite databases only; for PostgreSQL use pg_dump and pg_restore (README, "
    "Backup and restore), or `scribe export` / `scribe import`";

std::string describe_summary(const scribe::DatabaseSummary& s) {
  return fmt::format("schema version {}, {} incident{}, {} bytes", s.schema_version, s.incidents,
                     s.incidents == 1 ? "" : "s", s.bytes);
}

// `scribe backup <file>`: an online copy of the SQLite database, also while `serve` runs.
int backup(const std::optional<std::string>& config_path, const std::string& file, bool overwrite) {
  const scribe::Config config = scribe::load_config(config_path, scribe::process_environment());
  setup_logging(config.log_level);
  if (is_server_database(config.db)) {
    std::cerr << "scribe backup: " << kSqliteOnly << "\n";
    return 2;
  }
  const auto summary = scribe::sqlite_backup(config.db, file, overwrite);
  std::cout << "backed up " << config.db << " to " << file << " (" << describe_summary(summary)
            << ")\n";
  return 0;
}

// `scribe restore <file>`: replaces the database with a backup. Refused while a server holds
// the database's process lock; the lock is held for the restore, so none starts meanwhile.
int restore(const std::optional<std::string>& config_path, const std::string& file) {
  const scribe::Config config = scribe::load_config(config_path, scribe::process_environment());
  setup_logging(config.log_level);
  if (is_server_database(config.db)) {
    std::cerr << "scribe restore: " << kSqliteOnly << "\n";
    return 2;
  }
  std::optional<scribe::ProcessLock> lock;
  try {
    lock.emplace(config.db);
  } catch (const scribe::AlreadyRunning& e) {
    std::cerr << "scribe restore: " << e.what() << "; stop it before restoring (nothing was "
              << "changed)\n";
    return 3;
  }
  // Checked before anything is touched; a bad file changes nothing.
  try {
    scribe::sqlite_check_database(file);
  } catch (const scribe::StoreError& e) {
    std::cerr << "scribe restore: " << e.what() << " (nothing was changed)\n";
    return 2;
  }
  const scribe::RestoreResult r = scribe::sqlite_restore(file, config.db);
  if (!r.moved_aside.empty()) {
    std::cout << "the database in place could not be read; it was moved to " << r.moved_aside
              << "\n";
  }
  std::cout << "restored " << file << " into " << config.db << " (" << describe_summary(r.restored)
            << ")";
  const int latest = static_cast<int>(scribe::sqlite_migration_status(config.db).size());
  if (r.restored.schema_version < latest) {
    std::cout << "; " << latest - r.restored.schema_version
              << " newer migrations are pending: `scribe migrate` or the next `scribe serve` "
                 "applies them";
  }
  std::cout << "\n";
  return 0;
}

// Writes `text` to `path` whole or not at all: beside it first, then renamed.
void write_file_atomically(const std::string& path, const std::string& text, bool overwrite) {
  std::error_code ec;
  if (!overwrite && std::filesystem::exists(path, ec)) {
    throw std::runtime_error(path + " already exists (pass --overwrite to replace it)");
  }
  const std::string tmp = fmt::format("{}.partial-{}", path, ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error(fmt::format("cannot write {}: {}", path, ec.message()));
  }
}

// `scribe export [--incident N] [file]`: incidents as JSON (archive/archive.h), on stdout
// or into a file. Reads only, so it works while `scribe serve` runs.
int export_incidents(const std::optional<std::string>& config_path,
                     const std::optional<std::string>& incident, const std::string& file,
                     bool overwrite) {
  const scribe::Config config = scribe::load_config(config_path, scribe::process_environment());
  setup_logging(config.log_level);
  std::optional<scribe::IncidentId> only;
  if (incident) {
    only = scribe::parse_incident_ref(*incident);
    if (!only) {
      std::cerr << "scribe export: '" << *incident << "' is not an incident id (42 or INC-42)\n";
      return 2;
    }
  }
  auto store = scribe::open_store(config.db, scribe::StoreOptions{config.sqlite_synchronous});
  std::optional<nlohmann::ordered_json> doc;
  store->read([&](scribe::Transaction& tx) { doc = scribe::archive::export_incidents(tx, only); });
  if (!doc) {
    std::cerr << "scribe export: no incident " << scribe::incident_ref(*only) << " in " << config.db
              << "\n";
    return 1;
  }
  const std::string text = doc->dump(2) + "\n";
  if (file.empty() || file == "-") {
    std::cout << text;
  } else {
    write_file_atomically(file, text, overwrite);
    std::cerr << "exported " << (*doc)["incidents"].size() << " incident"
              << ((*doc)["incidents"].size() == 1 ? "" : "s") << " to " << file << "\n";
  }
  return 0;
}

// `scribe import <file>`: adds the incidents of an export, all in one transaction, or
// nothing (archive::import_incidents says what it refuses). On SQLite it takes the process
// lock: a long import would hold the write lock the server's commands need.
int import_incidents(const std::optional<std::string>& config_path, const std::string& file) {
  const scribe::Config config = scribe::load_config(config_path, scribe::process_environment());
  setup_logging(config.log_level);
  nlohmann::json doc;
  {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "scribe import: cannot read " << file << ": " << std::strerror(errno) << "\n";
      return 2;
    }
    try {
      doc = nlohmann::json::parse(in);
    } catch (const nlohmann::json::parse_error& e) {
      std::cerr << "scribe import: " << file << " is not JSON: " << e.what()
                << " (nothing was imported)\n";
      return 2;
    }
  }
  std::optional<scribe::ProcessLock> lock;
  if (!is_server_database(config.db)) {
    try {
      lock.emplace(config.db);
    } catch (const scribe::AlreadyRunning& e) {
      std::cerr << "scribe import: " << e.what() << "; stop it before importing into a SQLite "
                << "database (nothing was imported)\n";
      return 3;
    }
  }
  auto store = scribe::open_store(config.db, scribe::StoreOptions{config.sqlite_synchronous});
  scribe::archive::ImportResult result;
  try {
    store->write(
        [&](scribe::Transaction& tx) { result = scribe::archive::import_incidents(tx, doc); });
  } catch (const scribe::archive::ImportError& e) {
    std::cerr << "scribe import: " << file << ": " << e.what() << "\n";
    return 2;
  }
  std::cout << "imported " << result.ids.size() << " incident"
            << (result.ids.size() == 1 ? "" : "s") << " into " << config.db;
  if (result.channel_zones > 0) {
    std::cout << " and " << result.channel_zones << " channel time zone setting"
              << (result.channel_zones == 1 ? "" : "s");
  }
  std::cout << "\n";
  for (const auto& [from, to] : result.ids) {
    std::cout << "  " << scribe::incident_ref(from) << " is now " << scribe::incident_ref(to)
              << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (!scribe::configure_sqlite_process()) {
    std::cerr << "warning: SQLite was in use before its settings; memory statistics stay on\n";
  }
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

  auto* migrate_cmd = app.add_subcommand(
      "migrate", "apply the database's pending schema migrations (or list them with --status)");
  bool migrate_status = false;
  migrate_cmd->add_flag("--status", migrate_status,
                        "list each migration as applied or pending; change nothing");

  auto* backup_cmd = app.add_subcommand(
      "backup", "copy the SQLite database to a file, also while `scribe serve` runs");
  std::string backup_file;
  bool backup_overwrite = false;
  backup_cmd->add_option("file", backup_file, "where the backup goes")->required();
  backup_cmd->add_flag("--overwrite", backup_overwrite, "replace an existing file");

  auto* restore_cmd = app.add_subcommand(
      "restore", "replace the SQLite database with a backup (refused while a server runs)");
  std::string restore_file;
  restore_cmd->add_option("file", restore_file, "a file made by `scribe backup`")->required();

  auto* export_cmd = app.add_subcommand(
      "export", "print incidents as JSON (all, or one) for `scribe import`; works while serving");
  std::optional<std::string> export_incident;
  std::string export_file;
  bool export_overwrite = false;
  export_cmd->add_option("--incident", export_incident, "only this incident (42 or INC-42)");
  export_cmd->add_option("file", export_file, "where to write it (default: stdout)");
  export_cmd->add_flag("--overwrite", export_overwrite, "replace an existing file");

  auto* import_cmd =
      app.add_subcommand("import", "add the incidents of a `scribe export` file, all or none");
  std::string import_file;
  import_cmd->add_option("file", import_file, "a file made by `scribe export`")->required();

  auto* config_cmd = app.add_subcommand(
      "config", "print the configuration in effect (secrets as set/unset), or its reference");
  bool config_reference = false;
  config_cmd->add_flag("--reference", config_reference,
                       "print every setting (TOML key, environment variable, default, "
                       "description) as Markdown");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*serve_cmd) return serve(config_path);
    if (*draft_cmd) return draft(config_path, draft_id, draft_format);
    if (*lint_cmd) return lint(config_path, lint_id, lint_format);
    if (*report_cmd) return report(config_path, report_since, report_format);
    if (*demo_cmd) return scribe::run_demo(std::cout, demo_keep);
    if (*migrate_cmd) return migrate(config_path, migrate_status);
    if (*backup_cmd) return backup(config_path, backup_file, backup_overwrite);
    if (*restore_cmd) return restore(config_path, restore_file);
    if (*export_cmd) {
      return export_incidents(config_path, export_incident, export_file, export_overwrite);
    }
    if (*import_cmd) return import_incidents(config_path, import_file);
    if (*config_cmd) {
      if (config_reference) {
        std::cout << scribe::configuration_reference();
      } else {
        const auto config = scribe::load_config(config_path, scribe::process_environment());
        std::cout << scribe::describe(config) << "\n";
      }
      return 0;
    }
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
