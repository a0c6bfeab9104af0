// Leadership: which replica runs what must run once among replicas sharing a database (the
// platforms' long-lived inbound clients, which bot/ starts: two would receive everything twice).
// Chosen at start-up by the store's location, like the store:
// - SQLite (one process owns the file, bot/process_lock.h): always the leader.
// - PostgreSQL: the replica holding the session-level advisory lock pg::kLeaderLock, on a
//   connection of its own (not the store's pool, whose sessions come and go). A standby
//   tries pg_try_advisory_lock every `retry_interval`; the leader watches its connection
//   (a message or EOF from the server at once, a round trip every `check_interval` with
//   twice that as deadline). When the connection is lost or the check fails it steps down at
//   once: on_change(false) stops the clients before the connection is closed (a session
//   that merely stopped answering still holds the lock until then). It campaigns again
//   after two retry intervals, so that a standby, not the replica whose connection just
//   failed, takes over.
//
// Takeover: a leader whose process dies loses its session, and PostgreSQL frees the lock
// at once; so does pg_terminate_backend. A standby takes it at its next attempt and leads
// `takeover_delay` later: by then a leader whose connection was cut (rather than its
// process killed) has seen it and is stopping its clients (a client finishing the work in
// hand may overlap the new leader's briefly; what they receive twice is deduplicated by
// the store's delivery keys). A takeover takes takeover_delay plus at
// most retry_interval (1 to 2 s with the defaults). A leader cut off silently (a network
// partition) steps down within check_interval plus the check's deadline; its session, and
// the lock, end when the server's TCP keepalives (set on the session: about 8 s) give up.
//
// Threads: start() and stop() from one controlling thread. on_change is called on the
// leadership's own thread (SQLite: inside start() and stop()), in order, alternating true
// and false, never concurrently; stop() returns after the last call (false when it was
// leading). leading() from any thread: true from just before on_change(true) is called
// until just before on_change(false) is.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace scribe {

struct LeadershipOptions {
  std::chrono::milliseconds retry_interval{1000};
  std::chrono::milliseconds check_interval{1000};
  std::chrono::milliseconds takeover_delay{1000};
};

class Leadership {
 public:
  using OnChange = std::function<void(bool leading)>;
  virtual ~Leadership() = default;  // implementations stop()

  // Starts campaigning. Once.
  virtual void start(OnChange on_change) = 0;
  // Steps down (on_change(false) first when leading), releases the lock and stops. Idempotent.
  virtual void stop() = 0;
  virtual bool leading() const = 0;
};

// For the store at `location` (a file path: SQLite; postgresql:// or postgres://: the
// advisory lock on that database). Never throws for an unreachable server: it campaigns
// until it can connect.
std::unique_ptr<Leadership> open_leadership(const std::string& location,
                                            const LeadershipOptions& options = {});

}  // namespace scribe
