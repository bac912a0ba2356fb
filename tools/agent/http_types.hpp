// The HTTP types the agent's pieces share. Requests live in memory that is
// wiped when freed: their headers may carry API tokens.
#ifndef COFFER_AGENT_HTTP_TYPES_HPP
#define COFFER_AGENT_HTTP_TYPES_HPP

#include <string.h>  // explicit_bzero

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <memory>

namespace coffer::agent {

// std::allocator that wipes what it frees.
template <class T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() noexcept = default;
  template <class U>
  WipingAllocator(const WipingAllocator<U> &) noexcept {}  // NOLINT(google-explicit-constructor)
  T *allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T *p, std::size_t n) noexcept {
    explicit_bzero(p, n * sizeof(T));  // memset's speed; OPENSSL_cleanse goes a byte at a time
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  friend bool operator==(const WipingAllocator &, const WipingAllocator<U> &) noexcept {
    return true;
  }
};

using RequestFields = boost::beast::http::basic_fields<WipingAllocator<char>>;
using Request = boost::beast::http::request<boost::beast::http::string_body, RequestFields>;
using ReadBuffer = boost::beast::basic_flat_buffer<WipingAllocator<char>>;

}  // namespace coffer::agent

#endif  // COFFER_AGENT_HTTP_TYPES_HPP
