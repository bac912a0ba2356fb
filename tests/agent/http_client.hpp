// Test support: a small blocking HTTP/1.1 client over a Unix socket or
// loopback TCP in which every wait has a deadline, so that a test of the
// agent fails instead of hanging. Header-only.
#ifndef COFFER_TESTS_AGENT_HTTP_CLIENT_HPP
#define COFFER_TESTS_AGENT_HTTP_CLIENT_HPP

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace coffer::test {

using namespace std::chrono_literals;

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  bool complete = false;  // the whole body as Content-Length announced it

  [[nodiscard]] std::string header(const std::string &name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Reads a response's status line and header fields (`head`, without the
// empty line that ends it) into `reply`; false when the status line is not
// one.
inline bool parse_reply_head(const std::string &head, HttpReply &reply) {
  std::size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return false;
  reply.status = std::stoi(status_line.substr(9, 3));
  std::size_t at = line_end == std::string::npos ? head.size() : line_end + 2;
  while (at < head.size()) {
    std::size_t next = head.find("\r\n", at);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(at, next - at);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (auto &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      reply.headers[name] = value;
    }
    at = next + 2;
  }
  return true;
}

class HttpConnection {
 public:
  static HttpConnection unix_socket(const std::string &path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), std::min(path.size(), sizeof address.sun_path - 1));
    if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
      int error = errno;
      ::close(fd);
      throw std::runtime_error("connect " + path + ": " + std::strerror(error));
    }
    return HttpConnection(fd);
  }
  static HttpConnection tcp(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
      int error = errno;
      ::close(fd);
      throw std::runtime_error("connect 127.0.0.1:" + std::to_string(port) + ": " +
                               std::strerror(error));
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return HttpConnection(fd);
  }

  HttpConnection(HttpConnection &&other) noexcept
      : fd_(std::exchange(other.fd_, -1)), pending_(std::move(other.pending_)) {}
  HttpConnection &operator=(HttpConnection &&other) noexcept {
    if (this != &other) {
      close();
      fd_ = std::exchange(other.fd_, -1);
      pending_ = std::move(other.pending_);
    }
    return *this;
  }
  ~HttpConnection() { close(); }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  [[nodiscard]] int fd() const { return fd_; }

  // Sends raw bytes; false when the peer closed.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // A GET with keep-alive and the given extra header lines ("Name: value\r\n").
  HttpReply get(const std::string &target, const std::string &headers = {},
                std::chrono::milliseconds deadline = 20s) {
    send("GET " + target + " HTTP/1.1\r\nHost: agent\r\n" + headers + "\r\n");
    return read_reply(deadline);
  }

  // Reads one response. status 0: the connection closed (or the deadline
  // passed) before a whole header arrived; complete false: the body was cut.
  HttpReply read_reply(std::chrono::milliseconds deadline = 20s) {
    auto until = std::chrono::steady_clock::now() + deadline;
    HttpReply reply;
    std::size_t end = std::string::npos;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
      if (!fill(until)) return reply;
    std::string head = pending_.substr(0, end);
    pending_.erase(0, end + 4);
    if (!parse_reply_head(head, reply)) return reply;
    std::size_t length = 0;
    if (auto it = reply.headers.find("content-length"); it != reply.headers.end())
      length = std::stoul(it->second);
    while (pending_.size() < length)
      if (!fill(until)) break;
    std::size_t taken = std::min(length, pending_.size());
    reply.body = pending_.substr(0, taken);
    pending_.erase(0, taken);
    reply.complete = taken == length;
    return reply;
  }

  // Whether the peer closes the connection (end of file or reset) within
  // `deadline`, discarding what it sends meanwhile.
  bool closed_within(std::chrono::milliseconds deadline) {
    auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      int left = remaining_ms(until);
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, left);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
      char buffer[4096];
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return true;
      pending_.append(buffer, static_cast<std::size_t>(n));
    }
  }

  [[nodiscard]] const std::string &pending() const { return pending_; }

 private:
  explicit HttpConnection(int fd) : fd_(fd) {}

  static int remaining_ms(std::chrono::steady_clock::time_point until) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<long long>(0, left.count()));
  }

  bool fill(std::chrono::steady_clock::time_point until) {
    for (;;) {
      int left = remaining_ms(until);
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, left);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
      char buffer[16384];
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      pending_.append(buffer, static_cast<std::size_t>(n));
      return true;
    }
  }

  int fd_ = -1;
  std::string pending_;
};

}  // namespace coffer::test

#endif  // COFFER_TESTS_AGENT_HTTP_CLIENT_HPP
