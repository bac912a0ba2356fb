#include "version_tag.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <coffer/provider.hpp>
#include <coffer/provider_helpers.hpp>

#include <cstdint>
#include <memory>

namespace coffer::env_file {
namespace {

using coffer::provider::Error;

struct MacDeleter {
  void operator()(EVP_MAC_CTX *context) const { EVP_MAC_CTX_free(context); }
};

void update(EVP_MAC_CTX *context, std::string_view data) {
  if (EVP_MAC_update(context, reinterpret_cast<const unsigned char *>(data.data()), data.size()) !=
      1)
    throw Error(COFFER_STATUS_INTERNAL, "HMAC-SHA256 update failed");
}

// Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
void update_field(EVP_MAC_CTX *context, std::string_view data) {
  std::uint64_t length = data.size();
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(length >> (8 * (7 - i)));
  update(context, std::string_view(reinterpret_cast<const char *>(bytes), sizeof bytes));
  update(context, data);
}

}  // namespace

VersionTagger::VersionTagger() {
  unsigned char key[kKeySize];
  if (RAND_bytes(key, static_cast<int>(sizeof key)) != 1)
    throw Error(COFFER_STATUS_INTERNAL, "the OpenSSL random generator failed");
  key_ = coffer::provider::SecretBytes(key, sizeof key);
  OPENSSL_cleanse(key, sizeof key);
  mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac_ == nullptr) throw Error(COFFER_STATUS_INTERNAL, "OpenSSL has no HMAC");
}

VersionTagger::~VersionTagger() {
  EVP_MAC_free(mac_);
}

std::array<unsigned char, 32> VersionTagger::mac(std::string_view domain, std::string_view first,
                                                 std::string_view second) const {
  std::unique_ptr<EVP_MAC_CTX, MacDeleter> context(EVP_MAC_CTX_new(mac_));
  char digest[] = "SHA256";
  OSSL_PARAM parameters[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                             OSSL_PARAM_END};
  if (!context || EVP_MAC_init(context.get(), key_.data(), key_.size(), parameters) != 1)
    throw Error(COFFER_STATUS_INTERNAL, "HMAC-SHA256 initialisation failed");
  update_field(context.get(), domain);
  update_field(context.get(), first);
  update_field(context.get(), second);
  std::array<unsigned char, 32> out{};
  std::size_t size = 0;
  if (EVP_MAC_final(context.get(), out.data(), &size, out.size()) != 1 || size != out.size())
    throw Error(COFFER_STATUS_INTERNAL, "HMAC-SHA256 failed");
  return out;
}

std::string VersionTagger::tag(std::string_view name, std::string_view value) const {
  std::array<unsigned char, 32> digest = mac("coffer env_file version", name, value);
  return coffer::provider::to_hex(std::span<const unsigned char>(digest.data(), 16));
}

std::array<unsigned char, 32> VersionTagger::content_digest(std::string_view content) const {
  return mac("coffer env_file content", content, {});
}

}  // namespace coffer::env_file
