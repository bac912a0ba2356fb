// What a handler answers: a status, a content type and a body that may hold
// secret values. The body is a string in secret memory (excluded from core
// dumps), reserved at its final size before the values are copied in (so
// that it never leaves a copy behind by growing) and wiped when it is
// destroyed, after the response is written.
#ifndef COFFER_AGENT_RESPONSE_HPP
#define COFFER_AGENT_RESPONSE_HPP

#include <coffer/provider_helpers.hpp>
#include <coffer/secret_memory.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace coffer::agent {

// A string in secret memory, wiped (its whole capacity) when destroyed,
// cleared or moved from.
class WipedString {
 public:
  WipedString() = default;
  explicit WipedString(std::string_view text) : text_(text) {}
  WipedString(WipedString &&other) noexcept : text_(std::move(other.text_)) { other.wipe(); }
  WipedString &operator=(WipedString &&other) noexcept {
    if (this != &other) {
      wipe();
      text_ = std::move(other.text_);
      other.wipe();
    }
    return *this;
  }
  WipedString(const WipedString &) = delete;
  WipedString &operator=(const WipedString &) = delete;
  ~WipedString() { wipe(); }

  // Reserves `size` bytes; call before the first append of a value.
  void reserve(std::size_t size) { text_.reserve(size); }
  void append(std::string_view text) { text_.append(text); }
  void push_back(char c) { text_.push_back(c); }
  [[nodiscard]] std::string_view view() const noexcept { return text_; }
  [[nodiscard]] std::size_t size() const noexcept { return text_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return text_.capacity(); }
  void wipe() noexcept;

 private:
  std::basic_string<char, std::char_traits<char>, coffer::SecretAllocator<char>> text_;
};

// A Beast body over a WipedString, for responses (serialization only).
struct WipedBody {
  using value_type = WipedString;
  static std::uint64_t size(const value_type &body) noexcept { return body.size(); }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;
    template <bool isRequest, class Fields>
    writer(const boost::beast::http::header<isRequest, Fields> &, const value_type &body)
        : body_(body) {}
    void init(boost::system::error_code &ec) { ec = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(boost::system::error_code &ec) {
      ec = {};
      if (done_) return boost::none;
      done_ = true;
      return {{boost::asio::const_buffer(body_.view().data(), body_.size()), false}};
    }

   private:
    const value_type &body_;
    bool done_ = false;
  };
};

struct Response {
  int status = 200;
  std::string_view content_type = "application/json";  // a literal: static storage
  WipedString body;
  bool carries_values = false;  // sent with Cache-Control: no-store
  std::string_view allow;       // for 405: the methods allowed (a literal)
};

// JSON string literals, their size and the UTF-8 check: the SDK's rules,
// which the Key Vault provider shares.
using coffer::provider::append_json_string;
using coffer::provider::is_valid_utf8;
using coffer::provider::json_string_size;

// {"errorCode": CODE, "message": MESSAGE}: Dapr's error body.
Response error_response(int status, std::string_view error_code, std::string_view message);
// A body of plain text or JSON with no value in it; `content_type` is a
// literal (static storage).
Response text_response(int status, std::string_view content_type, std::string body);

}  // namespace coffer::agent

#endif  // COFFER_AGENT_RESPONSE_HPP
