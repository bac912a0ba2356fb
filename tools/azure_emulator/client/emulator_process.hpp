// Starts coffer-azure-emulator (Entra ID, IMDS and the Key Vault secrets API
// on loopback, see ../README.md) as a child process for tests and benchmarks,
// and drives it through its control API. Link the CMake target
// coffer_azure_emulator_client (emulator_process.cpp, compiled once: Beast
// and Asio stay out of the programs that include this). One Emulator per
// process started; the destructor stops it (SIGTERM, then SIGKILL) and removes
// its state directory. const methods may be called from several threads at
// once (each opens its own connection); construction and destruction need
// external synchronisation. Failures throw std::runtime_error with the
// emulator's own log attached.
#ifndef COFFER_TOOLS_AZURE_EMULATOR_PROCESS_HPP
#define COFFER_TOOLS_AZURE_EMULATOR_PROCESS_HPP

#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
  [[nodiscard]] std::string header(std::string_view name) const;
  [[nodiscard]] bool has_header(std::string_view name) const;
  // The body parsed as JSON (throws when it is not JSON).
  [[nodiscard]] boost::json::value json() const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class Emulator {
 public:
  explicit Emulator(EmulatorOptions options = {});
  ~Emulator();

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
                         bool enabled = true) const;
  // The latest value of a secret as the vault holds it, or nullopt.
  std::optional<std::string> secret_value(const std::string &name) const;
  // Every operation on NAME ("*": the whole vault, listings included) is
  // answered 403 with this innererror code (ForbiddenByRbac, AccessDenied,
  // ForbiddenByPolicy, ForbiddenByFirewall).
  void deny(const std::string &name, const std::string &code = "ForbiddenByRbac") const;
  void allow(const std::string &name) const;
  // Routes: token, imds, get, put, delete, list, update, deleted, metadata, any.
  // Faults: 429, 429-retry-after, 408, 500, 502, 503, 504, reset, stall,
  // truncate, malformed-json, expired-token.
  void inject(const std::string &route, const std::string &fault, int count) const;
  void inject_probability(const std::string &route, const std::string &fault, double p) const;
  // A full rule, e.g. {"route":"get","fault":"429-retry-after","count":1,"retry_after":"2"}.
  void inject_rule(const boost::json::object &rule) const;
  void reset_faults() const;
  // POST /_emulator/config with this JSON object text; returns the settings now in force.
  boost::json::object configure(const std::string &json_object) const;
  // {"requests":{"token":n,"imds":n,"get":n,"put":n,"delete":n,"list":n,
  //  "update":n,"deleted":n,"metadata":n,"unauthenticated":n},
  //  "faults_injected":n,"tokens_issued":n}
  boost::json::object stats() const;
  // The access tokens issued and not yet expired.
  std::vector<std::string> unexpired_tokens() const;
  // Reads one counter of stats()["requests"].
  std::uint64_t requests(const std::string &route) const;
  void reset_stats() const;

  // One HTTPS request on a new connection to 127.0.0.1, verifying the test
  // CA and the host name `host` (also sent as SNI and in the Host header).
  EmulatorReply https(const std::string &method, const std::string &target,
                      const Headers &headers = {}, const std::string &body = {},
                      const std::string &host = "localhost",
                      std::chrono::seconds timeout = std::chrono::seconds(30)) const;

  // A keep-alive HTTPS connection (same verification as https()); requests on
  // it are sent one after the other. Not thread-safe; one per thread.
  class Connection {
   public:
    Connection(const Emulator &emulator, const std::string &host);
    Connection(Connection &&) noexcept;
    Connection &operator=(Connection &&) noexcept;
    ~Connection();
    EmulatorReply request(const std::string &method, const std::string &target,
                          const Headers &headers = {}, const std::string &body = {});

   private:
    struct State;
    std::unique_ptr<State> state_;
  };
  Connection connect(const std::string &host = "localhost") const {
    return Connection(*this, host);
  }

  // One plain-HTTP request to the IMDS port.
  EmulatorReply imds(const std::string &target, const Headers &headers = {{"Metadata", "true"}},
                     std::chrono::seconds timeout = std::chrono::seconds(30)) const;

  // A valid access token for the vault, obtained from the emulator's IMDS.
  std::string access_token() const;

  // Stops the emulator (SIGTERM, then SIGKILL after 5 s) and returns its exit
  // status: 0 when it shut down cleanly, -1 when it had to be killed. The
  // destructor calls it; calling it again returns the same status.
  int stop() noexcept;

  // The emulator's stderr so far (for failure messages).
  std::string log() const;

 private:
  void start(const std::filesystem::path &program);
  boost::json::object control(const std::string &method, const std::string &target,
                              const boost::json::object &body) const;

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
