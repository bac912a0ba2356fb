// Test support: starts coffer-azure-emulator (Entra ID, IMDS and the Key Vault
// secrets API on loopback, see README.md beside this file) as a child process
// and drives it through its control API. Header-only; link the CMake target
// coffer_azure_emulator_client. One Emulator per process started; the
// destructor stops it (SIGTERM, then SIGKILL) and removes its state directory.
// const methods may be called from several threads at once (each opens its
// own connection); construction and destruction need external synchronisation.
// Failures throw std::runtime_error with the emulator's own log attached.
#ifndef COFFER_TESTS_AZURE_EMULATOR_PROCESS_HPP
#define COFFER_TESTS_AZURE_EMULATOR_PROCESS_HPP

#include <fcntl.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

extern char **environ;

namespace coffer::test {

struct EmulatorOptions {
  std::string tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  std::string client_id = "11111111-2222-3333-4444-555555555555";
  std::filesystem::path token_file;          // federated token: the accepted client_assertion
  std::filesystem::path client_secret_file;  // the accepted client_secret
  int token_lifetime_s = 3600;
  int page_size = 25;
  std::vector<std::string> sans;  // besides localhost and 127.0.0.1
  std::string challenge_resource = "https://vault.azure.net";
  // Additions to the original contract (appended, so designated initialisers
  // written against it still compile):
  std::optional<std::uint64_t> rng_seed;  // fault RNG seed; random when unset
  std::filesystem::path seed_file;        // {"NAME": "value", ...} created at start
  std::vector<std::string> extra_args;    // passed through to the command line
};

// One HTTP response as received.
struct EmulatorReply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header with this name (case-insensitive), or "".
  [[nodiscard]] std::string header(std::string_view name) const {
    for (const auto &[n, v] : headers) {
      if (boost::beast::iequals(n, name)) return v;
    }
    return {};
  }
  [[nodiscard]] bool has_header(std::string_view name) const {
    for (const auto &[n, v] : headers) {
      if (boost::beast::iequals(n, name)) return true;
    }
    return false;
  }
  // The body parsed as JSON (throws when it is not JSON).
  [[nodiscard]] boost::json::value json() const { return boost::json::parse(body); }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class Emulator {
 public:
  explicit Emulator(EmulatorOptions options = {}) : options_(std::move(options)) {
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

  ~Emulator() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(state_dir_, ignored);
  }

  Emulator(const Emulator &) = delete;
  Emulator &operator=(const Emulator &) = delete;

  [[nodiscard]] int https_port() const { return https_port_; }
  [[nodiscard]] int imds_port() const { return imds_port_; }
  [[nodiscard]] std::filesystem::path ca_file() const { return ca_file_; }
  [[nodiscard]] std::string vault_url() const {
    return "https://localhost:" + std::to_string(https_port_);
  }
  [[nodiscard]] std::string authority_host() const { return vault_url() + "/"; }
  [[nodiscard]] std::string imds_endpoint() const {
    return "http://127.0.0.1:" + std::to_string(imds_port_) + "/metadata/identity/oauth2/token";
  }
  [[nodiscard]] std::string tenant() const { return options_.tenant; }
  [[nodiscard]] std::string client_id() const { return options_.client_id; }
  [[nodiscard]] std::filesystem::path state_dir() const { return state_dir_; }
  [[nodiscard]] std::uint64_t rng_seed() const { return rng_seed_; }
  [[nodiscard]] pid_t pid() const { return pid_; }

  // Creates a secret or adds a version (replacing a soft-deleted secret of
  // that name); returns the new version id.
  std::string set_secret(const std::string &name, const std::string &value,
                         bool enabled = true) const {
    const auto reply =
        control("POST", "/_emulator/secrets",
                boost::json::object{{"name", name}, {"value", value}, {"enabled", enabled}});
    return std::string(reply.at("version").as_string());
  }
  // The latest value of a secret as the vault holds it, or nullopt.
  std::optional<std::string> secret_value(const std::string &name) const {
    const auto reply = https("GET", "/_emulator/secrets/" + name, {}, {}, kControlName);
    if (reply.status == 404) return std::nullopt;
    check(reply, "GET /_emulator/secrets/" + name);
    return std::string(reply.json().at("value").as_string());
  }
  // Every operation on NAME ("*": the whole vault, listings included) is
  // answered 403 with this innererror code (ForbiddenByRbac, AccessDenied,
  // ForbiddenByPolicy, ForbiddenByFirewall).
  void deny(const std::string &name, const std::string &code = "ForbiddenByRbac") const {
    control("POST", "/_emulator/deny", boost::json::object{{"name", name}, {"code", code}});
  }
  void allow(const std::string &name) const {
    control("POST", "/_emulator/allow", boost::json::object{{"name", name}});
  }
  // Routes: token, imds, get, put, delete, list, update, deleted, metadata, any.
  // Faults: 429, 429-retry-after, 408, 500, 502, 503, 504, reset, stall,
  // truncate, malformed-json, expired-token.
  void inject(const std::string &route, const std::string &fault, int count) const {
    inject_rule(boost::json::object{{"route", route}, {"fault", fault}, {"count", count}});
  }
  void inject_probability(const std::string &route, const std::string &fault, double p) const {
    inject_rule(boost::json::object{{"route", route}, {"fault", fault}, {"probability", p}});
  }
  // A full rule, e.g. {"route":"get","fault":"429-retry-after","count":1,"retry_after":"2"}.
  void inject_rule(const boost::json::object &rule) const {
    control("POST", "/_emulator/faults", rule);
  }
  void reset_faults() const { control("POST", "/_emulator/reset-faults", {}); }
  // POST /_emulator/config with this JSON object text; returns the settings now in force.
  boost::json::object configure(const std::string &json_object) const {
    const auto parsed = boost::json::parse(json_object);
    if (!parsed.is_object()) throw std::invalid_argument("configure() needs a JSON object");
    return control("POST", "/_emulator/config", parsed.as_object());
  }
  // {"requests":{"token":n,"imds":n,"get":n,"put":n,"delete":n,"list":n,
  //  "update":n,"deleted":n,"metadata":n,"unauthenticated":n},
  //  "faults_injected":n,"tokens_issued":n}
  boost::json::object stats() const {
    const auto reply = https("GET", "/_emulator/stats", {}, {}, kControlName);
    check(reply, "GET /_emulator/stats");
    return reply.json().as_object();
  }
  // The access tokens issued and not yet expired.
  std::vector<std::string> unexpired_tokens() const {
    const auto reply = https("GET", "/_emulator/tokens", {}, {}, kControlName);
    check(reply, "GET /_emulator/tokens");
    std::vector<std::string> tokens;
    const boost::json::value body = reply.json();
    for (const auto &token : body.at("tokens").as_array()) tokens.emplace_back(token.as_string());
    return tokens;
  }
  // Reads one counter of stats()["requests"].
  std::uint64_t requests(const std::string &route) const {
    return stats().at("requests").at(route).to_number<std::uint64_t>();
  }
  void reset_stats() const { control("POST", "/_emulator/reset-stats", {}); }

  // One HTTPS request on a new connection to 127.0.0.1, verifying the test
  // CA and the host name `host` (also sent as SNI and in the Host header).
  EmulatorReply https(const std::string &method, const std::string &target,
                      const Headers &headers = {}, const std::string &body = {},
                      const std::string &host = "localhost",
                      std::chrono::seconds timeout = std::chrono::seconds(30)) const {
    namespace asio = boost::asio;
    namespace beast = boost::beast;
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

  // A keep-alive HTTPS connection (same verification as https()); requests on
  // it are sent one after the other. Not thread-safe; one per thread.
  class Connection {
   public:
    Connection(const Emulator &emulator, const std::string &host)
        : tls_(boost::asio::ssl::context::tls_client),
          stream_(io_, tls_),
          authority_(host + ":" + std::to_string(emulator.https_port())) {
      tls_.load_verify_file(emulator.ca_file().string());
      tls_.set_verify_mode(boost::asio::ssl::verify_peer);
      SSL_set_tlsext_host_name(stream_.native_handle(), host.c_str());
      SSL_set1_host(stream_.native_handle(), host.c_str());
      Emulator::open_tcp(io_, boost::beast::get_lowest_layer(stream_), emulator.https_port(),
                         kTimeout);
      boost::system::error_code ec;
      stream_.async_handshake(boost::asio::ssl::stream_base::client,
                              [&ec](boost::system::error_code e) { ec = e; });
      Emulator::finish(io_, ec);
    }
    EmulatorReply request(const std::string &method, const std::string &target,
                          const Headers &headers = {}, const std::string &body = {}) {
      return Emulator::exchange(io_, stream_, method, target, headers, body, authority_, kTimeout);
    }

   private:
    static constexpr std::chrono::seconds kTimeout{60};
    boost::asio::io_context io_;
    boost::asio::ssl::context tls_;
    boost::beast::ssl_stream<boost::beast::tcp_stream> stream_;
    std::string authority_;
  };
  Connection connect(const std::string &host = "localhost") const {
    return Connection(*this, host);
  }

  // One plain-HTTP request to the IMDS port.
  EmulatorReply imds(const std::string &target, const Headers &headers = {{"Metadata", "true"}},
                     std::chrono::seconds timeout = std::chrono::seconds(30)) const {
    boost::asio::io_context io;
    boost::beast::tcp_stream stream(io);
    open_tcp(io, stream, imds_port_, timeout);
    return exchange(io, stream, "GET", target, headers, {},
                    "127.0.0.1:" + std::to_string(imds_port_), timeout);
  }

  // A valid access token for the vault, obtained from the emulator's IMDS.
  std::string access_token() const {
    const auto reply = imds("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" +
                            options_.challenge_resource);
    check(reply, "IMDS token");
    return std::string(reply.json().at("access_token").as_string());
  }

  // Stops the emulator (SIGTERM, then SIGKILL after 5 s) and returns its exit
  // status: 0 when it shut down cleanly, -1 when it had to be killed. The
  // destructor calls it; calling it again returns the same status.
  int stop() noexcept {
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

  // The emulator's stderr so far (for failure messages).
  std::string log() const { return read_file(state_dir_ / "emulator.log"); }

 private:
  static constexpr const char *kControlName = "coffer-emulator-control";

  static std::filesystem::path executable() {
    if (const char *path = std::getenv("COFFER_AZURE_EMULATOR")) return path;
    if (const char *dir = std::getenv("COFFER_BINARY_DIR")) {
      return std::filesystem::path(dir) / "bin" / "coffer-azure-emulator";
    }
#ifdef COFFER_AZURE_EMULATOR_DEFAULT_PATH
    return COFFER_AZURE_EMULATOR_DEFAULT_PATH;
#else
    throw std::runtime_error(
        "coffer-azure-emulator not found: set COFFER_AZURE_EMULATOR or COFFER_BINARY_DIR");
#endif
  }

  static std::string read_file(const std::filesystem::path &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  void start(const std::filesystem::path &program) {
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
    if (!options_.token_file.empty()) {
      args.insert(args.end(), {"--token-file", options_.token_file.string()});
    }
    if (!options_.client_secret_file.empty()) {
      args.insert(args.end(), {"--client-secret-file", options_.client_secret_file.string()});
    }
    for (const auto &san : options_.sans) args.insert(args.end(), {"--san", san});
    if (options_.rng_seed) {
      args.insert(args.end(), {"--rng-seed", std::to_string(*options_.rng_seed)});
    }
    if (!options_.seed_file.empty()) {
      args.insert(args.end(), {"--seed", options_.seed_file.string()});
    }
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
    if (rc != 0) {
      throw std::runtime_error("cannot start " + program.string() + ": " + std::strerror(rc));
    }
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

  // Runs the pending asynchronous operation to completion; every operation
  // has a deadline (tcp_stream::expires_after), so this cannot hang.
  static void finish(boost::asio::io_context &io, const boost::system::error_code &ec) {
    io.restart();
    io.run();
    if (ec) throw boost::system::system_error(ec);
  }

  static void open_tcp(boost::asio::io_context &io, boost::beast::tcp_stream &stream, int port,
                       std::chrono::seconds timeout) {
    boost::system::error_code ec;
    stream.expires_after(timeout);
    stream.async_connect(
        {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)},
        [&ec](boost::system::error_code e) { ec = e; });
    finish(io, ec);
  }

  template <class Stream>
  static EmulatorReply exchange(boost::asio::io_context &io, Stream &stream,
                                const std::string &method, const std::string &target,
                                const Headers &headers, const std::string &body,
                                const std::string &host, std::chrono::seconds timeout) {
    namespace http = boost::beast::http;
    http::request<http::string_body> request;
    request.method_string(method);
    request.target(target);
    request.version(11);
    request.set(http::field::host, host);
    for (const auto &[name, value] : headers) request.set(name, value);
    request.body() = body;
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      request.prepare_payload();
    }
    boost::system::error_code ec;
    boost::beast::get_lowest_layer(stream).expires_after(timeout);
    http::async_write(stream, request, [&ec](boost::system::error_code e, std::size_t) { ec = e; });
    finish(io, ec);
    boost::beast::flat_buffer buffer;
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

  static EmulatorReply to_reply(
      boost::beast::http::response<boost::beast::http::string_body> &message) {
    EmulatorReply reply;
    reply.status = static_cast<int>(message.result_int());
    for (const auto &field : message) {
      reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    reply.body = std::move(message.body());
    return reply;
  }

  void check(const EmulatorReply &reply, const std::string &what) const {
    if (reply.status / 100 != 2) {
      throw std::runtime_error("emulator control " + what +
                               " failed: " + std::to_string(reply.status) + " " + reply.body);
    }
  }

  boost::json::object control(const std::string &method, const std::string &target,
                              const boost::json::object &body) const {
    const auto reply = https(method, target, {{"Content-Type", "application/json"}},
                             boost::json::serialize(body), kControlName);
    check(reply, method + " " + target);
    return reply.json().as_object();
  }

  EmulatorOptions options_;
  std::filesystem::path state_dir_;
  std::filesystem::path ca_file_;
  pid_t pid_ = -1;
  int exit_status_ = -1;
  int https_port_ = 0;
  int imds_port_ = 0;
  std::uint64_t rng_seed_ = 0;
};

}  // namespace coffer::test

#endif
