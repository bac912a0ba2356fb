// coffer::AuditLog: one JSON line per access to a secret, for audit.
//
// Each line has the time, key, category, provider, operation, outcome,
// latency, whether the cache answered, the caller identity the host supplied,
// the peer a read was made for ("peer": {"uid", "gid", "pid"} or {"client"},
// when the host named one), and the process (pid, uid, executable); never a
// value. The file is created
// 0600 (an existing file that others can read is narrowed to 0600), appended
// to, and rotated by size: FILE becomes FILE.1, FILE.1 becomes FILE.2, ... up
// to `keep` files. When the file at the path is removed or replaced, the next
// line goes to a new file there; one that cannot be created is a failed line.
//
// A Store writes one when its policy has an "audit" section (docs/policy.md);
// a host may also construct one and pass it as StoreOptions::observer.
//
// Thread-safe: lines from many threads are written whole, one write(2) each.
// Use one AuditLog per file: two processes appending to the same file keep
// their lines whole but may rotate it under each other.
#ifndef COFFER_AUDIT_HPP
#define COFFER_AUDIT_HPP

#include <coffer/store.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>

namespace coffer {

struct AuditOptions {
  std::filesystem::path file;
  // Rotate before a line would take the file past this size; 0: never.
  std::uint64_t max_bytes = 10 * 1024 * 1024;
  // Rotated files kept (FILE.1 is the newest); 0: the full file is discarded.
  unsigned keep = 5;
  // Refuse an access whose line cannot be written, instead of serving it
  // and counting the lost line: the Store withholds a value, and does not
  // attempt a put or remove while the log cannot be written.
  bool fail_closed = false;
};

class AuditLog : public Observer {
 public:
  // Opens (creates) the file. Throws Error(invalid_config) naming the file
  // when it cannot. `log` receives the reports of failed writes (default:
  // standard error); `on_failure` is called once per failed line.
  explicit AuditLog(AuditOptions options, LogSink log = {}, std::function<void()> on_failure = {});
  ~AuditLog() override;
  AuditLog(const AuditLog &) = delete;
  AuditLog &operator=(const AuditLog &) = delete;

  void on_access(const AccessEvent &event) noexcept override;
  void on_policy(const PolicyEvent &event) noexcept override;
  // on_access() that says whether the line was written.
  [[nodiscard]] bool record(const AccessEvent &event) noexcept;
  // Whether a line can be written now: the file at the path is open (created
  // again if it was removed). A failure is reported like a failed line.
  [[nodiscard]] bool writable() noexcept;

  // Lines that could not be written (each also reported: the first of a run
  // of failures through the log, and every one through `on_failure`).
  [[nodiscard]] std::uint64_t write_failures() const noexcept;
  [[nodiscard]] const AuditOptions &options() const noexcept { return options_; }

 private:
  bool write_line(const std::string &line) noexcept;
  // Reports a line that could not be written.
  void failed(const std::string &error) noexcept;
  void open_file();
  // Reopens when the file at the path is not the one open (removed, replaced).
  void follow_path();
  void rotate();

  AuditOptions options_;
  LogSink log_;
  std::function<void()> on_failure_;
  mutable std::mutex mutex_;
  int fd_ = -1;
  std::uint64_t device_ = 0;  // of the open file
  std::uint64_t inode_ = 0;
  std::uint64_t size_ = 0;
  std::string executable_;  // of this process, read once
  std::uint64_t failures_ = 0;
  std::uint64_t failing_since_ = 0;  // failures in the current run; 0 when writing works
};

}  // namespace coffer

#endif  // COFFER_AUDIT_HPP
