// SqliteStore: the embedded default backend. One database file in WAL mode. One writer
// thread owns the write connection and drains the write queue (group commit, see store.h);
// a pool of reader threads with their own connections serves read_async, and blocking
// reads borrow a connection of the same pool. Checkpoints run on a thread of their own.
// Migrations run on open.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "storage/store.h"

namespace scribe {

// The writer's steps, for fault injection: BEGIN, then per write SAVEPOINT, the write's
// statements, RELEASE; then COMMIT.
enum class WriteStep { kBegin, kSavepoint, kStatement, kRelease, kCommit };

struct SqliteOptions {
  // "full" survives power loss; "normal" survives a crash of the process (kill -9)
  // but may lose the last commits if the machine loses power.
  std::string synchronous = "normal";
  // Threads serving read_async. Reads (these and blocking ones) use up to one connection
  // more than this, each opened by the first read that finds none free.
  int reader_threads = 2;
  // Test-only: called by the writer at each step of a batch; a StoreError it throws stands
  // for that step failing (see WriteStep). Empty in production.
  std::function<void(WriteStep)> fault_injection;
  // The maintenance thread's round: a passive checkpoint when the log has grown past its
  // threshold, or this long passed and something was committed since the last one; then
  // a purge of expired delivery keys.
  std::chrono::milliseconds maintenance_interval{5000};
  // A purge deletes at most this many expired keys per write, so the writer is never held
  // long by it (commands queued meanwhile go first); a full batch queues the next at once.
  int purge_batch = 5000;
  // Test-only: told how many keys each purge write deleted, on the writer thread.
  std::function<void(std::int64_t)> on_purge;
};

// Process-wide SQLite settings; call before SQLite's first use (first thing in main).
// Turns off SQLite's memory statistics, which nothing reads: with them on, every
// allocation and free inside SQLite takes a process-wide mutex, measurable on the writer.
// Turns off the page cache's bulk allocation at each connection's start, which every
// idle reader connection held (about 85 KiB each; README, idle memory).
// Returns false if SQLite was already in use (the settings are then unchanged; only speed
// is lost).
bool configure_sqlite_process();

std::unique_ptr<Store> open_sqlite_store(const std::string& path,
                                         const SqliteOptions& options = {});

}  // namespace scribe
