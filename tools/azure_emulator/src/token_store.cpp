#include "token_store.hpp"

#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

#include "http_message.hpp"

namespace coffer::emulator {

namespace {

std::vector<unsigned char> random_bytes(std::size_t count) {
  std::vector<unsigned char> bytes(count);
  if (RAND_bytes(bytes.data(), static_cast<int>(count)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return bytes;
}

}  // namespace

std::string normalize_resource(std::string_view resource) {
  while (!resource.empty() && resource.back() == '/') resource.remove_suffix(1);
  return lowercase(resource);
}

std::string random_token(std::size_t count) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const auto bytes = random_bytes(count);
  std::string out;
  std::uint32_t bits = 0;
  int held = 0;
  for (const unsigned char b : bytes) {
    bits = (bits << 8) | b;
    held += 8;
    while (held >= 6) {
      held -= 6;
      out.push_back(kAlphabet[(bits >> held) & 0x3F]);
    }
  }
  if (held > 0) out.push_back(kAlphabet[(bits << (6 - held)) & 0x3F]);
  return out;
}

std::string random_uuid() {
  auto bytes = random_bytes(16);
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xF]);
  }
  return out;
}

std::string TokenStore::issue(const std::string &audience, std::chrono::seconds lifetime,
                              bool already_expired) {
  const auto now = Clock::now();
  // Drop tokens that expired long ago, so a long run does not grow forever.
  if (tokens_.size() > 10000) {
    std::erase_if(tokens_, [&](const auto &entry) {
      return entry.second.expires + std::chrono::hours(1) < now;
    });
  }
  std::string token = random_token(48);
  tokens_[token] = IssuedToken{normalize_resource(audience),
                               already_expired ? now - std::chrono::seconds(1) : now + lifetime};
  ++issued_;
  return token;
}

std::vector<std::string> TokenStore::unexpired() const {
  const auto now = Clock::now();
  std::vector<std::string> out;
  for (const auto &[token, issued] : tokens_)
    if (issued.expires > now) out.push_back(token);
  return out;
}

TokenCheck TokenStore::check(std::string_view authorization, const std::string &expected_audience,
                             std::string *found_audience) const {
  const auto space = authorization.find(' ');
  if (authorization.empty() || space == std::string_view::npos ||
      !iequals(authorization.substr(0, space), "Bearer")) {
    return TokenCheck::missing;
  }
  const std::string token = trim(authorization.substr(space + 1));
  if (token.empty()) return TokenCheck::missing;
  const auto it = tokens_.find(token);
  if (it == tokens_.end()) return TokenCheck::unknown;
  if (it->second.expires <= Clock::now()) return TokenCheck::expired;
  if (it->second.audience != normalize_resource(expected_audience)) {
    if (found_audience != nullptr) *found_audience = it->second.audience;
    return TokenCheck::wrong_audience;
  }
  return TokenCheck::valid;
}

}  // namespace coffer::emulator
