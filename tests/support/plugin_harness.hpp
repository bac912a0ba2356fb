// Test support: load one provider plugin through its C table and call it
// synchronously, without the core. For provider test suites that check a
// plugin's own behaviour at the ABI boundary.
#ifndef COFFER_TESTS_PLUGIN_HARNESS_HPP
#define COFFER_TESTS_PLUGIN_HARNESS_HPP

#include <coffer/provider.h>
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace coffer::test {

// The build tree's plugin directory (set by CTest), or a fallback.
inline std::filesystem::path plugin_dir() {
  const char *dir = std::getenv("COFFER_TEST_PLUGIN_DIR");
  return dir != nullptr ? std::filesystem::path(dir) : std::filesystem::path("plugins");
}

inline std::filesystem::path source_dir() {
  const char *dir = std::getenv("COFFER_SOURCE_DIR");
  return dir != nullptr ? std::filesystem::path(dir) : std::filesystem::current_path();
}

struct Outcome {
  coffer_status status = -1;
  std::string message;
  std::string value;    // get: the bytes
  std::string version;  // get/put: the version id
  std::string result;   // admin: the JSON result
  std::vector<coffer_list_entry> raw;
  struct Entry {
    std::string key, name, version;
  };
  std::vector<Entry> entries;   // list
  int64_t created_unix_ms = 0;  // get: when the version was written (ABI 1.4)
  struct Version {
    std::string version;
    int64_t created_unix_ms = 0;
    bool enabled = false;
  };
  std::vector<Version> versions;  // versions, newest first
  std::thread::id answered_on;    // the thread that called the completion
  [[nodiscard]] bool ok() const { return status == COFFER_STATUS_OK; }
};

// Collects host log lines, so tests can check what a plugin logs.
struct LogCapture {
  std::mutex mutex;
  std::vector<std::pair<int32_t, std::string>> lines;
  int32_t level = COFFER_LOG_DEBUG;
  std::map<std::string, uint64_t> counters;  // what the plugin counted through host.count
  uint64_t counter(const std::string &name) {
    std::lock_guard lock(mutex);
    auto it = counters.find(name);
    return it == counters.end() ? 0 : it->second;
  }
};

// The secret memory this test host lends plugins (coffer_host.secret_allocate
// and .secret_free, ABI 1.3): pages of their own per block, excluded from
// dumps, and a record of the blocks handed back, so that a test can check
// that a plugin returns the memory that held a value. Process-wide, like the
// core's.
class HostSecretMemory {
 public:
  static void *allocate(std::size_t size) {
    if (size == 0) return nullptr;
    const std::size_t bytes = pages(size);
    void *block =
        ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (block == MAP_FAILED) return nullptr;
    ::madvise(block, bytes, MADV_DONTDUMP);
    std::lock_guard lock(state().mutex);
    auto begin = reinterpret_cast<std::uintptr_t>(block);
    state().freed.erase(begin);
    state().lent[begin] = begin + bytes;
    return block;
  }
  static void free(void *block, std::size_t size) {
    if (block == nullptr) return;
    const std::size_t bytes = pages(size);
    std::memset(block, 0, bytes);
    ::munmap(block, bytes);
    std::lock_guard lock(state().mutex);
    auto begin = reinterpret_cast<std::uintptr_t>(block);
    state().lent.erase(begin);
    state().freed[begin] = begin + bytes;
  }
  // Whether `address` lies in a block lent now / handed back since.
  static bool lent(const void *address) { return inside(state().lent, address); }
  static bool freed(const void *address) { return inside(state().freed, address); }

 private:
  using Ranges = std::map<std::uintptr_t, std::uintptr_t>;
  struct State {
    std::mutex mutex;
    Ranges lent, freed;
  };
  static State &state() {
    static State instance;
    return instance;
  }
  static std::size_t pages(std::size_t size) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return (size + page - 1) / page * page;
  }
  static bool inside(const Ranges &ranges, const void *address) {
    std::lock_guard lock(state().mutex);
    auto at = reinterpret_cast<std::uintptr_t>(address);
    auto next = ranges.upper_bound(at);
    return next != ranges.begin() && at < std::prev(next)->second;
  }
};

class Plugin {
 public:
  explicit Plugin(const std::string &name) : Plugin(plugin_dir() / ("lib" + name + ".so"), 0) {}
  Plugin(const std::filesystem::path &file, int) {
    handle_ = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) throw std::runtime_error(std::string("dlopen: ") + dlerror());
    auto entry =
        reinterpret_cast<coffer_provider_entry_fn>(dlsym(handle_, COFFER_PROVIDER_ENTRY_SYMBOL));
    if (entry == nullptr) throw std::runtime_error("no entry symbol in " + file.string());
    table_ = entry(COFFER_ABI_VERSION);
    if (table_ == nullptr) throw std::runtime_error("plugin refused the ABI version");
  }
  Plugin(const Plugin &) = delete;
  Plugin &operator=(const Plugin &) = delete;
  // Libraries stay loaded, as in the core.
  ~Plugin() = default;
  [[nodiscard]] const coffer_provider *table() const { return table_; }

 private:
  void *handle_ = nullptr;
  const coffer_provider *table_ = nullptr;
};

// One open instance with blocking wrappers around the asynchronous calls.
class Instance {
 public:
  Instance(const Plugin &plugin, const std::string &config_json,
           const std::string &base_directory = {}, const std::string &name = "test")
      : table_(plugin.table()) {
    host_.struct_size = sizeof(coffer_host);
    host_.abi_version = COFFER_ABI_VERSION;
    host_.context = &logs_;
    host_.log = [](void *context, int32_t level, const char *message) {
      auto *logs = static_cast<LogCapture *>(context);
      std::lock_guard lock(logs->mutex);
      logs->lines.emplace_back(level, message);
    };
    host_.log_level = COFFER_LOG_DEBUG;
    host_.count = [](void *context, const char *counter, uint64_t delta) {
      auto *logs = static_cast<LogCapture *>(context);
      std::lock_guard lock(logs->mutex);
      logs->counters[counter] += delta;
    };
    host_.now_unix_ms = [](void *) -> int64_t {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    host_.secret_allocate = [](std::size_t size) { return HostSecretMemory::allocate(size); };
    host_.secret_free = [](void *block, std::size_t size) { HostSecretMemory::free(block, size); };
    coffer_open_params params{};
    params.struct_size = sizeof(params);
    params.instance_name = name.c_str();
    params.config_json = config_json.c_str();
    params.config_size = config_json.size();
    params.base_directory = base_directory.empty() ? nullptr : base_directory.c_str();
    char error[1024] = {0};
    open_status_ = table_->open(&host_, &params, &instance_, error, sizeof error);
    open_error_ = error;
  }
  Instance(const Instance &) = delete;
  Instance &operator=(const Instance &) = delete;
  ~Instance() {
    if (instance_ != nullptr) table_->close(instance_);
  }

  [[nodiscard]] bool opened() const { return open_status_ == COFFER_STATUS_OK; }
  [[nodiscard]] coffer_status open_status() const { return open_status_; }
  [[nodiscard]] const std::string &open_error() const { return open_error_; }
  [[nodiscard]] coffer_instance *raw() const { return instance_; }
  [[nodiscard]] const coffer_provider *table() const { return table_; }
  LogCapture &logs() { return logs_; }

  // The flags of every later get (e.g. COFFER_GET_CALLER_WAITS: get()
  // blocks until the answer, as the core's Store::get does).
  void set_get_flags(uint32_t flags) { get_flags_ = flags; }

  Outcome get(const std::string &key, const char *version = nullptr, uint32_t timeout_ms = 0) {
    Waiter w;
    coffer_get_request request{};
    request.struct_size = sizeof(request);
    request.key = key.c_str();
    request.version = version;
    request.timeout_ms = timeout_ms;
    request.flags = get_flags_;
    table_->get(
        instance_, &request,
        [](void *context, coffer_status status, const coffer_value *value, const char *message) {
          auto *waiter = static_cast<Waiter *>(context);
          Outcome o;
          o.status = status;
          o.answered_on = std::this_thread::get_id();
          if (message != nullptr) o.message = message;
          if (value != nullptr) {
            o.value.assign(reinterpret_cast<const char *>(value->data), value->size);
            if (value->version != nullptr) o.version = value->version;
            if (value->struct_size >= offsetof(coffer_value, created_unix_ms) + sizeof(int64_t))
              o.created_unix_ms = value->created_unix_ms;
          }
          waiter->finish(std::move(o));
        },
        &w);
    return w.wait();
  }

  Outcome put(const std::string &key, const std::string &value) {
    require(table_->put != nullptr, "put");
    Waiter w;
    table_->put(instance_, key.c_str(), reinterpret_cast<const unsigned char *>(value.data()),
                value.size(), &Waiter::done, &w);
    return w.wait();
  }

  Outcome remove(const std::string &key) {
    require(table_->remove != nullptr, "remove");
    Waiter w;
    table_->remove(instance_, key.c_str(), &Waiter::done, &w);
    return w.wait();
  }

  Outcome health() {
    require(table_->health != nullptr, "health");
    Waiter w;
    table_->health(instance_, &Waiter::done, &w);
    return w.wait();
  }

  Outcome list() {
    require(table_->list != nullptr, "list");
    Waiter w;
    table_->list(
        instance_,
        [](void *context, coffer_status status, const coffer_list_entry *entries, size_t count,
           const char *message) {
          auto *waiter = static_cast<Waiter *>(context);
          Outcome o;
          o.status = status;
          if (message != nullptr) o.message = message;
          const auto *bytes = reinterpret_cast<const unsigned char *>(entries);
          for (size_t i = 0; i < count; ++i) {
            const auto *e =
                reinterpret_cast<const coffer_list_entry *>(bytes + i * entries[0].struct_size);
            o.entries.push_back({e->key != nullptr ? e->key : "", e->name,
                                 e->version != nullptr ? e->version : ""});
          }
          waiter->finish(std::move(o));
        },
        &w);
    return w.wait();
  }

  Outcome versions(const std::string &key) {
    require(table_->versions != nullptr, "versions");
    Waiter w;
    table_->versions(
        instance_, key.c_str(),
        [](void *context, coffer_status status, const coffer_version_entry *entries, size_t count,
           const char *message) {
          auto *waiter = static_cast<Waiter *>(context);
          Outcome o;
          o.status = status;
          if (message != nullptr) o.message = message;
          const auto *bytes = reinterpret_cast<const unsigned char *>(entries);
          for (size_t i = 0; i < count; ++i) {
            const auto *e =
                reinterpret_cast<const coffer_version_entry *>(bytes + i * entries[0].struct_size);
            o.versions.push_back({e->version, e->created_unix_ms, e->enabled != 0});
          }
          waiter->finish(std::move(o));
        },
        &w);
    return w.wait();
  }

  Outcome purge(const std::string &key) {
    require(table_->purge != nullptr, "purge");
    Waiter w;
    table_->purge(instance_, key.c_str(), &Waiter::done, &w);
    return w.wait();
  }

  Outcome admin(const std::string &command, const std::string &arguments = "{}") {
    require(table_->admin != nullptr, "admin");
    Waiter w;
    table_->admin(
        instance_, command.c_str(), arguments.c_str(),
        [](void *context, coffer_status status, const char *result, const char *message) {
          auto *waiter = static_cast<Waiter *>(context);
          Outcome o;
          o.status = status;
          if (result != nullptr) o.result = result;
          if (message != nullptr) o.message = message;
          waiter->finish(std::move(o));
        },
        &w);
    return w.wait();
  }

  // Returns the provider's name for `key`, or std::nullopt with `error` set.
  std::optional<std::string> key_name(const std::string &key, std::string *error = nullptr) {
    char name[512];
    char message[512] = {0};
    size_t size = 0;
    coffer_status status =
        table_->key_name(instance_, key.c_str(), name, sizeof name, &size, message, sizeof message);
    if (status != COFFER_STATUS_OK) {
      if (error != nullptr) *error = message;
      return std::nullopt;
    }
    return std::string(name, size);
  }

 private:
  struct Waiter {
    std::mutex mutex;
    std::condition_variable ready;
    std::optional<Outcome> outcome;
    int calls = 0;
    void finish(Outcome o) {
      std::lock_guard lock(mutex);
      ++calls;
      if (calls > 1) throw std::logic_error("completion called more than once");
      outcome = std::move(o);
      ready.notify_all();
    }
    static void done(void *context, coffer_status status, const char *version,
                     const char *message) {
      Outcome o;
      o.status = status;
      if (version != nullptr) o.version = version;
      if (message != nullptr) o.message = message;
      static_cast<Waiter *>(context)->finish(std::move(o));
    }
    Outcome wait() {
      std::unique_lock lock(mutex);
      if (!ready.wait_for(lock, std::chrono::seconds(120), [&] { return outcome.has_value(); }))
        throw std::runtime_error("completion never called");
      return std::move(*outcome);
    }
  };
  static void require(bool present, const char *what) {
    if (!present) throw std::runtime_error(std::string("plugin has no ") + what);
  }

  const coffer_provider *table_;
  LogCapture logs_;
  coffer_host host_{};
  coffer_instance *instance_ = nullptr;
  uint32_t get_flags_ = 0;
  coffer_status open_status_ = -1;
  std::string open_error_;
};

}  // namespace coffer::test

#endif  // COFFER_TESTS_PLUGIN_HARNESS_HPP
