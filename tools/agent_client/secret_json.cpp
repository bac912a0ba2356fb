#include "secret_json.hpp"

#include <boost/json/null_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serializer.hpp>

#include <new>

namespace coffer::tools {

namespace json = boost::json;

SecretArena::SecretArena(std::size_t bytes)
    : block_(bytes), resource_(block_.data(), block_.size(), json::get_null_resource()) {}

json::storage_ptr SecretArena::storage() noexcept {
  return json::storage_ptr(&resource_);
}

std::size_t arena_bytes_for(std::size_t text_size) noexcept {
  // The parser's stacks grow by doubling and a monotonic arena frees
  // nothing: room for several copies of the text, plus the containers.
  return text_size * 6 + 16 * 1024;
}

bool parse_secret_json(std::string_view text, SecretArena &arena, json::value &out) {
  out = nullptr;
  try {
    json::parser parser(arena.storage(), {});
    parser.reset(arena.storage());
    json::error_code error;
    parser.write(text.data(), text.size(), error);
    if (error) return false;
    out = parser.release();
    return true;
  } catch (const std::bad_alloc &) {
    return false;
  }
}

coffer::provider::SecretBytes serialize_secret_json(const json::value &value,
                                                    std::string_view suffix) {
  // Escapes at most sextuple a string (\u00XX): one read fills the buffer,
  // so no part of a value waits in the serializer between reads.
  std::size_t bound = 64;
  if (const auto *object = value.if_object())
    for (const auto &member : *object) {
      bound += member.key().size() * 6 + 8;
      if (const auto *text = member.value().if_string())
        bound += text->size() * 6;
      else
        bound += 64;
    }
  coffer::provider::SecretBytes out;
  std::vector<char, coffer::provider::SecretAllocator<char>> buffer(bound);
  json::serializer serializer;
  serializer.reset(&value);
  while (!serializer.done()) {
    json::string_view chunk = serializer.read(buffer.data(), buffer.size());
    out.append(std::string_view(chunk.data(), chunk.size()));
  }
  out.append(suffix);
  return out;
}

}  // namespace coffer::tools
