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
// from callers who could pick colliding ones.
inline std::uint64_t key_hash(std::string_view key) noexcept {
  using namespace key_index_detail;
  const char *p = key.data();
  std::size_t n = key.size();
  std::uint64_t h = mix(0x243F6A8885A308D3ULL, n);
  if (n >= 8) {
    for (; n > 8; p += 8, n -= 8) h = mix(h, word(p));
    h = mix(h, word(p + n - 8));  // the last eight bytes, overlapping
  } else {
    std::uint64_t w = 0;
    for (std::size_t i = 0; i < n; ++i)
      w |= std::uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
    h = mix(h, w);
  }
  return h ^ (h >> 32);
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
