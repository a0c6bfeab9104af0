// PostgresStore: the backend for several replicas on one shared database (SCRIBE_DB=
// postgresql://… or postgres://…), through libpq. The same promises as the SQLite store
// (store.h): one writer thread per process owns the write connection and commits a batch
// of queued writes per transaction, one savepoint per write, so every writer gets its own
// outcome, a failing write is rolled back alone and a failing commit fails the whole batch;
// reads run on a pool of connections, each read on a REPEATABLE READ READ ONLY snapshot.
// Statements are prepared once per connection. Migrations run on open under an advisory
// lock. A connection the server dropped is reconnected at its next use. A batch that
// PostgreSQL fails for a conflict with another replica's transaction (deadlock 40P01,
// serialization failure 40001) is run again as a whole, a bounded number of times, before
// its writers are told: a write's function may run more than once, and only the run that
// commits counts.
//
// Across replicas: every replica has its own writer; what must happen once (a delivery key,
// an outbox dedupe key, a per-incident number) is decided by the database (unique keys with
// ON CONFLICT, the incident's row lock), never by one process's memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "storage/store.h"

namespace scribe {

struct PostgresOptions {
  // Read connections (and the threads serving read_async). The process holds this many
  // plus one for the writer.
  int pool_size = 4;
  // The maintenance thread's round: a purge of expired delivery keys, as in SQLite.
  std::chrono::milliseconds maintenance_interval{5000};
  // A purge deletes at most this many expired keys per write.
  int purge_batch = 5000;
  // Test-only: told how many keys each purge write deleted, on the writer thread.
  std::function<void(std::int64_t)> on_purge;
  // Test-only: told each time a batch that lost a conflict (a deadlock, a serialization
  // failure) is rolled back to run again, on the writer thread.
  std::function<void()> on_conflict_retry;
};

// Connects to `url` (handed to libpq unchanged: sslmode, sslrootcert and every other
// option of a libpq URL apply), applies pending migrations, and returns the store. Throws
// StoreError naming the server (never the password) when it cannot.
std::unique_ptr<Store> open_postgres_store(const std::string& url,
                                           const PostgresOptions& options = {});

}  // namespace scribe
