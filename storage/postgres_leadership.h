// The PostgreSQL side of storage/leadership.h: the advisory lock pg::kLeaderLock held on a
// connection of its own. Private to storage/ (open_leadership chooses it).
#pragma once

#include <memory>
#include <string>

#include "storage/leadership.h"

namespace scribe {

std::unique_ptr<Leadership> open_postgres_leadership(const std::string& url,
                                                     const LeadershipOptions& options);

}  // namespace scribe
