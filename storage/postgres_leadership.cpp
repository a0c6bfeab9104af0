#include "storage/postgres_leadership.h"

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "storage/postgres_connection.h"
#include "storage/postgres_schema.h"

namespace scribe {
namespace {

using SteadyClock = std::chrono::steady_clock;
using pg::libpq;
using std::chrono::milliseconds;

// How long one poll of the leader's socket lasts: the longest a stop() or a message from
// the server (the FATAL of pg_terminate_backend, EOF) waits to be noticed.
constexpr milliseconds kSlice{100};

class PostgresLeadership final : public Leadership {
 public:
  PostgresLeadership(std::string url, const LeadershipOptions& options)
      : url_(std::move(url)), where_(pg::redact_url(url_)), options_(options) {}
  ~PostgresLeadership() override { PostgresLeadership::stop(); }

  void start(OnChange on_change) override {
    if (thread_.joinable()) return;
    on_change_ = std::move(on_change);
    thread_ = std::thread([this] { run(); });
  }

  void stop() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  bool leading() const override { return leading_.load(); }

 private:
  enum class Watch { kAlive, kLost, kStopping };

  bool stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  // Waits `delay` unless stopped first; false when stopped.
  bool pause(milliseconds delay) {
    std::unique_lock lock(mu_);
    return !wake_.wait_for(lock, delay, [this] { return stopping_; });
  }

  void run() {
    while (!stopping()) {
      if (!conn_ && !connect()) {
        pause(options_.retry_interval);
        continue;
      }
      const auto got =
          query(fmt::format("SELECT pg_try_advisory_lock({})", pg::kLeaderLock), deadline());
      if (!got) {
        lost("the leader lock could not be asked for");
        pause(options_.retry_interval);
        continue;
      }
      if (*got != "t") {  // another replica leads
        pause(options_.retry_interval);
        continue;
      }
      // Ours. A leader whose connection was cut may not have seen it yet: it gets
      // takeover_delay to step down before this replica starts anything.
      Watch w = watch(options_.takeover_delay);
      if (w == Watch::kAlive) {
        spdlog::info("leadership: this replica leads (PostgreSQL advisory lock at {})", where_);
        leading_ = true;
        const bool started = tell(true);
        if (!started) w = Watch::kLost;  // steps down, and lets another try
        while (w == Watch::kAlive) w = watch(options_.check_interval);
        // Step down before the connection (and so the lock) is given up.
        leading_ = false;
        if (w == Watch::kLost && started) {
          spdlog::warn("leadership: stepping down: the connection to {} holding the lock failed",
                       where_);
        }
        tell(false);
        if (w == Watch::kLost) {
          // A standby (trying every retry_interval) gets the lock before this replica,
          // whose connection just failed, campaigns again.
          conn_.reset();
          failing_ = true;
          pause(2 * options_.retry_interval);
          continue;
        }
      }
      if (w == Watch::kStopping) {
        // Released at once, not when the server notices the closed connection.
        (void)query(fmt::format("SELECT pg_advisory_unlock({})", pg::kLeaderLock), deadline());
        conn_.reset();
        break;
      }
      lost("the connection holding the leader lock failed");
    }
    conn_.reset();
  }

  // Calls on_change; false (logged) when it threw: this thread must not die of it.
  bool tell(bool leading) {
    try {
      on_change_(leading);
      return true;
    } catch (const std::exception& e) {
      spdlog::error("leadership: {} the clients failed: {}", leading ? "starting" : "stopping",
                    e.what());
      return false;
    }
  }

  // How long a round trip may take: twice the check interval, so a busy server does not make
  // the leader step down for nothing, and a silent one is still noticed (within three
  // intervals) before its session's keepalives free the lock for another.
  milliseconds deadline() const { return std::max(2 * options_.check_interval, milliseconds(500)); }

  bool connect() {
    try {
      conn_ = std::make_unique<pg::Connection>(url_);
      // A leader cut off without a word (a network partition) keeps its session, and the
      // lock, until the server gives up on the connection: within about 8 s with these
      // (the server's defaults are the kernel's, hours), so a standby can take over. Plain
      // user settings; ignored on a Unix socket.
      conn_->exec(
          "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 1; "
          "SET tcp_keepalives_count = 3");
      if (failing_) spdlog::info("leadership: connected to {} again", where_);
      failing_ = false;
      return true;
    } catch (const StoreError& e) {
      conn_.reset();
      if (!failing_) spdlog::warn("leadership: {}; trying again every second", e.what());
      failing_ = true;
      return false;
    }
  }

  // Drops the connection: the server frees the lock with the session, if it still held it.
  void lost(const char* what) {
    if (!failing_) spdlog::warn("leadership: {} ({})", what, where_);
    failing_ = true;
    conn_.reset();
  }

  // Until the connection has a whole result to give, or `until`. False when it failed.
  bool ready_by(PGconn* c, SteadyClock::time_point until) {
    while (libpq().PQisBusy(c) != 0) {
      const auto left = std::chrono::duration_cast<milliseconds>(until - SteadyClock::now());
      if (left.count() <= 0) return false;
      pollfd p{libpq().PQsocket(c), POLLIN, 0};
      const int n = ::poll(&p, 1, static_cast<int>(std::min(left, kSlice).count()));
      if (n < 0 && errno != EINTR) return false;
      if (libpq().PQconsumeInput(c) == 0) return false;
    }
    return true;
  }

  // The first value of a one-row query, within `timeout`; nullopt when it failed or took
  // longer (the connection is then of no further use).
  std::optional<std::string> query(const std::string& sql, milliseconds timeout) {
    PGconn* c = conn_->raw();
    if (c == nullptr || libpq().PQstatus(c) != CONNECTION_OK) return std::nullopt;
    if (libpq().PQsendQuery(c, sql.c_str()) == 0) return std::nullopt;
    const auto until = SteadyClock::now() + timeout;
    std::optional<std::string> value;
    bool ok = true;
    for (;;) {
      if (!ready_by(c, until)) return std::nullopt;
      PGresult* r = libpq().PQgetResult(c);
      if (r == nullptr) break;
      if (libpq().PQresultStatus(r) == PGRES_TUPLES_OK && libpq().PQntuples(r) > 0) {
        value = std::string(libpq().PQgetvalue(r, 0, 0));
      } else if (libpq().PQresultStatus(r) != PGRES_TUPLES_OK) {
        ok = false;
      }
      libpq().PQclear(r);
    }
    if (!ok || !value) return std::nullopt;
    return value;
  }

  // Watches the connection for `period`: anything the server sends unasked (a termination,
  // EOF) is seen within kSlice; at the end a round trip proves it still answers.
  Watch watch(milliseconds period) {
    PGconn* c = conn_->raw();
    const auto until = SteadyClock::now() + period;
    for (;;) {
      if (stopping()) return Watch::kStopping;
      const auto left = std::chrono::duration_cast<milliseconds>(until - SteadyClock::now());
      if (left.count() <= 0) break;
      pollfd p{libpq().PQsocket(c), POLLIN, 0};
      const int n = ::poll(&p, 1, static_cast<int>(std::min(left, kSlice).count()));
      if (n < 0 && errno != EINTR) return Watch::kLost;
      if (n > 0) {
        if (libpq().PQconsumeInput(c) == 0 || libpq().PQstatus(c) != CONNECTION_OK)
          return Watch::kLost;
        while (PGnotify* note = libpq().PQnotifies(c)) libpq().PQfreemem(note);
      }
    }
    return query("SELECT 1", deadline()) ? Watch::kAlive : Watch::kLost;
  }

  const std::string url_;
  const std::string where_;  // without the password
  const LeadershipOptions options_;
  OnChange on_change_;
  std::unique_ptr<pg::Connection> conn_;  // the thread's alone
  bool failing_ = false;                  // the thread's alone: logs once per episode
  std::atomic<bool> leading_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Leadership> open_postgres_leadership(const std::string& url,
                                                     const LeadershipOptions& options) {
  return std::make_unique<PostgresLeadership>(url, options);
}

}  // namespace scribe
