// The database provider's crypto layer: known answers for AES-256-GCM (GCM
// specification test cases) and scrypt (RFC 7914), the record and data-key
// envelope (AAD binding, tamper detection) and a frozen record format.
#define BOOST_TEST_MODULE database_crypto
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <set>
#include <thread>

#include <coffer/provider.hpp>

#include "crypto/aead.hpp"
#include "crypto/aead_key.hpp"
#include "crypto/envelope.hpp"
#include "crypto/scrypt.hpp"
#include "memory_maps.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

using namespace coffer::database;

namespace {

Bytes hex(std::string_view text) {
  auto bytes = from_hex(text);
  BOOST_REQUIRE(bytes.has_value());
  return *bytes;
}

std::string text_of(const SecretBuffer &buffer) {
  return std::string(buffer.view());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(aes_256_gcm)

// McGrew and Viega, "The Galois/Counter Mode of Operation", test cases 13, 14 and 16.
BOOST_AUTO_TEST_CASE(gcm_spec_test_case_13_empty) {
  Aes256Gcm aead;
  Bytes key(32, 0), nonce(12, 0);
  Bytes sealed = aead.seal(key, nonce, {}, {});
  BOOST_TEST(to_hex(sealed) == "530f8afbc74536b9a963b4f1c4cb738b");
  auto opened = aead.open(key, nonce, {}, sealed);
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST(opened->size() == 0u);
}

BOOST_AUTO_TEST_CASE(gcm_spec_test_case_14_one_block) {
  Aes256Gcm aead;
  Bytes key(32, 0), nonce(12, 0), plain(16, 0);
  Bytes sealed = aead.seal(key, nonce, {}, plain);
  BOOST_TEST(to_hex(sealed) ==
             "cea7403d4d606b6e074ec5d3baf39d18"
             "d0d1c8a799996bf0265b98b5d48ab919");
}

BOOST_AUTO_TEST_CASE(gcm_spec_test_case_16_with_aad) {
  Aes256Gcm aead;
  Bytes key = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  Bytes nonce = hex("cafebabefacedbaddecaf888");
  Bytes plain = hex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6"
      "b525b16aedf5aa0de657ba637b39");
  Bytes aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  Bytes sealed = aead.seal(key, nonce, aad, plain);
  BOOST_TEST(
      to_hex(sealed) ==
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10"
      "56828838c5f61e6393ba7a0abcc9f662"
      "76fc6ece0f4e1768cddf8853bb2d551b");
  auto opened = aead.open(key, nonce, aad, sealed);
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST(to_hex(opened->bytes()) == to_hex(plain));
  // The same ciphertext under other associated data must not open.
  Bytes other_aad = aad;
  other_aad.back() ^= 1;
  BOOST_TEST(!aead.open(key, nonce, other_aad, sealed).has_value());
}

BOOST_AUTO_TEST_CASE(every_bit_of_a_sealed_value_is_authenticated) {
  Aes256Gcm aead;
  Bytes key = random_bytes(32), nonce = random_bytes(12), aad = random_bytes(20);
  Bytes sealed = aead.seal(key, nonce, aad, as_bytes("a secret value"));
  for (std::size_t bit = 0; bit < sealed.size() * 8; ++bit) {
    Bytes altered = sealed;
    altered[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
    BOOST_TEST(!aead.open(key, nonce, aad, altered).has_value(), "ciphertext bit " << bit);
  }
  for (std::size_t bit = 0; bit < nonce.size() * 8; ++bit) {
    Bytes altered = nonce;
    altered[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
    BOOST_TEST(!aead.open(key, altered, aad, sealed).has_value(), "nonce bit " << bit);
  }
  // Truncated (no full tag) and wrong key.
  BOOST_TEST(!aead.open(key, nonce, aad, Bytes(sealed.begin(), sealed.begin() + 10)).has_value());
  BOOST_TEST(!aead.open(random_bytes(32), nonce, aad, sealed).has_value());
  // A nonce of another size opens nothing; a key of another size is a bug.
  BOOST_TEST(!aead.open(key, Bytes(nonce.begin(), nonce.end() - 1), aad, sealed).has_value());
  BOOST_CHECK_THROW((void)aead.open(Bytes(16, 1), nonce, aad, sealed), coffer::provider::Error);
  BOOST_CHECK_THROW((void)aead.seal(key, Bytes(16, 1), aad, sealed), coffer::provider::Error);
}

// Aes256Gcm calls the provider's functions without EVP_CIPHER_CTX: what it
// seals, EVP opens, and the other way round, for every length of value and
// associated data across two blocks (partial blocks, empty ones).
BOOST_AUTO_TEST_CASE(agrees_with_openssl_evp_for_every_length) {
  Aes256Gcm aead;
  EVP_CIPHER *cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  BOOST_REQUIRE(cipher != nullptr);
  auto evp = [&](bool encrypt, const Bytes &key, const Bytes &nonce, const Bytes &aad,
                 const Bytes &in, unsigned char *tag) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    Bytes out(in.size() + 1);
    int length = 0, more = 0;
    bool ok =
        EVP_CipherInit_ex2(ctx, cipher, key.data(), nonce.data(), encrypt, nullptr) == 1 &&
        (encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1) &&
        EVP_CipherUpdate(ctx, nullptr, &length, aad.data(), static_cast<int>(aad.size())) == 1 &&
        EVP_CipherUpdate(ctx, out.data(), &length, in.data(), static_cast<int>(in.size())) == 1 &&
        EVP_CipherFinal_ex(ctx, out.data() + length, &more) == 1 &&
        (!encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1);
    EVP_CIPHER_CTX_free(ctx);
    out.resize(static_cast<std::size_t>(length + more));
    return ok ? std::optional<Bytes>(out) : std::nullopt;
  };
  for (std::size_t size = 0; size <= 33; ++size)
    for (std::size_t aad_size : {0u, 1u, 15u, 16u, 17u, 70u}) {
      Bytes key = random_bytes(32), nonce = random_bytes(12), aad = random_bytes(aad_size);
      Bytes plain = random_bytes(size);
      // Ours seals; EVP opens.
      Bytes sealed = aead.seal(key, nonce, aad, plain);
      BOOST_REQUIRE(sealed.size() == size + 16);
      Bytes tag(sealed.end() - 16, sealed.end());
      auto opened =
          evp(false, key, nonce, aad, Bytes(sealed.begin(), sealed.end() - 16), tag.data());
      BOOST_TEST((opened && *opened == plain), "EVP opens ours, size " << size << "/" << aad_size);
      // EVP seals; ours opens, and refuses a flipped tag.
      unsigned char evp_tag[16];
      auto evp_sealed = evp(true, key, nonce, aad, plain, evp_tag);
      BOOST_REQUIRE(evp_sealed.has_value());
      evp_sealed->insert(evp_sealed->end(), evp_tag, evp_tag + 16);
      BOOST_TEST(to_hex(*evp_sealed) == to_hex(sealed));
      auto ours = aead.open(key, nonce, aad, *evp_sealed);
      BOOST_TEST((ours && to_hex(ours->bytes()) == to_hex(plain)),
                 "ours opens EVP's, size " << size << "/" << aad_size);
      evp_sealed->back() ^= 0x80;
      BOOST_TEST(!aead.open(key, nonce, aad, *evp_sealed).has_value());
    }
  EVP_CIPHER_free(cipher);
}

BOOST_AUTO_TEST_CASE(random_nonces_differ) {
  std::set<Bytes> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(random_bytes(12));
  BOOST_TEST(seen.size() == 1000u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(scrypt_kdf)

// RFC 7914, section 12.
BOOST_AUTO_TEST_CASE(rfc7914_vector_1) {
  auto out = scrypt({}, {}, {16, 1, 1}, 64);
  BOOST_TEST(
      to_hex(out.bytes()) ==
      "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a"
      "0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
}

BOOST_AUTO_TEST_CASE(rfc7914_vector_2) {
  auto out = scrypt(as_bytes("password"), as_bytes("NaCl"), {1024, 8, 16}, 64);
  BOOST_TEST(
      to_hex(out.bytes()) ==
      "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff10927"
      "9d9830dac727afb94a83ee6d8360cbdfa2cc0640");
}

BOOST_AUTO_TEST_CASE(rfc7914_vector_3) {
  auto out = scrypt(as_bytes("pleaseletmein"), as_bytes("SodiumChloride"), {16384, 8, 1}, 64);
  BOOST_TEST(
      to_hex(out.bytes()) ==
      "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705"
      "242a9af9e61e85dc0d651e40dfcf017b45575887");
}

// N = 2^15 with r = 8 needs 32 MiB + a little: more than OpenSSL's legacy
// default maxmem of 32 MB, so this fails unless maxmem is passed.
BOOST_AUTO_TEST_CASE(minimum_master_key_cost_works_with_explicit_maxmem) {
  auto out = scrypt(as_bytes("correct horse"), random_bytes(32), {uint64_t{1} << 15, 8, 1}, 32);
  BOOST_TEST(out.size() == 32u);
}

BOOST_AUTO_TEST_CASE(weak_or_huge_parameters_are_refused_for_master_keys) {
  BOOST_TEST(check_master_key_params({uint64_t{1} << 17, 8, 1}).empty());
  BOOST_TEST(check_master_key_params({uint64_t{1} << 15, 8, 1}).empty());
  BOOST_TEST(!check_master_key_params({uint64_t{1} << 14, 8, 1}).empty());
  BOOST_TEST(!check_master_key_params({100000, 8, 1}).empty());             // not a power of two
  BOOST_TEST(!check_master_key_params({uint64_t{1} << 22, 8, 1}).empty());  // 4 GiB
  BOOST_TEST(!check_master_key_params({uint64_t{1} << 15, 0, 1}).empty());
  // 128 * r * n wraps around to a small number: still refused.
  BOOST_TEST(!check_master_key_params({uint64_t{1} << 62, 64, 16}).empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(envelope)

BOOST_AUTO_TEST_CASE(record_round_trip) {
  Aes256Gcm aead;
  Bytes store = random_bytes(16);
  AeadKey key(aead, SecretBuffer(random_bytes(32)));
  RecordIdentity id{store, "VCS.GithubAdminPAT", 3, 1};
  Sealed sealed = seal_record(key, id, as_bytes("ghp_example"));
  BOOST_TEST(sealed.nonce.size() == 12u);
  BOOST_TEST(sealed.ciphertext.size() == std::string("ghp_example").size() + 16);
  auto opened = open_record(key, id, sealed.nonce, sealed.ciphertext);
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST(text_of(*opened) == "ghp_example");
}

// Vault's MoveIntegrity: a ciphertext moved to another key, version, data key
// or store must not open.
BOOST_AUTO_TEST_CASE(record_is_bound_to_store_key_version_and_data_key) {
  Aes256Gcm aead;
  Bytes store = random_bytes(16);
  AeadKey key(aead, SecretBuffer(random_bytes(32)));
  RecordIdentity id{store, "VCS.GithubAdminPAT", 3, 1};
  Sealed sealed = seal_record(key, id, as_bytes("ghp_example"));
  auto opens = [&](RecordIdentity other) {
    return open_record(key, other, sealed.nonce, sealed.ciphertext).has_value();
  };
  BOOST_TEST(opens(id));
  Bytes other_store = random_bytes(16);
  BOOST_TEST(!opens({other_store, id.key, id.version, id.data_key_id}));
  BOOST_TEST(!opens({store, "VCS.GithubAdminPAS", 3, 1}));
  BOOST_TEST(!opens({store, "VCS.GithubAdminPAT", 2, 1}));
  BOOST_TEST(!opens({store, "VCS.GithubAdminPAT", 3, 2}));
}

// Length prefixes: moving a character between fields changes the AAD.
BOOST_AUTO_TEST_CASE(aad_encoding_is_unambiguous) {
  Bytes a = {1, 2}, b = {1};
  BOOST_TEST(record_aad({a, "X.Y", 1, 1}) != record_aad({b, "X.Y", 1, 1}));
  BOOST_TEST(record_aad({a, "X.Y", 1, 2}) != record_aad({a, "X.Y", 2, 1}));
  // The stack-built form is the same bytes, for short and for overlong keys.
  for (std::size_t length : {3u, 255u, 1000u}) {
    std::string key(length, 'k');
    RecordIdentity id{a, key, 7, 9};
    RecordAad aad(id);
    Bytes stacked(aad.bytes().begin(), aad.bytes().end());
    BOOST_TEST(to_hex(stacked) == to_hex(record_aad(id)), length);
  }
  BOOST_TEST(data_key_aad({a, 1, b}) != data_key_aad({b, 1, a}));
}

BOOST_AUTO_TEST_CASE(data_key_wrap_is_bound_to_master_key_and_slot) {
  Aes256Gcm aead;
  Bytes store = random_bytes(16), slot = random_bytes(16), other_slot = random_bytes(16);
  Bytes master = random_bytes(32), dek = random_bytes(32);
  Sealed wrapped = wrap_data_key(aead, master, {store, 7, slot}, dek);
  auto unwrapped =
      unwrap_data_key(aead, master, {store, 7, slot}, wrapped.nonce, wrapped.ciphertext);
  BOOST_REQUIRE(unwrapped.has_value());
  BOOST_TEST(unwrapped->equals(dek));
  BOOST_TEST(
      !unwrap_data_key(aead, random_bytes(32), {store, 7, slot}, wrapped.nonce, wrapped.ciphertext)
           .has_value());
  BOOST_TEST(!unwrap_data_key(aead, master, {store, 8, slot}, wrapped.nonce, wrapped.ciphertext)
                  .has_value());
  BOOST_TEST(
      !unwrap_data_key(aead, master, {store, 7, other_slot}, wrapped.nonce, wrapped.ciphertext)
           .has_value());
}

// The on-disk record format, frozen: a change to the AAD encoding or the
// cipher makes every existing store unreadable, so it must fail here first.
BOOST_AUTO_TEST_CASE(record_format_version_1_known_answer) {
  Aes256Gcm aead;
  Bytes store = hex("00112233445566778899aabbccddeeff");
  AeadKey key(
      aead, SecretBuffer(hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")));
  Bytes nonce = hex("a0a1a2a3a4a5a6a7a8a9aaab");
  RecordIdentity id{store, "Email.SMTPPassword", 2, 1};
  BOOST_TEST(to_hex(record_aad(id)) ==
             "0000000d636f666665722d7265636f7264"
             "00000001"
             "0000001000112233445566778899aabbccddeeff"
             "00000012456d61696c2e534d545050617373776f7264"
             "0000000000000002"
             "0000000000000001");
  Sealed sealed = seal_record_with_nonce(key, id, nonce, as_bytes("hunter2"));
  // Recorded with an independent AES-GCM implementation (Python's cryptography).
  const std::string recorded = "8e6d125920b9304537bc9b507673b3d45f6bb18295fb4c";
  BOOST_TEST(to_hex(sealed.ciphertext) == recorded);
  auto opened = open_record(key, id, nonce, hex(recorded));
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST(text_of(*opened) == "hunter2");
}

// AeadKey reuses its prepared contexts: a failed open must not spoil the next
// one, and concurrent users must not share a context.
BOOST_AUTO_TEST_CASE(a_key_reused_across_threads_and_failures) {
  Aes256Gcm aead;
  AeadKey key(aead, SecretBuffer(random_bytes(32)));
  Bytes store = random_bytes(16);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        std::string value = "value-" + std::to_string(t) + "-" + std::to_string(i);
        RecordIdentity id{store, "VCS.Key", static_cast<uint64_t>(i + 1), 1};
        Sealed sealed = seal_record(key, id, as_bytes(value));
        Bytes bad = sealed.ciphertext;
        bad[0] ^= 1;
        if (open_record(key, id, sealed.nonce, bad)) ++wrong;
        auto opened = open_record(key, id, sealed.nonce, sealed.ciphertext);
        if (!opened || opened->view() != value) ++wrong;
        // The same key through a fresh context gives the same result.
        auto direct = aead.open(key.bytes(), sealed.nonce, record_aad(id), sealed.ciphertext);
        if (!direct || direct->view() != value) ++wrong;
      }
    });
  for (auto &thread : threads) thread.join();
  BOOST_TEST(wrong == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(secret_buffer_wipes_and_compares) {
  SecretBuffer buffer(as_bytes("abcdef"));
  BOOST_TEST(buffer.equals(as_bytes("abcdef")));
  BOOST_TEST(!buffer.equals(as_bytes("abcdeg")));
  buffer.truncate(3);
  BOOST_TEST(buffer.view() == "abc");
  SecretBuffer moved = std::move(buffer);
  BOOST_TEST(buffer.empty());
  BOOST_TEST(moved.view() == "abc");
  moved.clear();
  BOOST_TEST(moved.empty());
}

// Key material and plaintexts live in secret memory: mappings excluded from
// core dumps (the SDK's own here, with no core to lend its memory), whatever
// their size; a truncated buffer wipes the bytes it drops.
BOOST_AUTO_TEST_CASE(secrets_live_in_memory_excluded_from_core_dumps) {
  auto excluded = [](const void *address) {
    auto mapping = coffer::test::mapping_of(address);
    return mapping && mapping->has_flag("dd");
  };
  SecretBuffer secret(std::size_t{64});
  std::fill(secret.data(), secret.data() + 64, static_cast<unsigned char>(0xA5));
  BOOST_TEST(excluded(secret.data()));
  const volatile unsigned char *dropped = secret.data() + 16;
  secret.truncate(16);
  for (std::size_t i = 0; i < 48; ++i) BOOST_TEST(dropped[i] == 0, "byte " << i + 16);

  // A decrypted record and a data key land there too.
  Aes256Gcm aead;
  SecretBuffer key_bytes(random_bytes(32));
  BOOST_TEST(excluded(key_bytes.data()));
  AeadKey key(aead, std::move(key_bytes));
  BOOST_TEST(excluded(key.bytes().data()));
  Bytes store = random_bytes(16);
  RecordIdentity id{store, "VCS.GithubAdminPAT", 1, 1};
  std::string value(64, 'v');
  Sealed sealed = seal_record(key, id, as_bytes(value));
  auto plain = open_record(key, id, sealed.nonce, sealed.ciphertext);
  BOOST_REQUIRE(plain.has_value());
  BOOST_TEST(excluded(plain->data()));

  SecretBuffer large(std::size_t{1} << 20);
  BOOST_TEST(excluded(large.data()));
  BOOST_TEST(excluded(large.data() + large.size() - 1));
  BOOST_TEST(large.size() == std::size_t{1} << 20);
}
