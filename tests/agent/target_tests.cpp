// Request targets: split into decoded segments and query parameters, with
// every part that could reach a handler as a path checked, and no
// allocation for a target without escapes (its parts are views of it).
#include <boost/test/unit_test.hpp>

#include <string>

#include "router.hpp"

using coffer::agent::Target;

BOOST_AUTO_TEST_SUITE(target)

BOOST_AUTO_TEST_CASE(a_plain_target_splits_into_views_of_itself) {
  const std::string text = "/v1.0/secrets/coffer/Email.SMTPPassword?metadata.version_id=7&x";
  Target target;
  BOOST_REQUIRE(target.parse(text));
  BOOST_REQUIRE(target.segments.size() == 4u);
  BOOST_TEST(target.segments[0] == "v1.0");
  BOOST_TEST(target.segments[3] == "Email.SMTPPassword");
  BOOST_TEST(target.segments[3].data() == text.data() + text.find("Email"));
  BOOST_REQUIRE(target.query.size() == 2u);
  BOOST_TEST(target.query[0].first == "metadata.version_id");
  BOOST_TEST(target.query[0].second == "7");
  BOOST_TEST(target.query[1].first == "x");
  BOOST_TEST(target.query[1].second.empty());
}

BOOST_AUTO_TEST_CASE(escapes_are_decoded_and_every_part_stays_valid) {
  // Many escaped parts: were the decoded storage to grow and move, the
  // first parts' views would dangle (AddressSanitizer would tell).
  std::string text = "/a%41";
  for (int i = 0; i < 40; ++i) text += "/s%2E" + std::to_string(i);
  text += "?n%3D=v%26w&k=%7E";
  Target target;
  BOOST_REQUIRE(target.parse(text));
  BOOST_REQUIRE(target.segments.size() == 41u);
  BOOST_TEST(target.segments[0] == "aA");
  for (int i = 0; i < 40; ++i)
    BOOST_TEST(target.segments[static_cast<std::size_t>(i) + 1] == "s." + std::to_string(i));
  BOOST_REQUIRE(target.query.size() == 2u);
  BOOST_TEST(target.query[0].first == "n=");
  BOOST_TEST(target.query[0].second == "v&w");
  BOOST_TEST(target.query[1].second == "~");
}

BOOST_AUTO_TEST_CASE(a_trailing_slash_is_an_empty_last_segment) {
  Target target;
  BOOST_REQUIRE(target.parse("/healthz/"));
  BOOST_REQUIRE(target.segments.size() == 2u);
  BOOST_TEST(target.segments[1].empty());
  BOOST_REQUIRE(target.parse("/"));
  BOOST_TEST(target.segments.empty());
}

BOOST_AUTO_TEST_CASE(what_could_leave_the_path_is_refused) {
  Target target;
  for (const char *bad : {"", "v1.0/secrets", "http://host/v1.0", "/a/../b", "/a/./b",
                          "/a/%2E%2E/b", "/a/%2e", "/a/b%2Fc", "/a%00", "/a%1F", "/a%7F", "/a\x01",
                          "/a%", "/a%4", "/a%G1", "/a#frag", "/a?x=%0A", "/a?%ZZ=1"})
    BOOST_TEST(!target.parse(bad), bad);
}

BOOST_AUTO_TEST_CASE(a_target_is_parsed_afresh_each_time) {
  Target target;
  BOOST_REQUIRE(target.parse("/a%41/b?x=1"));
  BOOST_REQUIRE(target.parse("/c"));
  BOOST_REQUIRE(target.segments.size() == 1u);
  BOOST_TEST(target.segments[0] == "c");
  BOOST_TEST(target.query.empty());
}

BOOST_AUTO_TEST_SUITE_END()
