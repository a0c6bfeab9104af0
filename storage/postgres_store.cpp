#include "storage/postgres_store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
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
#include <spdlog/spdlog.h>

#include "storage/connection_pool.h"
#include "storage/postgres_connection.h"
#include "storage/postgres_schema.h"
#include "storage/postgres_transaction.h"
#include "storage/sqlite_health.h"  // Condition: the episode bookkeeping both backends share
#include "storage/write_queue.h"
#include "util/random.h"
#include "util/worker_pool.h"

namespace scribe {
namespace {

using pg::Connection;
using pg::libpq;
using pg::PgError;
using pg::PgTransaction;

// What a PostgreSQL failure means for the store, in words for people, when it means the
// store cannot record (the server unreachable, read-only, out of disk), else nullopt (a
// failing statement of one command).
std::optional<std::string> server_failure(const PgError& e, const std::string& where) {
  const std::string& state = e.sqlstate();
  if (e.connection_lost() || state.starts_with("08")) {
    return fmt::format("the PostgreSQL server at {} cannot be reached ({})", where, e.what());
  }
  if (state == "25006") {
    return fmt::format(
        "the PostgreSQL server at {} is read-only (a standby, or default_transaction_read_only "
        "is on)",
        where);
  }
  if (state == "53100") return fmt::format("the PostgreSQL server at {} has a full disk", where);
  if (state.starts_with("53")) {
    return fmt::format("the PostgreSQL server at {} is out of resources ({})", where, e.what());
  }
  if (state.starts_with("57P")) {
    return fmt::format("the PostgreSQL server at {} is shutting down or starting up ({})", where,
                       e.what());
  }
  if (state == "42501") {
    return fmt::format("the database user may not write at {} ({})", where, e.what());
  }
  return std::nullopt;
}

class PostgresStore final : public Store {
 public:
  PostgresStore(const std::string& url, const PostgresOptions& options)
      : where_(pg::redact_url(url)),
        maintenance_interval_(options.maintenance_interval),
        purge_batch_(std::max(1, options.purge_batch)),
        on_purge_(options.on_purge),
        on_conflict_retry_(options.on_conflict_retry) {
    const int readers = std::max(1, options.pool_size);
    writer_conn_ = std::make_unique<Connection>(url);
    migrate(*writer_conn_);
    for (int i = 0; i < readers; ++i) readers_.add(std::make_unique<Connection>(url));
    writes_.start([this](WriteQueue::Batch& batch) { commit_batch(batch); });
    reader_pool_ = std::make_unique<WorkerPool>(static_cast<std::size_t>(readers), "pg-reader");
    maintenance_ = std::thread([this] { maintenance_loop(); });
  }

  ~PostgresStore() override {
    {
      std::lock_guard lock(maintenance_mu_);
      stopping_ = true;
    }
    maintenance_cv_.notify_all();
    maintenance_.join();
    reader_pool_.reset();  // runs the reads already posted
    writes_.close();       // commits what is queued first
  }

  void write(const std::function<void(Transaction&)>& fn) override { writes_.write_and_wait(fn); }

  void write_async(std::function<void(Transaction&)> fn, Done done) override {
    writes_.push(std::move(fn), std::move(done));
  }

  void read(const std::function<void(Transaction&)>& fn) override {
    ConnectionPool<Connection>::Lease lease(readers_);
    Connection& c = lease.connection();
    try {
      begin(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      PgTransaction tx(c, /*writable=*/false);
      fn(tx);
      c.exec("COMMIT");
    } catch (const PgError&) {
      c.exec_quietly("ROLLBACK");
      std::rethrow_exception(classify(std::current_exception()));
    } catch (...) {
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

  // A real write through the writer (it also ends an episode that is over: the server back,
  // writable again), within kProbeTimeout.
  StoreHealth health() override {
    auto probed = std::make_shared<std::promise<void>>();
    std::future<void> done = probed->get_future();
    write_async([](Transaction& tx) { static_cast<PgTransaction&>(tx).probe(); },
                [probed](std::exception_ptr error) {
                  if (error) {
                    probed->set_exception(error);
                  } else {
                    probed->set_value();
                  }
                });
    if (done.wait_for(kProbeTimeout) != std::future_status::ready) {
      const std::string reason =
          fmt::format("the PostgreSQL server at {} did not complete a write within 5 s", where_);
      condition_.fail(reason);
      return StoreHealth{false, reason};
    }
    try {
      done.get();
    } catch (const StoreError& e) {
      const std::string reason = condition_.reason();
      return StoreHealth{false, reason.empty() ? std::string(e.what()) : reason};
    }
    return StoreHealth{};
  }

  std::string trouble() override { return condition_.reason(); }

 private:
  using Pending = WriteQueue::Pending;
  static constexpr std::chrono::seconds kProbeTimeout{5};
  // A batch that lost a conflict is run again up to this many times in all, after waits of
  // up to kConflictBackoff times the attempt's number.
  static constexpr int kConflictAttempts = 5;
  static constexpr std::chrono::milliseconds kConflictBackoff{20};

  // When `error` means the server cannot record, the condition says so and the write fails
  // with that reason in words; a command's own failure is returned as it is.
  std::exception_ptr classify(std::exception_ptr error) {
    try {
      std::rethrow_exception(error);
    } catch (const PgError& e) {
      if (auto reason = server_failure(e, where_)) {
        condition_.fail(*reason);
        return std::make_exception_ptr(StoreError(*reason));
      }
    } catch (...) {
    }
    return error;
  }

  // BEGIN, on a connection the server may have closed since its last use (a restart, a
  // failover, an idle timeout): then once more on a new connection, as nothing was done.
  static void begin(Connection& c, const char* sql) {
    try {
      if (c.broken()) c.reset();
      c.exec(sql);
    } catch (const PgError& e) {
      if (!e.connection_lost()) throw;
      c.reset();
      c.exec(sql);
    }
  }

  // Whether `error` is PostgreSQL failing a transaction for what another one did at the same
  // moment: a deadlock (40P01) or a serialization failure (40001). Such a transaction is
  // sound and succeeds when run again.
  static bool conflict(const std::exception_ptr& error) {
    try {
      std::rethrow_exception(error);
    } catch (const PgError& e) {
      return e.sqlstate() == "40P01" || e.sqlstate() == "40001";
    } catch (...) {
    }
    return false;
  }

  // Commits the batch, run again as a whole when it lost a conflict with another replica's
  // transaction (two batches locking the same incidents in opposite orders): PostgreSQL
  // fails one of them, and it is rolled back and retried after a short jittered wait (the
  // other has committed or gone by then) up to kConflictAttempts times. Only the last
  // attempt fails a write for a conflict, so no command is refused for it. Each write's
  // function may thus run more than once; only the run that commits counts.
  void commit_batch(WriteQueue::Batch& batch) {
    for (int attempt = 1;; ++attempt) {
      if (commit_once(batch, /*retry_conflicts=*/attempt < kConflictAttempts)) return;
      const auto most = kConflictBackoff * attempt;
      std::this_thread::sleep_for(
          std::chrono::milliseconds(random_between(most.count() / 2, most.count())));
    }
  }

  // Runs the batch in one transaction and sets each write's error; false (everything rolled
  // back, no error set) when `retry_conflicts` and the transaction lost a conflict. A write
  // that throws is rolled back to its savepoint alone. When the transaction as a whole is
  // lost (the connection dropped, a rollback to a savepoint failed, the commit failed) every
  // write of the batch fails with that error: no write is reported durable that is not. (A
  // commit whose answer is lost with the connection may have committed; it is reported
  // failed, and a retry meets the delivery keys it wrote.)
  bool commit_once(WriteQueue::Batch& batch, bool retry_conflicts) {
    Connection& c = *writer_conn_;
    auto fail_all = [&](std::exception_ptr error) {
      c.exec_quietly("ROLLBACK");
      if (retry_conflicts && conflict(error)) return retry(batch);
      error = classify(error);
      for (Pending& p : batch) {
        if (!p.error) p.error = error;
      }
      return true;
    };
    try {
      begin(c, "BEGIN");
    } catch (...) {
      return fail_all(std::current_exception());
    }
    for (Pending& p : batch) {
      try {
        c.exec("SAVEPOINT w");
      } catch (...) {
        return fail_all(std::current_exception());
      }
      try {
        PgTransaction tx(c, /*writable=*/true);
        p.fn(tx);
        c.exec("RELEASE SAVEPOINT w");
      } catch (...) {
        const std::exception_ptr error = std::current_exception();
        // The other transaction waits on the locks this batch's earlier writes hold: the
        // write cannot succeed within this transaction.
        if (retry_conflicts && conflict(error)) {
          c.exec_quietly("ROLLBACK");
          return retry(batch);
        }
        p.error = classify(error);
        if (c.broken()) return fail_all(p.error);
        try {
          c.exec("ROLLBACK TO SAVEPOINT w");
          c.exec("RELEASE SAVEPOINT w");
        } catch (...) {
          return fail_all(std::current_exception());
        }
      }
    }
    try {
      // COMMIT of a transaction in the failed state answers ROLLBACK without an error:
      // checked first, so such a batch is not reported durable.
      if (libpq().PQtransactionStatus(c.raw()) != PQTRANS_INTRANS) {
        throw StoreError("postgresql: the transaction failed before its commit");
      }
      c.exec("COMMIT");
    } catch (...) {
      return fail_all(std::current_exception());
    }
    for (const Pending& p : batch) {
      if (!p.error) {
        condition_.recovered();  // a write reached the server
        break;
      }
    }
    return true;
  }

  // Forgets the outcomes of a rolled-back attempt; false, for commit_once to return.
  bool retry(WriteQueue::Batch& batch) {
    spdlog::debug("postgresql: a batch of {} write(s) lost a conflict; running it again",
                  batch.size());
    if (on_conflict_retry_) on_conflict_retry_();
    for (Pending& p : batch) p.error = nullptr;
    return false;
  }

  void maintenance_loop() {
    std::unique_lock lock(maintenance_mu_);
    while (!stopping_) {
      maintenance_cv_.wait_for(lock, maintenance_interval_, [&] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      purge_expired();
      lock.lock();
    }
  }

  // As SqliteStore::purge_expired: bounded deletes queued like any write.
  void purge_expired() {
    if (purge_queued_.exchange(true)) return;
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto deleted = std::make_shared<std::int64_t>(0);
    write_async(
        [now_ms, deleted, limit = purge_batch_](Transaction& tx) {
          *deleted =
              static_cast<PgTransaction&>(tx).purge_expired_deliveries(pg::from_ms(now_ms), limit);
        },
        [this, deleted](std::exception_ptr error) {
          purge_queued_ = false;
          if (error) return;  // retried on the next round
          if (on_purge_) on_purge_(*deleted);
          if (*deleted >= purge_batch_) purge_expired();
        });
  }

  const std::string where_;  // the URL without its password, for messages
  sqlite::Condition condition_;
  const std::chrono::milliseconds maintenance_interval_;
  const int purge_batch_;
  const std::function<void(std::int64_t)> on_purge_;
  std::atomic<bool> purge_queued_{false};
  const std::function<void()> on_conflict_retry_;

  std::unique_ptr<Connection> writer_conn_;  // the writer thread's alone, after construction

  WriteQueue writes_;

  ConnectionPool<Connection> readers_;
  std::unique_ptr<WorkerPool> reader_pool_;

  std::mutex maintenance_mu_;
  std::condition_variable maintenance_cv_;
  bool stopping_ = false;
  std::thread maintenance_;
};

}  // namespace

std::unique_ptr<Store> open_postgres_store(const std::string& url, const PostgresOptions& options) {
  if (options.pool_size < 1 || options.pool_size > 100) {
    throw StoreError(
        fmt::format("the database pool size must be 1 to 100, not {}", options.pool_size));
  }
  return std::make_unique<PostgresStore>(url, options);
}

}  // namespace scribe
