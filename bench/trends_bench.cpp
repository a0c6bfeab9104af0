// `scribe report` at scale: generates N incidents (default 10,000) with timelines, cause
// notes and action items in a real SQLite file, then runs the real `scribe report` binary
// over it (all formats) and prints the wall time of each run, plus the load average, since
// the machine may be shared. A program, not a test: it prints figures, asserts none.
//   scribe_trends_bench [--incidents N] [--runs R] [--keep]
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <date/date.h>
#include <fmt/format.h>

#include "storage/store.h"

using namespace scribe;
using std::chrono::minutes;

namespace {

double run_report(const std::string& db, const std::string& format) {
  const auto start = std::chrono::steady_clock::now();
  std::fflush(stdout);  // else the child flushes our buffered lines a second time
  const pid_t pid = fork();
  if (pid == 0) {
    setenv("SCRIBE_DB", db.c_str(), 1);
    setenv("SCRIBE_LOG_LEVEL", "warn", 1);
    if (!freopen("/dev/null", "w", stdout)) _exit(126);
    execl(SCRIBE_BINARY, SCRIBE_BINARY, "report", "--since", "3650d", "--format", format.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fmt::print(stderr, "scribe report failed (status {})\n", status);
    std::exit(1);
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  int incidents = 10'000;
  int runs = 3;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--incidents" && i + 1 < argc)
      incidents = std::atoi(argv[++i]);
    else if (a == "--runs" && i + 1 < argc)
      runs = std::atoi(argv[++i]);
    else if (a == "--keep")
      keep = true;
    else {
      fmt::print(stderr, "usage: {} [--incidents N] [--runs R] [--keep]\n", argv[0]);
      return 2;
    }
  }
  const auto dir =
      std::filesystem::temp_directory_path() / fmt::format("scribe-trends-bench-{}", getpid());
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "scribe.db").string();
  std::mt19937 rng(42);
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const char* causes[] = {"#cause:config-default", "#cause:capacity", "Connection pool exhausted",
                          "certificate expired", "bad deploy of checkout"};
  const char* owners[] = {"alice", "bob", "carol", "dave", "erin", "frank"};
  const auto gen_start = std::chrono::steady_clock::now();
  {
    auto store = open_store(db, StoreOptions{});
    store->write([&](Transaction& tx) {
      for (int n = 0; n < incidents; ++n) {
        Incident inc;
        inc.channel = {"slack", "T1", fmt::format("C{}", n)};
        inc.title = fmt::format("Incident {}", n);
        inc.severity = static_cast<Severity>(1 + rng() % 4);
        inc.commander = {"U1", "alice"};
        inc.declared_at = now - std::chrono::hours(rng() % (24 * 3000));
        inc.mitigated_at = inc.declared_at + minutes(5 + rng() % 120);
        inc.resolved_at = *inc.mitigated_at + minutes(rng() % 240);
        inc.status = IncidentStatus::kClosed;
        inc.closed_at = *inc.resolved_at + std::chrono::hours(24);
        const IncidentId id = tx.insert_incident(inc);
        TimelineEvent e;
        e.incident_id = id;
        e.author = inc.commander;
        e.recorded_at = inc.declared_at;
        for (EventKind k : {EventKind::kImpact, EventKind::kAlert, EventKind::kNote,
                            EventKind::kAction, EventKind::kComms}) {
          e.kind = k;
          e.occurred_at = inc.declared_at - minutes(rng() % 30);
          e.text = "something happened";
          tx.append_event(e);
        }
        Note note;
        note.incident_id = id;
        note.section = NoteSection::kCause;
        note.text = causes[rng() % 5];
        note.author = inc.commander;
        note.created_at = inc.declared_at;
        tx.add_note(note);
        for (int k = 0; k < 3; ++k) {
          ActionItem a;
          a.incident_id = id;
          a.text = "follow up";
          const char* o = owners[rng() % 6];
          a.owner = Person{fmt::format("U{}", o), o};
          a.kind = static_cast<ActionKind>(rng() % 5);
          a.due = date::format(
              "%F", std::chrono::floor<std::chrono::days>(inc.declared_at + std::chrono::days(14)));
          a.status = static_cast<ActionStatus>(rng() % 3);
          if (a.status == ActionStatus::kDone) {
            a.done_at = inc.declared_at + std::chrono::days(rng() % 28);
          }
          a.created_by = inc.commander;
          a.created_at = inc.declared_at;
          tx.add_action(a);
        }
      }
    });
  }
  const double gen_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - gen_start).count();
  fmt::print("generated {} incidents (5 events, 1 cause note, 3 action items each) in {:.1f} s\n",
             incidents, gen_s);
  for (const char* format : {"md", "json", "html"}) {
    for (int r = 0; r < runs; ++r) {
      fmt::print("scribe report --format {} over {} incidents: {:.0f} ms (whole process)\n", format,
                 incidents, run_report(db, format));
    }
  }
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) {
    fmt::print("load average: {:.2f} {:.2f} {:.2f} ({} cores online)\n", load[0], load[1], load[2],
               sysconf(_SC_NPROCESSORS_ONLN));
  }
  if (keep) {
    fmt::print("database kept at {}\n", db);
  } else {
    std::filesystem::remove_all(dir);
  }
  return 0;
}
