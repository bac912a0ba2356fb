// Test support for the azure_keyvault suites: a temporary directory, a fake
// federated service-account token, an emulator set up for workload identity
// with a realistic vault host name (myvault.vault.azure.net, reached through
// `connect_to`), instance configurations, and concurrent gets through the
// plugin's C table.
#ifndef COFFER_TESTS_AZURE_KEYVAULT_FIXTURE_HPP
#define COFFER_TESTS_AZURE_KEYVAULT_FIXTURE_HPP

#include "emulator_process.hpp"
#include "plugin_harness.hpp"
#include "temp_directory.hpp"

#include <sys/stat.h>

#include <boost/json.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace kvtest {

inline void write_file(const std::filesystem::path &path, const std::string &content) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
  }
  ::chmod(temporary.c_str(), 0600);
  std::filesystem::rename(temporary, path);
}

inline std::string base64url(const std::string &text) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t accumulator = 0;
  int bits = 0;
  for (unsigned char c : text) {
    accumulator = (accumulator << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(accumulator >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(accumulator << (6 - bits)) & 63]);
  return out;
}

// A projected service-account token as the kubelet writes it (unsigned here;
// the emulator compares it with the file's current content).
inline std::string fake_service_account_token(const std::string &serial) {
  const long now = static_cast<long>(std::time(nullptr));
  boost::json::object claims{{"aud", boost::json::array{"api://AzureADTokenExchange"}},
                             {"iss", "https://oidc.prod-aks.azure.com/tenant/issuer/"},
                             {"sub", "system:serviceaccount:pmp-prod:pmp-secret-accessor"},
                             {"nbf", now - 10},
                             {"exp", now + 3600},
                             {"jti", "assertion-" + serial}};
  return base64url(R"({"alg":"RS256","kid":"k1"})") + "." +
         base64url(boost::json::serialize(claims)) + "." +
         base64url("signature-" + serial + "-0123456789abcdef");
}

constexpr const char *kVaultHost = "myvault.vault.azure.net";

// An emulator with a token file and a client secret file in a temporary
// directory, and configurations of the plugin against it.
class World {
 public:
  explicit World(coffer::test::EmulatorOptions options = {}, bool workload_files = true)
      : token_file_(dir_ / "azure-identity-token"),
        secret_file_(dir_ / "client-secret"),
        emulator_(prepare(std::move(options), workload_files)) {}

  [[nodiscard]] coffer::test::Emulator &emulator() { return emulator_; }
  [[nodiscard]] const coffer::test::TempDirectory &dir() const { return dir_; }
  [[nodiscard]] const std::filesystem::path &token_file() const { return token_file_; }
  [[nodiscard]] const std::filesystem::path &secret_file() const { return secret_file_; }
  [[nodiscard]] const std::string &assertion() const { return assertion_; }
  [[nodiscard]] const std::string &client_secret() const { return client_secret_; }

  void rotate_assertion(const std::string &serial) {
    assertion_ = fake_service_account_token(serial);
    write_file(token_file_, assertion_ + "\n");  // the kubelet's file may end in a newline
  }

  [[nodiscard]] std::string vault_url() const {
    return std::string("https://") + kVaultHost + ":" + std::to_string(emulator_.https_port());
  }

  // A workload-identity configuration with short backoffs; `overrides`
  // replace or add top-level fields (credential included).
  [[nodiscard]] std::string config(const boost::json::object &overrides = {}) const {
    boost::json::object config{
        {"vault_url", vault_url()},
        {"connect_to", "127.0.0.1:" + std::to_string(emulator_.https_port())},
        {"authority_host", emulator_.authority_host()},
        {"ca_file", emulator_.ca_file().string()},
        {"retry_base_delay_ms", 5},
        {"retry_max_delay_ms", 40},
        {"operation_timeout_ms", 15000},
        {"credential", boost::json::object{{"type", "workload_identity"},
                                           {"tenant_id", emulator_.tenant()},
                                           {"client_id", emulator_.client_id()},
                                           {"token_file", token_file_.string()}}}};
    for (const auto &member : overrides) config[member.key()] = member.value();
    return boost::json::serialize(config);
  }

  [[nodiscard]] boost::json::object client_secret_credential() const {
    return {{"type", "client_secret"},
            {"tenant_id", emulator_.tenant()},
            {"client_id", emulator_.client_id()},
            {"client_secret_file", secret_file_.string()}};
  }

 private:
  coffer::test::EmulatorOptions prepare(coffer::test::EmulatorOptions options,
                                        bool workload_files) {
    rotate_assertion("1");
    client_secret_ = "Qx8~client-secret-value-" + std::to_string(::getpid());
    write_file(secret_file_, client_secret_ + "\n");
    if (workload_files) {
      if (options.token_file.empty()) options.token_file = token_file_;
      if (options.client_secret_file.empty()) options.client_secret_file = secret_file_;
    }
    options.sans.push_back(kVaultHost);
    return options;
  }

  coffer::test::TempDirectory dir_{"coffer-akv-test"};
  std::filesystem::path token_file_;
  std::filesystem::path secret_file_;
  std::string assertion_;
  std::string client_secret_;
  coffer::test::Emulator emulator_;
};

// Issues gets through the C table without waiting between them, then waits
// for every completion.
inline std::vector<coffer::test::Outcome> get_concurrently(coffer::test::Instance &instance,
                                                           const std::vector<std::string> &keys,
                                                           uint32_t timeout_ms = 0) {
  struct Shared {
    std::mutex mutex;
    std::condition_variable all_done;
    std::size_t done = 0;
    std::vector<coffer::test::Outcome> outcomes;
  } shared;
  shared.outcomes.resize(keys.size());
  struct Slot {
    Shared *shared;
    std::size_t index;
  };
  std::vector<Slot> slots(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    slots[i] = Slot{&shared, i};
    coffer_get_request request{};
    request.struct_size = sizeof request;
    request.key = keys[i].c_str();
    request.timeout_ms = timeout_ms;
    instance.table()->get(
        instance.raw(), &request,
        [](void *context, coffer_status status, const coffer_value *value, const char *message) {
          auto *slot = static_cast<Slot *>(context);
          coffer::test::Outcome outcome;
          outcome.status = status;
          if (message != nullptr) outcome.message = message;
          if (value != nullptr) {
            outcome.value.assign(reinterpret_cast<const char *>(value->data), value->size);
            if (value->version != nullptr) outcome.version = value->version;
          }
          std::lock_guard lock(slot->shared->mutex);
          slot->shared->outcomes[slot->index] = std::move(outcome);
          if (++slot->shared->done == slot->shared->outcomes.size())
            slot->shared->all_done.notify_all();
        },
        &slots[i]);
  }
  std::unique_lock lock(shared.mutex);
  if (!shared.all_done.wait_for(lock, std::chrono::seconds(120),
                                [&] { return shared.done == keys.size(); }))
    throw std::runtime_error("not every get completed");
  return std::move(shared.outcomes);
}

inline bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

}  // namespace kvtest

#endif  // COFFER_TESTS_AZURE_KEYVAULT_FIXTURE_HPP
