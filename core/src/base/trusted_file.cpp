#include "base/trusted_file.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <coffer/error.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

namespace coffer::detail {
namespace {

bool owned_by_us_or_root(const struct stat &st) {
  return st.st_uid == 0 || st.st_uid == ::geteuid();
}

std::string foreign_owner(const std::filesystem::path &path, const struct stat &st) {
  return path.string() + " belongs to uid " + std::to_string(st.st_uid) +
         ", neither root nor the user running coffer";
}

// Nobody can write to a directory on a read-only mount, whatever its mode
// (Kubernetes mounts ConfigMap volumes read-only with mode 0777).
bool read_only_mount(const std::filesystem::path &directory) {
  struct statvfs vfs {};
  return ::statvfs(directory.c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0;
}

// `holds_file`: the directory that holds the trusted file itself, which must
// not be writable by others at all; a directory above it may be a root-owned
// sticky one (/tmp), where others can add entries but not replace ours.
std::string directory_reason(const std::filesystem::path &directory, bool holds_file) {
  struct stat st {};
  if (::stat(directory.c_str(), &st) != 0) return directory.string() + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return directory.string() + " is not a directory";
  if (!owned_by_us_or_root(st)) return foreign_owner(directory, st);
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) == 0 || read_only_mount(directory)) return {};
  if (!holds_file && st.st_uid == 0 && (st.st_mode & S_ISVTX) != 0) return {};
  return directory.string() + " is writable by group or others (mode " + mode_text(st.st_mode) +
         "), so they could replace what coffer loads from below it; run: chmod go-w " +
         directory.string();
}

std::string path_reason(const std::filesystem::path &directory) {
  if (std::string why = directory_reason(directory, true); !why.empty()) return why;
  for (std::filesystem::path above = directory.parent_path();; above = above.parent_path()) {
    if (std::string why = directory_reason(above, false); !why.empty()) return why;
    if (above == above.root_path() || above.empty()) break;
  }
  return {};
}

}  // namespace

std::string mode_text(mode_t mode) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%04o", static_cast<unsigned>(mode & 07777));
  return buffer;
}

std::string untrusted_file_reason(const struct stat &st, const std::filesystem::path &path) {
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return path.string() + " is writable by group or others (mode " + mode_text(st.st_mode) +
           "); run: chmod go-w " + path.string();
  if (!owned_by_us_or_root(st)) return foreign_owner(path, st);
  return {};
}

std::string untrusted_directory_reason(const std::filesystem::path &directory) {
  std::error_code ec;
  std::filesystem::path written = std::filesystem::absolute(directory, ec).lexically_normal();
  if (ec) return directory.string() + ": " + ec.message();
  if (written.has_relative_path() && !written.has_filename()) written = written.parent_path();
  if (std::string why = path_reason(written); !why.empty()) return why;
  std::filesystem::path resolved = std::filesystem::canonical(written, ec);
  if (ec) return directory.string() + ": " + ec.message();
  return resolved == written ? std::string() : path_reason(resolved);
}

std::string untrusted_location_reason(const std::filesystem::path &file) {
  std::filesystem::path directory = file.has_parent_path() ? file.parent_path() : ".";
  if (std::string why = untrusted_directory_reason(directory); !why.empty()) return why;
  std::error_code ec;
  std::filesystem::path real = std::filesystem::canonical(file, ec);
  if (ec) return file.string() + ": " + ec.message();
  if (real.parent_path() == std::filesystem::canonical(directory, ec)) return {};
  return untrusted_directory_reason(real.parent_path());
}

std::string read_trusted_file(const std::filesystem::path &file, const TrustedFileLimits &limits) {
  const std::string name = file.string();
  const std::string what(limits.what);
  auto fail = [&](const std::string &why) -> Error {
    return Error(Code::invalid_config, name + ": refused as the " + what + ": " + why);
  };
  int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    throw Error(Code::invalid_config,
                name + ": cannot read the " + what + " (" + std::strerror(errno) + ")");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw fail(std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    throw fail(S_ISDIR(st.st_mode)    ? "it is a directory"
               : S_ISFIFO(st.st_mode) ? "it is a FIFO, not a regular file"
                                      : "it is a device or socket, not a regular file");
  if (std::string why = untrusted_file_reason(st, file); !why.empty()) throw fail(why);
  if (std::string why = untrusted_location_reason(file); !why.empty())
    throw fail("its directory is unsafe: " + why);
  if (static_cast<std::uintmax_t>(st.st_size) > limits.max_bytes)
    throw fail("it is " + std::to_string(st.st_size) + " bytes, more than the " +
               std::to_string(limits.max_bytes) + " bytes a " + what + " may have");
  // Read up to one byte past the limit: a file that grows after fstat is
  // still caught. The buffer starts at the size fstat saw (plus the byte that
  // shows the end) and grows only for a file that grew: zeroing the whole
  // limit (megabytes) for every read made each policy or catalog read cost
  // page faults out of all proportion to the file.
  const std::size_t limit = limits.max_bytes + 1;
  std::string text;
  text.resize(std::min<std::size_t>(static_cast<std::size_t>(st.st_size) + 1, limit));
  std::size_t used = 0;
  for (;;) {
    if (used == text.size()) {
      if (text.size() == limit) break;
      text.resize(std::min(limit, 2 * text.size()));
    }
    ssize_t n = ::read(fd, text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail(std::string("cannot read it: ") + std::strerror(errno));
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used > limits.max_bytes)
    throw fail("it has more than the " + std::to_string(limits.max_bytes) + " bytes a " + what +
               " may have");
  text.resize(used);
  return text;
}

}  // namespace coffer::detail
