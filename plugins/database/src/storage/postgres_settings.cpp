#include "storage/postgres_settings.hpp"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <coffer/provider.hpp>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <regex>

namespace coffer::database {

using coffer::provider::Error;

namespace {

[[noreturn]] void invalid(const std::string &problem) {
  throw Error(COFFER_STATUS_INVALID_CONFIG, "url: " + problem);
}

std::vector<std::string> split_list(const std::string &list) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    items.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

// A socket directory (or abstract socket), localhost, 127.0.0.0/8 or ::1.
bool is_local_host(const std::string &host) {
  if (host.empty() || host.front() == '/' || host.front() == '@' || host == "localhost" ||
      host == "::1")
    return true;
  struct in_addr address {};
  return ::inet_pton(AF_INET, host.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

bool mentions_password(std::string_view url) {
  std::string lower(url);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.find("password") != std::string::npos) return true;
  static const std::regex userinfo_with_password(R"(://[^/@?]*:[^/@?]*@)");
  return std::regex_search(lower, userinfo_with_password);
}

}  // namespace

bool looks_like_postgres_url(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://") ||
         (!url.starts_with("sqlite:") && url.find('=') != std::string_view::npos);
}

PostgresSettings parse_postgres_url(std::string_view url, const PostgresTransport &transport) {
  std::string text(url);
  char *error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(text.c_str(), &error), &PQconninfoFree);
  if (!options) {
    std::string detail = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
    // libpq may quote the part it did not understand; keep a password out of the message.
    if (mentions_password(url)) detail = "the connection string is malformed";
    invalid("not a valid PostgreSQL connection string: " + detail);
  }

  PostgresSettings settings;
  std::string host, hostaddr, sslmode;
  bool has_timeout = false, has_application = false;
  for (const PQconninfoOption *option = options.get(); option->keyword != nullptr; ++option) {
    if (option->val == nullptr) continue;
    std::string keyword = option->keyword;
    std::string value = option->val;
    if (keyword == "password")
      invalid(
          "a password must not be written in the policy; give it in a passfile (passfile=PATH "
          "or ~/.pgpass, mode 0600) or use client certificates (sslcert/sslkey)");
    if (keyword == "host") host = value;
    if (keyword == "hostaddr") hostaddr = value;
    if (keyword == "connect_timeout") has_timeout = true;
    if (keyword == "fallback_application_name" || keyword == "application_name")
      has_application = true;
    if (keyword == "sslmode") {
      sslmode = value;
      continue;  // added below
    }
    settings.keywords.push_back(keyword);
    settings.values.push_back(value);
  }

  std::string hosts = !hostaddr.empty() ? hostaddr : host;
  if (hosts.empty()) {
    const char *environment_host = std::getenv("PGHOST");
    hosts = environment_host != nullptr ? environment_host : "";
  }
  const auto list = split_list(hosts);
  const auto remote = std::find_if_not(list.begin(), list.end(), is_local_host);
  if (sslmode.empty()) {
    sslmode = remote == list.end() ? "disable" : "verify-full";
  } else if (sslmode != "verify-full" && sslmode != "disable") {
    invalid("sslmode=" + sslmode +
            " does not verify the server's certificate and host name (and allow or prefer fall "
            "back to cleartext without a word); use sslmode=verify-full with "
            "sslrootcert=CA_FILE (or sslmode=disable for a server on this host)");
  } else if (sslmode == "disable" && remote != list.end() && !transport.allow_plaintext) {
    invalid(
        "sslmode=disable would send the login, every ciphertext and every key name in "
        "cleartext to '" +
        *remote +
        "', which is not on this host; use sslmode=verify-full with sslrootcert=CA_FILE, or "
        "set \"allow_plaintext\": true in the provider's config to accept that on a network "
        "no one else can read");
  }
  settings.keywords.emplace_back("sslmode");
  settings.values.push_back(sslmode);
  if (!has_timeout) {
    settings.keywords.emplace_back("connect_timeout");
    settings.values.emplace_back("5");
  }
  if (!has_application) {
    settings.keywords.emplace_back("fallback_application_name");
    settings.values.emplace_back("coffer");
  }

  std::string description = "postgresql";
  for (const char *shown : {"host", "hostaddr", "port", "dbname", "user", "sslmode"}) {
    for (std::size_t i = 0; i < settings.keywords.size(); ++i)
      if (settings.keywords[i] == shown)
        description += " " + settings.keywords[i] + "=" + settings.values[i];
  }
  settings.description = description;
  return settings;
}

}  // namespace coffer::database
