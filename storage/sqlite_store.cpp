#include "storage/sqlite_store.h"

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "storage/connection_pool.h"
#include "storage/sqlite_connection.h"
#include "storage/sqlite_health.h"
#include "storage/sqlite_schema.h"
#include "storage/sqlite_transaction.h"
#include "storage/write_queue.h"
#include "util/worker_pool.h"

namespace scribe {
namespace {

using sqlite::Connection;
using sqlite::SqliteTransaction;
using sqlite::Stmt;
using sqlite::WriterMemo;

// Writes: callers queue (write_async never blocks); the writer thread takes everything
// queued so far (up to WriteQueue::kMaxBatch), runs each write in its own savepoint of one
// transaction, commits once, and then completes each write with its own outcome. While
// it commits, the next batch gathers. Reads: a pool of connections, lent to the reader
// threads (read_async) and to blocking readers (read) alike; in WAL mode a reader sees the
// last commit and never waits for the writer.
class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, const SqliteOptions& options)
      : fault_(options.fault_injection),
        maintenance_interval_(options.maintenance_interval),
        purge_batch_(std::max(1, options.purge_batch)),
        on_purge_(options.on_purge),
        open_connection_([path, synchronous = options.synchronous] {
          SqliteOptions o;
          o.synchronous = synchronous;
          return std::make_unique<Connection>(path, o);
        }),
        // One more than the reader threads: blocking reads (the outbox sender, the
        // scheduler) borrow one too.
        readers_(open_connection_,
                 static_cast<std::size_t>(std::max(1, options.reader_threads)) + 1) {
    // Checked before opening, so a bad option neither creates the file nor leaks a handle.
    if (options.synchronous != "full" && options.synchronous != "normal") {
      throw StoreError(
          fmt::format("synchronous must be 'full' or 'normal', not '{}'", options.synchronous));
    }
    const int readers = std::max(1, options.reader_threads);
    writer_conn_ = std::make_unique<Connection>(path, options);
    // The writer touches the newest pages of every table and a random page of the delivery
    // keys' index per command (Slack signatures are random); with SQLite's default 2 MiB
    // cache that index alone no longer fits under load and each lookup becomes a read().
    // Allocated as used, so an idle or quiet server does not hold it.
    writer_conn_->exec(fmt::format("PRAGMA cache_size=-{}", kWriterCacheKib));
    migrate(*writer_conn_);
    // After the migrations, so the file holds SQLite's header. Not for SQLite's special
    // names (":memory:", "file:" URIs): no file there to watch.
    if (path != ":memory:" && !path.empty() && !path.starts_with("file:")) {
      watch_ = std::make_unique<sqlite::FileWatch>(path);
    }
    // The read connections and the checkpointer's are opened when first needed (a read; a
    // log with commits to copy): each holds its own parsed schema and cache, about 40 KiB
    // even when it never reads, and an idle server needs none of them. What the migrations
    // left in the log is copied now, so that an unchanged log never needs a checkpoint.
    sqlite3_wal_checkpoint_v2(writer_conn_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                              nullptr);
    sqlite3_wal_hook(writer_conn_->db(), &SqliteStore::on_wal_commit, this);
    sqlite3_update_hook(writer_conn_->db(), &SqliteStore::on_row_change, &memo_);
    checkpointer_ = std::thread([this] { checkpoint_loop(); });
    writes_.start([this](WriteQueue::Batch& batch) { commit_batch(batch); });
    reader_pool_ = std::make_unique<WorkerPool>(static_cast<std::size_t>(readers), "reader");
  }

  ~SqliteStore() override {
    reader_pool_.reset();  // runs the reads already posted
    writes_.close();       // commits what is queued first
    {
      std::lock_guard lock(checkpoint_mu_);
      stopping_ = true;
    }
    checkpoint_cv_.notify_all();
    checkpointer_.join();
    // Leave a short log behind: the next start (or a backup) reads one file.
    sqlite3_wal_checkpoint_v2(writer_conn_->db(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                              nullptr);
  }

  void write(const std::function<void(Transaction&)>& fn) override { writes_.write_and_wait(fn); }

  void write_async(std::function<void(Transaction&)> fn, Done done) override {
    writes_.push(std::move(fn), std::move(done));
  }

  void read(const std::function<void(Transaction&)>& fn) override {
    ConnectionPool<Connection>::Lease lease(readers_);
    Connection& c = lease.connection();
    try {
      c.prepare("BEGIN").run();
      SqliteTransaction tx(c, /*writable=*/false);
      fn(tx);
      c.prepare("COMMIT").run();
    } catch (...) {
      note_failure(c);  // a damaged page shows first on a read
      c.exec_quietly("ROLLBACK");
      throw;
    }
  }

  void read_async(std::function<void(Transaction&)> fn, Done done) override {
    auto task = [this, fn = std::move(fn), done]() {
      std::exception_ptr error;
      try {
        read(fn);
      } catch (...) {
        error = std::current_exception();
      }
      done(error);
    };
    if (!reader_pool_->post(std::move(task))) {
      done(std::make_exception_ptr(StoreError("the store is closing")));
    }
  }

  bool healthy() override { return health().ready; }

  // The file first (gone, replaced, read-only, damaged header, no room left), then a real
  // write through the writer, which also ends an episode that is over (space freed, the
  // file back where it was). A damaged database stays unready until a restart.
  StoreHealth health() override {
    if (watch_) {
      if (auto problem = watch_->problem_or_full(kMinFreeBytes)) {
        condition_.fail(*problem);
        return StoreHealth{false, *problem};
      }
    }
    auto probed = std::make_shared<std::promise<void>>();
    std::future<void> done = probed->get_future();
    write_async([](Transaction& tx) { static_cast<SqliteTransaction&>(tx).probe(); },
                [probed](std::exception_ptr error) {
                  if (error) {
                    probed->set_exception(error);
                  } else {
                    probed->set_value();
                  }
                });
    if (done.wait_for(kProbeTimeout) != std::future_status::ready) {
      return StoreHealth{false, "the store did not complete a write within 5 s"};
    }
    try {
      done.get();
    } catch (const StoreError& e) {
      const std::string reason = condition_.reason();
      return StoreHealth{false, reason.empty() ? std::string(e.what()) : reason};
    }
    const std::string reason = condition_.reason();  // a lasting one outlives the probe
    if (!reason.empty()) return StoreHealth{false, reason};
    return StoreHealth{};
  }

  std::string trouble() override { return condition_.reason(); }

 private:
  using Pending = WriteQueue::Pending;
  // Log pages (4 KiB each) after which a checkpoint is started. A checkpoint copies each
  // page changed since the last one once, however often it changed, and syncs the file:
  // at 1,000 pages checkpoints ran many times a second under load and took 15% of the
  // CPU; at 10,000 (a 40 MiB log at most, plus what is written during a checkpoint) 7-9%.
  static constexpr int kCheckpointPages = 10000;
  // The writer connection's page cache (SQLite's default is 2 MiB).
  static constexpr int kWriterCacheKib = 8 * 1024;
  // Less free space than this on the database's file system is a full disk to /readyz:
  // a checkpoint may need a few MiB at once.
  static constexpr unsigned long long kMinFreeBytes = 4ull << 20;
  static constexpr std::chrono::seconds kProbeTimeout{5};

  // When SQLite's last answer on `c` means the store cannot record (disk full, read-only,
  // damaged, I/O error), the condition says so. Call before anything else runs on `c`.
  void note_failure(Connection& c) {
    const int code = sqlite3_extended_errcode(c.db());
    if (auto reason = sqlite::storage_failure(code, sqlite3_system_errno(c.db()))) {
      condition_.fail(*reason, sqlite::lasting(code));
    }
  }

  // Test-only fault injection: throws StoreError when the test says `step` fails.
  void step(WriteStep s) {
    if (fault_) fault_(s);
  }

  // Runs the batch in one transaction and sets each write's error. A write that throws is
  // rolled back to its savepoint alone. When SQLite itself ended the transaction (it rolls
  // back on its own after some errors, e.g. a full disk) or a rollback to a savepoint
  // fails, every write of the batch has lost its changes and fails with that error: no
  // write is reported durable that is not.
  void commit_batch(WriteQueue::Batch& batch) {
    Connection& c = *writer_conn_;
    // Writes to a file no longer at its path (deleted, moved away, replaced) would be
    // acknowledged and lost at the next start; to a read-only or damaged one they should
    // not be attempted. Refused before anything is begun.
    // Nor is a damaged database written to: that could spread the damage.
    std::optional<std::string> problem = condition_.lasting_reason();
    if (problem->empty()) problem = watch_ ? watch_->problem() : std::nullopt;
    if (problem) {
      condition_.fail(*problem);
      const auto error = std::make_exception_ptr(StoreError(*problem));
      for (Pending& p : batch) p.error = error;
      return;
    }
    auto fail_all = [&](std::exception_ptr error) {
      note_failure(c);
      c.exec_quietly("ROLLBACK");
      memo_.forget();
      for (Pending& p : batch) {
        if (!p.error) p.error = error;
      }
    };
    const sqlite3_int64 changes_before = sqlite3_total_changes64(c.db());
    try {
      step(WriteStep::kBegin);
      // IMMEDIATE takes the write lock up front, so a read-modify-write cannot be
      // overtaken by a CLI tool or another process sharing the file.
      c.prepare("BEGIN IMMEDIATE").run();
      forget_memo_if_written_elsewhere(c);
    } catch (...) {
      return fail_all(std::current_exception());
    }
    for (Pending& p : batch) {
      try {
        step(WriteStep::kSavepoint);
        c.prepare("SAVEPOINT w").run();
      } catch (...) {
        p.error = std::current_exception();
        if (sqlite3_get_autocommit(c.db())) return fail_all(p.error);
        continue;
      }
      try {
        step(WriteStep::kStatement);
        SqliteTransaction tx(c, /*writable=*/true, &memo_);
        p.fn(tx);
        step(WriteStep::kRelease);
        c.prepare("RELEASE w").run();
      } catch (...) {
        p.error = std::current_exception();
        note_failure(c);
        // What the memo learnt in this write may be rolled back with it.
        memo_.forget();
        if (sqlite3_get_autocommit(c.db())) return fail_all(p.error);
        try {
          c.prepare("ROLLBACK TO w").run();
          c.prepare("RELEASE w").run();
        } catch (...) {
          return fail_all(std::current_exception());
        }
      }
    }
    try {
      step(WriteStep::kCommit);
      c.prepare("COMMIT").run();
    } catch (...) {
      return fail_all(std::current_exception());
    }
    // A commit that changed no row wrote nothing (the maintenance round's purge, finding
    // nothing to delete, every 5 s): it succeeds on a full disk and proves no room.
    if (sqlite3_total_changes64(c.db()) == changes_before) return;
    for (const Pending& p : batch) {
      if (!p.error) return condition_.recovered();  // a write reached the disk
    }
  }

  // The writer's update hook: every row a statement or trigger inserts, updates or deletes
  // on the writer connection (rowid tables; SQLite does not call it for WITHOUT ROWID
  // tables, of which the memo keeps nothing).
  static void on_row_change(void* memo, int /*op*/, const char* /*db*/, const char* table,
                            sqlite3_int64 /*rowid*/) {
    auto* m = static_cast<WriterMemo*>(memo);
    if (std::strcmp(table, "incidents") == 0) {
      m->forget_incidents();
    } else if (std::strcmp(table, "events") == 0) {
      m->forget_event_seqs();
    } else if (std::strcmp(table, "channel_zones") == 0) {
      m->forget_channel_zones();
    }
  }

  // Another connection's commit (a tool writing to the file while the server runs; the
  // server's own readers never write) may have changed what the memo keeps. data_version
  // moves with every commit of another connection, and reading it costs a statement per
  // batch, not per write.
  void forget_memo_if_written_elsewhere(Connection& c) {
    Stmt s = c.prepare("PRAGMA data_version");
    const std::int64_t version = s.step() ? s.i64(0) : -1;
    if (version != data_version_) memo_.forget();
    data_version_ = version;
  }

  static int on_wal_commit(void* self, sqlite3*, const char*, int pages) {
    auto* store = static_cast<SqliteStore*>(self);
    store->log_grew_.store(true, std::memory_order_relaxed);
    if (pages >= kCheckpointPages) {
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
      checkpoint_cv_.wait_for(lock, maintenance_interval_,
                              [&] { return stopping_ || checkpoint_wanted_; });
      if (stopping_) break;
      checkpoint_wanted_ = false;
      lock.unlock();
      if (log_grew_.exchange(false)) checkpoint();
      purge_expired();
      lock.lock();
    }
  }

  // Copies the log into the database as far as no reader still needs it. What is left
  // (a reader in the way, or the checkpointer's connection not opening) is tried again on
  // the next round.
  void checkpoint() {
    try {
      if (!checkpointer_conn_) checkpointer_conn_ = open_connection_();
    } catch (const StoreError&) {
      log_grew_ = true;
      return;
    }
    int log = 0;
    int copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(checkpointer_conn_->db(), nullptr,
                                             SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (rc != SQLITE_OK || copied < log) log_grew_ = true;
  }

  // Delivery keys past their window (see Transaction::first_delivery_until), deleted off
  // the request path: queued like any write so the writer keeps its one connection, at
  // most purge_batch_ keys per write so no command waits long behind it, and, while
  // batches come back full, the next one queued behind the commands that arrived meanwhile.
  // One purge at a time.
  void purge_expired() {
    if (purge_queued_.exchange(true)) return;
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto deleted = std::make_shared<std::int64_t>(0);
    write_async(
        [now_ms, deleted, limit = purge_batch_](Transaction& tx) {
          *deleted = static_cast<SqliteTransaction&>(tx).purge_expired_deliveries(
              sqlite::from_ms(now_ms), limit);
        },
        [this, deleted](std::exception_ptr error) {
          purge_queued_ = false;
          if (error) return;  // retried on the next round
          if (on_purge_) on_purge_(*deleted);
          if (*deleted >= purge_batch_) purge_expired();
        });
  }

  const std::function<void(WriteStep)> fault_;
  std::unique_ptr<sqlite::FileWatch> watch_;  // null for ":memory:"
  sqlite::Condition condition_;
  const std::chrono::milliseconds maintenance_interval_;
  const int purge_batch_;
  const std::function<void(std::int64_t)> on_purge_;
  std::atomic<bool> purge_queued_{false};

  // The writer thread's alone, after construction.
  std::unique_ptr<Connection> writer_conn_;
  WriterMemo memo_;
  std::int64_t data_version_ = -1;
  // Opens a read connection (readers, checkpointer) with the store's settings.
  const std::function<std::unique_ptr<Connection>()> open_connection_;
  std::unique_ptr<Connection> checkpointer_conn_;  // the checkpoint thread's, once opened
  // A commit added to the log since the last checkpoint that copied all of it.
  std::atomic<bool> log_grew_{false};

  WriteQueue writes_;

  ConnectionPool<Connection> readers_;
  std::unique_ptr<WorkerPool> reader_pool_;

  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool stopping_ = false;
  std::thread checkpointer_;
};
}  // namespace

bool configure_sqlite_process() {
  // No initial bulk allocation of page-cache lines per connection (SQLite's default is 20
  // lines, about 85 KiB, written through as it is carved up): every connection, idle
  // readers included, held it from its first statement on. Pages are now allocated one by
  // one as a connection caches them; the cache sizes themselves are unchanged.
  return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK &&
         sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0) == SQLITE_OK;
}

std::unique_ptr<Store> open_sqlite_store(const std::string& path, const SqliteOptions& options) {
  return std::make_unique<SqliteStore>(path, options);
}

}  // namespace scribe
