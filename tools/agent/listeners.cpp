#include "listeners.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <coffer/error.hpp>
#include <coffer/file_ownership.hpp>

#include <boost/asio/ip/address.hpp>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace coffer::agent {
namespace {

namespace fs = std::filesystem;
using local = boost::asio::local::stream_protocol;

std::string system_error(int error) {
  return std::strerror(error);
}

// Creates the missing directories on the way to `directory` with mode 0750,
// then checks that no other user may write the directory that holds the socket.
void prepare_directory(const fs::path &directory) {
  std::vector<fs::path> missing;
  for (fs::path at = directory; !at.empty(); at = at.parent_path()) {
    struct stat info {};
    if (::stat(at.c_str(), &info) == 0) break;
    missing.push_back(at);
    if (at == at.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0750) != 0 && errno != EEXIST)
      throw Error(Code::unavailable, "cannot create the socket directory " + it->string() + ": " +
                                         system_error(errno));
    ::chmod(it->c_str(), 0750);  // whatever the umask took away or added
  }
  struct stat info {};
  if (::stat(directory.c_str(), &info) != 0)
    throw Error(Code::unavailable, "cannot examine the socket directory " + directory.string() +
                                       ": " + system_error(errno));
  if (!S_ISDIR(info.st_mode))
    throw Error(Code::invalid_config,
                "the socket's directory " + directory.string() + " is not a directory");
  std::string reason =
      provider::untrusted_directory_reason(info, directory, provider::DirectoryRole::holds_file);
  if (!reason.empty()) throw Error(Code::invalid_config, "socket directory: " + reason);
}

sockaddr_un socket_address(const fs::path &path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string &text = path.native();
  if (text.empty() || text.size() >= sizeof address.sun_path)
    throw Error(Code::invalid_argument, "--socket: the path " + text + " is longer than the " +
                                            std::to_string(sizeof address.sun_path - 1) +
                                            " bytes a Unix socket path may have");
  std::memcpy(address.sun_path, text.data(), text.size());
  return address;
}

// Whether an agent answers on the socket at `path`.
bool live_agent_at(const sockaddr_un &address) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool live = ::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) == 0;
  ::close(fd);
  return live;
}

// Removes what an agent that died left at `path`; refuses anything else.
void clear_stale_socket(const fs::path &path, const sockaddr_un &address) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return;
  if (!S_ISSOCK(info.st_mode))
    throw Error(Code::invalid_config, "--socket: " + path.string() +
                                          " exists and is not a socket; remove it or choose "
                                          "another path");
  if (live_agent_at(address))
    throw Error(Code::invalid_config, "--socket: an agent is already serving on " + path.string() +
                                          "; stop it first or choose another path");
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw Error(Code::unavailable,
                "cannot remove the stale socket " + path.string() + ": " + system_error(errno));
}

bool is_loopback(const boost::asio::ip::address &address) {
  if (address.is_v4()) return address.to_v4().is_loopback();
  return address.to_v6().is_loopback();
}

}  // namespace

mode_t parse_socket_mode(std::string_view text) {
  unsigned value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 8);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value > 07777)
    throw Error(Code::invalid_argument, "--socket-mode expects an octal mode such as 0660 or 0600");
  if ((value & ~0660u) != 0)
    throw Error(Code::invalid_argument,
                "--socket-mode must be 0660 or stricter: others may never connect, and no one "
                "needs execute or special bits on a socket");
  return static_cast<mode_t>(value);
}

gid_t parse_group(std::string_view text) {
  std::string name(text);
  unsigned long number = 0;
  auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (!name.empty() && error == std::errc() && end == name.data() + name.size())
    return static_cast<gid_t>(number);
  std::vector<char> buffer(16384);
  group entry{};
  group *found = nullptr;
  if (::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr)
    throw Error(Code::invalid_argument, "--socket-group: no group named '" + name + "'");
  return found->gr_gid;
}

local::acceptor open_unix_listener(const boost::asio::any_io_executor &executor,
                                   const UnixSocketOptions &options) {
  if ((options.mode & ~0660u) != 0)
    throw Error(Code::invalid_argument, "the socket mode must be 0660 or stricter");
  fs::path path = options.path;
  sockaddr_un address = socket_address(path);
  prepare_directory(path.parent_path().empty() ? fs::path(".") : path.parent_path());
  clear_stale_socket(path, address);

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error(Code::unavailable, "cannot create a Unix socket: " + system_error(errno));
  mode_t previous = ::umask(0177);  // nobody but the owner until chmod below
  int bound = ::bind(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address);
  int bind_error = errno;
  ::umask(previous);
  auto fail = [&](const std::string &what, int error) {
    ::close(fd);
    ::unlink(path.c_str());
    throw Error(Code::unavailable, what + " " + path.string() + ": " + system_error(error));
  };
  if (bound != 0) {
    ::close(fd);
    throw Error(Code::unavailable,
                "cannot bind " + path.string() + ": " + system_error(bind_error));
  }
  if (options.group && ::chown(path.c_str(), static_cast<uid_t>(-1), *options.group) != 0)
    fail("cannot give the group " + std::to_string(*options.group) + " to", errno);
  if (::chmod(path.c_str(), options.mode) != 0) fail("cannot set the mode of", errno);
  if (::listen(fd, SOMAXCONN) != 0) fail("cannot listen on", errno);
  local::acceptor acceptor(executor);
  boost::system::error_code ec;
  acceptor.assign(local(), fd, ec);
  if (ec) fail("cannot use the socket", ec.value());
  return acceptor;
}

namespace {

std::string octal(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", mode);
  return text;
}

}  // namespace

std::optional<ActivatedSocket> activated_unix_listener(
    const boost::asio::any_io_executor &executor) {
  const char *pid_text = std::getenv("LISTEN_PID");
  const char *count_text = std::getenv("LISTEN_FDS");
  if (pid_text == nullptr || count_text == nullptr) return std::nullopt;
  std::string_view pid_view(pid_text), count_view(count_text);
  long pid = 0;
  int count = 0;
  auto pid_parsed = std::from_chars(pid_view.data(), pid_view.data() + pid_view.size(), pid);
  auto count_parsed =
      std::from_chars(count_view.data(), count_view.data() + count_view.size(), count);
  if (pid_parsed.ec != std::errc() || pid != static_cast<long>(::getpid())) return std::nullopt;
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  auto refuse = [](const std::string &why) {
    return Error(Code::invalid_config,
                 "socket activation: " + why +
                     "; coffer serve takes one Unix stream socket (ListenStream=/run/coffer/"
                     "coffer.sock in coffer.socket, see docs/deploy/)");
  };
  if (count_parsed.ec != std::errc() || count != 1)
    throw refuse("systemd passed " + std::string(count_view) + " sockets");
  constexpr int fd = 3;  // SD_LISTEN_FDS_START
  sockaddr_un address{};
  socklen_t size = sizeof address;
  int type = 0, listening = 0;
  socklen_t type_size = sizeof type, listening_size = sizeof listening;
  if (::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &size) != 0 ||
      address.sun_family != AF_UNIX ||
      ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_size) != 0 || type != SOCK_STREAM ||
      ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &listening_size) != 0 ||
      listening == 0)
    throw refuse("descriptor 3 is not a listening Unix stream socket");
  std::size_t length = size > offsetof(sockaddr_un, sun_path)
                           ? ::strnlen(address.sun_path, size - offsetof(sockaddr_un, sun_path))
                           : 0;
  fs::path path(std::string(address.sun_path, length));
  struct stat status {};
  if (path.empty() || ::stat(path.c_str(), &status) != 0)
    throw refuse("the socket passed has no path in the file system");
  if ((status.st_mode & 07777 & ~0660u) != 0)
    throw refuse(path.string() + " has mode " + octal(status.st_mode & 07777) +
                 ", which grants more than 0660 (SocketMode=0660)");
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  ActivatedSocket activated{local::acceptor(executor), path};
  boost::system::error_code ec;
  activated.acceptor.assign(local(), fd, ec);
  if (ec) throw refuse("cannot use descriptor 3: " + ec.message());
  return activated;
}

boost::asio::ip::tcp::acceptor open_tcp_listener(const boost::asio::any_io_executor &executor,
                                                 std::string_view text,
                                                 const TcpListenerRules &rules) {
  std::string_view option = rules.option;
  auto colon = text.rfind(':');
  auto refuse = [&](const std::string &why) -> Error {
    return Error(Code::invalid_argument,
                 std::string(option) + " " + std::string(text) + ": " + why);
  };
  if (colon == std::string_view::npos || colon == 0)
    throw refuse("expected HOST:PORT, e.g. 127.0.0.1:3500");
  std::string host(text.substr(0, colon));
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535)
    throw refuse("the port must be a number from 0 to 65535");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  if (ec && rules.any_address)
    throw refuse("the host must be an IP address (0.0.0.0, [::], 192.0.2.10) or localhost");
  if (ec) throw refuse("the host must be a loopback address (127.0.0.1, [::1] or localhost)");
  if (!rules.any_address && !is_loopback(address))
    throw refuse(
        "only loopback addresses are served: the TCP listener is plain HTTP and must not "
        "leave this machine (" +
        std::string(rules.remote_advice) + ")");
  boost::asio::ip::tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  boost::asio::ip::tcp::acceptor acceptor(executor);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw Error(Code::unavailable,
                std::string(option) + " " + std::string(text) + ": " + ec.message());
  return acceptor;
}

}  // namespace coffer::agent
