// Ownership rules for files that hold secrets and for the directories on the
// way to them: what the env_file writer and the database provider's key and
// SQLite files apply, for every provider that keeps secrets in files. The
// rules are OpenSSH's StrictModes, so that no other user can read what is
// written, swap the file, or redirect a write into another file:
//  - every directory from "/" down is owned by root or by the process's
//    effective user and writable by neither its group nor others; a
//    root-owned directory with the sticky bit (/tmp) may lie on the way
//    (others cannot rename or remove what it holds), but never holds the file
//    (others could create the names the file and its companions will use);
//  - a symbolic link on the way is followed only when root or the effective
//    user owns it;
//  - the file is a regular file, owned by root or the effective user and
//    writable by neither its group nor others.
// Running as root, "root or the effective user" is root alone.
//
// Header-only; Linux (O_PATH descriptors). Stateless: every function may be
// called from many threads at once.
#ifndef COFFER_FILE_OWNERSHIP_HPP
#define COFFER_FILE_OWNERSHIP_HPP

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <coffer/file_descriptor.hpp>
#include <coffer/provider.hpp>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace coffer::provider {

// Root or the process's effective user.
[[nodiscard]] inline bool is_trusted_owner(uid_t owner) noexcept {
  return owner == 0 || owner == ::geteuid();
}

// Which rule a directory answers to.
enum class DirectoryRole {
  on_the_way,  // lies on the path to the file: a root-owned sticky directory passes
  holds_file,  // holds the file (and its temporary and companion files)
};

namespace file_ownership_detail {

inline std::string quoted(const std::filesystem::path &path) {
  return "'" + path.string() + "'";
}

inline std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

inline std::string foreign_owner(const struct stat &info, const std::filesystem::path &path,
                                 const std::string &what) {
  const std::string uid = std::to_string(info.st_uid);
  const std::string self = std::to_string(::geteuid());
  return quoted(path) + " is " + what + "owned by uid " + uid +
         ", neither root nor the user this process runs as (uid " + self + ")";
}

// "its group", "others" or "its group and others"; empty when neither may write.
inline std::string writers(mode_t mode) {
  const bool group = (mode & S_IWGRP) != 0;
  const bool others = (mode & S_IWOTH) != 0;
  if (group && others) return "its group and others";
  if (group) return "its group";
  if (others) return "others";
  return {};
}

}  // namespace file_ownership_detail

// Why the directory `path` (`info` from fstat) may not hold or lead to a file
// that holds secrets, with the fix; empty when it may.
[[nodiscard]] inline std::string untrusted_directory_reason(const struct stat &info,
                                                            const std::filesystem::path &path,
                                                            DirectoryRole role) {
  namespace detail = file_ownership_detail;
  if (!is_trusted_owner(info.st_uid))
    return detail::foreign_owner(info, path, "") +
           ", who could rename or replace what it holds: use a directory owned by root or uid " +
           std::to_string(::geteuid()) + " (chown), or run as uid " + std::to_string(info.st_uid);
  const std::string who = detail::writers(info.st_mode);
  if (who.empty()) return {};
  const bool sticky_root = info.st_uid == 0 && (info.st_mode & S_ISVTX) != 0;
  if (sticky_root && role == DirectoryRole::on_the_way) return {};
  std::string reason = detail::quoted(path) + " is writable by " + who + " (mode " +
                       detail::mode_text(info.st_mode) + ")";
  if (sticky_root)
    return reason +
           "; the sticky bit keeps others from renaming what it holds but not from creating the "
           "names a secret file and its temporary files will use: keep the file in a directory "
           "of its own (mkdir -m 700 " +
           (path / "DIR").string() + ")";
  return reason + ", who could rename or replace what it holds: chmod go-w " + detail::quoted(path);
}

// Why the symbolic link `path` (`info` from lstat) may not be followed on the
// way to a file that holds secrets; empty when it may.
[[nodiscard]] inline std::string untrusted_link_reason(const struct stat &info,
                                                       const std::filesystem::path &path) {
  if (is_trusted_owner(info.st_uid)) return {};
  return file_ownership_detail::foreign_owner(info, path, "a symbolic link ") +
         ", who could point it elsewhere: name the file without this link, or replace it with "
         "a link owned by root or uid " +
         std::to_string(::geteuid());
}

// Why the file `path` (`info` from fstat or lstat) may not hold secrets that
// this process writes; empty when it may.
[[nodiscard]] inline std::string untrusted_file_reason(const struct stat &info,
                                                       const std::filesystem::path &path) {
  namespace detail = file_ownership_detail;
  if (S_ISLNK(info.st_mode))
    return detail::quoted(path) + " is a symbolic link, which is never written through";
  if (!S_ISREG(info.st_mode)) return detail::quoted(path) + " is not a regular file";
  if (!is_trusted_owner(info.st_uid))
    return detail::foreign_owner(info, path, "") +
           ": secrets are not written into another user's file (nor is the new file given to "
           "that user); chown it to root or uid " +
           std::to_string(::geteuid()) + ", or run as uid " + std::to_string(info.st_uid);
  const std::string who = detail::writers(info.st_mode);
  if (who.empty()) return {};
  return detail::quoted(path) + " is writable by " + who + " (mode " +
         detail::mode_text(info.st_mode) +
         "); a file that holds secrets is written only by its owner: chmod 600 " +
         detail::quoted(path);
}

// Where a file that holds secrets lives, resolved under the rules above.
struct TrustedLocation {
  FileDescriptor directory;              // the directory that holds the file, O_RDONLY
  std::filesystem::path directory_path;  // its absolute path, without symbolic links
  std::string name;                      // the file's name in it; the file may not exist
  [[nodiscard]] std::filesystem::path file_path() const { return directory_path / name; }
};

// Resolves `path` from "/" one component at a time, opening each directory
// relative to the one before without following symbolic links (O_PATH |
// O_NOFOLLOW) and checking it; a symbolic link, the last component included,
// is followed (at most 40) only when it passes untrusted_link_reason. Returns
// the directory that holds the file, opened, and the file's name (the file
// itself is not checked: see untrusted_file_reason). A relative `path` starts
// at the working directory. Throws Error: DENIED naming the directory or link
// that breaks a rule, the rule and the fix; UNAVAILABLE (DENIED for EACCES)
// when a directory on the way cannot be opened; INVALID_ARGUMENT when `path`
// names no file in a directory ("/", or a path that ends in "..").
[[nodiscard]] inline TrustedLocation open_trusted_location(const std::filesystem::path &path) {
  namespace fs = std::filesystem;
  const fs::path requested = path.is_absolute() ? path : fs::current_path() / path;
  auto fail_errno = [](int error, const std::string &what, const fs::path &where) {
    throw Error(
        error == EACCES || error == EPERM ? COFFER_STATUS_DENIED : COFFER_STATUS_UNAVAILABLE,
        "cannot " + what + " " + file_ownership_detail::quoted(where) + ": " +
            std::strerror(error));
  };
  auto refuse = [](const std::string &reason) { throw Error(COFFER_STATUS_DENIED, reason); };

  // Components still to resolve, the next one last.
  std::vector<std::string> pending;
  auto schedule = [&pending](const fs::path &more) {
    std::vector<std::string> parts;
    for (const fs::path &part : more.relative_path())
      if (!part.empty() && part != ".") parts.push_back(part.string());
    pending.insert(pending.end(), parts.rbegin(), parts.rend());
  };
  // The directories resolved so far, from "/": descriptors and names.
  std::vector<FileDescriptor> opened;
  std::vector<std::string> names;
  auto current = [&names] {
    fs::path here = "/";
    for (const std::string &name : names) here /= name;
    return here;
  };
  auto open_root = [&] {
    opened.clear();
    names.clear();
    FileDescriptor root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) fail_errno(errno, "open the directory", "/");
    struct stat info {};
    if (::fstat(root.get(), &info) != 0) fail_errno(errno, "inspect", "/");
    if (std::string why = untrusted_directory_reason(info, "/", DirectoryRole::on_the_way);
        !why.empty())
      refuse(why);
    opened.push_back(std::move(root));
  };

  open_root();
  schedule(requested);
  std::string name;
  int links = 0;
  while (!pending.empty()) {
    std::string component = std::move(pending.back());
    pending.pop_back();
    if (component == "..") {
      if (opened.size() > 1) {
        opened.pop_back();
        names.pop_back();
      }
      continue;
    }
    const bool last = pending.empty();
    const fs::path here = current() / component;
    FileDescriptor next(
        ::openat(opened.back().get(), component.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) {
      if (errno == ENOENT && last) {
        name = component;
        break;
      }
      fail_errno(errno, "open", here);
    }
    struct stat info {};
    if (::fstat(next.get(), &info) != 0) fail_errno(errno, "inspect", here);
    if (S_ISLNK(info.st_mode)) {
      if (std::string why = untrusted_link_reason(info, here); !why.empty()) refuse(why);
      if (++links > 40) fail_errno(ELOOP, "resolve", requested);
      std::vector<char> target(PATH_MAX + 1);
      ssize_t size = ::readlinkat(next.get(), "", target.data(), target.size());
      if (size < 0) fail_errno(errno, "read the symbolic link", here);
      if (static_cast<std::size_t>(size) >= target.size())
        fail_errno(ENAMETOOLONG, "read the symbolic link", here);
      const fs::path destination(std::string(target.data(), static_cast<std::size_t>(size)));
      if (destination.is_absolute()) open_root();
      schedule(destination);
      continue;
    }
    if (last) {  // the file, whatever it is: the caller checks it
      name = component;
      break;
    }
    if (!S_ISDIR(info.st_mode)) fail_errno(ENOTDIR, "open the directory", here);
    if (std::string why = untrusted_directory_reason(info, here, DirectoryRole::on_the_way);
        !why.empty())
      refuse(why);
    opened.push_back(std::move(next));
    names.push_back(component);
  }
  if (name.empty())
    throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                file_ownership_detail::quoted(path) + " names no file in a directory");

  TrustedLocation location;
  location.directory_path = current();
  location.name = std::move(name);
  // O_PATH descriptors cannot be locked, read or synced: reopen the one that
  // holds the file through itself.
  location.directory =
      FileDescriptor(::openat(opened.back().get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!location.directory.valid()) fail_errno(errno, "open the directory", location.directory_path);
  struct stat info {};
  if (::fstat(location.directory.get(), &info) != 0)
    fail_errno(errno, "inspect", location.directory_path);
  if (std::string why =
          untrusted_directory_reason(info, location.directory_path, DirectoryRole::holds_file);
      !why.empty())
    refuse(why);
  return location;
}

}  // namespace coffer::provider

#endif  // COFFER_FILE_OWNERSHIP_HPP
