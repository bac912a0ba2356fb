#include "nearest.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

namespace coffer::detail {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                  std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> nearest(std::string_view word,
                                   const std::vector<std::string> &candidates) {
  std::size_t best = std::numeric_limits<std::size_t>::max();
  const std::string *choice = nullptr;
  for (const auto &candidate : candidates) {
    std::size_t d = edit_distance(word, candidate);
    if (d < best) {
      best = d;
      choice = &candidate;
    }
  }
  if (choice == nullptr) return std::nullopt;
  std::size_t limit = std::max<std::size_t>(2, std::max(word.size(), choice->size()) / 3);
  if (best > limit) return std::nullopt;
  return *choice;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string> &candidates) {
  auto near = nearest(word, candidates);
  return near ? " (did you mean '" + *near + "'?)" : std::string();
}

}  // namespace coffer::detail
