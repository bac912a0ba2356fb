#include "provider_instance.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chrono>

#include "cache.hpp"
#include "secure_memory.hpp"

namespace coffer::detail {

Code code_of(coffer_status status) {
  if (status < COFFER_STATUS_OK || status > COFFER_STATUS_DATA_ERROR) return Code::internal;
  return static_cast<Code>(status);
}

struct ProviderInstance::HostContext {
  coffer_host table{};
  Logger logger;
  std::string prefix;
  std::string provider;
  Metrics *metrics;
  HostContext(const Logger &l, std::string name, Metrics &m)
      : logger(l), prefix("provider '" + name + "': "), provider(std::move(name)), metrics(&m) {}
};

namespace {

LogLevel level_of(int32_t level) {
  switch (level) {
    case COFFER_LOG_DEBUG:
      return LogLevel::debug;
    case COFFER_LOG_INFO:
      return LogLevel::info;
    case COFFER_LOG_WARNING:
      return LogLevel::warning;
    default:
      return LogLevel::error;
  }
}

void host_log(void *context, int32_t level, const char *message) {
  auto *host = static_cast<ProviderInstance::HostContext *>(context);
  if (message == nullptr) return;
  host->logger.log(level_of(level), host->prefix + message);
}

void host_count(void *context, const char *counter, uint64_t delta) {
  auto *host = static_cast<ProviderInstance::HostContext *>(context);
  if (counter == nullptr || delta == 0) return;
  try {
    host->metrics->count(host->provider, counter, delta);
  } catch (...) {  // out of memory: a lost count must not break the plugin
  }
}

int64_t host_now(void *) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string text(const char *message) {
  return message != nullptr ? message : std::string();
}

// The context of one call into the plugin. Members are destroyed in reverse
// order: the instance reference first (its last release posts the close to
// the worker), then the completion, then the hold that lets the Store finish.
template <class Callback>
struct Call {
  Tracker::Hold hold;
  Callback done;
  std::shared_ptr<ProviderInstance> self;
};

}  // namespace

std::string ProviderInstance::identity_of(const ProviderSpec &spec,
                                          const std::filesystem::path &file) {
  return spec.name + '\n' + spec.plugin + '\n' + file.string() + '\n' + spec.config_json + '\n' +
         spec.sha256.value_or("");
}

std::shared_ptr<ProviderInstance> ProviderInstance::open(
    std::shared_ptr<PluginLibrary> library, const ProviderSpec &spec,
    const std::filesystem::path &base_directory, const Logger &logger, Worker &worker,
    Tracker &tracker, Metrics &metrics) {
  std::unique_ptr<ProviderInstance> self(new ProviderInstance());
  self->library_ = std::move(library);
  self->name_ = spec.name;
  self->plugin_ = spec.plugin;
  self->identity_ = identity_of(spec, self->library_->file());
  self->tracker_ = &tracker;
  self->host_ = std::make_unique<HostContext>(logger, spec.name, metrics);
  coffer_host &host = self->host_->table;
  host.struct_size = sizeof(coffer_host);
  host.abi_version = COFFER_ABI_VERSION;
  host.context = self->host_.get();
  host.log = &host_log;
  host.log_level = static_cast<int32_t>(logger.level());
  host.now_unix_ms = &host_now;
  host.count = &host_count;
  host.secret_allocate = &secret_allocate_for_plugin;
  host.secret_free = &secret_free_for_plugin;
  {
    unsigned char key[32];
    if (RAND_bytes(key, sizeof key) != 1) throw Error(Code::internal, "cannot draw random bytes");
    self->fingerprint_key_ = Secret::copy_of(std::span<const unsigned char>(key, sizeof key));
    wipe(key, sizeof key);
  }

  coffer_open_params params{};
  params.struct_size = sizeof(params);
  params.instance_name = spec.name.c_str();
  params.config_json = spec.config_json.c_str();
  params.config_size = spec.config_json.size();
  std::string base = base_directory.string();
  params.base_directory = base.empty() ? nullptr : base.c_str();
  char error[2048] = {0};
  coffer_status status =
      self->library_->table().open(&host, &params, &self->instance_, error, sizeof error);
  if (status != COFFER_STATUS_OK || self->instance_ == nullptr) {
    std::string why = error[0] != '\0' ? error : "no reason given";
    self->instance_ = nullptr;
    throw Error(status == COFFER_STATUS_OK ? Code::internal : code_of(status),
                spec.where() + "provider '" + spec.name + "' (plugin " + spec.plugin +
                    ") failed to open: " + why);
  }
  self->cache_ = std::make_unique<Cache>();
  Worker *closer = &worker;
  // Replaced values go once no reader can still be copying them.
  self->cache_->enable_lock_free_hits(
      [closer](std::vector<std::unique_ptr<Cache::Published>> retired) {
        auto batch =
            std::make_shared<std::vector<std::unique_ptr<Cache::Published>>>(std::move(retired));
        closer->post([batch] {
          ReadDomain::synchronize();
          batch->clear();
        });
      });
  std::shared_ptr<ProviderInstance> shared(self.release(), [closer](ProviderInstance *p) {
    // Closing joins the plugin's threads: never do it on one of them.
    closer->post([p] { delete p; });
  });
  shared->self_ = shared;
  return shared;
}

ProviderInstance::~ProviderInstance() {
  cache_.reset();  // wipes cached values
  if (instance_ != nullptr) library_->table().close(instance_);
}

void ProviderInstance::get(const std::string &key, const std::string &version, uint32_t timeout_ms,
                           GetDone done) {
  auto *call = new Call<GetDone>{tracker_->hold(), std::move(done), self_.lock()};
  coffer_get_request request{};
  request.struct_size = sizeof(request);
  request.key = key.c_str();
  request.version = version.empty() ? nullptr : version.c_str();
  request.timeout_ms = timeout_ms;
  if (!version.empty() && !can(COFFER_CAP_VERSIONS)) {
    std::unique_ptr<Call<GetDone>> owned(call);
    owned->done(Code::unsupported, "its plugin (" + plugin_ + ") cannot read named versions", {});
    return;
  }
  library_->table().get(
      instance_, &request,
      [](void *context, coffer_status status, const coffer_value *value, const char *message) {
        std::unique_ptr<Call<GetDone>> owned(static_cast<Call<GetDone> *>(context));
        ProviderInstance &self = *owned->self;
        if (status == COFFER_STATUS_OK && value == nullptr) {
          owned->done(Code::internal, "provider '" + self.name_ + "' answered ok without a value",
                      {});
          return;
        }
        if (status != COFFER_STATUS_OK) {
          owned->done(code_of(status), text(message), {});
          return;
        }
        std::string value_version;
        if (value->struct_size > offsetof(coffer_value, version) && value->version != nullptr)
          value_version = value->version;
        std::span<const unsigned char> bytes(value->data, value->data == nullptr ? 0 : value->size);
        if (value_version.empty()) {
          // No version from the provider: a keyed digest tells versions apart
          // without revealing the value.
          unsigned char mac[32];
          std::size_t mac_size = 0;
          if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr,
                        self.fingerprint_key_.bytes().data(), self.fingerprint_key_.size(),
                        bytes.data(), bytes.size(), mac, sizeof mac, &mac_size) != nullptr) {
            static const char *hex = "0123456789abcdef";
            value_version = "~";
            for (std::size_t i = 0; i < 8; ++i) {
              value_version += hex[mac[i] >> 4];
              value_version += hex[mac[i] & 15];
            }
          }
        }
        owned->done(Code::ok, {}, Secret::copy_of(bytes, std::move(value_version)));
      },
      call);
}

namespace {
void done_trampoline(void *context, coffer_status status, const char *version,
                     const char *message) {
  std::unique_ptr<Call<ProviderInstance::Done>> owned(
      static_cast<Call<ProviderInstance::Done> *>(context));
  owned->done(code_of(status), text(version), text(message));
}
}  // namespace

void ProviderInstance::put(const std::string &key, std::span<const unsigned char> value,
                           Done done) {
  if (!can(COFFER_CAP_PUT)) {
    done(Code::unsupported, {}, "its plugin (" + plugin_ + ") cannot write");
    return;
  }
  auto *call = new Call<Done>{tracker_->hold(), std::move(done), self_.lock()};
  library_->table().put(instance_, key.c_str(), value.data(), value.size(), &done_trampoline, call);
}

void ProviderInstance::remove(const std::string &key, Done done) {
  if (!can(COFFER_CAP_REMOVE)) {
    done(Code::unsupported, {}, "its plugin (" + plugin_ + ") cannot remove");
    return;
  }
  auto *call = new Call<Done>{tracker_->hold(), std::move(done), self_.lock()};
  library_->table().remove(instance_, key.c_str(), &done_trampoline, call);
}

void ProviderInstance::health(Done done) {
  if (!can(COFFER_CAP_HEALTH)) {
    done(Code::ok, {}, "no health check");
    return;
  }
  auto *call = new Call<Done>{tracker_->hold(), std::move(done), self_.lock()};
  library_->table().health(instance_, &done_trampoline, call);
}

void ProviderInstance::cancel() {
  if (cancelled_.exchange(true)) return;
  if (library_->table().cancel != nullptr) library_->table().cancel(instance_);
}

void ProviderInstance::admin(const std::string &command, const std::string &arguments, Done done) {
  if (!can(COFFER_CAP_ADMIN)) {
    done(Code::unsupported, {}, "its plugin (" + plugin_ + ") has no administrative commands");
    return;
  }
  auto *call = new Call<Done>{tracker_->hold(), std::move(done), self_.lock()};
  library_->table().admin(
      instance_, command.c_str(), arguments.c_str(),
      [](void *context, coffer_status status, const char *result, const char *message) {
        std::unique_ptr<Call<Done>> owned(static_cast<Call<Done> *>(context));
        owned->done(code_of(status), text(result), text(message));
      },
      call);
}

void ProviderInstance::list(ListDone done) {
  if (!can(COFFER_CAP_LIST)) {
    done(Code::unsupported, {}, "its plugin (" + plugin_ + ") cannot list");
    return;
  }
  auto *call = new Call<ListDone>{tracker_->hold(), std::move(done), self_.lock()};
  library_->table().list(
      instance_,
      [](void *context, coffer_status status, const coffer_list_entry *entries, size_t count,
         const char *message) {
        std::unique_ptr<Call<ListDone>> owned(static_cast<Call<ListDone> *>(context));
        std::vector<ListEntry> out;
        if (status == COFFER_STATUS_OK && entries != nullptr && count > 0) {
          std::size_t stride = entries[0].struct_size;
          if (stride < offsetof(coffer_list_entry, name) + sizeof(const char *)) {
            owned->done(Code::internal, {}, "list entries are too short");
            return;
          }
          const auto *base = reinterpret_cast<const unsigned char *>(entries);
          for (std::size_t i = 0; i < count; ++i) {
            const auto *e = reinterpret_cast<const coffer_list_entry *>(base + i * stride);
            ListEntry entry;
            entry.key = text(e->key);
            entry.name = text(e->name);
            if (stride > offsetof(coffer_list_entry, version)) entry.version = text(e->version);
            out.push_back(std::move(entry));
          }
        }
        owned->done(code_of(status), std::move(out), text(message));
      },
      call);
}

std::pair<Code, std::string> ProviderInstance::key_name(const std::string &key) {
  if (!can(COFFER_CAP_KEY_NAME)) return {Code::ok, key};
  std::string name(256, '\0');
  char error[1024] = {0};
  std::size_t size = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    coffer_status status = library_->table().key_name(instance_, key.c_str(), name.data(),
                                                      name.size(), &size, error, sizeof error);
    if (status == COFFER_STATUS_OK) {
      name.resize(size);
      return {Code::ok, name};
    }
    if (size + 1 > name.size() && attempt == 0) {
      name.assign(size + 1, '\0');
      continue;
    }
    return {code_of(status), error};
  }
  return {Code::internal, "key_name failed"};
}

}  // namespace coffer::detail
