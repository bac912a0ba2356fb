// A read-only map from key names to pointers, built once and then searched
// by many threads: one inline hash of the key, usually one comparison, no
// division and no call. The cache-hit path finds a key's route with it.
//
// The index does not own the names or the values: both must outlive it.
#ifndef COFFER_CORE_KEY_INDEX_HPP
#define COFFER_CORE_KEY_INDEX_HPP

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

namespace coffer::detail {

namespace key_index_detail {

inline std::uint64_t word(const char *p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

inline std::uint64_t mix(std::uint64_t h, std::uint64_t w) noexcept {
  h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
  return h ^ (h >> 29);
}

}  // namespace key_index_detail

// Not a keyed hash: the names come from the policy and the catalogs, not
// from callers who could pick colliding ones. The first, second, second-last
// and last eight bytes are mixed independently (names up to 32 bytes are
// covered whole, in a few cycles), longer names' middles one word at a time.
inline std::uint64_t key_hash(std::string_view key) noexcept {
  using namespace key_index_detail;
  const char *p = key.data();
  const std::size_t n = key.size();
  std::uint64_t a;
  std::uint64_t b;
  if (n >= 8) {
    a = (word(p) ^ 0x243F6A8885A308D3ULL) * 0x9E3779B97F4A7C15ULL;
    b = (word(p + n - 8) ^ 0x13198A2E03707344ULL) * 0xC2B2AE3D27D4EB4FULL;
    if (n > 16) {
      std::uint64_t c = (word(p + 8) ^ 0xA4093822299F31D0ULL) * 0x165667B19E3779F9ULL;
      std::uint64_t d = (word(p + n - 16) ^ 0x082EFA98EC4E6C89ULL) * 0xFF51AFD7ED558CCDULL;
      for (std::size_t i = 16; i + 16 < n; i += 8) c = mix(c, word(p + i));
      a ^= c >> 31 | c << 33;
      b ^= d >> 17 | d << 47;
    }
  } else {
    std::uint64_t w = 0;
    for (std::size_t i = 0; i < n; ++i)
      w |= std::uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
    a = (w ^ 0x243F6A8885A308D3ULL) * 0x9E3779B97F4A7C15ULL;
    b = 0;
  }
  std::uint64_t h = (a ^ (b >> 32 | b << 32) ^ n) * 0x9E3779B97F4A7C15ULL;
  return h ^ (h >> 29);
}

template <class T>
class KeyIndex {
 public:
  KeyIndex() = default;
  explicit KeyIndex(const std::vector<std::pair<std::string_view, const T *>> &items) {
    std::size_t size = std::bit_ceil(items.size() * 2 + 1);
    slots_.assign(size, Slot{});
    mask_ = size - 1;
    for (const auto &[key, value] : items) {
      std::uint64_t h = key_hash(key);
      std::size_t i = h & mask_;
      while (slots_[i].value != nullptr) i = (i + 1) & mask_;
      slots_[i] = Slot{h, key, value};
    }
  }

  [[nodiscard]] const T *find(std::string_view key) const noexcept {
    if (slots_.empty()) return nullptr;
    std::uint64_t h = key_hash(key);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot &s = slots_[i];
      if (s.value == nullptr) return nullptr;
      if (s.hash == h && same(s.key, key)) return s.value;
    }
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::string_view key;
    const T *value = nullptr;
  };
  static bool same(std::string_view a, std::string_view b) noexcept {
    using key_index_detail::word;
    if (a.size() != b.size()) return false;
    std::size_t n = a.size();
    if (n < 8) return a == b;
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (word(a.data() + i) != word(b.data() + i)) return false;
    return word(a.data() + n - 8) == word(b.data() + n - 8);
  }
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

}  // namespace coffer::detail

#endif  // COFFER_CORE_KEY_INDEX_HPP
