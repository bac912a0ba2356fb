#include "docker_server.hpp"

#include <cctype>

namespace coffer::helpers {

std::string docker_registry(std::string_view server) {
  if (auto at = server.find("://"); at != std::string_view::npos) server.remove_prefix(at + 3);
  server = server.substr(0, server.find('/'));
  std::string registry(server);
  for (char &c : registry) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (registry == "docker.io" || registry == "registry-1.docker.io") return "index.docker.io";
  return registry;
}

const HelperEntry *matching_docker_entry(const std::vector<HelperEntry> &entries,
                                         std::string_view server) {
  const std::string registry = docker_registry(server);
  if (registry.empty()) return nullptr;
  for (const auto &entry : entries)
    if (docker_registry(entry.match) == registry) return &entry;
  return nullptr;
}

}  // namespace coffer::helpers
