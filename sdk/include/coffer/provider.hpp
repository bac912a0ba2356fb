// coffer provider SDK for C++: write a provider as a class and export it with
// one macro, COFFER_PROVIDER(Class). Header-only; needs C++20 on a POSIX
// system (Linux for the secret memory's protections) and nothing else.
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
#include <sys/mman.h>
#include <unistd.h>
#include <coffer/vector_registers.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coffer::provider {

// wipe(data, size): see coffer/vector_registers.hpp.

// Secret memory: excluded from core dumps, locked against swapping where
// RLIMIT_MEMLOCK allows, not inherited by child processes, wiped when freed.
// It is the core's (coffer_host.secret_allocate) from a core of ABI 1.3 or
// later; with an older core, and for anything allocated before the plugin's
// first open(), the SDK maps pages of its own with the same protection (a
// whole page per block, and a system call for each allocation and free). The
// choice is made once per plugin, at the first open() or the first
// allocation, and never changes, so that each block returns to the allocator
// it came from. Thread-safe.

// `size` bytes of unspecified content aligned for any fundamental type, or
// nullptr for size 0. Throws std::bad_alloc.
void *secret_allocate(std::size_t size);
// Wipes and frees a block of secret_allocate(`size`); nullptr is allowed.
void secret_free(void *block, std::size_t size) noexcept;
// True when secret memory comes from the core, false when from the SDK.
bool secret_memory_from_host() noexcept;

namespace detail {

struct SecretMemoryFunctions {
  void *(*allocate)(std::size_t size);
  void (*free)(void *block, std::size_t size);
};

inline std::size_t whole_pages(std::size_t size) noexcept {
  static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (size + page - 1) / page * page;
}

// The SDK's own secret memory: a private mapping per block.
inline void *own_secret_allocate(std::size_t size) noexcept {
  if (size == 0) return nullptr;
  const std::size_t bytes = whole_pages(size);
  void *block = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (block == MAP_FAILED) return nullptr;
#ifdef MADV_DONTDUMP
  ::madvise(block, bytes, MADV_DONTDUMP);
  ::madvise(block, bytes, MADV_DONTFORK);
#endif
  (void)::mlock(block, bytes);  // best effort: RLIMIT_MEMLOCK may not allow it
  return block;
}
inline void own_secret_free(void *block, std::size_t size) noexcept {
  if (block == nullptr || size == 0) return;
  const std::size_t bytes = whole_pages(size);
  wipe(block, bytes);
  ::munlock(block, bytes);
  ::munmap(block, bytes);
}

// Which secret memory this plugin uses: set once, read on every allocation.
// Process-wide by necessity: a SecretBytes anywhere in the plugin must reach
// it without a Host at hand.
class SecretMemoryChoice {
 public:
  // Makes `offered` the choice unless one was made; returns the choice.
  const SecretMemoryFunctions &choose(const SecretMemoryFunctions &offered) noexcept {
    int expected = kUnset;
    if (state_.compare_exchange_strong(expected, kSetting, std::memory_order_acquire)) {
      functions_ = offered;
      state_.store(kSet, std::memory_order_release);
    }
    while (state_.load(std::memory_order_acquire) != kSet) {
    }  // another thread is storing its choice: two plain stores away
    return functions_;
  }
  const SecretMemoryFunctions &get() noexcept {
    if (state_.load(std::memory_order_acquire) == kSet) return functions_;
    return choose({&own_secret_allocate, &own_secret_free});
  }

 private:
  static constexpr int kUnset = 0, kSetting = 1, kSet = 2;
  std::atomic<int> state_{kUnset};
  SecretMemoryFunctions functions_{nullptr, nullptr};
};
inline constinit SecretMemoryChoice secret_memory_choice;

// Called by open() before the provider is built: a host of ABI 1.3 or later
// offers its secret memory.
inline void take_host_secret_memory(const coffer_host *host,
                                    SecretMemoryChoice &choice = secret_memory_choice) noexcept {
  if (host != nullptr && COFFER_HOST_HAS_SECRET_MEMORY(host))
    choice.choose({host->secret_allocate, host->secret_free});
}

}  // namespace detail

inline void *secret_allocate(std::size_t size) {
  if (size == 0) return nullptr;
  void *block = detail::secret_memory_choice.get().allocate(size);
  if (block == nullptr) throw std::bad_alloc();
  return block;
}

inline void secret_free(void *block, std::size_t size) noexcept {
  if (block != nullptr) detail::secret_memory_choice.get().free(block, size);
}

inline bool secret_memory_from_host() noexcept {
  return detail::secret_memory_choice.get().allocate != &detail::own_secret_allocate;
}

// A standard allocator on secret memory, for containers that hold secret
// material (strings, Beast buffers and fields). Stateless.
template <class T>
struct SecretAllocator {
  static_assert(alignof(T) <= alignof(std::max_align_t), "secret memory is not aligned for T");
  using value_type = T;
  SecretAllocator() noexcept = default;
  template <class U>
  SecretAllocator(const SecretAllocator<U> &) noexcept {}  // NOLINT(google-explicit-constructor)
  T *allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T *>(secret_allocate(n == 0 ? 1 : n * sizeof(T)));
  }
  void deallocate(T *p, std::size_t n) noexcept { secret_free(p, n == 0 ? 1 : n * sizeof(T)); }
  template <class U>
  friend bool operator==(const SecretAllocator &, const SecretAllocator<U> &) noexcept {
    return true;
  }
};

// A byte buffer for secret values in secret memory (see above), wiped when
// destroyed, cleared or grown. Move-only.
class SecretBytes {
 public:
  SecretBytes() noexcept = default;
  explicit SecretBytes(std::string_view text) {
    append(reinterpret_cast<const unsigned char *>(text.data()), text.size());
  }
  SecretBytes(const unsigned char *data, std::size_t size) { append(data, size); }
  SecretBytes(SecretBytes &&other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  SecretBytes &operator=(SecretBytes &&other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  SecretBytes(const SecretBytes &) = delete;
  SecretBytes &operator=(const SecretBytes &) = delete;
  ~SecretBytes() { release(); }

  // Explicit copy, so that copies of secrets are visible in the code.
  [[nodiscard]] SecretBytes clone() const { return SecretBytes(data(), size()); }

  // Wipes the bytes and empties the buffer (which keeps its memory).
  void clear() noexcept {
    wipe(data_, size_);
    size_ = 0;
  }
  void append(const unsigned char *data, std::size_t size) {
    if (size == 0) return;
    if (size > capacity_ - size_) reserve(std::max(capacity_ * 2, size_ + size));
    std::memcpy(data_ + size_, data, size);
    size_ += size;
  }
  void append(std::string_view text) {
    append(reinterpret_cast<const unsigned char *>(text.data()), text.size());
  }
  void push_back(unsigned char byte) { append(&byte, 1); }
  // Makes room for `capacity` bytes; the old memory is wiped when it moves.
  void reserve(std::size_t capacity) {
    if (capacity <= capacity_) return;
    capacity = std::max<std::size_t>(capacity, 32);
    auto *bigger = static_cast<unsigned char *>(secret_allocate(capacity));
    if (size_ != 0) std::memcpy(bigger, data_, size_);
    secret_free(data_, capacity_);
    data_ = bigger;
    capacity_ = capacity;
  }

  [[nodiscard]] const unsigned char *data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::string_view view() const noexcept {
    return {reinterpret_cast<const char *>(data_), size_};
  }
  friend bool operator==(const SecretBytes &a, const SecretBytes &b) noexcept {
    return a.view() == b.view();
  }

 private:
  void release() noexcept {
    secret_free(data_, capacity_);
    data_ = nullptr;
    size_ = capacity_ = 0;
  }
  unsigned char *data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
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
  // COFFER_GET_CALLER_WAITS (ABI 1.5): the caller blocks until the
  // completion anyway, so get() may do the work, network included, on the
  // calling thread and complete before it returns.
  bool caller_waits = false;
};

// A value with its version identifier, as returned by SyncProvider::get().
struct Value {
  SecretBytes bytes;
  std::string version;          // empty: none
  int64_t created_unix_ms = 0;  // when the version was written; 0: unknown (ABI 1.4)
};

struct ListEntry {
  std::string key;  // canonical key, or empty when the name maps to none
  std::string name;
  std::string version;
};

// One version of a key, as versions() answers it (ABI 1.4).
struct VersionEntry {
  std::string version;          // never empty
  int64_t created_unix_ms = 0;  // 0: unknown
  bool enabled = true;          // false: kept by the backend but not served
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
template <>
inline void Once<coffer_versions_callback>::abandon() noexcept {
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
  // `created_unix_ms`: when the version was written (0: unknown).
  void succeed(const unsigned char *data, std::size_t size, std::string_view version = {},
               int64_t created_unix_ms = 0) {
    std::string version_text(version);
    if (auto cb = take()) {
      coffer_value value{};
      value.struct_size = sizeof(coffer_value);
      value.data = data;
      value.size = size;
      value.version = version.empty() ? nullptr : version_text.c_str();
      value.created_unix_ms = created_unix_ms;
      cb(context(), COFFER_STATUS_OK, &value, nullptr);
    }
  }
  void succeed(const SecretBytes &bytes, std::string_view version = {},
               int64_t created_unix_ms = 0) {
    succeed(bytes.data(), bytes.size(), version, created_unix_ms);
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

// Completion of versions (ABI 1.4). Move-only; answer once, newest first.
class VersionsCompletion : public detail::Once<coffer_versions_callback> {
 public:
  using Once::Once;
  void succeed(const std::vector<VersionEntry> &entries) {
    std::vector<coffer_version_entry> table(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      table[i].struct_size = sizeof(coffer_version_entry);
      table[i].version = entries[i].version.c_str();
      table[i].created_unix_ms = entries[i].created_unix_ms;
      table[i].enabled = entries[i].enabled ? 1 : 0;
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
  // Every version the backend keeps of `key`, newest first (COFFER_CAP_HISTORY).
  virtual void versions(const std::string &key, VersionsCompletion &&done) {
    (void)key;
    done.fail(COFFER_STATUS_UNSUPPORTED, "this provider keeps no version history");
  }
  // Deletes a removed key's recoverable data for good (COFFER_CAP_SOFT_DELETE).
  virtual void purge(const std::string &key, DoneCompletion &&done) {
    (void)key;
    done.fail(COFFER_STATUS_UNSUPPORTED, "this provider has nothing to purge");
  }
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
  virtual std::vector<VersionEntry> versions(const std::string &key) {
    (void)key;
    throw Error(COFFER_STATUS_UNSUPPORTED, "this provider keeps no version history");
  }
  virtual void purge(const std::string &key) {
    (void)key;
    throw Error(COFFER_STATUS_UNSUPPORTED, "this provider has nothing to purge");
  }
  // Returns the JSON result; throw Error to fail.
  virtual std::string admin(const std::string &command, const std::string &arguments_json) {
    (void)arguments_json;
    throw Error(COFFER_STATUS_UNSUPPORTED, "unknown command '" + command + "'");
  }

  void get(const GetRequest &request, GetCompletion &&done) final {
    Value value = get(request);
    done.succeed(value.bytes, value.version, value.created_unix_ms);
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
  void versions(const std::string &key, VersionsCompletion &&done) final {
    done.succeed(versions(key));
  }
  void purge(const std::string &key, DoneCompletion &&done) final {
    purge(key);
    done.succeed();
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
      take_host_secret_memory(host);
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
      if (request->struct_size > offsetof(coffer_get_request, flags))
        copy.caller_waits = (request->flags & COFFER_GET_CALLER_WAITS) != 0;
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

  static void versions(coffer_instance *handle, const char *key, coffer_versions_callback callback,
                       void *context) noexcept {
    Instance *self = instance(handle);
    VersionsCompletion done(callback, context);
    guarded(self->host, "versions", done, [&] { self->provider->versions(key, std::move(done)); });
  }

  static void purge(coffer_instance *handle, const char *key, coffer_done_callback callback,
                    void *context) noexcept {
    Instance *self = instance(handle);
    DoneCompletion done(callback, context);
    guarded(self->host, "purge", done, [&] { self->provider->purge(key, std::move(done)); });
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
      (capabilities & COFFER_CAP_HISTORY) != 0 ? &Thunks<Impl>::versions : nullptr,
      (capabilities & COFFER_CAP_SOFT_DELETE) != 0 ? &Thunks<Impl>::purge : nullptr,
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
