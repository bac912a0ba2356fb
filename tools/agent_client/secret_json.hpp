// JSON documents that carry values, parsed and written in secret memory:
// the agent's answers, and what the docker credential helper reads and
// writes. Nothing of a value reaches the ordinary heap on the way.
#ifndef COFFER_TOOLS_SECRET_JSON_HPP
#define COFFER_TOOLS_SECRET_JSON_HPP

#include <coffer/provider.hpp>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <string_view>
#include <vector>

namespace coffer::tools {

// One block of secret memory (wiped when freed) from which documents are
// carved; allocations beyond it fail with std::bad_alloc instead of taking
// ordinary memory. Not thread-safe; outlives every value made in it.
class SecretArena {
 public:
  explicit SecretArena(std::size_t bytes);
  SecretArena(const SecretArena &) = delete;
  SecretArena &operator=(const SecretArena &) = delete;

  [[nodiscard]] boost::json::storage_ptr storage() noexcept;

 private:
  std::vector<unsigned char, coffer::provider::SecretAllocator<unsigned char>> block_;
  boost::json::monotonic_resource resource_;
};

// An arena large enough to parse `text_size` bytes of JSON, or to build a
// document holding that many bytes of strings.
std::size_t arena_bytes_for(std::size_t text_size) noexcept;

// Parses `text` into `arena` (the parser's scratch space included). Returns
// false, leaving `out` null, when `text` is not one JSON document or needs
// more than the arena.
bool parse_secret_json(std::string_view text, SecretArena &arena, boost::json::value &out);

// `value` serialised, then `suffix`, in secret memory.
coffer::provider::SecretBytes serialize_secret_json(const boost::json::value &value,
                                                    std::string_view suffix = {});

}  // namespace coffer::tools

#endif  // COFFER_TOOLS_SECRET_JSON_HPP
