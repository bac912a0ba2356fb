#include "storage/postgres_connection.hpp"

#include <endian.h>
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace coffer::database {

namespace {

// libpq messages span lines ("...failed: Connection refused\n\tIs the server running...").
std::string one_line(const char *text) {
  std::string line;
  bool space = false;
  for (const char *c = text; c != nullptr && *c != '\0'; ++c) {
    if (*c == '\n' || *c == '\t' || *c == '\r' || *c == ' ') {
      space = true;
      continue;
    }
    if (space && !line.empty()) line.push_back(' ');
    space = false;
    line.push_back(*c);
  }
  return line;
}

bool contains(const std::string &text, const char *part) {
  return text.find(part) != std::string::npos;
}

PgFailure connect_failure(const std::string &location, pg_conn *connection) {
  std::string message = one_line(PQerrorMessage(connection));
  PgFailure::Kind kind = PgFailure::Kind::connection;
  if (contains(message, "authentication failed") || contains(message, "pg_hba.conf") ||
      contains(message, "no password supplied"))
    kind = PgFailure::Kind::denied;
  else if (contains(message, "certificate") || contains(message, "does not match host name") ||
           contains(message, "does not exist") || contains(message, "invalid sslmode"))
    kind = PgFailure::Kind::permanent;
  return PgFailure(kind, {}, location + ": cannot connect to PostgreSQL: " + message);
}

void discard_notice(void *, const char *) {}

}  // namespace

PgParams &PgParams::add(int64_t value) {
  auto number = std::make_unique<std::array<char, 8>>();
  uint64_t big = htobe64(static_cast<uint64_t>(value));
  std::memcpy(number->data(), &big, 8);
  values_.push_back(number->data());
  lengths_.push_back(8);
  formats_.push_back(1);
  numbers_.push_back(std::move(number));
  return *this;
}

PgParams &PgParams::add(bool value) {
  auto number = std::make_unique<std::array<char, 8>>();
  (*number)[0] = value ? 1 : 0;
  values_.push_back(number->data());
  lengths_.push_back(1);
  formats_.push_back(1);
  numbers_.push_back(std::move(number));
  return *this;
}

PgParams &PgParams::add(std::string_view text) {
  values_.push_back(text.empty() ? "" : text.data());
  lengths_.push_back(static_cast<int>(text.size()));
  formats_.push_back(1);
  return *this;
}

PgParams &PgParams::add(ByteView bytes) {
  values_.push_back(bytes.empty() ? "" : reinterpret_cast<const char *>(bytes.data()));
  lengths_.push_back(static_cast<int>(bytes.size()));
  formats_.push_back(1);
  return *this;
}

PgParams &PgParams::add_null() {
  values_.push_back(nullptr);
  lengths_.push_back(0);
  formats_.push_back(1);
  return *this;
}

PgResult::~PgResult() {
  if (result_ != nullptr) PQclear(result_);
}

int PgResult::rows() const {
  return PQntuples(result_);
}

bool PgResult::is_null(int row, int column) const {
  return PQgetisnull(result_, row, column) != 0;
}

int64_t PgResult::integer(int row, int column) const {
  const char *value = PQgetvalue(result_, row, column);
  switch (PQgetlength(result_, row, column)) {
    case 8: {
      uint64_t big = 0;
      std::memcpy(&big, value, 8);
      return static_cast<int64_t>(be64toh(big));
    }
    case 4: {
      uint32_t big = 0;
      std::memcpy(&big, value, 4);
      return static_cast<int32_t>(be32toh(big));
    }
    case 2: {
      uint16_t big = 0;
      std::memcpy(&big, value, 2);
      return static_cast<int16_t>(be16toh(big));
    }
    default:
      throw PgFailure(PgFailure::Kind::permanent, {}, "unexpected integer width from PostgreSQL");
  }
}

bool PgResult::boolean(int row, int column) const {
  if (PQgetlength(result_, row, column) != 1)
    throw PgFailure(PgFailure::Kind::permanent, {}, "unexpected boolean from PostgreSQL");
  return PQgetvalue(result_, row, column)[0] != 0;
}

std::string PgResult::text(int row, int column) const {
  return {PQgetvalue(result_, row, column),
          static_cast<std::size_t>(PQgetlength(result_, row, column))};
}

Bytes PgResult::bytes(int row, int column) const {
  const ByteView value = bytes_view(row, column);
  return Bytes(value.begin(), value.end());
}

ByteView PgResult::bytes_view(int row, int column) const {
  const auto *value = reinterpret_cast<const unsigned char *>(PQgetvalue(result_, row, column));
  return ByteView(value, static_cast<std::size_t>(PQgetlength(result_, row, column)));
}

uint64_t PgResult::affected() const {
  const char *count = PQcmdTuples(result_);
  return count == nullptr || *count == '\0' ? 0 : std::strtoull(count, nullptr, 10);
}

PgConnection::PgConnection(const PostgresSettings &settings, std::string location)
    : location_(std::move(location)) {
  std::vector<const char *> keywords, values;
  for (std::size_t i = 0; i < settings.keywords.size(); ++i) {
    keywords.push_back(settings.keywords[i].c_str());
    values.push_back(settings.values[i].c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  connection_ = PQconnectdbParams(keywords.data(), values.data(), 0);
  if (connection_ == nullptr)
    throw PgFailure(PgFailure::Kind::connection, {}, location_ + ": libpq is out of memory");
  if (PQstatus(connection_) != CONNECTION_OK) {
    PgFailure failure = connect_failure(location_, connection_);
    PQfinish(connection_);
    connection_ = nullptr;
    throw failure;
  }
  // Notices ("relation already exists, skipping") would go to stderr.
  PQsetNoticeProcessor(connection_, &discard_notice, nullptr);
  // A statement abandoned at its deadline leaves with its connection; from
  // PostgreSQL 14 the server then checks every second whether its client is
  // still there, and ends the statement instead of running it (or waiting on
  // a lock) to the end. A value set by the role or the URL is kept.
  if (PQserverVersion(connection_) >= 140000) {
    try {
      execute(
          "SELECT set_config('client_connection_check_interval', '1s', false) "
          "WHERE current_setting('client_connection_check_interval') = '0'");
    } catch (...) {
      PQfinish(connection_);
      connection_ = nullptr;
      throw;
    }
  }
}

PgConnection::~PgConnection() {
  if (connection_ != nullptr) PQfinish(connection_);
}

bool PgConnection::broken() const {
  return abandoned_ || PQstatus(connection_) != CONNECTION_OK;
}

PgResult PgConnection::check(pg_result *raw, std::string_view what) {
  PgResult result(raw);
  ExecStatusType status = raw == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;

  const char *state = raw != nullptr ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  const char *primary = raw != nullptr ? PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string sqlstate = state != nullptr ? state : "";
  std::string message = location_ + ": " + std::string(what) + ": ";
  if (primary != nullptr) {
    message += primary;
    if (!sqlstate.empty()) message += " (SQLSTATE " + sqlstate + ")";
  } else {
    message += one_line(PQerrorMessage(connection_));
  }

  PgFailure::Kind kind = PgFailure::Kind::permanent;
  if (raw == nullptr || broken() || sqlstate.empty() || sqlstate.starts_with("08") ||
      sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" || sqlstate == "25006")
    kind = PgFailure::Kind::connection;
  else if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "53300")
    kind = PgFailure::Kind::transient;
  else if (sqlstate == "42501" || sqlstate.starts_with("28"))
    kind = PgFailure::Kind::denied;
  throw PgFailure(kind, sqlstate, message);
}

PgResult PgConnection::run(const PgStatement &statement, const PgParams &params) {
  if (!prepared_.contains(statement.name)) {
    std::vector<unsigned> types = statement.parameter_types;
    const int count = static_cast<int>(types.size());
    const unsigned *oids = types.empty() ? nullptr : types.data();
    check(PQsendPrepare(connection_, statement.name, statement.sql, count, oids) == 1
              ? answer("cannot prepare a statement")
              : nullptr,
          "cannot prepare a statement");
    prepared_.insert(statement.name);
  }
  return check(PQsendQueryPrepared(connection_, statement.name, params.count(), params.values(),
                                   params.lengths(), params.formats(), 1) == 1
                   ? answer("query failed")
                   : nullptr,
               "query failed");
}

void PgConnection::execute(const char *sql) {
  check(PQsendQuery(connection_, sql) == 1 ? answer(sql) : nullptr, sql);
}

pg_result *PgConnection::answer(std::string_view what) {
  // libpq sent the statement (a blocking connection flushes it); read until
  // the answer is complete, waiting for the socket no longer than the
  // deadline allows. The last result counts, as with PQexec: the server
  // stops a list of statements at its first error.
  pg_result *last = nullptr;
  while (true) {
    while (PQisBusy(connection_) == 1) {
      int wait_ms = -1;  // no deadline: as long as the server takes
      if (deadline_) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
            *deadline_ - std::chrono::steady_clock::now());
        wait_ms = static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
      }
      pollfd socket{PQsocket(connection_), POLLIN, 0};
      int ready = wait_ms != 0 ? ::poll(&socket, 1, wait_ms) : 0;
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        if (last != nullptr) PQclear(last);
        abandoned_ = true;
        throw PgFailure(PgFailure::Kind::timeout, {},
                        location_ + ": " + std::string(what) +
                            ": no answer from PostgreSQL before the deadline");
      }
      if (PQconsumeInput(connection_) == 0) break;  // lost: PQgetResult says so
    }
    pg_result *next = PQgetResult(connection_);
    if (next == nullptr) break;
    if (last != nullptr) PQclear(last);
    last = next;
  }
  return last;
}

}  // namespace coffer::database
