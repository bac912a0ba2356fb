#include "crypto/aead.hpp"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <coffer/provider.hpp>

#include <strings.h>
#include <algorithm>
#include <array>
#include <climits>
#include <string_view>

namespace coffer::database {

using coffer::provider::Error;

std::string take_openssl_errors() {
  std::string text;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? "no detail from OpenSSL" : text;
}

namespace {

[[noreturn]] void fail(const char *what) {
  throw Error(COFFER_STATUS_INTERNAL, std::string(what) + ": " + take_openssl_errors());
}

constexpr std::string_view algorithm_name = "AES-256-GCM";

// Whether the provider's colon-separated name list holds AES-256-GCM.
bool names_aes_256_gcm(std::string_view names) {
  while (!names.empty()) {
    const auto end = std::min(names.find(':'), names.size());
    const auto name = names.substr(0, end);
    if (name.size() == algorithm_name.size() &&
        ::strncasecmp(name.data(), algorithm_name.data(), name.size()) == 0)
      return true;
    names.remove_prefix(std::min(end + 1, names.size()));
  }
  return false;
}

}  // namespace

// The fetched cipher (which keeps its provider loaded) and the provider's
// functions for it.
struct Aes256Gcm::Cipher {
  EVP_CIPHER *fetched = nullptr;
  const OSSL_PROVIDER *provider = nullptr;
  void *provider_context = nullptr;
  const OSSL_ALGORITHM *algorithms = nullptr;
  OSSL_FUNC_cipher_newctx_fn *newctx = nullptr;
  OSSL_FUNC_cipher_freectx_fn *freectx = nullptr;
  OSSL_FUNC_cipher_encrypt_init_fn *encrypt_init = nullptr;
  OSSL_FUNC_cipher_decrypt_init_fn *decrypt_init = nullptr;
  OSSL_FUNC_cipher_update_fn *update = nullptr;
  OSSL_FUNC_cipher_final_fn *final = nullptr;
  OSSL_FUNC_cipher_get_ctx_params_fn *get_ctx_params = nullptr;

  Cipher() {
    fetched = EVP_CIPHER_fetch(nullptr, algorithm_name.data(), nullptr);
    if (fetched == nullptr) fail("OpenSSL has no AES-256-GCM");
    provider = EVP_CIPHER_get0_provider(fetched);
    provider_context = OSSL_PROVIDER_get0_provider_ctx(provider);
    int no_cache = 0;
    algorithms = OSSL_PROVIDER_query_operation(provider, OSSL_OP_CIPHER, &no_cache);
    // The first implementation of that name: a provider lists one (the
    // default and FIPS providers do); whichever it is, the self-test in
    // Aes256Gcm() holds it to the specification, tag checks included. The
    // provider is the one the fetch chose, so its properties (fips=yes, say)
    // hold for it.
    const OSSL_DISPATCH *functions = nullptr;
    for (auto *algorithm = algorithms;
         algorithm != nullptr && algorithm->algorithm_names != nullptr; ++algorithm)
      if (names_aes_256_gcm(algorithm->algorithm_names)) {
        functions = algorithm->implementation;
        break;
      }
    for (; functions != nullptr && functions->function_id != 0; ++functions) {
      switch (functions->function_id) {
        case OSSL_FUNC_CIPHER_NEWCTX:
          newctx = OSSL_FUNC_cipher_newctx(functions);
          break;
        case OSSL_FUNC_CIPHER_FREECTX:
          freectx = OSSL_FUNC_cipher_freectx(functions);
          break;
        case OSSL_FUNC_CIPHER_ENCRYPT_INIT:
          encrypt_init = OSSL_FUNC_cipher_encrypt_init(functions);
          break;
        case OSSL_FUNC_CIPHER_DECRYPT_INIT:
          decrypt_init = OSSL_FUNC_cipher_decrypt_init(functions);
          break;
        case OSSL_FUNC_CIPHER_UPDATE:
          update = OSSL_FUNC_cipher_update(functions);
          break;
        case OSSL_FUNC_CIPHER_FINAL:
          final = OSSL_FUNC_cipher_final(functions);
          break;
        case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
          get_ctx_params = OSSL_FUNC_cipher_get_ctx_params(functions);
          break;
        default:
          break;
      }
    }
    if (newctx == nullptr || freectx == nullptr || encrypt_init == nullptr ||
        decrypt_init == nullptr || update == nullptr || final == nullptr ||
        get_ctx_params == nullptr) {
      std::string message = std::string("the OpenSSL provider '") +
                            OSSL_PROVIDER_get0_name(provider) +
                            "' does not offer the AES-256-GCM functions this store calls";
      release();
      throw Error(COFFER_STATUS_INTERNAL, message);
    }
  }
  ~Cipher() { release(); }
  Cipher(const Cipher &) = delete;
  Cipher &operator=(const Cipher &) = delete;

  void release() noexcept {
    if (algorithms != nullptr)
      OSSL_PROVIDER_unquery_operation(provider, OSSL_OP_CIPHER, algorithms);
    algorithms = nullptr;
    EVP_CIPHER_free(fetched);
    fetched = nullptr;
  }
};

namespace {

// One operation's provider context, freed when it goes: OpenSSL's AES-GCM
// wipes the key schedule and GCM state as it frees them.
class Operation {
 public:
  Operation(OSSL_FUNC_cipher_newctx_fn *make, OSSL_FUNC_cipher_freectx_fn *free, void *provider)
      : free_(free), context_(make(provider)) {
    if (context_ == nullptr) fail("AES-256-GCM: the provider made no context");
  }
  ~Operation() { free_(context_); }
  Operation(const Operation &) = delete;
  Operation &operator=(const Operation &) = delete;
  [[nodiscard]] void *get() const noexcept { return context_; }

 private:
  OSSL_FUNC_cipher_freectx_fn *free_;
  void *context_;
};

void check_key(ByteView key) {
  if (key.size() != Aes256Gcm::key_size)
    throw Error(COFFER_STATUS_INTERNAL, "AES-256-GCM needs a 32-byte key");
}

}  // namespace

Aes256Gcm::Aes256Gcm() : cipher_(std::make_unique<const Cipher>()) {
  // The GCM specification's test case 16 (McGrew and Viega), through the
  // functions found above.
  const auto key = from_hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  const auto nonce = from_hex("cafebabefacedbaddecaf888");
  const auto plain = from_hex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24"
      "49a6b525b16aedf5aa0de657ba637b39");
  const auto aad = from_hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const std::string_view expected =
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10568"
      "28838c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b";
  const Bytes sealed = seal(*key, *nonce, *aad, *plain);
  const auto opened = open(*key, *nonce, *aad, sealed);
  // And what must not open: an altered tag, altered associated data.
  Bytes bad_tag = sealed;
  bad_tag.back() ^= 0x01;
  Bytes bad_aad = *aad;
  bad_aad.front() ^= 0x01;
  if (to_hex(sealed) != expected || !opened ||
      !std::equal(opened->bytes().begin(), opened->bytes().end(), plain->begin(), plain->end()) ||
      open(*key, *nonce, *aad, bad_tag) || open(*key, *nonce, bad_aad, sealed))
    throw Error(COFFER_STATUS_INTERNAL, std::string("OpenSSL's AES-256-GCM from the provider '") +
                                            OSSL_PROVIDER_get0_name(cipher_->provider) +
                                            "' fails the GCM specification's test case 16");
}

Aes256Gcm::~Aes256Gcm() = default;

Bytes Aes256Gcm::seal(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext) const {
  check_key(key);
  if (nonce.size() != nonce_size)
    throw Error(COFFER_STATUS_INTERNAL, "AES-256-GCM needs a 12-byte nonce");
  const Cipher &cipher = *cipher_;
  Operation operation(cipher.newctx, cipher.freectx, cipher.provider_context);
  void *ctx = operation.get();
  if (cipher.encrypt_init(ctx, key.data(), key.size(), nonce.data(), nonce.size(), nullptr) != 1)
    fail("AES-256-GCM encryption setup failed");
  std::size_t length = 0;
  if (!aad.empty() && cipher.update(ctx, nullptr, &length, aad.size(), aad.data(), aad.size()) != 1)
    fail("AES-256-GCM failed on the associated data");
  Bytes out(plaintext.size() + tag_size);
  std::size_t written = 0;
  if (!plaintext.empty()) {
    if (cipher.update(ctx, out.data(), &length, plaintext.size(), plaintext.data(),
                      plaintext.size()) != 1)
      fail("AES-256-GCM encryption failed");
    written = length;
  }
  if (written > plaintext.size() ||
      cipher.final(ctx, out.data() + written, &length, plaintext.size() - written) != 1)
    fail("AES-256-GCM encryption failed");
  written += length;
  if (written != plaintext.size())
    throw Error(COFFER_STATUS_INTERNAL, "AES-256-GCM produced an unexpected length");
  OSSL_PARAM tag[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out.data() + written, tag_size),
      OSSL_PARAM_construct_end()};
  if (cipher.get_ctx_params(ctx, tag) != 1) fail("AES-256-GCM did not give a tag");
  return out;
}

std::optional<SecretBuffer> Aes256Gcm::open(ByteView key, ByteView nonce, ByteView aad,
                                            ByteView sealed) const {
  check_key(key);
  if (nonce.size() != nonce_size || sealed.size() < tag_size) return std::nullopt;
  const std::size_t text_size = sealed.size() - tag_size;
  const Cipher &cipher = *cipher_;
  Operation operation(cipher.newctx, cipher.freectx, cipher.provider_context);
  void *ctx = operation.get();
  // The expected tag goes in with the key and nonce; the provider copies it.
  std::array<unsigned char, tag_size> tag;
  std::copy(sealed.begin() + static_cast<std::ptrdiff_t>(text_size), sealed.end(), tag.begin());
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), tag.size()),
      OSSL_PARAM_construct_end()};
  if (cipher.decrypt_init(ctx, key.data(), key.size(), nonce.data(), nonce.size(), params) != 1)
    fail("AES-256-GCM decryption setup failed");
  std::size_t length = 0;
  if (!aad.empty() && cipher.update(ctx, nullptr, &length, aad.size(), aad.data(), aad.size()) != 1)
    fail("AES-256-GCM failed on the associated data");
  // Room for at least one byte, so that an empty plaintext still has a buffer to point at.
  SecretBuffer plain(text_size == 0 ? 1 : text_size);
  std::size_t written = 0;
  if (text_size > 0) {
    if (cipher.update(ctx, plain.data(), &length, plain.size(), sealed.data(), text_size) != 1)
      fail("AES-256-GCM decryption failed");
    written = length;
  }
  if (written > text_size ||
      cipher.final(ctx, plain.data() + written, &length, plain.size() - written) != 1) {
    ERR_clear_error();
    return std::nullopt;  // `plain` is wiped by its destructor
  }
  plain.truncate(text_size);
  return plain;
}

void fill_random(std::span<unsigned char> out) {
  if (out.empty()) return;
  if (out.size() > static_cast<std::size_t>(INT_MAX) ||
      RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
    fail("RAND_bytes failed");
}

Bytes random_bytes(std::size_t size) {
  Bytes out(size);
  fill_random(out);
  return out;
}

}  // namespace coffer::database
