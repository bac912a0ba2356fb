#include <coffer/audit.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace coffer {
namespace {

// RFC 3339 UTC with milliseconds: 2026-11-28T08:40:00.123Z
std::string now_utc() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return text;
}

std::string errno_text(int error) {
  char buffer[256];
  return strerror_r(error, buffer, sizeof buffer);
}

std::string executable_path() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : path.string();
}

// Who accessed: read per line, since a process may fork or change its ids.
void add_process(boost::json::object &line, const std::string &executable) {
  line["pid"] = static_cast<std::int64_t>(::getpid());
  line["uid"] = static_cast<std::uint64_t>(::getuid());
  if (::geteuid() != ::getuid()) line["euid"] = static_cast<std::uint64_t>(::geteuid());
  line["exe"] = executable;
}

}  // namespace

AuditLog::AuditLog(AuditOptions options, LogSink log, std::function<void()> on_failure)
    : options_(std::move(options)), log_(std::move(log)), on_failure_(std::move(on_failure)) {
  if (options_.file.empty()) throw Error(Code::invalid_config, "audit log: no file given");
  if (!log_) {
    log_ = [](LogLevel, std::string_view line) {
      std::fprintf(stderr, "coffer: %.*s\n", static_cast<int>(line.size()), line.data());
    };
  }
  executable_ = executable_path();
  open_file();
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

void AuditLog::open_file() {
  // O_NONBLOCK: a FIFO without a reader fails here instead of blocking the
  // load; anything but a regular file is refused below.
  int fd =
      ::open(options_.file.c_str(),
             O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600);
  if (fd < 0 && errno == ENXIO)
    throw Error(Code::invalid_config, "audit log " + options_.file.string() +
                                          " is not a regular file (a FIFO or device); give the "
                                          "path of a file");
  if (fd < 0)
    throw Error(Code::invalid_config,
                "audit log " + options_.file.string() + ": cannot open: " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int error = errno;
    ::close(fd);
    throw Error(Code::invalid_config,
                "audit log " + options_.file.string() + ": cannot stat: " + errno_text(error));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(Code::invalid_config, "audit log " + options_.file.string() +
                                          " is not a regular file; give the path of a file");
  }
  if ((st.st_mode & 077) != 0) {
    if (::fchmod(fd, 0600) != 0) {
      int error = errno;
      ::close(fd);
      throw Error(Code::invalid_config, "audit log " + options_.file.string() +
                                            " is readable by others and cannot be narrowed "
                                            "to 0600: " +
                                            errno_text(error));
    }
    log_(LogLevel::warning,
         "audit log " + options_.file.string() + " was readable by others; narrowed to 0600");
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  device_ = static_cast<std::uint64_t>(st.st_dev);
  inode_ = static_cast<std::uint64_t>(st.st_ino);
  size_ = static_cast<std::uint64_t>(st.st_size);
}

// Lines written to a file that is no longer at the path (deleted, its
// directory gone, moved away by a rotation elsewhere) would reach no reader.
void AuditLog::follow_path() {
  struct stat at_path {};
  if (::lstat(options_.file.c_str(), &at_path) == 0 &&
      static_cast<std::uint64_t>(at_path.st_dev) == device_ &&
      static_cast<std::uint64_t>(at_path.st_ino) == inode_)
    return;
  open_file();
}

// FILE.keep-1 -> FILE.keep, ..., FILE -> FILE.1, then a new FILE. When the
// file at the path is no longer ours (another writer rotated it), writing
// goes on in the new file instead.
void AuditLog::rotate() {
  const std::string base = options_.file.string();
  struct stat ours {};
  struct stat at_path {};
  if (::fstat(fd_, &ours) == 0 && ::lstat(base.c_str(), &at_path) == 0 &&
      (ours.st_ino != at_path.st_ino || ours.st_dev != at_path.st_dev)) {
    open_file();
    if (size_ == 0 || size_ < options_.max_bytes) return;
  }
  if (::lstat(base.c_str(), &at_path) == 0 && !S_ISREG(at_path.st_mode))
    throw Error(Code::unavailable, "audit log " + base + " is not a regular file; not rotating it");
  if (options_.keep == 0) {
    ::unlink(base.c_str());
  } else {
    for (unsigned i = options_.keep; i > 1; --i) {
      std::string from = base + "." + std::to_string(i - 1);
      std::string to = base + "." + std::to_string(i);
      if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT)
        log_(LogLevel::warning,
             "audit log: cannot rename " + from + " to " + to + ": " + errno_text(errno));
    }
    std::string first = base + ".1";
    if (::rename(base.c_str(), first.c_str()) != 0)
      throw Error(Code::unavailable, "audit log " + base + ": cannot rotate: " + errno_text(errno));
  }
  open_file();
}

bool AuditLog::write_line(const std::string &line) noexcept {
  std::lock_guard lock(mutex_);
  std::string error;
  try {
    follow_path();
    if (options_.max_bytes > 0 && size_ > 0 && size_ + line.size() > options_.max_bytes) rotate();
    std::size_t written = 0;
    while (written < line.size()) {
      ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error = "cannot write: " + errno_text(n < 0 ? errno : EIO);
        break;
      }
      written += static_cast<std::size_t>(n);
    }
    size_ += written;
  } catch (const std::exception &e) {
    error = e.what();
  }
  if (error.empty()) {
    if (failing_since_ > 0) {
      log_(LogLevel::warning, "audit log " + options_.file.string() + ": writing again after " +
                                  std::to_string(failing_since_) + " lost line(s)");
      failing_since_ = 0;
    }
    return true;
  }
  failed(error);
  return false;
}

void AuditLog::failed(const std::string &error) noexcept {
  ++failures_;
  try {
    if (failing_since_++ == 0)
      log_(LogLevel::error,
           "audit log " + options_.file.string() + ": " + error +
               (options_.fail_closed ? " (fail_closed: accesses are refused until a write "
                                       "succeeds)"
                                     : " (lines are being lost; further failures are counted "
                                       "until a write succeeds)"));
  } catch (...) {  // reporting must not break an access
  }
  if (on_failure_) {
    try {
      on_failure_();
    } catch (...) {
    }
  }
}

bool AuditLog::writable() noexcept {
  std::lock_guard lock(mutex_);
  try {
    follow_path();
    return true;
  } catch (const std::exception &e) {
    failed(e.what());
  } catch (...) {
    failed("out of memory");
  }
  return false;
}

void AuditLog::on_access(const AccessEvent &event) noexcept {
  (void)record(event);
}

bool AuditLog::record(const AccessEvent &event) noexcept {
  try {
    boost::json::object line;
    line["time"] = now_utc();
    line["key"] = event.key;
    line["category"] = event.category;
    line["provider"] = event.provider;
    line["operation"] = event.operation;
    line["outcome"] = to_string(event.outcome);
    line["latency_us"] =
        std::chrono::duration_cast<std::chrono::microseconds>(event.latency).count();
    line["cache_hit"] = event.cache_hit;
    if (event.stale) line["stale"] = true;
    line["caller"] = event.caller;
    if (event.peer != nullptr) {
      if (!event.peer->client.empty())
        line["peer"] = boost::json::object{{"client", event.peer->client}};
      else
        line["peer"] = boost::json::object{
            {"uid", event.peer->uid}, {"gid", event.peer->gid}, {"pid", event.peer->pid}};
    }
    add_process(line, executable_);
    if (!event.message.empty()) line["message"] = event.message;
    return write_line(boost::json::serialize(line) + "\n");
  } catch (...) {  // out of memory: count it as a lost line
    std::lock_guard lock(mutex_);
    ++failures_;
    return false;
  }
}

void AuditLog::on_policy(const PolicyEvent &event) noexcept {
  try {
    boost::json::object line;
    line["time"] = now_utc();
    line["operation"] = event.loaded ? "policy_load" : "policy_load_failed";
    line["source"] = event.source;
    line["generation"] = event.generation;
    add_process(line, executable_);
    if (!event.message.empty()) line["message"] = event.message;
    if (!event.isolated.empty()) {
      boost::json::array isolated;
      for (const auto &p : event.isolated)
        isolated.push_back(boost::json::object{{"provider", p.provider}, {"error", p.error}});
      line["isolated"] = std::move(isolated);
    }
    write_line(boost::json::serialize(line) + "\n");
  } catch (...) {
    std::lock_guard lock(mutex_);
    ++failures_;
  }
}

std::uint64_t AuditLog::write_failures() const noexcept {
  std::lock_guard lock(mutex_);
  return failures_;
}

}  // namespace coffer
