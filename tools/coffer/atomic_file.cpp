// Writing a temporary file beside the old one and renaming it over it.
#include "atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <coffer/file_descriptor.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace coffer::cli {
namespace {

using provider::FileDescriptor;

[[noreturn]] void fail(const std::filesystem::path &path, const std::string &what, int error) {
  // Not std::strerror, which is not thread-safe.
  throw std::runtime_error("cannot replace '" + path.string() + "': " + what + ": " +
                           std::generic_category().message(error));
}

void write_all(int fd, std::string_view text, const std::filesystem::path &path) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path, "write the temporary file", errno);
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Gives the new file the old one's mode, and its owner and group when the
// process may (as root): otherwise a 0640 policy readable by its service's
// group would become unreadable to that service.
void copy_attributes(int fd, const struct stat &old, const std::filesystem::path &path) {
  if (::fchmod(fd, old.st_mode & 07777) != 0)
    fail(path, "set the mode of the temporary file", errno);
  if ((old.st_uid != ::geteuid() || old.st_gid != ::getegid()) &&
      ::fchown(fd, old.st_uid, old.st_gid) != 0 && errno != EPERM)
    fail(path, "set the owner of the temporary file", errno);
}

}  // namespace

void replace_file_atomically(const std::filesystem::path &path, std::string_view text) {
  struct stat old {};
  if (::lstat(path.c_str(), &old) != 0) fail(path, "lstat", errno);
  if (S_ISLNK(old.st_mode))
    throw std::runtime_error("not replacing '" + path.string() +
                             "': it is a symbolic link (a Kubernetes ConfigMap mount, perhaps); "
                             "make the change where the file comes from");
  if (!S_ISREG(old.st_mode))
    throw std::runtime_error("not replacing '" + path.string() + "': not a regular file");

  const std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : ".";
  FileDescriptor directory_fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory_fd.get() < 0) fail(path, "open its directory", errno);
  std::string name = (directory / ("." + path.filename().string() + ".coffer-XXXXXX")).string();
  // mkostemp opens with O_CREAT|O_EXCL (mode 0600) under a fresh name.
  FileDescriptor file(::mkostemp(name.data(), O_CLOEXEC));
  if (file.get() < 0) fail(path, "create a temporary file beside it", errno);
  try {
    copy_attributes(file.get(), old, path);
    write_all(file.get(), text, path);
    if (::fsync(file.get()) != 0) fail(path, "sync the temporary file", errno);
    if (int error = file.reset()) fail(path, "close the temporary file", error);
    if (::rename(name.c_str(), path.c_str()) != 0) fail(path, "rename the temporary file", errno);
  } catch (...) {
    ::unlink(name.c_str());
    throw;
  }
  // Without this the rename itself might not survive a crash. The file is
  // replaced by now, so a failure here is reported, not thrown: saying the
  // file was left alone would be wrong.
  if (::fsync(directory_fd.get()) != 0)
    std::fprintf(stderr, "coffer: warning: replaced '%s' but could not sync its directory: %s\n",
                 path.c_str(), std::generic_category().message(errno).c_str());
}

}  // namespace coffer::cli
