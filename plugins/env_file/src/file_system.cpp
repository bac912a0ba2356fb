#include "file_system.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <coffer/file_ownership.hpp>

#include <cerrno>
#include <system_error>

namespace coffer::env_file {
namespace {

using coffer::provider::Error;
using coffer::provider::FileDescriptor;
using coffer::provider::SecretBytes;
using coffer::provider::TrustedLocation;

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

// The location of `path` under the ownership rules, or an error that says
// the write was refused and why.
TrustedLocation open_for_writing(const std::filesystem::path &path) {
  try {
    return coffer::provider::open_trusted_location(path);
  } catch (const Error &error) {
    throw Error(error.status(), "refusing to write " + path.string() + ": " + error.what());
  }
}

// Checks the file `name` in `location` without following a link there.
struct stat checked_target(const TrustedLocation &location, const std::filesystem::path &shown) {
  struct stat info {};
  if (::fstatat(location.directory.get(), location.name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0)
    fail(errno, "read", location.file_path());
  if (std::string why = coffer::provider::untrusted_file_reason(info, location.file_path());
      !why.empty())
    throw Error(COFFER_STATUS_DENIED, "refusing to write " + shown.string() + ": " + why);
  return info;
}

// A name for a temporary file beside `target`: ".NAME.coffer-" and twelve
// random characters, so that it cannot be guessed in advance.
std::string temporary_name(const std::string &target) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char random[12];
  std::size_t got = 0;
  while (got < sizeof random) {
    ssize_t n = ::getrandom(random + got, sizeof random - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno, "get random bytes for a temporary file beside", target);
    got += static_cast<std::size_t>(n);
  }
  std::string name = "." + target + ".coffer-";
  for (unsigned char byte : random) name += kAlphabet[byte % (sizeof kAlphabet - 1)];
  return name;
}

void write_all(int fd, std::string_view content, const std::filesystem::path &shown) {
  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno, "write", shown);
    written += static_cast<std::size_t>(n);
  }
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

std::filesystem::path PosixFileSystem::resolve_for_writing(const std::filesystem::path &path) {
  TrustedLocation location = open_for_writing(path);
  checked_target(location, path);
  return location.file_path();
}

void PosixFileSystem::replace(const std::filesystem::path &path, std::string_view content,
                              const FileStatus &previous) {
  TrustedLocation location = open_for_writing(path);
  const std::filesystem::path target = location.file_path();
  const struct stat current = checked_target(location, path);
  if (target != path || current.st_dev != previous.device || current.st_ino != previous.inode)
    throw Error(COFFER_STATUS_UNAVAILABLE, path.string() +
                                               " was replaced while it was being edited; nothing "
                                               "was written: try again");

  const int directory = location.directory.get();
  std::string name;
  FileDescriptor fd;
  for (int attempt = 0; attempt < 16 && !fd.valid(); ++attempt) {
    name = temporary_name(location.name);
    // O_EXCL | O_NOFOLLOW: a name that exists, as a link or anything else, is
    // never opened.
    fd = FileDescriptor(::openat(directory, name.c_str(),
                                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                                 S_IRUSR | S_IWUSR));
    if (!fd.valid() && errno != EEXIST)
      fail(errno, "create a temporary file in", location.directory_path);
  }
  if (!fd.valid()) fail(EEXIST, "create a temporary file in", location.directory_path);
  const std::filesystem::path temporary = location.directory_path / name;
  try {
    if (::fchmod(fd.get(), S_IRUSR | S_IWUSR) != 0) fail(errno, "set the mode of", temporary);
    write_all(fd.get(), content, temporary);
    if (::fsync(fd.get()) != 0) fail(errno, "fsync", temporary);
    struct stat created {};
    if (::fstat(fd.get(), &created) != 0) fail(errno, "inspect", temporary);
    // The descriptor stays open until after the rename (its data is synced
    // already): the file's inode cannot be freed and given to something put
    // in its place meanwhile.
    rename_into_place(StagedFile{.temporary = temporary,
                                 .target = target,
                                 .directory_fd = directory,
                                 .device = created.st_dev,
                                 .inode = created.st_ino});
  } catch (...) {
    ::unlinkat(directory, name.c_str(), 0);
    throw;
  }
}

void PosixFileSystem::rename_into_place(const StagedFile &staged) {
  const std::string from = staged.temporary.filename().string();
  const std::string to = staged.target.filename().string();
  struct stat now {};
  if (::fstatat(staged.directory_fd, from.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 ||
      !S_ISREG(now.st_mode) || now.st_dev != staged.device || now.st_ino != staged.inode)
    throw Error(COFFER_STATUS_DENIED,
                "refusing to write " + staged.target.string() + ": the temporary file " +
                    staged.temporary.string() +
                    " was replaced before it could be renamed into place; nothing was written");
  if (::renameat(staged.directory_fd, from.c_str(), staged.directory_fd, to.c_str()) != 0)
    fail(errno, "rename a temporary file to", staged.target);
  if (::fsync(staged.directory_fd) != 0) fail(errno, "fsync the directory of", staged.target);
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
