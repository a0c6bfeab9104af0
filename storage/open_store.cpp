#include <string_view>

#include "storage/postgres_store.h"
#include "storage/sqlite_store.h"
#include "storage/store.h"

namespace scribe {

std::unique_ptr<Store> open_store(const std::string& location, const StoreOptions& options) {
  const std::string_view loc = location;
  if (loc.starts_with("postgresql://") || loc.starts_with("postgres://")) {
    // The URL goes to libpq unchanged: TLS options (sslmode, sslrootcert, …) pass through.
    PostgresOptions postgres;
    postgres.pool_size = options.db_pool_size;
    return open_postgres_store(location, postgres);
  }
  SqliteOptions sqlite;
  sqlite.synchronous = options.sqlite_synchronous;
  return open_sqlite_store(location, sqlite);
}

}  // namespace scribe

namespace scribe {

void Store::write_async(std::function<void(Transaction&)> fn, Done done) {
  std::exception_ptr error;
  try {
    write(fn);
  } catch (...) {
    error = std::current_exception();
  }
  done(error);
}

void Store::read_async(std::function<void(Transaction&)> fn, Done done) {
  std::exception_ptr error;
  try {
    read(fn);
  } catch (...) {
    error = std::current_exception();
  }
  done(error);
}

}  // namespace scribe
