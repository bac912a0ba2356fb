#include "base/file_watcher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace coffer::detail {

FileWatcher::FileWatcher(const std::filesystem::path &file, std::function<void()> on_event,
                         std::chrono::milliseconds nudge)
    : on_event_(std::move(on_event)), nudge_(nudge) {
  stop_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  inotify_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_ >= 0) {
    auto dir = std::filesystem::absolute(file).parent_path();
    constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB |
                               IN_MODIFY | IN_MOVE_SELF | IN_DELETE_SELF;
    if (::inotify_add_watch(inotify_, dir.c_str(), kMask) < 0) {
      ::close(inotify_);
      inotify_ = -1;
    }
  }
  thread_ = std::thread([this] { run(); });
}

FileWatcher::~FileWatcher() {
  uint64_t one = 1;
  if (stop_ >= 0) (void)!::write(stop_, &one, sizeof one);
  thread_.join();
  if (inotify_ >= 0) ::close(inotify_);
  if (stop_ >= 0) ::close(stop_);
}

void FileWatcher::run() {
  pollfd fds[2] = {{stop_, POLLIN, 0}, {inotify_, POLLIN, 0}};
  nfds_t count = inotify_ >= 0 ? 2 : 1;
  alignas(inotify_event) char buffer[4096];
  for (;;) {
    int ready = ::poll(fds, count, static_cast<int>(nudge_.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready > 0 && (fds[0].revents & POLLIN) != 0) return;
    if (ready > 0 && count == 2 && (fds[1].revents & POLLIN) != 0) {
      // Drain: one burst of events (an editor's write, rename, chmod) is one
      // reason to look.
      while (::read(inotify_, buffer, sizeof buffer) > 0) {
      }
    }
    // Either an event or the periodic nudge: let the owner compare.
    on_event_();
  }
}

}  // namespace coffer::detail
