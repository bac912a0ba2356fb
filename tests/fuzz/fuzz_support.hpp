// What every fuzz target shares: the fields of one input, and the check that
// stops the process when a property fails.
//
// A harness reads its input as fields separated by NUL bytes (the last field
// runs to the end of the input), so that seeds stay readable text files and a
// mutation that moves a separator still gives the harness something to read.
// A failed property aborts the process, which libFuzzer reports as a crash
// and keeps the input for; so does the corpus replay of the ordinary build.
#ifndef COFFER_TESTS_FUZZ_SUPPORT_HPP
#define COFFER_TESTS_FUZZ_SUPPORT_HPP

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace coffer::fuzz {

class Input {
 public:
  Input(const std::uint8_t *data, std::size_t size)
      : rest_(reinterpret_cast<const char *>(data), size) {}

  // The bytes up to the next NUL (which is consumed), or the rest.
  std::string_view field() {
    std::size_t end = rest_.find('\0');
    std::string_view out = rest_.substr(0, end);
    rest_.remove_prefix(end == std::string_view::npos ? rest_.size() : end + 1);
    return out;
  }
  // One byte, 0 when none is left.
  std::uint8_t byte() {
    if (rest_.empty()) return 0;
    auto out = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return out;
  }
  // Everything not read yet.
  std::string_view rest() {
    std::string_view out = rest_;
    rest_ = {};
    return out;
  }
  [[nodiscard]] bool empty() const noexcept { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// Stops the process when `holds` is false, naming the property.
inline void require(bool holds, const char *property) {
  if (holds) return;
  std::fprintf(stderr, "fuzz property violated: %s\n", property);
  std::abort();
}

}  // namespace coffer::fuzz

#endif  // COFFER_TESTS_FUZZ_SUPPORT_HPP
