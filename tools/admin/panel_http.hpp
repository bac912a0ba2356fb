// The HTTP types of the panel: requests whose header fields and body live in
// memory that is wiped when freed (a login carries the admin token, an entry
// a credential), and responses with the panel's own header fields (cookies,
// the security headers).
#ifndef COFFER_ADMIN_PANEL_HTTP_HPP
#define COFFER_ADMIN_PANEL_HTTP_HPP

#include <boost/beast/http/string_body.hpp>

#include <string>
#include <vector>

#include "http_types.hpp"
#include "response.hpp"

namespace coffer::admin {

using PanelBody = boost::beast::http::basic_string_body<char, std::char_traits<char>,
                                                        agent::WipingAllocator<char>>;
using PanelRequest = boost::beast::http::request<PanelBody, agent::RequestFields>;

struct PanelHeader {
  std::string name;
  std::string value;
};

struct PanelResponse {
  int status = 200;
  std::string content_type = "application/json";
  agent::WipedString body;
  std::vector<PanelHeader> headers;  // beside the security headers every response has
};

}  // namespace coffer::admin

#endif  // COFFER_ADMIN_PANEL_HTTP_HPP
