// Private to the PostgreSQL backend (storage/postgres_*.cpp): libpq, loaded at run time.
// The `scribe` binary does not link libpq, so a SQLite deployment never maps it, nor the
// libraries it brings (LDAP, Kerberos, SASL, GnuTLS, …). The first PostgreSQL connection
// loads libpq.so.5 and resolves every function the backend calls into one table, once;
// the call sites read as libpq's own, through that table: `libpq().PQexec(conn, sql)`.
// libpq-fe.h still gives the types and constants, so the table's signatures are libpq's.
#pragma once

#include <libpq-fe.h>

namespace scribe::pg {

// Every libpq function the backend calls. A function used without being listed here is an
// undefined reference when `scribe` links (the binary does not link libpq).
#define SCRIBE_LIBPQ_FUNCTIONS(X) \
  X(PQclear)                      \
  X(PQcmdTuples)                  \
  X(PQconnectdbParams)            \
  X(PQconsumeInput)               \
  X(PQerrorMessage)               \
  X(PQexec)                       \
  X(PQexecPrepared)               \
  X(PQfinish)                     \
  X(PQfreemem)                    \
  X(PQgetResult)                  \
  X(PQgetisnull)                  \
  X(PQgetlength)                  \
  X(PQgetvalue)                   \
  X(PQisBusy)                     \
  X(PQnotifies)                   \
  X(PQntuples)                    \
  X(PQprepare)                    \
  X(PQresultErrorField)           \
  X(PQresultErrorMessage)         \
  X(PQresultStatus)               \
  X(PQsendQuery)                  \
  X(PQsetNoticeProcessor)         \
  X(PQsocket)                     \
  X(PQstatus)                     \
  X(PQtransactionStatus)

// libpq's functions, by their own names; all set once the table is loaded.
struct LibPq {
#define SCRIBE_LIBPQ_MEMBER(name) decltype(&::name) name = nullptr;
  SCRIBE_LIBPQ_FUNCTIONS(SCRIBE_LIBPQ_MEMBER)
#undef SCRIBE_LIBPQ_MEMBER
};

// The file loaded: libpq's soname, found as the dynamic linker finds any library.
inline constexpr const char* kLibPqFile = "libpq.so.5";

// Loads `file` and resolves the whole table from it. Throws StoreError "PostgreSQL support
// needs libpq (<file>): <why>" when the file cannot be loaded or lacks a function (then
// nothing stays loaded). libpq() is this with kLibPqFile; tests name other files.
LibPq load_libpq(const char* file);

// The process's libpq, loaded by the first call (thread-safe: one load, whichever thread
// comes first) and kept for the life of the process. A failed load throws load_libpq's
// StoreError and the next call tries again.
inline const LibPq& libpq() {
  static const LibPq table = load_libpq(kLibPqFile);
  return table;
}

}  // namespace scribe::pg
