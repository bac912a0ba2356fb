#include "fake_agent.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace coffer::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Local = asio::local::stream_protocol;

FakeAnswer value_answer(const std::string &key, const std::string &value) {
  boost::json::object body;
  body[key] = value;
  return {200, boost::json::serialize(body)};
}

FakeAnswer error_answer(unsigned status, const std::string &code, const std::string &message) {
  boost::json::object body;
  body["errorCode"] = code;
  body["message"] = message;
  return {status, boost::json::serialize(body)};
}

std::function<FakeAnswer(const std::string &)> serving(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string &target) {
    const std::string prefix = "/v1.0/secrets/coffer/";
    if (target.rfind(prefix, 0) == 0) {
      std::string key = target.substr(prefix.size());
      if (auto it = values.find(key); it != values.end()) return value_answer(key, it->second);
      return error_answer(500, "ERR_SECRET_GET",
                          "failed getting secret with key " + key +
                              " from secret store coffer: not_found: no provider has " + key);
    }
    return error_answer(404, "ERR_NOT_FOUND", "no such route");
  };
}

class FakeAgent::Impl {
 public:
  Impl(const std::filesystem::path &socket, Responder responder)
      : responder_(std::move(responder)), acceptor_(io_, Local::endpoint(socket.string())) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Impl() {
    io_.stop();
    thread_.join();
  }

  std::vector<std::string> targets() const {
    std::lock_guard lock(mutex_);
    return targets_;
  }
  std::size_t connections() const { return connections_.load(); }

 private:
  struct Session {
    explicit Session(Local::socket s) : socket(std::move(s)) {}
    Local::socket socket;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::response<http::string_body> response;
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code error, Local::socket socket) {
      if (error) return;
      ++connections_;
      read(std::make_shared<Session>(std::move(socket)));
      accept();
    });
  }

  void read(std::shared_ptr<Session> session) {
    session->request = {};
    http::async_read(session->socket, session->buffer, session->request,
                     [this, session](boost::system::error_code error, std::size_t) {
                       if (error) return;
                       answer(session);
                     });
  }

  void answer(std::shared_ptr<Session> session) {
    std::string target(session->request.target());
    {
      std::lock_guard lock(mutex_);
      targets_.push_back(target);
    }
    FakeAnswer answer = responder_(target);
    if (answer.silent) {
      silent_.push_back(session);  // kept open, never answered
      return;
    }
    auto &response = session->response;
    response = {};
    response.result(answer.status);
    response.version(11);
    response.set(http::field::content_type, "application/json");
    response.set(http::field::cache_control, "no-store");
    response.body() = answer.body;
    response.keep_alive(!answer.close);
    response.prepare_payload();
    http::async_write(session->socket, response,
                      [this, session, close = answer.close || answer.hang_up](
                          boost::system::error_code error, std::size_t) {
                        if (error || close) return;
                        read(session);
                      });
  }

  Responder responder_;
  asio::io_context io_;
  Local::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> targets_;
  std::atomic<std::size_t> connections_{0};
  std::vector<std::shared_ptr<Session>> silent_;
};

FakeAgent::FakeAgent(const std::filesystem::path &socket, Responder responder)
    : impl_(std::make_unique<Impl>(socket, std::move(responder))) {}
FakeAgent::~FakeAgent() = default;

std::vector<std::string> FakeAgent::targets() const {
  return impl_->targets();
}
std::size_t FakeAgent::connections() const {
  return impl_->connections();
}

}  // namespace coffer::test
