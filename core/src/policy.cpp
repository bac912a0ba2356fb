#include "policy.hpp"

#include <coffer/catalog.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "json_text.hpp"
#include "nearest.hpp"

namespace coffer::detail {
namespace {

namespace json = boost::json;

const std::vector<std::string> kTopFields = {"coffer",    "plugin_dirs", "catalogs",
                                             "providers", "routes",      "keys",
                                             "cache",     "timeout_ms",  "audit"};
const std::vector<std::string> kAuditFields = {"file", "max_bytes", "keep"};
const std::vector<std::string> kProviderFields = {"plugin", "config", "sha256"};
const std::vector<std::string> kRouteFields = {"providers", "on", "allow", "deny"};
const std::vector<std::string> kKeyFields = {"providers", "on"};
const std::vector<std::string> kCacheFields = {"ttl_s", "refresh_ahead_s", "stale_if_error_s",
                                               "negative_ttl_s"};
const std::vector<std::string> kStatusNames = {"not_found",        "denied",         "unavailable",
                                               "invalid_argument", "unsupported",    "timeout",
                                               "internal",         "invalid_config", "data_error"};

constexpr double kTwoTo63 = 9223372036854775808.0;

// Whether `d` is a whole number that an int64 holds (a cast of anything else
// is undefined behaviour).
bool is_whole_int64(double d) {
  return d >= -kTwoTo63 && d < kTwoTo63 && d == std::trunc(d);
}

class Parser {
 public:
  Parser(std::shared_ptr<const JsonDocument> doc, Policy &policy)
      : document_(std::move(doc)), doc_(*document_), policy_(policy) {}

  void run() {
    const auto *root = doc_.root().if_object();
    if (root == nullptr) doc_.fail({}, "expected a JSON object");
    check_fields(*root, {}, kTopFields);
    const auto *format = root->if_contains("coffer");
    if (format == nullptr)
      doc_.fail({}, "missing \"coffer\": 1 (the policy format version) at the top level");
    if (!format->is_int64() || format->as_int64() != 1)
      doc_.fail({"coffer"}, "expected 1 (the only policy format version this coffer reads)");
    if (const auto *dirs = root->if_contains("plugin_dirs"))
      for (auto &p : paths(*dirs, {"plugin_dirs"})) policy_.plugin_dirs.push_back(p);
    if (const auto *cats = root->if_contains("catalogs"))
      for (auto &p : paths(*cats, {"catalogs"})) policy_.catalogs.push_back(p);
    const auto *providers = root->if_contains("providers");
    if (providers == nullptr || !providers->is_object() || providers->as_object().empty())
      doc_.fail({}, "expected \"providers\": an object with at least one provider");
    for (const auto &member : providers->as_object()) parse_provider(member);
    if (const auto *routes = root->if_contains("routes")) parse_routes(*routes);
    if (const auto *keys = root->if_contains("keys")) parse_keys(*keys);
    if (policy_.routes.empty() && policy_.keys.empty())
      doc_.fail({}, "expected \"routes\" (at least \"*\") or \"keys\": nothing would be served");
    if (const auto *cache = root->if_contains("cache")) parse_cache(*cache);
    if (const auto *timeout = root->if_contains("timeout_ms"))
      policy_.timeout = std::chrono::milliseconds(positive(*timeout, {"timeout_ms"}, false));
    if (const auto *audit = root->if_contains("audit")) parse_audit(*audit);
  }

 private:
  void check_fields(const json::object &object, const JsonPath &path,
                    const std::vector<std::string> &known) {
    for (const auto &member : object) {
      std::string name(member.key());
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        JsonPath at = path;
        at.emplace_back(name);
        std::string expected;
        for (const auto &k : known) expected += (expected.empty() ? "" : ", ") + k;
        doc_.fail(at,
                  "unknown field" + did_you_mean(name, known) + "; expected one of " + expected);
      }
    }
  }

  std::vector<std::filesystem::path> paths(const json::value &value, const JsonPath &path) {
    std::vector<std::filesystem::path> out;
    const auto *array = value.if_array();
    if (array == nullptr) doc_.fail(path, "expected an array of directory names");
    for (std::size_t i = 0; i < array->size(); ++i) {
      JsonPath at = path;
      at.emplace_back(i);
      const auto *text = (*array)[i].if_string();
      if (text == nullptr || text->empty()) doc_.fail(at, "expected a non-empty path string");
      std::filesystem::path p{std::string(*text)};
      out.push_back(p.is_absolute() ? p : policy_.base_directory / p);
    }
    return out;
  }

  std::int64_t positive(const json::value &value, const JsonPath &path, bool allow_zero) {
    std::int64_t n = 0;
    if (value.is_int64())
      n = value.as_int64();
    else if (value.is_uint64())
      n = static_cast<std::int64_t>(value.as_uint64());
    else if (value.is_double() && is_whole_int64(value.as_double()))
      n = static_cast<std::int64_t>(value.as_double());
    else
      doc_.fail(path, "expected a whole number");
    if (n < 0 || (n == 0 && !allow_zero))
      doc_.fail(path, allow_zero ? "expected zero or more" : "expected a positive number");
    return n;
  }

  void parse_provider(const json::key_value_pair &member) {
    std::string name(member.key());
    JsonPath path{std::string("providers"), name};
    static const std::regex valid("[A-Za-z][A-Za-z0-9_-]{0,63}");
    if (!std::regex_match(name, valid))
      doc_.fail(path, "provider name '" + name +
                          "' must start with a letter and use letters, digits, '_' or '-'");
    const auto *object = member.value().if_object();
    if (object == nullptr)
      doc_.fail(path, "expected an object {\"plugin\": ..., \"config\": {...}}");
    check_fields(*object, path, kProviderFields);
    ProviderSpec spec;
    spec.name = name;
    spec.document = document_;
    const auto *plugin = object->if_contains("plugin");
    if (plugin == nullptr || !plugin->is_string())
      doc_.fail(path, "expected \"plugin\": the plugin's name, e.g. \"env_file\"");
    spec.plugin = std::string(plugin->as_string());
    static const std::regex plugin_name("[a-z0-9_]{1,64}");
    if (!std::regex_match(spec.plugin, plugin_name))
      doc_.fail(path, "plugin name '" + spec.plugin +
                          "' must use lower-case letters, digits and '_' (it names a file)");
    if (const auto *config = object->if_contains("config")) {
      if (!config->is_object())
        doc_.fail({std::string("providers"), name, std::string("config")}, "expected an object");
      spec.config_json = json::serialize(*config);
    } else {
      spec.config_json = "{}";
    }
    if (const auto *pin = object->if_contains("sha256")) {
      static const std::regex hex("[0-9a-fA-F]{64}");
      if (!pin->is_string() || !std::regex_match(std::string(pin->as_string()), hex))
        doc_.fail({std::string("providers"), name, std::string("sha256")},
                  "expected the plugin file's SHA-256 as 64 hexadecimal digits");
      std::string lower(pin->as_string());
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      spec.sha256 = lower;
    }
    policy_.providers.push_back(std::move(spec));
  }

  std::vector<std::string> provider_names() const {
    std::vector<std::string> names;
    for (const auto &p : policy_.providers) names.push_back(p.name);
    return names;
  }

  std::string provider_ref(const json::value &value, const JsonPath &path) {
    const auto *text = value.if_string();
    if (text == nullptr) doc_.fail(path, "expected a provider name");
    std::string name(*text);
    if (policy_.provider(name) == nullptr)
      doc_.fail(path, "no provider named '" + name + "' in \"providers\"" +
                          did_you_mean(name, provider_names()));
    return name;
  }

  Chain chain(const json::value &value, const JsonPath &path, bool route) {
    Chain out;
    if (value.is_string()) {
      out.providers.push_back(provider_ref(value, path));
      return out;
    }
    if (value.is_array()) {
      chain_list(value.as_array(), path, out);
      return out;
    }
    const auto *object = value.if_object();
    if (object == nullptr)
      doc_.fail(path,
                "expected a provider name, a list of provider names, or an object with "
                "\"providers\"");
    check_fields(*object, path, route ? kRouteFields : kKeyFields);
    JsonPath providers_path = path;
    providers_path.emplace_back(std::string("providers"));
    const auto *providers = object->if_contains("providers");
    if (providers == nullptr) doc_.fail(path, "expected \"providers\"");
    if (providers->is_string())
      out.providers.push_back(provider_ref(*providers, providers_path));
    else if (providers->is_array())
      chain_list(providers->as_array(), providers_path, out);
    else
      doc_.fail(providers_path, "expected a provider name or a list of provider names");
    if (const auto *on = object->if_contains("on")) {
      JsonPath on_path = path;
      on_path.emplace_back(std::string("on"));
      if (!on->is_object())
        doc_.fail(on_path, "expected an object like {\"denied\": \"continue\"}");
      for (const auto &m : on->as_object()) {
        std::string status(m.key());
        JsonPath at = on_path;
        at.emplace_back(status);
        auto it = std::find(kStatusNames.begin(), kStatusNames.end(), status);
        if (it == kStatusNames.end())
          doc_.fail(at, "unknown status" + did_you_mean(status, kStatusNames));
        Code code = static_cast<Code>(1 + (it - kStatusNames.begin()));
        const auto *action = m.value().if_string();
        if (action == nullptr || (*action != "continue" && *action != "stop"))
          doc_.fail(at, "expected \"continue\" or \"stop\"");
        out.on[code] = *action == "continue" ? OnFailure::next : OnFailure::stop;
      }
    }
    return out;
  }

  void chain_list(const json::array &array, const JsonPath &path, Chain &out) {
    if (array.empty()) doc_.fail(path, "expected at least one provider");
    for (std::size_t i = 0; i < array.size(); ++i) {
      JsonPath at = path;
      at.emplace_back(i);
      std::string name = provider_ref(array[i], at);
      if (std::find(out.providers.begin(), out.providers.end(), name) != out.providers.end())
        doc_.fail(at, "provider '" + name + "' appears twice in the chain");
      out.providers.push_back(name);
    }
  }

  std::vector<std::string> key_list(const json::value &value, const JsonPath &path,
                                    const std::string &category) {
    std::vector<std::string> out;
    const auto *array = value.if_array();
    if (array == nullptr) doc_.fail(path, "expected a list of keys");
    for (std::size_t i = 0; i < array->size(); ++i) {
      JsonPath at = path;
      at.emplace_back(i);
      const auto *text = (*array)[i].if_string();
      if (text == nullptr) doc_.fail(at, "expected a key name");
      std::string key(*text);
      if (key != "*" &&
          (!is_canonical_key(key) || (category != "*" && category_of(key) != category)))
        doc_.fail(at, "'" + key + "' is not a key of category " + category +
                          " (expected Category.Name or \"*\")");
      out.push_back(key);
    }
    return out;
  }

  void parse_routes(const json::value &value) {
    const auto *object = value.if_object();
    if (object == nullptr) doc_.fail({"routes"}, "expected an object {\"Category\": provider}");
    for (const auto &m : *object) {
      std::string category(m.key());
      JsonPath path{std::string("routes"), category};
      bool valid = category == "*" ||
                   (!category.empty() && std::isalpha(static_cast<unsigned char>(category[0])) &&
                    std::all_of(category.begin(), category.end(), [](char c) {
                      return std::isalnum(static_cast<unsigned char>(c)) != 0;
                    }));
      if (!valid)
        doc_.fail(path, "'" + category + "' is not a category name (letters and digits) or \"*\"");
      Route route;
      route.chain = chain(m.value(), path, true);
      if (const auto *object_form = m.value().if_object()) {
        if (const auto *allow = object_form->if_contains("allow")) {
          JsonPath at = path;
          at.emplace_back(std::string("allow"));
          route.allow = key_list(*allow, at, category);
        }
        if (const auto *deny = object_form->if_contains("deny")) {
          JsonPath at = path;
          at.emplace_back(std::string("deny"));
          route.deny = key_list(*deny, at, category);
        }
      }
      policy_.routes[category] = std::move(route);
    }
  }

  void parse_keys(const json::value &value) {
    const auto *object = value.if_object();
    if (object == nullptr) doc_.fail({"keys"}, "expected an object {\"Category.Name\": provider}");
    for (const auto &m : *object) {
      std::string key(m.key());
      JsonPath path{std::string("keys"), key};
      if (!is_canonical_key(key))
        doc_.fail(path, "'" + key + "' is not a canonical key (Category.Name)");
      policy_.keys[key] = chain(m.value(), path, false);
    }
  }

  void parse_audit(const json::value &value) {
    const auto *object = value.if_object();
    if (object == nullptr) doc_.fail({"audit"}, "expected an object {\"file\": path}");
    check_fields(*object, {"audit"}, kAuditFields);
    AuditOptions audit;
    const auto *file = object->if_contains("file");
    if (file == nullptr || !file->is_string() || file->as_string().empty())
      doc_.fail({"audit"}, "expected \"file\": the audit log's path");
    std::filesystem::path path{std::string(file->as_string())};
    audit.file = path.is_absolute() ? path : policy_.base_directory / path;
    if (const auto *max = object->if_contains("max_bytes"))
      audit.max_bytes = static_cast<std::uint64_t>(positive(*max, {"audit", "max_bytes"}, true));
    if (const auto *keep = object->if_contains("keep")) {
      auto n = positive(*keep, {"audit", "keep"}, true);
      if (n > 1000) doc_.fail({"audit", "keep"}, "expected at most 1000 rotated files");
      audit.keep = static_cast<unsigned>(n);
    }
    policy_.audit = std::move(audit);
  }

  void parse_cache(const json::value &value) {
    const auto *object = value.if_object();
    if (object == nullptr) doc_.fail({"cache"}, "expected an object");
    check_fields(*object, {"cache"}, kCacheFields);
    auto seconds = [&](const char *field, std::chrono::milliseconds &out) {
      if (const auto *v = object->if_contains(field)) {
        JsonPath path{std::string("cache"), std::string(field)};
        double s = 0;
        if (v->is_int64())
          s = static_cast<double>(v->as_int64());
        else if (v->is_uint64())
          s = static_cast<double>(v->as_uint64());
        else if (v->is_double())
          s = v->as_double();
        else
          doc_.fail(path, "expected a number of seconds");
        if (s < 0) doc_.fail(path, "expected zero or more seconds");
        // Also refuses infinity: a cast of a value out of range is undefined.
        if (!(s * 1000 < kTwoTo63)) doc_.fail(path, "is too large a number of seconds");
        out = std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000));
      }
    };
    seconds("ttl_s", policy_.cache.ttl);
    seconds("refresh_ahead_s", policy_.cache.refresh_ahead);
    seconds("stale_if_error_s", policy_.cache.stale_if_error);
    seconds("negative_ttl_s", policy_.cache.negative_ttl);
    if (policy_.cache.refresh_ahead > policy_.cache.ttl)
      doc_.fail({"cache", "refresh_ahead_s"}, "must not exceed cache.ttl_s");
  }

  std::shared_ptr<const JsonDocument> document_;
  const JsonDocument &doc_;
  Policy &policy_;
};

}  // namespace

OnFailure default_action(Code code) {
  switch (code) {
    case Code::not_found:
    case Code::unavailable:
    case Code::timeout:
      return OnFailure::next;
    default:
      return OnFailure::stop;
  }
}

std::string ProviderSpec::where() const {
  return document ? document->where({std::string("providers"), name}) : std::string();
}

OnFailure Chain::action(Code code) const {
  auto it = on.find(code);
  return it != on.end() ? it->second : default_action(code);
}

const ProviderSpec *Policy::provider(const std::string &name) const {
  for (const auto &p : providers)
    if (p.name == name) return &p;
  return nullptr;
}

Policy parse_policy(const std::string &source, const std::string &text,
                    const std::filesystem::path &base_directory) {
  auto doc = std::make_shared<const JsonDocument>(source, text);
  Policy policy;
  policy.source = source;
  policy.base_directory = base_directory;
  Parser(doc, policy).run();
  return policy;
}

Policy read_policy(const std::filesystem::path &file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw Error(Code::invalid_config,
                file.string() + ": cannot read the policy file (" + std::strerror(errno) + ")");
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::path base = std::filesystem::absolute(file).parent_path();
  return parse_policy(file.string(), text.str(), base);
}

}  // namespace coffer::detail
