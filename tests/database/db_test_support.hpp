// Support for the database provider's tests: a fresh store per test (a
// temporary directory, and for PostgreSQL a fresh schema in the server the
// test fixture started), raw access to the store's tables for tampering, and
// small utilities. The backend comes from COFFER_DB_BACKEND (sqlite|postgres);
// the PostgreSQL fixture's state directory from COFFER_DB_PG_STATE.
#ifndef COFFER_TESTS_DATABASE_DB_TEST_SUPPORT_HPP
#define COFFER_TESTS_DATABASE_DB_TEST_SUPPORT_HPP

#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "crypto/bytes.hpp"
#include "temp_directory.hpp"

namespace coffer::database::test {

namespace fs = std::filesystem;

enum class Backend { sqlite, postgres };

inline Backend backend() {
  const char *name = std::getenv("COFFER_DB_BACKEND");
  return name != nullptr && std::string(name) == "postgres" ? Backend::postgres : Backend::sqlite;
}

inline const char *backend_name() {
  return backend() == Backend::postgres ? "postgres" : "sqlite";
}

inline std::string read_file(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The fixture server's state directory.
inline fs::path postgres_state() {
  const char *dir = std::getenv("COFFER_DB_PG_STATE");
  if (dir == nullptr) throw std::runtime_error("COFFER_DB_PG_STATE is not set (run through ctest)");
  return dir;
}

inline std::string postgres_conninfo(const fs::path &state = postgres_state()) {
  return trim(read_file(state / "conninfo"));
}

// The script that starts and stops throwaway servers.
inline fs::path postgres_script() {
  const char *source = std::getenv("COFFER_SOURCE_DIR");
  return fs::path(source != nullptr ? source : ".") / "scripts/postgres-fixture";
}

// Runs one SQL statement with libpq; returns the first column of each row
// (text format). Throws on failure.
inline std::vector<std::string> pg_query(const std::string &conninfo, const std::string &sql) {
  PGconn *connection = PQconnectdb(conninfo.c_str());
  if (PQstatus(connection) != CONNECTION_OK) {
    std::string message = PQerrorMessage(connection);
    PQfinish(connection);
    throw std::runtime_error("cannot connect: " + message);
  }
  PQsetNoticeProcessor(
      connection, [](void *, const char *) {}, nullptr);
  PGresult *result = PQexec(connection, sql.c_str());
  auto status = PQresultStatus(result);
  std::vector<std::string> rows;
  if (status == PGRES_TUPLES_OK) {
    for (int row = 0; row < PQntuples(result); ++row)
      rows.emplace_back(PQgetisnull(result, row, 0) ? "" : PQgetvalue(result, row, 0));
  }
  std::string message = PQresultErrorMessage(result);
  PQclear(result);
  PQfinish(connection);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
    throw std::runtime_error("query failed: " + sql + ": " + message);
  return rows;
}

inline std::string unique_name(const std::string &prefix) {
  static std::atomic<int> counter{0};
  return prefix + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

// JSON string literal for a path or text without quotes or backslashes.
inline std::string quote(const std::string &text) {
  return "\"" + text + "\"";
}

// A fresh store for one test: its directory (master key files, SQLite file)
// and, for PostgreSQL, a schema of its own (the connection's search_path).
class TestStore {
 public:
  explicit TestStore(Backend which = backend(), fs::path pg_state = {}) : backend_(which) {
    if (backend_ == Backend::postgres) {
      pg_state_ = pg_state.empty() ? postgres_state() : pg_state;
      base_conninfo_ = postgres_conninfo(pg_state_);
      schema_ = unique_name("t");
      pg_query(base_conninfo_, "CREATE SCHEMA " + schema_);
    }
  }
  TestStore(const TestStore &) = delete;
  TestStore &operator=(const TestStore &) = delete;
  ~TestStore() {
    close_raw();
    if (backend_ == Backend::postgres) {
      try {
        pg_query(base_conninfo_, "DROP SCHEMA " + schema_ + " CASCADE");
      } catch (...) {  // the server may be down in a restart test; it is thrown away anyway
      }
    }
  }

  [[nodiscard]] Backend which() const { return backend_; }
  [[nodiscard]] const fs::path &dir() const { return dir_.path(); }
  [[nodiscard]] const fs::path &pg_state() const { return pg_state_; }
  [[nodiscard]] fs::path sqlite_file() const { return dir_ / "store" / "credentials.db"; }
  [[nodiscard]] fs::path key_file(const std::string &name = "master.key") const {
    return dir_ / "keys" / name;
  }
  // The libpq conninfo of this store's schema (PostgreSQL).
  [[nodiscard]] std::string conninfo(const std::string &extra = {}) const {
    return base_conninfo_ + " options=-csearch_path=" + schema_ +
           (extra.empty() ? "" : " " + extra);
  }
  [[nodiscard]] std::string url() const {
    return backend_ == Backend::sqlite ? "sqlite://" + sqlite_file().string() : conninfo();
  }
  // A provider config; `master_key` is a JSON object, `extra` more fields
  // (",\"history\": 3").
  [[nodiscard]] std::string config(const std::string &master_key, const std::string &extra = {},
                                   const std::string &url_override = {}) const {
    return "{\"url\": " + quote(url_override.empty() ? url() : url_override) +
           ", \"master_key\": " + master_key + extra + "}";
  }
  [[nodiscard]] std::string file_key(const std::string &name = "master.key") const {
    return "{\"file\": " + quote(key_file(name).string()) + "}";
  }
  [[nodiscard]] std::string file_config(const std::string &extra = {},
                                        const std::string &name = "master.key") const {
    return config(file_key(name), extra);
  }

  // Raw SQL on the store, bypassing coffer (and foreign keys), for tampering.
  // One connection for the test's life, without durability (tests only).
  void exec(const std::string &sql) const {
    if (backend_ == Backend::postgres) {
      run_pg(sql);
      return;
    }
    char *error = nullptr;
    int rc = sqlite3_exec(raw_sqlite(), sql.c_str(), nullptr, nullptr, &error);
    std::string message = error != nullptr ? error : "";
    sqlite3_free(error);
    if (rc != SQLITE_OK) throw std::runtime_error("sqlite: " + sql + ": " + message);
  }
  // The first column of each row, as text.
  [[nodiscard]] std::vector<std::string> query(const std::string &sql) const {
    if (backend_ == Backend::postgres) return run_pg(sql);
    sqlite3_stmt *statement = nullptr;
    std::vector<std::string> rows;
    if (sqlite3_prepare_v2(raw_sqlite(), sql.c_str(), -1, &statement, nullptr) != SQLITE_OK)
      throw std::runtime_error("sqlite: " + sql + ": " + sqlite3_errmsg(raw_sqlite()));
    while (sqlite3_step(statement) == SQLITE_ROW) {
      const auto *text = sqlite3_column_text(statement, 0);
      rows.emplace_back(text != nullptr ? reinterpret_cast<const char *>(text) : "");
    }
    sqlite3_finalize(statement);
    return rows;
  }
  // Closes the raw connections (e.g. before the server restarts).
  void close_raw() const {
    if (raw_sqlite_ != nullptr) sqlite3_close(raw_sqlite_);
    raw_sqlite_ = nullptr;
    if (raw_pg_ != nullptr) PQfinish(raw_pg_);
    raw_pg_ = nullptr;
  }
  // SQL for a blob literal and for reading a blob column as hex, per dialect.
  [[nodiscard]] std::string blob_literal(const Bytes &bytes) const {
    return backend_ == Backend::sqlite ? "x'" + to_hex(bytes) + "'"
                                       : "'\\x" + to_hex(bytes) + "'::bytea";
  }
  [[nodiscard]] std::string hex_of(const std::string &column) const {
    return backend_ == Backend::sqlite ? "lower(hex(" + column + "))"
                                       : "encode(" + column + ", 'hex')";
  }

  struct Record {
    int64_t data_key_id = 0;
    Bytes nonce;
    Bytes ciphertext;
  };
  [[nodiscard]] Record record(const std::string &key, uint64_t version) const {
    std::string where =
        " FROM coffer_records WHERE key = '" + key + "' AND version = " + std::to_string(version);
    auto ids = query("SELECT data_key_id" + where);
    if (ids.empty()) throw std::runtime_error("no record " + key + " v" + std::to_string(version));
    Record r;
    r.data_key_id = std::stoll(ids[0]);
    r.nonce = *from_hex(query("SELECT " + hex_of("nonce") + where)[0]);
    r.ciphertext = *from_hex(query("SELECT " + hex_of("ciphertext") + where)[0]);
    return r;
  }
  // Overwrites a record's columns (and moves it to `new_version`).
  void write_record(const std::string &key, uint64_t version, const Record &r,
                    uint64_t new_version) const {
    exec("UPDATE coffer_records SET data_key_id = " + std::to_string(r.data_key_id) +
         ", nonce = " + blob_literal(r.nonce) + ", ciphertext = " + blob_literal(r.ciphertext) +
         ", version = " + std::to_string(static_cast<int64_t>(new_version)) + " WHERE key = '" +
         key + "' AND version = " + std::to_string(static_cast<int64_t>(version)));
  }

  // Every file holding the store's bytes: the SQLite file and its -wal/-shm,
  // or the PostgreSQL server's data directory (after a checkpoint).
  [[nodiscard]] std::vector<fs::path> files() const {
    std::vector<fs::path> found;
    if (backend_ == Backend::sqlite) {
      for (const char *suffix : {"", "-wal", "-shm"}) {
        fs::path file = sqlite_file().string() + suffix;
        if (fs::exists(file)) found.push_back(file);
      }
      return found;
    }
    pg_query(base_conninfo_, "CHECKPOINT");
    fs::path data = trim(read_file(pg_state_ / "pgdata"));
    for (const auto &entry : fs::recursive_directory_iterator(data))
      if (entry.is_regular_file()) found.push_back(entry.path());
    return found;
  }

 private:
  sqlite3 *raw_sqlite() const {
    if (raw_sqlite_ == nullptr) {
      if (sqlite3_open_v2(sqlite_file().c_str(), &raw_sqlite_, SQLITE_OPEN_READWRITE, nullptr) !=
          SQLITE_OK)
        throw std::runtime_error("cannot open the SQLite file");
      sqlite3_busy_timeout(raw_sqlite_, 5000);
      sqlite3_exec(raw_sqlite_, "PRAGMA synchronous = OFF", nullptr, nullptr, nullptr);
    }
    return raw_sqlite_;
  }
  std::vector<std::string> run_pg(const std::string &sql) const {
    if (raw_pg_ != nullptr && PQstatus(raw_pg_) != CONNECTION_OK) close_raw();
    if (raw_pg_ == nullptr) {
      raw_pg_ = PQconnectdb(conninfo().c_str());
      if (PQstatus(raw_pg_) != CONNECTION_OK) {
        std::string message = PQerrorMessage(raw_pg_);
        close_raw();
        throw std::runtime_error("cannot connect: " + message);
      }
      PQsetNoticeProcessor(
          raw_pg_, [](void *, const char *) {}, nullptr);
      PQclear(PQexec(raw_pg_, "SET session_replication_role = replica"));
    }
    PGresult *result = PQexec(raw_pg_, sql.c_str());
    auto status = PQresultStatus(result);
    std::vector<std::string> rows;
    if (status == PGRES_TUPLES_OK)
      for (int row = 0; row < PQntuples(result); ++row)
        rows.emplace_back(PQgetisnull(result, row, 0) ? "" : PQgetvalue(result, row, 0));
    std::string message = PQresultErrorMessage(result);
    PQclear(result);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
      throw std::runtime_error("query failed: " + sql + ": " + message);
    return rows;
  }

  mutable sqlite3 *raw_sqlite_ = nullptr;
  mutable PGconn *raw_pg_ = nullptr;
  Backend backend_;
  coffer::test::TempDirectory dir_{"coffer-db-test"};
  fs::path pg_state_;
  std::string base_conninfo_;
  std::string schema_;
};

inline unsigned file_mode(const fs::path &path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 07777;
}

inline bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

// The seed for randomised tests: COFFER_TEST_SEED, or a fixed default.
inline uint64_t test_seed(uint64_t fallback) {
  const char *seed = std::getenv("COFFER_TEST_SEED");
  return seed != nullptr ? std::stoull(seed) : fallback;
}

}  // namespace coffer::database::test

#endif  // COFFER_TESTS_DATABASE_DB_TEST_SUPPORT_HPP
