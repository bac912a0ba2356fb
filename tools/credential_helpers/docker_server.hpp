// Which of the policy's "helpers.docker" entries answers for a registry
// server, as the Docker CLI names it to a credential helper ("ghcr.io",
// "acme.azurecr.io", "localhost:5000", "https://index.docker.io/v1/").
#ifndef COFFER_HELPERS_DOCKER_SERVER_HPP
#define COFFER_HELPERS_DOCKER_SERVER_HPP

#include <coffer/store.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace coffer::helpers {

// The registry a server names: its host[:port] in lower case, without a
// scheme or path; Docker Hub's names (docker.io, index.docker.io,
// registry-1.docker.io) are one registry, "index.docker.io".
std::string docker_registry(std::string_view server);

// The first entry, in policy order, whose "server" names the same registry
// as `server`; nullptr when none does.
const HelperEntry *matching_docker_entry(const std::vector<HelperEntry> &entries,
                                         std::string_view server);

}  // namespace coffer::helpers

#endif  // COFFER_HELPERS_DOCKER_SERVER_HPP
