// API tokens for the agent's TCP listener: each token is read from a file
// that only the agent's user (or root) owns and only its owner may read
// (0600 or 0400), and stands for one identity: the agent's own user, or a
// policy client ("clients" in the policy).
//
// Only SHA-256 digests of the tokens are kept; a presented token is digested
// and compared with every digest in time that depends neither on where the
// tokens differ nor on which one matches. Tokens are never logged.
//
// Threading: const methods may be called from many threads at once.
#ifndef COFFER_AGENT_TOKEN_AUTH_HPP
#define COFFER_AGENT_TOKEN_AUTH_HPP

#include <coffer/store.hpp>

#include <array>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::agent {

// One --token-file: [CLIENT=]FILE.
struct TokenGrant {
  std::string client;  // a policy client; empty: the agent's own user
  std::filesystem::path file;
};

// Parses "[CLIENT=]FILE". Throws Error(invalid_argument) for an empty file
// name or a client name that is not a policy name (letters, digits, '_',
// '-', starting with a letter).
TokenGrant parse_token_grant(std::string_view argument);

using TokenDigest = std::array<unsigned char, 32>;

// The SHA-256 digest of a token.
TokenDigest token_digest(std::string_view token);

// The position in `digests` of the digest `presented` has, or nullopt
// (always for an empty token). Compares with every digest, in time that
// depends neither on where they differ nor on which one matches; the
// presented token's digest is wiped.
std::optional<std::size_t> matching_token(std::span<const TokenDigest> digests,
                                          std::string_view presented);

class TokenTable {
 public:
  TokenTable() = default;
  // Reads every grant's file. Throws Error(invalid_config) naming the file
  // and the rule it breaks (not a regular file, owned by another user,
  // readable or writable by group or others, empty, larger than 4 KiB, the
  // same token as another grant) and the fix.
  static TokenTable load(const std::vector<TokenGrant> &grants);

  [[nodiscard]] bool empty() const noexcept { return digests_.empty(); }
  // The identity the token stands for; nullopt when it matches none.
  [[nodiscard]] std::optional<Peer> identify(std::string_view presented) const;

 private:
  std::vector<TokenDigest> digests_;
  std::vector<Peer> peers_;  // of each digest
};

// How a private file (a token, a TLS key) is named in errors and how large
// it may be.
struct PrivateFileRules {
  std::string_view what;  // "token file", "--admin-tls-key": opens each message
  std::size_t max_bytes;
};

// Reads a file that only the agent's user (or root) owns and only its owner
// may read (0600 or 0400): a regular file, at most `rules.max_bytes`, not
// empty. Returns the content less trailing white space, in secret memory;
// the read buffer is wiped. Throws Error(invalid_config) naming the file,
// the rule it breaks and the fix.
Secret read_private_file(const std::filesystem::path &file, const PrivateFileRules &rules);

// Reads a token file under the rules TokenTable::load states: the content
// less trailing white space, in secret memory. Throws Error(invalid_config)
// naming the file, the rule it breaks and the fix.
Secret read_token_file(const std::filesystem::path &file);

// The token a request presents: the `dapr-api-token` header, else an
// `Authorization: Bearer` header; empty when neither.
std::string_view presented_token(std::string_view dapr_api_token, std::string_view authorization);

}  // namespace coffer::agent

#endif  // COFFER_AGENT_TOKEN_AUTH_HPP
