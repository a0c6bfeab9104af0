// `scribe migrate [--status]` on a PostgreSQL database (storage/postgres_maintenance.h), on a
// fresh database of the throwaway server (SCRIBE_TEST_POSTGRES_URL; skipped without it,
// failed under CI=true): lists every migration as applied or pending, applies the pending
// ones once, refuses a database newer than the build, and never prints the URL's password.
//
// store_backends.h comes first: it names gtest's ::testing from inside namespace scribe,
// before e2e/fixture.h declares scribe::testing.
#include "unit/store_backends.h"

#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>

#include "e2e/fixture.h"
#include "storage/postgres_schema.h"
#include "storage/sqlite_schema.h"

namespace scribe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string line_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) return line;
  }
  return {};
}

TEST(PostgresMigrateE2E, MigrateAppliesAndListsMigrations) {
  test::TestDatabase db(test::Backend::kPostgres);
  SCRIBE_REQUIRE_DATABASE(db);
  // The throwaway server trusts loopback: a password in the URL is accepted and unused, so
  // the output can be checked for it.
  std::string url = db.location();
  const auto at = url.find('@');
  ASSERT_NE(at, std::string::npos) << url;
  url.insert(at, ":pw-never-printed");
  const int latest = pg::latest_schema_version();
  const std::string last_name(sqlite::migration_name(latest));

  const CliResult none = run_cli(url, "migrate --status");
  ASSERT_EQ(none.status, 0) << none.out;
  EXPECT_THAT(none.out,
              HasSubstr(fmt::format("schema version 0 of {}, {} pending", latest, latest)));
  EXPECT_THAT(line_with(none.out, last_name), HasSubstr("pending"));
  EXPECT_EQ(db.query_int("SELECT count(*) FROM pg_tables WHERE tablename = 'incidents'"), 0)
      << "--status must change nothing";

  const CliResult applied = run_cli(url, "migrate");
  ASSERT_EQ(applied.status, 0) << applied.out;
  EXPECT_THAT(applied.out,
              HasSubstr(fmt::format("applied {} migrations (1 to {})", latest, latest)));
  EXPECT_EQ(db.query_int("SELECT count(*) FROM schema_migrations"), latest);
  const CliResult status = run_cli(url, "migrate --status");
  ASSERT_EQ(status.status, 0) << status.out;
  EXPECT_THAT(status.out,
              HasSubstr(fmt::format("schema version {} of {}, nothing pending", latest, latest)));
  EXPECT_THAT(line_with(status.out, last_name), HasSubstr("applied 20"));
  EXPECT_THAT(status.out, Not(HasSubstr(" pending ")));
  const CliResult again = run_cli(url, "migrate");
  EXPECT_EQ(again.status, 0) << again.out;
  EXPECT_THAT(again.out, HasSubstr("nothing to apply"));

  // The last migration made to look pending (as after an upgrade of the binary).
  db.exec(fmt::format("DELETE FROM schema_migrations WHERE version = {}", latest));
  const CliResult pending = run_cli(url, "migrate --status");
  ASSERT_EQ(pending.status, 0) << pending.out;
  EXPECT_THAT(pending.out, HasSubstr("1 pending"));
  EXPECT_THAT(line_with(pending.out, last_name), HasSubstr("pending"));
  db.exec(fmt::format("INSERT INTO schema_migrations VALUES ({}, 0)", latest));

  db.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)");
  const CliResult newer = run_cli(url, "migrate --status");
  EXPECT_NE(newer.status, 0);
  EXPECT_THAT(newer.out, HasSubstr("newer than this build knows"));
  const CliResult refused = run_cli(url, "migrate");
  EXPECT_NE(refused.status, 0);
  EXPECT_THAT(refused.out, HasSubstr("newer than this build knows"));

  for (const auto* out : {&none.out, &applied.out, &status.out, &again.out, &newer.out}) {
    EXPECT_THAT(*out, Not(HasSubstr("pw-never-printed")));
  }
}

}  // namespace
}  // namespace scribe::testing
