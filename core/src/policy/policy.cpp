#include "policy/policy.hpp"

#include <coffer/catalog.hpp>
#include <coffer/config_fields.hpp>
#include <coffer/plugins.hpp>
#include <coffer/provider_helpers.hpp>

#include <boost/json.hpp>

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <regex>
#include <set>

#include "base/json_text.hpp"
#include "base/trusted_file.hpp"

namespace coffer::detail {
namespace {

using coffer::provider::did_you_mean;

namespace json = boost::json;

const std::vector<std::string> kTopFields = {
    "coffer", "plugin_dirs", "catalogs", "builtin_catalog", "providers", "routes", "keys",
    "cache",  "timeout_ms",  "audit",    "on_open_failure", "clients",   "helpers"};
const std::vector<std::string> kClientFields = {"uids", "gids", "allow", "deny"};
const std::vector<std::string> kHelperTools = {"git", "docker"};
const std::vector<std::string> kGitHelperFields = {"url", "username", "username_key", "secret"};
const std::vector<std::string> kDockerHelperFields = {"server", "username", "username_key",
                                                      "secret"};
const std::vector<std::string> kAuditFields = {"file", "max_bytes", "keep", "fail_closed"};
const std::vector<std::string> kProviderFields = {"plugin", "config", "sha256"};
const std::vector<std::string> kRouteFields = {"providers", "on", "allow", "deny"};
const std::vector<std::string> kKeyFields = {"providers", "on"};
const std::vector<std::string> kCacheFields = {"ttl_s", "refresh_ahead_s", "stale_if_error_s",
                                               "negative_ttl_s"};

// The ranges numbers must lie in (docs/policy.md, "Limits"). A number is
// checked before it is converted, so a huge one is an error, never a wrapped
// or undefined value.
struct Range {
  std::int64_t min;
  std::int64_t max;
  const char *unit;
};
constexpr std::int64_t kDay = 24 * 3600;
constexpr Range kTimeoutMs{1, 3600 * 1000, "milliseconds"};
constexpr Range kAuditBytes{0, std::int64_t(1) << 40, "bytes"};
constexpr Range kAuditKeep{0, 1000, "rotated files"};
// Seconds in the cache settings may have a fractional part (milliseconds).
constexpr Range kTtlSeconds{0, 30 * kDay, "seconds"};
constexpr Range kStaleSeconds{0, 30 * kDay, "seconds"};
constexpr Range kNegativeTtlSeconds{0, kDay, "seconds"};
constexpr std::size_t kPolicyMaxBytes = 1 << 20;
// (uid_t)-1 means "no id" to the kernel: never a peer's.
constexpr Range kUserIds{0, 4294967294, "user ids"};
constexpr Range kGroupIds{0, 4294967294, "group ids"};

// Provider and client names: a letter, then letters, digits, '_' or '-'.
bool valid_name(const std::string &name) {
  static const std::regex valid("[A-Za-z][A-Za-z0-9_-]{0,63}");
  return std::regex_match(name, valid);
}

bool valid_category(std::string_view category) {
  return !category.empty() && std::isalpha(static_cast<unsigned char>(category[0])) &&
         std::all_of(category.begin(), category.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

enum class IdKind { user, group };

// Looks a user or group name up in the system's databases (files, LDAP, ...
// as nsswitch says). nullopt: no such name; throws Error for a failed lookup.
std::optional<std::uint32_t> look_up_id(IdKind kind, const std::string &name) {
  long hint = ::sysconf(kind == IdKind::user ? _SC_GETPW_R_SIZE_MAX : _SC_GETGR_R_SIZE_MAX);
  std::vector<char> buffer(hint > 0 ? static_cast<std::size_t>(hint) : 4096);
  for (;;) {
    int error = 0;
    bool found = false;
    std::uint32_t id = 0;
    if (kind == IdKind::user) {
      struct passwd entry {};
      struct passwd *result = nullptr;
      error = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &result);
      found = result != nullptr;
      if (found) id = static_cast<std::uint32_t>(entry.pw_uid);
    } else {
      struct group entry {};
      struct group *result = nullptr;
      error = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &result);
      found = result != nullptr;
      if (found) id = static_cast<std::uint32_t>(entry.gr_gid);
    }
    if (found) return id;
    if (error == ERANGE && buffer.size() < (std::size_t(1) << 24)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    // Not found is 0 or one of these, depending on the name service.
    if (error == 0 || error == ENOENT || error == ESRCH || error == EBADF || error == EPERM)
      return std::nullopt;
    throw Error(Code::invalid_config, std::strerror(error));
  }
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
    if (const auto *builtin = root->if_contains("builtin_catalog")) {
      if (!builtin->is_bool()) doc_.fail({"builtin_catalog"}, "expected true or false");
      policy_.builtin_catalog = builtin->as_bool();
    }
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
      policy_.timeout = std::chrono::milliseconds(whole(*timeout, {"timeout_ms"}, kTimeoutMs));
    if (const auto *audit = root->if_contains("audit")) parse_audit(*audit);
    if (const auto *mode = root->if_contains("on_open_failure")) {
      if (!mode->is_string() || (mode->as_string() != "isolate" && mode->as_string() != "fail"))
        doc_.fail({"on_open_failure"}, "expected \"isolate\" or \"fail\"");
      policy_.isolate_open_failures = mode->as_string() == "isolate";
    }
    if (const auto *clients = root->if_contains("clients")) parse_clients(*clients);
    if (const auto *helpers = root->if_contains("helpers")) parse_helpers(*helpers);
  }

 private:
  // An unknown field is reported by the SDK's rule and wording, at its line
  // and column.
  void check_fields(const json::object &object, const JsonPath &path,
                    const std::vector<std::string> &known) {
    try {
      (void)coffer::provider::ConfigFields(object, known);
    } catch (const coffer::provider::ConfigError &error) {
      JsonPath at = path;
      for (const std::string &name : error.path()) at.emplace_back(name);
      doc_.fail(at, error.what());
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

  [[noreturn]] void out_of_range(const JsonPath &path, const Range &range, const char *kind) {
    if (range.min == 0)
      doc_.fail(path, std::string("expected ") + kind + ", zero or more and at most " +
                          std::to_string(range.max) + " (" + range.unit + ")");
    doc_.fail(path, std::string("expected ") + kind + " from " + std::to_string(range.min) +
                        " to " + std::to_string(range.max) + " (" + range.unit + ")");
  }

  // A whole number within `range`; 5.0 counts as whole, 5.5 and 1e300 do not.
  std::int64_t whole(const json::value &value, const JsonPath &path, const Range &range) {
    if (value.is_int64() && value.as_int64() >= range.min && value.as_int64() <= range.max)
      return value.as_int64();
    if (value.is_double()) {
      double d = value.as_double();
      if (d >= static_cast<double>(range.min) && d <= static_cast<double>(range.max) &&
          d == static_cast<double>(static_cast<std::int64_t>(d)))
        return static_cast<std::int64_t>(d);
    }
    out_of_range(path, range, "a whole number");
  }

  // A number of seconds within `range`, to the millisecond.
  std::chrono::milliseconds seconds(const json::value &value, const JsonPath &path,
                                    const Range &range) {
    double s = -1;
    if (value.is_int64())
      s = static_cast<double>(value.as_int64());
    else if (value.is_uint64())
      s = static_cast<double>(value.as_uint64());
    else if (value.is_double())
      s = value.as_double();
    else
      doc_.fail(path, "expected a number of seconds");
    // NaN fails both comparisons.
    if (!(s >= static_cast<double>(range.min) && s <= static_cast<double>(range.max)))
      out_of_range(path, range, "a number");
    return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000));
  }

  void parse_provider(const json::key_value_pair &member) {
    std::string name(member.key());
    JsonPath path{std::string("providers"), name};
    if (!valid_name(name))
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
        // Any failure's name: every code but "ok".
        const auto failures = code_names().subspan(1);
        std::optional<Code> named = code_named(status);
        if (!named || *named == Code::ok)
          doc_.fail(at, "unknown status" + did_you_mean(status, failures));
        Code code = *named;
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
      if (category != "*" && !valid_category(category))
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
      audit.max_bytes =
          static_cast<std::uint64_t>(whole(*max, {"audit", "max_bytes"}, kAuditBytes));
    if (const auto *keep = object->if_contains("keep"))
      audit.keep = static_cast<unsigned>(whole(*keep, {"audit", "keep"}, kAuditKeep));
    if (const auto *closed = object->if_contains("fail_closed")) {
      if (!closed->is_bool()) doc_.fail({"audit", "fail_closed"}, "expected true or false");
      audit.fail_closed = closed->as_bool();
    }
    policy_.audit = std::move(audit);
  }

  void parse_cache(const json::value &value) {
    const auto *object = value.if_object();
    if (object == nullptr) doc_.fail({"cache"}, "expected an object");
    check_fields(*object, {"cache"}, kCacheFields);
    auto field = [&](const char *name, const Range &range, std::chrono::milliseconds &out) {
      const auto *v = object->if_contains(name);
      if (v != nullptr) out = seconds(*v, {std::string("cache"), std::string(name)}, range);
      return v != nullptr;
    };
    CacheSettings &cache = policy_.cache;
    field("ttl_s", kTtlSeconds, cache.ttl);
    // Unset, the refresh window follows the TTL: a tenth of it, at most 30 s
    // (300 s -> 30 s as before; 10 s -> 1 s; 0, no cache, -> 0).
    if (!field("refresh_ahead_s", kTtlSeconds, cache.refresh_ahead))
      cache.refresh_ahead = std::min(cache.refresh_ahead, cache.ttl / 10);
    field("stale_if_error_s", kStaleSeconds, cache.stale_if_error);
    field("negative_ttl_s", kNegativeTtlSeconds, cache.negative_ttl);
    if (cache.refresh_ahead > cache.ttl)
      doc_.fail({"cache", "refresh_ahead_s"}, "must not exceed cache.ttl_s");
  }

  static JsonPath child(JsonPath path, std::variant<std::string, std::size_t> step) {
    path.push_back(std::move(step));
    return path;
  }

  void parse_clients(const json::value &value) {
    const auto *object = value.if_object();
    if (object == nullptr)
      doc_.fail({"clients"}, "expected an object {\"name\": {\"uids\": [...], \"allow\": [...]}}");
    policy_.has_clients = true;
    for (const auto &member : *object) {
      std::string name(member.key());
      JsonPath path{std::string("clients"), name};
      if (!valid_name(name))
        doc_.fail(path, "client name '" + name +
                            "' must start with a letter and use letters, digits, '_' or '-'");
      const auto *entry = member.value().if_object();
      if (entry == nullptr)
        doc_.fail(path,
                  "expected an object {\"uids\": [...], \"gids\": [...], \"allow\": [...], "
                  "\"deny\": [...]}");
      check_fields(*entry, path, kClientFields);
      Client client;
      client.name = name;
      if (const auto *uids = entry->if_contains("uids"))
        client.uids = ids(*uids, child(path, std::string("uids")), IdKind::user);
      if (const auto *gids = entry->if_contains("gids"))
        client.gids = ids(*gids, child(path, std::string("gids")), IdKind::group);
      const auto *allow = entry->if_contains("allow");
      if (allow == nullptr)
        doc_.fail(path,
                  "expected \"allow\": the keys the client may read (\"*\", "
                  "\"Category.*\" or Category.Name; [] for none)");
      client.allow = patterns(*allow, child(path, std::string("allow")));
      if (const auto *deny = entry->if_contains("deny"))
        client.deny = patterns(*deny, child(path, std::string("deny")));
      policy_.clients.push_back(std::move(client));
    }
  }

  // User or group ids: numbers, or names resolved now.
  std::vector<std::uint32_t> ids(const json::value &value, const JsonPath &path, IdKind kind) {
    const char *what = kind == IdKind::user ? "user" : "group";
    const char *id = kind == IdKind::user ? "uid" : "gid";
    const auto *array = value.if_array();
    if (array == nullptr)
      doc_.fail(path,
                std::string("expected a list of ") + what + " ids (numbers) or " + what + " names");
    std::vector<std::uint32_t> out;
    for (std::size_t i = 0; i < array->size(); ++i) {
      JsonPath at = child(path, i);
      const json::value &element = (*array)[i];
      std::uint32_t number = 0;
      if (const auto *name = element.if_string()) {
        std::string text(*name);
        if (text.empty()) doc_.fail(at, std::string("expected a ") + what + " name");
        std::optional<std::uint32_t> found;
        try {
          found = look_up_id(kind, text);
        } catch (const Error &e) {
          doc_.fail(at, std::string("cannot look up the ") + what + " '" + text + "': " + e.what());
        }
        if (!found) {
          bool digits =
              std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
          doc_.fail(at, std::string("no ") + what + " named '" + text + "' on this system" +
                            (digits ? " (write a numeric id without quotes)" : ""));
        }
        number = *found;
      } else if (element.is_number()) {
        number = static_cast<std::uint32_t>(
            whole(element, at, kind == IdKind::user ? kUserIds : kGroupIds));
      } else {
        doc_.fail(at, std::string("expected a ") + what + " id (a number) or a " + what + " name");
      }
      if (std::find(out.begin(), out.end(), number) != out.end())
        doc_.fail(at, std::string(id) + " " + std::to_string(number) + " is named twice in " +
                          to_string(path));
      out.push_back(number);
    }
    return out;
  }

  // Key patterns: "*", "Category.*" or a canonical key.
  std::vector<std::string> patterns(const json::value &value, const JsonPath &path) {
    const auto *array = value.if_array();
    if (array == nullptr)
      doc_.fail(path, "expected a list of keys (\"*\", \"Category.*\" or Category.Name)");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < array->size(); ++i) {
      JsonPath at = child(path, i);
      const auto *text = (*array)[i].if_string();
      if (text == nullptr) doc_.fail(at, "expected a key pattern (a string)");
      std::string pattern(*text);
      bool category = pattern.size() > 2 && pattern.ends_with(".*") &&
                      valid_category(std::string_view(pattern).substr(0, pattern.size() - 2));
      if (pattern != "*" && !category && !is_canonical_key(pattern))
        doc_.fail(at, "'" + pattern +
                          "' is not a key pattern: expected \"*\", \"Category.*\" or "
                          "Category.Name");
      if (std::find(out.begin(), out.end(), pattern) != out.end())
        doc_.fail(at, "'" + pattern + "' appears twice in " + to_string(path));
      out.push_back(std::move(pattern));
    }
    return out;
  }

  void parse_helpers(const json::value &value) {
    const auto *object = value.if_object();
    if (object == nullptr)
      doc_.fail({"helpers"}, "expected an object {\"git\": [...], \"docker\": [...]}");
    check_fields(*object, {"helpers"}, kHelperTools);
    for (const auto &member : *object) {
      std::string tool(member.key());
      JsonPath path{std::string("helpers"), tool};
      const auto *array = member.value().if_array();
      if (array == nullptr) doc_.fail(path, "expected a list of entries");
      auto &entries = policy_.helpers[tool];
      for (std::size_t i = 0; i < array->size(); ++i) {
        HelperEntry entry = helper(tool, (*array)[i], child(path, i));
        for (std::size_t j = 0; j < entries.size(); ++j)
          if (entries[j].match == entry.match)
            doc_.fail(child(path, i),
                      "'" + entry.match + "' is already matched by " + to_string(child(path, j)));
        entries.push_back(std::move(entry));
      }
    }
  }

  HelperEntry helper(const std::string &tool, const json::value &value, const JsonPath &path) {
    bool git = tool == "git";
    const char *match_field = git ? "url" : "server";
    const auto *object = value.if_object();
    if (object == nullptr)
      doc_.fail(path, git ? "expected an object {\"url\": ..., \"username\": ..., "
                            "\"secret\": \"Category.Name\"}"
                          : "expected an object {\"server\": ..., \"username\": ..., "
                            "\"secret\": \"Category.Name\"}");
    check_fields(*object, path, git ? kGitHelperFields : kDockerHelperFields);
    HelperEntry entry;
    const auto *match = object->if_contains(match_field);
    if (match == nullptr || !match->is_string())
      doc_.fail(path, git ? "expected \"url\": scheme://host[:port][/path]"
                          : "expected \"server\": a registry host[:port] or URL");
    entry.match = std::string(match->as_string());
    if (std::string problem = helper_match_problem(entry.match, git); !problem.empty())
      doc_.fail(child(path, std::string(match_field)), "'" + entry.match + "': " + problem);
    const auto *username = object->if_contains("username");
    const auto *username_key = object->if_contains("username_key");
    if (username != nullptr && username_key != nullptr)
      doc_.fail(path, "give either \"username\" or \"username_key\", not both");
    if (username == nullptr && username_key == nullptr)
      doc_.fail(path,
                "expected \"username\" (the user name) or \"username_key\" (the key holding it)");
    if (username != nullptr) {
      const auto *text = username->if_string();
      if (text == nullptr || text->empty() || std::any_of(text->begin(), text->end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
          }))
        doc_.fail(child(path, std::string("username")),
                  "expected a non-empty user name without control characters");
      entry.username = std::string(*text);
    } else {
      entry.username_key = helper_key(*username_key, child(path, std::string("username_key")));
    }
    const auto *secret = object->if_contains("secret");
    if (secret == nullptr)
      doc_.fail(path, "expected \"secret\": the key holding the password or token");
    entry.secret_key = helper_key(*secret, child(path, std::string("secret")));
    return entry;
  }

  std::string helper_key(const json::value &value, const JsonPath &path) {
    const auto *text = value.if_string();
    if (text == nullptr || !is_canonical_key(*text))
      doc_.fail(path, "expected a canonical key (Category.Name)");
    return std::string(*text);
  }

  // Why a helper's url (git) or server (docker) is not acceptable; empty when it is.
  static std::string helper_match_problem(const std::string &text, bool git) {
    static const std::regex scheme("[A-Za-z][A-Za-z0-9+.-]*");
    static const std::regex host_port(
        "(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?");
    if (std::any_of(text.begin(), text.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
      return "must not contain spaces or control characters";
    if (text.find_first_of("?#") != std::string::npos) return "must not have a query or fragment";
    std::string rest = text;
    if (auto at = text.find("://"); at != std::string::npos) {
      if (!std::regex_match(text.substr(0, at), scheme)) return "has no valid scheme";
      rest = text.substr(at + 3);
    } else if (git) {
      return "expected scheme://host[:port][/path]";
    }
    std::string authority = rest.substr(0, rest.find('/'));
    if (authority.find('@') != std::string::npos)
      return "must not carry user info (user@): give the user name in \"username\" or "
             "\"username_key\"";
    if (!std::regex_match(authority, host_port)) return "expected a host[:port]";
    if (auto colon = authority.rfind(':'); colon != std::string::npos && authority.back() != ']' &&
                                           std::stoul(authority.substr(colon + 1)) > 65535)
      return "the port is not between 0 and 65535";
    return {};
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

const Client *Policy::client(std::string_view name) const {
  for (const auto &c : clients)
    if (c.name == name) return &c;
  return nullptr;
}

const ProviderSpec *Policy::provider(const std::string &name) const {
  for (const auto &p : providers)
    if (p.name == name) return &p;
  return nullptr;
}

void check_policy_keys(const Policy &policy, const Catalog &catalog, bool allow_unknown_keys) {
  if (allow_unknown_keys || !policy.document) return;
  const JsonDocument &doc = *policy.document;
  auto check_key = [&](const std::string &key, const JsonPath &path) {
    if (catalog.contains(key)) return;
    auto near = catalog.nearest(key);
    doc.fail(path, "no catalog has the key '" + key + "'" +
                       (near ? " (did you mean '" + *near + "'?)" : std::string()));
  };
  std::vector<std::string> categories = catalog.categories();
  auto check_patterns = [&](const std::vector<std::string> &patterns, const JsonPath &path) {
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      JsonPath at = path;
      at.emplace_back(i);
      const std::string &pattern = patterns[i];
      if (pattern == "*") continue;
      if (!pattern.ends_with(".*")) {
        check_key(pattern, at);
        continue;
      }
      std::string category = pattern.substr(0, pattern.size() - 2);
      if (std::find(categories.begin(), categories.end(), category) == categories.end())
        doc.fail(at, "no catalog has the category '" + category + "'" +
                         did_you_mean(category, categories));
    }
  };
  for (const auto &client : policy.clients) {
    check_patterns(client.allow, {std::string("clients"), client.name, std::string("allow")});
    check_patterns(client.deny, {std::string("clients"), client.name, std::string("deny")});
  }
  for (const auto &[tool, entries] : policy.helpers) {
    for (std::size_t i = 0; i < entries.size(); ++i) {
      JsonPath at{std::string("helpers"), tool, i};
      if (!entries[i].username_key.empty()) {
        JsonPath field = at;
        field.emplace_back(std::string("username_key"));
        check_key(entries[i].username_key, field);
      }
      at.emplace_back(std::string("secret"));
      check_key(entries[i].secret_key, at);
    }
  }
}

Policy parse_policy(const std::string &source, const std::string &text,
                    const std::filesystem::path &base_directory) {
  auto doc = std::make_shared<const JsonDocument>(source, text);
  Policy policy;
  policy.source = source;
  policy.base_directory = base_directory;
  policy.document = doc;
  Parser(doc, policy).run();
  return policy;
}

}  // namespace coffer::detail

std::string coffer::read_policy_file(const std::filesystem::path &file) {
  return detail::read_trusted_file(file, {"policy file", detail::kPolicyMaxBytes});
}

namespace coffer::detail {

Policy read_policy(const std::filesystem::path &file) {
  std::string text = read_policy_file(file);
  std::filesystem::path base = std::filesystem::absolute(file).parent_path();
  return parse_policy(file.string(), text, base);
}

}  // namespace coffer::detail
