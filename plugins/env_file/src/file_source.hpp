// An env file as a source of secrets.
//
// Reading: the file is parsed when the source is created (a failure there is
// COFFER_STATUS_INVALID_CONFIG) and checked again on every access with one
// stat(): a changed device, inode, size, mtime or ctime (all in nanoseconds)
// means a reload, which also catches editors that replace the file by
// renaming a new one over it. Timestamps are coarse, so for two seconds after
// a change the content itself is compared too. A reload that fails (the file
// vanished, became unreadable or no longer parses) is logged once at ERROR
// with the file and line and no value; the last good content stays in
// service and health() reports the failure.
//
// Permissions: a file that group or others may read or write is reported at
// WARNING (once per change); with `require_private` it is refused
// (INVALID_CONFIG when the source is created, DENIED for every later
// operation until the mode is fixed).
//
// Writing (`writable`): put and remove take an in-process mutex and an
// exclusive flock on the file's directory, re-read and re-parse the file,
// edit only the entry concerned (see dotenv_writer.hpp) and replace the file
// atomically, mode 0600.
//
// Threading: all methods may be called concurrently.
#ifndef COFFER_ENV_FILE_FILE_SOURCE_HPP
#define COFFER_ENV_FILE_FILE_SOURCE_HPP

#include "dotenv_parser.hpp"
#include "file_system.hpp"
#include "source.hpp"
#include "version_tag.hpp"

#include <array>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace coffer::env_file {

struct FileSourceSettings {
  std::filesystem::path path;  // absolute
  bool expand = false;
  bool writable = false;
  bool require_private = false;
};

class FileSource final : public Source {
 public:
  // Loads the file. Throws coffer::provider::Error(INVALID_CONFIG) naming the
  // file (and line) when it cannot be read or parsed, or is not private
  // enough under `require_private`.
  FileSource(FileSourceSettings options, FileSystem &file_system, const VersionTagger &tagger,
             LogFunction log);

  coffer::provider::Value get(const std::string &name) override;
  std::vector<NamedVersion> list() override;
  std::string put(const std::string &name, const coffer::provider::SecretBytes &value) override;
  void remove(const std::string &name) override;
  void health() override;

  // How long after a change file times are too close to tell a second change.
  static constexpr std::int64_t kTimestampGranularityNs = 2'000'000'000;

 private:
  struct Variable {
    coffer::provider::SecretBytes value;
    std::string version;
  };

  void refresh_locked();
  // Reads and parses the file; false (with the problem recorded and logged)
  // when that fails, or throws when `initial`.
  bool load_locked(bool initial);
  void adopt_locked(const Document &document, const FileStatus &status,
                    const std::array<unsigned char, 32> &digest, bool racy);
  void check_permissions_locked(const FileStatus &status, bool initial);
  void deny_if_not_private_locked() const;
  void report_problem_locked(coffer_status status, const std::string &message);
  void clear_problem_locked();
  // Re-reads the file under the write lock and hands its text and parse to
  // `edit`, which returns the new text (or nothing to leave the file alone).
  template <class Edit>
  void modify(Edit &&edit);
  [[nodiscard]] std::string file() const { return options_.path.string(); }

  const FileSourceSettings options_;
  FileSystem &file_system_;
  const VersionTagger &tagger_;
  const LogFunction log_;

  std::mutex mutex_;
  std::vector<std::string> names_;  // the defined names, in file order
  std::unordered_map<std::string, Variable> variables_;
  FileStatus loaded_status_;
  std::array<unsigned char, 32> loaded_digest_{};
  bool racy_ = false;                        // times too recent to trust: compare the content
  std::optional<FileStatus> failed_status_;  // a version of the file that failed to load
  bool failed_racy_ = false;
  std::string problem_;  // why the file cannot be (re)loaded now; empty when it can
  coffer_status problem_status_ = COFFER_STATUS_OK;
  std::string permission_problem_;  // set while group or others have access
};

}  // namespace coffer::env_file

#endif  // COFFER_ENV_FILE_FILE_SOURCE_HPP
