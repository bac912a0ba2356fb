// Key Vault listings: pages of at most maxresults items, an absolute nextLink
// (with the port, api-version, an opaque $skiptoken and maxresults) while the
// last page was full, {"value":[],"nextLink":null} at the end, and optionally
// empty pages that still carry a nextLink before the first item, as the real
// service produces.
#ifndef COFFER_AZURE_EMULATOR_PAGING_HPP
#define COFFER_AZURE_EMULATOR_PAGING_HPP

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "http_message.hpp"
#include "settings.hpp"

namespace coffer::emulator {

struct ListItem {
  std::string key;  // sort key; items come sorted by it
  boost::json::object item;
};

Response list_page(const Request &request, const Target &target, const Settings &settings,
                   const std::string &authority, std::vector<ListItem> items);

}  // namespace coffer::emulator

#endif
