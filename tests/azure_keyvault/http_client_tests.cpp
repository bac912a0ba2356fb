// The plugin's HTTP client against a small TLS server on loopback (with TLS
// session tickets, unlike the emulator): keep-alive reuse, TLS session
// resumption for the same host only, replacement of a kept-alive connection
// the server closed, the pool bound, request timeouts, host-name checks, the
// trust stores shared by CA file content, what goes on the wire, and the lanes
// of callers that wait (send_here): on the caller's thread, kept, within half
// the host's connections, bounded by their deadline, ended by shutdown.
#define BOOST_TEST_MODULE azure_keyvault_http_client
#include <boost/test/unit_test.hpp>

#include "http.hpp"
#include "temp_directory.hpp"
#include "trust_store.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

using namespace coffer::azure;
using namespace std::chrono_literals;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// A self-signed certificate for localhost and 127.0.0.1, written as PEM.
struct Certificate {
  std::string certificate_pem, key_pem;

  Certificate() {
    EVP_PKEY *key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    X509 *certificate = X509_new();
    X509_set_version(certificate, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(certificate), 7);
    X509_gmtime_adj(X509_getm_notBefore(certificate), -60);
    X509_gmtime_adj(X509_getm_notAfter(certificate), 3600);
    X509_set_pubkey(certificate, key);
    X509_NAME *name = X509_get_subject_name(certificate);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char *>("localhost"), -1, -1, 0);
    X509_set_issuer_name(certificate, name);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                              std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION *extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
      X509_add_ext(certificate, extension, -1);
      X509_EXTENSION_free(extension);
    }
    X509_sign(certificate, key, EVP_sha256());
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, certificate);
    certificate_pem = drain(bio);
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    key_pem = drain(bio);
    BIO_free(bio);
    X509_free(certificate);
    EVP_PKEY_free(key);
  }

  static std::string drain(BIO *bio) {
    char *data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<std::size_t>(size));
    (void)BIO_reset(bio);
    return text;
  }
};

enum class Behaviour { keep_alive, close_silently, stall, stall_second };

// A TLS HTTP/1.1 server on 127.0.0.1 that answers every request with 200 and
// a small JSON body, on its own thread; or stalls (every request, or the
// second on a connection).
class Server {
 public:
  Server(const Certificate &certificate, Behaviour behaviour)
      : behaviour_(behaviour),
        tls_(ssl::context::tls_server),
        acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    tls_.use_certificate(asio::buffer(certificate.certificate_pem), ssl::context::pem);
    tls_.use_private_key(asio::buffer(certificate.key_pem), ssl::context::pem);
    asio::co_spawn(io_, accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Server() {
    io_.stop();
    thread_.join();
  }
  Server(const Server &) = delete;
  Server &operator=(const Server &) = delete;

  [[nodiscard]] uint16_t port() const { return acceptor_.local_endpoint().port(); }
  [[nodiscard]] int accepted() const { return accepted_.load(); }
  [[nodiscard]] int requests() const { return requests_.load(); }
  // Waits (up to 10 s) until the server has read `count` requests.
  void wait_for_requests(int count) const {
    const auto give_up = SteadyClock::now() + 10s;
    while (requests_.load() < count && SteadyClock::now() < give_up)
      std::this_thread::sleep_for(2ms);
  }
  [[nodiscard]] std::string last_authorization() const {
    std::lock_guard lock(mutex_);
    return authorization_;
  }
  [[nodiscard]] std::string last_body() const {
    std::lock_guard lock(mutex_);
    return body_;
  }
  [[nodiscard]] std::string last_host() const {
    std::lock_guard lock(mutex_);
    return host_;
  }

 private:
  asio::awaitable<void> accept() {
    while (true) {
      boost::system::error_code error;
      tcp::socket socket =
          co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, error));
      if (error) co_return;
      ++accepted_;
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), tls_);
    boost::system::error_code error;
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return;
    beast::flat_buffer buffer;
    int answered = 0;  // requests read on this connection
    while (true) {
      http::request<http::string_body> request;
      co_await http::async_read(stream, buffer, request,
                                asio::redirect_error(asio::use_awaitable, error));
      if (error) co_return;
      ++requests_;
      {
        std::lock_guard lock(mutex_);
        authorization_ = std::string(request[http::field::authorization]);
        body_ = request.body();
        host_ = std::string(request[http::field::host]);
      }
      ++answered;
      if (behaviour_ == Behaviour::stall ||
          (behaviour_ == Behaviour::stall_second && answered == 2)) {
        asio::steady_timer timer(io_, 30s);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, error));
        co_return;
      }
      http::response<http::string_body> response{http::status::ok, 11};
      response.set(http::field::content_type, "application/json");
      response.body() = R"({"ok":true})";
      response.prepare_payload();
      co_await http::async_write(stream, response,
                                 asio::redirect_error(asio::use_awaitable, error));
      if (error || behaviour_ == Behaviour::close_silently) {
        beast::get_lowest_layer(stream).socket().close(error);
        co_return;
      }
    }
  }

  Behaviour behaviour_;
  asio::io_context io_;
  ssl::context tls_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> accepted_{0};
  std::atomic<int> requests_{0};
  mutable std::mutex mutex_;
  std::string authorization_, body_, host_;
};

struct Fixture {
  Certificate certificate;
  coffer::test::TempDirectory scratch{"coffer-akv-http"};
  std::filesystem::path ca_file = scratch.write("ca.pem", certificate.certificate_pem);
  coffer::provider::Host host{nullptr};
  asio::io_context io;

  HttpClientOptions options() {
    HttpClientOptions options;
    options.ca_file = ca_file.string();
    options.connect_timeout = 2000ms;
    options.request_timeout = 2000ms;
    return options;
  }

  static HttpRequest request(uint16_t port, const std::string &host = "localhost") {
    HttpRequest request;
    request.method = "GET";
    request.url = *parse_url("https://" + host + ":" + std::to_string(port) + "/secrets/x/");
    return request;
  }

  // Lanes for the test server's host.
  HttpClientOptions lane_options(uint16_t port, std::size_t max_connections = 16) {
    HttpClientOptions with_lanes = options();
    with_lanes.lanes_for = request(port).url.endpoint;
    with_lanes.max_connections_per_host = max_connections;
    return with_lanes;
  }

  // Sends `count` copies of `request` at once, each due by `deadline`;
  // returns the results once all have come (a kept-alive connection's
  // deadline timer may still be pending then).
  std::vector<HttpResult> send(HttpClient &client, const HttpRequest &request, int count = 1,
                               std::chrono::milliseconds deadline = 5s) {
    std::vector<HttpResult> results(static_cast<std::size_t>(count));
    int pending = count;
    for (auto &result : results)
      asio::co_spawn(
          io,
          [&client, &request, &result, &pending, deadline]() -> asio::awaitable<void> {
            result = co_await client.send(request, SteadyClock::now() + deadline);
            --pending;
          },
          asio::detached);
    io.restart();
    while (pending > 0 && io.run_one() > 0) {
    }
    return results;
  }
};

// Runs an event loop on a thread of its own, as the plugin's I/O thread
// does, until destroyed (declare it after the client it serves).
class IoThread {
 public:
  explicit IoThread(asio::io_context &io) : io_(io), work_(asio::make_work_guard(io)) {
    io_.restart();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~IoThread() {
    work_.reset();
    io_.stop();
    thread_.join();
  }
  IoThread(const IoThread &) = delete;
  IoThread &operator=(const IoThread &) = delete;

 private:
  asio::io_context &io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(keep_alive_connections_are_reused, Fixture) {
  Server server(certificate, Behaviour::keep_alive);
  HttpClient client(io, options(), host);
  for (int i = 0; i < 5; ++i) {
    auto results = send(client, request(server.port()));
    BOOST_TEST_REQUIRE(results[0].ok(), results[0].message);
    BOOST_TEST(results[0].response.status == 200u);
    BOOST_TEST(results[0].response.body.view() == R"({"ok":true})");
  }
  BOOST_TEST(client.stats().connections_opened == 1u);
  BOOST_TEST(server.accepted() == 1);
}

BOOST_FIXTURE_TEST_CASE(a_second_connection_to_the_same_host_resumes_the_tls_session, Fixture) {
  Server server(certificate, Behaviour::keep_alive);
  HttpClient client(io, options(), host);
  BOOST_TEST_REQUIRE(send(client, request(server.port()))[0].ok());
  for (const auto &result : send(client, request(server.port()), 2))
    BOOST_TEST(result.ok(), result.message);
  BOOST_TEST(client.stats().connections_opened == 2u);
  BOOST_TEST(client.stats().tls_sessions_resumed == 1u);
  // A different host name (same server) never gets that TLS session.
  auto other = send(client, request(server.port(), "127.0.0.1"));
  BOOST_TEST_REQUIRE(other[0].ok(), other[0].message);
  BOOST_TEST(client.stats().connections_opened == 3u);
  BOOST_TEST(client.stats().tls_sessions_resumed == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_kept_alive_connection_the_server_closed_is_replaced, Fixture) {
  Server server(certificate, Behaviour::close_silently);
  HttpClient client(io, options(), host);
  for (int i = 0; i < 3; ++i) {
    auto results = send(client, request(server.port()));
    BOOST_TEST(results[0].ok(), results[0].message);
  }
  BOOST_TEST(server.accepted() == 3);
}

BOOST_FIXTURE_TEST_CASE(connections_are_bounded_per_host, Fixture) {
  Server server(certificate, Behaviour::keep_alive);
  HttpClientOptions bounded = options();
  bounded.max_connections_per_host = 2;
  HttpClient client(io, std::move(bounded), host);
  for (const auto &result : send(client, request(server.port()), 20))
    BOOST_TEST(result.ok(), result.message);
  BOOST_TEST(client.stats().connections_opened == 2u);
  BOOST_TEST(client.stats().requests == 20u);
}

BOOST_FIXTURE_TEST_CASE(a_stalled_answer_times_out, Fixture) {
  Server server(certificate, Behaviour::stall);
  HttpClientOptions quick = options();
  quick.request_timeout = 200ms;
  HttpClient client(io, std::move(quick), host);
  auto results = send(client, request(server.port()));
  BOOST_TEST((results[0].error == TransportError::timeout));
  BOOST_TEST(results[0].retryable);
}

BOOST_FIXTURE_TEST_CASE(a_kept_alive_connection_times_out_at_a_deadline_brought_earlier, Fixture) {
  Server server(certificate, Behaviour::stall_second);
  HttpClientOptions slow = options();
  slow.request_timeout = 8000ms;
  HttpClient client(io, std::move(slow), host);
  BOOST_TEST_REQUIRE(send(client, request(server.port()))[0].ok());  // due in 5 s
  const auto start = SteadyClock::now();
  auto results = send(client, request(server.port()), 1, 300ms);  // the same connection
  const auto waited = SteadyClock::now() - start;
  BOOST_TEST((results[0].error == TransportError::timeout), results[0].message);
  BOOST_TEST(server.accepted() == 1);
  // At the 300 ms deadline, not at the 5 s one the connection's timer was
  // armed for (nor at the stall's 30 s end).
  BOOST_TEST(waited < 3s);
}

BOOST_FIXTURE_TEST_CASE(a_deadline_that_passed_while_idle_spares_the_next_request, Fixture) {
  Server server(certificate, Behaviour::keep_alive);
  HttpClient client(io, options(), host);
  BOOST_TEST_REQUIRE(send(client, request(server.port()), 1, 200ms)[0].ok());
  // Let the timer armed for the first request fire while the connection idles.
  asio::steady_timer pause(io, 400ms);
  pause.async_wait([](boost::system::error_code) {});
  io.restart();
  io.run_one();
  auto results = send(client, request(server.port()));
  BOOST_TEST(results[0].ok(), results[0].message);
  BOOST_TEST(client.stats().connections_opened == 1u);  // the kept-alive one, not cancelled
}

BOOST_FIXTURE_TEST_CASE(clients_trusting_the_same_ca_file_share_one_store, Fixture) {
  X509_STORE *first = trust_store(ca_file.string());
  X509_STORE *second = trust_store(ca_file.string());
  BOOST_TEST(first == second);
  // The same bytes under another name are the same trust.
  const auto copy = scratch.write("copy.pem", certificate.certificate_pem);
  X509_STORE *copied = trust_store(copy.string());
  BOOST_TEST(copied == first);
  // A rotated CA file is read again: new clients trust the new CA only.
  Certificate rotated;
  scratch.write("ca.pem", rotated.certificate_pem);
  X509_STORE *renewed = trust_store(ca_file.string());
  BOOST_TEST(renewed != first);
  for (X509_STORE *store : {first, second, copied, renewed}) X509_STORE_free(store);

  Server old_server(certificate, Behaviour::keep_alive);
  Server new_server(rotated, Behaviour::keep_alive);
  HttpClient client(io, options(), host);
  BOOST_TEST(send(client, request(new_server.port()))[0].ok());
  auto refused = send(client, request(old_server.port()));
  BOOST_TEST((refused[0].error == TransportError::tls), refused[0].message);
}

BOOST_FIXTURE_TEST_CASE(the_certificate_must_name_the_host, Fixture) {
  Server server(certificate, Behaviour::keep_alive);
  HttpClientOptions redirected = options();
  redirected.connect_to = Endpoint{true, "127.0.0.1", server.port()};
  redirected.connect_to_for = Endpoint{true, "vault.example", server.port()};
  HttpClient client(io, std::move(redirected), host);
  auto results = send(client, request(server.port(), "vault.example"));
  BOOST_TEST((results[0].error == TransportError::tls));
  BOOST_TEST(results[0].message.find("hostname mismatch") != std::string::npos, results[0].message);
  BOOST_TEST(!results[0].retryable);
  BOOST_TEST(server.accepted() == 1);
}

BOOST_FIXTURE_TEST_CASE(what_goes_on_the_wire, Fixture) {
  Server server(certificate, Behaviour::keep_alive);
  HttpClient client(io, options(), host);
  HttpRequest put = request(server.port());
  put.method = "PUT";
  put.authorization.assign("Bearer abc.def");
  put.body.append(R"({"value":"v"})");
  put.content_type = "application/json";
  auto results = send(client, put);
  BOOST_TEST_REQUIRE(results[0].ok(), results[0].message);
  BOOST_TEST(server.last_authorization() == "Bearer abc.def");
  BOOST_TEST(server.last_body() == R"({"value":"v"})");
  BOOST_TEST(server.last_host() == "localhost:" + std::to_string(server.port()));
}

BOOST_FIXTURE_TEST_CASE(a_waiting_caller_exchanges_on_its_own_thread_on_a_kept_lane, Fixture) {
  Server server(certificate, Behaviour::keep_alive);
  HttpClient client(io, lane_options(server.port()), host);
  IoThread io_thread(io);
  std::optional<HttpResult> first =
      client.send_here(request(server.port()), SteadyClock::now() + 5s);
  BOOST_TEST_REQUIRE(first.has_value());
  BOOST_TEST_REQUIRE(first->ok(), first->message);
  BOOST_TEST(first->response.body.view() == R"({"ok":true})");
  // With the I/O thread held up, the lane (open now) still answers: the
  // exchange runs on this thread.
  std::promise<void> release;
  asio::post(io, [held = release.get_future().share()] { held.wait(); });
  for (int i = 0; i < 3; ++i) {
    std::optional<HttpResult> again =
        client.send_here(request(server.port()), SteadyClock::now() + 5s);
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST(again->ok(), again->message);
  }
  release.set_value();
  BOOST_TEST(client.stats().connections_opened == 1u);
  BOOST_TEST(client.stats().requests == 4u);
  BOOST_TEST(server.accepted() == 1);
  // Another host has no lanes: the caller is told to send() it.
  BOOST_TEST(!client.send_here(request(server.port(), "127.0.0.1"), SteadyClock::now() + 5s));
}

// A host given by address needs no lookup: a lane to it opens on the
// caller's thread while the I/O thread (where a name would be resolved) is
// held up.
BOOST_FIXTURE_TEST_CASE(a_lane_to_an_address_opens_without_the_io_thread, Fixture) {
  Server server(certificate, Behaviour::keep_alive);
  HttpClientOptions with_lanes = options();
  with_lanes.lanes_for = request(server.port(), "127.0.0.1").url.endpoint;
  HttpClient client(io, std::move(with_lanes), host);
  IoThread io_thread(io);
  std::promise<void> release;
  asio::post(io, [held = release.get_future().share()] { held.wait(); });
  std::optional<HttpResult> first =
      client.send_here(request(server.port(), "127.0.0.1"), SteadyClock::now() + 1500ms);
  release.set_value();
  BOOST_TEST_REQUIRE(first.has_value());
  BOOST_TEST(first->ok(), first->message);
  BOOST_TEST(client.stats().connections_opened == 1u);
}

BOOST_FIXTURE_TEST_CASE(lanes_hold_at_most_half_of_the_hosts_connections, Fixture) {
  Server server(certificate, Behaviour::keep_alive);
  {
    HttpClient single(io, lane_options(server.port(), 1), host);
    IoThread io_thread(io);
    BOOST_TEST(
        !single.send_here(request(server.port()), SteadyClock::now() + 5s));  // no lane at all
  }
  HttpClient client(io, lane_options(server.port(), 2), host);
  {
    IoThread io_thread(io);
    std::optional<HttpResult> lane =
        client.send_here(request(server.port()), SteadyClock::now() + 5s);
    BOOST_TEST_REQUIRE(lane.has_value());
    BOOST_TEST_REQUIRE(lane->ok(), lane->message);
  }
  // The idle lane keeps one of the two slots: twenty requests at once share
  // one pooled connection.
  for (const auto &result : send(client, request(server.port()), 20))
    BOOST_TEST(result.ok(), result.message);
  BOOST_TEST(client.stats().connections_opened == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_busy_lane_is_not_shared_and_its_exchange_ends_at_its_deadline, Fixture) {
  Server server(certificate, Behaviour::stall);
  HttpClient client(io, lane_options(server.port(), 2), host);  // one lane
  IoThread io_thread(io);
  const auto start = SteadyClock::now();
  auto stalled = std::async(std::launch::async, [&] {
    return client.send_here(request(server.port()), SteadyClock::now() + 500ms);
  });
  server.wait_for_requests(1);
  BOOST_TEST(
      !client.send_here(request(server.port()), SteadyClock::now() + 5s));  // the lane is busy
  std::optional<HttpResult> late = stalled.get();
  BOOST_TEST_REQUIRE(late.has_value());
  BOOST_TEST((late->error == TransportError::timeout), late->message);
  BOOST_TEST((SteadyClock::now() - start < 5s));
}

BOOST_FIXTURE_TEST_CASE(shutdown_ends_a_lanes_exchange_at_once, Fixture) {
  Server server(certificate, Behaviour::stall);
  HttpClient client(io, lane_options(server.port()), host);
  IoThread io_thread(io);
  const auto start = SteadyClock::now();
  auto stalled = std::async(std::launch::async, [&] {
    return client.send_here(request(server.port()), SteadyClock::now() + 20s);
  });
  server.wait_for_requests(1);
  asio::post(io, [&client] { client.shutdown(); });
  std::optional<HttpResult> ended = stalled.get();
  BOOST_TEST_REQUIRE(ended.has_value());
  BOOST_TEST((ended->error == TransportError::shutdown), ended->message);
  BOOST_TEST((SteadyClock::now() - start < 10s));
  std::optional<HttpResult> later =
      client.send_here(request(server.port()), SteadyClock::now() + 5s);
  BOOST_TEST_REQUIRE(later.has_value());
  BOOST_TEST((later->error == TransportError::shutdown));
}

BOOST_FIXTURE_TEST_CASE(a_lane_opened_ahead_serves_the_first_request, Fixture) {
  Server server(certificate, Behaviour::keep_alive);
  HttpClient client(io, lane_options(server.port()), host);
  IoThread io_thread(io);
  client.open_lane(SteadyClock::now() + 5s);
  BOOST_TEST(client.stats().connections_opened == 1u);
  client.open_lane(SteadyClock::now() + 5s);  // one is idle already
  BOOST_TEST(client.stats().connections_opened == 1u);
  std::optional<HttpResult> first =
      client.send_here(request(server.port()), SteadyClock::now() + 5s);
  BOOST_TEST_REQUIRE(first.has_value());
  BOOST_TEST(first->ok(), first->message);
  BOOST_TEST(client.stats().connections_opened == 1u);
  BOOST_TEST(server.accepted() == 1);
}

BOOST_FIXTURE_TEST_CASE(an_idle_lane_past_the_idle_timeout_is_dropped_with_its_slot, Fixture) {
  Server server(certificate, Behaviour::keep_alive);
  HttpClientOptions brief = lane_options(server.port(), 2);  // one lane
  brief.idle_timeout = 100ms;
  HttpClient client(io, std::move(brief), host);
  {
    IoThread io_thread(io);
    BOOST_TEST_REQUIRE(client.send_here(request(server.port()), SteadyClock::now() + 5s)->ok());
    std::this_thread::sleep_for(250ms);
    // The expired lane is closed: a new lane opens in its place.
    std::optional<HttpResult> later =
        client.send_here(request(server.port()), SteadyClock::now() + 5s);
    BOOST_TEST_REQUIRE(later.has_value());
    BOOST_TEST(later->ok(), later->message);
    BOOST_TEST(client.stats().connections_opened == 2u);
  }
  // Its slot came back: the pool still has the other one of the two.
  for (const auto &result : send(client, request(server.port()), 5))
    BOOST_TEST(result.ok(), result.message);
  BOOST_TEST(client.stats().connections_opened == 3u);
  BOOST_TEST(server.accepted() == 3);
}
