#include "storage/postgres_connection.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace scribe::pg {

std::string redact_url(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto at = url.find('@', scheme + 3);
  const auto slash = url.find('/', scheme + 3);
  if (at == std::string_view::npos || (slash != std::string_view::npos && at > slash)) {
    return std::string(url.substr(0, url.find('?')));
  }
  const std::string_view userinfo = url.substr(scheme + 3, at - scheme - 3);
  const std::string_view user = userinfo.substr(0, userinfo.find(':'));
  // The query string may hold a password too (?password=…): it is left off.
  const std::string_view rest = url.substr(at);
  return fmt::format("{}{}{}", url.substr(0, scheme + 3), user, rest.substr(0, rest.find('?')));
}

std::string numbered_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char ch = sql[i];
    if (ch == '\'') quoted = !quoted;
    if (ch != '?' || quoted) {
      out += ch;
      continue;
    }
    out += '$';
    if (i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      continue;  // ?N: the digits follow as they are
    }
    out += std::to_string(++next);
  }
  return out;
}

std::int64_t Result::affected() const {
  if (!r_) return 0;
  const char* n = libpq().PQcmdTuples(r_.get());
  std::int64_t v = 0;
  std::from_chars(n, n + std::char_traits<char>::length(n), v);
  return v;
}

bool Stmt::step() {
  if (!executed_) execute();
  ++row_;
  return row_ < result_.rows();
}

void Stmt::execute() {
  if (executed_) return;
  executed_ = true;
  std::vector<const char*> values;
  values.reserve(params_.size());
  for (const auto& p : params_) values.push_back(p ? p->c_str() : nullptr);
  result_ =
      c_.check(libpq().PQexecPrepared(c_.conn_, name_.c_str(), static_cast<int>(values.size()),
                                      values.data(), nullptr, nullptr, 0),
               name_);
}

std::int64_t Stmt::i64(int col) const {
  const std::string_view v = result_.value(row_, col);
  std::int64_t out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size()) {
    throw StoreError(fmt::format("postgresql: '{}' is not a whole number", v));
  }
  return out;
}

Connection::Connection(std::string url) : url_(std::move(url)) { connect(); }

Connection::~Connection() {
  if (conn_ != nullptr) libpq().PQfinish(conn_);
}

void Connection::connect() {
  // The URL is libpq's own (sslmode, sslrootcert, … pass through). A connect timeout
  // unless the URL sets one: an unreachable server must become an error, not a hang.
  // Later keywords override earlier ones, so the URL (expanded from dbname) wins.
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"5", "scribe", url_.c_str(), nullptr};
  conn_ = libpq().PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn_ == nullptr) {
    throw PgError("cannot connect to PostgreSQL: out of memory", "", true);
  }
  if (libpq().PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = libpq().PQerrorMessage(conn_);
    while (!msg.empty() && std::isspace(static_cast<unsigned char>(msg.back()))) msg.pop_back();
    libpq().PQfinish(conn_);
    conn_ = nullptr;
    throw PgError(fmt::format("cannot connect to PostgreSQL at {}: {}", redact_url(url_), msg), "",
                  true);
  }
  // Notices (e.g. "relation already exists, skipping") are not errors; keep them off stderr.
  libpq().PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
}

void Connection::reset() {
  statements_.clear();
  if (conn_ != nullptr) {
    libpq().PQfinish(conn_);
    conn_ = nullptr;
  }
  connect();
}

bool Connection::in_transaction() const {
  return conn_ != nullptr && libpq().PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

Result Connection::check(PGresult* r, std::string_view what) {
  Result result(r);
  const ExecStatusType status = r ? libpq().PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  const char* state = r ? libpq().PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = r ? libpq().PQresultErrorMessage(r) : "";
  if (msg.empty() && conn_ != nullptr) msg = libpq().PQerrorMessage(conn_);
  while (!msg.empty() && std::isspace(static_cast<unsigned char>(msg.back()))) msg.pop_back();
  const bool lost = broken();
  throw PgError(fmt::format("postgresql: {} ({})", msg, what), state ? state : "", lost);
}

Stmt Connection::prepare(std::string_view sql) {
  if (broken()) throw PgError("postgresql: the connection to the server was lost", "", true);
  auto it = statements_.find(std::string(sql));
  if (it == statements_.end()) {
    std::string name = fmt::format("s{}", statements_.size() + 1);
    const std::string text = numbered_placeholders(sql);
    check(libpq().PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr),
          fmt::format("prepare: {}", sql.substr(0, 120)));
    it = statements_.emplace(std::string(sql), std::move(name)).first;
  }
  return Stmt(*this, it->second);
}

void Connection::exec(std::string_view sql) {
  if (broken()) throw PgError("postgresql: the connection to the server was lost", "", true);
  check(libpq().PQexec(conn_, std::string(sql).c_str()), sql.substr(0, 80));
}

void Connection::exec_quietly(const char* sql) {
  if (broken()) return;
  libpq().PQclear(libpq().PQexec(conn_, sql));
}

}  // namespace scribe::pg
