#include "token_auth.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "peer_credentials.hpp"

namespace coffer::agent {
namespace {

constexpr std::size_t kMaxTokenFile = 4096;

bool is_policy_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z'))) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-'))
      return false;
  return true;
}

[[noreturn]] void refuse(const std::filesystem::path &file, const std::string &why) {
  throw Error(Code::invalid_config, "token file " + file.string() + ": " + why);
}

}  // namespace

Secret read_private_file(const std::filesystem::path &file, const PrivateFileRules &rules) {
  auto refuse = [&](const std::string &why) {
    throw Error(Code::invalid_config, std::string(rules.what) + " " + file.string() + ": " + why);
  };
  std::string limit = rules.max_bytes % 1024 == 0 ? std::to_string(rules.max_bytes / 1024) + " KiB"
                                                  : std::to_string(rules.max_bytes) + " bytes";
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) refuse(std::string("cannot be opened: ") + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    ::close(fd);
    refuse("cannot be examined");
  }
  std::string problem;
  if (!S_ISREG(info.st_mode)) {
    problem = "is not a regular file";
  } else if (info.st_uid != ::geteuid() && info.st_uid != 0) {
    problem = "is owned by uid " + std::to_string(info.st_uid) + ", not by the agent's user (uid " +
              std::to_string(::geteuid()) + ") or root; chown it";
  } else if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    problem = std::string("has mode ") + mode +
              ": its group or others may use it; run 'chmod 600 " + file.string() + "'";
  } else if (info.st_size > static_cast<off_t>(rules.max_bytes)) {
    problem = "is larger than " + limit;
  }
  if (!problem.empty()) {
    ::close(fd);
    refuse(problem);
  }
  std::vector<unsigned char> bytes(rules.max_bytes + 1);
  std::size_t size = 0;
  for (;;) {
    ssize_t n = ::read(fd, bytes.data() + size, bytes.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size += static_cast<std::size_t>(n);
    if (size == bytes.size()) break;
  }
  ::close(fd);
  if (size > rules.max_bytes) {
    OPENSSL_cleanse(bytes.data(), bytes.size());
    refuse("is larger than " + limit);
  }
  while (size > 0 && (bytes[size - 1] == '\n' || bytes[size - 1] == '\r' ||
                      bytes[size - 1] == ' ' || bytes[size - 1] == '\t'))
    --size;
  Secret content = Secret::copy_of(std::span<const unsigned char>(bytes.data(), size));
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (content.empty()) refuse("is empty");
  return content;
}

Secret read_token_file(const std::filesystem::path &file) {
  return read_private_file(file, {.what = "token file", .max_bytes = kMaxTokenFile});
}

TokenGrant parse_token_grant(std::string_view argument) {
  TokenGrant grant;
  auto equals = argument.find('=');
  if (equals != std::string_view::npos &&
      argument.substr(0, equals).find('/') == std::string_view::npos) {
    grant.client = std::string(argument.substr(0, equals));
    argument.remove_prefix(equals + 1);
    if (!is_policy_name(grant.client))
      throw Error(Code::invalid_argument,
                  "--token-file: the client before '=' must be a policy client name (letters, "
                  "digits, '_' and '-', starting with a letter)");
  }
  if (argument.empty()) throw Error(Code::invalid_argument, "--token-file: no file named");
  grant.file = std::filesystem::path(argument);
  return grant;
}

TokenDigest token_digest(std::string_view token) {
  TokenDigest digest{};
  SHA256(reinterpret_cast<const unsigned char *>(token.data()), token.size(), digest.data());
  return digest;
}

std::optional<std::size_t> matching_token(std::span<const TokenDigest> digests,
                                          std::string_view presented) {
  if (presented.empty()) return std::nullopt;
  TokenDigest digest = token_digest(presented);
  std::optional<std::size_t> match;
  for (std::size_t i = 0; i < digests.size(); ++i) {
    bool equal = CRYPTO_memcmp(digests[i].data(), digest.data(), digest.size()) == 0;
    if (equal) match = i;
  }
  OPENSSL_cleanse(digest.data(), digest.size());
  return match;
}

TokenTable TokenTable::load(const std::vector<TokenGrant> &grants) {
  TokenTable table;
  for (const auto &grant : grants) {
    Secret token = read_token_file(grant.file);
    if (matching_token(table.digests_, token.reveal()))
      refuse(grant.file,
             "holds the same token as another --token-file; each identity needs its own");
    table.digests_.push_back(token_digest(token.reveal()));
    if (grant.client.empty()) {
      table.peers_.push_back(own_identity());
    } else {
      Peer peer;
      peer.client = grant.client;
      table.peers_.push_back(std::move(peer));
    }
  }
  return table;
}

std::optional<Peer> TokenTable::identify(std::string_view presented) const {
  auto match = matching_token(digests_, presented);
  if (!match) return std::nullopt;
  return peers_[*match];
}

std::string_view presented_token(std::string_view dapr_api_token, std::string_view authorization) {
  if (!dapr_api_token.empty()) return dapr_api_token;
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size()) {
    bool scheme = true;
    for (std::size_t i = 0; i + 1 < kBearer.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
          std::tolower(static_cast<unsigned char>(kBearer[i])))
        scheme = false;
    if (scheme && authorization[kBearer.size() - 1] == ' ')
      return authorization.substr(kBearer.size());
  }
  return {};
}

}  // namespace coffer::agent
