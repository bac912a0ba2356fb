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

  // Replaces the file at `path` with `content` atomically: a temporary file in
  // the same directory, created mode 0600 (owned like `previous` where the
  // process may do that), written, fsynced, renamed over `path`, then the
  // directory fsynced. A reader sees the old file or the new one, never a
  // mixture. Throws coffer::provider::Error naming the file; the temporary
  // file is removed on failure.
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
  void replace(const std::filesystem::path &path, std::string_view content,
               const FileStatus &previous) override;
  std::unique_ptr<FileLock> lock(const std::filesystem::path &directory) override;

 protected:
  // The last step of replace(): renames the complete, synced temporary file
  // over `target` and fsyncs the directory `directory_fd`.
  virtual void rename_into_place(const std::filesystem::path &temporary,
                                 const std::filesystem::path &target, int directory_fd);
};

}  // namespace coffer::env_file

#endif  // COFFER_ENV_FILE_FILE_SYSTEM_HPP
