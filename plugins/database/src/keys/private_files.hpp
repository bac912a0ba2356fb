// Files that hold secrets or a store: created private (0600, directories
// 0700) and, for secrets, written atomically (temporary file in the same
// directory, fsync, rename without replacing, fsync of the directory).
// Errors throw coffer::provider::Error naming the path; never the contents.
#ifndef COFFER_DATABASE_KEYS_PRIVATE_FILES_HPP
#define COFFER_DATABASE_KEYS_PRIVATE_FILES_HPP

#include <filesystem>

#include "crypto/bytes.hpp"

namespace coffer::database {

// Creates `directory` and its missing parents with mode 0700. Existing
// directories are left as they are.
void create_private_directories(const std::filesystem::path &directory);

// Writes `content` to a new file at `path` (mode 0600) atomically. Returns
// false, writing nothing, when `path` already exists.
bool create_private_file(const std::filesystem::path &path, ByteView content);

// Creates an empty file with mode 0600 unless `path` exists; returns whether
// it created one.
bool create_empty_private_file(const std::filesystem::path &path);

}  // namespace coffer::database

#endif  // COFFER_DATABASE_KEYS_PRIVATE_FILES_HPP
