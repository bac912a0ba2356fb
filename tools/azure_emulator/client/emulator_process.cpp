#include "emulator_process.hpp"

#include <fcntl.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char **environ;

namespace coffer::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

constexpr const char *kControlName = "coffer-emulator-control";

std::filesystem::path executable() {
  if (const char *path = std::getenv("COFFER_AZURE_EMULATOR")) return path;
  if (const char *dir = std::getenv("COFFER_BINARY_DIR"))
    return std::filesystem::path(dir) / "bin" / "coffer-azure-emulator";
#ifdef COFFER_AZURE_EMULATOR_DEFAULT_PATH
  return COFFER_AZURE_EMULATOR_DEFAULT_PATH;
#else
  throw std::runtime_error(
      "coffer-azure-emulator not found: set COFFER_AZURE_EMULATOR or COFFER_BINARY_DIR");
#endif
}

std::string read_file(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs the pending asynchronous operation to completion; every operation has
// a deadline (tcp_stream::expires_after), so this cannot hang.
void finish(asio::io_context &io, const boost::system::error_code &ec) {
  io.restart();
  io.run();
  if (ec) throw boost::system::system_error(ec);
}

void open_tcp(asio::io_context &io, beast::tcp_stream &stream, int port,
              std::chrono::seconds timeout) {
  boost::system::error_code ec;
  stream.expires_after(timeout);
  stream.async_connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)},
                       [&ec](boost::system::error_code e) { ec = e; });
  finish(io, ec);
}

EmulatorReply to_reply(http::response<http::string_body> &message) {
  EmulatorReply reply;
  reply.status = static_cast<int>(message.result_int());
  for (const auto &field : message)
    reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  reply.body = std::move(message.body());
  return reply;
}

template <class Stream>
EmulatorReply exchange(asio::io_context &io, Stream &stream, const std::string &method,
                       const std::string &target, const Headers &headers, const std::string &body,
                       const std::string &host, std::chrono::seconds timeout) {
  http::request<http::string_body> request;
  request.method_string(method);
  request.target(target);
  request.version(11);
  request.set(http::field::host, host);
  for (const auto &[name, value] : headers) request.set(name, value);
  request.body() = body;
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    request.prepare_payload();
  boost::system::error_code ec;
  beast::get_lowest_layer(stream).expires_after(timeout);
  http::async_write(stream, request, [&ec](boost::system::error_code e, std::size_t) { ec = e; });
  finish(io, ec);
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;
  do {  // skip interim responses such as 100 Continue
    parser.emplace();
    parser->body_limit(64 * 1024 * 1024);
    http::async_read(stream, buffer, *parser,
                     [&ec](boost::system::error_code e, std::size_t) { ec = e; });
    finish(io, ec);
  } while (parser->get().result_int() / 100 == 1);
  return to_reply(parser->get());
}

void check(const EmulatorReply &reply, const std::string &what) {
  if (reply.status / 100 != 2)
    throw std::runtime_error("emulator control " + what +
                             " failed: " + std::to_string(reply.status) + " " + reply.body);
}

}  // namespace

std::string EmulatorReply::header(std::string_view name) const {
  for (const auto &[n, v] : headers)
    if (beast::iequals(n, name)) return v;
  return {};
}

bool EmulatorReply::has_header(std::string_view name) const {
  for (const auto &[n, v] : headers)
    if (beast::iequals(n, name)) return true;
  return false;
}

boost::json::value EmulatorReply::json() const {
  return boost::json::parse(body);
}

Emulator::Emulator(EmulatorOptions options) : options_(std::move(options)) {
  const std::filesystem::path program = executable();
  std::string pattern =
      (std::filesystem::temp_directory_path() / "coffer-azure-emulator-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  state_dir_ = pattern;
  try {
    start(program);
  } catch (...) {
    // A refused start (a bad option or seed) runs no destructor.
    std::error_code ignored;
    std::filesystem::remove_all(state_dir_, ignored);
    throw;
  }
}

Emulator::~Emulator() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(state_dir_, ignored);
}

std::string Emulator::set_secret(const std::string &name, const std::string &value,
                                 bool enabled) const {
  const auto reply =
      control("POST", "/_emulator/secrets",
              boost::json::object{{"name", name}, {"value", value}, {"enabled", enabled}});
  return std::string(reply.at("version").as_string());
}

std::optional<std::string> Emulator::secret_value(const std::string &name) const {
  const auto reply = https("GET", "/_emulator/secrets/" + name, {}, {}, kControlName);
  if (reply.status == 404) return std::nullopt;
  check(reply, "GET /_emulator/secrets/" + name);
  return std::string(reply.json().at("value").as_string());
}

void Emulator::deny(const std::string &name, const std::string &code) const {
  control("POST", "/_emulator/deny", boost::json::object{{"name", name}, {"code", code}});
}

void Emulator::allow(const std::string &name) const {
  control("POST", "/_emulator/allow", boost::json::object{{"name", name}});
}

void Emulator::inject(const std::string &route, const std::string &fault, int count) const {
  inject_rule(boost::json::object{{"route", route}, {"fault", fault}, {"count", count}});
}

void Emulator::inject_probability(const std::string &route, const std::string &fault,
                                  double p) const {
  inject_rule(boost::json::object{{"route", route}, {"fault", fault}, {"probability", p}});
}

void Emulator::inject_rule(const boost::json::object &rule) const {
  control("POST", "/_emulator/faults", rule);
}

void Emulator::reset_faults() const {
  control("POST", "/_emulator/reset-faults", {});
}

boost::json::object Emulator::configure(const std::string &json_object) const {
  const auto parsed = boost::json::parse(json_object);
  if (!parsed.is_object()) throw std::invalid_argument("configure() needs a JSON object");
  return control("POST", "/_emulator/config", parsed.as_object());
}

boost::json::object Emulator::stats() const {
  const auto reply = https("GET", "/_emulator/stats", {}, {}, kControlName);
  check(reply, "GET /_emulator/stats");
  return reply.json().as_object();
}

std::vector<std::string> Emulator::unexpired_tokens() const {
  const auto reply = https("GET", "/_emulator/tokens", {}, {}, kControlName);
  check(reply, "GET /_emulator/tokens");
  std::vector<std::string> tokens;
  const boost::json::value body = reply.json();
  for (const auto &token : body.at("tokens").as_array()) tokens.emplace_back(token.as_string());
  return tokens;
}

std::uint64_t Emulator::requests(const std::string &route) const {
  return stats().at("requests").at(route).to_number<std::uint64_t>();
}

void Emulator::reset_stats() const {
  control("POST", "/_emulator/reset-stats", {});
}

EmulatorReply Emulator::https(const std::string &method, const std::string &target,
                              const Headers &headers, const std::string &body,
                              const std::string &host, std::chrono::seconds timeout) const {
  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.load_verify_file(ca_file_.string());
  tls.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(io, tls);
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  const bool ip_literal = !ec;
  if (!ip_literal) SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
  SSL_set1_host(stream.native_handle(), host.c_str());
  open_tcp(io, beast::get_lowest_layer(stream), https_port_, timeout);
  stream.async_handshake(asio::ssl::stream_base::client,
                         [&ec](boost::system::error_code e) { ec = e; });
  finish(io, ec);
  auto reply = exchange(io, stream, method, target, headers, body,
                        host + ":" + std::to_string(https_port_), timeout);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  stream.async_shutdown([](boost::system::error_code) {});  // the server may close first
  io.restart();
  io.run();
  return reply;
}

struct Emulator::Connection::State {
  static constexpr std::chrono::seconds kTimeout{60};
  asio::io_context io;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  beast::ssl_stream<beast::tcp_stream> stream{io, tls};
  std::string authority;
};

Emulator::Connection::Connection(const Emulator &emulator, const std::string &host)
    : state_(std::make_unique<State>()) {
  State &s = *state_;
  s.authority = host + ":" + std::to_string(emulator.https_port());
  s.tls.load_verify_file(emulator.ca_file().string());
  s.tls.set_verify_mode(asio::ssl::verify_peer);
  SSL_set_tlsext_host_name(s.stream.native_handle(), host.c_str());
  SSL_set1_host(s.stream.native_handle(), host.c_str());
  open_tcp(s.io, beast::get_lowest_layer(s.stream), emulator.https_port(), State::kTimeout);
  boost::system::error_code ec;
  s.stream.async_handshake(asio::ssl::stream_base::client,
                           [&ec](boost::system::error_code e) { ec = e; });
  finish(s.io, ec);
}

Emulator::Connection::Connection(Connection &&) noexcept = default;
Emulator::Connection &Emulator::Connection::operator=(Connection &&) noexcept = default;
Emulator::Connection::~Connection() = default;

EmulatorReply Emulator::Connection::request(const std::string &method, const std::string &target,
                                            const Headers &headers, const std::string &body) {
  State &s = *state_;
  return exchange(s.io, s.stream, method, target, headers, body, s.authority, State::kTimeout);
}

EmulatorReply Emulator::imds(const std::string &target, const Headers &headers,
                             std::chrono::seconds timeout) const {
  asio::io_context io;
  beast::tcp_stream stream(io);
  open_tcp(io, stream, imds_port_, timeout);
  return exchange(io, stream, "GET", target, headers, {}, "127.0.0.1:" + std::to_string(imds_port_),
                  timeout);
}

std::string Emulator::access_token() const {
  const auto reply = imds("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" +
                          options_.challenge_resource);
  check(reply, "IMDS token");
  return std::string(reply.json().at("access_token").as_string());
}

int Emulator::stop() noexcept {
  if (pid_ <= 0) return exit_status_;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 500; ++i) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      pid_ = -1;
      return exit_status_;
    }
    if (done < 0) {  // already reaped elsewhere: never signal that pid again
      pid_ = -1;
      return exit_status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  exit_status_ = -1;
  return exit_status_;
}

std::string Emulator::log() const {
  return read_file(state_dir_ / "emulator.log");
}

void Emulator::start(const std::filesystem::path &program) {
  std::vector<std::string> args{program.string(),
                                "--state-dir",
                                state_dir_.string(),
                                "--tenant",
                                options_.tenant,
                                "--client-id",
                                options_.client_id,
                                "--token-lifetime",
                                std::to_string(options_.token_lifetime_s),
                                "--page-size",
                                std::to_string(options_.page_size),
                                "--challenge-resource",
                                options_.challenge_resource};
  if (!options_.token_file.empty())
    args.insert(args.end(), {"--token-file", options_.token_file.string()});
  if (!options_.client_secret_file.empty())
    args.insert(args.end(), {"--client-secret-file", options_.client_secret_file.string()});
  for (const auto &san : options_.sans) args.insert(args.end(), {"--san", san});
  if (options_.rng_seed)
    args.insert(args.end(), {"--rng-seed", std::to_string(*options_.rng_seed)});
  if (!options_.seed_file.empty()) args.insert(args.end(), {"--seed", options_.seed_file.string()});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  const std::string out = (state_dir_ / "stdout.log").string();
  const std::string err = (state_dir_ / "emulator.log").string();
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("cannot start " + program.string() + ": " + std::strerror(rc));
  const auto endpoint_file = state_dir_ / "endpoint.json";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("coffer-azure-emulator exited at start: " + log());
    }
    if (std::filesystem::exists(endpoint_file)) break;
    if (std::chrono::steady_clock::now() > deadline) {
      stop();
      throw std::runtime_error("coffer-azure-emulator did not start within 30 s: " + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto endpoint = boost::json::parse(read_file(endpoint_file)).as_object();
  https_port_ = static_cast<int>(endpoint.at("https_port").to_number<std::int64_t>());
  imds_port_ = static_cast<int>(endpoint.at("imds_port").to_number<std::int64_t>());
  ca_file_ = std::string(endpoint.at("ca_file").as_string());
  rng_seed_ = endpoint.at("rng_seed").to_number<std::uint64_t>();
}

boost::json::object Emulator::control(const std::string &method, const std::string &target,
                                      const boost::json::object &body) const {
  const auto reply = https(method, target, {{"Content-Type", "application/json"}},
                           boost::json::serialize(body), kControlName);
  check(reply, method + " " + target);
  return reply.json().as_object();
}

}  // namespace coffer::test
