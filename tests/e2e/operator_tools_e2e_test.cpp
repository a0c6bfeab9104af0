// End-to-end: the operator's database tools on the real binary and real SQLite files.
// `scribe backup` copies a consistent snapshot while `scribe serve` keeps taking commands;
// `scribe restore` is refused while a server holds the database, refuses anything but a
// Scribe database of a known schema version (changing nothing), and otherwise brings the
// backup's contents back; `scribe migrate` applies and lists migrations.
#include <sqlite3.h>

#include <atomic>
#include <sstream>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/fixture.h"
#include "storage/sqlite_schema.h"

namespace scribe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Runs SQL on a database file directly (to make files the tools must refuse).
void sql(const std::filesystem::path& db, const std::string& statements) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(h, statements.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

// A file's contents, hashed: compared, never printed (a database is binary and large).
std::size_t file_hash(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::hash<std::string>{}(std::string(std::istreambuf_iterator<char>(in), {}));
}

// The line of `text` that contains `needle`; empty when none does.
std::string line_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) return line;
  }
  return {};
}

class OperatorToolsE2E : public ScribeE2E {
 protected:
  std::string db() const { return (dir_ / "scribe.db").string(); }

  // The timeline entries of INC-1 as the API shows them.
  std::size_t timeline_size() {
    return api_json("/api/incidents/1/postmortem.json")["timeline"].size();
  }

  // The timeline of INC-1 in the database file `path`, through `scribe draft` on a copy
  // restored from it (opening a store migrates, and a backup must stay as it was made).
  json timeline_in(const std::filesystem::path& backup) {
    const std::filesystem::path copy = dir_ / "inspect.db";
    std::filesystem::remove(copy);
    const CliResult restored = run_cli(copy.string(), "restore '" + backup.string() + "'");
    EXPECT_EQ(restored.status, 0) << restored.out;
    const CliResult draft = run_cli(copy.string(), "draft 1 --format json");
    EXPECT_EQ(draft.status, 0) << draft.out;
    return json::parse(draft.out)["timeline"];
  }
};

TEST_F(OperatorToolsE2E, BackupWhileServingIsAConsistentSnapshotAndRestoreBringsItBack) {
  // This test floods one channel on purpose: no per-channel rate limit.
  start({{"SCRIBE_CHANNEL_COMMANDS_PER_MINUTE", "off"}});
  slack_->command("/incident", "start sev2 Backup under load", "C0BACKUP");
  for (int i = 1; i <= 20; ++i)
    slack_->command("/timeline", fmt::format("before {}", i), "C0BACKUP");
  const std::size_t before = timeline_size();

  // Commands keep arriving while the backup runs: it must neither block them nor copy a
  // torn state.
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0};
  std::string writer_error;  // set by the writer thread before it ends, read after join
  std::thread writer([&] {
    SlackClient client(scribe_->base_url(), kSecret);
    try {
      for (int i = 1; !stop; ++i) {
        client.command("/timeline", fmt::format("during {}", i), "C0BACKUP");
        ++acknowledged;
      }
    } catch (const std::exception& e) {
      writer_error = e.what();
      stop = true;
    }
  });
  // Wait until commands are flowing, so the backup overlaps them.
  while (acknowledged < 5 && !stop) std::this_thread::yield();
  const std::filesystem::path backup = dir_ / "backup.db";
  const CliResult made = run_cli(db(), "backup '" + backup.string() + "'");
  const int acknowledged_after_backup = acknowledged;
  stop = true;
  writer.join();
  ASSERT_EQ(writer_error, "") << "a command failed while the backup ran";
  ASSERT_EQ(made.status, 0) << made.out;
  EXPECT_THAT(made.out, HasSubstr("1 incident"));
  EXPECT_GT(acknowledged_after_backup, 5) << "the server kept answering during the backup";

  // One file, no log beside it; its timeline is a gap-free prefix of what was acknowledged.
  EXPECT_FALSE(std::filesystem::exists(backup.string() + "-wal"));
  const json copied = timeline_in(backup);
  ASSERT_GE(copied.size(), before + 5);
  for (std::size_t i = 0; i < copied.size(); ++i) {
    EXPECT_EQ(copied[i]["seq"].get<int>(), static_cast<int>(i) + 1);
  }

  // Restoring under a running server is refused and changes nothing.
  slack_->command("/timeline", "after the backup", "C0BACKUP");
  const std::size_t live = timeline_size();
  ASSERT_GT(live, copied.size());
  const CliResult refused = run_cli(db(), "restore '" + backup.string() + "'");
  EXPECT_EQ(refused.status, 3) << refused.out;
  EXPECT_THAT(refused.out, HasSubstr(fmt::format("pid {}", scribe_->pid())));
  EXPECT_THAT(refused.out, HasSubstr("nothing was changed"));
  EXPECT_EQ(timeline_size(), live);

  // Stopped, the database takes the backup's contents; the restarted server serves them.
  ASSERT_EQ(scribe_->terminate(), 0) << scribe_->logs();
  const CliResult restored = run_cli(db(), "restore '" + backup.string() + "'");
  ASSERT_EQ(restored.status, 0) << restored.out;
  EXPECT_THAT(restored.out, HasSubstr("1 incident"));
  start();
  EXPECT_EQ(timeline_size(), copied.size());
  EXPECT_THAT(api_json("/api/incidents/1/postmortem.json").dump(),
              Not(HasSubstr("after the backup")));
  // And it keeps recording where the backup left off.
  slack_->command("/timeline", "after the restore", "C0BACKUP");
  EXPECT_EQ(timeline_size(), copied.size() + 1);
}

TEST_F(OperatorToolsE2E, BackupRefusesToOverwriteUnlessAskedAndNamesSqliteOnly) {
  slack_->command("/incident", "start sev3 Overwrite", "C0OVER");
  const std::filesystem::path backup = dir_ / "nightly.db";
  ASSERT_EQ(run_cli(db(), "backup '" + backup.string() + "'").status, 0);
  const std::size_t first = file_hash(backup);
  slack_->command("/timeline", "later", "C0OVER");
  const CliResult again = run_cli(db(), "backup '" + backup.string() + "'");
  EXPECT_NE(again.status, 0);
  EXPECT_THAT(again.out, HasSubstr("already exists"));
  EXPECT_EQ(file_hash(backup), first);
  EXPECT_EQ(run_cli(db(), "backup --overwrite '" + backup.string() + "'").status, 0);
  EXPECT_THAT(timeline_in(backup).dump(), HasSubstr("later"));

  for (const char* tool : {"backup x.db", "restore x.db"}) {
    const CliResult pg = run_cli("postgresql://scribe@127.0.0.1:1/scribe", tool);
    EXPECT_EQ(pg.status, 2) << pg.out;
    EXPECT_THAT(pg.out, HasSubstr("SQLite databases only"));
    EXPECT_THAT(pg.out, HasSubstr("pg_dump"));
  }
}

TEST_F(OperatorToolsE2E, RestoreRefusesWhatIsNotAScribeDatabaseOfAKnownVersion) {
  slack_->command("/incident", "start sev2 Keep me", "C0KEEP");
  slack_->command("/timeline", "the only line", "C0KEEP");
  const std::filesystem::path good = dir_ / "good.db";
  ASSERT_EQ(run_cli(db(), "backup '" + good.string() + "'").status, 0);
  ASSERT_EQ(scribe_->terminate(), 0);
  const std::size_t original = file_hash(db());

  const std::filesystem::path garbage = dir_ / "garbage.db";
  std::ofstream(garbage) << "this is not a database, it is a shopping list\n";
  const std::filesystem::path foreign = dir_ / "foreign.db";
  sql(foreign, "CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x');");
  const std::filesystem::path newer = dir_ / "newer.db";
  std::filesystem::copy_file(good, newer);
  sql(newer, "INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0);");
  const std::filesystem::path damaged = dir_ / "damaged.db";
  std::filesystem::copy_file(good, damaged);
  {
    // Clobber the headers of b-tree pages 2 to 8 (page 1 stays, so it still opens).
    std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
    const std::string junk(12, '\xA5');
    for (int page = 2; page <= 8; ++page) {
      f.seekp((page - 1) * 4096);
      f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
  }

  const std::pair<std::filesystem::path, const char*> cases[] = {
      {garbage, "not a readable SQLite database"}, {foreign, "not Scribe's"},
      {newer, "newer than this build knows"},      {damaged, "damaged"},
      {dir_ / "missing.db", "no file at"},
  };
  for (const auto& [file, why] : cases) {
    const CliResult r = run_cli(db(), "restore '" + file.string() + "'");
    EXPECT_EQ(r.status, 2) << file << ": " << r.out;
    EXPECT_THAT(r.out, HasSubstr(why)) << file;
    EXPECT_THAT(r.out, HasSubstr("nothing was changed")) << file;
    EXPECT_EQ(file_hash(db()), original) << file;
  }
  start();
  EXPECT_THAT(api_json("/api/incidents/1/postmortem.json").dump(), HasSubstr("the only line"));
}

TEST_F(OperatorToolsE2E, ExportImportExportThroughTheBinaryIsIdenticalAndARepeatIsRefused) {
  slack_->command("/incident", "start sev2 Export me", "C0EXP");
  slack_->command("/timeline", "#impact checkout p99 at 1.2 s for 300 users", "C0EXP");
  slack_->command("/timeline", "a line to edit", "C0EXP");
  slack_->command("/timeline", "edit 3 an edited line", "C0EXP");
  slack_->command("/incident", "cause a bad config push", "C0EXP");
  slack_->command("/action", "Add a canary stage <@U0BOB|bob> due +3d #prevent", "C0EXP");
  slack_->command("/action", "done 1", "C0EXP");
  slack_->command("/incident", "resolved", "C0EXP");
  slack_->command("/incident", "start sev3 Second one", "C0EXP2");

  // Exported while the server runs (read-only); imported into a fresh database.
  const std::filesystem::path file = dir_ / "export.json";
  const CliResult out = run_cli(db(), "export '" + file.string() + "'");
  ASSERT_EQ(out.status, 0) << out.out;
  const std::string fresh = (dir_ / "fresh.db").string();
  const CliResult in = run_cli(fresh, "import '" + file.string() + "'");
  ASSERT_EQ(in.status, 0) << in.out;
  EXPECT_THAT(in.out, HasSubstr("imported 2 incidents"));
  EXPECT_THAT(in.out, HasSubstr("INC-1 is now INC-1"));
  const CliResult again = run_cli(fresh, "export");
  ASSERT_EQ(again.status, 0) << again.out;
  std::ifstream first(file);
  const std::string exported((std::istreambuf_iterator<char>(first)), {});
  EXPECT_EQ(again.out, exported);
  const json doc = json::parse(exported);
  EXPECT_EQ(doc["incidents"][0]["event_revisions"].size(), 1u);
  EXPECT_EQ(doc["incidents"][0]["actions"][0]["status"], "done");
  EXPECT_FALSE(doc["incidents"][0]["latest_draft"].is_null());

  // The same file again: refused, nothing changed.
  const CliResult repeat = run_cli(fresh, "import '" + file.string() + "'");
  EXPECT_EQ(repeat.status, 2) << repeat.out;
  EXPECT_THAT(repeat.out, HasSubstr("already in the target"));
  EXPECT_EQ(run_cli(fresh, "export").out, exported);

  // One incident; a file that is not JSON; import into the served database is refused.
  const CliResult one = run_cli(db(), "export --incident INC-2");
  ASSERT_EQ(one.status, 0) << one.out;
  EXPECT_EQ(json::parse(one.out)["incidents"].size(), 1u);
  std::ofstream(dir_ / "bad.json") << "{\"format\": \"scribe-export\", ";
  const CliResult bad = run_cli(fresh, "import '" + (dir_ / "bad.json").string() + "'");
  EXPECT_EQ(bad.status, 2);
  EXPECT_THAT(bad.out, HasSubstr("is not JSON"));
  const CliResult busy = run_cli(db(), "import '" + file.string() + "'");
  EXPECT_EQ(busy.status, 3) << busy.out;
  EXPECT_THAT(busy.out, HasSubstr("nothing was imported"));
  EXPECT_EQ(incident_count(), 2u);
}

TEST_F(OperatorToolsE2E, MigrateAppliesAndListsMigrations) {
  const int latest = sqlite::latest_schema_version();
  const std::string last_name(sqlite::migration_name(latest));
  const std::string fresh = (dir_ / "fresh.db").string();

  const CliResult none = run_cli(fresh, "migrate --status");
  EXPECT_NE(none.status, 0);
  EXPECT_THAT(none.out, HasSubstr("no database at"));
  EXPECT_FALSE(std::filesystem::exists(fresh)) << "--status must not create the file";

  const CliResult applied = run_cli(fresh, "migrate");
  ASSERT_EQ(applied.status, 0) << applied.out;
  EXPECT_THAT(applied.out,
              HasSubstr(fmt::format("applied {} migrations (1 to {})", latest, latest)));
  const CliResult status = run_cli(fresh, "migrate --status");
  ASSERT_EQ(status.status, 0) << status.out;
  EXPECT_THAT(status.out,
              HasSubstr(fmt::format("schema version {} of {}, nothing pending", latest, latest)));
  EXPECT_THAT(status.out, HasSubstr(last_name));
  EXPECT_THAT(status.out, Not(HasSubstr(" pending ")));
  const CliResult again = run_cli(fresh, "migrate");
  EXPECT_EQ(again.status, 0);
  EXPECT_THAT(again.out, HasSubstr("nothing to apply"));

  // The served database: the last migration made to look pending (as after an upgrade).
  sql(db(), fmt::format("DELETE FROM schema_migrations WHERE version = {};", latest));
  const CliResult pending = run_cli(db(), "migrate --status");
  ASSERT_EQ(pending.status, 0) << pending.out;
  EXPECT_THAT(pending.out, HasSubstr("1 pending"));
  EXPECT_THAT(line_with(pending.out, last_name), HasSubstr("pending"));
  // Applying it while the server holds the database is refused: its schema must not change
  // underneath it.
  const CliResult busy = run_cli(db(), "migrate");
  EXPECT_EQ(busy.status, 3) << busy.out;
  EXPECT_THAT(busy.out, HasSubstr("already serving"));
  EXPECT_THAT(run_cli(db(), "migrate --status").out, HasSubstr("1 pending"));
  // Put the row back (the table exists), so the server's next start finds the schema whole.
  sql(db(), fmt::format("INSERT INTO schema_migrations VALUES ({}, 0);", latest));

  sql(fresh, "INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0);");
  const CliResult newer = run_cli(fresh, "migrate --status");
  EXPECT_NE(newer.status, 0);
  EXPECT_THAT(newer.out, HasSubstr("newer than this build knows"));
}

}  // namespace
}  // namespace scribe::testing
