// The admin panel over TLS (`--admin-tls-cert`, `--admin-tls-key`) against a
// real `coffer serve`: a client that verifies the chain and the host name
// logs in and reads the credentials, the cookie is Secure and HSTS is sent;
// plain HTTP, TLS 1.1 and a TLS 1.2 cipher outside ECDHE with AES-GCM or
// ChaCha20 get no answer; a key file others may read is refused by name; a
// non-loopback address needs TLS. The certificates come from a throw-away CA
// made for each test (the Key Vault emulator's).
#define BOOST_TEST_MODULE admin_tls_tests
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>

#include "panel_client.hpp"
#include "src/pki.hpp"

using namespace coffer::test;
namespace json = boost::json;

namespace {

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

// A CA, and a server certificate for localhost and 127.0.0.1 it issued, in
// files of the test's directory (the key 0600).
struct Certificates {
  explicit Certificates(const AgentDirectory &directory) {
    coffer::emulator::CertificateAuthority ca("coffer admin panel test CA");
    auto identity = ca.issue_server_identity({"localhost", "127.0.0.1"});
    ca_file = directory.write("ca.pem", ca.certificate_pem(), 0644);
    chain_file = directory.write("panel.pem", identity.certificate_chain_pem, 0644);
    key_file = directory.write("panel.key", identity.private_key_pem, 0600);
  }
  std::filesystem::path ca_file;
  std::filesystem::path chain_file;
  std::filesystem::path key_file;
};

// How the test's client speaks TLS.
struct ClientTls {
  std::string ca_file;
  std::string host = "localhost";  // SNI, and the name the certificate must have
  int max_version = 0;             // 0: the library's highest
  std::string tls12_ciphers;       // empty: the library's defaults
};

struct HttpsOutcome {
  bool handshake = false;  // the handshake succeeded and the chain and name verified
  std::string error;
  HttpReply reply;
};

// A whole response, as read until the server closed.
HttpReply parse_reply(const std::string &text) {
  HttpReply reply;
  auto end = text.find("\r\n\r\n");
  if (end == std::string::npos || !parse_reply_head(text.substr(0, end), reply)) return {};
  reply.body = text.substr(end + 4);
  reply.complete = true;
  return reply;
}

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  char text[256] = "no OpenSSL error";
  if (code != 0) ERR_error_string_n(code, text, sizeof text);
  return text;
}

// One request over TLS to 127.0.0.1:PORT, answered before the server closes
// (the request says Connection: close). Every read and write has a 10 s
// deadline.
HttpsOutcome https_request(int port, const ClientTls &tls, const std::string &request) {
  HttpsOutcome outcome;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval deadline{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &deadline, sizeof deadline);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
    ::close(fd);
    outcome.error = "connect failed";
    return outcome;
  }
  SSL_CTX *context = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  BOOST_TEST_REQUIRE(SSL_CTX_load_verify_locations(context, tls.ca_file.c_str(), nullptr) == 1);
  if (tls.max_version != 0) {
    // Old protocols need the lowest security level on the client's side.
    SSL_CTX_set_security_level(context, 0);
    SSL_CTX_set_min_proto_version(context, 0);
    SSL_CTX_set_max_proto_version(context, tls.max_version);
  }
  if (!tls.tls12_ciphers.empty()) {
    SSL_CTX_set_max_proto_version(context, TLS1_2_VERSION);
    BOOST_TEST_REQUIRE(SSL_CTX_set_cipher_list(context, tls.tls12_ciphers.c_str()) == 1);
  }
  SSL *ssl = SSL_new(context);
  SSL_set_tlsext_host_name(ssl, tls.host.c_str());
  SSL_set1_host(ssl, tls.host.c_str());
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) == 1 && SSL_get_verify_result(ssl) == X509_V_OK) {
    outcome.handshake = true;
    SSL_write(ssl, request.data(), static_cast<int>(request.size()));
    std::string received;
    char buffer[16384];
    int n = 0;
    while ((n = SSL_read(ssl, buffer, sizeof buffer)) > 0)
      received.append(buffer, static_cast<std::size_t>(n));
    outcome.reply = parse_reply(received);
  } else {
    outcome.error = openssl_error();
  }
  SSL_free(ssl);
  SSL_CTX_free(context);
  ::close(fd);
  return outcome;
}

// A panel served over TLS on `address`.
struct TlsPanel {
  explicit TlsPanel(const std::string &address = "127.0.0.1:0")
      : certificates(directory),
        agent(
            directory, directory.write("coffer.json", directory.policy()),
            {"--socket", (directory.directory / "agent.sock").string(), "--admin", address,
             "--admin-token-file",
             directory.write("admin.token", kAdminToken + "\n", 0600).string(), "--admin-tls-cert",
             certificates.chain_file.string(), "--admin-tls-key", certificates.key_file.string()}) {
    agent.wait_ready();
    port = panel_port(agent.log());
    tls.ca_file = certificates.ca_file.string();
  }

  HttpsOutcome send(const std::string &method, const std::string &target,
                    const std::string &body = {}) {
    std::string origin = "https://localhost:" + std::to_string(port);
    std::string text = method + " " + target +
                       " HTTP/1.1\r\nHost: localhost:" + std::to_string(port) +
                       "\r\nConnection: close\r\n";
    if (!cookie.empty()) text += "Cookie: " + cookie + "\r\n";
    if (method == "POST")
      text += "Origin: " + origin + "\r\nX-CSRF-Token: " + csrf +
              "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n";
    return https_request(port, tls, text + "\r\n" + body);
  }

  AgentDirectory directory;
  Certificates certificates;
  AgentProcess agent;
  int port = 0;
  ClientTls tls;
  std::string cookie;
  std::string csrf;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(tls)

BOOST_AUTO_TEST_CASE(a_verifying_client_logs_in_with_a_secure_cookie_and_reads_the_credentials) {
  TlsPanel panel;
  BOOST_TEST(contains(panel.agent.log(), "url=https://127.0.0.1:"), panel.agent.log());
  auto login = panel.send("POST", "/api/login", "token=" + kAdminToken);
  BOOST_TEST_REQUIRE(login.handshake, login.error);
  BOOST_TEST_REQUIRE(login.reply.status == 200, login.reply.body);
  std::string cookie = login.reply.header("set-cookie");
  BOOST_TEST(cookie.rfind("__Host-coffer_admin=", 0) == 0u, cookie);
  BOOST_TEST(contains(cookie, "; Secure"), cookie);
  BOOST_TEST(contains(cookie, "; HttpOnly"), cookie);
  BOOST_TEST(contains(login.reply.header("strict-transport-security"), "max-age="));
  panel.cookie = cookie.substr(0, cookie.find(';'));
  panel.csrf = std::string(json::parse(login.reply.body).at("csrf").as_string());

  auto credentials = panel.send("GET", "/api/credentials");
  BOOST_TEST_REQUIRE(credentials.handshake, credentials.error);
  BOOST_TEST_REQUIRE(credentials.reply.status == 200, credentials.reply.body);
  BOOST_TEST(json::parse(credentials.reply.body).at("groups").as_array().size() > 0u);
  BOOST_TEST(contains(credentials.reply.header("strict-transport-security"), "max-age="));
}

BOOST_AUTO_TEST_CASE(the_certificate_is_refused_for_a_name_it_does_not_have) {
  TlsPanel panel;
  panel.tls.host = "panel.example.com";
  auto outcome = panel.send("GET", "/");
  BOOST_TEST(!outcome.handshake);
  BOOST_TEST(outcome.reply.status == 0);
}

BOOST_AUTO_TEST_CASE(plain_http_to_the_tls_port_gets_no_http_answer) {
  TlsPanel panel;
  auto connection = HttpConnection::tcp(panel.port);
  BOOST_TEST_REQUIRE(connection.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  BOOST_TEST(connection.closed_within(10s));
  BOOST_TEST(!contains(connection.pending(), "HTTP/"), connection.pending());
}

BOOST_AUTO_TEST_CASE(tls_1_1_and_a_cipher_outside_the_list_are_refused) {
  TlsPanel panel;
  auto tls12 = panel.send("GET", "/");
  BOOST_TEST_REQUIRE(tls12.handshake, tls12.error);
  BOOST_TEST(tls12.reply.status == 200);

  panel.tls.max_version = TLS1_1_VERSION;
  auto tls11 = panel.send("GET", "/");
  BOOST_TEST(!tls11.handshake);
  BOOST_TEST(tls11.reply.status == 0);

  // TLS 1.2 with ECDHE but CBC, which the system's defaults would accept.
  panel.tls.max_version = 0;
  panel.tls.tls12_ciphers = "ECDHE-ECDSA-AES256-SHA384";
  auto cbc = panel.send("GET", "/");
  BOOST_TEST(!cbc.handshake, cbc.error);
  panel.tls.tls12_ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
  auto gcm = panel.send("GET", "/");
  BOOST_TEST(gcm.handshake, gcm.error);
}

BOOST_AUTO_TEST_CASE(with_tls_the_panel_may_listen_on_any_address) {
  TlsPanel panel("0.0.0.0:0");
  auto page = panel.send("GET", "/");
  BOOST_TEST_REQUIRE(page.handshake, page.error);
  BOOST_TEST(page.reply.status == 200);
}

BOOST_AUTO_TEST_CASE(a_key_file_others_may_read_is_refused_by_name) {
  AgentDirectory directory;
  Certificates certificates(directory);
  ::chmod(certificates.key_file.c_str(), 0644);
  auto policy = directory.write("coffer.json", directory.policy());
  auto outcome = run_cli(
      directory,
      {"--policy", policy.string(), "serve", "--socket", (directory.directory / "a.sock").string(),
       "--admin", "127.0.0.1:0", "--admin-token-file",
       directory.write("admin.token", kAdminToken, 0600).string(), "--admin-tls-cert",
       certificates.chain_file.string(), "--admin-tls-key", certificates.key_file.string()});
  BOOST_TEST(outcome.status == 2, outcome.err);
  BOOST_TEST(contains(outcome.err, "--admin-tls-key " + certificates.key_file.string()),
             outcome.err);
  BOOST_TEST(contains(outcome.err, "0644"), outcome.err);
  BOOST_TEST(contains(outcome.err, "chmod 600"), outcome.err);
  BOOST_TEST(!contains(outcome.err, "PRIVATE KEY"), outcome.err);
}

BOOST_AUTO_TEST_CASE(
    a_certificate_without_its_key_or_a_non_loopback_address_without_tls_is_refused) {
  AgentDirectory directory;
  Certificates certificates(directory);
  auto policy = directory.write("coffer.json", directory.policy());
  auto token = directory.write("admin.token", kAdminToken, 0600).string();
  auto socket = (directory.directory / "a.sock").string();
  auto alone = run_cli(directory, {"--policy", policy.string(), "serve", "--socket", socket,
                                   "--admin", "127.0.0.1:0", "--admin-token-file", token,
                                   "--admin-tls-cert", certificates.chain_file.string()});
  BOOST_TEST(alone.status == 2, alone.err);
  BOOST_TEST(contains(alone.err, "--admin-tls-key"), alone.err);

  auto remote = run_cli(directory, {"--policy", policy.string(), "serve", "--socket", socket,
                                    "--admin", "0.0.0.0:0", "--admin-token-file", token});
  BOOST_TEST(remote.status == 2, remote.err);
  BOOST_TEST(contains(remote.err, "--admin 0.0.0.0:0"), remote.err);
  BOOST_TEST(contains(remote.err, "only loopback addresses are served"), remote.err);
  BOOST_TEST(contains(remote.err, "--admin-tls-cert and --admin-tls-key"), remote.err);
}

BOOST_AUTO_TEST_SUITE_END()
