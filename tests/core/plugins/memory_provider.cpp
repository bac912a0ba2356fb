// A provider that keeps secrets in memory, for the core's tests and benchmarks.
// Config: {"values": {KEY: VALUE}, "delay_ms": N, "fail": {KEY: STATUS},
//          "health": STATUS, "health_delay_ms": N, "hang": [OPERATION...],
//          "cancel_delay_ms": N}
// With delay_ms > 0 it answers from its own thread after the delay (an
// asynchronous provider); otherwise before get() returns. The operations
// named in "hang" ("get", "put", "remove", "list", "health", "admin") are
// never answered on their own: cancel() answers them, and every delayed
// operation, at once with UNAVAILABLE "the instance is closing" (with
// cancel_delay_ms, the held ones only that long after cancel(): a provider
// slow to cancel); the admin command "release" answers them as usual.
// Every version written is kept with the host's time of the write, and
// versions() lists them. remove() keeps the removed versions until purge()
// (soft delete, as Key Vault does); a put after a remove starts afresh.
// Admin commands: "stats" -> {"gets": N, "puts": N, "held": N, "waited": N}
// ("waited": gets whose caller said it waits, COFFER_GET_CALLER_WAITS); "fail"
// {"key", "status"} makes a key fail with a status ("ok" clears it); "delay"
// {"ms"}; "count" {"counter", "delta"} adds to a counter through the host
// table; "release" (never held).
#include <coffer/provider.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace {

using namespace coffer::provider;
namespace json = boost::json;

coffer_status status_named(const std::string &name) {
  static const std::map<std::string, coffer_status> names = {
      {"ok", COFFER_STATUS_OK},
      {"not_found", COFFER_STATUS_NOT_FOUND},
      {"denied", COFFER_STATUS_DENIED},
      {"unavailable", COFFER_STATUS_UNAVAILABLE},
      {"invalid_argument", COFFER_STATUS_INVALID_ARGUMENT},
      {"timeout", COFFER_STATUS_TIMEOUT},
      {"internal", COFFER_STATUS_INTERNAL},
      {"invalid_config", COFFER_STATUS_INVALID_CONFIG},
      {"data_error", COFFER_STATUS_DATA_ERROR}};
  auto it = names.find(name);
  if (it == names.end()) throw Error(COFFER_STATUS_INVALID_CONFIG, "unknown status " + name);
  return it->second;
}

class MemoryProvider final : public Provider {
 public:
  static constexpr uint64_t capabilities = COFFER_CAP_PUT | COFFER_CAP_REMOVE | COFFER_CAP_LIST |
                                           COFFER_CAP_HEALTH | COFFER_CAP_ADMIN |
                                           COFFER_CAP_HISTORY | COFFER_CAP_SOFT_DELETE;

  MemoryProvider(const Host &host, const OpenParams &params) : host_(host) {
    json::value config = json::parse(params.config_json);
    const auto &object = config.as_object();
    for (const auto &member : object) {
      std::string field(member.key());
      if (field == "values") {
        for (const auto &v : member.value().as_object())
          store(std::string(v.key()), SecretBytes(std::string_view(v.value().as_string())));
      } else if (field == "delay_ms") {
        delay_ms_ = static_cast<int>(member.value().to_number<int64_t>());
      } else if (field == "fail") {
        for (const auto &v : member.value().as_object())
          failures_[std::string(v.key())] = status_named(std::string(v.value().as_string()));
      } else if (field == "health") {
        health_ = status_named(std::string(member.value().as_string()));
      } else if (field == "health_delay_ms") {
        health_delay_ms_ = static_cast<int>(member.value().to_number<int64_t>());
      } else if (field == "hang") {
        for (const auto &operation : member.value().as_array())
          hang_.insert(std::string(operation.as_string()));
      } else if (field == "cancel_delay_ms") {
        cancel_delay_ms_ = static_cast<int>(member.value().to_number<int64_t>());
      } else if (field == "refuse_open") {
        throw Error(COFFER_STATUS_INVALID_CONFIG, "config.refuse_open: refusing as asked");
      } else {
        throw Error(COFFER_STATUS_INVALID_CONFIG, "unknown config field '" + field + "'");
      }
    }
    thread_ = std::thread([this] { run(); });
  }

  ~MemoryProvider() override {
    {
      std::lock_guard lock(queue_mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    if (canceller_.joinable()) canceller_.join();
  }

  void get(const GetRequest &request, GetCompletion &&done) override {
    int delay;
    {
      std::lock_guard lock(mutex_);
      ++gets_;
      if (request.caller_waits) ++waited_;
      delay = delay_ms_;
    }
    // Answer outside the lock: a completion may call back into anything.
    auto answer = [this, key = request.key, version = request.version](GetCompletion &d) {
      coffer_status failure = COFFER_STATUS_OK;
      std::string found_version;
      int64_t created_unix_ms = 0;
      SecretBytes value;
      {
        std::lock_guard lock(mutex_);
        if (auto f = failures_.find(key); f != failures_.end()) {
          failure = f->second;
        } else if (auto it = values_.find(key); it == values_.end() || it->second.empty()) {
          failure = COFFER_STATUS_NOT_FOUND;
        } else {
          failure = COFFER_STATUS_NOT_FOUND;
          for (const auto &v : it->second)
            if (version.empty() ? &v == &it->second.back() : v.version == version) {
              value = v.bytes.clone();
              found_version = v.version;
              created_unix_ms = v.created_unix_ms;
              failure = COFFER_STATUS_OK;
            }
        }
      }
      if (failure == COFFER_STATUS_OK) return d.succeed(value, found_version, created_unix_ms);
      d.fail(failure, failure == COFFER_STATUS_NOT_FOUND ? key + " is not in memory"
                                                         : "injected failure for " + key);
    };
    if (hangs("get")) {
      auto shared = std::make_shared<GetCompletion>(std::move(done));
      return hold([answer, shared](bool cancelled) mutable {
        if (cancelled) return shared->fail(COFFER_STATUS_UNAVAILABLE, kClosing);
        answer(*shared);
      });
    }
    if (delay <= 0) {
      answer(done);
      return;
    }
    auto shared = std::make_shared<GetCompletion>(std::move(done));
    enqueue(std::chrono::steady_clock::now() + std::chrono::milliseconds(delay),
            [answer, shared](bool cancelled) mutable {
              if (cancelled) return shared->fail(COFFER_STATUS_UNAVAILABLE, kClosing);
              answer(*shared);
            });
  }

  void health(DoneCompletion &&done) override {
    auto answer = [status = health_](DoneCompletion &d) {
      if (status == COFFER_STATUS_OK) return d.succeed();
      d.fail(status, "unhealthy as configured");
    };
    if (hangs("health")) return hold(held_done(std::move(done), answer));
    if (health_delay_ms_ <= 0) return answer(done);
    auto shared = std::make_shared<DoneCompletion>(std::move(done));
    enqueue(std::chrono::steady_clock::now() + std::chrono::milliseconds(health_delay_ms_),
            [answer, shared](bool cancelled) mutable {
              if (cancelled) return shared->fail(COFFER_STATUS_UNAVAILABLE, kClosing);
              answer(*shared);
            });
  }

  void cancel() override {
    std::vector<std::function<void(bool)>> held;
    {
      std::lock_guard lock(queue_mutex_);
      cancelled_ = true;
      held.swap(held_);
    }
    wake_.notify_all();
    if (cancel_delay_ms_ <= 0) {
      for (auto &answer : held) answer(true);
      return;
    }
    canceller_ = std::thread([held = std::move(held), delay = cancel_delay_ms_]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      for (auto &answer : held) answer(true);
    });
  }

  void put(const std::string &key, const SecretBytes &value, DoneCompletion &&done) override {
    if (hangs("put"))
      return hold(held_done(std::move(done),
                            [this, key, copy = std::make_shared<SecretBytes>(value.clone())](
                                DoneCompletion &d) { put_now(key, *copy, d); }));
    put_now(key, value, done);
  }

  void put_now(const std::string &key, const SecretBytes &value, DoneCompletion &done) {
    std::string version;
    {
      std::lock_guard lock(mutex_);
      ++puts_;
      version = store(key, value.clone());
    }
    done.succeed(version);
  }

  void remove(const std::string &key, DoneCompletion &&done) override {
    if (hangs("remove"))
      return hold(
          held_done(std::move(done), [this, key](DoneCompletion &d) { remove_now(key, d); }));
    remove_now(key, done);
  }

  void remove_now(const std::string &key, DoneCompletion &done) {
    bool erased = false;
    {
      std::lock_guard lock(mutex_);
      if (auto it = values_.find(key); it != values_.end()) {
        removed_[key] = std::move(it->second);
        values_.erase(it);
        erased = true;
      }
    }
    if (!erased) return done.fail(COFFER_STATUS_NOT_FOUND, key + " not found");
    done.succeed();
  }

  void versions(const std::string &key, VersionsCompletion &&done) override {
    std::vector<VersionEntry> entries;
    {
      std::lock_guard lock(mutex_);
      auto it = values_.find(key);
      if (it == values_.end()) return done.fail(COFFER_STATUS_NOT_FOUND, key + " not found");
      for (auto v = it->second.rbegin(); v != it->second.rend(); ++v)
        entries.push_back({.version = v->version, .created_unix_ms = v->created_unix_ms});
    }
    done.succeed(entries);
  }

  void purge(const std::string &key, DoneCompletion &&done) override {
    bool purged;
    {
      std::lock_guard lock(mutex_);
      purged = removed_.erase(key) != 0;
    }
    if (!purged) return done.fail(COFFER_STATUS_NOT_FOUND, "no removed key " + key);
    done.succeed();
  }

  void list(ListCompletion &&done) override {
    if (hangs("list")) {
      auto shared = std::make_shared<ListCompletion>(std::move(done));
      return hold([this, shared](bool cancelled) {
        if (cancelled) return shared->fail(COFFER_STATUS_UNAVAILABLE, kClosing);
        list_now(*shared);
      });
    }
    list_now(done);
  }

  void list_now(ListCompletion &done) {
    std::vector<ListEntry> entries;
    {
      std::lock_guard lock(mutex_);
      for (const auto &[key, versions] : values_)
        entries.push_back({key, "mem:" + key, versions.back().version});
    }
    done.succeed(entries);
  }

  void admin(const std::string &command, const std::string &arguments,
             AdminCompletion &&done) override {
    if (command == "release") {
      std::vector<std::function<void(bool)>> held;
      {
        std::lock_guard lock(queue_mutex_);
        held.swap(held_);
      }
      for (auto &answer : held) answer(false);
      return done.succeed("{}");
    }
    if (hangs("admin")) {
      auto shared = std::make_shared<AdminCompletion>(std::move(done));
      return hold([this, command, arguments, shared](bool cancelled) {
        if (cancelled) return shared->fail(COFFER_STATUS_UNAVAILABLE, kClosing);
        admin_now(command, arguments, *shared);
      });
    }
    admin_now(command, arguments, done);
  }

  void admin_now(const std::string &command, const std::string &arguments, AdminCompletion &done) {
    json::value args = json::parse(arguments);
    std::string result;
    std::size_t held;
    {
      std::lock_guard lock(queue_mutex_);
      held = held_.size();
    }
    {
      std::lock_guard lock(mutex_);
      if (command == "stats") {
        result = json::serialize(json::object{{"gets", gets_},
                                              {"puts", puts_},
                                              {"held", held},
                                              {"waited", waited_},
                                              {"removed", removed_.size()}});
      } else if (command == "fail") {
        std::string key(args.at("key").as_string());
        std::string status(args.at("status").as_string());
        if (status == "ok")
          failures_.erase(key);
        else
          failures_[key] = status_named(status);
        result = "{}";
      } else if (command == "delay") {
        delay_ms_ = static_cast<int>(args.at("ms").to_number<int64_t>());
        result = "{}";
      } else if (command == "count") {
        host_.count(std::string(args.at("counter").as_string()).c_str(),
                    static_cast<uint64_t>(args.at("delta").to_number<int64_t>()));
        result = "{}";
      }
    }
    if (result.empty()) return done.fail(COFFER_STATUS_UNSUPPORTED, "unknown command " + command);
    done.succeed(result);
  }

  std::string key_name(const std::string &key) override { return "mem:" + key; }

 private:
  struct Version {
    SecretBytes bytes;
    std::string version;
    int64_t created_unix_ms = 0;
  };

  std::string store(const std::string &key, SecretBytes bytes) {
    auto &versions = values_[key];
    std::string version = "v" + std::to_string(++counter_);
    versions.push_back({std::move(bytes), version, host_.now_unix_ms()});
    return version;
  }

  static constexpr const char *kClosing = "the instance is closing";

  [[nodiscard]] bool hangs(const char *operation) const { return hang_.count(operation) != 0; }

  // Keeps an operation unanswered until cancel() or "release".
  void hold(std::function<void(bool cancelled)> answer) {
    {
      std::lock_guard lock(queue_mutex_);
      if (!cancelled_) {
        held_.push_back(std::move(answer));
        return;
      }
    }
    answer(true);
  }

  template <class Answer>
  static std::function<void(bool)> held_done(DoneCompletion &&done, Answer answer) {
    auto shared = std::make_shared<DoneCompletion>(std::move(done));
    return [shared, answer](bool cancelled) mutable {
      if (cancelled) return shared->fail(COFFER_STATUS_UNAVAILABLE, kClosing);
      answer(*shared);
    };
  }

  void enqueue(std::chrono::steady_clock::time_point when, std::function<void(bool)> task) {
    {
      std::lock_guard lock(queue_mutex_);
      queue_.emplace_back(when, std::move(task));
    }
    wake_.notify_all();
  }

  void run() {
    std::unique_lock lock(queue_mutex_);
    for (;;) {
      if (queue_.empty()) {
        if (stopping_) return;
        wake_.wait(lock);
        continue;
      }
      auto when = queue_.front().first;
      wake_.wait_until(lock, when, [&] { return cancelled_; });
      auto task = std::move(queue_.front().second);
      queue_.pop_front();
      bool cancelled = cancelled_;
      lock.unlock();
      task(cancelled);
      lock.lock();
    }
  }

  Host host_;
  std::mutex mutex_;
  std::map<std::string, std::vector<Version>> values_;
  std::map<std::string, std::vector<Version>> removed_;  // until purged
  std::map<std::string, coffer_status> failures_;
  int delay_ms_ = 0;
  coffer_status health_ = COFFER_STATUS_OK;
  int health_delay_ms_ = 0;
  int64_t gets_ = 0;
  int64_t waited_ = 0;  // gets with caller_waits
  int64_t puts_ = 0;
  int64_t counter_ = 0;
  std::mutex queue_mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::function<void(bool)>>> queue_;
  bool stopping_ = false;
  bool cancelled_ = false;
  std::set<std::string> hang_;
  std::vector<std::function<void(bool)>> held_;
  int cancel_delay_ms_ = 0;
  std::thread canceller_;
  std::thread thread_;
};

}  // namespace

COFFER_PROVIDER(MemoryProvider, "memory", "1.0.0", "secrets in memory, for tests")
