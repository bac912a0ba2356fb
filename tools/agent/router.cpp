#include "router.hpp"

#include <coffer/catalog.hpp>

#include <boost/json.hpp>

namespace coffer::agent {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Response malformed(std::string message) {
  return error_response(400, "ERR_MALFORMED_REQUEST", message);
}

Response method_not_allowed() {
  Response response =
      error_response(405, "ERR_METHOD_NOT_ALLOWED", "this endpoint answers GET requests only");
  response.allow = "GET";
  return response;
}

std::optional<SecretQuery> secret_query(const Target &target, std::string &problem) {
  SecretQuery query;
  for (const auto &[name, value] : target.query) {
    if (name != "metadata.version_id") continue;  // other metadata means nothing here
    if (query.version_id) {
      problem = "metadata.version_id is given more than once";
      return std::nullopt;
    }
    if (value.empty() || value.size() > 256) {
      problem = "metadata.version_id must be a version id of 1 to 256 characters";
      return std::nullopt;
    }
    query.version_id = std::string(value);
  }
  return query;
}

bool is(const Target &target, std::initializer_list<std::string_view> path) {
  if (target.segments.size() != path.size()) return false;
  std::size_t i = 0;
  for (auto part : path)
    if (target.segments[i++] != part) return false;
  return true;
}

}  // namespace

std::optional<std::string_view> Target::decode(std::string_view text) {
  bool escaped = false;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
    escaped |= c == '%';
  }
  if (!escaped) return text;
  std::size_t start = storage_.size();
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
    storage_.push_back(c);
  }
  return std::string_view(storage_).substr(start);
}

bool Target::parse(std::string_view target) {
  segments.clear();
  query.clear();
  storage_.clear();
  if (target.empty() || target.front() != '/') return false;
  // Decoding never lengthens a part: one reservation holds them all, so the
  // views into it stay valid.
  if (target.find('%') != std::string_view::npos) storage_.reserve(target.size());
  std::string_view path = target;
  std::string_view query_text;
  if (auto mark = target.find('?'); mark != std::string_view::npos) {
    path = target.substr(0, mark);
    query_text = target.substr(mark + 1);
  }
  if (path.find('#') != std::string_view::npos) return false;
  path.remove_prefix(1);
  while (!path.empty()) {
    auto slash = path.find('/');
    auto segment = decode(path.substr(0, slash));
    if (!segment || *segment == "." || *segment == ".." ||
        segment->find('/') != std::string_view::npos)
      return false;
    segments.push_back(*segment);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
    if (path.empty()) segments.emplace_back();  // a trailing slash
  }
  while (!query_text.empty()) {
    auto amp = query_text.find('&');
    std::string_view pair = query_text.substr(0, amp);
    if (!pair.empty()) {
      auto equals = pair.find('=');
      auto name = decode(pair.substr(0, equals));
      auto value =
          decode(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1));
      if (!name || !value) return false;
      query.emplace_back(*name, *value);
    }
    if (amp == std::string_view::npos) break;
    query_text.remove_prefix(amp + 1);
  }
  return true;
}

asio::awaitable<Response> Router::readiness() {
  auto health = co_await on_pool(pool_, [this] { return store_.health(); });
  boost::json::object providers;
  bool healthy = true;
  for (const auto &provider : health) {
    if (provider.code == Code::ok) {
      providers[provider.provider] = "ok";
      continue;
    }
    healthy = false;
    providers[provider.provider] =
        (provider.isolated ? std::string("isolated") : std::string(to_string(provider.code))) +
        ": " + provider.message;
  }
  bool draining = draining_.load(std::memory_order_relaxed);
  bool ready = healthy && !draining;
  boost::json::object body{{"status", ready ? "ready" : (draining ? "draining" : "degraded")},
                           {"providers", std::move(providers)}};
  co_return text_response(ready ? 200 : 503, "application/json", boost::json::serialize(body));
}

Response Router::metrics() const {
  return text_response(200, "text/plain; version=0.0.4; charset=utf-8",
                       store_.metrics() + metrics_.render());
}

asio::awaitable<Response> Router::handle(const Request &request, const Peer &peer, Route &route) {
  route = Route::other;
  Target target;
  if (!target.parse({request.target().data(), request.target().size()}))
    co_return malformed(
        "the request target is not a path of this agent (a bad escape, a '..' "
        "segment or a control character)");
  bool get = request.method() == http::verb::get;

  if (target.segments.size() == 4 && target.segments[0] == "v1.0" &&
      target.segments[1] == "secrets") {
    std::string_view store_name = target.segments[2];
    std::string_view key = target.segments[3];
    route = key == "bulk" ? Route::bulk : Route::secret;
    if (!get) co_return method_not_allowed();
    if (store_name.empty()) co_return malformed("the secret store name is empty");
    if (route == Route::bulk) co_return co_await secrets_.bulk(peer, std::string(store_name));
    if (!is_canonical_key(key))
      co_return malformed(
          "the secret name must be a canonical key (Category.Name: letters and "
          "digits, each part starting with a letter); it is not repeated here");
    std::string problem;
    auto query = secret_query(target, problem);
    if (!query) co_return malformed(problem);
    co_return co_await secrets_.get(peer, store_name, key, std::move(*query));
  }
  if (target.segments.size() == 3 && target.segments[0] == "v1.0-coffer" &&
      target.segments[1] == "helpers") {
    route = Route::helpers;
    if (!get) co_return method_not_allowed();
    co_return secrets_.helpers(peer, std::string(target.segments[2]));
  }
  if (is(target, {"v1.0", "metadata"})) {
    route = Route::metadata;
    if (!get) co_return method_not_allowed();
    co_return secrets_.metadata();
  }
  if (is(target, {"v1.0", "healthz"}) || is(target, {"v1.0", "healthz", "outbound"})) {
    route = Route::health;
    if (!get) co_return method_not_allowed();
    co_return text_response(204, "", "");
  }
  if (is(target, {"healthz"})) {
    route = Route::health;
    if (!get) co_return method_not_allowed();
    co_return text_response(200, "text/plain; charset=utf-8", "ok\n");
  }
  if (is(target, {"readyz"})) {
    route = Route::ready;
    if (!get) co_return method_not_allowed();
    co_return co_await readiness();
  }
  if (is(target, {"metrics"})) {
    route = Route::metrics;
    if (!get) co_return method_not_allowed();
    co_return metrics();
  }
  co_return error_response(
      404, "ERR_NOT_FOUND",
      "no endpoint at this path: the agent serves /v1.0/secrets/{store}/{key}, "
      "/v1.0/secrets/{store}/bulk, /v1.0-coffer/helpers/{tool}, /metrics, "
      "/healthz and /readyz");
}

}  // namespace coffer::agent
