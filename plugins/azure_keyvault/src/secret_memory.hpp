// Memory that may hold secret material (values, access tokens, client
// assertions, client secrets) and is wiped before it is given back: an
// allocator for standard and Beast containers, a Boost.JSON memory resource,
// and JSON functions that read and write such text without stray copies.
// Thread-safe; the memory resource is stateless.
#ifndef COFFER_AZURE_SECRET_MEMORY_HPP
#define COFFER_AZURE_SECRET_MEMORY_HPP

#include <coffer/provider.hpp>

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <new>
#include <string>
#include <string_view>

namespace coffer::azure {

// A std::allocator that wipes memory before freeing it.
template <class T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() noexcept = default;
  template <class U>
  WipingAllocator(const WipingAllocator<U> &) noexcept {}  // NOLINT(google-explicit-constructor)
  T *allocate(std::size_t n) { return static_cast<T *>(::operator new(n * sizeof(T))); }
  void deallocate(T *p, std::size_t n) noexcept {
    coffer::provider::wipe(p, n * sizeof(T));
    ::operator delete(p);
  }
  template <class U>
  friend bool operator==(const WipingAllocator &, const WipingAllocator<U> &) noexcept {
    return true;
  }
};

// A string whose storage is wiped when freed (for headers carrying tokens).
using SecretString = std::basic_string<char, std::char_traits<char>, WipingAllocator<char>>;

// Storage for Boost.JSON values parsed from secret-bearing documents: every
// block is wiped when freed.
boost::json::storage_ptr wiping_storage() noexcept;

// Parses JSON whose strings may be secret. The value and every temporary
// buffer live in wiping storage. Returns a null value and sets `error` on
// malformed input.
boost::json::value parse_secret_json(std::string_view text, boost::system::error_code &error);

// Appends `text` as a quoted JSON string. `text` must be valid UTF-8.
void append_json_string(coffer::provider::SecretBytes &out, std::string_view text);

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates).
bool is_valid_utf8(std::string_view text) noexcept;

// Wipes a standard string's characters and empties it.
void wipe_string(std::string &text) noexcept;

}  // namespace coffer::azure

#endif  // COFFER_AZURE_SECRET_MEMORY_HPP
