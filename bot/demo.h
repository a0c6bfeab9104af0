// `scribe demo`: a whole sample incident, driven through the real HTTP path (signed
// Slack slash commands to a Scribe listening on loopback, a fresh SQLite file), with
// each command, Scribe's answer, and finally the postmortem draft printed.
#pragma once

#include <ostream>

namespace scribe {

// Returns the process exit code.
int run_demo(std::ostream& out, bool keep_database);

}  // namespace scribe
