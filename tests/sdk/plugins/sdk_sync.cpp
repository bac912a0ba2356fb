// A synchronous provider (coffer::provider::SyncProvider) whose operations
// throw, to check that the SDK turns every exception into a status.
#include <coffer/provider.hpp>

#include <boost/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace coffer::provider;

class SyncThrowingProvider final : public SyncProvider {
 public:
  static constexpr uint64_t capabilities =
      COFFER_CAP_PUT | COFFER_CAP_REMOVE | COFFER_CAP_LIST | COFFER_CAP_ADMIN;

  SyncThrowingProvider(const Host &, const OpenParams &params) {
    auto config = boost::json::parse(params.config_json);
    if (const auto *open = config.as_object().if_contains("open")) {
      if (open->as_string() == "status_error")
        throw Error(COFFER_STATUS_INVALID_CONFIG, "config.open: refused by the sync provider");
      throw std::runtime_error("sync constructor failed");
    }
  }

  Value get(const GetRequest &request) override {
    if (request.key == "Behaviour.Value") return Value{SecretBytes("sync-value"), "s1"};
    if (request.key == "Behaviour.StatusError")
      throw Error(COFFER_STATUS_DENIED, "sync access to " + request.key + " denied");
    if (request.key == "Behaviour.UnknownException") throw 7;
    throw std::runtime_error("sync backend exploded reading " + request.key);
  }

  std::string put(const std::string &key, const SecretBytes &) override {
    throw std::runtime_error("sync put of " + key + " exploded");
  }

  void remove(const std::string &key) override {
    throw Error(COFFER_STATUS_NOT_FOUND, "nothing to remove at " + key);
  }

  std::vector<ListEntry> list() override { throw std::runtime_error("sync list exploded"); }

  std::string admin(const std::string &command, const std::string &) override {
    if (command == "ok") return R"({"sync":true})";
    throw Error(COFFER_STATUS_DENIED, "sync admin " + command + " denied");
  }
};

}  // namespace

COFFER_PROVIDER(SyncThrowingProvider, "sdk_sync", "1.0.0",
                "test: a synchronous provider that throws")
