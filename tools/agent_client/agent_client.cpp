#include "agent_client.hpp"

#include <coffer/provider.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/vector_body.hpp>
#include <boost/beast/http/write.hpp>

#include "agent_answer.hpp"

namespace coffer::tools {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using coffer::provider::SecretAllocator;
using Local = asio::local::stream_protocol;
using Stream = beast::basic_stream<Local, asio::any_io_executor, beast::unlimited_rate_policy>;
using SecretBuffer = beast::basic_flat_buffer<SecretAllocator<char>>;
using AnswerBody = http::vector_body<char, SecretAllocator<char>>;

// "/v1.0/secrets/coffer/" + the key with every byte outside the unreserved
// set percent-encoded (a canonical key has none; anything else reaches the
// agent intact and is refused there with its own message).
std::string path_of(std::string_view prefix, std::string_view name) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out(prefix);
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 0xf]);
    }
  }
  return out;
}

// Consumed bytes stay in the buffer's memory until overwritten: wiped after
// each answer, not only when the buffer is freed.
void wipe_read_bytes(SecretBuffer &buffer) {
  buffer.clear();
  auto space = buffer.prepare(buffer.capacity());
  coffer::provider::wipe(space.data(), space.size());
}

bool nothing_listens(const error_code &error) {
  return error == boost::system::errc::no_such_file_or_directory ||
         error == boost::system::errc::connection_refused;
}

}  // namespace

class AgentClient::Impl {
 public:
  Impl(std::filesystem::path socket, AgentClientOptions options)
      : socket_(std::move(socket)), options_(options), stream_(io_) {}

  // false: nothing listens at the socket.
  bool connect() {
    Local::endpoint endpoint;
    try {
      endpoint = Local::endpoint(socket_.string());
    } catch (const boost::system::system_error &) {
      throw Error(Code::invalid_config, "the agent socket " + socket_.string() +
                                            " is too long for a socket address (at most " +
                                            std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                                            " bytes)");
    }
    stream_.expires_after(options_.timeout);
    error_code error = run([&](auto handler) { stream_.async_connect(endpoint, handler); });
    if (!error) {
      connected_ = true;
      return true;
    }
    if (nothing_listens(error)) return false;
    if (error == boost::system::errc::permission_denied)
      throw Error(Code::denied, "the agent socket " + socket_.string() +
                                    " refuses this user (permission denied); ask for its group, "
                                    "or see docs/agent.md");
    throw Error(error == beast::error::timeout ? Code::timeout : Code::unavailable,
                "cannot connect to the agent at " + socket_.string() + ": " + error.message());
  }

  Result get(std::string_view key) {
    Result result;
    Answer answer = exchange(path_of("/v1.0/secrets/coffer/", key));
    if (!answer.error.empty()) {
      result.code = answer.code;
      result.message = answer.error;
      return result;
    }
    return secret_of_answer(answer.status, answer.body, key);
  }

  std::vector<HelperEntry> helpers(std::string_view tool) {
    Answer answer = exchange(path_of("/v1.0-coffer/helpers/", tool));
    if (!answer.error.empty()) throw Error(answer.code, answer.error);
    return helpers_of_answer(answer.status, answer.body, tool);
  }

  const std::filesystem::path &socket() const noexcept { return socket_; }

 private:
  struct Answer {
    unsigned status = 0;
    std::vector<char, SecretAllocator<char>> body;
    Code code = Code::ok;
    std::string error;  // a failure to talk to the agent; empty when it answered
  };

  // Runs one asynchronous operation to its end under the stream's deadline.
  template <class Start>
  error_code run(Start start) {
    error_code result = asio::error::would_block;
    start([&result](error_code error, auto &&...) { result = error; });
    io_.restart();
    io_.run();
    return result;
  }

  Answer exchange(const std::string &target) {
    if (!connected_ && !connect())
      return failure(Code::unavailable, "the agent at " + socket_.string() + " has gone");
    // An idle connection the agent has closed fails before any answer
    // arrives: a GET is safe to send again, once, on a new connection.
    const bool reused = requests_ > 0;
    Answer answer = exchange_once(target);
    if (reused && answer.status == 0 && !answer_started_ && answer.code == Code::unavailable) {
      if (!connect())
        return failure(Code::unavailable, "the agent at " + socket_.string() + " has gone");
      answer = exchange_once(target);
    }
    return answer;
  }

  Answer exchange_once(const std::string &target) {
    ++requests_;
    answer_started_ = false;
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, "localhost");
    request.set(http::field::user_agent, "coffer-tools");
    request.keep_alive(true);
    stream_.expires_after(options_.timeout);
    error_code error = run([&](auto handler) { http::async_write(stream_, request, handler); });
    if (error) return transport_failure(error);

    http::response_parser<AnswerBody> parser;
    parser.body_limit(options_.max_answer_bytes);
    error = run([&](auto handler) { http::async_read(stream_, buffer_, parser, handler); });
    answer_started_ = buffer_.size() > 0 || parser.got_some();
    stream_.expires_never();
    if (error) {
      wipe_read_bytes(buffer_);
      if (error == http::error::body_limit)
        return failure(Code::data_error, "the agent's answer exceeds " +
                                             std::to_string(options_.max_answer_bytes) + " bytes");
      return transport_failure(error);
    }
    auto response = parser.release();
    if (!response.keep_alive()) {
      stream_.close();
      connected_ = false;
    }
    wipe_read_bytes(buffer_);
    Answer answer;
    answer.status = response.result_int();
    answer.body = std::move(response.body());
    return answer;
  }

  Answer transport_failure(const error_code &error) {
    stream_.close();
    connected_ = false;
    if (error == beast::error::timeout)
      return failure(Code::timeout, "the agent at " + socket_.string() + " did not answer within " +
                                        std::to_string(options_.timeout.count()) + " ms");
    return failure(Code::unavailable, "lost the connection to the agent at " + socket_.string() +
                                          ": " + error.message());
  }

  static Answer failure(Code code, std::string message) {
    Answer answer;
    answer.code = code;
    answer.error = std::move(message);
    return answer;
  }

  std::filesystem::path socket_;
  AgentClientOptions options_;
  asio::io_context io_;
  Stream stream_;
  SecretBuffer buffer_;
  bool connected_ = false;
  bool answer_started_ = false;
  std::size_t requests_ = 0;
};

std::unique_ptr<AgentClient> AgentClient::connect(const std::filesystem::path &socket,
                                                  AgentClientOptions options) {
  auto impl = std::make_unique<Impl>(socket, options);
  if (!impl->connect()) return nullptr;
  return std::unique_ptr<AgentClient>(new AgentClient(std::move(impl)));
}

AgentClient::AgentClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AgentClient::~AgentClient() = default;

const std::filesystem::path &AgentClient::socket() const noexcept {
  return impl_->socket();
}

Result AgentClient::get(std::string_view key) {
  return impl_->get(key);
}

std::vector<HelperEntry> AgentClient::helpers(std::string_view tool) {
  return impl_->helpers(tool);
}

}  // namespace coffer::tools
