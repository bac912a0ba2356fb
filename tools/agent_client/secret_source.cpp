#include "secret_source.hpp"

#include <cstdlib>

#include "policy_location.hpp"

namespace coffer::tools {
namespace {

class AgentSource final : public SecretSource {
 public:
  explicit AgentSource(std::unique_ptr<AgentClient> client) : client_(std::move(client)) {}

  [[nodiscard]] std::string description() const override {
    return "the agent at " + client_->socket().string();
  }
  std::vector<Result> get_many(std::span<const std::string> keys) override {
    std::vector<Result> results;
    results.reserve(keys.size());
    for (const auto &key : keys) results.push_back(client_->get(key));
    return results;
  }
  std::vector<HelperEntry> helpers(std::string_view tool) override {
    return client_->helpers(tool);
  }
  Store *store() noexcept override { return nullptr; }

 private:
  std::unique_ptr<AgentClient> client_;
};

class PolicySource final : public SecretSource {
 public:
  PolicySource(const PolicyLocation &where, StoreOptions options)
      : file_(where.file), store_(open_policy(where, std::move(options))) {}

  [[nodiscard]] std::string description() const override { return "the policy " + file_.string(); }
  std::vector<Result> get_many(std::span<const std::string> keys) override {
    return store_.get_many(keys);
  }
  std::vector<HelperEntry> helpers(std::string_view tool) override { return store_.helpers(tool); }
  Store *store() noexcept override { return &store_; }

 private:
  std::filesystem::path file_;
  Store store_;
};

const char *non_empty_env(const char *name) {
  const char *value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

}  // namespace

std::unique_ptr<SecretSource> open_secret_source(const SourceRequest &request) {
  if (!request.policy) {
    if (const char *named = non_empty_env("COFFER_AGENT_SOCKET")) {
      auto client = AgentClient::connect(named, request.agent_options);
      if (client == nullptr)
        throw Error(Code::unavailable, std::string("no agent listens at ") + named +
                                           " (COFFER_AGENT_SOCKET); start 'coffer serve --socket " +
                                           named +
                                           "', or unset COFFER_AGENT_SOCKET to use a policy file");
      return std::make_unique<AgentSource>(std::move(client));
    }
    if (non_empty_env("COFFER_POLICY") == nullptr) {
      if (auto client = AgentClient::connect(kDefaultAgentSocket, request.agent_options))
        return std::make_unique<AgentSource>(std::move(client));
    }
  }
  return std::make_unique<PolicySource>(locate_policy(request.policy), request.store_options);
}

}  // namespace coffer::tools
