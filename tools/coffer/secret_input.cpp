#include "secret_input.hpp"

#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <coffer/error.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace coffer::cli {
namespace {

// A growable byte buffer whose every copy is wiped: growing copies into a new
// block and wipes the old one, so no stale copy of the value stays in freed
// memory.
class WipedBuffer {
 public:
  WipedBuffer() = default;
  WipedBuffer(const WipedBuffer &) = delete;
  WipedBuffer &operator=(const WipedBuffer &) = delete;
  ~WipedBuffer() { release(); }

  [[nodiscard]] char *data() { return data_; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] std::string_view view() const { return {data_, size_}; }
  // Room for at least `more` bytes past size().
  char *reserve(std::size_t more) {
    if (capacity_ - size_ >= more) return data_ + size_;
    std::size_t capacity = std::max(capacity_ * 2, size_ + more);
    auto *grown = static_cast<char *>(std::malloc(capacity));
    if (grown == nullptr) throw std::bad_alloc();
    if (size_ > 0) std::memcpy(grown, data_, size_);
    release();
    data_ = grown;
    capacity_ = capacity;
    return data_ + size_;
  }
  void grow(std::size_t added) { size_ += added; }
  void shrink(std::size_t removed) {
    explicit_bzero(data_ + size_ - removed, removed);
    size_ -= removed;
  }

 private:
  void release() {
    if (data_ != nullptr) {
      explicit_bzero(data_, capacity_);
      std::free(data_);
    }
    data_ = nullptr;
    capacity_ = 0;
  }
  char *data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

Error too_large(std::size_t limit) {
  return Error(Code::invalid_argument, "the value on standard input is larger than " +
                                           std::to_string(limit) + " bytes; nothing was stored");
}

Error read_error() {
  return Error(Code::internal, std::string("cannot read standard input: ") + std::strerror(errno));
}

// Reads until end of input.
void read_all(WipedBuffer &buffer, std::size_t limit) {
  for (;;) {
    char *at = buffer.reserve(4096);
    ssize_t n = ::read(STDIN_FILENO, at, 4096);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw read_error();
    if (n == 0) return;
    buffer.grow(static_cast<std::size_t>(n));
    if (buffer.size() > limit) throw too_large(limit);
  }
}

// The terminal's settings while echo is off, so that a signal that ends the
// process can give the user their echo back. A signal handler can reach
// nothing else, hence the file-level state; it is set only while a prompt
// is waiting for input.
struct EchoState {
  struct termios saved {};
  volatile sig_atomic_t active = 0;
};
EchoState echo_state;

constexpr int kRestoreSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

extern "C" void restore_echo_and_raise(int signal_number) {
  if (echo_state.active != 0) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &echo_state.saved);
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

// Turns echo off for its lifetime.
class EchoOff {
 public:
  EchoOff() {
    if (::tcgetattr(STDIN_FILENO, &echo_state.saved) != 0)
      throw Error(Code::internal,
                  std::string("cannot read the terminal's settings: ") + std::strerror(errno));
    struct sigaction action {};
    action.sa_handler = &restore_echo_and_raise;
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < std::size(kRestoreSignals); ++i)
      ::sigaction(kRestoreSignals[i], &action, &previous_[i]);
    echo_state.active = 1;
    struct termios quiet = echo_state.saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ICANON;
    if (::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
      restore();
      throw Error(Code::internal,
                  std::string("cannot turn the terminal's echo off: ") + std::strerror(errno));
    }
  }
  EchoOff(const EchoOff &) = delete;
  EchoOff &operator=(const EchoOff &) = delete;
  ~EchoOff() { restore(); }

 private:
  void restore() noexcept {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &echo_state.saved);
    echo_state.active = 0;
    for (std::size_t i = 0; i < std::size(kRestoreSignals); ++i)
      ::sigaction(kRestoreSignals[i], &previous_[i], nullptr);
  }
  struct sigaction previous_[std::size(kRestoreSignals)]{};
};

void prompt(const std::string &text) {
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
}

// Reads one line (without its newline) from the terminal.
void read_line(WipedBuffer &buffer, std::size_t limit) {
  for (;;) {
    char *at = buffer.reserve(1);
    ssize_t n = ::read(STDIN_FILENO, at, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw read_error();
    if (n == 0 || *at == '\n') {
      *at = '\0';
      return;
    }
    buffer.grow(1);
    if (buffer.size() > limit) throw too_large(limit);
  }
}

Secret read_from_terminal(const SecretInput &input) {
  WipedBuffer first;
  WipedBuffer second;
  {
    EchoOff echo_off;
    prompt("Value for " + input.key + " (input hidden): ");
    read_line(first, input.limit);
    prompt("\nRepeat the value: ");
    read_line(second, input.limit);
    prompt("\n");
  }
  Secret value = Secret::copy_of(first.view());
  if (!value.equals(Secret::copy_of(second.view())))
    throw Error(Code::invalid_argument, "the two entries differ; nothing was stored");
  return value;
}

}  // namespace

Secret read_secret(const SecretInput &input) {
  if (::isatty(STDIN_FILENO) == 1) return read_from_terminal(input);
  WipedBuffer buffer;
  read_all(buffer, input.limit);
  if (!input.raw && buffer.size() > 0 && buffer.view().back() == '\n') {
    std::size_t strip = buffer.size() > 1 && buffer.view()[buffer.size() - 2] == '\r' ? 2 : 1;
    buffer.shrink(strip);
  }
  return Secret::copy_of(buffer.view());
}

}  // namespace coffer::cli
