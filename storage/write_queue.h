// The writes of a store backend waiting for its one writer thread (LevelDB's writer queue):
// push() never blocks; the writer thread takes everything queued so far (at most kMaxBatch),
// hands it to the backend's commit function as one batch, and then completes each write
// with its own outcome (Pending::error). While a batch commits, the next one gathers.
// Thread-safe; shared by the SQLite and PostgreSQL stores.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/store.h"

namespace scribe {

class WriteQueue {
 public:
  struct Pending {
    std::function<void(Transaction&)> fn;
    Store::Done done;
    std::exception_ptr error;  // set by the commit function; null: durable
  };
  using Batch = std::vector<Pending>;
  // Bounds a batch, so the first write of a long queue is not kept waiting for the last.
  static constexpr std::size_t kMaxBatch = 256;

  WriteQueue() = default;
  ~WriteQueue() { close(); }
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Starts the writer thread, which calls `commit_batch` with each batch. Once.
  void start(std::function<void(Batch&)> commit_batch);
  // Commits what is queued, then stops the writer thread; later pushes are refused.
  void close();

  // Queues a write; once closing, `done` gets "the store is closing" at once.
  void push(std::function<void(Transaction&)> fn, Store::Done done);
  // Queues a write and waits for its outcome (rethrown). On the writer thread it would wait
  // for itself (a completion called a blocking write): std::logic_error instead.
  void write_and_wait(const std::function<void(Transaction&)>& fn);

 private:
  void writer_loop();
  // Hands each write its outcome; every error handed over is referenced by its receiver
  // alone (see complete()).
  static void complete(Batch& batch);
  // A new exception equal to `error` for a StoreError; `error` itself otherwise.
  static std::exception_ptr own_copy(const std::exception_ptr& error);

  std::function<void(Batch&)> commit_batch_;
  std::mutex mu_;
  std::condition_variable cv_;  // the writer waits here for work, nobody else
  std::deque<Pending> queue_;
  bool closing_ = false;
  std::thread writer_;
  std::thread::id writer_id_;  // read by other threads only after start()
};

}  // namespace scribe
