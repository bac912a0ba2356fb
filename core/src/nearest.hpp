// "Did you mean ...?": the closest candidate by edit distance.
#ifndef COFFER_CORE_NEAREST_HPP
#define COFFER_CORE_NEAREST_HPP

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::detail {

// Levenshtein distance, case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if any is close enough to be a plausible
// typo (distance at most a third of the longer length, at least 2).
std::optional<std::string> nearest(std::string_view word,
                                   const std::vector<std::string> &candidates);

// " (did you mean 'X'?)" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string> &candidates);

}  // namespace coffer::detail

#endif  // COFFER_CORE_NEAREST_HPP
