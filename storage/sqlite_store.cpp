#include "storage/sqlite_store.h"

#include <sqlite3.h>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <span>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

namespace scribe {
namespace {

// Versioned schema. A migration is never edited once released: add a new one.
constexpr std::string_view kMigrations[] = {
    // 1: incidents, timeline with audit trail, notes, action items, drafts.
    R"sql(
CREATE TABLE incidents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  platform TEXT NOT NULL,
  workspace TEXT NOT NULL,
  channel TEXT NOT NULL,
  title TEXT NOT NULL,
  severity INTEGER NOT NULL,
  status TEXT NOT NULL,
  commander_id TEXT NOT NULL,
  commander_name TEXT NOT NULL,
  declared_at INTEGER NOT NULL,
  mitigated_at INTEGER,
  resolved_at INTEGER,
  closed_at INTEGER
);
CREATE INDEX incidents_by_channel ON incidents(platform, workspace, channel, id);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  author_id TEXT NOT NULL,
  author_name TEXT NOT NULL,
  text TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  revision INTEGER NOT NULL DEFAULT 0,
  UNIQUE (incident_id, seq)
);
CREATE TABLE event_revisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id INTEGER NOT NULL REFERENCES events(id),
  revision INTEGER NOT NULL,
  change TEXT NOT NULL,
  kind TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  text TEXT NOT NULL,
  changed_by_id TEXT NOT NULL,
  changed_by_name TEXT NOT NULL,
  changed_at INTEGER NOT NULL
);
CREATE INDEX event_revisions_by_event ON event_revisions(event_id, revision);
CREATE TABLE notes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  section TEXT NOT NULL,
  text TEXT NOT NULL,
  author_id TEXT NOT NULL,
  author_name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX notes_by_incident ON notes(incident_id, id);
CREATE TABLE actions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  seq INTEGER NOT NULL,
  text TEXT NOT NULL,
  owner_id TEXT,
  owner_name TEXT,
  due TEXT,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  created_by_id TEXT NOT NULL,
  created_by_name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  done_at INTEGER,
  done_by_id TEXT,
  done_by_name TEXT,
  UNIQUE (incident_id, seq)
);
CREATE TABLE drafts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  created_at INTEGER NOT NULL,
  markdown TEXT NOT NULL
);
CREATE INDEX drafts_by_incident ON drafts(incident_id, id);
)sql",
    // 2: the outbox of messages to send, and inbound deliveries already seen.
    R"sql(
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  platform TEXT NOT NULL,
  workspace TEXT NOT NULL,
  channel TEXT NOT NULL,
  content TEXT NOT NULL,
  thread_parent INTEGER REFERENCES outbox(id),
  dedupe_key TEXT,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  sent_at INTEGER,
  delivered_id TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX outbox_by_dedupe_key ON outbox(dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX outbox_pending ON outbox(status, next_attempt_at, id);
CREATE INDEX outbox_pending_by_channel ON outbox(status, platform, workspace, channel, id);
CREATE TABLE inbound_deliveries (
  source TEXT NOT NULL,
  key TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (source, key)
);
CREATE INDEX actions_open_due ON actions(status, due);
)sql",
    // 3: reminders: snoozed action items, and incidents by resolution time (follow-ups).
    R"sql(
ALTER TABLE actions ADD COLUMN snoozed_until INTEGER;
CREATE INDEX incidents_by_resolved_at ON incidents(resolved_at) WHERE resolved_at IS NOT NULL;
)sql",
    // 4: action items' life: a dropped item's reason, the audit trail of changes, and
    // owners' open items across incidents (`/action mine`).
    R"sql(
ALTER TABLE actions ADD COLUMN drop_reason TEXT;
CREATE TABLE action_revisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  action_id INTEGER NOT NULL REFERENCES actions(id),
  field TEXT NOT NULL,
  before TEXT NOT NULL,
  after TEXT NOT NULL,
  changed_by_id TEXT NOT NULL,
  changed_by_name TEXT NOT NULL,
  changed_at INTEGER NOT NULL
);
CREATE INDEX action_revisions_by_action ON action_revisions(action_id, id);
CREATE INDEX actions_by_owner ON actions(owner_id, owner_name) WHERE status = 'open';
)sql",
};

std::int64_t to_ms(Timestamp t) { return t.time_since_epoch().count(); }
Timestamp from_ms(std::int64_t ms) { return Timestamp{std::chrono::milliseconds{ms}}; }

// A prepared statement owned by the connection's cache; reset after each use.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Stmt() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(stmt_, i, v));
    return *this;
  }
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, std::string_view v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, Timestamp t) { return bind(i, to_ms(t)); }
  Stmt& bind_null(int i) {
    check(sqlite3_bind_null(stmt_, i));
    return *this;
  }
  template <typename T>
  Stmt& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind_null(i);
  }
  // A person fills two columns, id at `i` and name at `i + 1`, both NULL when absent.
  Stmt& bind_person(int i, const std::optional<Person>& p) {
    return p ? bind(i, p->id).bind(i + 1, p->name) : bind_null(i).bind_null(i + 1);
  }

  // True while there is a row to read.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(fmt::format("sqlite step: {}", sqlite3_errmsg(db_)));
  }
  void run() {
    while (step()) {
    }
  }

  std::int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::optional<std::string> opt_text(int col) const {
    if (is_null(col)) return std::nullopt;
    return text(col);
  }
  Timestamp time(int col) const { return from_ms(i64(col)); }
  std::optional<Timestamp> opt_time(int col) const {
    if (is_null(col)) return std::nullopt;
    return time(col);
  }

 private:
  void check(int rc) const {
    if (rc != SQLITE_OK) throw StoreError(fmt::format("sqlite bind: {}", sqlite3_errmsg(db_)));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

template <typename E, typename Parse>
E parse_enum(const std::string& s, Parse parse) {
  auto v = parse(s);
  if (!v) throw StoreError(fmt::format("unknown stored value '{}'", s));
  return *v;
}

constexpr std::string_view kIncidentColumns =
    "id, platform, workspace, channel, title, severity, status, commander_id, commander_name, "
    "declared_at, mitigated_at, resolved_at, closed_at";
constexpr std::string_view kEventColumns =
    "id, incident_id, seq, kind, occurred_at, recorded_at, author_id, author_name, text, deleted, "
    "revision";
constexpr std::string_view kOutboxColumns =
    "id, platform, workspace, channel, content, thread_parent, dedupe_key, status, attempts, "
    "created_at, next_attempt_at, sent_at, delivered_id, last_error";
constexpr std::string_view kActionColumns =
    "id, incident_id, seq, text, owner_id, owner_name, due, kind, status, created_by_id, "
    "created_by_name, created_at, done_at, done_by_id, done_by_name, snoozed_until, drop_reason";

Incident read_incident(const Stmt& s) {
  Incident i;
  i.id = s.i64(0);
  i.channel = ChannelRef{s.text(1), s.text(2), s.text(3)};
  i.title = s.text(4);
  i.severity = static_cast<Severity>(s.i64(5));
  i.status = parse_enum<IncidentStatus>(s.text(6), incident_status_from_string);
  i.commander = Person{s.text(7), s.text(8)};
  i.declared_at = s.time(9);
  i.mitigated_at = s.opt_time(10);
  i.resolved_at = s.opt_time(11);
  i.closed_at = s.opt_time(12);
  return i;
}

TimelineEvent read_event(const Stmt& s) {
  TimelineEvent e;
  e.id = s.i64(0);
  e.incident_id = s.i64(1);
  e.seq = static_cast<int>(s.i64(2));
  e.kind = parse_enum<EventKind>(s.text(3), event_kind_from_string);
  e.occurred_at = s.time(4);
  e.recorded_at = s.time(5);
  e.author = Person{s.text(6), s.text(7)};
  e.text = s.text(8);
  e.deleted = s.i64(9) != 0;
  e.revision = static_cast<int>(s.i64(10));
  return e;
}

OutboxMessage read_outbox(const Stmt& s) {
  OutboxMessage m;
  m.id = s.i64(0);
  m.channel = ChannelRef{s.text(1), s.text(2), s.text(3)};
  m.content = s.text(4);
  if (!s.is_null(5)) m.thread_parent = s.i64(5);
  m.dedupe_key = s.text(6);
  m.status = parse_enum<OutboxStatus>(s.text(7), outbox_status_from_string);
  m.attempts = static_cast<int>(s.i64(8));
  m.created_at = s.time(9);
  m.next_attempt_at = s.time(10);
  m.sent_at = s.opt_time(11);
  m.delivered_id = s.text(12);
  m.last_error = s.text(13);
  return m;
}

ActionItem read_action(const Stmt& s) {
  ActionItem a;
  a.id = s.i64(0);
  a.incident_id = s.i64(1);
  a.seq = static_cast<int>(s.i64(2));
  a.text = s.text(3);
  if (!s.is_null(4)) a.owner = Person{s.text(4), s.text(5)};
  a.due = s.opt_text(6);
  a.kind = parse_enum<ActionKind>(s.text(7), action_kind_from_string);
  a.status = parse_enum<ActionStatus>(s.text(8), action_status_from_string);
  a.created_by = Person{s.text(9), s.text(10)};
  a.created_at = s.time(11);
  a.done_at = s.opt_time(12);
  if (!s.is_null(13)) a.done_by = Person{s.text(13), s.text(14)};
  a.snoozed_until = s.opt_time(15);
  a.drop_reason = s.opt_text(16);
  return a;
}

// One SQLite handle with its prepared-statement cache. Not thread-safe: each user
// holds it under its own lock (or owns it on one thread).
class Connection {
 public:
  Connection(const std::string& path, const SqliteOptions& options) {
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw StoreError(fmt::format("cannot open SQLite database {}: {}", path, msg));
    }
    try {
      sqlite3_busy_timeout(db_, 5000);
      exec("PRAGMA journal_mode=WAL");
      exec(fmt::format("PRAGMA synchronous={}", options.synchronous));
      exec("PRAGMA foreign_keys=ON");
      // Checkpoints run on their own thread (SqliteStore::checkpoint_loop), so that no
      // command waits while the log is copied into the database.
      exec("PRAGMA wal_autocheckpoint=0");
    } catch (...) {
      close();  // the destructor does not run for a constructor that throws
      throw;
    }
  }
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Statements are prepared once and kept: the hot path never parses SQL.
  Stmt prepare(std::string_view sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                             SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
        throw StoreError(fmt::format("sqlite prepare: {} in: {}", sqlite3_errmsg(db_), sql));
      }
      it = statements_.emplace(std::string(sql), stmt).first;
    }
    return Stmt(db_, it->second);
  }

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw StoreError(fmt::format("sqlite: {} in: {}", msg, sql.substr(0, 80)));
    }
  }
  // For rollbacks on an error path, where a second error must not mask the first.
  void exec_quietly(const char* sql) { sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }

  sqlite3* db() const { return db_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  void close() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    statements_.clear();
    sqlite3_close(db_);
    db_ = nullptr;
  }

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*, Hash, std::equal_to<>> statements_;
};

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(Connection& connection, bool writable)
      : connection_(connection), writable_(writable) {}

  IncidentId insert_incident(const Incident& i) override;
  void update_incident(const Incident& i) override;
  std::optional<Incident> find_incident(IncidentId id) override;
  std::optional<Incident> current_incident(const ChannelRef& channel) override;
  std::vector<Incident> list_incidents(int limit) override;
  TimelineEvent append_event(TimelineEvent event) override;
  std::optional<TimelineEvent> find_event(IncidentId incident, int seq) override;
  std::vector<TimelineEvent> events(IncidentId incident, bool include_deleted) override;
  void revise_event(const TimelineEvent& updated, const EventRevision& previous) override;
  std::vector<EventRevision> revisions(IncidentId incident) override;
  Note add_note(Note note) override;
  std::vector<Note> notes(IncidentId incident) override;
  ActionItem add_action(ActionItem item) override;
  void update_action(const ActionItem& item) override;
  std::optional<ActionItem> find_action(IncidentId incident, int seq) override;
  std::vector<ActionItem> actions(IncidentId incident) override;
  void revise_action(const ActionItem& updated,
                     const std::vector<ActionRevision>& changes) override;
  std::vector<ActionRevision> action_revisions(IncidentId incident) override;
  std::vector<ActionItem> open_actions_owned_by(const Person& owner,
                                                std::string_view platform) override;
  void save_draft(IncidentId incident, Timestamp created_at, const std::string& markdown) override;
  std::optional<std::string> latest_draft(IncidentId incident) override;
  std::vector<Incident> incidents_with_status(IncidentStatus status) override;
  std::vector<ActionItem> open_actions_with_due_date() override;
  std::optional<ActionItem> find_action_by_id(std::int64_t id) override;
  std::vector<Incident> incidents_resolved_between(Timestamp from, Timestamp to) override;
  std::int64_t enqueue(OutboxMessage message) override;
  std::optional<OutboxMessage> find_outbox(std::int64_t id) override;
  std::optional<OutboxMessage> find_outbox_by_key(std::string_view dedupe_key) override;
  std::vector<OutboxMessage> due_outbox(Timestamp now, int limit) override;
  std::optional<Timestamp> next_outbox_attempt() override;
  void update_outbox(const OutboxMessage& message) override;
  bool first_delivery(std::string_view source, std::string_view key, Timestamp at) override;

 private:
  Stmt prepare(std::string_view sql) { return connection_.prepare(sql); }
  void require_writable() const {
    if (!writable_) throw StoreError("write attempted in a read-only transaction");
  }
  std::int64_t last_id() const { return sqlite3_last_insert_rowid(connection_.db()); }
  // The next per-incident number users refer to ("edit 3"); unique by the schema.
  int next_seq(std::string_view sql, IncidentId incident) {
    Stmt s = prepare(sql);
    s.bind(1, incident);
    s.step();
    return static_cast<int>(s.i64(0));
  }

  Connection& connection_;
  bool writable_;
};

// Writes use group commit: callers that arrive while a commit is under way queue up, and
// the next of them to run commits the whole queue in one transaction, one savepoint per
// caller, so one fsync covers many commands. Each caller still returns only after its own
// change is durable, and a caller whose function throws is rolled back alone.
class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, const SqliteOptions& options) {
    // Checked before opening, so a bad option neither creates the file nor leaks a handle.
    if (options.synchronous != "full" && options.synchronous != "normal") {
      throw StoreError(
          fmt::format("synchronous must be 'full' or 'normal', not '{}'", options.synchronous));
    }
    writer_ = std::make_unique<Connection>(path, options);
    migrate();
    reader_ = std::make_unique<Connection>(path, options);
    checkpointer_conn_ = std::make_unique<Connection>(path, options);
    sqlite3_wal_hook(writer_->db(), &SqliteStore::on_wal_commit, this);
    checkpointer_ = std::thread([this] { checkpoint_loop(); });
  }

  ~SqliteStore() override {
    {
      std::lock_guard lock(checkpoint_mu_);
      stopping_ = true;
    }
    checkpoint_cv_.notify_all();
    checkpointer_.join();
    // Leave a short log behind: the next start (or a backup) reads one file.
    sqlite3_wal_checkpoint_v2(writer_->db(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  }

  void write(const std::function<void(Transaction&)>& fn) override {
    Pending me;
    me.fn = &fn;
    std::unique_lock lock(queue_mu_);
    queue_.push_back(&me);
    while (!me.done) {
      queue_cv_.wait(lock, [&] { return me.done || !committing_; });
      if (me.done) break;
      // This caller commits for everyone queued so far (itself among them, unless more
      // than a batch is waiting; then it goes round again).
      committing_ = true;
      std::vector<Pending*> batch;
      const std::size_t n = std::min(queue_.size(), kMaxBatch);
      batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      lock.unlock();
      commit_batch(batch);
      lock.lock();
      for (Pending* p : batch) p->done = true;
      committing_ = false;
      queue_cv_.notify_all();
    }
    if (me.error) std::rethrow_exception(me.error);
  }

  void read(const std::function<void(Transaction&)>& fn) override {
    // A separate connection: in WAL mode readers see the last commit and never wait
    // for a writer.
    std::lock_guard lock(reader_mu_);
    reader_->exec("BEGIN");
    try {
      SqliteTransaction tx(*reader_, /*writable=*/false);
      fn(tx);
      reader_->exec("COMMIT");
    } catch (...) {
      reader_->exec_quietly("ROLLBACK");
      throw;
    }
  }

  bool healthy() override {
    std::lock_guard lock(reader_mu_);
    Stmt s = reader_->prepare("SELECT 1");
    return s.step() && s.i64(0) == 1;
  }

 private:
  struct Pending {
    const std::function<void(Transaction&)>* fn = nullptr;
    std::exception_ptr error;
    bool done = false;
  };
  // Bounds how long the last caller of a batch waits for the others.
  static constexpr std::size_t kMaxBatch = 64;
  // Log pages (4 KiB each) after which a checkpoint is started.
  static constexpr int kCheckpointPages = 1000;

  void commit_batch(const std::vector<Pending*>& batch) {
    Connection& c = *writer_;
    try {
      // IMMEDIATE takes the write lock up front, so a read-modify-write cannot be
      // overtaken by another process sharing the file.
      c.exec("BEGIN IMMEDIATE");
    } catch (...) {
      for (Pending* p : batch) p->error = std::current_exception();
      return;
    }
    const bool alone = batch.size() == 1;
    for (Pending* p : batch) {
      if (!alone) c.exec("SAVEPOINT command");
      try {
        SqliteTransaction tx(c, /*writable=*/true);
        (*p->fn)(tx);
        if (!alone) c.exec("RELEASE command");
      } catch (...) {
        p->error = std::current_exception();
        if (!alone) {
          c.exec_quietly("ROLLBACK TO command");
          c.exec_quietly("RELEASE command");
        }
      }
    }
    try {
      if (alone && batch.front()->error) {
        c.exec_quietly("ROLLBACK");
        return;
      }
      c.exec("COMMIT");
    } catch (...) {
      c.exec_quietly("ROLLBACK");
      for (Pending* p : batch) {
        if (!p->error) p->error = std::current_exception();
      }
    }
  }

  static int on_wal_commit(void* self, sqlite3*, const char*, int pages) {
    if (pages >= kCheckpointPages) {
      auto* store = static_cast<SqliteStore*>(self);
      {
        std::lock_guard lock(store->checkpoint_mu_);
        store->checkpoint_wanted_ = true;
      }
      store->checkpoint_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  // PASSIVE checkpoints copy what they can without blocking writers; a timer catches a
  // quiet log that never reaches the page threshold.
  void checkpoint_loop() {
    std::unique_lock lock(checkpoint_mu_);
    while (!stopping_) {
      checkpoint_cv_.wait_for(lock, std::chrono::seconds(5),
                              [&] { return stopping_ || checkpoint_wanted_; });
      if (stopping_) break;
      checkpoint_wanted_ = false;
      lock.unlock();
      sqlite3_wal_checkpoint_v2(checkpointer_conn_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                nullptr, nullptr);
      lock.lock();
    }
  }

  void migrate() {
    Connection& c = *writer_;
    c.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
        "applied_at INTEGER NOT NULL)");
    c.exec("BEGIN IMMEDIATE");
    try {
      std::int64_t current = 0;
      {
        Stmt s = c.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
        if (s.step()) current = s.i64(0);
      }
      const auto known = static_cast<std::int64_t>(std::size(kMigrations));
      if (current > known) {
        throw StoreError(fmt::format(
            "database schema version {} is newer than this build knows ({})", current, known));
      }
      for (std::int64_t v = current + 1; v <= known; ++v) {
        c.exec(std::string(kMigrations[v - 1]));
        Stmt s = c.prepare(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?, "
            "CAST(strftime('%s','now') AS INTEGER))");
        s.bind(1, v).run();
      }
      c.exec("COMMIT");
    } catch (...) {
      c.exec_quietly("ROLLBACK");
      throw;
    }
  }

  std::unique_ptr<Connection> writer_;
  std::unique_ptr<Connection> reader_;
  std::unique_ptr<Connection> checkpointer_conn_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::vector<Pending*> queue_;
  bool committing_ = false;

  std::mutex reader_mu_;

  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool stopping_ = false;
  std::thread checkpointer_;
};

IncidentId SqliteTransaction::insert_incident(const Incident& i) {
  require_writable();
  prepare(
      "INSERT INTO incidents (platform, workspace, channel, title, severity, status, "
      "commander_id, commander_name, declared_at, mitigated_at, resolved_at, closed_at) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
      .bind(1, i.channel.platform)
      .bind(2, i.channel.workspace)
      .bind(3, i.channel.channel)
      .bind(4, i.title)
      .bind(5, static_cast<int>(i.severity))
      .bind(6, to_string(i.status))
      .bind(7, i.commander.id)
      .bind(8, i.commander.name)
      .bind(9, i.declared_at)
      .bind(10, i.mitigated_at)
      .bind(11, i.resolved_at)
      .bind(12, i.closed_at)
      .run();
  return last_id();
}

void SqliteTransaction::update_incident(const Incident& i) {
  require_writable();
  prepare(
      "UPDATE incidents SET title=?, severity=?, status=?, commander_id=?, commander_name=?, "
      "declared_at=?, mitigated_at=?, resolved_at=?, closed_at=? WHERE id=?")
      .bind(1, i.title)
      .bind(2, static_cast<int>(i.severity))
      .bind(3, to_string(i.status))
      .bind(4, i.commander.id)
      .bind(5, i.commander.name)
      .bind(6, i.declared_at)
      .bind(7, i.mitigated_at)
      .bind(8, i.resolved_at)
      .bind(9, i.closed_at)
      .bind(10, i.id)
      .run();
}

std::optional<Incident> SqliteTransaction::find_incident(IncidentId id) {
  Stmt s = prepare(fmt::format("SELECT {} FROM incidents WHERE id=?", kIncidentColumns));
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_incident(s);
}

std::optional<Incident> SqliteTransaction::current_incident(const ChannelRef& c) {
  Stmt s = prepare(
      fmt::format("SELECT {} FROM incidents WHERE platform=? AND workspace=? AND channel=? AND "
                  "status != 'closed' ORDER BY id DESC LIMIT 1",
                  kIncidentColumns));
  s.bind(1, c.platform).bind(2, c.workspace).bind(3, c.channel);
  if (!s.step()) return std::nullopt;
  return read_incident(s);
}

std::vector<Incident> SqliteTransaction::list_incidents(int limit) {
  Stmt s =
      prepare(fmt::format("SELECT {} FROM incidents ORDER BY id DESC LIMIT ?", kIncidentColumns));
  s.bind(1, limit);
  std::vector<Incident> out;
  while (s.step()) out.push_back(read_incident(s));
  return out;
}

TimelineEvent SqliteTransaction::append_event(TimelineEvent e) {
  require_writable();
  e.seq =
      next_seq("SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE incident_id=?", e.incident_id);
  prepare(
      "INSERT INTO events (incident_id, seq, kind, occurred_at, recorded_at, author_id, "
      "author_name, text, deleted, revision) VALUES (?,?,?,?,?,?,?,?,?,?)")
      .bind(1, e.incident_id)
      .bind(2, e.seq)
      .bind(3, to_string(e.kind))
      .bind(4, e.occurred_at)
      .bind(5, e.recorded_at)
      .bind(6, e.author.id)
      .bind(7, e.author.name)
      .bind(8, e.text)
      .bind(9, e.deleted ? 1 : 0)
      .bind(10, e.revision)
      .run();
  e.id = last_id();
  return e;
}

std::optional<TimelineEvent> SqliteTransaction::find_event(IncidentId incident, int seq) {
  Stmt s =
      prepare(fmt::format("SELECT {} FROM events WHERE incident_id=? AND seq=?", kEventColumns));
  s.bind(1, incident).bind(2, seq);
  if (!s.step()) return std::nullopt;
  return read_event(s);
}

std::vector<TimelineEvent> SqliteTransaction::events(IncidentId incident, bool include_deleted) {
  Stmt s = prepare(fmt::format(
      "SELECT {} FROM events WHERE incident_id=? AND (deleted=0 OR ?) ORDER BY occurred_at, seq",
      kEventColumns));
  s.bind(1, incident).bind(2, include_deleted ? 1 : 0);
  std::vector<TimelineEvent> out;
  while (s.step()) out.push_back(read_event(s));
  return out;
}

void SqliteTransaction::revise_event(const TimelineEvent& u, const EventRevision& p) {
  require_writable();
  prepare(
      "INSERT INTO event_revisions (event_id, revision, change, kind, occurred_at, text, "
      "changed_by_id, changed_by_name, changed_at) VALUES (?,?,?,?,?,?,?,?,?)")
      .bind(1, u.id)
      .bind(2, p.revision)
      .bind(3, p.change)
      .bind(4, to_string(p.kind))
      .bind(5, p.occurred_at)
      .bind(6, p.text)
      .bind(7, p.changed_by.id)
      .bind(8, p.changed_by.name)
      .bind(9, p.changed_at)
      .run();
  prepare("UPDATE events SET kind=?, occurred_at=?, text=?, deleted=?, revision=? WHERE id=?")
      .bind(1, to_string(u.kind))
      .bind(2, u.occurred_at)
      .bind(3, u.text)
      .bind(4, u.deleted ? 1 : 0)
      .bind(5, u.revision)
      .bind(6, u.id)
      .run();
}

std::vector<EventRevision> SqliteTransaction::revisions(IncidentId incident) {
  Stmt s = prepare(
      "SELECT r.event_id, e.seq, r.revision, r.change, r.kind, r.occurred_at, r.text, "
      "r.changed_by_id, r.changed_by_name, r.changed_at FROM event_revisions r "
      "JOIN events e ON e.id = r.event_id WHERE e.incident_id=? ORDER BY r.id");
  s.bind(1, incident);
  std::vector<EventRevision> out;
  while (s.step()) {
    EventRevision r;
    r.event_id = s.i64(0);
    r.seq = static_cast<int>(s.i64(1));
    r.revision = static_cast<int>(s.i64(2));
    r.change = s.text(3);
    r.kind = parse_enum<EventKind>(s.text(4), event_kind_from_string);
    r.occurred_at = s.time(5);
    r.text = s.text(6);
    r.changed_by = Person{s.text(7), s.text(8)};
    r.changed_at = s.time(9);
    out.push_back(std::move(r));
  }
  return out;
}

Note SqliteTransaction::add_note(Note n) {
  require_writable();
  prepare(
      "INSERT INTO notes (incident_id, section, text, author_id, author_name, created_at) "
      "VALUES (?,?,?,?,?,?)")
      .bind(1, n.incident_id)
      .bind(2, to_string(n.section))
      .bind(3, n.text)
      .bind(4, n.author.id)
      .bind(5, n.author.name)
      .bind(6, n.created_at)
      .run();
  n.id = last_id();
  return n;
}

std::vector<Note> SqliteTransaction::notes(IncidentId incident) {
  Stmt s = prepare(
      "SELECT id, incident_id, section, text, author_id, author_name, created_at FROM notes "
      "WHERE incident_id=? ORDER BY id");
  s.bind(1, incident);
  std::vector<Note> out;
  while (s.step()) {
    Note n;
    n.id = s.i64(0);
    n.incident_id = s.i64(1);
    n.section = parse_enum<NoteSection>(s.text(2), note_section_from_string);
    n.text = s.text(3);
    n.author = Person{s.text(4), s.text(5)};
    n.created_at = s.time(6);
    out.push_back(std::move(n));
  }
  return out;
}

ActionItem SqliteTransaction::add_action(ActionItem a) {
  require_writable();
  a.seq =
      next_seq("SELECT COALESCE(MAX(seq), 0) + 1 FROM actions WHERE incident_id=?", a.incident_id);
  Stmt s = prepare(
      "INSERT INTO actions (incident_id, seq, text, owner_id, owner_name, due, kind, status, "
      "created_by_id, created_by_name, created_at, done_at, done_by_id, done_by_name, "
      "snoozed_until, drop_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, a.incident_id).bind(2, a.seq).bind(3, a.text);
  s.bind_person(4, a.owner);
  s.bind(6, a.due)
      .bind(7, to_string(a.kind))
      .bind(8, to_string(a.status))
      .bind(9, a.created_by.id)
      .bind(10, a.created_by.name)
      .bind(11, a.created_at)
      .bind(12, a.done_at);
  s.bind_person(13, a.done_by);
  s.bind(15, a.snoozed_until).bind(16, a.drop_reason);
  s.run();
  a.id = last_id();
  return a;
}

void SqliteTransaction::update_action(const ActionItem& a) {
  require_writable();
  Stmt s = prepare(
      "UPDATE actions SET text=?, owner_id=?, owner_name=?, due=?, kind=?, status=?, done_at=?, "
      "done_by_id=?, done_by_name=?, snoozed_until=?, drop_reason=? WHERE id=?");
  s.bind(1, a.text);
  s.bind_person(2, a.owner);
  s.bind(4, a.due).bind(5, to_string(a.kind)).bind(6, to_string(a.status)).bind(7, a.done_at);
  s.bind_person(8, a.done_by);
  s.bind(10, a.snoozed_until).bind(11, a.drop_reason).bind(12, a.id).run();
}

void SqliteTransaction::revise_action(const ActionItem& a,
                                      const std::vector<ActionRevision>& changes) {
  update_action(a);
  for (const ActionRevision& r : changes) {
    prepare(
        "INSERT INTO action_revisions (action_id, field, before, after, changed_by_id, "
        "changed_by_name, changed_at) VALUES (?,?,?,?,?,?,?)")
        .bind(1, a.id)
        .bind(2, r.field)
        .bind(3, r.before)
        .bind(4, r.after)
        .bind(5, r.changed_by.id)
        .bind(6, r.changed_by.name)
        .bind(7, r.changed_at)
        .run();
  }
}

std::vector<ActionRevision> SqliteTransaction::action_revisions(IncidentId incident) {
  Stmt s = prepare(
      "SELECT r.action_id, a.seq, r.field, r.before, r.after, r.changed_by_id, "
      "r.changed_by_name, r.changed_at FROM action_revisions r "
      "JOIN actions a ON a.id = r.action_id WHERE a.incident_id=? ORDER BY r.id");
  s.bind(1, incident);
  std::vector<ActionRevision> out;
  while (s.step()) {
    ActionRevision r;
    r.action_id = s.i64(0);
    r.seq = static_cast<int>(s.i64(1));
    r.field = s.text(2);
    r.before = s.text(3);
    r.after = s.text(4);
    r.changed_by = Person{s.text(5), s.text(6)};
    r.changed_at = s.time(7);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<ActionItem> SqliteTransaction::open_actions_owned_by(const Person& owner,
                                                                 std::string_view platform) {
  Stmt s = prepare(fmt::format(
      "SELECT {} FROM actions WHERE status='open' AND "
      "((owner_id != '' AND owner_id = ?) OR (owner_id = '' AND owner_name = ?)) AND "
      "incident_id IN (SELECT id FROM incidents WHERE platform = ?) ORDER BY incident_id, seq",
      kActionColumns));
  s.bind(1, owner.id).bind(2, owner.name).bind(3, platform);
  std::vector<ActionItem> out;
  while (s.step()) out.push_back(read_action(s));
  return out;
}

std::optional<ActionItem> SqliteTransaction::find_action(IncidentId incident, int seq) {
  Stmt s =
      prepare(fmt::format("SELECT {} FROM actions WHERE incident_id=? AND seq=?", kActionColumns));
  s.bind(1, incident).bind(2, seq);
  if (!s.step()) return std::nullopt;
  return read_action(s);
}

std::vector<ActionItem> SqliteTransaction::actions(IncidentId incident) {
  Stmt s = prepare(
      fmt::format("SELECT {} FROM actions WHERE incident_id=? ORDER BY seq", kActionColumns));
  s.bind(1, incident);
  std::vector<ActionItem> out;
  while (s.step()) out.push_back(read_action(s));
  return out;
}

void SqliteTransaction::save_draft(IncidentId incident, Timestamp created_at,
                                   const std::string& markdown) {
  require_writable();
  prepare("INSERT INTO drafts (incident_id, created_at, markdown) VALUES (?,?,?)")
      .bind(1, incident)
      .bind(2, created_at)
      .bind(3, markdown)
      .run();
}

std::optional<std::string> SqliteTransaction::latest_draft(IncidentId incident) {
  Stmt s = prepare("SELECT markdown FROM drafts WHERE incident_id=? ORDER BY id DESC LIMIT 1");
  s.bind(1, incident);
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

std::vector<Incident> SqliteTransaction::incidents_with_status(IncidentStatus status) {
  Stmt s =
      prepare(fmt::format("SELECT {} FROM incidents WHERE status=? ORDER BY id", kIncidentColumns));
  s.bind(1, to_string(status));
  std::vector<Incident> out;
  while (s.step()) out.push_back(read_incident(s));
  return out;
}

std::vector<ActionItem> SqliteTransaction::open_actions_with_due_date() {
  Stmt s = prepare(fmt::format(
      "SELECT {} FROM actions WHERE status='open' AND due IS NOT NULL AND incident_id IN "
      "(SELECT id FROM incidents WHERE status != 'closed') ORDER BY id",
      kActionColumns));
  std::vector<ActionItem> out;
  while (s.step()) out.push_back(read_action(s));
  return out;
}

std::optional<ActionItem> SqliteTransaction::find_action_by_id(std::int64_t id) {
  Stmt s = prepare(fmt::format("SELECT {} FROM actions WHERE id=?", kActionColumns));
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_action(s);
}

std::vector<Incident> SqliteTransaction::incidents_resolved_between(Timestamp from, Timestamp to) {
  Stmt s = prepare(
      fmt::format("SELECT {} FROM incidents WHERE resolved_at BETWEEN ? AND ? AND status IN "
                  "('resolved', 'closed') ORDER BY resolved_at, id",
                  kIncidentColumns));
  s.bind(1, from).bind(2, to);
  std::vector<Incident> out;
  while (s.step()) out.push_back(read_incident(s));
  return out;
}

std::int64_t SqliteTransaction::enqueue(OutboxMessage m) {
  require_writable();
  if (!m.dedupe_key.empty()) {
    Stmt s = prepare("SELECT id FROM outbox WHERE dedupe_key=?");
    s.bind(1, m.dedupe_key);
    if (s.step()) return s.i64(0);
  }
  Stmt s = prepare(
      "INSERT INTO outbox (platform, workspace, channel, content, thread_parent, dedupe_key, "
      "status, attempts, created_at, next_attempt_at, sent_at, delivered_id, last_error) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, m.channel.platform).bind(2, m.channel.workspace).bind(3, m.channel.channel);
  s.bind(4, m.content).bind(5, m.thread_parent);
  if (m.dedupe_key.empty()) {
    s.bind_null(6);
  } else {
    s.bind(6, m.dedupe_key);
  }
  s.bind(7, to_string(m.status))
      .bind(8, m.attempts)
      .bind(9, m.created_at)
      .bind(10, m.next_attempt_at)
      .bind(11, m.sent_at)
      .bind(12, m.delivered_id)
      .bind(13, m.last_error)
      .run();
  return last_id();
}

std::optional<OutboxMessage> SqliteTransaction::find_outbox(std::int64_t id) {
  Stmt s = prepare(fmt::format("SELECT {} FROM outbox WHERE id=?", kOutboxColumns));
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_outbox(s);
}

std::optional<OutboxMessage> SqliteTransaction::find_outbox_by_key(std::string_view key) {
  Stmt s = prepare(fmt::format("SELECT {} FROM outbox WHERE dedupe_key=?", kOutboxColumns));
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return read_outbox(s);
}

// A channel's messages go out in the order they were written: only the oldest pending
// message of each channel is eligible (a thread's parent is always older than its replies).
constexpr std::string_view kHeadOfChannel =
    "NOT EXISTS (SELECT 1 FROM outbox e WHERE e.status='pending' AND e.platform=o.platform AND "
    "e.workspace=o.workspace AND e.channel=o.channel AND e.id < o.id)";

std::vector<OutboxMessage> SqliteTransaction::due_outbox(Timestamp now, int limit) {
  Stmt s = prepare(
      fmt::format("SELECT {} FROM outbox o WHERE status='pending' AND next_attempt_at <= ? AND {} "
                  "ORDER BY id LIMIT ?",
                  kOutboxColumns, kHeadOfChannel));
  s.bind(1, now).bind(2, limit);
  std::vector<OutboxMessage> out;
  while (s.step()) out.push_back(read_outbox(s));
  return out;
}

std::optional<Timestamp> SqliteTransaction::next_outbox_attempt() {
  Stmt s = prepare(fmt::format(
      "SELECT MIN(next_attempt_at) FROM outbox o WHERE status='pending' AND {}", kHeadOfChannel));
  if (!s.step() || s.is_null(0)) return std::nullopt;
  return s.time(0);
}

void SqliteTransaction::update_outbox(const OutboxMessage& m) {
  require_writable();
  prepare(
      "UPDATE outbox SET status=?, attempts=?, next_attempt_at=?, sent_at=?, delivered_id=?, "
      "last_error=? WHERE id=?")
      .bind(1, to_string(m.status))
      .bind(2, m.attempts)
      .bind(3, m.next_attempt_at)
      .bind(4, m.sent_at)
      .bind(5, m.delivered_id)
      .bind(6, m.last_error)
      .bind(7, m.id)
      .run();
}

bool SqliteTransaction::first_delivery(std::string_view source, std::string_view key,
                                       Timestamp at) {
  require_writable();
  prepare("INSERT OR IGNORE INTO inbound_deliveries (source, key, received_at) VALUES (?,?,?)")
      .bind(1, source)
      .bind(2, key)
      .bind(3, at)
      .run();
  return sqlite3_changes(connection_.db()) == 1;
}

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path, const SqliteOptions& options) {
  return std::make_unique<SqliteStore>(path, options);
}

}  // namespace scribe
