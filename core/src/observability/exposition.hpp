// Exposition: writes metrics in the Prometheus text exposition format, one
// family at a time: its HELP and TYPE lines, then its samples. Label values
// are escaped here, so that no family writes them raw. Not thread-safe: one
// writer per rendering.
#ifndef COFFER_CORE_EXPOSITION_HPP
#define COFFER_CORE_EXPOSITION_HPP

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace coffer::detail {

class Exposition {
 public:
  struct Label {
    std::string_view name;
    std::string_view value;  // escaped when written
  };
  using Labels = std::initializer_list<Label>;

  // Starts a family: `type` is "counter", "gauge" or "histogram".
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, Labels labels, std::uint64_t value);
  // A histogram's cumulative _bucket lines (the bounds, then +Inf), _sum and
  // _count. `counts` holds one count per bound, not cumulative.
  void histogram(std::string_view name, Labels labels, std::span<const double> bounds,
                 std::span<const std::uint64_t> counts, std::uint64_t count, double sum);

  [[nodiscard]] const std::string &text() const noexcept { return out_; }

 private:
  void series(std::string_view name, Labels labels, std::string_view extra_label = {},
              std::string_view extra_value = {});
  std::string out_;
};

}  // namespace coffer::detail

#endif  // COFFER_CORE_EXPOSITION_HPP
