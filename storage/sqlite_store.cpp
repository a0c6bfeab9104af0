#include "storage/sqlite_store.h"

#include <sqlite3.h>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "storage/sqlite_connection.h"
#include "storage/sqlite_schema.h"
#include "storage/sqlite_transaction.h"

namespace scribe {
namespace {

using sqlite::Connection;
using sqlite::SqliteTransaction;
using sqlite::Stmt;

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
    migrate(*writer_);
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
}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path, const SqliteOptions& options) {
  return std::make_unique<SqliteStore>(path, options);
}

}  // namespace scribe
