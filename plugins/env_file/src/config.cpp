#include "config.hpp"

#include "key_mapping.hpp"

#include <coffer/config_fields.hpp>
#include <coffer/provider.hpp>

#include <array>

namespace coffer::env_file {
namespace {

using coffer::provider::ConfigFields;

constexpr std::array<std::string_view, 6> kFields = {"path",     "source",          "prefix",
                                                     "writable", "require_private", "expand"};

}  // namespace

Config parse_config(std::string_view json, const std::filesystem::path &base_directory) {
  const boost::json::value root = coffer::provider::parse_config_text(json);
  const ConfigFields fields(root, kFields);

  Config config;
  if (auto source = fields.string("source")) {
    if (*source == "environment")
      config.source = SourceKind::environment;
    else if (*source != "file")
      fields.fail("source", "must be \"file\" or \"environment\"");
  }
  if (auto prefix = fields.string("prefix")) {
    config.prefix = *prefix;
    if (!is_valid_prefix(config.prefix))
      fields.fail("prefix",
                  "must be a valid start of a shell variable name: a letter or '_', then "
                  "letters, digits and '_'");
  }
  config.writable = fields.boolean("writable").value_or(false);
  config.require_private = fields.boolean("require_private").value_or(false);
  config.expand = fields.boolean("expand").value_or(false);

  const auto path = fields.string("path");
  if (config.source == SourceKind::environment) {
    const std::string environment = "with \"source\": \"environment\"";
    if (path) fields.fail("path", "has no meaning " + environment);
    if (config.writable) fields.fail("writable", "cannot be true " + environment);
    if (config.require_private)
      fields.fail("require_private", "applies to files; it cannot be true " + environment);
    if (config.expand) fields.fail("expand", "applies to files; it cannot be true " + environment);
    return config;
  }
  if (!path || path->empty())
    fields.missing("path", ": the env file to read (relative to the policy file's directory)");
  std::filesystem::path file{*path};
  if (file.is_relative()) {
    std::filesystem::path base =
        base_directory.empty() ? std::filesystem::current_path() : base_directory;
    file = base / file;
  }
  config.path = file.lexically_normal();
  return config;
}

}  // namespace coffer::env_file
