// What the JSON parser would accept silently and the policy must not: a member
// repeated in one object (the last would win), a NUL inside a string, numbers
// out of range (wrapped, truncated or undefined when converted), and cache
// defaults that contradict a short TTL.
#include <coffer/catalog.hpp>
#include <coffer/error.hpp>

#include <boost/test/unit_test.hpp>

#include "base/json_text.hpp"
#include "policy/policy.hpp"
#include "temp_directory.hpp"
#include "test_policy.hpp"

using coffer::Code;
using coffer::Error;
using namespace std::chrono_literals;
namespace detail = coffer::detail;

namespace {

std::string parse_error(const std::string &text) {
  try {
    (void)detail::parse_policy("policy.json", text, "/etc/coffer");
  } catch (const Error &e) {
    BOOST_TEST((e.code() == Code::invalid_config));
    return e.what();
  }
  BOOST_FAIL("expected the policy to be refused");
  return {};
}

detail::Policy parse(const std::string &text) {
  return detail::parse_policy("policy.json", text, "/etc/coffer");
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

// A policy with one provider and `extra` members at the top level.
std::string policy_with(const std::string &extra) {
  return R"({"coffer": 1, "providers": {"p": {"plugin": "memory"}}, "routes": {"*": "p"})" +
         (extra.empty() ? std::string() : ", " + extra) + "}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(duplicate_members)

BOOST_AUTO_TEST_CASE(a_second_route_for_a_category_is_an_error_naming_both_lines) {
  // The second "VCS" would silently drop the first one's deny list.
  std::string message = parse_error(R"({
  "coffer": 1,
  "providers": {"p": {"plugin": "memory"}, "q": {"plugin": "memory"}},
  "routes": {
    "VCS": {"providers": "p", "deny": ["VCS.GithubAdminPAT"]},
    "*": "p",
    "VCS": "q"
  }
})");
  BOOST_TEST(contains(message, "policy.json:7:5:"), message);
  BOOST_TEST(contains(message, "routes.VCS"), message);
  BOOST_TEST(contains(message, "appears twice"), message);
  BOOST_TEST(contains(message, "line 5, column 5"), message);
}

BOOST_AUTO_TEST_CASE(repeated_members_are_found_at_every_depth) {
  // In a provider's config (the plugin sees only the serialised object).
  std::string in_config = parse_error(
      "{\"coffer\": 1,\n \"providers\": {\"p\": {\"plugin\": \"memory\",\n"
      "  \"config\": {\"path\": \"/a\",\n   \"path\": \"/b\"}}},\n \"routes\": {\"*\": \"p\"}}");
  BOOST_TEST(contains(in_config, "policy.json:4:4:"), in_config);
  BOOST_TEST(contains(in_config, "providers.p.config.path"), in_config);
  BOOST_TEST(contains(in_config, "line 3, column 14"), in_config);
  // At the top level, and among providers.
  BOOST_TEST(contains(parse_error(policy_with(R"("coffer": 1)")), "\"coffer\" appears twice"));
  BOOST_TEST(contains(parse_error(R"({"coffer": 1, "providers": {"p": {"plugin": "memory"},
      "p": {"plugin": "other"}}, "routes": {"*": "p"}})"),
                      "providers.p"));
  // Inside an array element.
  std::string in_array =
      parse_error(policy_with(R"("plugin_dirs": ["/a"], "x": [{"k": 1, "k": 2}])"));
  BOOST_TEST(contains(in_array, "x[0].k"), in_array);
}

BOOST_AUTO_TEST_CASE(the_same_name_in_different_objects_is_fine) {
  auto policy = parse(R"({"coffer": 1,
    "providers": {"p": {"plugin": "memory", "config": {"p": {"p": 1}}}},
    "routes": {"*": "p", "VCS": {"providers": "p"}}, "keys": {"VCS.A": {"providers": "p"}}})");
  BOOST_TEST(policy.routes.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_catalog_file_with_a_repeated_member_is_refused) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("catalog.json",
                        "{\"keys\": [\n  {\"key\": \"Billing.A\",\n   \"key\": \"Billing.B\"}]}\n");
  coffer::Catalog catalog;
  try {
    catalog.add_file(file);
    BOOST_FAIL("expected the catalog to be refused");
  } catch (const Error &e) {
    std::string message = e.what();
    BOOST_TEST(contains(message, file.string() + ":3:4:"), message);
    BOOST_TEST(contains(message, "keys[0].key"), message);
    BOOST_TEST(contains(message, "line 2, column 4"), message);
  }
  BOOST_TEST(catalog.entries().empty());
}

BOOST_AUTO_TEST_CASE(a_nul_character_in_a_name_or_text_is_refused) {
  std::string in_value = parse_error(
      R"({"coffer": 1, "providers": {"p": {"plugin": "memory", "config": {"path": "/etc/a\u0000.env"}}}, "routes": {"*": "p"}})");
  BOOST_TEST(contains(in_value, "providers.p.config.path"), in_value);
  BOOST_TEST(contains(in_value, "NUL"), in_value);
  std::string in_name = parse_error(
      R"({"coffer": 1, "providers": {"p": {"plugin": "memory"}}, "routes": {"V\u0000CS": "p"}})");
  BOOST_TEST(contains(in_name, "NUL"), in_name);
  // The name is shown with the NUL escaped, not cut short at it.
  BOOST_TEST(contains(in_name, "routes.V\\x00CS"), in_name);
  std::string in_array = parse_error(policy_with(R"("plugin_dirs": ["/ok", "/a\u0000b"])"));
  BOOST_TEST(contains(in_array, "plugin_dirs[1]"), in_array);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(number_ranges)

BOOST_AUTO_TEST_CASE(a_timeout_is_checked_before_it_is_converted) {
  // 2^32 + 1 used to become 1 ms.
  for (const char *value :
       {"4294967297", "0", "-5", "3600001", "1.5", "1e300", "18446744073709551615"}) {
    BOOST_TEST_CONTEXT("timeout_ms " << value) {
      std::string message = parse_error(policy_with(std::string("\"timeout_ms\": ") + value));
      BOOST_TEST(contains(message, "timeout_ms"), message);
      BOOST_TEST(contains(message, "from 1 to 3600000"), message);
    }
  }
  BOOST_TEST(parse(policy_with(R"("timeout_ms": 3600000)")).timeout == 3600000ms);
  BOOST_TEST(parse(policy_with(R"("timeout_ms": 2000.0)")).timeout == 2000ms);
}

BOOST_AUTO_TEST_CASE(cache_durations_are_bounded_and_finite) {
  // A huge TTL used to overflow into a negative one (no cache); 1e300 was
  // undefined behaviour in the conversion.
  for (const char *field : {"ttl_s", "stale_if_error_s", "negative_ttl_s", "refresh_ahead_s"}) {
    for (const char *value : {"1e300", "-1", "2592001", "1e999"}) {
      BOOST_TEST_CONTEXT(field << " " << value) {
        std::string message =
            parse_error(policy_with(std::string("\"cache\": {\"") + field + "\": " + value + "}"));
        BOOST_TEST(contains(message, std::string("cache.") + field), message);
      }
    }
  }
  auto policy = parse(policy_with(R"("cache": {"ttl_s": 2592000, "stale_if_error_s": 0.25})"));
  BOOST_TEST(policy.cache.ttl == std::chrono::milliseconds(2592000LL * 1000));
  BOOST_TEST(policy.cache.stale_if_error == 250ms);
}

BOOST_AUTO_TEST_CASE(audit_numbers_are_bounded) {
  std::string keep = parse_error(policy_with(R"("audit": {"file": "a.log", "keep": 1001})"));
  BOOST_TEST(contains(keep, "audit.keep"), keep);
  std::string bytes = parse_error(policy_with(R"("audit": {"file": "a.log", "max_bytes": 1e30})"));
  BOOST_TEST(contains(bytes, "audit.max_bytes"), bytes);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cache_defaults)

BOOST_AUTO_TEST_CASE(the_refresh_window_follows_a_short_ttl) {
  // ttl_s below the old fixed 30 s refresh window used to refuse every policy.
  BOOST_TEST(parse(policy_with(R"("cache": {"ttl_s": 0})")).cache.refresh_ahead == 0ms);
  BOOST_TEST(parse(policy_with(R"("cache": {"ttl_s": 10})")).cache.refresh_ahead == 1000ms);
  BOOST_TEST(parse(policy_with(R"("cache": {"ttl_s": 300})")).cache.refresh_ahead == 30000ms);
  BOOST_TEST(parse(policy_with(R"("cache": {"ttl_s": 3600})")).cache.refresh_ahead == 30000ms);
  BOOST_TEST(parse(policy_with("")).cache.refresh_ahead == 30000ms);
  // Given explicitly, it is still checked against the TTL.
  std::string message =
      parse_error(policy_with(R"("cache": {"ttl_s": 10, "refresh_ahead_s": 11})"));
  BOOST_TEST(contains(message, "cache.refresh_ahead_s"), message);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(builtin_catalog_switch)

BOOST_AUTO_TEST_CASE(the_policy_can_leave_the_builtin_catalog_out) {
  BOOST_TEST(parse(policy_with("")).builtin_catalog);
  BOOST_TEST(!parse(policy_with(R"("builtin_catalog": false)")).builtin_catalog);
  std::string message = parse_error(policy_with(R"("builtin_catalog": "no")"));
  BOOST_TEST(contains(message, "builtin_catalog"), message);
}

BOOST_AUTO_TEST_SUITE_END()
