// An owned POSIX file descriptor, closed when its owner is destroyed.
//
// Header-only. Move-only; one owner at a time. Not thread-safe: an object
// needs external synchronisation if several threads use it.
#ifndef COFFER_FILE_DESCRIPTOR_HPP
#define COFFER_FILE_DESCRIPTOR_HPP

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace coffer::provider {

class FileDescriptor {
 public:
  // Takes ownership of `fd`; a negative value (a failed open()) owns nothing.
  explicit FileDescriptor(int fd = -1) noexcept : fd_(fd) {}
  FileDescriptor(FileDescriptor &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor &operator=(FileDescriptor &&other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor &) = delete;
  FileDescriptor &operator=(const FileDescriptor &) = delete;
  // Closes the descriptor; a close() error is lost (call reset() to see it).
  ~FileDescriptor() { reset(); }

  // The descriptor, still owned by this object (-1 when none).
  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  // Closes the descriptor now; returns close()'s errno, 0 on success or when
  // there was none. Owns nothing afterwards.
  int reset() noexcept {
    int error = 0;
    if (fd_ >= 0 && ::close(fd_) != 0) error = errno;
    fd_ = -1;
    return error;
  }
  // Gives the descriptor up without closing it: the caller owns it now.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace coffer::provider

#endif  // COFFER_FILE_DESCRIPTOR_HPP
