// Test support: a tiny HTTP CONNECT proxy on loopback. It records the target
// of every CONNECT, opens the tunnel to 127.0.0.1 at the target's port (every
// host name is loopback here) and relays bytes both ways; or it refuses every
// tunnel with a given status. Runs on its own thread until destroyed.
#ifndef COFFER_TESTS_AZURE_KEYVAULT_CONNECT_PROXY_HPP
#define COFFER_TESTS_AZURE_KEYVAULT_CONNECT_PROXY_HPP

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kvtest {

class ConnectProxy {
 public:
  explicit ConnectProxy(int refuse_with = 0)
      : refuse_with_(refuse_with), acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ConnectProxy() {
    io_.stop();
    thread_.join();
  }
  ConnectProxy(const ConnectProxy &) = delete;
  ConnectProxy &operator=(const ConnectProxy &) = delete;

  [[nodiscard]] int port() const { return acceptor_.local_endpoint().port(); }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  [[nodiscard]] std::vector<std::string> targets() const {
    std::lock_guard lock(mutex_);
    return targets_;
  }
  [[nodiscard]] std::vector<std::string> authorizations() const {
    std::lock_guard lock(mutex_);
    return authorizations_;
  }

 private:
  using tcp = boost::asio::ip::tcp;

  boost::asio::awaitable<void> accept_loop() {
    while (true) {
      boost::system::error_code error;
      tcp::socket client = co_await acceptor_.async_accept(
          boost::asio::redirect_error(boost::asio::use_awaitable, error));
      if (error) co_return;
      boost::asio::co_spawn(io_, serve(std::make_shared<tcp::socket>(std::move(client))),
                            boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> serve(std::shared_ptr<tcp::socket> client) {
    boost::system::error_code error;
    boost::asio::streambuf head;
    const std::size_t length = co_await boost::asio::async_read_until(
        *client, head, "\r\n\r\n", boost::asio::redirect_error(boost::asio::use_awaitable, error));
    if (error) co_return;
    std::string text(boost::asio::buffers_begin(head.data()),
                     boost::asio::buffers_begin(head.data()) + static_cast<long>(length));
    head.consume(length);
    std::string line = text.substr(0, text.find("\r\n"));
    std::string target;
    if (line.rfind("CONNECT ", 0) == 0) target = line.substr(8, line.find(' ', 8) - 8);
    std::string authorization;
    auto at = text.find("Proxy-Authorization: ");
    if (at != std::string::npos)
      authorization = text.substr(at + 21, text.find("\r\n", at) - at - 21);
    {
      std::lock_guard lock(mutex_);
      targets_.push_back(target);
      authorizations_.push_back(authorization);
    }
    if (refuse_with_ != 0 || target.empty()) {
      std::string answer = "HTTP/1.1 " + std::to_string(refuse_with_ != 0 ? refuse_with_ : 400) +
                           " Refused\r\nContent-Length: 0\r\n\r\n";
      co_await boost::asio::async_write(
          *client, boost::asio::buffer(answer),
          boost::asio::redirect_error(boost::asio::use_awaitable, error));
      co_return;
    }
    auto upstream = std::make_shared<tcp::socket>(io_);
    const auto port = static_cast<unsigned short>(std::stoi(target.substr(target.rfind(':') + 1)));
    co_await upstream->async_connect(
        {boost::asio::ip::make_address("127.0.0.1"), port},
        boost::asio::redirect_error(boost::asio::use_awaitable, error));
    if (error) co_return;
    const std::string established = "HTTP/1.1 200 Connection established\r\n\r\n";
    co_await boost::asio::async_write(
        *client, boost::asio::buffer(established),
        boost::asio::redirect_error(boost::asio::use_awaitable, error));
    if (error) co_return;
    if (head.size() != 0)
      co_await boost::asio::async_write(
          *upstream, head.data(), boost::asio::redirect_error(boost::asio::use_awaitable, error));
    boost::asio::co_spawn(io_, relay(upstream, client), boost::asio::detached);
    co_await relay(client, upstream);
  }

  static boost::asio::awaitable<void> relay(std::shared_ptr<tcp::socket> from,
                                            std::shared_ptr<tcp::socket> to) {
    std::vector<char> buffer(16384);
    while (true) {
      boost::system::error_code error;
      const std::size_t count = co_await from->async_read_some(
          boost::asio::buffer(buffer),
          boost::asio::redirect_error(boost::asio::use_awaitable, error));
      if (error) break;
      co_await boost::asio::async_write(
          *to, boost::asio::buffer(buffer.data(), count),
          boost::asio::redirect_error(boost::asio::use_awaitable, error));
      if (error) break;
    }
    boost::system::error_code ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
  }

  int refuse_with_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> targets_;
  std::vector<std::string> authorizations_;
};

}  // namespace kvtest

#endif  // COFFER_TESTS_AZURE_KEYVAULT_CONNECT_PROXY_HPP
