// The progress bar of long commands (migrate, check, db rekey, db verify):
// "migrate [=========>          ] 12/30  VCS" on standard error, redrawn in
// place. Shown only on a terminal, never with --json or --quiet, so that
// scripts and logs never see it.
#ifndef COFFER_CLI_PROGRESS_HPP
#define COFFER_CLI_PROGRESS_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace coffer::cli {

class Progress {
 public:
  // `label` starts the line ("migrate"). Draws nothing unless `enabled`.
  Progress(std::string label, bool enabled) : label_(std::move(label)), enabled_(enabled) {}
  // Whether a command should show progress: standard error is a terminal,
  // and neither JSON nor quiet output was asked for.
  static bool wanted(bool as_json, bool quiet);

  // Draws `done` of `total` with a short `note` (a category, a key). Nothing
  // when `total` is 0.
  void show(std::size_t done, std::size_t total, std::string_view note = {}) const;
  // Erases the line, so that what follows starts on a clean one.
  void clear() const;

 private:
  std::string label_;
  bool enabled_;
};

}  // namespace coffer::cli

#endif  // COFFER_CLI_PROGRESS_HPP
