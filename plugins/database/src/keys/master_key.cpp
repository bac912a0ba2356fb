#include "keys/master_key.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <coffer/provider.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "crypto/aead.hpp"
#include "keys/private_files.hpp"

namespace coffer::database {

using coffer::provider::Error;

std::string MasterKeySource::field_path() const {
  switch (kind) {
    case Kind::file:
      return field + ".file";
    case Kind::env:
      return field + ".env";
    case Kind::passphrase_env:
      return field + ".passphrase_env";
  }
  return field;
}

std::string MasterKeySource::describe() const {
  switch (kind) {
    case Kind::file:
      return "the file '" + path.string() + "'";
    case Kind::env:
      return "the environment variable " + variable;
    case Kind::passphrase_env:
      return "the passphrase in the environment variable " + variable;
  }
  return {};
}

namespace {

[[noreturn]] void invalid(const MasterKeySource &source, const std::string &what) {
  throw Error(COFFER_STATUS_INVALID_CONFIG, source.field_path() + ": " + what);
}

std::span<const unsigned char> trim_trailing_space(std::span<const unsigned char> text) {
  std::size_t size = text.size();
  while (size > 0 && (text[size - 1] == '\n' || text[size - 1] == '\r' || text[size - 1] == ' ' ||
                      text[size - 1] == '\t'))
    --size;
  return text.first(size);
}

int hex_digit(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<SecretBuffer> decode_hex_key(std::span<const unsigned char> text) {
  if (text.size() != 2 * master_key_size) return std::nullopt;
  SecretBuffer key(master_key_size);
  for (std::size_t i = 0; i < master_key_size; ++i) {
    int high = hex_digit(text[2 * i]);
    int low = hex_digit(text[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    key.data()[i] = static_cast<unsigned char>(high << 4 | low);
  }
  return key;
}

std::optional<SecretBuffer> decode_base64_key(std::span<const unsigned char> text) {
  // 32 bytes encode to 43 characters and one '=' of padding.
  if (text.size() != 44 || text[43] != '=' || text[42] == '=') return std::nullopt;
  SecretBuffer decoded(33);
  int size = EVP_DecodeBlock(decoded.data(), text.data(), static_cast<int>(text.size()));
  if (size != 33) return std::nullopt;
  decoded.truncate(master_key_size);
  return decoded;
}

// What to do about a key file that is not there, from what is there.
std::string missing_key_file_advice(const std::filesystem::path &path) {
  const std::filesystem::path directory = path.parent_path();
  const std::string file = "'" + path.string() + "'";
  const std::string folder = "'" + directory.string() + "'";
  std::string where;
  struct stat info {};
  if (::stat(directory.c_str(), &info) != 0) {
    int error = errno;
    where = error == ENOENT ? "; nor does its directory " + folder + " (mkdir -m 700 " + folder +
                                  " before restoring the file; `coffer db init` creates both)"
                            : "; its directory " + folder + " cannot be read by uid " +
                                  std::to_string(::geteuid()) + " (" + std::strerror(error) + ")";
  } else if (!S_ISDIR(info.st_mode)) {
    where = "; " + folder + " is not a directory";
  } else {
    where = " (its directory " + folder + " exists)";
  }
  return file + " does not exist" + where +
         ". If the store holds credentials, restore this master key file from its backup to " +
         file +
         " (a new key cannot open them); for a new store, `coffer db init` creates a "
         "new master key there";
}

}  // namespace

std::optional<SecretBuffer> decode_master_key(std::span<const unsigned char> content,
                                              bool allow_raw) {
  if (allow_raw && content.size() == master_key_size) return SecretBuffer(content);
  auto text = trim_trailing_space(content);
  if (auto key = decode_hex_key(text)) return key;
  if (auto key = decode_base64_key(text)) return key;
  return std::nullopt;
}

bool master_key_file_exists(const MasterKeySource &source) {
  struct stat info {};
  return ::lstat(source.path.c_str(), &info) == 0;
}

SecretBuffer load_master_key(const MasterKeySource &source) {
  if (source.kind == MasterKeySource::Kind::env) {
    const char *value = std::getenv(source.variable.c_str());
    if (value == nullptr || *value == '\0')
      invalid(source, "the environment variable " + source.variable + " is not set");
    auto key = decode_master_key(
        {reinterpret_cast<const unsigned char *>(value), std::strlen(value)}, false);
    if (!key)
      invalid(source, "the environment variable " + source.variable +
                          " does not hold a master key: expected 64 hex digits or 44 base64 "
                          "characters encoding 32 bytes (e.g. from `openssl rand -hex 32`)");
    return std::move(*key);
  }
  if (source.kind != MasterKeySource::Kind::file)
    throw Error(COFFER_STATUS_INTERNAL, "load_master_key called for a passphrase");

  const std::string name = "'" + source.path.string() + "'";
  struct stat link {};
  if (::lstat(source.path.c_str(), &link) != 0 && (errno == ENOENT || errno == ENOTDIR))
    invalid(source, missing_key_file_advice(source.path));
  try {
    check_private_files(source.path);
  } catch (const Error &error) {
    invalid(source, error.what());
  }
  int fd = ::open(source.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    int error = errno;
    if (error == ENOENT) invalid(source, missing_key_file_advice(source.path));
    invalid(source, "cannot open " + name + ": " + std::strerror(error));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) invalid(source, "cannot stat " + name + ": " + std::strerror(errno));
  if (!S_ISREG(info.st_mode)) invalid(source, name + " is not a regular file");
  const unsigned mode = info.st_mode & 07777;
  if (mode != 0600 && mode != 0400) {
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", mode);
    invalid(source, name + " has mode " + octal +
                        "; a master key file must have mode 0600 or 0400 (chmod 600 " + name + ")");
  }
  if (info.st_uid != ::geteuid())
    invalid(source, name + " is owned by uid " + std::to_string(info.st_uid) +
                        ", not by this process's user (uid " + std::to_string(::geteuid()) + ")");

  SecretBuffer content(128);
  std::size_t size = 0;
  while (size < content.size()) {
    ssize_t n = ::read(fd, content.data() + size, content.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) invalid(source, "cannot read " + name + ": " + std::strerror(errno));
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  content.truncate(size);
  auto key = decode_master_key(content.bytes(), true);
  if (!key)
    invalid(source, name + " holds " + std::to_string(size) +
                        " bytes that are not a master key: expected 32 raw bytes, 64 hex digits or "
                        "44 base64 characters");
  return std::move(*key);
}

SecretBuffer load_passphrase(const MasterKeySource &source) {
  const char *value = std::getenv(source.variable.c_str());
  if (value == nullptr || *value == '\0')
    invalid(source, "the environment variable " + source.variable + " is not set or is empty");
  return SecretBuffer({reinterpret_cast<const unsigned char *>(value), std::strlen(value)});
}

bool create_master_key_file(const MasterKeySource &source) {
  if (source.kind != MasterKeySource::Kind::file)
    throw Error(COFFER_STATUS_INTERNAL, "create_master_key_file called for a variable");
  if (master_key_file_exists(source)) return false;
  SecretBuffer key(master_key_size);
  fill_random(key.writable());
  return create_private_file(source.path, key.bytes());
}

}  // namespace coffer::database
