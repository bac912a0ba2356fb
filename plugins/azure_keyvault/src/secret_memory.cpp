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

void wipe_string(std::string &text) noexcept {
  coffer::provider::wipe(text.data(), text.capacity());
  text.clear();
}

}  // namespace coffer::azure
