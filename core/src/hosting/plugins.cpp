#include <dlfcn.h>
#include <sys/auxv.h>
#include <coffer/error.hpp>
#include <coffer/plugins.hpp>

#include <algorithm>
#include <cstdlib>

#include "hosting/plugin_library.hpp"

namespace coffer {

std::uint32_t abi_version() noexcept {
  return COFFER_ABI_VERSION;
}

const char *library_version() noexcept {
  return COFFER_VERSION;
}

namespace {

// Any object of libcoffer, to ask the dynamic linker where the library is.
const char kLibraryAnchor = 0;

// The plugin directory of the installation this libcoffer belongs to, found
// from the library's own file (COFFER_PLUGIN_DIR_FROM_LIBRARY is the plugin
// directory relative to the library's directory), so that an installation
// moved to another prefix finds its own plugins. Empty when it cannot tell.
std::filesystem::path plugin_dir_beside_library() {
  Dl_info info{};
  if (::dladdr(&kLibraryAnchor, &info) == 0 || info.dli_fname == nullptr) return {};
  std::filesystem::path library(info.dli_fname);
  if (!library.is_absolute()) return {};
  return (library.parent_path() / COFFER_PLUGIN_DIR_FROM_LIBRARY).lexically_normal();
}

void add_once(std::vector<std::filesystem::path> &dirs, std::filesystem::path dir) {
  if (dir.empty()) return;
  if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(std::move(dir));
}

}  // namespace

std::vector<std::filesystem::path> default_plugin_dirs() {
  std::vector<std::filesystem::path> dirs;
  // A setuid or setgid process must not let its caller choose code to load.
  bool privileged = ::getauxval(AT_SECURE) != 0;
  if (!privileged) {
    if (const char *env = std::getenv("COFFER_PLUGIN_PATH"); env != nullptr) {
      std::string_view rest(env);
      while (!rest.empty()) {
        auto colon = rest.find(':');
        std::string_view part = rest.substr(0, colon);
        if (!part.empty()) dirs.emplace_back(std::string(part));
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
      }
    }
  }
  add_once(dirs, plugin_dir_beside_library());
  add_once(dirs, std::filesystem::path(COFFER_INSTALLED_PLUGIN_DIR).lexically_normal());
  return dirs;
}

std::vector<PluginInfo> scan_plugins(const std::vector<std::filesystem::path> &dirs) {
  std::vector<PluginInfo> out;
  for (const auto &dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) continue;
    std::vector<std::filesystem::path> files;
    for (const auto &entry : std::filesystem::directory_iterator(dir, ec))
      if (entry.path().extension() == ".so") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    std::string dir_problem = detail::unsafe_reason(dir);
    for (const auto &file : files) {
      PluginInfo info;
      info.file = file;
      try {
        if (!dir_problem.empty())
          throw Error(Code::invalid_config, "its directory is unsafe: " + dir_problem);
        auto library = detail::PluginLibrary::load(file);
        const coffer_provider &table = library->table();
        info.loadable = true;
        info.name = table.name;
        info.plugin_version = table.plugin_version != nullptr ? table.plugin_version : "";
        info.description = table.description != nullptr ? table.description : "";
        info.abi_version = table.abi_version;
        info.capabilities = library->capability_names();
      } catch (const std::exception &e) {
        info.refusal = e.what();
      }
      out.push_back(std::move(info));
    }
  }
  return out;
}

}  // namespace coffer
