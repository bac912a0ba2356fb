#include <coffer/secret.hpp>
#include <coffer/secret_memory.hpp>

#include <boost/test/unit_test.hpp>

#include <concepts>
#include <cstring>
#include <ostream>
#include <span>
#include <string>
#include <type_traits>

#include "base/secure_memory.hpp"
#include "memory_maps.hpp"

namespace {
template <class T>
concept Streamable = requires(std::ostream &os, const T &value) {
  os << value;
};
}  // namespace

static_assert(!std::is_copy_constructible_v<coffer::Secret>, "a Secret must not be copyable");
static_assert(!std::is_copy_assignable_v<coffer::Secret>);
static_assert(std::is_nothrow_move_constructible_v<coffer::Secret>);
static_assert(!Streamable<coffer::Secret>, "a Secret must not be printable by operator<<");
static_assert(!std::is_convertible_v<coffer::Secret, std::string>);

BOOST_AUTO_TEST_SUITE(secret)

BOOST_AUTO_TEST_CASE(holds_bytes_and_version) {
  auto s = coffer::Secret::copy_of(std::string_view("p@ss\0word", 9), "v3");
  BOOST_TEST(s.size() == 9u);
  BOOST_TEST(s.reveal() == std::string_view("p@ss\0word", 9));
  BOOST_TEST(s.version() == "v3");
  BOOST_TEST(s.redacted() == "<redacted: 9 bytes>");
}

BOOST_AUTO_TEST_CASE(the_version_lives_with_the_value_and_travels_with_it) {
  // Value and version share one block; the version is a C string.
  auto s = coffer::Secret::copy_of("hunter2", "0123456789abcdef0123456789abcdef");
  BOOST_TEST(s.version() == "0123456789abcdef0123456789abcdef");
  BOOST_TEST(s.version().data()[s.version().size()] == '\0');
  BOOST_TEST(s.reveal() == "hunter2");
  auto c = s.clone();
  BOOST_TEST(c.version() == s.version());
  BOOST_TEST(c.reveal() == "hunter2");
  BOOST_TEST(static_cast<const void *>(c.version().data()) !=
             static_cast<const void *>(s.version().data()));
  coffer::Secret moved = std::move(c);
  BOOST_TEST(moved.version() == "0123456789abcdef0123456789abcdef");
  BOOST_TEST(c.version().empty());  // NOLINT(bugprone-use-after-move): the moved-from state
  // An empty value can still carry a version, and a large one too.
  auto empty = coffer::Secret::copy_of("", "v9");
  BOOST_TEST(empty.empty());
  BOOST_TEST(empty.version() == "v9");
  BOOST_TEST(empty.clone().version() == "v9");
  std::string big(10000, 'b');
  auto large = coffer::Secret::copy_of(big, "v10");
  BOOST_TEST(large.reveal() == big);
  BOOST_TEST(large.clone().version() == "v10");
  // No version: nothing but the value in the block.
  auto plain = coffer::Secret::copy_of("x");
  BOOST_TEST(plain.version().empty());
  s.clear();
  BOOST_TEST(s.version().empty());
  BOOST_TEST(s.empty());
}

BOOST_AUTO_TEST_CASE(move_leaves_the_source_empty) {
  auto a = coffer::Secret::copy_of("hunter2");
  coffer::Secret b = std::move(a);
  BOOST_TEST(a.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  BOOST_TEST(b.reveal() == "hunter2");
  coffer::Secret c;
  c = std::move(b);
  BOOST_TEST(c.reveal() == "hunter2");
}

BOOST_AUTO_TEST_CASE(clone_and_equals) {
  auto a = coffer::Secret::copy_of("same");
  auto b = a.clone();
  BOOST_TEST(a.equals(b));
  BOOST_TEST(static_cast<const void *>(a.reveal().data()) !=
             static_cast<const void *>(b.reveal().data()));
  BOOST_TEST(!a.equals(coffer::Secret::copy_of("diff")));
  BOOST_TEST(!a.equals(coffer::Secret::copy_of("same!")));
  BOOST_TEST(coffer::Secret().equals(coffer::Secret::copy_of("")));
}

BOOST_AUTO_TEST_CASE(freed_memory_is_wiped) {
  // Blocks are reused last-in first-out within a size class: the next
  // allocation of the same class gets the block just freed, which must hold
  // no trace of the secret.
  std::size_t capacity = 0;
  void *block = coffer::detail::secure_allocate(48, &capacity);
  std::memset(block, 'S', capacity);
  coffer::detail::secure_free(block, capacity);
  std::size_t again_capacity = 0;
  void *again = coffer::detail::secure_allocate(48, &again_capacity);
  BOOST_TEST(again == block);
  const auto *bytes = static_cast<const unsigned char *>(again);
  for (std::size_t i = sizeof(void *); i < again_capacity; ++i) BOOST_TEST_REQUIRE(bytes[i] == 0);
  coffer::detail::secure_free(again, again_capacity);
}

BOOST_AUTO_TEST_CASE(secret_destruction_wipes_its_block) {
  const unsigned char *where = nullptr;
  {
    auto s = coffer::Secret::copy_of(std::string(100, 'X'));
    where = s.bytes().data();
  }
  std::size_t capacity = 0;
  void *again = coffer::detail::secure_allocate(100, &capacity);
  BOOST_TEST(again == static_cast<const void *>(where));
  const auto *bytes = static_cast<const unsigned char *>(again);
  for (std::size_t i = sizeof(void *); i < 100; ++i) BOOST_TEST_REQUIRE(bytes[i] == 0);
  coffer::detail::secure_free(again, capacity);
}

BOOST_AUTO_TEST_CASE(destruction_wipes_the_version_too) {
  const unsigned char *where = nullptr;
  std::size_t used = 0;
  {
    auto s = coffer::Secret::copy_of(std::string(20, 'X'), std::string(30, 'V'));
    where = s.bytes().data();
    used = 20 + 30 + 1;
  }
  std::size_t capacity = 0;
  void *again = coffer::detail::secure_allocate(used, &capacity);
  BOOST_TEST(again == static_cast<const void *>(where));
  const auto *bytes = static_cast<const unsigned char *>(again);
  for (std::size_t i = sizeof(void *); i < used; ++i) BOOST_TEST_REQUIRE(bytes[i] == 0);
  coffer::detail::secure_free(again, capacity);
}

// The secret memory the core lends plugins (coffer_host.secret_allocate and
// .secret_free): excluded from core dumps, small or large, and wiped when
// freed, freed by the size alone.
BOOST_AUTO_TEST_CASE(plugins_get_the_same_protected_memory) {
  auto excluded = [](const void *address) {
    auto mapping = coffer::test::mapping_of(address);
    return mapping && mapping->has_flag("dd");
  };
  BOOST_TEST(coffer::detail::secret_allocate_for_plugin(0) == nullptr);
  void *block = coffer::detail::secret_allocate_for_plugin(100);
  BOOST_REQUIRE(block != nullptr);
  BOOST_TEST(excluded(block));
  std::memset(block, 'P', 100);
  coffer::detail::secret_free_for_plugin(block, 100);
  std::size_t capacity = 0;
  void *again = coffer::detail::secure_allocate(100, &capacity);
  BOOST_TEST(again == block);
  BOOST_TEST(capacity == coffer::detail::secure_capacity(100));
  const auto *bytes = static_cast<const unsigned char *>(again);
  for (std::size_t i = sizeof(void *); i < 100; ++i) BOOST_TEST_REQUIRE(bytes[i] == 0);
  coffer::detail::secure_free(again, capacity);

  void *large = coffer::detail::secret_allocate_for_plugin(100000);
  BOOST_REQUIRE(large != nullptr);
  BOOST_TEST(excluded(large));
  BOOST_TEST(excluded(static_cast<char *>(large) + 99999));
  coffer::detail::secret_free_for_plugin(large, 100000);
  BOOST_CHECK_NO_THROW(coffer::detail::secret_free_for_plugin(nullptr, 10));
}

// The same memory for a host's own buffers (coffer/secret_memory.hpp): the
// agent keeps its responses there.
BOOST_AUTO_TEST_CASE(hosts_get_the_same_protected_memory_through_the_public_header) {
  auto excluded = [](const void *address) {
    auto mapping = coffer::test::mapping_of(address);
    return mapping && mapping->has_flag("dd");
  };
  void *block = coffer::secret_allocate(100);
  BOOST_REQUIRE(block != nullptr);
  BOOST_TEST(excluded(block));
  std::memset(block, 'H', 100);
  coffer::secret_free(block, 100);
  std::size_t capacity = 0;
  void *again = coffer::detail::secure_allocate(100, &capacity);
  BOOST_TEST(again == block);  // from the pool, not a mapping of its own
  const auto *bytes = static_cast<const unsigned char *>(again);
  for (std::size_t i = sizeof(void *); i < 100; ++i) BOOST_TEST_REQUIRE(bytes[i] == 0);
  coffer::detail::secure_free(again, capacity);

  using SecretString =
      std::basic_string<char, std::char_traits<char>, coffer::SecretAllocator<char>>;
  SecretString text(300, 'h');
  BOOST_TEST(excluded(text.data()));
  BOOST_CHECK_NO_THROW(coffer::secret_free(nullptr, 10));
  void *empty = coffer::secret_allocate(0);
  BOOST_TEST(empty != nullptr);
  coffer::secret_free(empty, 0);
}

BOOST_AUTO_TEST_CASE(large_values_get_their_own_mapping) {
  std::string big(100000, 'k');
  auto s = coffer::Secret::copy_of(big);
  BOOST_TEST(s.reveal() == big);
  auto t = s.clone();
  BOOST_TEST(t.equals(s));
}

BOOST_AUTO_TEST_SUITE_END()

#if defined(__x86_64__)
namespace {
// Every vector register of this thread, as it is now.
struct RegisterFile {
  alignas(64) unsigned char bytes[32 * 64] = {};
};
__attribute__((target("avx512f"), noinline)) void capture_avx512(unsigned char *out) {
  asm volatile(
      "vmovdqu64 %%zmm0, 0(%0)\n\t"
      "vmovdqu64 %%zmm1, 64(%0)\n\t"
      "vmovdqu64 %%zmm2, 128(%0)\n\t"
      "vmovdqu64 %%zmm3, 192(%0)\n\t"
      "vmovdqu64 %%zmm4, 256(%0)\n\t"
      "vmovdqu64 %%zmm5, 320(%0)\n\t"
      "vmovdqu64 %%zmm6, 384(%0)\n\t"
      "vmovdqu64 %%zmm7, 448(%0)\n\t"
      "vmovdqu64 %%zmm8, 512(%0)\n\t"
      "vmovdqu64 %%zmm9, 576(%0)\n\t"
      "vmovdqu64 %%zmm10, 640(%0)\n\t"
      "vmovdqu64 %%zmm11, 704(%0)\n\t"
      "vmovdqu64 %%zmm12, 768(%0)\n\t"
      "vmovdqu64 %%zmm13, 832(%0)\n\t"
      "vmovdqu64 %%zmm14, 896(%0)\n\t"
      "vmovdqu64 %%zmm15, 960(%0)\n\t"
      "vmovdqu64 %%zmm16, 1024(%0)\n\t"
      "vmovdqu64 %%zmm17, 1088(%0)\n\t"
      "vmovdqu64 %%zmm18, 1152(%0)\n\t"
      "vmovdqu64 %%zmm19, 1216(%0)\n\t"
      "vmovdqu64 %%zmm20, 1280(%0)\n\t"
      "vmovdqu64 %%zmm21, 1344(%0)\n\t"
      "vmovdqu64 %%zmm22, 1408(%0)\n\t"
      "vmovdqu64 %%zmm23, 1472(%0)\n\t"
      "vmovdqu64 %%zmm24, 1536(%0)\n\t"
      "vmovdqu64 %%zmm25, 1600(%0)\n\t"
      "vmovdqu64 %%zmm26, 1664(%0)\n\t"
      "vmovdqu64 %%zmm27, 1728(%0)\n\t"
      "vmovdqu64 %%zmm28, 1792(%0)\n\t"
      "vmovdqu64 %%zmm29, 1856(%0)\n\t"
      "vmovdqu64 %%zmm30, 1920(%0)\n\t"
      "vmovdqu64 %%zmm31, 1984(%0)\n\t" ::"r"(out)
      : "memory");
}
__attribute__((target("avx"), noinline)) void capture_avx(unsigned char *out) {
  asm volatile(
      "vmovdqu %%ymm0, 0(%0)\n\t"
      "vmovdqu %%ymm1, 32(%0)\n\t"
      "vmovdqu %%ymm2, 64(%0)\n\t"
      "vmovdqu %%ymm3, 96(%0)\n\t"
      "vmovdqu %%ymm4, 128(%0)\n\t"
      "vmovdqu %%ymm5, 160(%0)\n\t"
      "vmovdqu %%ymm6, 192(%0)\n\t"
      "vmovdqu %%ymm7, 224(%0)\n\t"
      "vmovdqu %%ymm8, 256(%0)\n\t"
      "vmovdqu %%ymm9, 288(%0)\n\t"
      "vmovdqu %%ymm10, 320(%0)\n\t"
      "vmovdqu %%ymm11, 352(%0)\n\t"
      "vmovdqu %%ymm12, 384(%0)\n\t"
      "vmovdqu %%ymm13, 416(%0)\n\t"
      "vmovdqu %%ymm14, 448(%0)\n\t"
      "vmovdqu %%ymm15, 480(%0)\n\t" ::"r"(out)
      : "memory");
}
__attribute__((noinline)) void capture_sse(unsigned char *out) {
  asm volatile(
      "movdqu %%xmm0, 0(%0)\n\t"
      "movdqu %%xmm1, 16(%0)\n\t"
      "movdqu %%xmm2, 32(%0)\n\t"
      "movdqu %%xmm3, 48(%0)\n\t"
      "movdqu %%xmm4, 64(%0)\n\t"
      "movdqu %%xmm5, 80(%0)\n\t"
      "movdqu %%xmm6, 96(%0)\n\t"
      "movdqu %%xmm7, 112(%0)\n\t"
      "movdqu %%xmm8, 128(%0)\n\t"
      "movdqu %%xmm9, 144(%0)\n\t"
      "movdqu %%xmm10, 160(%0)\n\t"
      "movdqu %%xmm11, 176(%0)\n\t"
      "movdqu %%xmm12, 192(%0)\n\t"
      "movdqu %%xmm13, 208(%0)\n\t"
      "movdqu %%xmm14, 224(%0)\n\t"
      "movdqu %%xmm15, 240(%0)\n\t" ::"r"(out)
      : "memory");
}
void capture(RegisterFile &file) {
  switch (coffer::provider::detail::vector_registers()) {
    case coffer::provider::detail::VectorRegisters::avx512:
      capture_avx512(file.bytes);
      break;
    case coffer::provider::detail::VectorRegisters::avx:
      capture_avx(file.bytes);
      break;
    case coffer::provider::detail::VectorRegisters::sse:
      capture_sse(file.bytes);
      break;
  }
}
// Whether any 8 consecutive bytes of `value` are in the register file.
bool holds_a_piece_of(const RegisterFile &file, const unsigned char *value, std::size_t size) {
  for (std::size_t at = 0; at + 8 <= size; ++at)
    if (::memmem(file.bytes, sizeof file.bytes, value + at, 8) != nullptr) return true;
  return false;
}
// 64 bytes that occur nowhere else.
struct Value {
  alignas(64) unsigned char bytes[64];
  Value() {
    for (std::size_t i = 0; i < sizeof bytes; ++i)
      bytes[i] = static_cast<unsigned char>(0xa5 ^ (i * 37 + 11));
  }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(vector_registers)

// The control: a value loaded into the registers is seen there, and gone
// after clear_vector_registers().
BOOST_AUTO_TEST_CASE(clearing_removes_what_a_load_left) {
  Value value;
  RegisterFile before, after;
  asm volatile("movdqu (%0), %%xmm3\n\tmovdqu 16(%0), %%xmm9" ::"r"(value.bytes) : "xmm3", "xmm9");
  capture(before);
  BOOST_TEST(holds_a_piece_of(before, value.bytes, sizeof value.bytes));
  coffer::provider::clear_vector_registers();
  capture(after);
  BOOST_TEST(!holds_a_piece_of(after, value.bytes, sizeof value.bytes));
}

// What memcpy carried through the registers into a Secret is not left there
// when copy_of and clone return, nor after a wipe.
BOOST_AUTO_TEST_CASE(a_copy_into_a_secret_leaves_no_piece_in_the_registers) {
  Value value;
  RegisterFile file;
  auto secret = coffer::Secret::copy_of(std::span<const unsigned char>(value.bytes, 64));
  capture(file);
  BOOST_TEST(!holds_a_piece_of(file, value.bytes, sizeof value.bytes));
  auto copy = secret.clone();
  capture(file);
  BOOST_TEST(!holds_a_piece_of(file, value.bytes, sizeof value.bytes));
  unsigned char scratch[64];
  std::memcpy(scratch, value.bytes, sizeof scratch);
  coffer::detail::wipe(scratch, sizeof scratch);
  capture(file);
  BOOST_TEST(!holds_a_piece_of(file, value.bytes, sizeof value.bytes));
}

BOOST_AUTO_TEST_SUITE_END()
#endif
