// Tells when a file may have changed: inotify on its directory (which sees
// editors that replace the file by rename, and Kubernetes ConfigMap updates
// that swap a symlinked directory), with a slow periodic nudge as a safety
// net for file systems without inotify. The callback runs on the watcher's
// thread and must only schedule work; the caller compares the file itself.
#ifndef COFFER_CORE_FILE_WATCHER_HPP
#define COFFER_CORE_FILE_WATCHER_HPP

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

namespace coffer::detail {

class FileWatcher {
 public:
  FileWatcher(const std::filesystem::path &file, std::function<void()> on_event,
              std::chrono::milliseconds nudge = std::chrono::seconds(2));
  ~FileWatcher();
  FileWatcher(const FileWatcher &) = delete;
  FileWatcher &operator=(const FileWatcher &) = delete;

  // Whether inotify watches the directory (false: nudges only).
  [[nodiscard]] bool using_inotify() const { return inotify_ >= 0; }

 private:
  void run();
  std::function<void()> on_event_;
  std::chrono::milliseconds nudge_;
  int inotify_ = -1;
  int stop_ = -1;  // eventfd
  std::thread thread_;
};

}  // namespace coffer::detail

#endif  // COFFER_CORE_FILE_WATCHER_HPP
