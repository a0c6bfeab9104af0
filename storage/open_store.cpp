#include <string_view>

#include "storage/sqlite_store.h"
#include "storage/store.h"

namespace scribe {

std::unique_ptr<Store> open_store(const std::string& location, const StoreOptions& options) {
  const std::string_view loc = location;
  if (loc.starts_with("postgresql://") || loc.starts_with("postgres://")) {
    // The PostgreSQL backend implements the same Store interface; it is not built yet.
    throw StoreError("PostgreSQL storage is not available in this build; use a SQLite path");
  }
  return open_sqlite_store(location, SqliteOptions{options.sqlite_synchronous});
}

}  // namespace scribe
