// A bare libcurl client for coffer-bench-azure-keyvault: the floor of what a
// synchronous curl-based SDK can do against the Key Vault / Entra ID
// emulator. One workload-identity token exchange per call, shared by every
// thread; then one easy handle per thread, reused for every request
// (keep-alive), TLS verifying the peer and its host name against the given
// CA file, no proxy, the token sent with the first request.
//
// Threads: construct CurlGlobal once, before any other thread runs, and keep
// it for the life of every CurlClient; resolve() may be called from one
// thread at a time and starts its own threads.
#ifndef COFFER_BENCH_AZURE_KEYVAULT_CURL_CLIENT_HPP
#define COFFER_BENCH_AZURE_KEYVAULT_CURL_CLIENT_HPP

#include <cstddef>
#include <string>
#include <vector>

namespace coffer::bench {

// curl_global_init / curl_global_cleanup. Throws std::runtime_error.
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal &) = delete;
  CurlGlobal &operator=(const CurlGlobal &) = delete;
};

// "libcurl 7.88.1 (OpenSSL/3.0.x)": the library this client runs on.
std::string curl_library_version();

struct CurlTarget {
  std::string vault_url;  // https://host:port, no trailing slash
  std::string token_url;  // the Entra ID token endpoint, tenant included
  std::string client_id;
  std::string token_file;   // the federated token (client assertion)
  std::string ca_file;      // PEM; the only trust anchors
  std::string api_version;  // Key Vault's api-version
  // "HOST:PORT:ADDRESS:PORT" (CURLOPT_CONNECT_TO): connections to the vault's
  // HOST:PORT go to ADDRESS:PORT, TLS still checking HOST; or empty.
  std::string connect_to;
};

// Resolves every name (a Key Vault secret name) from cold: a token exchange,
// then min(concurrency, names.size()) threads, each with its own handle,
// taking the next name until none is left. Returns the number of failures
// (a failed token exchange fails every name). Values are kept in secret
// memory and dropped; they are never printed; the first failure of a call
// is described on stderr without the response body.
std::size_t curl_resolve(const CurlTarget &target, const std::vector<std::string> &names,
                         std::size_t concurrency);

}  // namespace coffer::bench

#endif  // COFFER_BENCH_AZURE_KEYVAULT_CURL_CLIENT_HPP
