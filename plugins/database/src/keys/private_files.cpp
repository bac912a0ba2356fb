#include "keys/private_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <coffer/file_ownership.hpp>
#include <coffer/provider.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace coffer::database {

using coffer::provider::Error;
using coffer::provider::FileDescriptor;

namespace {

std::string quoted(const std::filesystem::path &path) {
  return "'" + path.string() + "'";
}

[[noreturn]] void fail_errno(const std::string &what, const std::filesystem::path &path,
                             int error) {
  throw Error(COFFER_STATUS_UNAVAILABLE,
              "cannot " + what + " " + quoted(path) + ": " + std::strerror(error));
}

void fsync_directory(const std::filesystem::path &directory) {
  FileDescriptor fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) fail_errno("open the directory", directory, errno);
  if (::fsync(fd.get()) != 0) fail_errno("sync the directory", directory, errno);
}

std::filesystem::path directory_of(const std::filesystem::path &path) {
  auto parent = path.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

}  // namespace

void check_private_files(const std::filesystem::path &file,
                         std::span<const std::string_view> companion_suffixes) {
  const coffer::provider::TrustedLocation location = coffer::provider::open_trusted_location(file);
  auto check = [&](const std::string &name, bool companion) {
    struct stat info {};
    if (::fstatat(location.directory.get(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return;
      fail_errno("inspect", location.directory_path / name, errno);
    }
    const auto path = location.directory_path / name;
    std::string why = coffer::provider::untrusted_file_reason(info, path);
    if (why.empty()) return;
    if (companion) why += " (it belongs with " + quoted(location.file_path()) + ")";
    throw Error(COFFER_STATUS_DENIED, why);
  };
  check(location.name, false);
  for (std::string_view suffix : companion_suffixes)
    check(location.name + std::string(suffix), true);
}

void create_private_directories(const std::filesystem::path &directory) {
  if (directory.empty()) return;
  std::error_code error;
  if (std::filesystem::is_directory(directory, error)) return;
  create_private_directories(directory.parent_path());
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST)
    fail_errno("create the directory", directory, errno);
}

bool create_private_file(const std::filesystem::path &path, ByteView content) {
  const auto directory = directory_of(path);
  create_private_directories(directory);
  check_private_files(path);
  std::string temporary = (directory / ("." + path.filename().string() + ".XXXXXX")).string();
  FileDescriptor fd(::mkostemp(temporary.data(), O_CLOEXEC));  // mkstemp creates mode 0600
  if (fd.get() < 0) fail_errno("create a temporary file beside", path, errno);
  auto discard = [&] { ::unlink(temporary.c_str()); };
  if (::fchmod(fd.get(), 0600) != 0) {
    int error = errno;
    discard();
    fail_errno("set the mode of", temporary, error);
  }
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = errno;
      discard();
      fail_errno("write", temporary, error);
    }
    done += static_cast<std::size_t>(n);
  }
  const int sync_error = ::fsync(fd.get()) != 0 ? errno : fd.reset();
  if (sync_error != 0) {
    discard();
    fail_errno("write", temporary, sync_error);
  }
  // RENAME_NOREPLACE: a file that appeared meanwhile (another `init`) wins.
  if (::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
    int error = errno;
    discard();
    if (error == EEXIST) return false;
    fail_errno("create", path, error);
  }
  fsync_directory(directory);
  return true;
}

bool create_empty_private_file(const std::filesystem::path &path,
                               std::span<const std::string_view> companion_suffixes) {
  const auto directory = directory_of(path);
  create_private_directories(directory);
  check_private_files(path, companion_suffixes);
  FileDescriptor fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) {
    if (errno == EEXIST) return false;
    fail_errno("create", path, errno);
  }
  if (::fchmod(fd.get(), 0600) != 0) fail_errno("set the mode of", path, errno);
  if (::fsync(fd.get()) != 0) fail_errno("sync", path, errno);
  fsync_directory(directory);
  return true;
}

}  // namespace coffer::database
