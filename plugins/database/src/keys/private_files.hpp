// Files that hold secrets or a store: checked under the ownership rules of
// <coffer/file_ownership.hpp> before they are opened or created by path,
// created private (0600, directories 0700) and, for secrets, written
// atomically (temporary file in the same directory, fsync, rename without
// replacing, fsync of the directory). Errors throw coffer::provider::Error
// naming the path; never the contents.
#ifndef COFFER_DATABASE_KEYS_PRIVATE_FILES_HPP
#define COFFER_DATABASE_KEYS_PRIVATE_FILES_HPP

#include <filesystem>
#include <span>
#include <string_view>

#include "crypto/bytes.hpp"

namespace coffer::database {

// Checks the directories on the way to `file` and the one that holds it,
// `file` itself when it exists, and each companion file that exists (`file`
// with a suffix such as "-wal"; never a symbolic link). Links on the way
// (and `file` as a link) are followed as the rules allow, and companions are
// looked for beside the file a link names. Throws Error(DENIED) naming the
// path, the rule and the fix.
void check_private_files(const std::filesystem::path &file,
                         std::span<const std::string_view> companion_suffixes = {});

// Creates `directory` and its missing parents with mode 0700. Existing
// directories are left as they are.
void create_private_directories(const std::filesystem::path &directory);

// Writes `content` to a new file at `path` (mode 0600) atomically, after
// check_private_files(path). Returns
// false, writing nothing, when `path` already exists.
bool create_private_file(const std::filesystem::path &path, ByteView content);

// Creates an empty file with mode 0600 unless `path` exists, after
// check_private_files(path, companion_suffixes); returns whether it created one.
bool create_empty_private_file(const std::filesystem::path &path,
                               std::span<const std::string_view> companion_suffixes = {});

}  // namespace coffer::database

#endif  // COFFER_DATABASE_KEYS_PRIVATE_FILES_HPP
