#include "file_source.hpp"

#include "dotenv_writer.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <utility>

namespace coffer::env_file {
namespace {

using coffer::provider::Error;
using coffer::provider::SecretBytes;
using coffer::provider::Value;

constexpr mode_t kGroupOrOthers = 077;

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "0%03o", static_cast<unsigned>(mode & 0777));
  return text;
}

// "its group may read; others may read and write", from the mode bits.
std::string who_has_access(mode_t mode) {
  std::string out;
  auto add = [&](const char *who, mode_t read, mode_t write, mode_t execute) {
    std::string verbs;
    for (auto [bit, verb] : {std::pair{read, "read"}, {write, "write"}, {execute, "execute"}}) {
      if ((mode & bit) == 0) continue;
      if (!verbs.empty()) verbs += " and ";
      verbs += verb;
    }
    if (verbs.empty()) return;
    if (!out.empty()) out += "; ";
    out += std::string(who) + " may " + verbs;
  };
  add("its group", S_IRGRP, S_IWGRP, S_IXGRP);
  add("others", S_IROTH, S_IWOTH, S_IXOTH);
  return out;
}

coffer_status status_for_read_error(int error) {
  return error == EACCES || error == EPERM ? COFFER_STATUS_DENIED : COFFER_STATUS_UNAVAILABLE;
}

std::string entries_text(std::size_t count) {
  return std::to_string(count) + (count == 1 ? " entry" : " entries");
}

}  // namespace

FileSource::FileSource(FileSourceSettings options, FileSystem &file_system,
                       const VersionTagger &tagger, LogFunction log)
    : options_(std::move(options)),
      file_system_(file_system),
      tagger_(tagger),
      log_(std::move(log)) {
  std::lock_guard lock(mutex_);
  load_locked(true);
}

void FileSource::report_problem_locked(coffer_status status, const std::string &message) {
  if (message != problem_) log_(COFFER_LOG_ERROR, message);
  problem_ = message;
  problem_status_ = status;
}

void FileSource::clear_problem_locked() {
  if (!problem_.empty()) log_(COFFER_LOG_INFO, file() + " loads again");
  problem_.clear();
  problem_status_ = COFFER_STATUS_OK;
}

void FileSource::check_permissions_locked(const FileStatus &status, bool initial) {
  mode_t mode = status.mode & 0777;
  if ((mode & kGroupOrOthers) == 0) {
    if (!permission_problem_.empty())
      log_(COFFER_LOG_INFO, file() + " is private again (mode " + octal_mode(mode) + ")");
    permission_problem_.clear();
    return;
  }
  std::string message = file() + " has mode " + octal_mode(mode) + " (" + who_has_access(mode) +
                        "); a file holding secrets should be private to its owner (chmod 600 " +
                        file() + ")";
  if (options_.require_private) {
    message += "; it is refused because require_private is set";
    if (initial) throw Error(COFFER_STATUS_INVALID_CONFIG, message);
  }
  if (message != permission_problem_)
    log_(options_.require_private ? COFFER_LOG_ERROR : COFFER_LOG_WARNING, message);
  permission_problem_ = message;
}

void FileSource::deny_if_not_private_locked() const {
  if (options_.require_private && !permission_problem_.empty())
    throw Error(COFFER_STATUS_DENIED, permission_problem_);
}

void FileSource::adopt_locked(const Document &document, const FileStatus &status,
                              const std::array<unsigned char, 32> &digest, bool racy) {
  std::vector<std::string> names;
  std::unordered_map<std::string, Variable> variables;
  for (const Statement *statement : document.effective()) {
    names.push_back(statement->name);
    variables.emplace(
        statement->name,
        Variable{statement->value.clone(), tagger_.tag(statement->name, statement->value.view())});
  }
  names_ = std::move(names);
  variables_ = std::move(variables);
  loaded_status_ = status;
  loaded_digest_ = digest;
  racy_ = racy;
  failed_status_.reset();
}

bool FileSource::load_locked(bool initial) {
  const std::int64_t started = file_system_.now_ns();
  SecretBytes content;
  FileStatus status;
  if (int error = file_system_.read(options_.path, content, status)) {
    std::string message = "cannot read " + file() + ": " + FileSystem::describe(error);
    if (initial) throw Error(COFFER_STATUS_INVALID_CONFIG, message);
    report_problem_locked(
        status_for_read_error(error),
        message + "; still serving the " + entries_text(names_.size()) + " loaded before");
    return false;
  }
  // A change within the timestamp granularity of the read could leave every
  // time unchanged: such a file is compared by content on the next access.
  const bool racy = status.modified_ns + kTimestampGranularityNs > started ||
                    status.changed_ns + kTimestampGranularityNs > started;
  check_permissions_locked(status, initial);
  const auto digest = tagger_.content_digest(content.view());
  if (!initial && digest == loaded_digest_) {
    loaded_status_ = status;
    racy_ = racy;
    failed_status_.reset();
    clear_problem_locked();
    return true;
  }
  Document document;
  try {
    document = parse(content.view(), ParseOptions{options_.expand});
  } catch (const SyntaxError &error) {
    std::string message = file() + ": " + error.what();
    if (initial) throw Error(COFFER_STATUS_INVALID_CONFIG, message);
    failed_status_ = status;
    failed_racy_ = racy;
    report_problem_locked(
        COFFER_STATUS_DATA_ERROR,
        message + "; still serving the " + entries_text(names_.size()) + " loaded before");
    return false;
  }
  for (const Duplicate &duplicate : document.duplicates)
    log_(COFFER_LOG_WARNING, file() + ": line " + std::to_string(duplicate.line) + ": '" +
                                 duplicate.name + "' is defined again (before on line " +
                                 std::to_string(duplicate.previous_line) +
                                 "); the last definition wins");
  adopt_locked(document, status, digest, racy);
  clear_problem_locked();
  if (!initial) log_(COFFER_LOG_INFO, "reloaded " + file() + ": " + entries_text(names_.size()));
  return true;
}

void FileSource::refresh_locked() {
  FileStatus status;
  if (int error = file_system_.status(options_.path, status)) {
    report_problem_locked(status_for_read_error(error),
                          "cannot read " + file() + ": " + FileSystem::describe(error) +
                              "; still serving the " + entries_text(names_.size()) +
                              " loaded before");
    return;
  }
  if (!racy_ && status.same_file_and_times(loaded_status_)) {
    clear_problem_locked();
    check_permissions_locked(status, false);
    return;
  }
  if (failed_status_ && !failed_racy_ && status.same_file_and_times(*failed_status_)) return;
  load_locked(false);
}

Value FileSource::get(const std::string &name) {
  std::lock_guard lock(mutex_);
  refresh_locked();
  deny_if_not_private_locked();
  auto it = variables_.find(name);
  if (it == variables_.end()) {
    std::string message = name + " is not defined in " + file();
    if (!problem_.empty()) message += " (and the file cannot be reloaded: " + problem_ + ")";
    throw Error(COFFER_STATUS_NOT_FOUND, message);
  }
  return Value{it->second.value.clone(), it->second.version};
}

std::vector<NamedVersion> FileSource::list() {
  std::lock_guard lock(mutex_);
  refresh_locked();
  deny_if_not_private_locked();
  std::vector<NamedVersion> out;
  for (const std::string &name : names_) out.push_back({name, variables_.at(name).version});
  return out;
}

void FileSource::health() {
  std::lock_guard lock(mutex_);
  refresh_locked();
  deny_if_not_private_locked();
  if (!problem_.empty()) throw Error(problem_status_, problem_);
}

template <class Edit>
void FileSource::modify(Edit &&edit) {
  if (!options_.writable)
    throw Error(COFFER_STATUS_UNSUPPORTED,
                "this instance serves " + file() +
                    " read-only: set \"writable\": true in its config to allow put and remove");
  std::lock_guard lock(mutex_);
  // Through a symbolic link (which stays) only where the ownership rules let
  // the write follow it.
  const std::filesystem::path target = file_system_.resolve_for_writing(options_.path);
  auto held = file_system_.lock(target.parent_path());

  SecretBytes content;
  FileStatus status;
  if (int read_error = file_system_.read(target, content, status))
    throw Error(status_for_read_error(read_error),
                "cannot read " + target.string() + ": " + FileSystem::describe(read_error));
  if (options_.require_private && (status.mode & kGroupOrOthers) != 0) {
    check_permissions_locked(status, false);
    deny_if_not_private_locked();
  }
  Document document;
  try {
    document = parse(content.view(), ParseOptions{options_.expand});
  } catch (const SyntaxError &syntax) {
    throw Error(COFFER_STATUS_DATA_ERROR, "refusing to modify " + file() +
                                              ", which does not parse: " + syntax.what() +
                                              " (fix the file, then try again)");
  }
  std::optional<SecretBytes> updated = edit(content.view(), document);
  if (!updated) return;

  Document written;
  try {
    written = parse(updated->view(), ParseOptions{options_.expand});
  } catch (const SyntaxError &syntax) {
    throw Error(COFFER_STATUS_INTERNAL, "the rewritten " + file() + " would not parse (" +
                                            syntax.what() + "); nothing was written");
  }
  file_system_.replace(target, updated->view(), status);
  FileStatus after;
  if (file_system_.status(options_.path, after) != 0) after = FileStatus{};
  adopt_locked(written, after, tagger_.content_digest(updated->view()), true);
  clear_problem_locked();
  check_permissions_locked(after, false);
}

std::string FileSource::put(const std::string &name, const SecretBytes &value) {
  modify([&](std::string_view text, const Document &document) -> std::optional<SecretBytes> {
    const Statement *current = document.find(name);
    bool duplicated = false;
    for (const Duplicate &duplicate : document.duplicates) duplicated |= duplicate.name == name;
    if (current != nullptr && current->value == value && !duplicated) {
      // Nothing to write; still take the file as it is now.
      return std::nullopt;
    }
    SecretBytes quoted = quote_value(value.view());
    SecretBytes updated = set_entry(text, document, name, quoted.view());
    Document check = parse(updated.view(), ParseOptions{options_.expand});
    const Statement *readback = check.find(name);
    if (readback == nullptr || !(readback->value == value))
      throw Error(COFFER_STATUS_INVALID_ARGUMENT,
                  "the value for " + name + " cannot be written so that it reads back unchanged");
    return updated;
  });
  std::lock_guard lock(mutex_);
  // The file may have been unchanged (same value): make sure this instance
  // serves what is on disk now.
  refresh_locked();
  auto it = variables_.find(name);
  if (it == variables_.end())
    throw Error(COFFER_STATUS_INTERNAL, name + " was written but is not in " + file());
  return it->second.version;
}

void FileSource::remove(const std::string &name) {
  modify([&](std::string_view text, const Document &document) -> std::optional<SecretBytes> {
    if (document.find(name) == nullptr)
      throw Error(COFFER_STATUS_NOT_FOUND, name + " is not defined in " + file());
    return remove_entry(text, document, name);
  });
}

}  // namespace coffer::env_file
