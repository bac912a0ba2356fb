// Where the master key comes from, and reading it.
//
// A master key is 32 bytes from a file or an environment variable, or is
// derived with scrypt from a passphrase in an environment variable (the scrypt
// parameters and salt are kept with the store; see Keyring). Nothing of the
// master key is ever written to the store.
//
// Files must be regular files with mode 0600 or 0400 owned by the process's
// effective user. A file holds 32 raw bytes, 64 hex digits or 44 base64
// characters (a trailing newline is allowed); a variable holds 64 hex digits
// or 44 base64 characters. Errors throw coffer::provider::Error
// (INVALID_CONFIG) naming the policy field and the file or variable, never the
// contents. Thread-safe.
#ifndef COFFER_DATABASE_KEYS_MASTER_KEY_HPP
#define COFFER_DATABASE_KEYS_MASTER_KEY_HPP

#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "crypto/secret_buffer.hpp"

namespace coffer::database {

inline constexpr std::size_t master_key_size = 32;

struct MasterKeySource {
  enum class Kind { file, env, passphrase_env };
  Kind kind = Kind::file;
  std::filesystem::path path;  // Kind::file: resolved against the policy's directory
  std::string variable;        // Kind::env and Kind::passphrase_env
  std::string field;           // the policy field, for messages: "master_key"

  [[nodiscard]] bool is_passphrase() const noexcept { return kind == Kind::passphrase_env; }
  // "master_key.file" etc.
  [[nodiscard]] std::string field_path() const;
  // "the file '/etc/x.key'", "the environment variable X", ...
  [[nodiscard]] std::string describe() const;
};

// Reads a 32-byte key (Kind::file or Kind::env).
[[nodiscard]] SecretBuffer load_master_key(const MasterKeySource &source);
// Reads the passphrase (Kind::passphrase_env); refuses an empty one.
[[nodiscard]] SecretBuffer load_passphrase(const MasterKeySource &source);
// Kind::file only: whether the file exists (any type, any mode).
[[nodiscard]] bool master_key_file_exists(const MasterKeySource &source);
// Kind::file only: writes 32 random bytes to a new file (0600, atomically)
// unless one exists. Returns whether it created the file.
bool create_master_key_file(const MasterKeySource &source);
// Decodes the text or raw forms accepted in files; std::nullopt if none fits.
[[nodiscard]] std::optional<SecretBuffer> decode_master_key(std::span<const unsigned char> content,
                                                            bool allow_raw);

}  // namespace coffer::database

#endif  // COFFER_DATABASE_KEYS_MASTER_KEY_HPP
