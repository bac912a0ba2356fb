#include "provider_settings.hpp"

#include <coffer/plugins.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <set>

#include "atomic_file.hpp"
#include "json_spans.hpp"

namespace coffer::admin {
namespace json = boost::json;
namespace {

json::value parse_policy_text(const std::string &text, const std::string &source) {
  json::parse_options options;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  boost::system::error_code ec;
  json::value value = json::parse(text, ec, {}, options);
  if (ec) throw Error(Code::invalid_config, source + ": " + ec.message());
  return value;
}

const json::object &providers_of(const json::value &policy) {
  static const json::object none;
  const auto *root = policy.if_object();
  if (root == nullptr) return none;
  const auto *providers = root->if_contains("providers");
  return providers != nullptr && providers->is_object() ? providers->as_object() : none;
}

std::string string_field(const json::object &config, std::string_view field) {
  const auto *value = config.if_contains(field);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

// The query parameter names of a URL ("a=1&b=2" -> {a, b}).
std::set<std::string> query_names(std::string_view url) {
  std::set<std::string> names;
  auto question = url.find('?');
  if (question == std::string_view::npos) return names;
  auto query = url.substr(question + 1);
  while (!query.empty()) {
    auto end = query.find('&');
    auto pair = query.substr(0, end);
    names.insert(std::string(pair.substr(0, pair.find('='))));
    query = end == std::string_view::npos ? std::string_view() : query.substr(end + 1);
  }
  return names;
}

std::string scheme_of(std::string_view url) {
  auto colon = url.find("://");
  return colon == std::string_view::npos ? std::string() : std::string(url.substr(0, colon));
}

// The host of an https URL, lower case.
std::string host_of(std::string_view url) {
  if (scheme_of(url) != "https") return {};
  auto rest = url.substr(8);
  auto end = rest.find_first_of(":/?#");
  std::string host(rest.substr(0, end));
  for (char &c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return host;
}

std::string_view vault_suffix(std::string_view cloud) {
  if (cloud == "china") return "vault.azure.cn";
  if (cloud == "usgovernment") return "vault.usgovcloudapi.net";
  if (cloud == "public" || cloud.empty()) return "vault.azure.net";
  return {};
}

bool within_suffix(std::string_view host, std::string_view suffix) {
  return host.size() > suffix.size() + 1 && host.ends_with(suffix) &&
         host[host.size() - suffix.size() - 1] == '.';
}

[[noreturn]] void refuse(const SettingChange &change, const std::string &why) {
  throw Error(Code::invalid_argument,
              "providers." + change.provider + ".config." + change.field + ": " + why);
}

// The edited policy text: the string value at providers.P.config.F replaced.
std::string replace_value(const std::string &text, const std::string &source,
                          const SettingChange &change, std::string &where) {
  using cli::detail::Node;
  Node root;
  try {
    std::size_t start = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
    root = cli::detail::Scanner(text, start).document();
  } catch (const cli::detail::SyntaxError &error) {
    throw Error(Code::invalid_config, source + ": " + error.message);
  }
  auto member = [&](const Node &node, std::string_view name) -> const Node * {
    if (node.kind != Node::Kind::object) return nullptr;
    const Node *found = nullptr;
    for (const auto &m : node.members)
      if (m.name == name) {
        if (found != nullptr) return nullptr;  // a duplicate: refuse to guess
        found = &m.value;
      }
    return found;
  };
  const Node *providers = member(root, "providers");
  const Node *provider = providers ? member(*providers, change.provider) : nullptr;
  const Node *config = provider ? member(*provider, "config") : nullptr;
  const Node *value = config ? member(*config, change.field) : nullptr;
  if (value == nullptr || value->kind != Node::Kind::string || value->escaped)
    refuse(change, "the policy file has no plain string there to change (edit it by hand)");
  std::size_t line =
      1 + static_cast<std::size_t>(std::count(
              text.begin(), text.begin() + static_cast<std::ptrdiff_t>(value->span.begin), '\n'));
  where = source + ":" + std::to_string(line) + ": providers." + change.provider + ".config." +
          change.field;
  return text.substr(0, value->span.begin) + cli::detail::quote(change.value) +
         text.substr(value->span.end);
}

// The edited policy with only `provider` in it, routed everything: its own
// validation when opened.
std::string alone(const json::value &policy, const std::string &provider) {
  json::object root;
  for (const char *kept : {"coffer", "plugin_dirs", "catalogs", "builtin_catalog"})
    if (const auto *value = policy.as_object().if_contains(kept)) root[kept] = *value;
  root["providers"] = json::object{{provider, providers_of(policy).at(provider)}};
  root["routes"] = json::object{{"*", provider}};
  root["on_open_failure"] = "fail";
  return json::serialize(root);
}

}  // namespace

std::string redact_database_url(std::string_view url) {
  std::string out;
  if (url.find("://") == std::string_view::npos) {
    // libpq key/value conninfo: drop the password pair, quoted or not.
    std::size_t at = 0;
    while (at < url.size()) {
      while (at < url.size() && url[at] == ' ') ++at;
      std::size_t start = at;
      bool quoted = false;
      while (at < url.size() && (quoted || url[at] != ' ')) {
        if (url[at] == '\\' && at + 1 < url.size()) {
          at += 2;
          continue;
        }
        if (url[at] == '\'') quoted = !quoted;
        ++at;
      }
      auto pair = url.substr(start, at - start);
      std::string key(pair.substr(0, pair.find('=')));
      while (!key.empty() && key.back() == ' ') key.pop_back();
      if (pair.empty() || key == "password") continue;
      if (!out.empty()) out += ' ';
      out += pair;
    }
    return out;
  }
  auto scheme_end = url.find("://") + 3;
  auto authority_end = url.find_first_of("/?#", scheme_end);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  auto authority = url.substr(scheme_end, authority_end - scheme_end);
  out = std::string(url.substr(0, scheme_end));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    auto userinfo = authority.substr(0, at);
    out += std::string(userinfo.substr(0, userinfo.find(':'))) + "@";
    out += authority.substr(at + 1);
  } else {
    out += authority;
  }
  auto rest = url.substr(authority_end);
  auto question = rest.find('?');
  out += rest.substr(0, question);
  if (question != std::string_view::npos) {
    auto query = rest.substr(question + 1);
    std::string kept;
    while (!query.empty()) {
      auto end = query.find('&');
      auto pair = query.substr(0, end);
      if (pair.substr(0, pair.find('=')) != "password" && !pair.empty())
        kept += (kept.empty() ? "" : "&") + std::string(pair);
      query = end == std::string_view::npos ? std::string_view() : query.substr(end + 1);
    }
    if (!kept.empty()) out += "?" + kept;
  }
  return out;
}

json::object provider_settings(const std::filesystem::path &policy_file) {
  json::value policy = parse_policy_text(read_policy_file(policy_file), policy_file.string());
  json::object out;
  for (const auto &[name, spec] : providers_of(policy)) {
    const auto *object = spec.if_object();
    if (object == nullptr) continue;
    std::string plugin = string_field(*object, "plugin");
    const auto *config_value = object->if_contains("config");
    json::object config = config_value != nullptr && config_value->is_object()
                              ? config_value->as_object()
                              : json::object();
    json::object shown;
    if (plugin == "azure_keyvault") {
      for (const char *field : {"vault_name", "cloud", "vault_url"})
        if (config.contains(field)) shown[field] = string_field(config, field);
      if (const auto *layout = config.if_contains("layout"))
        shown["layout"] =
            layout->is_string() ? std::string(layout->as_string()) : json::serialize(*layout);
    } else if (plugin == "database") {
      shown["url"] = redact_database_url(string_field(config, "url"));
    } else if (plugin == "env_file") {
      for (const char *field : {"path", "prefix", "source"})
        if (config.contains(field)) shown[field] = string_field(config, field);
      if (const auto *writable = config.if_contains("writable"); writable && writable->is_bool())
        shown["writable"] = writable->as_bool() ? "true" : "false";
    }
    out[name] = std::move(shown);
  }
  return out;
}

void check_setting_change(const std::string &plugin, const json::object &config,
                          const SettingChange &change) {
  if (change.value.empty() || change.value.size() > 2048)
    refuse(change, "the value must be 1 to 2048 bytes");
  if (plugin == "azure_keyvault") {
    if (change.field == "vault_name" || change.field == "cloud") return;  // the provider checks
    if (change.field == "vault_url") {
      std::string cloud = string_field(config, "cloud");
      if (cloud.empty()) {
        std::string old_host = host_of(string_field(config, "vault_url"));
        for (const char *known : {"china", "usgovernment", "public"})
          if (within_suffix(old_host, vault_suffix(known))) {
            cloud = known;
            break;
          }
      }
      std::string_view suffix = vault_suffix(cloud);
      if (!within_suffix(host_of(change.value), suffix))
        refuse(change, "a vault URL must be https://NAME." + std::string(suffix) +
                           "/ (the configured cloud's vault domain)");
      return;
    }
  } else if (plugin == "database" && change.field == "url") {
    std::string old_url = string_field(config, "url");
    std::string scheme = scheme_of(old_url);
    if (scheme.starts_with("sqlite"))
      refuse(change,
             "a SQLite path is not changed from the panel (checking it would create the "
             "file); edit the policy by hand");
    if (scheme.empty() || scheme_of(change.value) != scheme)
      refuse(change, "the URL must keep its scheme (" +
                         (scheme.empty() ? std::string("a conninfo string") : scheme + "://") +
                         ")");
    auto before = query_names(old_url);
    for (const auto &name : query_names(change.value))
      if (before.count(name) == 0)
        refuse(change, "the URL may not gain the parameter '" + name + "'");
    return;
  }
  refuse(change, "this setting is not edited from the panel (" + plugin + ")");
}

std::string apply_setting_change(Store &store, const std::filesystem::path &policy_file,
                                 const StoreOptions &check_options, const SettingChange &change) {
  std::string source = policy_file.string();
  std::string text = read_policy_file(policy_file);
  json::value policy = parse_policy_text(text, source);
  const auto &providers = providers_of(policy);
  const auto *spec = providers.if_contains(change.provider);
  if (spec == nullptr || !spec->is_object())
    throw Error(Code::invalid_argument,
                "the policy has no provider named '" + change.provider + "'");
  const auto *config = spec->as_object().if_contains("config");
  check_setting_change(
      string_field(spec->as_object(), "plugin"),
      config != nullptr && config->is_object() ? config->as_object() : json::object(), change);
  std::string where;
  std::string edited = replace_value(text, source, change, where);
  json::value edited_policy = parse_policy_text(edited, source);
  auto base = std::filesystem::absolute(policy_file).parent_path();
  StoreOptions options = check_options;
  options.log_level = LogLevel::error;
  options.observer = nullptr;
  options.watch_policy = false;
  options.open_failures = OpenFailures::fail;
  try {
    Store provider_alone = Store::from_string(alone(edited_policy, change.provider), options, base);
  } catch (const Error &error) {
    throw Error(Code::invalid_argument,
                "provider '" + change.provider + "' refuses the setting: " + error.what());
  }
  try {
    options.open_failures = check_options.open_failures;
    Store whole = Store::from_string(edited, options, base);
  } catch (const Error &error) {
    throw Error(Code::invalid_config,
                std::string("the edited policy does not load: ") + error.what());
  }
  try {
    cli::replace_file_atomically(policy_file, edited);
  } catch (const std::exception &error) {
    throw Error(Code::unavailable, error.what());
  }
  store.reload();
  return where;
}

}  // namespace coffer::admin
