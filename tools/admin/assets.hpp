// The panel's web assets (HTML, CSS, JavaScript under tools/admin/assets/),
// compiled into the binary by embed_assets.cmake: nothing is read from disk
// or fetched at run time.
#ifndef COFFER_ADMIN_ASSETS_HPP
#define COFFER_ADMIN_ASSETS_HPP

#include <span>
#include <string_view>

namespace coffer::admin {

struct Asset {
  std::string_view path;          // "/app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::span<const unsigned char> bytes;
};

// Every asset, sorted by path. Static storage; never null.
std::span<const Asset> assets() noexcept;
// The asset at `path`, or nullptr.
const Asset *find_asset(std::string_view path) noexcept;

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_ASSETS_HPP
