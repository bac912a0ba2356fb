#include "credential.hpp"

#include "retry.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace coffer::azure {
namespace {

using coffer::provider::Error;
using coffer::provider::SecretBytes;

constexpr std::size_t kMaxSecretFile = 64 * 1024;

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

SecretBytes trimmed(const unsigned char *data, std::size_t size) {
  std::size_t begin = 0;
  std::size_t end = size;
  while (begin < end && is_space(data[begin])) ++begin;
  while (end > begin && is_space(data[end - 1])) --end;
  return SecretBytes(data + begin, end - begin);
}

std::string token_url_path(const Url &authority, const std::string &tenant) {
  std::string path = authority.path;
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path + "/" + tenant + "/oauth2/v2.0/token";
}

// Shared by the two credentials that talk to Entra ID's token endpoint.
class EntraCredential : public Credential {
 public:
  EntraCredential(const Config &config, std::string kind)
      : authority_(config.authority),
        tenant_(config.credential.tenant_id),
        client_id_(config.credential.client_id),
        kind_(std::move(kind)) {}

  [[nodiscard]] const std::string &tenant() const override { return tenant_; }

 protected:
  // The form body up to (not including) the credential's own fields.
  HttpRequest start(const std::string &tenant, const std::string &scope) const {
    HttpRequest request;
    request.method = "POST";
    request.url = authority_;
    request.url.path = token_url_path(authority_, tenant);
    request.url.query.clear();
    request.content_type = "application/x-www-form-urlencoded";
    request.headers.emplace_back("Accept", "application/json");
    request.body.append("grant_type=client_credentials&client_id=");
    append_form_encoded(request.body, client_id_);
    request.body.append("&scope=");
    append_form_encoded(request.body, scope);
    return request;
  }

  TokenRequestContext context(const std::string &tenant, const std::string &scope) const {
    TokenRequestContext context;
    context.credential = kind_;
    context.tenant = tenant;
    context.client_id = client_id_;
    context.scope = scope;
    context.authority = authority_.endpoint.origin();
    return context;
  }

  Url authority_;
  std::string tenant_;
  std::string client_id_;
  std::string kind_;
};

class WorkloadIdentityCredential final : public EntraCredential {
 public:
  explicit WorkloadIdentityCredential(const Config &config)
      : EntraCredential(config, "workload_identity"), token_file_(config.credential.token_file) {}

  HttpRequest token_request(const std::string &tenant, const std::string &scope) override {
    SecretBytes assertion = read_secret_file(token_file_, "federated service-account token");
    claims_ = read_assertion_claims(assertion.view());
    HttpRequest request = start(tenant, scope);
    request.body.append(
        "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
        "&client_assertion=");
    append_form_encoded(request.body, assertion.view());
    return request;
  }

  [[nodiscard]] Error failure(unsigned status, std::string_view body, const std::string &tenant,
                              const std::string &scope) const override {
    TokenRequestContext details = context(tenant, scope);
    details.token_file = token_file_;
    details.claims = claims_;
    return describe_token_failure(status, body, details);
  }

  [[nodiscard]] std::string describe() const override {
    return "workload identity (client ID " + client_id_ + ", tenant " + tenant_ + ", token file " +
           token_file_ + ")";
  }

 private:
  std::string token_file_;
  AssertionClaims claims_;  // of the last assertion sent, for messages
};

class ClientSecretCredential final : public EntraCredential {
 public:
  ClientSecretCredential(const Config &config, EnvironmentLookup environment,
                         const coffer::provider::Host &log)
      : EntraCredential(config, "client_secret"),
        file_(config.credential.client_secret_file),
        variable_(config.credential.client_secret_env),
        environment_(std::move(environment)) {
    if (!file_.empty()) {
      struct stat status {};
      if (::stat(file_.c_str(), &status) == 0 && (status.st_mode & 077) != 0)
        log.warning("the client secret file " + file_ +
                    " can be read by other users; restrict it to its owner (chmod 600)");
    }
  }

  HttpRequest token_request(const std::string &tenant, const std::string &scope) override {
    SecretBytes secret = read_secret();
    HttpRequest request = start(tenant, scope);
    request.body.append("&client_secret=");
    append_form_encoded(request.body, secret.view());
    return request;
  }

  [[nodiscard]] Error failure(unsigned status, std::string_view body, const std::string &tenant,
                              const std::string &scope) const override {
    TokenRequestContext details = context(tenant, scope);
    details.secret_source = source();
    return describe_token_failure(status, body, details);
  }

  [[nodiscard]] std::string describe() const override {
    return "client secret (client ID " + client_id_ + ", tenant " + tenant_ + ", from " + source() +
           ")";
  }

 private:
  [[nodiscard]] std::string source() const {
    return file_.empty() ? "the environment variable " + variable_ : "the file " + file_;
  }

  SecretBytes read_secret() const {
    if (!file_.empty()) return read_secret_file(file_, "client secret");
    std::optional<std::string> value = environment_(variable_);
    if (!value || value->empty())
      throw Error(COFFER_STATUS_INVALID_CONFIG,
                  "the environment variable " + variable_ +
                      " named by credential.client_secret_env is not set or empty");
    SecretBytes secret =
        trimmed(reinterpret_cast<const unsigned char *>(value->data()), value->size());
    wipe_string(*value);
    return secret;
  }

  std::string file_;
  std::string variable_;
  EnvironmentLookup environment_;
};

class ManagedIdentityCredential final : public Credential {
 public:
  explicit ManagedIdentityCredential(const Config &config)
      : endpoint_(config.credential.imds_endpoint), client_id_(config.credential.client_id) {}

  HttpRequest token_request(const std::string &, const std::string &scope) override {
    std::string resource = scope;
    constexpr std::string_view suffix = "/.default";
    if (resource.size() > suffix.size() &&
        resource.compare(resource.size() - suffix.size(), suffix.size(), suffix) == 0)
      resource.resize(resource.size() - suffix.size());
    HttpRequest request;
    request.method = "GET";
    request.url = endpoint_;
    request.url.query = "api-version=2018-02-01&resource=" + percent_encode(resource);
    if (!client_id_.empty()) request.url.query += "&client_id=" + percent_encode(client_id_);
    request.headers.emplace_back("Metadata", "true");
    request.headers.emplace_back("Accept", "application/json");
    return request;
  }

  [[nodiscard]] Error failure(unsigned status, std::string_view body, const std::string &,
                              const std::string &scope) const override {
    TokenRequestContext context;
    context.credential = "managed_identity";
    context.client_id = client_id_;
    context.scope = scope;
    context.authority = endpoint_.endpoint.origin();
    return describe_imds_failure(status, body, context);
  }

  [[nodiscard]] bool retryable(unsigned status) const override {
    return status == 410 || Credential::retryable(status);  // 410: IMDS is updating
  }

  [[nodiscard]] const std::string &tenant() const override { return no_tenant_; }

  [[nodiscard]] std::string describe() const override {
    return "managed identity (" +
           (client_id_.empty() ? std::string("system-assigned") : "client ID " + client_id_) +
           ", endpoint " + endpoint_.endpoint.origin() + endpoint_.path + ")";
  }

 private:
  Url endpoint_;
  std::string client_id_;
  std::string no_tenant_;
};

}  // namespace

bool Credential::retryable(unsigned status) const {
  return is_retryable_status(status);
}

SecretBytes read_secret_file(const std::string &path, const std::string &what) {
  int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (descriptor < 0)
    throw Error(COFFER_STATUS_INVALID_CONFIG,
                "cannot read the " + what + " file " + path + ": " + std::strerror(errno));
  SecretBytes content;
  unsigned char chunk[4096];
  bool too_large = false;
  int error = 0;
  while (true) {
    ssize_t count = ::read(descriptor, chunk, sizeof chunk);
    if (count < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    if (count == 0) break;
    content.append(chunk, static_cast<std::size_t>(count));
    if (content.size() > kMaxSecretFile) {
      too_large = true;
      break;
    }
  }
  coffer::provider::wipe(chunk, sizeof chunk);
  ::close(descriptor);
  if (error != 0)
    throw Error(COFFER_STATUS_INVALID_CONFIG,
                "cannot read the " + what + " file " + path + ": " + std::strerror(error));
  if (too_large)
    throw Error(COFFER_STATUS_INVALID_CONFIG, "the " + what + " file " + path + " is larger than " +
                                                  std::to_string(kMaxSecretFile) + " bytes");
  SecretBytes result = trimmed(content.data(), content.size());
  if (result.empty())
    throw Error(COFFER_STATUS_INVALID_CONFIG, "the " + what + " file " + path + " is empty");
  return result;
}

std::unique_ptr<Credential> make_credential(const Config &config, EnvironmentLookup environment,
                                            const coffer::provider::Host &log) {
  switch (config.credential.type) {
    case CredentialType::workload_identity:
      return std::make_unique<WorkloadIdentityCredential>(config);
    case CredentialType::client_secret:
      return std::make_unique<ClientSecretCredential>(config, std::move(environment), log);
    case CredentialType::managed_identity:
      return std::make_unique<ManagedIdentityCredential>(config);
  }
  throw Error(COFFER_STATUS_INTERNAL, "unknown credential type");
}

}  // namespace coffer::azure
