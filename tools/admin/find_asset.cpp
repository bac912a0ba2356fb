#include "assets.hpp"

namespace coffer::admin {

const Asset *find_asset(std::string_view path) noexcept {
  for (const Asset &asset : assets())
    if (asset.path == path) return &asset;
  return nullptr;
}

}  // namespace coffer::admin
