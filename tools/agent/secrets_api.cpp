#include "secrets_api.hpp"

#include <coffer/catalog.hpp>
#include <coffer/plugins.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <utility>
#include <vector>

#include "store_calls.hpp"

namespace coffer::agent {
namespace {

namespace asio = boost::asio;

struct NamedSecret {
  std::string key;
  Secret secret;
};

Response store_not_found(std::string_view store_name) {
  return error_response(400, "ERR_SECRET_STORE_NOT_FOUND",
                        "failed finding secret store with key " + std::string(store_name) +
                            ": use \"coffer\" (the policy's routes) or a provider of the policy");
}

Response not_utf8(std::string_view store_name, std::string_view key) {
  return error_response(500, "ERR_SECRET_GET",
                        "failed getting secret with key " + std::string(key) +
                            " from secret store " + std::string(store_name) +
                            ": the value is not UTF-8 text, which a JSON answer cannot carry "
                            "(read it with 'coffer get')");
}

// {"KEY": "VALUE"}, in a body reserved at its final size.
Response one_secret(std::string_view key, const Secret &secret) {
  Response response;
  response.carries_values = true;
  response.body.reserve(json_string_size(key) + json_string_size(secret.reveal()) + 3);
  response.body.push_back('{');
  append_json_string(response.body, key);
  response.body.push_back(':');
  append_json_string(response.body, secret.reveal());
  response.body.push_back('}');
  return response;
}

// {"KEY": {"KEY": "VALUE"}, ...}, in a body reserved at its final size.
Response many_secrets(const std::vector<NamedSecret> &secrets) {
  std::size_t size = 2;
  for (const auto &entry : secrets)
    size += 2 * json_string_size(entry.key) + json_string_size(entry.secret.reveal()) + 5;
  Response response;
  response.carries_values = true;
  response.body.reserve(size);
  response.body.push_back('{');
  bool first = true;
  for (const auto &entry : secrets) {
    if (!first) response.body.push_back(',');
    first = false;
    append_json_string(response.body, entry.key);
    response.body.append(":{");
    append_json_string(response.body, entry.key);
    response.body.push_back(':');
    append_json_string(response.body, entry.secret.reveal());
    response.body.push_back('}');
  }
  response.body.push_back('}');
  return response;
}

// Outcomes a bulk read leaves out: keys nobody holds, keys the policy withholds.
bool skipped_in_bulk(Code code) {
  return code == Code::not_found || code == Code::denied;
}

}  // namespace

bool SecretsApi::is_store(std::string_view name) const {
  if (name == kRoutedStore) return true;
  auto providers = store_.providers();
  return std::find(providers.begin(), providers.end(), name) != providers.end();
}

Response SecretsApi::failure(std::string_view store_name, std::string_view key, Code code,
                             const std::string &message) {
  switch (code) {
    case Code::denied:
      metrics_.count_refusal(Refusal::policy);
      return error_response(403, "ERR_PERMISSION_DENIED",
                            "access denied by policy to get \"" + std::string(key) + "\" from \"" +
                                std::string(store_name) + "\": " + message);
    case Code::invalid_argument:
      return error_response(400, "ERR_MALFORMED_REQUEST", message);
    default:
      return error_response(500, "ERR_SECRET_GET",
                            "failed getting secret with key " + std::string(key) +
                                " from secret store " + std::string(store_name) + ": " +
                                std::string(to_string(code)) + ": " + message);
  }
}

asio::awaitable<Response> SecretsApi::get(const Peer &peer, std::string_view store_name,
                                          std::string_view key, SecretQuery query) {
  if (!is_store(store_name)) co_return store_not_found(store_name);
  GetOptions options;
  options.peer = &peer;
  if (query.version_id) options.version = *query.version_id;
  Result result;
  if (store_name == kRoutedStore) {
    result = co_await get_value(store_, pending_, key, options);
  } else {
    result = co_await on_pool(pool_, [this, store_name, key, &options] {
      return store_.get_from(store_name, key, options);
    });
  }
  if (!result.ok()) co_return failure(store_name, key, result.code, result.message);
  if (!is_valid_utf8(result.secret.reveal())) co_return not_utf8(store_name, key);
  co_return one_secret(key, result.secret);
}

asio::awaitable<Response> SecretsApi::bulk(const Peer &peer, std::string store_name) {
  if (!is_store(store_name)) co_return store_not_found(store_name);
  co_return co_await on_pool(pool_, [this, &peer, &store_name]() -> Response {
    std::vector<std::string> keys;
    if (store_name == kRoutedStore) {
      auto catalog = store_.catalog();
      for (const auto &entry : catalog->entries())
        if (store_.permits(peer, entry.key)) keys.push_back(entry.key);
    } else {
      std::vector<ListEntry> listed;
      try {
        listed = store_.list(store_name);
      } catch (const Error &e) {
        return error_response(500, "ERR_SECRET_GET",
                              "failed getting secrets from secret store " + store_name + ": " +
                                  std::string(to_string(e.code())) + ": " + e.what());
      }
      for (const auto &entry : listed)
        if (!entry.key.empty() && store_.permits(peer, entry.key)) keys.push_back(entry.key);
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    }
    GetOptions options;
    options.peer = &peer;
    std::vector<NamedSecret> secrets;
    if (store_name == kRoutedStore) {
      auto results = store_.get_many(keys, options);
      for (std::size_t i = 0; i < keys.size(); ++i) {
        if (results[i].ok()) {
          secrets.push_back({keys[i], std::move(results[i].secret)});
        } else if (!skipped_in_bulk(results[i].code)) {
          return failure(store_name, keys[i], results[i].code, results[i].message);
        }
      }
    } else {
      for (const auto &key : keys) {
        Result result = store_.get_from(store_name, key, options);
        if (result.ok()) {
          secrets.push_back({key, std::move(result.secret)});
        } else if (!skipped_in_bulk(result.code)) {
          return failure(store_name, key, result.code, result.message);
        }
      }
    }
    for (const auto &entry : secrets)
      if (!is_valid_utf8(entry.secret.reveal())) return not_utf8(store_name, entry.key);
    return many_secrets(secrets);
  });
}

Response SecretsApi::helpers(const Peer &peer, const std::string &tool) {
  if (tool != "git" && tool != "docker")
    return error_response(
        404, "ERR_HELPER_NOT_FOUND",
        "no credential helper of that name: the helpers are \"git\" and \"docker\"");
  boost::json::array entries;
  for (const auto &entry : store_.helpers(tool)) {
    if (!store_.permits(peer, entry.secret_key)) continue;
    if (!entry.username_key.empty() && !store_.permits(peer, entry.username_key)) continue;
    entries.push_back(boost::json::object{{"match", entry.match},
                                          {"username", entry.username},
                                          {"username_key", entry.username_key},
                                          {"secret_key", entry.secret_key}});
  }
  return text_response(200, "application/json", boost::json::serialize(entries));
}

Response SecretsApi::metadata() const {
  boost::json::array components;
  components.push_back(boost::json::object{{"name", kRoutedStore},
                                           {"type", "secretstores.coffer"},
                                           {"version", "v1"},
                                           {"capabilities", boost::json::array{}}});
  for (const auto &provider : store_.providers())
    components.push_back(
        boost::json::object{{"name", provider},
                            {"type", "secretstores.coffer." + store_.plugin_of(provider)},
                            {"version", "v1"},
                            {"capabilities", boost::json::array{}}});
  boost::json::object body{{"id", "coffer"},
                           {"runtimeVersion", std::string("coffer ") + library_version()},
                           {"enabledFeatures", boost::json::array{}},
                           {"components", std::move(components)}};
  return text_response(200, "application/json", boost::json::serialize(body));
}

}  // namespace coffer::agent
