#include "encoding.hpp"

#include <openssl/evp.h>

namespace coffer::emulator {

std::string base64_encode(std::string_view data, bool url_safe, bool pad) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                reinterpret_cast<const unsigned char *>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  if (url_safe) {
    for (auto &c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  if (!pad) {
    while (!out.empty() && out.back() == '=') out.pop_back();
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string padded(text);
  for (auto &c : padded) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (padded.size() % 4 != 0) padded.push_back('=');
  std::string out(padded.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                reinterpret_cast<const unsigned char *>(padded.data()),
                                static_cast<int>(padded.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n));
  // EVP_DecodeBlock counts the padding as zero bytes: drop them.
  std::size_t padding = 0;
  for (auto it = padded.rbegin(); it != padded.rend() && *it == '='; ++it) ++padding;
  out.resize(out.size() - padding);
  return out;
}

}  // namespace coffer::emulator
