// The operating system as the env file source sees it: file status, whole
// file reads, the clock, atomic replacement and advisory locks. A small seam,
// so that tests can watch the steps of a write.
//
// Threading: PosixFileSystem keeps no state; its methods may be called from
// many threads at once.
#ifndef COFFER_ENV_FILE_FILE_SYSTEM_HPP
#define COFFER_ENV_FILE_FILE_SYSTEM_HPP

#include <sys/types.h>
#include <coffer/provider.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace coffer::env_file {

struct FileStatus {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::int64_t modified_ns = 0;  // mtime, nanoseconds since the epoch
  std::int64_t changed_ns = 0;   // ctime
  mode_t mode = 0;               // permission bits and file type
  uid_t owner = 0;
  gid_t group = 0;

  // Same file, same size, same times: its content is taken as unchanged
  // (unless the times are too recent to tell, see FileSource).
  [[nodiscard]] bool same_file_and_times(const FileStatus &other) const noexcept {
    return device == other.device && inode == other.inode && size == other.size &&
           modified_ns == other.modified_ns && changed_ns == other.changed_ns && mode == other.mode;
  }
};

// Holds an exclusive lock until destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The status of `path`, following symbolic links. Returns 0 or an errno value.
  virtual int status(const std::filesystem::path &path, FileStatus &status) = 0;

  // Reads the whole regular file at `path` into `content` and its status (of
  // the file actually read) into `status`. Returns 0, an errno value, or
  // kNotRegularFile.
  virtual int read(const std::filesystem::path &path, coffer::provider::SecretBytes &content,
                   FileStatus &status) = 0;

  // Wall-clock time, in the nanoseconds of FileStatus times.
  virtual std::int64_t now_ns() = 0;

  // The file that `path` names, resolved for a write under the ownership
  // rules of <coffer/file_ownership.hpp>: every directory on the way, every
  // symbolic link followed and the file itself are checked. Throws
  // coffer::provider::Error naming the file, the rule it breaks and the fix
  // (DENIED), or why it cannot be resolved.
  virtual std::filesystem::path resolve_for_writing(const std::filesystem::path &path) = 0;

  // Replaces the file at `path` (as resolve_for_writing returned it) with
  // `content` atomically. The path is resolved and checked again, and the
  // file there must still be `previous` (the version that was read); then a
  // temporary file is created beside it relative to the directory's
  // descriptor (O_EXCL | O_NOFOLLOW, mode 0600, owned by the process's
  // user), written, fsynced, renamed over the file, and the directory is
  // fsynced. A reader sees the old file or the new one, never a mixture.
  // Throws coffer::provider::Error naming the file; the temporary file is
  // removed on failure.
  virtual void replace(const std::filesystem::path &path, std::string_view content,
                       const FileStatus &previous) = 0;

  // An exclusive advisory lock (flock) on `directory`, shared by every process
  // and every instance that writes files there. Blocks until granted.
  virtual std::unique_ptr<FileLock> lock(const std::filesystem::path &directory) = 0;

  static constexpr int kNotRegularFile = -1;
  static constexpr int kTooLarge = -2;
  // A readable explanation of a status()/read() result.
  static std::string describe(int error);
};

class PosixFileSystem : public FileSystem {
 public:
  // Larger files are refused: an env file is a handful of lines.
  static constexpr std::size_t kMaximumSize = 16u << 20;

  int status(const std::filesystem::path &path, FileStatus &status) override;
  int read(const std::filesystem::path &path, coffer::provider::SecretBytes &content,
           FileStatus &status) override;
  std::int64_t now_ns() override;
  std::filesystem::path resolve_for_writing(const std::filesystem::path &path) override;
  void replace(const std::filesystem::path &path, std::string_view content,
               const FileStatus &previous) override;
  std::unique_ptr<FileLock> lock(const std::filesystem::path &directory) override;

 protected:
  // A temporary file, complete and synced, about to take the target's place.
  struct StagedFile {
    std::filesystem::path temporary;  // in the target's directory
    std::filesystem::path target;
    int directory_fd = -1;  // the directory both are in
    dev_t device = 0;       // the temporary file as it was created
    ino_t inode = 0;
  };
  // The last step of replace(): checks that the temporary name still holds
  // the file that was written (not a link or another file put in its place),
  // renames it over the target and fsyncs the directory.
  virtual void rename_into_place(const StagedFile &staged);
};

}  // namespace coffer::env_file

#endif  // COFFER_ENV_FILE_FILE_SYSTEM_HPP
