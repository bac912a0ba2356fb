// One libpq connection with lazily prepared statements, binary parameters and
// results, and failures classified for retrying.
//
// Used by one thread at a time (the pool hands it out). Failures throw
// PgFailure, which PostgresStorage turns into coffer::provider::Error after
// deciding whether to retry; its message comes from libpq and the server
// (SQLSTATE and primary message only: details, which may quote row values,
// are dropped).
#ifndef COFFER_DATABASE_STORAGE_POSTGRES_CONNECTION_HPP
#define COFFER_DATABASE_STORAGE_POSTGRES_CONNECTION_HPP

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "crypto/bytes.hpp"
#include "storage/postgres_settings.hpp"

struct pg_conn;
struct pg_result;

namespace coffer::database {

class PgFailure : public std::exception {
 public:
  enum class Kind {
    connection,  // could not connect, or the connection broke: outcome of a write unknown
    transient,   // the server refused for now (shutdown, failover, serialization): retry
    denied,      // authentication or permission
    permanent,   // anything else (constraint, syntax, TLS verification, ...)
    timeout      // no answer by the deadline; the connection is given up
  };
  PgFailure(Kind kind, std::string sqlstate, std::string message)
      : kind_(kind), sqlstate_(std::move(sqlstate)), message_(std::move(message)) {}
  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  [[nodiscard]] const std::string &sqlstate() const noexcept { return sqlstate_; }
  [[nodiscard]] const char *what() const noexcept override { return message_.c_str(); }
  [[nodiscard]] bool retryable() const noexcept {
    return kind_ == Kind::connection || kind_ == Kind::transient;
  }

 private:
  Kind kind_;
  std::string sqlstate_;
  std::string message_;
};

// A statement with a fixed name, text and parameter types (PostgreSQL OIDs).
struct PgStatement {
  const char *name;
  const char *sql;
  std::vector<unsigned> parameter_types;
};

namespace pg_type {
inline constexpr unsigned boolean = 16;
inline constexpr unsigned bytea = 17;
inline constexpr unsigned int8 = 20;
inline constexpr unsigned text = 25;
}  // namespace pg_type

// Parameters in binary form. Pointers to text and bytes are kept, not
// copied: the arguments must outlive the call.
class PgParams {
 public:
  PgParams &add(int64_t value);
  PgParams &add(bool value);
  PgParams &add(std::string_view text);
  PgParams &add(ByteView bytes);
  PgParams &add_null();
  [[nodiscard]] int count() const { return static_cast<int>(values_.size()); }
  [[nodiscard]] const char *const *values() const { return values_.data(); }
  [[nodiscard]] const int *lengths() const { return lengths_.data(); }
  [[nodiscard]] const int *formats() const { return formats_.data(); }

 private:
  std::vector<const char *> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<std::unique_ptr<std::array<char, 8>>> numbers_;
};

// A result in binary format. Column readers check the value's size.
class PgResult {
 public:
  explicit PgResult(pg_result *result) : result_(result) {}
  PgResult(PgResult &&other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
  PgResult &operator=(PgResult &&) = delete;
  PgResult(const PgResult &) = delete;
  PgResult &operator=(const PgResult &) = delete;
  ~PgResult();

  [[nodiscard]] int rows() const;
  [[nodiscard]] bool is_null(int row, int column) const;
  [[nodiscard]] int64_t integer(int row, int column) const;  // int2, int4, int8
  [[nodiscard]] bool boolean(int row, int column) const;
  [[nodiscard]] std::string text(int row, int column) const;
  [[nodiscard]] Bytes bytes(int row, int column) const;
  // Valid while the result lives.
  [[nodiscard]] ByteView bytes_view(int row, int column) const;
  // The number of rows an INSERT/UPDATE/DELETE changed.
  [[nodiscard]] uint64_t affected() const;

 private:
  pg_result *result_;
};

class PgConnection {
 public:
  // Connects; throws PgFailure (Kind::connection, ::denied or ::permanent).
  PgConnection(const PostgresSettings &settings, std::string location);
  PgConnection(const PgConnection &) = delete;
  PgConnection &operator=(const PgConnection &) = delete;
  ~PgConnection();

  // Runs a prepared statement (prepared on this connection at first use).
  PgResult run(const PgStatement &statement, const PgParams &params);
  // Runs a statement without parameters (BEGIN, COMMIT, DDL).
  void execute(const char *sql);
  // Whether the connection is unusable: lost, or given up at a deadline.
  [[nodiscard]] bool broken() const;

  // Bounds the wait for each later statement's answer (a get's deadline, for
  // a caller that may be waiting on this very thread); nothing: as long as
  // the server takes. Past it the statement throws PgFailure(Kind::timeout)
  // and the connection counts as broken (the pool drops it: the server
  // still owes the answer).
  void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) noexcept {
    deadline_ = deadline;
  }

 private:
  PgResult check(pg_result *result, std::string_view what);
  // The answer to the statement just sent, read without waiting past the
  // deadline (if any).
  pg_result *answer(std::string_view what);
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  bool abandoned_ = false;
  pg_conn *connection_ = nullptr;
  std::string location_;
  std::unordered_set<std::string> prepared_;
};

}  // namespace coffer::database

#endif  // COFFER_DATABASE_STORAGE_POSTGRES_CONNECTION_HPP
