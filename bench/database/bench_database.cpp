// Database provider benchmarks, each printed beside its floor with the ratio:
//  1. uncached get (read and decrypt) through the plugin's C ABI against a raw
//     prepared SELECT of the same row (SQLite: sqlite3_step; PostgreSQL:
//     PQexecPrepared) - target at most 1.5x (SQLite) and 1.3x (PostgreSQL);
//     the get says its caller waits (COFFER_GET_CALLER_WAITS), as the core's
//     Store::get does;
//  2. put (a new encrypted version) through the plugin against a raw INSERT of
//     a row of the same shape in its own transaction - target at most 1.3x.
// Both sides use the same database file or server, the same durability
// settings (SQLite: WAL, synchronous=FULL) and the same row sizes.
//
//   coffer-bench-database [sqlite] [--json]              a temporary SQLite file
//   coffer-bench-database postgres [CONNINFO] [--json]   a server (default: a throwaway
//                                                  one with PostgreSQL's durable defaults;
//                                                  COFFER_PG_DURABLE=0 for fsync=off)
// --json prints one JSON object a line per operation instead of the table:
//   {"backend": "sqlite", "operation": "get" | "put", "clock": "wall",
//    "coffer_us": ..., "floor_us": ..., "ratio": ..., "target": ...}
// and, for SQLite gets, "thread_cpu": {"coffer_us", "floor_us", "ratio"} as well.
// COFFER_BENCH_SCALE=N divides the iteration counts.
#include <coffer/provider.h>
#include <dlfcn.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/secure_memory.hpp"
#include "crypto/aead.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

long iterations(long n) {
  const char *scale = std::getenv("COFFER_BENCH_SCALE");
  return scale != nullptr ? std::max(1L, n / std::atol(scale)) : n;
}

double thread_cpu_ns() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
}

double wall_ns() {
  return std::chrono::duration<double, std::nano>(Clock::now().time_since_epoch()).count();
}

struct Comparison {
  double coffer_ns = 0;  // median ns per call
  double floor_ns = 0;
};

// Runs `coffer` and `floor` in alternating rounds of `n / rounds` calls, so
// that both see the same machine (a loaded machine changes speed over time),
// and returns the median per-call time of each. `clock` is wall or thread CPU
// time.
Comparison compare(long n, int rounds, const std::function<void()> &coffer,
                   const std::function<void()> &floor, double (*clock)()) {
  const long chunk = std::max(1L, n / rounds);
  for (long i = 0; i < std::min(chunk, 200L); ++i) {
    coffer();
    floor();
  }
  std::vector<double> a, b;
  for (int round = 0; round < rounds; ++round) {
    double start = clock();
    for (long i = 0; i < chunk; ++i) coffer();
    double middle = clock();
    for (long i = 0; i < chunk; ++i) floor();
    double end = clock();
    a.push_back((middle - start) / static_cast<double>(chunk));
    b.push_back((end - middle) / static_cast<double>(chunk));
  }
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return {a[a.size() / 2], b[b.size() / 2]};
}

bool json_output = false;  // --json: JSON lines instead of the table

void report(const char *what, Comparison result, double target) {
  if (json_output) return;
  double ratio = result.coffer_ns / result.floor_ns;
  if (target > 0)
    std::printf("%-52s %10.0f ns/op %10.0f ns/op %6.2fx  (target <= %.1fx: %s)\n", what,
                result.coffer_ns, result.floor_ns, ratio, target,
                ratio <= target ? "met" : "MISSED");
  else
    std::printf("%-52s %10.0f ns/op %10.0f ns/op %6.2fx\n", what, result.coffer_ns, result.floor_ns,
                ratio);
}

void header(const char *title) {
  if (json_output) return;
  std::printf("%-52s %16s %16s %7s\n", title, "coffer", "floor", "ratio");
}

// One JSON line for `operation` (wall time, and thread CPU time when given).
void report_json(const char *backend, const char *operation, Comparison wall, double target,
                 const Comparison *cpu = nullptr) {
  if (!json_output) return;
  std::printf(
      "{\"backend\": \"%s\", \"operation\": \"%s\", \"clock\": \"wall\", \"coffer_us\": %.3f, "
      "\"floor_us\": %.3f, \"ratio\": %.3f, \"target\": %.1f",
      backend, operation, wall.coffer_ns / 1000, wall.floor_ns / 1000,
      wall.coffer_ns / wall.floor_ns, target);
  if (cpu != nullptr)
    std::printf(", \"thread_cpu\": {\"coffer_us\": %.3f, \"floor_us\": %.3f, \"ratio\": %.3f}",
                cpu->coffer_ns / 1000, cpu->floor_ns / 1000, cpu->coffer_ns / cpu->floor_ns);
  std::printf("}\n");
}

[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "coffer-bench-database: %s\n", message.c_str());
  std::exit(1);
}

// The plugin, called through its C table with a minimal blocking wrapper.
class Plugin {
 public:
  explicit Plugin(const std::string &config) {
    fs::path file = fs::path(COFFER_BENCH_PLUGIN_DIR) / "libdatabase.so";
    void *handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) die(std::string("dlopen: ") + dlerror());
    auto entry =
        reinterpret_cast<coffer_provider_entry_fn>(dlsym(handle, COFFER_PROVIDER_ENTRY_SYMBOL));
    table_ = entry(COFFER_ABI_VERSION);
    host_.struct_size = sizeof host_;
    host_.abi_version = COFFER_ABI_VERSION;
    host_.log = [](void *, int32_t, const char *) {};
    host_.log_level = COFFER_LOG_ERROR;
    host_.now_unix_ms = [](void *) -> int64_t {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    // The core's secret memory, as the core lends it (ABI 1.3).
    host_.secret_allocate = &coffer::detail::secret_allocate_for_plugin;
    host_.secret_free = &coffer::detail::secret_free_for_plugin;
    coffer_open_params params{};
    params.struct_size = sizeof params;
    params.instance_name = "bench";
    params.config_json = config.c_str();
    params.config_size = config.size();
    char error[1024] = {0};
    if (table_->open(&host_, &params, &instance_, error, sizeof error) != COFFER_STATUS_OK)
      die(std::string("open: ") + error);
  }
  ~Plugin() { table_->close(instance_); }

  struct Waiter {
    std::atomic<int> done{0};
    coffer_status status = 0;
    std::size_t size = 0;
    unsigned char buffer[256];
    std::string message;
    void wait() {
      while (done.load(std::memory_order_acquire) == 0) done.wait(0, std::memory_order_acquire);
    }
    void finish() {
      done.store(1, std::memory_order_release);
      done.notify_one();
    }
  };

  // Reads the latest version into a stack buffer (as a host copies it). The
  // caller waits for the answer, as the core's Store::get does, and says so
  // (COFFER_GET_CALLER_WAITS): the provider may answer on this thread.
  std::size_t get(const char *key) {
    Waiter waiter;
    coffer_get_request request{};
    request.struct_size = sizeof request;
    request.key = key;
    request.flags = COFFER_GET_CALLER_WAITS;
    request.timeout_ms = 30000;  // the core always sends one (the policy's timeout_ms)
    table_->get(
        instance_, &request,
        [](void *context, coffer_status status, const coffer_value *value, const char *message) {
          auto *w = static_cast<Waiter *>(context);
          w->status = status;
          if (value != nullptr) {
            w->size = std::min(value->size, sizeof w->buffer);
            std::copy(value->data, value->data + w->size, w->buffer);
          }
          if (message != nullptr) w->message = message;
          w->finish();
        },
        &waiter);
    waiter.wait();
    if (waiter.status != COFFER_STATUS_OK) die("get: " + waiter.message);
    return waiter.size;
  }

  void put(const char *key, const std::string &value) {
    Waiter waiter;
    table_->put(
        instance_, key, reinterpret_cast<const unsigned char *>(value.data()), value.size(),
        [](void *context, coffer_status status, const char *, const char *message) {
          auto *w = static_cast<Waiter *>(context);
          w->status = status;
          if (message != nullptr) w->message = message;
          w->finish();
        },
        &waiter);
    waiter.wait();
    if (waiter.status != COFFER_STATUS_OK) die("put: " + waiter.message);
  }

  void admin(const char *command) {
    Waiter waiter;
    table_->admin(
        instance_, command, "{}",
        [](void *context, coffer_status status, const char *, const char *message) {
          auto *w = static_cast<Waiter *>(context);
          w->status = status;
          if (message != nullptr) w->message = message;
          w->finish();
        },
        &waiter);
    waiter.wait();
    if (waiter.status != COFFER_STATUS_OK) die(std::string(command) + ": " + waiter.message);
  }

 private:
  const coffer_provider *table_ = nullptr;
  coffer_host host_{};
  coffer_instance *instance_ = nullptr;
};

const char *const bench_key = "VCS.GithubAdminPAT";
const std::string bench_value =
    "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";  // a GitHub PAT's size

std::string config_for(const std::string &url, const fs::path &key_file) {
  return "{\"url\": \"" + url + "\", \"master_key\": {\"file\": \"" + key_file.string() +
         "\"}, \"history\": 10}";
}

void bench_sqlite() {
  std::string pattern = (fs::temp_directory_path() / "coffer-bench-db.XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) die("mkdtemp failed");
  const fs::path dir = pattern, file = dir / "credentials.db";
  Plugin plugin(config_for("sqlite://" + file.string(), dir / "master.key"));
  plugin.admin("init");
  plugin.put(bench_key, bench_value);

  sqlite3 *db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK)
    die("sqlite3_open_v2 failed");
  sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL", nullptr, nullptr,
               nullptr);
  sqlite3_stmt *select = nullptr;
  sqlite3_prepare_v3(db,
                     "SELECT nonce, ciphertext FROM coffer_records WHERE key = ?1 AND version = ?2",
                     -1, SQLITE_PREPARE_PERSISTENT, &select, nullptr);
  unsigned char buffer[256];
  auto raw_select = [&] {
    sqlite3_bind_text(select, 1, bench_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(select, 2, 1);
    if (sqlite3_step(select) != SQLITE_ROW) die("raw select found no row");
    const void *nonce = sqlite3_column_blob(select, 0);
    int size = sqlite3_column_bytes(select, 1);
    const void *ciphertext = sqlite3_column_blob(select, 1);
    std::copy_n(static_cast<const unsigned char *>(ciphertext), std::min(size, 256), buffer);
    if (nonce == nullptr) die("no nonce");
    sqlite3_reset(select);
  };

  // The provider's own statement (the key's newest record with its flag) by hand.
  sqlite3_stmt *newest = nullptr;
  sqlite3_prepare_v3(db,
                     "SELECT version, data_key_id, nonce, ciphertext, created_at, updated_at, "
                     "latest FROM coffer_records WHERE key = ?1 ORDER BY version DESC LIMIT 1",
                     -1, SQLITE_PREPARE_PERSISTENT, &newest, nullptr);
  auto raw_latest = [&] {
    sqlite3_bind_text(newest, 1, bench_key, -1, SQLITE_STATIC);
    if (sqlite3_step(newest) != SQLITE_ROW || sqlite3_column_int(newest, 6) != 1)
      die("raw select found no latest row");
    int size = sqlite3_column_bytes(newest, 3);
    std::copy_n(static_cast<const unsigned char *>(sqlite3_column_blob(newest, 3)),
                std::min(size, 256), buffer);
    sqlite3_reset(newest);
  };

  const long gets = iterations(200000);
  auto get_wall = compare(
      gets, 40, [&] { plugin.get(bench_key); }, raw_select, wall_ns);
  auto get_cpu = compare(
      gets, 40, [&] { plugin.get(bench_key); }, raw_select, thread_cpu_ns);
  auto statement_cpu = compare(gets, 40, raw_latest, raw_select, thread_cpu_ns);

  // A raw table of the records' shape, written one row per transaction.
  sqlite3_exec(db,
               "CREATE TABLE bench_records (key TEXT NOT NULL, version INTEGER NOT NULL, "
               "data_key_id INTEGER NOT NULL, nonce BLOB NOT NULL, ciphertext BLOB NOT NULL, "
               "created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, "
               "PRIMARY KEY (key, version)) WITHOUT ROWID",
               nullptr, nullptr, nullptr);
  sqlite3_stmt *begin = nullptr, *insert = nullptr, *commit = nullptr;
  sqlite3_prepare_v3(db, "BEGIN IMMEDIATE", -1, SQLITE_PREPARE_PERSISTENT, &begin, nullptr);
  sqlite3_prepare_v3(db, "INSERT INTO bench_records VALUES (?1, ?2, 1, ?3, ?4, ?5, ?5)", -1,
                     SQLITE_PREPARE_PERSISTENT, &insert, nullptr);
  sqlite3_prepare_v3(db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &commit, nullptr);
  coffer::database::Bytes nonce = coffer::database::random_bytes(12);
  coffer::database::Bytes ciphertext = coffer::database::random_bytes(bench_value.size() + 16);
  int64_t version = 0;
  auto raw_insert = [&] {
    sqlite3_step(begin);
    sqlite3_reset(begin);
    sqlite3_bind_text(insert, 1, bench_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(insert, 2, ++version);
    sqlite3_bind_blob(insert, 3, nonce.data(), static_cast<int>(nonce.size()), SQLITE_STATIC);
    sqlite3_bind_blob(insert, 4, ciphertext.data(), static_cast<int>(ciphertext.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(insert, 5, 1700000000000);
    if (sqlite3_step(insert) != SQLITE_DONE) die(std::string("raw insert: ") + sqlite3_errmsg(db));
    sqlite3_reset(insert);
    if (sqlite3_step(commit) != SQLITE_DONE) die("raw commit failed");
    sqlite3_reset(commit);
  };
  const long puts = iterations(600);
  auto put_wall = compare(
      puts, 20, [&] { plugin.put(bench_key, bench_value); }, raw_insert, wall_ns);

  header("SQLite (WAL, synchronous=FULL)");
  report("uncached get vs prepared SELECT (wall)", get_wall, 1.5);
  report("uncached get vs prepared SELECT (thread CPU)", get_cpu, 1.5);
  report("  of which: the provider's SELECT by hand (CPU)", statement_cpu, 0);
  report("put vs INSERT in its own transaction (wall)", put_wall, 1.3);
  report_json("sqlite", "get", get_wall, 1.5, &get_cpu);
  report_json("sqlite", "put", put_wall, 1.3);
  sqlite3_finalize(newest);
  sqlite3_finalize(select);
  sqlite3_finalize(begin);
  sqlite3_finalize(insert);
  sqlite3_finalize(commit);
  sqlite3_close(db);
  fs::remove_all(dir);
}

// A throwaway server, stopped at the end.
class Server {
 public:
  Server() {
    std::string pattern = (fs::temp_directory_path() / "coffer-bench-pg.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) die("mkdtemp failed");
    state_ = fs::path(pattern) / "state";
    // Durable, as a production server runs (fsync, synchronous_commit on).
    ::setenv("COFFER_PG_DURABLE", "1", 0);
    if (run("start") != 0) die("could not start a PostgreSQL server");
    std::ifstream in(state_ / "conninfo");
    std::getline(in, conninfo_);
  }
  ~Server() {
    run("stop");
    fs::remove_all(state_.parent_path());
  }
  [[nodiscard]] const std::string &conninfo() const { return conninfo_; }

 private:
  int run(const char *command) const {
    std::string line = std::string("'") + COFFER_BENCH_PG_SCRIPT + "' " + command + " '" +
                       state_.string() + "' 1>&2";  // stdout carries the results alone (--json)
    return std::system(line.c_str());
  }
  fs::path state_;
  std::string conninfo_;
};

void bench_postgres(std::string conninfo) {
  std::unique_ptr<Server> server;
  const bool durable = conninfo.empty();
  if (conninfo.empty()) {
    server = std::make_unique<Server>();
    conninfo = server->conninfo();
  }
  // The plugin connects to a server on this host without TLS unless told
  // otherwise; so does the floor.
  if (conninfo.find("sslmode") == std::string::npos) conninfo += " sslmode=disable";
  std::string pattern = (fs::temp_directory_path() / "coffer-bench-db.XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) die("mkdtemp failed");
  const fs::path dir = pattern;

  PGconn *pg = PQconnectdb(conninfo.c_str());
  if (PQstatus(pg) != CONNECTION_OK) die(std::string("connect: ") + PQerrorMessage(pg));
  const std::string schema = "coffer_bench_" + std::to_string(::getpid());
  PQclear(PQexec(pg, ("CREATE SCHEMA " + schema).c_str()));
  PQclear(PQexec(pg, ("SET search_path = " + schema).c_str()));

  {
    Plugin plugin(config_for(conninfo + " options=-csearch_path=" + schema, dir / "master.key"));
    plugin.admin("init");
    plugin.put(bench_key, bench_value);

    PQclear(
        PQprepare(pg, "raw_select",
                  "SELECT nonce, ciphertext FROM coffer_records WHERE key = $1 AND version = $2", 2,
                  nullptr));
    unsigned char buffer[256];
    auto raw_select = [&] {
      const char *values[] = {bench_key, "1"};
      PGresult *result = PQexecPrepared(pg, "raw_select", 2, values, nullptr, nullptr, 1);
      if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) != 1)
        die(std::string("raw select: ") + PQerrorMessage(pg));
      int size = PQgetlength(result, 0, 1);
      std::copy_n(reinterpret_cast<const unsigned char *>(PQgetvalue(result, 0, 1)),
                  std::min(size, 256), buffer);
      PQclear(result);
    };
    const long gets = iterations(20000);
    auto get_wall = compare(
        gets, 20, [&] { plugin.get(bench_key); }, raw_select, wall_ns);
    // The provider's own statement (the key's newest record with its flag) by
    // hand: how much of the gap the server's work is.
    PQclear(PQprepare(pg, "raw_latest",
                      "SELECT version, data_key_id, nonce, ciphertext, created_at, updated_at, "
                      "latest FROM coffer_records WHERE key = $1 ORDER BY version DESC LIMIT 1",
                      1, nullptr));
    auto raw_latest = [&] {
      const char *values[] = {bench_key};
      PGresult *result = PQexecPrepared(pg, "raw_latest", 1, values, nullptr, nullptr, 1);
      if (PQresultStatus(result) != PGRES_TUPLES_OK || PQntuples(result) != 1)
        die(std::string("raw select of the latest: ") + PQerrorMessage(pg));
      int size = PQgetlength(result, 0, 3);
      std::copy_n(reinterpret_cast<const unsigned char *>(PQgetvalue(result, 0, 3)),
                  std::min(size, 256), buffer);
      PQclear(result);
    };
    auto statement_wall = compare(gets, 20, raw_latest, raw_select, wall_ns);

    PQclear(PQexec(pg,
                   "CREATE TABLE bench_records (key TEXT NOT NULL, version BIGINT NOT NULL, "
                   "data_key_id BIGINT NOT NULL, nonce BYTEA NOT NULL, ciphertext BYTEA NOT NULL, "
                   "created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, "
                   "PRIMARY KEY (key, version))"));
    PQclear(PQprepare(pg, "raw_insert",
                      "INSERT INTO bench_records VALUES ($1, $2, 1, $3, $4, $5, $5)", 5, nullptr));
    coffer::database::Bytes nonce = coffer::database::random_bytes(12);
    coffer::database::Bytes ciphertext = coffer::database::random_bytes(bench_value.size() + 16);
    int64_t version = 0;
    auto raw_insert = [&] {
      std::string number = std::to_string(++version);
      const char *values[] = {bench_key, number.c_str(),
                              reinterpret_cast<const char *>(nonce.data()),
                              reinterpret_cast<const char *>(ciphertext.data()), "1700000000000"};
      int lengths[] = {0, 0, static_cast<int>(nonce.size()), static_cast<int>(ciphertext.size()),
                       0};
      int formats[] = {0, 0, 1, 1, 0};
      PGresult *result = PQexecPrepared(pg, "raw_insert", 5, values, lengths, formats, 1);
      if (PQresultStatus(result) != PGRES_COMMAND_OK)
        die(std::string("raw insert: ") + PQerrorMessage(pg));
      PQclear(result);
    };
    const long puts = iterations(2000);
    auto put_wall = compare(
        puts, 20, [&] { plugin.put(bench_key, bench_value); }, raw_insert, wall_ns);

    header(durable ? "PostgreSQL (libpq, loopback, durable server)"
                   : "PostgreSQL (libpq, loopback, given server)");
    report("uncached get vs prepared SELECT (wall)", get_wall, 1.3);
    report("  of which: the provider's SELECT by hand (wall)", statement_wall, 0);
    report("put vs INSERT, autocommit (wall)", put_wall, 1.3);
    report_json("postgres", "get", get_wall, 1.3);
    report_json("postgres", "put", put_wall, 1.3);
  }
  PQclear(PQexec(pg, ("DROP SCHEMA " + schema + " CASCADE").c_str()));
  PQfinish(pg);
  fs::remove_all(dir);
}

}  // namespace

int main(int argc, char **argv) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument == "--json") {
      json_output = true;
    } else if (argument.starts_with("--")) {
      std::fprintf(stderr, "coffer-bench-database: unknown option '%s'\n", argument.c_str());
      positional = {"?"};
      break;
    } else {
      positional.push_back(argument);
    }
  }
  std::string backend = positional.empty() ? "sqlite" : positional[0];
  if (backend == "sqlite" && positional.size() <= 1) {
    bench_sqlite();
  } else if (backend == "postgres" && positional.size() <= 2) {
    bench_postgres(positional.size() > 1 ? positional[1] : "");
  } else {
    std::fprintf(stderr, "usage: %s [sqlite | postgres [CONNINFO]] [--json]\n", argv[0]);
    return 2;
  }
  return 0;
}
