// Replacing a file's content so that a reader sees the old content or the new,
// never a mix, and the new content survives a crash once the call returns.
// Keeps no state: calls may run on many threads at once (for the same file,
// the last rename wins).
#ifndef COFFER_CLI_ATOMIC_FILE_HPP
#define COFFER_CLI_ATOMIC_FILE_HPP

#include <filesystem>
#include <string_view>

namespace coffer::cli {

// Replaces the regular file `path` with `text` so that a reader sees the old
// content or the new, never a mix: a temporary file in the same directory
// (created O_CREAT|O_EXCL) gets the permission bits of `path` and, when the
// process may, its owner and group; it is written, fsynced and renamed over
// `path`, then the directory is fsynced. Blocks on the file system. Throws
// std::runtime_error naming the file when `path` is a symbolic link (e.g. a
// Kubernetes ConfigMap mount, where the edit belongs in the ConfigMap), is not
// a regular file, or any step fails; the temporary file is removed then and
// `path` is left as it was.
void replace_file_atomically(const std::filesystem::path &path, std::string_view text);

}  // namespace coffer::cli

#endif  // COFFER_CLI_ATOMIC_FILE_HPP
