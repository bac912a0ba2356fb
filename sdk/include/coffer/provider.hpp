// coffer provider SDK for C++: write a provider as a class and export it with
// one macro, COFFER_PROVIDER(Class). Header-only; needs C++20 and nothing else.
//
// The SDK turns the C table of provider.h into virtual calls on one object per
// instance, and guarantees the ABI's rules at the boundary: no exception ever
// crosses it (an escaping exception becomes COFFER_STATUS_INTERNAL, or the
// status of a coffer::provider::Error), and every completion fires exactly
// once (a completion destroyed unanswered reports COFFER_STATUS_INTERNAL).
//
// Threading: the core calls the virtual functions of one object from many
// threads at once; a provider protects its own state. Completions may be
// fired from any thread.
#ifndef COFFER_PROVIDER_HPP
#define COFFER_PROVIDER_HPP

#include <coffer/provider.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coffer::provider {

// Overwrites memory in a way the compiler may not elide.
inline void wipe(void *data, std::size_t size) noexcept {
  if (data == nullptr || size == 0) return;
  auto *volatile bytes = static_cast<volatile unsigned char *>(data);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = 0;
  std::atomic_signal_fence(std::memory_order_seq_cst);
}

// A byte buffer for secret values that wipes itself when destroyed or cleared.
// Move-only. Not locked in memory: the core copies values into locked memory.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string_view text) : bytes_(text.begin(), text.end()) {}
  SecretBytes(const unsigned char *data, std::size_t size) : bytes_(data, data + size) {}
  SecretBytes(SecretBytes &&other) noexcept : bytes_(std::move(other.bytes_)) {
    other.bytes_.clear();
  }
  SecretBytes &operator=(SecretBytes &&other) noexcept {
    if (this != &other) {
      clear();
      bytes_ = std::move(other.bytes_);
      other.bytes_.clear();
    }
    return *this;
  }
  SecretBytes(const SecretBytes &) = delete;
  SecretBytes &operator=(const SecretBytes &) = delete;
  ~SecretBytes() { clear(); }

  // Explicit copy, so that copies of secrets are visible in the code.
  [[nodiscard]] SecretBytes clone() const { return SecretBytes(data(), size()); }

  void clear() noexcept {
    wipe(bytes_.data(), bytes_.capacity());
    bytes_.clear();
  }
  // Appends bytes; wipes the old storage when it has to grow.
  void append(const unsigned char *data, std::size_t size) {
    if (bytes_.size() + size > bytes_.capacity()) {
      std::vector<unsigned char> bigger;
      bigger.reserve(std::max(bytes_.capacity() * 2, bytes_.size() + size));
      bigger.assign(bytes_.begin(), bytes_.end());
      wipe(bytes_.data(), bytes_.capacity());
      bytes_.swap(bigger);
    }
    bytes_.insert(bytes_.end(), data, data + size);
  }
  void append(std::string_view text) {
    append(reinterpret_cast<const unsigned char *>(text.data()), text.size());
  }
  void push_back(unsigned char byte) { append(&byte, 1); }
  // Makes room for `capacity` bytes, wiping the old storage if it moves.
  void reserve(std::size_t capacity) {
    if (capacity <= bytes_.capacity()) return;
    std::vector<unsigned char> bigger;
    bigger.reserve(capacity);
    bigger.assign(bytes_.begin(), bytes_.end());
    wipe(bytes_.data(), bytes_.capacity());
    bytes_.swap(bigger);
  }

  [[nodiscard]] const unsigned char *data() const noexcept { return bytes_.data(); }
  [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }
  [[nodiscard]] bool empty() const noexcept { return bytes_.empty(); }
  [[nodiscard]] std::string_view view() const noexcept {
    return {reinterpret_cast<const char *>(bytes_.data()), bytes_.size()};
  }
  friend bool operator==(const SecretBytes &a, const SecretBytes &b) noexcept {
    return a.view() == b.view();
  }

 private:
  std::vector<unsigned char> bytes_;
};

// Thrown by provider code to fail an operation with a given status. The
// message must not contain secret values.
class Error : public std::exception {
 public:
  Error(coffer_status status, std::string message)
      : status_(status), message_(std::move(message)) {}
  [[nodiscard]] coffer_status status() const noexcept { return status_; }
  [[nodiscard]] const char *what() const noexcept override { return message_.c_str(); }

 private:
  coffer_status status_;
  std::string message_;
};

// The core's services, as lent to the instance. Valid for the instance's life.
class Host {
 public:
  explicit Host(const coffer_host *host) : host_(host) {}
  void log(int32_t level, const std::string &message) const {
    if (host_ != nullptr && host_->log != nullptr)
      host_->log(host_->context, level, message.c_str());
  }
  void debug(const std::string &message) const { log(COFFER_LOG_DEBUG, message); }
  void info(const std::string &message) const { log(COFFER_LOG_INFO, message); }
  void warning(const std::string &message) const { log(COFFER_LOG_WARNING, message); }
  void error(const std::string &message) const { log(COFFER_LOG_ERROR, message); }
  [[nodiscard]] bool enabled(int32_t level) const {
    return host_ == nullptr || !has(offsetof(coffer_host, log_level)) || level >= host_->log_level;
  }
  [[nodiscard]] int64_t now_unix_ms() const {
    if (host_ != nullptr && has(offsetof(coffer_host, now_unix_ms)) &&
        host_->now_unix_ms != nullptr)
      return host_->now_unix_ms(host_->context);
    return 0;
  }
  // Adds to one of this instance's counters in the host's metrics ("retries",
  // "token_exchanges", "reconnects", ...). Does nothing on a core older than
  // ABI 1.1.
  void count(const char *counter, uint64_t delta = 1) const {
    if (host_ != nullptr && COFFER_HOST_HAS_COUNT(host_))
      host_->count(host_->context, counter, delta);
  }

 private:
  [[nodiscard]] bool has(std::size_t offset) const { return offset < host_->struct_size; }
  const coffer_host *host_;
};

// What open() received, copied.
struct OpenParams {
  std::string instance_name;
  std::string config_json;
  std::string base_directory;  // empty when the policy came from a string
};

// What get() received, copied.
struct GetRequest {
  std::string key;
  std::string version;  // empty: the latest
  uint32_t timeout_ms = 0;
};

// A value with its version identifier, as returned by SyncProvider::get().
struct Value {
  SecretBytes bytes;
  std::string version;  // empty: none
};

struct ListEntry {
  std::string key;  // canonical key, or empty when the name maps to none
  std::string name;
  std::string version;
};

namespace detail {
// Fires a C completion exactly once; whoever answers first wins.
template <class Callback>
class Once {
 public:
  Once() = default;
  Once(Callback callback, void *context) : callback_(callback), context_(context) {}
  Once(Once &&other) noexcept : callback_(other.take()), context_(other.context_) {}
  Once &operator=(Once &&other) noexcept {
    if (this != &other) {
      abandon();
      callback_.store(other.take());
      context_ = other.context_;
    }
    return *this;
  }
  Once(const Once &) = delete;
  Once &operator=(const Once &) = delete;
  ~Once() { abandon(); }

  [[nodiscard]] bool pending() const noexcept { return callback_.load() != nullptr; }

 protected:
  // Returns the callback and disarms, or nullptr when already answered. Atomic:
  // if two threads race to answer, exactly one wins and the other is ignored.
  Callback take() noexcept { return callback_.exchange(nullptr); }
  [[nodiscard]] void *context() const noexcept { return context_; }

 private:
  void abandon() noexcept;
  std::atomic<Callback> callback_{nullptr};
  void *context_ = nullptr;
};

template <>
inline void Once<coffer_get_callback>::abandon() noexcept {
  if (auto cb = take())
    cb(context_, COFFER_STATUS_INTERNAL, nullptr,
       "the provider dropped the request without answering it");
}
template <>
inline void Once<coffer_done_callback>::abandon() noexcept {
  if (auto cb = take())
    cb(context_, COFFER_STATUS_INTERNAL, nullptr,
       "the provider dropped the request without answering it");
}
// coffer_admin_callback has the same type as coffer_done_callback.
template <>
inline void Once<coffer_list_callback>::abandon() noexcept {
  if (auto cb = take())
    cb(context_, COFFER_STATUS_INTERNAL, nullptr, 0,
       "the provider dropped the request without answering it");
}
}  // namespace detail

// Completion of a get. Move-only; answer once with succeed() or fail().
class GetCompletion : public detail::Once<coffer_get_callback> {
 public:
  using Once::Once;
  // Allocates before it disarms, so that running out of memory cannot lose
  // the answer (the exception then fails the operation instead).
  void succeed(const unsigned char *data, std::size_t size, std::string_view version = {}) {
    std::string version_text(version);
    if (auto cb = take()) {
      coffer_value value{};
      value.struct_size = sizeof(coffer_value);
      value.data = data;
      value.size = size;
      value.version = version.empty() ? nullptr : version_text.c_str();
      cb(context(), COFFER_STATUS_OK, &value, nullptr);
    }
  }
  void succeed(const SecretBytes &bytes, std::string_view version = {}) {
    succeed(bytes.data(), bytes.size(), version);
  }
  void fail(coffer_status status, const std::string &message) {
    if (auto cb = take()) cb(context(), status, nullptr, message.c_str());
  }
};

// Completion of put, remove and health. Move-only; answer once.
class DoneCompletion : public detail::Once<coffer_done_callback> {
 public:
  using Once::Once;
  void succeed(std::string_view version = {}, const std::string &message = {}) {
    std::string version_text(version);
    if (auto cb = take()) {
      cb(context(), COFFER_STATUS_OK, version.empty() ? nullptr : version_text.c_str(),
         message.empty() ? nullptr : message.c_str());
    }
  }
  void fail(coffer_status status, const std::string &message) {
    if (auto cb = take()) cb(context(), status, nullptr, message.c_str());
  }
};

// Completion of list. Move-only; answer once.
class ListCompletion : public detail::Once<coffer_list_callback> {
 public:
  using Once::Once;
  void succeed(const std::vector<ListEntry> &entries) {
    std::vector<coffer_list_entry> table(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      table[i].struct_size = sizeof(coffer_list_entry);
      table[i].key = entries[i].key.empty() ? nullptr : entries[i].key.c_str();
      table[i].name = entries[i].name.c_str();
      table[i].version = entries[i].version.empty() ? nullptr : entries[i].version.c_str();
    }
    if (auto cb = take()) {
      cb(context(), COFFER_STATUS_OK, table.empty() ? nullptr : table.data(), table.size(),
         nullptr);
    }
  }
  void fail(coffer_status status, const std::string &message) {
    if (auto cb = take()) cb(context(), status, nullptr, 0, message.c_str());
  }
};

// Completion of admin. Move-only; answer once with a JSON result text.
class AdminCompletion : public detail::Once<coffer_admin_callback> {
 public:
  using Once::Once;
  void succeed(const std::string &result_json) {
    if (auto cb = take()) cb(context(), COFFER_STATUS_OK, result_json.c_str(), nullptr);
  }
  void fail(coffer_status status, const std::string &message, const std::string &result_json = {}) {
    if (auto cb = take())
      cb(context(), status, result_json.empty() ? nullptr : result_json.c_str(), message.c_str());
  }
};

// An asynchronous provider. Operations receive their completion by rvalue
// reference: move it away to answer later from another thread, or answer
// before returning. If the function throws before moving the completion, the
// SDK answers it with the exception's status and message. The default
// implementations of the optional operations answer COFFER_STATUS_UNSUPPORTED.
//
// A derived class provides a constructor (const Host&, const OpenParams&)
// that throws Error (usually COFFER_STATUS_INVALID_CONFIG) on a bad
// configuration, and a static constexpr uint64_t `capabilities` (COFFER_CAP_*).
// Its destructor runs in close(): stop threads and wipe secrets there.
class Provider {
 public:
  virtual ~Provider() = default;
  virtual void get(const GetRequest &request, GetCompletion &&done) = 0;
  virtual void put(const std::string &key, const SecretBytes &value, DoneCompletion &&done) {
    (void)key, (void)value;
    done.fail(COFFER_STATUS_UNSUPPORTED, "this provider does not support put");
  }
  virtual void remove(const std::string &key, DoneCompletion &&done) {
    (void)key;
    done.fail(COFFER_STATUS_UNSUPPORTED, "this provider does not support remove");
  }
  virtual void list(ListCompletion &&done) {
    done.fail(COFFER_STATUS_UNSUPPORTED, "this provider does not support list");
  }
  virtual void health(DoneCompletion &&done) { done.succeed(); }
  // A provider-specific administrative command (see coffer_provider.admin).
  virtual void admin(const std::string &command, const std::string &arguments_json,
                     AdminCompletion &&done) {
    (void)arguments_json;
    done.fail(COFFER_STATUS_UNSUPPORTED, "unknown command '" + command + "'");
  }
  // The provider's name for a canonical key; throws Error
  // (COFFER_STATUS_INVALID_ARGUMENT) for a key it cannot represent.
  virtual std::string key_name(const std::string &key) { return key; }
  // The host is shutting down (coffer_provider.cancel): finish every
  // operation in flight promptly, without waiting for the backend, each
  // answered once as usual (usually COFFER_STATUS_UNAVAILABLE); operations
  // started afterwards may fail the same way. Must not wait. Called at most
  // once, from any thread, possibly while operations run; the destructor
  // follows once every operation has answered. The default does nothing: the
  // host then waits for operations to end on their own.
  virtual void cancel() {}
};

// A provider whose operations finish before they return (files, local
// databases). Throw Error to fail with a status.
class SyncProvider : public Provider {
 public:
  virtual Value get(const GetRequest &request) = 0;
  virtual std::string put(const std::string &key, const SecretBytes &value) {
    (void)key, (void)value;
    throw Error(COFFER_STATUS_UNSUPPORTED, "this provider does not support put");
  }
  virtual void remove(const std::string &key) {
    (void)key;
    throw Error(COFFER_STATUS_UNSUPPORTED, "this provider does not support remove");
  }
  virtual std::vector<ListEntry> list() {
    throw Error(COFFER_STATUS_UNSUPPORTED, "this provider does not support list");
  }
  virtual void health() {}
  // Returns the JSON result; throw Error to fail.
  virtual std::string admin(const std::string &command, const std::string &arguments_json) {
    (void)arguments_json;
    throw Error(COFFER_STATUS_UNSUPPORTED, "unknown command '" + command + "'");
  }

  void get(const GetRequest &request, GetCompletion &&done) final {
    Value value = get(request);
    done.succeed(value.bytes, value.version);
  }
  void put(const std::string &key, const SecretBytes &value, DoneCompletion &&done) final {
    std::string version = put(key, value);
    done.succeed(version);
  }
  void remove(const std::string &key, DoneCompletion &&done) final {
    remove(key);
    done.succeed();
  }
  void list(ListCompletion &&done) final { done.succeed(list()); }
  void health(DoneCompletion &&done) final {
    health();
    done.succeed();
  }
  void admin(const std::string &command, const std::string &arguments_json,
             AdminCompletion &&done) final {
    done.succeed(admin(command, arguments_json));
  }
};

namespace detail {

inline void copy_message(char *buffer, std::size_t capacity, std::string_view text) noexcept {
  if (buffer == nullptr || capacity == 0) return;
  std::size_t n = std::min(capacity - 1, text.size());
  std::memcpy(buffer, text.data(), n);
  buffer[n] = '\0';
}

struct Instance {
  Host host;
  std::unique_ptr<Provider> provider;
};

inline Instance *instance(coffer_instance *handle) {
  return reinterpret_cast<Instance *>(handle);
}

inline void report(const Host &host, const char *operation, const std::exception &error) {
  host.error(std::string("provider ") + operation + " failed: " + error.what());
}

// Runs `body`; if it throws while `done` is still pending, answers `done` with
// the exception's status. If it throws after `done` was moved away, logs it.
template <class Completion, class Body>
void guarded(const Host &host, const char *operation, Completion &done, Body &&body) noexcept {
  try {
    body();
  } catch (const Error &error) {
    if (done.pending())
      done.fail(error.status(), error.what());
    else
      report(host, operation, error);
  } catch (const std::exception &error) {
    if (done.pending())
      done.fail(COFFER_STATUS_INTERNAL, std::string("internal error: ") + error.what());
    else
      report(host, operation, error);
  } catch (...) {
    if (done.pending())
      done.fail(COFFER_STATUS_INTERNAL, "internal error: unknown exception");
    else
      host.error(std::string("provider ") + operation + " failed: unknown exception");
  }
}

template <class Impl>
struct Thunks {
  static coffer_status open(const coffer_host *host, const coffer_open_params *params,
                            coffer_instance **out, char *error, std::size_t capacity) noexcept {
    try {
      OpenParams copy;
      copy.instance_name = params->instance_name != nullptr ? params->instance_name : "";
      if (params->config_json != nullptr)
        copy.config_json.assign(params->config_json, params->config_size);
      if (params->struct_size > offsetof(coffer_open_params, base_directory) &&
          params->base_directory != nullptr)
        copy.base_directory = params->base_directory;
      auto holder = std::make_unique<Instance>(Instance{Host(host), nullptr});
      struct WipeConfig {  // a configuration should hold no secret, but may
        std::string &text;
        ~WipeConfig() { wipe(text.data(), text.size()); }
      } wipe_config{copy.config_json};
      holder->provider = std::make_unique<Impl>(holder->host, copy);
      *out = reinterpret_cast<coffer_instance *>(holder.release());
      return COFFER_STATUS_OK;
    } catch (const Error &e) {
      copy_message(error, capacity, e.what());
      return e.status() == COFFER_STATUS_OK ? COFFER_STATUS_INTERNAL : e.status();
    } catch (const std::exception &e) {
      copy_message(error, capacity, std::string("internal error: ") + e.what());
      return COFFER_STATUS_INTERNAL;
    } catch (...) {
      copy_message(error, capacity, "internal error: unknown exception");
      return COFFER_STATUS_INTERNAL;
    }
  }

  static void close(coffer_instance *handle) noexcept {
    try {
      delete instance(handle);
    } catch (...) {  // a throwing destructor must not cross the boundary
    }
  }

  static void get(coffer_instance *handle, const coffer_get_request *request,
                  coffer_get_callback callback, void *context) noexcept {
    Instance *self = instance(handle);
    GetCompletion done(callback, context);
    guarded(self->host, "get", done, [&] {
      GetRequest copy;
      copy.key = request->key;
      if (request->version != nullptr) copy.version = request->version;
      if (request->struct_size > offsetof(coffer_get_request, timeout_ms))
        copy.timeout_ms = request->timeout_ms;
      self->provider->get(copy, std::move(done));
    });
  }

  static void put(coffer_instance *handle, const char *key, const unsigned char *data,
                  std::size_t size, coffer_done_callback callback, void *context) noexcept {
    Instance *self = instance(handle);
    DoneCompletion done(callback, context);
    guarded(self->host, "put", done, [&] {
      SecretBytes value(data, size);
      self->provider->put(key, value, std::move(done));
    });
  }

  static void remove(coffer_instance *handle, const char *key, coffer_done_callback callback,
                     void *context) noexcept {
    Instance *self = instance(handle);
    DoneCompletion done(callback, context);
    guarded(self->host, "remove", done, [&] { self->provider->remove(key, std::move(done)); });
  }

  static void list(coffer_instance *handle, coffer_list_callback callback, void *context) noexcept {
    Instance *self = instance(handle);
    ListCompletion done(callback, context);
    guarded(self->host, "list", done, [&] { self->provider->list(std::move(done)); });
  }

  static void health(coffer_instance *handle, coffer_done_callback callback,
                     void *context) noexcept {
    Instance *self = instance(handle);
    DoneCompletion done(callback, context);
    guarded(self->host, "health", done, [&] { self->provider->health(std::move(done)); });
  }

  static void admin(coffer_instance *handle, const char *command, const char *arguments,
                    coffer_admin_callback callback, void *context) noexcept {
    Instance *self = instance(handle);
    AdminCompletion done(callback, context);
    guarded(self->host, "admin", done, [&] {
      self->provider->admin(command, arguments != nullptr ? arguments : "{}", std::move(done));
    });
  }

  static void cancel(coffer_instance *handle) noexcept {
    try {
      instance(handle)->provider->cancel();
    } catch (...) {  // nothing to report to: the host is closing
    }
  }

  static coffer_status key_name(coffer_instance *handle, const char *key, char *name,
                                std::size_t capacity, std::size_t *size, char *error,
                                std::size_t error_capacity) noexcept {
    try {
      std::string mapped = instance(handle)->provider->key_name(key);
      *size = mapped.size();
      if (name == nullptr || capacity <= mapped.size()) {
        copy_message(error, error_capacity, "name buffer too small");
        return COFFER_STATUS_INVALID_ARGUMENT;
      }
      copy_message(name, capacity, mapped);
      return COFFER_STATUS_OK;
    } catch (const Error &e) {
      copy_message(error, error_capacity, e.what());
      return e.status() == COFFER_STATUS_OK ? COFFER_STATUS_INTERNAL : e.status();
    } catch (const std::exception &e) {
      copy_message(error, error_capacity, std::string("internal error: ") + e.what());
      return COFFER_STATUS_INTERNAL;
    } catch (...) {
      copy_message(error, error_capacity, "internal error: unknown exception");
      return COFFER_STATUS_INTERNAL;
    }
  }
};

template <class Impl>
constexpr coffer_provider make_table(const char *name, const char *version,
                                     const char *description) noexcept {
  constexpr uint64_t capabilities = Impl::capabilities;
  return coffer_provider{
      sizeof(coffer_provider),
      COFFER_ABI_VERSION,
      name,
      version,
      description,
      capabilities | COFFER_CAP_GET | COFFER_CAP_KEY_NAME,
      &Thunks<Impl>::open,
      &Thunks<Impl>::close,
      &Thunks<Impl>::get,
      (capabilities & COFFER_CAP_PUT) != 0 ? &Thunks<Impl>::put : nullptr,
      (capabilities & COFFER_CAP_REMOVE) != 0 ? &Thunks<Impl>::remove : nullptr,
      (capabilities & COFFER_CAP_LIST) != 0 ? &Thunks<Impl>::list : nullptr,
      (capabilities & COFFER_CAP_HEALTH) != 0 ? &Thunks<Impl>::health : nullptr,
      &Thunks<Impl>::key_name,
      (capabilities & COFFER_CAP_ADMIN) != 0 ? &Thunks<Impl>::admin : nullptr,
      &Thunks<Impl>::cancel,
  };
}

inline const coffer_provider *offer(const coffer_provider *table,
                                    uint32_t core_abi_version) noexcept {
  return COFFER_ABI_MAJOR(core_abi_version) == COFFER_ABI_VERSION_MAJOR ? table : nullptr;
}
}  // namespace detail
}  // namespace coffer::provider

// Exports `Class` as this shared object's provider. Use once per plugin, at
// namespace scope. `name` must match the plugin's file name (lib<name>.so).
// The table is constant-initialized: no guard variable, no exported helper.
#define COFFER_PROVIDER(Class, name, version, description)                               \
  namespace {                                                                            \
  constinit const coffer_provider coffer_provider_table_ =                               \
      ::coffer::provider::detail::make_table<Class>(name, version, description);         \
  }                                                                                      \
  extern "C" COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(        \
      uint32_t core_abi_version) {                                                       \
    return ::coffer::provider::detail::offer(&coffer_provider_table_, core_abi_version); \
  }

#endif  // COFFER_PROVIDER_HPP
