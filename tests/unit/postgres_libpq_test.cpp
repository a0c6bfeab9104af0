// The PostgreSQL backend's libpq, loaded at run time (storage/postgres_libpq.h): a library
// that cannot be loaded, or one without libpq's functions, is a StoreError that says
// PostgreSQL needs libpq and why; the real one fills the whole table.
#include "storage/postgres_libpq.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/store.h"

namespace scribe::pg {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The message of the StoreError `load` throws, or "" when it throws none.
template <typename F>
std::string store_error_of(F load) {
  try {
    load();
  } catch (const StoreError& e) {
    return e.what();
  }
  return "";
}

TEST(PostgresLibpq, AMissingLibraryIsAStoreErrorNamingItAndWhy) {
  const char* file = "/nonexistent/scribe-test/libpq.so.5";
  const std::string message = store_error_of([&] { load_libpq(file); });
  EXPECT_THAT(message,
              StartsWith("PostgreSQL support needs libpq (/nonexistent/scribe-test/libpq.so.5): "));
  // The dynamic loader's own reason follows.
  EXPECT_THAT(message, HasSubstr("No such file or directory"));
}

TEST(PostgresLibpq, ALibraryWithoutLibpqsFunctionsIsAStoreErrorNamingTheFirstMissing) {
  // libc is there on every system and has none of libpq's functions.
  const std::string message = store_error_of([] { load_libpq("libc.so.6"); });
  EXPECT_THAT(message, StartsWith("PostgreSQL support needs libpq (libc.so.6): "));
  EXPECT_THAT(message, HasSubstr("undefined symbol: PQclear"));
}

TEST(PostgresLibpq, TheInstalledLibpqFillsEveryEntry) {
  const LibPq& table = libpq();
#define SCRIBE_EXPECT_RESOLVED(name) EXPECT_NE(table.name, nullptr) << #name;
  SCRIBE_LIBPQ_FUNCTIONS(SCRIBE_EXPECT_RESOLVED)
#undef SCRIBE_EXPECT_RESOLVED
  // Loaded once: every call gives the same table.
  EXPECT_EQ(&libpq(), &table);
  // And it is libpq: a connection to nowhere fails with libpq's own message.
  const char* keywords[] = {"host", "port", "connect_timeout", nullptr};
  const char* values[] = {"/nonexistent/scribe-test", "1", "1", nullptr};
  PGconn* conn = table.PQconnectdbParams(keywords, values, 0);
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(table.PQstatus(conn), CONNECTION_BAD);
  EXPECT_THAT(std::string(table.PQerrorMessage(conn)), HasSubstr("/nonexistent/scribe-test"));
  table.PQfinish(conn);
}

}  // namespace
}  // namespace scribe::pg
