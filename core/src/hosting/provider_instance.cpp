#include "hosting/provider_instance.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <coffer/provider_helpers.hpp>

#include <algorithm>
#include <chrono>
#include <limits>

#include "base/secure_memory.hpp"
#include "hosting/cache.hpp"
#include "hosting/caller_waits.hpp"

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

// What a call answers when its deadline passed first.
void answer_timeout(ProviderInstance::GetDone &done, const std::string &message) {
  done(Code::timeout, message, {});
}
void answer_timeout(ProviderInstance::Done &done, const std::string &message) {
  done(Code::timeout, {}, message);
}
void answer_timeout(ProviderInstance::ListDone &done, const std::string &message) {
  done(Code::timeout, {}, message);
}
void answer_timeout(ProviderInstance::VersionsDone &done, const std::string &message) {
  done(Code::timeout, {}, message);
}

std::string deadline_message(const char *operation, std::chrono::milliseconds timeout) {
  std::string message = "did not answer within " + std::to_string(timeout.count()) +
                        " ms (timeout_ms; the core's deadline)";
  // A write may still land: say so rather than let it look undone.
  const std::string_view name(operation);
  if (name != "get" && name != "list" && name != "health" && name != "versions")
    message += "; the " + std::string(operation) + " may still complete in the provider";
  return message;
}

}  // namespace

// One call into the plugin. The plugin's completion and the deadline share
// it: whichever comes first answers `done`, the other finds it taken.
// Members are destroyed in reverse order: the instance reference first (its
// last release posts the close to the worker), then the completion, then the
// hold that lets the Store finish, released only once the plugin answered.
template <class Callback>
struct ProviderInstance::Call {
  Tracker::Hold hold;
  Tracker::Hold unanswered;  // released once `done` has run
  Callback done;
  const char *operation = "";
  std::string key;  // put and remove: invalidated in the cache by a late answer
  Worker::Timer deadline;
  std::atomic<bool> taken{false};
  std::shared_ptr<ProviderInstance> self;
  // True for exactly one of the plugin's answer and the deadline.
  bool claim() noexcept { return !taken.exchange(true); }
};

std::chrono::milliseconds ProviderInstance::bounded(std::chrono::milliseconds timeout) {
  // What the ABI's 32-bit timeout_ms can say; at least 1 ms (0 would mean
  // the provider's default, which the core does not know).
  return std::clamp(timeout, std::chrono::milliseconds(1),
                    std::chrono::milliseconds(std::numeric_limits<uint32_t>::max()));
}

template <class Callback>
void *ProviderInstance::start(const char *operation, std::chrono::milliseconds timeout,
                              Callback done, std::string key) {
  timeout = bounded(timeout);
  auto call = std::make_shared<Call<Callback>>();
  call->hold = tracker_->hold();
  call->unanswered = answers_->hold();
  call->done = std::move(done);
  call->operation = operation;
  call->key = std::move(key);
  call->self = self_.lock();
  std::weak_ptr<Call<Callback>> weak = call;
  call->deadline =
      deadlines_->post_at(Worker::Clock::now() + timeout + kDeadlineGrace, [weak, timeout] {
        auto pending = weak.lock();  // keeps the hold while the answer runs
        if (!pending || !pending->claim()) return;
        ProviderInstance &self = *pending->self;
        self.metrics_->deadline_exceeded(self.name_, pending->operation);
        auto answering = std::move(pending->unanswered);
        auto answer = std::move(pending->done);
        try {
          answer_timeout(answer, deadline_message(pending->operation, timeout));
        } catch (...) {  // a host handler's exception must not end the deadline thread
        }
      });
  return new std::shared_ptr<Call<Callback>>(std::move(call));
}

// The call a plugin's answer completes, or null when its deadline answered
// first: the late answer is then only counted (a value is never copied).
template <class Callback>
std::shared_ptr<ProviderInstance::Call<Callback>> ProviderInstance::answered(void *context) {
  std::unique_ptr<std::shared_ptr<Call<Callback>>> boxed(
      static_cast<std::shared_ptr<Call<Callback>> *>(context));
  std::shared_ptr<Call<Callback>> call = std::move(*boxed);
  ProviderInstance &self = *call->self;
  if (call->claim()) {
    self.deadlines_->cancel(call->deadline);
    return call;
  }
  self.metrics_->late_completion(self.name_, call->operation);
  // A write that landed after all must not leave an older value cached.
  if (!call->key.empty()) self.cache_->invalidate(call->key);
  return nullptr;
}

std::string ProviderInstance::identity_of(const ProviderSpec &spec,
                                          const std::filesystem::path &file) {
  return spec.name + '\n' + spec.plugin + '\n' + file.string() + '\n' + spec.config_json + '\n' +
         spec.sha256.value_or("");
}

std::shared_ptr<ProviderInstance> ProviderInstance::open(
    std::shared_ptr<PluginLibrary> library, const ProviderSpec &spec,
    const std::filesystem::path &base_directory, const Services &services) {
  const Logger &logger = services.logger;
  std::unique_ptr<ProviderInstance> self(new ProviderInstance());
  self->library_ = std::move(library);
  self->name_ = spec.name;
  self->plugin_ = spec.plugin;
  self->identity_ = identity_of(spec, self->library_->file());
  self->tracker_ = &services.tracker;
  self->answers_ = &services.answers;
  self->deadlines_ = &services.deadlines;
  self->metrics_ = &services.metrics;
  self->clock_ = services.clock;
  self->host_ = std::make_unique<HostContext>(logger, spec.name, services.metrics);
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
  return publish(std::move(self), services.worker);
}

std::shared_ptr<ProviderInstance> ProviderInstance::isolated(const ProviderSpec &spec,
                                                             std::string error,
                                                             const Services &services) {
  std::unique_ptr<ProviderInstance> self(new ProviderInstance());
  self->name_ = spec.name;
  self->plugin_ = spec.plugin;
  self->tracker_ = &services.tracker;
  self->answers_ = &services.answers;
  self->deadlines_ = &services.deadlines;
  self->metrics_ = &services.metrics;
  self->clock_ = services.clock;
  self->isolate(std::move(error));
  return publish(std::move(self), services.worker);
}

void ProviderInstance::isolate(std::string error) {
  isolation_ = std::move(error);
  identity_.clear();  // never reused: the next load tries to open it again
}

std::shared_ptr<ProviderInstance> ProviderInstance::publish(std::unique_ptr<ProviderInstance> self,
                                                            Worker &worker) {
  self->cache_ = std::make_unique<Cache>(self->clock_);
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

void ProviderInstance::get(const std::string &key, const std::string &version,
                           std::chrono::milliseconds timeout, GetDone done) {
  if (!isolation_.empty()) return done(Code::unavailable, isolation_, {});
  if (!version.empty() && !can(COFFER_CAP_VERSIONS))
    return done(Code::unsupported, "its plugin (" + plugin_ + ") cannot read named versions", {});
  coffer_get_request request{};
  request.struct_size = sizeof(request);
  request.key = key.c_str();
  request.version = version.empty() ? nullptr : version.c_str();
  request.timeout_ms = static_cast<uint32_t>(bounded(timeout).count());
  if (CallerWaits::now()) request.flags |= COFFER_GET_CALLER_WAITS;
  library_->table().get(
      instance_, &request,
      [](void *context, coffer_status status, const coffer_value *value, const char *message) {
        auto call = answered<GetDone>(context);
        if (!call) return;
        ProviderInstance &self = *call->self;
        if (status == COFFER_STATUS_OK && value == nullptr) {
          call->done(Code::internal, "provider '" + self.name_ + "' answered ok without a value",
                     {});
          return;
        }
        if (status != COFFER_STATUS_OK) {
          call->done(code_of(status), text(message), {});
          return;
        }
        std::string value_version;
        if (value->struct_size > offsetof(coffer_value, version) && value->version != nullptr)
          value_version = value->version;
        std::int64_t created_unix_ms = 0;
        if (value->struct_size >= offsetof(coffer_value, created_unix_ms) + sizeof(std::int64_t))
          created_unix_ms = value->created_unix_ms;
        std::span<const unsigned char> bytes(value->data, value->data == nullptr ? 0 : value->size);
        if (value_version.empty()) {
          // No version from the provider: a keyed digest tells versions apart
          // without revealing the value.
          unsigned char mac[32];
          std::size_t mac_size = 0;
          if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr,
                        self.fingerprint_key_.bytes().data(), self.fingerprint_key_.size(),
                        bytes.data(), bytes.size(), mac, sizeof mac, &mac_size) != nullptr) {
            value_version = "~" + provider::to_hex(std::span<const unsigned char>(mac, 8));
          }
        }
        call->done(Code::ok, {}, Secret::copy_of(bytes, value_version, created_unix_ms));
      },
      start("get", timeout, std::move(done)));
}

namespace {
void done_trampoline(void *context, coffer_status status, const char *result, const char *message) {
  if (auto call = ProviderInstance::answered<ProviderInstance::Done>(context))
    call->done(code_of(status), text(result), text(message));
}
}  // namespace

void ProviderInstance::put(const std::string &key, std::span<const unsigned char> value,
                           std::chrono::milliseconds timeout, Done done) {
  if (!isolation_.empty()) return done(Code::unavailable, {}, isolation_);
  if (!can(COFFER_CAP_PUT))
    return done(Code::unsupported, {}, "its plugin (" + plugin_ + ") cannot write");
  library_->table().put(instance_, key.c_str(), value.data(), value.size(), &done_trampoline,
                        start("put", timeout, std::move(done), key));
}

void ProviderInstance::remove(const std::string &key, std::chrono::milliseconds timeout,
                              Done done) {
  if (!isolation_.empty()) return done(Code::unavailable, {}, isolation_);
  if (!can(COFFER_CAP_REMOVE))
    return done(Code::unsupported, {}, "its plugin (" + plugin_ + ") cannot remove");
  library_->table().remove(instance_, key.c_str(), &done_trampoline,
                           start("remove", timeout, std::move(done), key));
}

void ProviderInstance::health(std::chrono::milliseconds timeout, Done done) {
  if (!isolation_.empty()) return done(Code::unavailable, {}, isolation_);
  if (!can(COFFER_CAP_HEALTH)) return done(Code::ok, {}, "no health check");
  library_->table().health(instance_, &done_trampoline, start("health", timeout, std::move(done)));
}

void ProviderInstance::cancel() {
  if (cancelled_.exchange(true) || !library_) return;
  if (library_->table().cancel != nullptr) library_->table().cancel(instance_);
}

void ProviderInstance::admin(const std::string &command, const std::string &arguments,
                             std::chrono::milliseconds timeout, Done done) {
  if (!isolation_.empty()) return done(Code::unavailable, {}, isolation_);
  if (!can(COFFER_CAP_ADMIN))
    return done(Code::unsupported, {},
                "its plugin (" + plugin_ + ") has no administrative commands");
  library_->table().admin(
      instance_, command.c_str(), arguments.c_str(),
      [](void *context, coffer_status status, const char *result, const char *message) {
        if (auto call = answered<Done>(context))
          call->done(code_of(status), text(result), text(message));
      },
      start("admin", timeout, std::move(done)));
}

void ProviderInstance::list(std::chrono::milliseconds timeout, ListDone done) {
  if (!isolation_.empty()) return done(Code::unavailable, {}, isolation_);
  if (!can(COFFER_CAP_LIST))
    return done(Code::unsupported, {}, "its plugin (" + plugin_ + ") cannot list");
  library_->table().list(
      instance_,
      [](void *context, coffer_status status, const coffer_list_entry *entries, size_t count,
         const char *message) {
        auto call = answered<ListDone>(context);
        if (!call) return;
        std::vector<ListEntry> out;
        if (status == COFFER_STATUS_OK && entries != nullptr && count > 0) {
          std::size_t stride = entries[0].struct_size;
          if (stride < offsetof(coffer_list_entry, name) + sizeof(const char *)) {
            call->done(Code::internal, {}, "list entries are too short");
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
        call->done(code_of(status), std::move(out), text(message));
      },
      start("list", timeout, std::move(done)));
}

void ProviderInstance::versions(const std::string &key, std::chrono::milliseconds timeout,
                                VersionsDone done) {
  if (!isolation_.empty()) return done(Code::unavailable, {}, isolation_);
  if (!can(COFFER_CAP_HISTORY))
    return done(Code::unsupported, {},
                "its plugin (" + plugin_ + ") keeps no version history it can list");
  library_->table().versions(
      instance_, key.c_str(),
      [](void *context, coffer_status status, const coffer_version_entry *entries, size_t count,
         const char *message) {
        auto call = answered<VersionsDone>(context);
        if (!call) return;
        std::vector<VersionInfo> out;
        if (status == COFFER_STATUS_OK && entries != nullptr && count > 0) {
          std::size_t stride = entries[0].struct_size;
          if (stride < offsetof(coffer_version_entry, enabled) + sizeof(int32_t)) {
            call->done(Code::internal, {}, "version entries are too short");
            return;
          }
          const auto *base = reinterpret_cast<const unsigned char *>(entries);
          for (std::size_t i = 0; i < count; ++i) {
            const auto *e = reinterpret_cast<const coffer_version_entry *>(base + i * stride);
            if (e->version == nullptr) {
              call->done(Code::internal, {}, "a version entry has no version");
              return;
            }
            out.push_back({.version = e->version,
                           .created_unix_ms = e->created_unix_ms,
                           .enabled = e->enabled != 0});
          }
        }
        call->done(code_of(status), std::move(out), text(message));
      },
      start("versions", timeout, std::move(done)));
}

void ProviderInstance::purge(const std::string &key, std::chrono::milliseconds timeout, Done done) {
  if (!isolation_.empty()) return done(Code::unavailable, {}, isolation_);
  if (!can(COFFER_CAP_SOFT_DELETE))
    return done(
        Code::unsupported, {},
        "its plugin (" + plugin_ + ") deletes for good on remove; there is nothing to purge");
  library_->table().purge(instance_, key.c_str(), &done_trampoline,
                          start("purge", timeout, std::move(done), key));
}

ProviderInstance::KeyName ProviderInstance::key_name(const std::string &key) {
  if (!isolation_.empty()) return {.code = Code::unavailable, .message = isolation_};
  if (!can(COFFER_CAP_KEY_NAME)) return {.code = Code::ok, .name = key};
  std::string name(256, '\0');
  char error[1024] = {0};
  std::size_t size = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    coffer_status status = library_->table().key_name(instance_, key.c_str(), name.data(),
                                                      name.size(), &size, error, sizeof error);
    if (status == COFFER_STATUS_OK) {
      name.resize(size);
      return {.code = Code::ok, .name = std::move(name)};
    }
    if (size + 1 > name.size() && attempt == 0) {
      name.assign(size + 1, '\0');
      continue;
    }
    return {.code = code_of(status), .message = error};
  }
  return {.code = Code::internal, .message = "key_name failed"};
}

}  // namespace coffer::detail
