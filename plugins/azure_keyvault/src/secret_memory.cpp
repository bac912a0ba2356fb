#include "secret_memory.hpp"

#include <boost/json/memory_resource.hpp>
#include <boost/json/parser.hpp>

#include <new>

namespace coffer::azure {
namespace {

class SecretMemoryResource final : public boost::json::memory_resource {
 private:
  void *do_allocate(std::size_t bytes, std::size_t alignment) override {
    if (alignment > alignof(std::max_align_t)) throw std::bad_alloc();
    return coffer::provider::secret_allocate(bytes == 0 ? 1 : bytes);
  }
  void do_deallocate(void *pointer, std::size_t bytes, std::size_t) override {
    coffer::provider::secret_free(pointer, bytes == 0 ? 1 : bytes);
  }
  [[nodiscard]] bool do_is_equal(const memory_resource &other) const noexcept override {
    return this == &other;
  }
};

}  // namespace

boost::json::storage_ptr secret_storage() noexcept {
  static SecretMemoryResource resource;  // stateless
  return boost::json::storage_ptr(&resource);
}

boost::json::value parse_secret_json(std::string_view text, boost::system::error_code &error) {
  struct Scratch {
    unsigned char bytes[2048];
    ~Scratch() { coffer::provider::wipe(bytes, sizeof bytes); }
  } scratch;
  // The constructor's storage holds only the parser's own stack; the value
  // it builds lives in the storage given to reset() (the default heap
  // otherwise, where a freed string keeps the value until reused).
  boost::json::parser parser(secret_storage(), {}, scratch.bytes, sizeof scratch.bytes);
  parser.reset(secret_storage());
  parser.write(text.data(), text.size(), error);
  if (error) return boost::json::value(secret_storage());
  return parser.release();  // the value keeps the wiping storage
}

void append_json_string(coffer::provider::SecretBytes &out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (byte < 0x20) {
          const unsigned char escaped[6] = {'\\',
                                            'u',
                                            '0',
                                            '0',
                                            static_cast<unsigned char>(hex[byte >> 4]),
                                            static_cast<unsigned char>(hex[byte & 0xf])};
          out.append(escaped, sizeof escaped);
        } else {
          out.push_back(byte);
        }
    }
  }
  out.push_back('"');
}

bool is_valid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    uint32_t code = 0;
    if ((byte & 0xe0) == 0xc0) {
      length = 2;
      code = byte & 0x1f;
    } else if ((byte & 0xf0) == 0xe0) {
      length = 3;
      code = byte & 0x0f;
    } else if ((byte & 0xf8) == 0xf0) {
      length = 4;
      code = byte & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    static constexpr uint32_t minimum[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < minimum[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
      return false;
    i += length;
  }
  return true;
}

void wipe_string(std::string &text) noexcept {
  coffer::provider::wipe(text.data(), text.capacity());
  text.clear();
}

}  // namespace coffer::azure
