#include "trust_store.hpp"

#include <coffer/provider.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <vector>

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

// Every store built so far, keyed by the CA file's content: instances that
// trust the same certificates share one store (an X509_STORE is reference
// counted and safe to share between SSL_CTXs and threads). Copying the
// bundle's certificates into a store of its own cost each new instance about
// a millisecond. Bounded; an evicted store lives on in the instances using it.
class StoreCache {
 public:
  StoreCache() = default;
  StoreCache(const StoreCache &) = delete;
  StoreCache &operator=(const StoreCache &) = delete;
  ~StoreCache() {
    for (auto &entry : entries_) X509_STORE_free(entry.store);
  }

  // A new reference to the store for `ca_content`, or null when none is kept.
  X509_STORE *find(const std::string &ca_content) {
    std::lock_guard lock(mutex_);
    for (auto &entry : entries_)
      if (entry.ca_content == ca_content && X509_STORE_up_ref(entry.store) == 1) return entry.store;
    return nullptr;
  }
  [[nodiscard]] bool holds(const std::string &ca_content) {
    std::lock_guard lock(mutex_);
    return std::any_of(entries_.begin(), entries_.end(),
                       [&](const Entry &entry) { return entry.ca_content == ca_content; });
  }
  // Keeps `store` (taking a reference of its own) for `ca_content`.
  void keep(const std::string &ca_content, X509_STORE *store) {
    if (X509_STORE_up_ref(store) != 1) return;
    std::lock_guard lock(mutex_);
    if (entries_.size() == kMaxEntries) {
      X509_STORE_free(entries_.front().store);
      entries_.erase(entries_.begin());
    }
    entries_.push_back({ca_content, store});
  }

 private:
  static constexpr std::size_t kMaxEntries = 16;
  struct Entry {
    std::string ca_content;
    X509_STORE *store;
  };
  std::mutex mutex_;
  std::vector<Entry> entries_;
};

StoreCache &store_cache() {
  static StoreCache cache;
  return cache;
}

[[noreturn]] void refuse_ca_file(const std::string &ca_file, const std::string &reason) {
  throw coffer::provider::Error(
      COFFER_STATUS_INVALID_CONFIG,
      "field 'ca_file': cannot load '" + ca_file + "' as PEM certificates: " + reason);
}

// The CA file's bytes (empty for no file). Certificates are public: an
// ordinary string.
std::string read_ca_file(const std::string &ca_file) {
  if (ca_file.empty()) return {};
  std::ifstream in(ca_file, std::ios::binary);
  if (!in.is_open()) refuse_ca_file(ca_file, std::strerror(errno));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) refuse_ca_file(ca_file, "a read failed");
  return content;
}

// Adds the certificates and CRLs of PEM `content` to `store` (as
// X509_STORE_load_file would from the file); throws when there are none.
void add_pem(X509_STORE *store, const std::string &ca_file, const std::string &content) {
  BIO *bio = BIO_new_mem_buf(content.data(), static_cast<int>(content.size()));
  if (bio == nullptr) throw coffer::provider::Error(COFFER_STATUS_INTERNAL, "out of memory");
  STACK_OF(X509_INFO) *items = PEM_X509_INFO_read_bio(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (items == nullptr) refuse_ca_file(ca_file, take_openssl_error());
  int added = 0;
  for (int i = 0; i < sk_X509_INFO_num(items); ++i) {
    X509_INFO *item = sk_X509_INFO_value(items, i);
    if (item->x509 != nullptr && X509_STORE_add_cert(store, item->x509) == 1) ++added;
    if (item->crl != nullptr && X509_STORE_add_crl(store, item->crl) == 1) ++added;
  }
  sk_X509_INFO_pop_free(items, X509_INFO_free);
  ERR_clear_error();
  if (added == 0) refuse_ca_file(ca_file, "no certificate or CRL found");
}

// A store of the system's CAs plus those of `ca_content` (owned by the caller).
X509_STORE *build_store(const std::string &ca_file, const std::string &ca_content) {
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
  if (!ca_file.empty()) {
    try {
      add_pem(store, ca_file, ca_content);
    } catch (...) {
      X509_STORE_free(store);
      throw;
    }
  }
  return store;
}

}  // namespace

std::string take_openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

X509_STORE *trust_store(const std::string &ca_file) {
  const std::string content = read_ca_file(ca_file);
  StoreCache &cache = store_cache();
  if (X509_STORE *shared = cache.find(content)) return shared;
  X509_STORE *store = build_store(ca_file, content);
  cache.keep(content, store);
  return store;
}

void check_ca_file(const std::string &ca_file) {
  const std::string content = read_ca_file(ca_file);
  if (store_cache().holds(content)) return;  // loaded before
  X509_STORE *store = X509_STORE_new();
  if (store == nullptr) throw coffer::provider::Error(COFFER_STATUS_INTERNAL, "out of memory");
  try {
    add_pem(store, ca_file, content);
  } catch (...) {
    X509_STORE_free(store);
    throw;
  }
  X509_STORE_free(store);
}

}  // namespace coffer::azure
