// SqliteStore: the embedded default backend. One database file in WAL mode; writers
// are serialised (SQLite allows one at a time anyway) and each `write` commits with
// the configured synchronous level before it returns. Migrations run on open.
#pragma once

#include <memory>
#include <string>

#include "storage/store.h"

namespace scribe {

struct SqliteOptions {
  // "full" survives power loss; "normal" survives a crash of the process (kill -9)
  // but may lose the last commits if the machine loses power.
  std::string synchronous = "normal";
};

std::unique_ptr<Store> open_sqlite_store(const std::string& path,
                                         const SqliteOptions& options = {});

}  // namespace scribe
