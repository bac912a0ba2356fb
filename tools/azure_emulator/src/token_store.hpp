// Access tokens the emulator issued (from the token endpoint or IMDS): random
// opaque strings, each with its audience and expiry. Key Vault accepts only
// these, and only before they expire. Not thread-safe.
#ifndef COFFER_AZURE_EMULATOR_TOKEN_STORE_HPP
#define COFFER_AZURE_EMULATOR_TOKEN_STORE_HPP

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace coffer::emulator {

using Clock = std::chrono::system_clock;

struct IssuedToken {
  std::string audience;  // resource without "/.default" or trailing slash
  Clock::time_point expires;
};

enum class TokenCheck { valid, missing, unknown, expired, wrong_audience };

class TokenStore {
 public:
  // A new token valid for lifetime; already_expired issues one that Key Vault
  // refuses as expired from the start (a fault).
  std::string issue(const std::string &audience, std::chrono::seconds lifetime,
                    bool already_expired);
  // Checks an Authorization header value ("Bearer TOKEN").
  TokenCheck check(std::string_view authorization, const std::string &expected_audience,
                   std::string *found_audience) const;
  [[nodiscard]] std::uint64_t issued() const { return issued_; }
  // The tokens that have not expired (for tests that look for them).
  [[nodiscard]] std::vector<std::string> unexpired() const;

 private:
  std::unordered_map<std::string, IssuedToken> tokens_;
  std::uint64_t issued_ = 0;
};

// "https://vault.azure.net/" -> "https://vault.azure.net" (lower case host part kept as given).
std::string normalize_resource(std::string_view resource);
// Random bytes as unpadded base64url.
std::string random_token(std::size_t bytes);
// A random UUID string (8-4-4-4-12).
std::string random_uuid();

}  // namespace coffer::emulator

#endif
