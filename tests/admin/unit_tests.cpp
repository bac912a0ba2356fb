// The admin panel's parts alone: sessions (idle and absolute expiry, on a
// clock the test moves, alone and as the router answers a browser), the login limiter (window, IPv6
// /64 groups), the allowed origins (Host and Origin checks), the token strength rule, the admin
// token file (one token, or named admins).
#define BOOST_TEST_MODULE admin_unit_tests
#include <coffer/error.hpp>

#include <stdlib.h>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "admin_token.hpp"
#include "login_limiter.hpp"
#include "origins.hpp"
#include "panel_router.hpp"
#include "provider_settings.hpp"
#include "sessions.hpp"
#include "storage_switch.hpp"
#include "temp_directory.hpp"

using namespace coffer::admin;
using namespace std::chrono_literals;

namespace {

// Writes `text` to `file` with mode 0600.
void write_private(const std::filesystem::path &file, const std::string &text) {
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
  }
  std::filesystem::permissions(
      file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

// A clock that moves only when told.
struct ManualClock {
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point(100h);
  auto function() {
    return [this] { return now; };
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(sessions)

BOOST_AUTO_TEST_CASE(a_session_ends_when_idle_and_at_its_lifetime) {
  ManualClock clock;
  SessionTable table(SessionLimits{.idle = 10min, .lifetime = 30min, .max_sessions = 8},
                     clock.function());
  auto session = table.create("admin-token");
  BOOST_TEST(session.id.size() == 64u);
  BOOST_TEST(session.csrf.size() == 64u);
  BOOST_TEST(session.id != session.csrf);
  auto info = table.use(session.id);
  BOOST_TEST_REQUIRE(info.has_value());
  BOOST_TEST(info->identity == "admin-token");
  BOOST_TEST(info->csrf == session.csrf);
  // Used every 9 minutes it lives until its lifetime...
  for (int i = 0; i < 3; ++i) {
    clock.now += 9min;
    BOOST_TEST(table.use(session.id).has_value(), i);
  }
  clock.now += 4min;  // 31 minutes after it began
  BOOST_TEST(!table.use(session.id).has_value());
  // ... and one left alone ends after its idle time.
  auto idle = table.create("admin-token");
  clock.now += 10min;
  BOOST_TEST(!table.use(idle.id).has_value());
}

BOOST_AUTO_TEST_CASE(an_unknown_or_ended_session_is_refused) {
  SessionTable table(SessionLimits{});
  auto session = table.create("admin-token");
  BOOST_TEST(!table.use(std::string(64, '0')).has_value());
  BOOST_TEST(!table.use("").has_value());
  table.end(session.id);
  BOOST_TEST(!table.use(session.id).has_value());
}

BOOST_AUTO_TEST_CASE(the_oldest_session_makes_room) {
  ManualClock clock;
  SessionTable table(SessionLimits{.idle = 1h, .lifetime = 2h, .max_sessions = 2},
                     clock.function());
  auto first = table.create("a");
  clock.now += 1s;
  auto second = table.create("b");
  clock.now += 1s;
  auto third = table.create("c");
  BOOST_TEST(!table.use(first.id).has_value());
  BOOST_TEST(table.use(second.id).has_value());
  BOOST_TEST(table.use(third.id).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(router_sessions)

// The panel's router over an in-memory Store (the core's test provider),
// with its sessions on a clock the test moves: what a browser sees when its
// session ends, without waiting for it.
struct RouterOnClock {
  RouterOnClock()
      : store(coffer::Store::from_string(
            R"({"coffer": 1, "plugin_dirs": [")" + plugins() +
                R"("], "providers": {"m": {"plugin": "memory", "config": {"values": {}}}},
                "routes": {"*": "m"}})",
            quiet())),
        tokens(AdminTokenTable::load(token_file())),
        sessions(SessionLimits{.idle = 15min, .lifetime = 8h}, clock.function()),
        limiter(5, 5min),
        log({.level = coffer::LogLevel::error}),
        storage_switch(store, policy_file, quiet(), log),
        origins(std::vector<Origin>{{.scheme = "http", .host = "127.0.0.1", .port = 8470}}),
        router(PanelServices{.store = store,
                             .tokens = tokens,
                             .sessions = sessions,
                             .limiter = limiter,
                             .events = events,
                             .storage_switch = storage_switch,
                             .policy_file = policy_file,
                             .check_options = check_options,
                             .trusted_proxy = {},
                             .proxy_secret = nullptr,
                             .origins = origins,
                             .log = log,
                             .secure = false,
                             .session_lifetime_s = 8 * 3600}) {}

  static std::string plugins() {
    const char *dir = std::getenv("COFFER_TEST_CORE_PLUGINS");
    BOOST_TEST_REQUIRE(dir != nullptr);
    return dir;
  }
  static coffer::StoreOptions quiet() {
    coffer::StoreOptions options;
    options.log_level = coffer::LogLevel::error;
    return options;
  }
  std::filesystem::path token_file() {
    auto file = directory.path() / "admin.token";
    write_private(file, std::string(64, 'a'));
    return file;
  }

  PanelResponse send(const std::string &method, const std::string &target,
                     const std::string &body = {}) {
    PanelRequest request{
        method == "POST" ? boost::beast::http::verb::post : boost::beast::http::verb::get, target,
        11};
    request.set(boost::beast::http::field::host, "127.0.0.1:8470");
    if (method == "POST") {
      request.set(boost::beast::http::field::origin, "http://127.0.0.1:8470");
      request.set("X-CSRF-Token", csrf);
    }
    if (!cookie.empty()) request.set(boost::beast::http::field::cookie, cookie);
    request.body().assign(body.begin(), body.end());
    return router.handle(request, "127.0.0.1");
  }
  void log_in() {
    auto reply = send("POST", "/api/login", "token=" + std::string(64, 'a'));
    BOOST_TEST_REQUIRE(reply.status == 200, std::string(reply.body.view()));
    for (const auto &header : reply.headers)
      if (header.name == "Set-Cookie") cookie = header.value.substr(0, header.value.find(';'));
    csrf = std::string(boost::json::parse(reply.body.view()).at("csrf").as_string());
  }

  coffer::test::TempDirectory directory{"coffer-admin"};
  ManualClock clock;
  std::filesystem::path policy_file = directory.path() / "coffer.json";
  coffer::StoreOptions check_options;
  coffer::Store store;
  AdminTokenTable tokens;
  SessionTable sessions;
  LoginLimiter limiter;
  RecentEvents events;
  coffer::agent::AgentLog log;
  StorageSwitch storage_switch;
  AllowedOrigins origins;
  PanelRouter router;
  std::string cookie;
  std::string csrf;
};

BOOST_AUTO_TEST_CASE(an_idle_session_is_refused_once_its_idle_time_has_passed) {
  RouterOnClock panel;
  panel.log_in();
  panel.clock.now += 14min;
  auto session = panel.send("GET", "/api/session");
  BOOST_TEST_REQUIRE(session.status == 200, std::string(session.body.view()));
  BOOST_TEST(boost::json::parse(session.body.view()).at("expires_in_ms").as_int64() ==
             15 * 60 * 1000);
  panel.clock.now += 15min;
  auto expired = panel.send("GET", "/api/credentials");
  BOOST_TEST(expired.status == 401, std::string(expired.body.view()));
  BOOST_TEST(std::string(expired.body.view()).find("expired") != std::string::npos);
  // Gone for good: the clock going back does not revive it.
  panel.clock.now -= 20min;
  BOOST_TEST(panel.send("GET", "/api/session").status == 401);
}

BOOST_AUTO_TEST_CASE(a_busy_session_ends_at_its_lifetime) {
  RouterOnClock panel;
  panel.log_in();
  // Used every 12 minutes, 39 times: 7 h 48 min after the login.
  for (int use = 0; use < 39; ++use) {
    panel.clock.now += 12min;
    BOOST_TEST_REQUIRE(panel.send("GET", "/api/session").status == 200, use);
  }
  panel.clock.now += 11min;  // 7 h 59 min
  auto last = panel.send("GET", "/api/session");
  BOOST_TEST_REQUIRE(last.status == 200);
  BOOST_TEST(boost::json::parse(last.body.view()).at("expires_in_ms").as_int64() == 60 * 1000);
  panel.clock.now += 1min;
  BOOST_TEST(panel.send("GET", "/api/session").status == 401);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(login_limits)

BOOST_AUTO_TEST_CASE(failures_lock_the_group_until_the_window_passes) {
  ManualClock clock;
  LoginLimiter limiter(3, 5min, clock.function());
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(limiter.wait_before_attempt("192.0.2.7").count() == 0);
    limiter.record_failure("192.0.2.7");
  }
  BOOST_TEST(limiter.wait_before_attempt("192.0.2.7").count() > 0);
  BOOST_TEST(limiter.wait_before_attempt("192.0.2.8").count() == 0);  // another client
  clock.now += 5min;
  BOOST_TEST(limiter.wait_before_attempt("192.0.2.7").count() == 0);
}

BOOST_AUTO_TEST_CASE(a_success_clears_the_failures) {
  ManualClock clock;
  LoginLimiter limiter(2, 5min, clock.function());
  limiter.record_failure("g");
  limiter.record_success("g");
  limiter.record_failure("g");
  BOOST_TEST(limiter.wait_before_attempt("g").count() == 0);
}

BOOST_AUTO_TEST_CASE(ipv6_clients_are_grouped_by_their_64_prefix) {
  BOOST_TEST(address_group("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64");
  BOOST_TEST(address_group("2001:db8:1:2:bbbb:cccc:dddd:eeee") == "2001:db8:1:2::/64");
  BOOST_TEST(address_group("2001:db8:1:3::1") == "2001:db8:1:3::/64");
  BOOST_TEST(address_group("::ffff:192.0.2.7") == "192.0.2.7");
  BOOST_TEST(address_group("192.0.2.7") == "192.0.2.7");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(allowed_origins)

BOOST_AUTO_TEST_CASE(hosts_and_origins_match_scheme_host_and_port) {
  AllowedOrigins origins({Origin{.scheme = "http", .host = "127.0.0.1", .port = 8443},
                          parse_origin("https://Panel.Example.com/")});
  BOOST_TEST(origins.host_allowed("127.0.0.1:8443"));
  BOOST_TEST(!origins.host_allowed("127.0.0.1"));
  BOOST_TEST(!origins.host_allowed("127.0.0.1:8444"));
  BOOST_TEST(origins.host_allowed("panel.example.com"));  // the default port of https
  BOOST_TEST(origins.host_allowed("panel.example.com:443"));
  BOOST_TEST(!origins.host_allowed("panel.example.com.attacker.example"));
  BOOST_TEST(origins.request_from_allowed("http://127.0.0.1:8443", ""));
  BOOST_TEST(origins.request_from_allowed("https://panel.example.com", ""));
  BOOST_TEST(!origins.request_from_allowed("http://panel.example.com", ""));
  BOOST_TEST(!origins.request_from_allowed("null", "http://127.0.0.1:8443/"));
  BOOST_TEST(origins.request_from_allowed("", "http://127.0.0.1:8443/#overview"));
  BOOST_TEST(!origins.request_from_allowed("", "http://127.0.0.1:8443.attacker.example/"));
  BOOST_TEST(!origins.request_from_allowed("", ""));
  BOOST_TEST(origins.any_https());
}

BOOST_AUTO_TEST_CASE(a_malformed_origin_is_refused_by_name) {
  for (const char *bad : {"panel.example.com", "ftp://panel.example.com", "https://",
                          "https://panel.example.com/path", "https://user@panel.example.com",
                          "https://panel.example.com:99999"}) {
    try {
      (void)parse_origin(bad);
      BOOST_ERROR(std::string("accepted ") + bad);
    } catch (const coffer::Error &error) {
      BOOST_TEST(std::string(error.what()).find("--admin-origin") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(token_strength)

BOOST_AUTO_TEST_CASE(tokens_under_128_bits_do_not_count) {
  BOOST_TEST(token_bits(std::string(32, 'a')) == 128u);  // hex
  BOOST_TEST(token_bits(std::string(31, 'a')) == 124u);
  BOOST_TEST(token_bits(std::string(22, 'z')) == 132u);  // base64 and the like
  BOOST_TEST(token_bits("") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(admin_token_files)

const std::string kAlice = "3f1c9a7be2d04f6a8b5e1c7d9f2a4b6c";
const std::string kBob = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdl";  // base64: 168 bits

// The message load() refuses `file` with ("" when it loads).
std::string refusal(const std::filesystem::path &file) {
  try {
    (void)AdminTokenTable::load(file);
  } catch (const coffer::Error &failure) {
    return failure.what();
  }
  return {};
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

BOOST_AUTO_TEST_CASE(named_admins_each_log_in_as_themselves) {
  coffer::test::TempDirectory directory{"coffer-admin"};
  auto file = directory.path() / "admins";
  write_private(file, "# the panel's admins\nalice:" + kAlice + "\n\nbob: " + kBob + "\r\n");
  auto table = AdminTokenTable::load(file);
  BOOST_TEST(table.size() == 2u);
  BOOST_TEST(table.identify(kAlice).value_or("") == "alice");
  BOOST_TEST(table.identify(kBob).value_or("") == "bob");
  BOOST_TEST(!table.identify(kAlice.substr(1)).has_value());
  BOOST_TEST(!table.identify("alice:" + kAlice).has_value());
  BOOST_TEST(!table.identify("").has_value());
}

BOOST_AUTO_TEST_CASE(a_file_of_one_token_is_the_unnamed_admin) {
  coffer::test::TempDirectory directory{"coffer-admin"};
  auto file = directory.path() / "admin.token";
  write_private(file, kAlice + "\n");
  auto table = AdminTokenTable::load(file);
  BOOST_TEST(table.size() == 1u);
  BOOST_TEST(table.identify(kAlice).value_or("") == "admin-token");
  BOOST_TEST(!table.identify(kBob).has_value());
}

BOOST_AUTO_TEST_CASE(a_bad_line_is_refused_by_its_number_and_no_token_is_shown) {
  coffer::test::TempDirectory directory{"coffer-admin"};
  auto file = directory.path() / "admins";
  struct Case {
    std::string text;
    std::string expected;
  };
  const Case cases[] = {
      {"alice:" + kAlice + "\n" + kBob + "\n", "line 2: expected NAME:TOKEN"},
      {"alice:" + kAlice + "\nalice:" + kBob + "\n",
       "line 2 (alice): the admin alice is named on line 1"},
      {"alice:" + kAlice + "\nbob:" + kAlice + "\n",
       "line 2 (bob): the same token as line 1 (alice)"},
      {"alice:" + kAlice + "\nbob:0123456789abcdef\n",
       "line 2 (bob): the token is shorter than 128 bits"},
  };
  for (const auto &bad : cases) {
    write_private(file, bad.text);
    std::string message = refusal(file);
    BOOST_TEST(contains(message, "--admin-token-file " + file.string()), message);
    BOOST_TEST(contains(message, bad.expected), message);
    BOOST_TEST(!contains(message, kAlice), message);
    BOOST_TEST(!contains(message, kBob), message);
    BOOST_TEST(!contains(message, "0123456789abcdef"), message);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(provider_settings)

BOOST_AUTO_TEST_CASE(a_database_url_is_shown_without_its_password) {
  BOOST_TEST(redact_database_url("postgresql://app:s3cret@db.internal:5432/pmp?sslmode=require") ==
             "postgresql://app@db.internal:5432/pmp?sslmode=require");
  BOOST_TEST(redact_database_url("postgresql://app@db/pmp?password=s3cret&sslmode=require") ==
             "postgresql://app@db/pmp?sslmode=require");
  BOOST_TEST(redact_database_url("postgres://u:p@h/d?password=x") == "postgres://u@h/d");
  BOOST_TEST(redact_database_url("host=db user=app password=s3cret dbname=pmp") ==
             "host=db user=app dbname=pmp");
  BOOST_TEST(redact_database_url("host=db password='s3 cr\\'et' dbname=pmp") ==
             "host=db dbname=pmp");
  BOOST_TEST(redact_database_url("sqlite:///var/lib/pmp/credentials.db") ==
             "sqlite:///var/lib/pmp/credentials.db");
}

BOOST_AUTO_TEST_CASE(setting_changes_are_restricted) {
  boost::json::object vault{{"vault_name", "pmp-prod"}, {"cloud", "china"}};
  auto refused = [](const std::string &plugin, const boost::json::object &config,
                    const std::string &field, const std::string &value) {
    try {
      check_setting_change(plugin, config, {.provider = "p", .field = field, .value = value});
      return std::string();
    } catch (const coffer::Error &error) {
      return std::string(error.what());
    }
  };
  BOOST_TEST(refused("azure_keyvault", vault, "vault_name", "pmp-staging").empty());
  BOOST_TEST(refused("azure_keyvault", vault, "vault_url", "https://x.vault.azure.cn/").empty());
  BOOST_TEST(!refused("azure_keyvault", vault, "vault_url", "https://x.vault.azure.net/").empty());
  BOOST_TEST(!refused("azure_keyvault", vault, "vault_url", "https://attacker.example/").empty());
  BOOST_TEST(!refused("azure_keyvault", vault, "vault_url", "http://x.vault.azure.cn/").empty());
  BOOST_TEST(!refused("azure_keyvault", vault, "ca_file", "/tmp/ca.pem").empty());

  boost::json::object postgres{{"url", "postgresql://app@db/pmp?sslmode=require"}};
  BOOST_TEST(
      refused("database", postgres, "url", "postgresql://app@db2/pmp?sslmode=require").empty());
  BOOST_TEST(
      !refused("database", postgres, "url", "postgresql://app@db2/pmp?sslrootcert=/x").empty());
  BOOST_TEST(!refused("database", postgres, "url", "sqlite:///tmp/x.db").empty());
  boost::json::object sqlite{{"url", "sqlite:///var/lib/pmp/credentials.db"}};
  std::string why = refused("database", sqlite, "url", "sqlite:///tmp/other.db");
  BOOST_TEST(why.find("SQLite") != std::string::npos, why);
  BOOST_TEST(!refused("env_file", boost::json::object{{"path", "/a"}}, "path", "/b").empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(policy_diff)

BOOST_AUTO_TEST_CASE(the_diff_shows_the_changed_lines_with_their_numbers_and_context) {
  auto diff = line_diff("a\nb\nc\nd\ne\n", "a\nb\nC\nx\nd\ne\n", 1);
  std::vector<std::string> shown;
  for (const auto &line : diff)
    shown.push_back(std::string(line.at("kind").as_string()) +
                    std::to_string(line.at("line").to_number<std::int64_t>()) +
                    std::string(line.at("text").as_string()));
  std::vector<std::string> expected = {" 2b", "-3c", "+3C", "+4x", " 5d"};
  BOOST_TEST(shown == expected, boost::test_tools::per_element());
  BOOST_TEST(line_diff("same\n", "same\n").empty());
}

BOOST_AUTO_TEST_SUITE_END()
