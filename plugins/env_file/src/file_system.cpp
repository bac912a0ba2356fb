#include "file_system.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace coffer::env_file {
namespace {

using coffer::provider::Error;
using coffer::provider::SecretBytes;

FileStatus from_stat(const struct stat &info) {
  FileStatus status;
  status.device = info.st_dev;
  status.inode = info.st_ino;
  status.size = info.st_size;
  status.modified_ns = std::int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec;
  status.changed_ns = std::int64_t{info.st_ctim.tv_sec} * 1'000'000'000 + info.st_ctim.tv_nsec;
  status.mode = info.st_mode;
  status.owner = info.st_uid;
  status.group = info.st_gid;
  return status;
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  FileDescriptor(const FileDescriptor &) = delete;
  FileDescriptor &operator=(const FileDescriptor &) = delete;
  ~FileDescriptor() { reset(); }
  [[nodiscard]] int get() const { return fd_; }
  // Closes and reports close()'s errno (0 on success).
  int reset() {
    int error = 0;
    if (fd_ >= 0 && ::close(fd_) != 0) error = errno;
    fd_ = -1;
    return error;
  }

 private:
  int fd_;
};

class DirectoryLock : public FileLock {
 public:
  explicit DirectoryLock(int fd) : fd_(fd) {}

 private:
  FileDescriptor fd_;  // closing the descriptor releases the flock
};

coffer_status status_for(int error) {
  return error == EACCES || error == EPERM || error == EROFS ? COFFER_STATUS_DENIED
                                                             : COFFER_STATUS_UNAVAILABLE;
}

[[noreturn]] void fail(int error, const std::string &what, const std::filesystem::path &path) {
  throw Error(status_for(error),
              "cannot " + what + " " + path.string() + ": " + FileSystem::describe(error));
}

}  // namespace

std::string FileSystem::describe(int error) {
  if (error == kNotRegularFile) return "not a regular file";
  if (error == kTooLarge) return "larger than an env file should be (16 MiB)";
  return std::generic_category().message(error);
}

int PosixFileSystem::status(const std::filesystem::path &path, FileStatus &status) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return errno;
  status = from_stat(info);
  return 0;
}

int PosixFileSystem::read(const std::filesystem::path &path, SecretBytes &content,
                          FileStatus &status) {
  // O_NONBLOCK: opening a FIFO must not hang; it is refused below.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return errno;
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return errno;
  if (S_ISDIR(info.st_mode)) return EISDIR;
  if (!S_ISREG(info.st_mode)) return kNotRegularFile;
  if (static_cast<std::size_t>(info.st_size) > kMaximumSize) return kTooLarge;
  status = from_stat(info);
  content.clear();
  unsigned char buffer[16384];
  for (;;) {
    ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int error = errno;
      coffer::provider::wipe(buffer, sizeof buffer);
      content.clear();
      return error;
    }
    if (got == 0) break;
    content.append(buffer, static_cast<std::size_t>(got));
    if (content.size() > kMaximumSize) {
      coffer::provider::wipe(buffer, sizeof buffer);
      content.clear();
      return kTooLarge;
    }
  }
  coffer::provider::wipe(buffer, sizeof buffer);
  return 0;
}

std::int64_t PosixFileSystem::now_ns() {
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

void PosixFileSystem::replace(const std::filesystem::path &path, std::string_view content,
                              const FileStatus &previous) {
  const std::filesystem::path directory = path.parent_path();
  FileDescriptor directory_fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory_fd.get() < 0) fail(errno, "open the directory", directory);

  std::string name = (directory / ("." + path.filename().string() + ".coffer-XXXXXX")).string();
  std::vector<char> pattern(name.begin(), name.end());
  pattern.push_back('\0');
  // mkostemp creates the file with mode 0600 and O_EXCL.
  FileDescriptor fd(::mkostemp(pattern.data(), O_CLOEXEC));
  if (fd.get() < 0) fail(errno, "create a temporary file in", directory);
  const std::filesystem::path temporary(pattern.data());
  try {
    if (::fchmod(fd.get(), S_IRUSR | S_IWUSR) != 0) fail(errno, "set the mode of", temporary);
    // Keep the owner when the process may (as root); otherwise the file
    // becomes the writer's, which could write the directory anyway.
    if ((previous.owner != ::geteuid() || previous.group != ::getegid()) &&
        ::fchown(fd.get(), previous.owner, previous.group) != 0 && errno != EPERM)
      fail(errno, "set the owner of", temporary);
    std::size_t written = 0;
    while (written < content.size()) {
      ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail(errno, "write", temporary);
      written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) fail(errno, "fsync", temporary);
    if (int error = fd.reset()) fail(error, "close", temporary);
    rename_into_place(temporary, path, directory_fd.get());
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
}

void PosixFileSystem::rename_into_place(const std::filesystem::path &temporary,
                                        const std::filesystem::path &target, int directory_fd) {
  if (::rename(temporary.c_str(), target.c_str()) != 0)
    fail(errno, "rename a temporary file to", target);
  if (::fsync(directory_fd) != 0) fail(errno, "fsync the directory of", target);
}

std::unique_ptr<FileLock> PosixFileSystem::lock(const std::filesystem::path &directory) {
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(errno, "open the directory", directory);
  auto held = std::make_unique<DirectoryLock>(fd);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) fail(errno, "lock the directory", directory);
  }
  return held;
}

}  // namespace coffer::env_file
