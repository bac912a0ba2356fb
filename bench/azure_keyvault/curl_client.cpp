#include "curl_client.hpp"

#include "base/secure_memory.hpp"

#include <curl/curl.h>
#include <coffer/secret.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace coffer::bench {
namespace {

using coffer::detail::wipe;

void wipe_string(std::string &text) {
  wipe(text.data(), text.size());
  text.clear();
}

struct HandleDeleter {
  void operator()(CURL *handle) const { curl_easy_cleanup(handle); }
};
using Handle = std::unique_ptr<CURL, HandleDeleter>;

// Headers that may carry the token: wiped before they are freed.
struct HeaderList {
  curl_slist *list = nullptr;
  HeaderList() = default;
  HeaderList(const HeaderList &) = delete;
  HeaderList &operator=(const HeaderList &) = delete;
  ~HeaderList() {
    for (curl_slist *item = list; item != nullptr; item = item->next)
      wipe(item->data, std::char_traits<char>::length(item->data));
    curl_slist_free_all(list);
  }
  void add(const std::string &header) {
    curl_slist *grown = curl_slist_append(list, header.c_str());
    if (grown == nullptr) throw std::bad_alloc();
    list = grown;
  }
};

std::size_t append_body(char *data, std::size_t size, std::size_t count, void *body) {
  static_cast<std::string *>(body)->append(data, size * count);
  return size * count;
}

// One easy handle with the settings every request shares, writing into `body`
// (reserved so that it does not move while it holds a secret).
Handle new_handle(const CurlTarget &target, const curl_slist *connect_to, std::string &body) {
  Handle handle(curl_easy_init());
  if (!handle) throw std::runtime_error("curl_easy_init failed");
  CURL *h = handle.get();
  body.reserve(16 * 1024);
  curl_easy_setopt(h, CURLOPT_CAINFO, target.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(h, CURLOPT_PROXY, "");  // no proxy, whatever the environment says
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  return handle;
}

// Performs the request set up on `h`; returns the HTTP status, 0 when the
// transfer failed (`why` says how).
long perform(CURL *h, std::string &why) {
  const CURLcode code = curl_easy_perform(h);
  if (code != CURLE_OK) {
    why = curl_easy_strerror(code);
    return 0;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

// Parses `body` as a JSON object and returns its string `field` in secret
// memory, or an empty Secret. The parse happens in a stack arena that is
// wiped afterwards, as is `body`.
coffer::Secret take_field(std::string &body, const char *field) {
  alignas(std::max_align_t) unsigned char arena[8192];
  coffer::Secret result;
  {
    boost::json::monotonic_resource memory(arena, sizeof arena);
    boost::system::error_code error;
    boost::json::value json = boost::json::parse(body, error, &memory);
    if (!error && json.is_object()) {
      if (auto *value = json.as_object().if_contains(field); value != nullptr && value->is_string())
        result = coffer::Secret::copy_of(std::string_view(value->as_string()));
    }
  }
  wipe(arena, sizeof arena);
  wipe_string(body);
  return result;
}

// Counts failures across the threads of one call; describes the first.
class Failures {
 public:
  void add(const std::string &what) {
    std::lock_guard lock(mutex_);
    if (count_++ == 0) std::cerr << "libcurl client: " << what << "\n";
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return count_;
  }

 private:
  mutable std::mutex mutex_;
  std::size_t count_ = 0;
};

// The workload-identity exchange on `h`: the federated token as the client
// assertion. Returns "Authorization: Bearer <token>", or "" on failure.
std::string exchange_token(CURL *h, const CurlTarget &target, std::string &body,
                           Failures &failures) {
  std::string assertion;
  {
    std::ifstream in(target.token_file, std::ios::binary);
    if (!in) {
      failures.add("cannot read the federated token file " + target.token_file);
      return {};
    }
    assertion.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    while (!assertion.empty() && (assertion.back() == '\n' || assertion.back() == '\r'))
      assertion.pop_back();
  }
  auto escaped = [&](const std::string &text) {
    char *raw = curl_easy_escape(h, text.data(), static_cast<int>(text.size()));
    if (raw == nullptr) throw std::bad_alloc();
    std::string out(raw);
    wipe(raw, out.size());
    curl_free(raw);
    return out;
  };
  std::string form =
      "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
      "&client_assertion=" +
      escaped(assertion) + "&client_id=" + escaped(target.client_id) +
      "&grant_type=client_credentials&scope=" + escaped("https://vault.azure.net/.default");
  wipe_string(assertion);
  HeaderList headers;
  headers.add("Accept: application/json");
  curl_easy_setopt(h, CURLOPT_URL, target.token_url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
  std::string why;
  const long status = perform(h, why);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  wipe_string(form);
  if (status != 200) {
    wipe_string(body);
    failures.add(status == 0 ? "token exchange: " + why
                             : "token exchange: HTTP " + std::to_string(status));
    return {};
  }
  coffer::Secret token = take_field(body, "access_token");
  if (token.empty()) {
    failures.add("token exchange: no access_token in the response");
    return {};
  }
  std::string header = "Authorization: Bearer ";
  header.append(token.reveal());
  return header;
}

// Gets names[next++] on `h` until none is left.
void get_secrets(CURL *h, const CurlTarget &target, const std::string &authorization,
                 std::string &body, const std::vector<std::string> &names,
                 std::atomic<std::size_t> &next, Failures &failures) {
  HeaderList headers;
  headers.add(authorization);
  headers.add("Accept: application/json");
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.list);
  const std::string prefix = target.vault_url + "/secrets/";
  const std::string suffix = "?api-version=" + target.api_version;
  std::string url;
  std::string why;
  for (std::size_t i = next++; i < names.size(); i = next++) {
    url = prefix + names[i] + suffix;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    const long status = perform(h, why);
    if (status != 200) {
      wipe_string(body);
      failures.add(names[i] + ": " + (status == 0 ? why : "HTTP " + std::to_string(status)));
      continue;
    }
    coffer::Secret value = take_field(body, "value");
    if (value.empty()) failures.add(names[i] + ": no value in the response");
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
}

}  // namespace

CurlGlobal::CurlGlobal() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    throw std::runtime_error("curl_global_init failed");
}

CurlGlobal::~CurlGlobal() {
  curl_global_cleanup();
}

std::string curl_library_version() {
  const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
  std::string text = std::string("libcurl ") + info->version;
  if (info->ssl_version != nullptr) text += std::string(" (") + info->ssl_version + ")";
  return text;
}

std::size_t curl_resolve(const CurlTarget &target, const std::vector<std::string> &names,
                         std::size_t concurrency) {
  Failures failures;
  HeaderList connect_to;  // outlives every handle that points at it
  if (!target.connect_to.empty()) connect_to.add(target.connect_to);
  std::string first_body;
  Handle first = new_handle(target, connect_to.list, first_body);
  std::string authorization = exchange_token(first.get(), target, first_body, failures);
  if (authorization.empty()) return names.size();  // every get fails without a token
  std::atomic<std::size_t> next{0};
  const std::size_t threads = std::max<std::size_t>(1, std::min(concurrency, names.size()));
  std::vector<std::thread> workers;
  workers.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) {
    workers.emplace_back([&] {
      try {
        std::string body;
        Handle handle = new_handle(target, connect_to.list, body);
        get_secrets(handle.get(), target, authorization, body, names, next, failures);
      } catch (const std::exception &error) {
        failures.add(std::string("a worker stopped: ") + error.what());
      }
    });
  }
  // The calling thread is the first worker, on the handle that fetched the token.
  get_secrets(first.get(), target, authorization, first_body, names, next, failures);
  for (auto &worker : workers) worker.join();
  wipe_string(authorization);
  return failures.count();
}

}  // namespace coffer::bench
