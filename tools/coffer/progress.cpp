#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace coffer::cli {

bool Progress::wanted(bool as_json, bool quiet) {
  return !as_json && !quiet && ::isatty(STDERR_FILENO) == 1;
}

void Progress::show(std::size_t done, std::size_t total, std::string_view note) const {
  if (!enabled_ || total == 0) return;
  constexpr std::size_t width = 30;
  std::size_t filled = done * width / total;
  std::string bar(filled, '=');
  if (filled < width) bar += '>';
  bar.resize(width, ' ');
  std::fprintf(stderr, "\r\033[K%s [%s] %zu/%zu  %.*s", label_.c_str(), bar.c_str(), done, total,
               static_cast<int>(note.size()), note.data());
  std::fflush(stderr);
}

void Progress::clear() const {
  if (!enabled_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

}  // namespace coffer::cli
