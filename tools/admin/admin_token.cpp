#include "admin_token.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <coffer/error.hpp>

#include <algorithm>
#include <cctype>

#include "token_auth.hpp"

namespace coffer::admin {

unsigned token_bits(std::string_view token) noexcept {
  bool hex = std::all_of(token.begin(), token.end(),
                         [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
  return static_cast<unsigned>(token.size()) * (hex ? 4u : 6u);
}

AdminToken AdminToken::load(const std::filesystem::path &file, std::string_view option) {
  Secret token = agent::read_token_file(file);
  std::string_view text(reinterpret_cast<const char *>(token.bytes().data()), token.size());
  if (token_bits(text) < 128)
    throw Error(Code::invalid_config,
                std::string(option) + " " + file.string() +
                    ": the token is shorter than 128 bits (" + std::to_string(text.size()) +
                    " characters); write a longer one, e.g. 'openssl rand -hex 32 > " +
                    file.string() + "'");
  AdminToken out;
  SHA256(token.bytes().data(), token.size(), out.digest_.data());
  return out;
}

bool AdminToken::matches(std::string_view presented) const noexcept {
  std::array<unsigned char, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char *>(presented.data()), presented.size(),
         digest.data());
  bool equal = CRYPTO_memcmp(digest.data(), digest_.data(), digest.size()) == 0;
  OPENSSL_cleanse(digest.data(), digest.size());
  return equal && !presented.empty();
}

}  // namespace coffer::admin
