// An asynchronous provider (coffer::provider::Provider) that misbehaves on
// request, to check what the SDK guarantees at the ABI boundary: exceptions
// become statuses, a completion fires exactly once, a dropped completion
// reports internal, and completions may be answered from other threads.
//
// The key (or command) names the behaviour; config {"open": "..."} makes the
// constructor throw.
#include <coffer/provider.hpp>

#include <boost/json.hpp>

#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace coffer::provider;

// Throws from the constructor as the configuration asks.
void open_behaviour(const OpenParams &params) {
  auto config = boost::json::parse(params.config_json);
  const auto *open = config.as_object().if_contains("open");
  if (open == nullptr) return;
  std::string what(open->as_string());
  if (what == "status_error") throw Error(COFFER_STATUS_INVALID_CONFIG, "config.open: refused");
  if (what == "runtime_error") throw std::runtime_error("constructor failed");
  if (what == "ok_status_error") throw Error(COFFER_STATUS_OK, "an error that claims success");
  if (what == "unknown_exception") throw 42;
}

class AsyncProvider final : public Provider {
 public:
  static constexpr uint64_t capabilities =
      COFFER_CAP_PUT | COFFER_CAP_REMOVE | COFFER_CAP_LIST | COFFER_CAP_ADMIN | COFFER_CAP_HEALTH;

  AsyncProvider(const Host &host, const OpenParams &params) : host_(host) {
    open_behaviour(params);
  }

  // Threads that answer completions are joined here, in close().
  ~AsyncProvider() override {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (auto &thread : threads) thread.join();
  }

  void get(const GetRequest &request, GetCompletion &&done) override {
    const std::string &key = request.key;
    if (key == "Behaviour.Value") {
      done.succeed(SecretBytes("async-value"), "v7");
    } else if (key == "Behaviour.StatusError") {
      throw Error(COFFER_STATUS_DENIED, "access to Behaviour.StatusError denied by the backend");
    } else if (key == "Behaviour.RuntimeError") {
      throw std::runtime_error("backend exploded in get");
    } else if (key == "Behaviour.UnknownException") {
      throw 42;
    } else if (key == "Behaviour.Dropped") {
      // Returns without answering: the SDK answers for us.
    } else if (key == "Behaviour.DroppedOnThread") {
      spawn([done = std::move(done)]() mutable { GetCompletion dropped = std::move(done); });
    } else if (key == "Behaviour.CallerWaits") {
      done.succeed(SecretBytes(request.caller_waits ? "waits" : "does-not-wait"));
    } else if (key == "Behaviour.OtherThread") {
      spawn([done = std::move(done)]() mutable {
        done.succeed(SecretBytes("answered-from-another-thread"));
      });
    } else if (key == "Behaviour.ThrowAfterMove") {
      // The completion belongs to the thread now; the exception must not
      // answer it a second time (the SDK logs it instead).
      spawn([done = std::move(done)]() mutable { done.succeed(SecretBytes("moved-then-thrown")); });
      throw std::runtime_error("thrown after the completion was handed over");
    } else if (key == "Behaviour.Twice") {
      done.succeed(SecretBytes("first-answer"));
      done.succeed(SecretBytes("second-answer"));
      done.fail(COFFER_STATUS_INTERNAL, "third answer");
    } else {
      done.fail(COFFER_STATUS_NOT_FOUND, key + " is not a behaviour");
    }
  }

  void put(const std::string &key, const SecretBytes &value, DoneCompletion &&done) override {
    (void)value;
    if (key == "Behaviour.RuntimeError") throw std::runtime_error("backend exploded in put");
    if (key == "Behaviour.OtherThread") {
      spawn([done = std::move(done)]() mutable { done.succeed("v2"); });
      return;
    }
    throw Error(COFFER_STATUS_DATA_ERROR, "cannot store " + key);
  }

  void remove(const std::string &key, DoneCompletion &&done) override {
    (void)done;
    throw std::runtime_error("backend exploded in remove of " + key);
  }

  void list(ListCompletion &&done) override {
    (void)done;
    throw Error(COFFER_STATUS_UNAVAILABLE, "the list backend is unreachable");
  }

  void admin(const std::string &command, const std::string &arguments_json,
             AdminCompletion &&done) override {
    (void)arguments_json;
    if (command == "status_error") throw Error(COFFER_STATUS_DENIED, "admin needs more rights");
    if (command == "runtime_error") throw std::runtime_error("admin exploded");
    if (command == "drop") return;
    if (command == "ok") {
      spawn([done = std::move(done)]() mutable { done.succeed(R"({"done":true})"); });
      return;
    }
    done.fail(COFFER_STATUS_UNSUPPORTED, "unknown command '" + command + "'");
  }

  std::string key_name(const std::string &key) override {
    if (key == "Behaviour.RuntimeError") throw std::runtime_error("key_name exploded");
    if (key == "Behaviour.StatusError")
      throw Error(COFFER_STATUS_INVALID_ARGUMENT, key + " has no name here");
    return "async/" + key;
  }

 private:
  template <class Function>
  void spawn(Function &&function) {
    std::lock_guard lock(mutex_);
    threads_.emplace_back(std::forward<Function>(function));
  }

  Host host_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

}  // namespace

COFFER_PROVIDER(AsyncProvider, "sdk_async", "1.0.0",
                "test: an asynchronous provider that misbehaves")
