#include "trust_store.hpp"

#include <coffer/provider.hpp>

#include <openssl/err.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <mutex>

namespace coffer::azure {
namespace {

struct SystemPaths {
  std::string file;       // a bundle to parse, or empty
  std::string directory;  // a hashed directory to search lazily, or empty
};

bool is_hashed_directory(const std::string &directory) {
  std::error_code error;
  for (const auto &entry : std::filesystem::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == 10 && name[8] == '.' &&
        std::isdigit(static_cast<unsigned char>(name[9])) != 0 &&
        std::all_of(name.begin(), name.begin() + 8,
                    [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }))
      return true;
  }
  return false;
}

// OpenSSL's default verify paths: the environment, else the built-in ones.
// The built-in bundle file is skipped when the built-in directory is hashed:
// it holds the same certificates (update-ca-certificates writes both).
SystemPaths system_paths() {
  SystemPaths paths;
  const char *file_env =
      std::getenv(X509_get_default_cert_file_env());  // NOLINT(concurrency-mt-unsafe)
  const char *dir_env =
      std::getenv(X509_get_default_cert_dir_env());  // NOLINT(concurrency-mt-unsafe)
  paths.directory = dir_env != nullptr ? dir_env : X509_get_default_cert_dir();
  if (!is_hashed_directory(paths.directory)) paths.directory.clear();
  if (file_env != nullptr)
    paths.file = file_env;
  else if (paths.directory.empty() || dir_env != nullptr)
    paths.file = X509_get_default_cert_file();
  std::error_code error;
  if (!paths.file.empty() && !std::filesystem::is_regular_file(paths.file, error))
    paths.file.clear();
  return paths;
}

// The system bundle file, parsed once while the plugin is loaded; read-only
// afterwards. Freed when the plugin is unloaded (a host that opens and closes
// Stores loads it again each time): instances' stores hold their own
// references to the certificates.
struct SharedBundle {
  std::once_flag once;
  X509_STORE *store = nullptr;
  SharedBundle() = default;
  SharedBundle(const SharedBundle &) = delete;
  SharedBundle &operator=(const SharedBundle &) = delete;
  ~SharedBundle() { X509_STORE_free(store); }
};

const X509_STORE *shared_bundle(const std::string &file) {
  static SharedBundle bundle;
  std::call_once(bundle.once, [&file] {
    bundle.store = X509_STORE_new();
    if (bundle.store != nullptr && X509_STORE_load_file(bundle.store, file.c_str()) != 1)
      ERR_clear_error();
  });
  return bundle.store;
}

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

X509_STORE *make_trust_store(const std::string &ca_file) {
  static const SystemPaths paths = system_paths();
  X509_STORE *store = X509_STORE_new();
  if (store == nullptr) throw coffer::provider::Error(COFFER_STATUS_INTERNAL, "out of memory");
  if (!paths.directory.empty() && X509_STORE_load_path(store, paths.directory.c_str()) != 1)
    ERR_clear_error();
  if (!paths.file.empty()) {
    const X509_STORE *bundle = shared_bundle(paths.file);
    if (bundle != nullptr) {
      STACK_OF(X509_OBJECT) *objects = X509_STORE_get0_objects(bundle);
      for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
        X509 *certificate = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i));
        if (certificate != nullptr && X509_STORE_add_cert(store, certificate) != 1)
          ERR_clear_error();
      }
    }
  }
  if (!ca_file.empty() && X509_STORE_load_file(store, ca_file.c_str()) != 1) {
    std::string reason = openssl_error();
    X509_STORE_free(store);
    throw coffer::provider::Error(
        COFFER_STATUS_INVALID_CONFIG,
        "field 'ca_file': cannot load '" + ca_file + "' as PEM certificates: " + reason);
  }
  return store;
}

void check_ca_file(const std::string &ca_file) {
  X509_STORE *store = X509_STORE_new();
  if (store == nullptr) throw coffer::provider::Error(COFFER_STATUS_INTERNAL, "out of memory");
  if (X509_STORE_load_file(store, ca_file.c_str()) != 1) {
    std::string reason = openssl_error();
    X509_STORE_free(store);
    throw coffer::provider::Error(
        COFFER_STATUS_INVALID_CONFIG,
        "field 'ca_file': cannot load '" + ca_file + "' as PEM certificates: " + reason);
  }
  X509_STORE_free(store);
}

}  // namespace coffer::azure
