#include "config.hpp"

#include "key_mapping.hpp"

#include <coffer/provider.hpp>
#include <coffer/provider_helpers.hpp>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <numeric>
#include <vector>

namespace coffer::env_file {
namespace {

using coffer::provider::Error;

constexpr std::array<std::string_view, 6> kFields = {"path",     "source",          "prefix",
                                                     "writable", "require_private", "expand"};

[[noreturn]] void fail(const std::string &message) {
  throw Error(COFFER_STATUS_INVALID_CONFIG, message);
}

bool boolean(const boost::json::object &config, std::string_view field) {
  const boost::json::value *value = config.if_contains(field);
  if (value == nullptr) return false;
  if (!value->is_bool()) fail("'" + std::string(field) + "' must be true or false");
  return value->get_bool();
}

const boost::json::string *text(const boost::json::object &config, std::string_view field) {
  const boost::json::value *value = config.if_contains(field);
  if (value == nullptr) return nullptr;
  if (!value->is_string()) fail("'" + std::string(field) + "' must be a string");
  // A NUL would cut the text short where it becomes a path.
  if (value->get_string().find('\0') != boost::json::string::npos)
    fail("'" + std::string(field) + "' must not contain a NUL character (\\u0000)");
  return &value->get_string();
}

}  // namespace

Config parse_config(std::string_view json, const std::filesystem::path &base_directory) {
  boost::system::error_code error;
  boost::json::value root = boost::json::parse(json.empty() ? std::string_view("{}") : json, error);
  if (error) fail("the config is not valid JSON: " + error.message());
  if (!root.is_object()) fail("the config must be a JSON object");
  const boost::json::object &object = root.get_object();
  for (const auto &member : object) {
    std::string_view name = member.key();
    if (std::find(kFields.begin(), kFields.end(), name) == kFields.end())
      fail("unknown field '" + std::string(name) + "'" +
           coffer::provider::did_you_mean(name, kFields) +
           "; the fields are path, source, prefix, writable, require_private and expand");
  }

  Config config;
  if (const auto *source = text(object, "source")) {
    if (*source == "environment")
      config.source = SourceKind::environment;
    else if (*source != "file")
      fail("'source' must be \"file\" or \"environment\"");
  }
  if (const auto *prefix = text(object, "prefix")) {
    config.prefix = std::string(*prefix);
    if (!is_valid_prefix(config.prefix))
      fail(
          "'prefix' must be a valid start of a shell variable name: a letter or '_', then "
          "letters, digits and '_'");
  }
  config.writable = boolean(object, "writable");
  config.require_private = boolean(object, "require_private");
  config.expand = boolean(object, "expand");

  const auto *path = text(object, "path");
  if (config.source == SourceKind::environment) {
    if (path != nullptr) fail("'path' has no meaning with \"source\": \"environment\"");
    if (config.writable) fail("'writable' cannot be true with \"source\": \"environment\"");
    if (config.require_private)
      fail(
          "'require_private' applies to files; it cannot be true with \"source\": "
          "\"environment\"");
    if (config.expand)
      fail("'expand' applies to files; it cannot be true with \"source\": \"environment\"");
    return config;
  }
  if (path == nullptr || path->empty())
    fail("'path' is required: the env file to read (relative to the policy file's directory)");
  std::filesystem::path file{std::string_view(*path)};
  if (file.is_relative()) {
    std::filesystem::path base =
        base_directory.empty() ? std::filesystem::current_path() : base_directory;
    file = base / file;
  }
  config.path = file.lexically_normal();
  return config;
}

}  // namespace coffer::env_file
