// libpq is loaded by the PostgreSQL backend when a postgresql:// URL is opened
// (storage/postgres_libpq.h), never linked. Through the real binary: the shared libraries a
// running `scribe serve` maps (/proc/<pid>/maps) hold no libpq on SQLite and do on
// PostgreSQL; and with libpq unloadable (a private mount namespace with /dev/null over the
// library file: needs CAP_SYS_ADMIN, skipped without it) `scribe migrate` and `scribe serve`
// on a PostgreSQL URL exit with the loader's message, while SQLite works as before.
//
// store_backends.h comes first: it names gtest's ::testing from inside namespace scribe,
// before e2e/fixture.h declares scribe::testing.
#include "unit/store_backends.h"

#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <gmock/gmock.h>

#include "e2e/fixture.h"

namespace scribe::testing {
namespace {

// The file names (without their directories) of every file `pid` maps.
std::set<std::string> mapped_files(pid_t pid) {
  std::ifstream maps(fmt::format("/proc/{}/maps", pid));
  std::set<std::string> files;
  for (std::string line; std::getline(maps, line);) {
    const auto path = line.find(" /");
    if (path == std::string::npos) continue;
    const std::string_view full = std::string_view(line).substr(path + 1);
    files.emplace(full.substr(full.rfind('/') + 1));
  }
  return files;
}

// The first of `files` whose name starts with `prefix`, or "".
std::string first_named(const std::set<std::string>& files, std::string_view prefix) {
  for (const std::string& f : files) {
    if (f.starts_with(prefix)) return f;
  }
  return "";
}

std::string listed(const std::set<std::string>& files) {
  std::string out;
  for (const std::string& f : files) out += f + " ";
  return out;
}

class MappedLibrariesE2E : public ScribeE2E {};

TEST_F(MappedLibrariesE2E, ASqliteServerDoesNotMapLibpq) {
  const std::set<std::string> files = mapped_files(scribe_->pid());
  // What the server does map is seen: the list is not empty for want of reading it.
  ASSERT_NE(first_named(files, "libsqlite3.so"), "") << listed(files);
  EXPECT_EQ(first_named(files, "libpq.so"), "") << listed(files);
  // Nor the tree libpq and libcurl brought (libcurl is not linked at all): what took an idle
  // server's memory from 12.2 to 16.5 MiB.
  for (const char* tree : {"libcurl.so", "libldap", "libgssapi_krb5.so", "libgnutls.so"}) {
    EXPECT_EQ(first_named(files, tree), "") << tree << ": " << listed(files);
  }
}

TEST(MappedLibrariesPostgresE2E, APostgresServerMapsLibpq) {
  test::TestDatabase db(test::Backend::kPostgres);
  SCRIBE_REQUIRE_DATABASE(db);
  ScribeProcess server(SCRIBE_BINARY, {{"SCRIBE_DB", db.location()},
                                       {"SCRIBE_SLACK_SIGNING_SECRET", "mapped-libraries-secret"},
                                       {"SCRIBE_API_TOKEN", "mapped-libraries-token"},
                                       {"SCRIBE_LOG_LEVEL", "info"}});
  const std::set<std::string> files = mapped_files(server.pid());
  EXPECT_NE(first_named(files, "libpq.so.5"), "") << listed(files);
}

// The file the dynamic linker loads for libpq.so.5 (its cache's first entry), or "".
std::string libpq_file() {
  const CliResult cache = run_shell("/sbin/ldconfig -p");
  std::istringstream in(cache.out);
  for (std::string line; std::getline(in, line);) {
    const auto arrow = line.find(" => ");
    if (line.find("libpq.so.5 (") == std::string::npos || arrow == std::string::npos) continue;
    std::error_code ec;
    const auto file = std::filesystem::canonical(line.substr(arrow + 4), ec);
    return ec ? "" : file.string();
  }
  return "";
}

// `command` run where libpq cannot be loaded: /dev/null bound over its file, in a mount
// namespace of the command's own (nothing outside it sees the change).
CliResult without_libpq(const std::string& file, const std::string& command) {
  return run_shell(
      fmt::format("unshare -m sh -c 'mount --bind /dev/null {} && {}'", file, command));
}

class WithoutLibpqE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = libpq_file();
    ASSERT_NE(file_, "") << "libpq.so.5 is not in the dynamic linker's cache";
    const CliResult probe = without_libpq(file_, "true");
    if (probe.status != 0) {
      GTEST_SKIP() << "cannot hide libpq here (unshare -m and mount need CAP_SYS_ADMIN): "
                   << probe.out;
    }
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("scribe-nolibpq-{}-{}", getpid(), std::random_device{}());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // `scribe <args>` on database `db` without libpq; the settings a server needs included,
  // and a `timeout` so a server that starts after all fails the test instead of hanging it.
  CliResult scribe_without_libpq(const std::string& db, const std::string& args) {
    return without_libpq(
        file_, fmt::format("SCRIBE_DB={} SCRIBE_LISTEN=127.0.0.1:0 SCRIBE_LOG_LEVEL=warn "
                           "SCRIBE_SLACK_SIGNING_SECRET=s SCRIBE_API_TOKEN=t timeout 30 {} {}",
                           db, SCRIBE_BINARY, args));
  }

  std::string file_;
  std::filesystem::path dir_;
};

// Nothing listens there: the load fails before any connection is tried.
constexpr const char* kUnusedServer = "postgresql://scribe@127.0.0.1:1/scribe";

TEST_F(WithoutLibpqE2E, PostgresMigrateAndServeExitWithTheLoadersMessage) {
  for (const char* args : {"migrate --status", "migrate", "serve"}) {
    const CliResult r = scribe_without_libpq(kUnusedServer, args);
    EXPECT_NE(r.status, 0) << args << ": " << r.out;
    EXPECT_THAT(r.out, ::testing::HasSubstr("PostgreSQL support needs libpq (libpq.so.5): "))
        << args;
    // The dynamic linker's reason: the file it found is no library.
    EXPECT_THAT(r.out, ::testing::HasSubstr("file too short")) << args;
  }
}

TEST_F(WithoutLibpqE2E, SqliteNeedsNoLibpq) {
  const std::string db = (dir_ / "scribe.db").string();
  const CliResult migrated = scribe_without_libpq(db, "migrate");
  ASSERT_EQ(migrated.status, 0) << migrated.out;
  EXPECT_THAT(migrated.out, ::testing::HasSubstr("applied"));
  const CliResult status = scribe_without_libpq(db, "migrate --status");
  ASSERT_EQ(status.status, 0) << status.out;
  EXPECT_THAT(status.out, ::testing::HasSubstr("nothing pending"));
}

}  // namespace
}  // namespace scribe::testing
