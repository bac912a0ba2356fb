#include <coffer/error.hpp>

#include <array>
#include <cstddef>

namespace coffer {
namespace {

// The one table of the codes' names: the C API, the policy's "on" statuses
// and every message that names a code use it.
constexpr std::array<std::string_view, 10> kNames = {
    "ok",          "not_found", "denied",   "unavailable",    "invalid_argument",
    "unsupported", "timeout",   "internal", "invalid_config", "data_error"};
static_assert(kNames.size() == static_cast<std::size_t>(Code::data_error) + 1,
              "every Code has a name");

}  // namespace

std::string_view to_string(Code code) noexcept {
  // A negative number converts to a large index, which is out of range too.
  auto index = static_cast<std::size_t>(code);
  return index < kNames.size() ? kNames[index] : kNames[static_cast<std::size_t>(Code::internal)];
}

std::optional<Code> code_named(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<Code>(i);
  return std::nullopt;
}

std::span<const std::string_view> code_names() noexcept {
  return kNames;
}

}  // namespace coffer
