// <coffer/provider_helpers.hpp>: the one "did you mean" rule and hex.
#define BOOST_TEST_MODULE sdk_provider_helpers
#include <coffer/provider.hpp>
#include <coffer/provider_helpers.hpp>

#include <boost/test/unit_test.hpp>

#include <array>
#include <string>
#include <vector>

using coffer::provider::did_you_mean;
using coffer::provider::edit_distance;
using coffer::provider::is_canonical_key;
using coffer::provider::nearest_name;
using coffer::provider::to_hex;

BOOST_AUTO_TEST_CASE(the_key_grammar_is_two_parts_of_letters_and_digits) {
  for (const char *key : {"VCS.GithubAdminPAT", "a.b", "Z9.x0", "Email.SMTPPassword"})
    BOOST_TEST(is_canonical_key(key), key);
  for (const char *key :
       {"", ".", "VCS", "VCS.", ".Name", "VCS..Name", "VCS.Name.More", "9VCS.Name", "VCS.9Name",
        "VCS_Admin.Name", "VCS.Na-me", "VCS.Näme", " VCS.Name", "VCS.Name ", "VCS.Name\n"})
    BOOST_TEST(!is_canonical_key(key), key);
  // A NUL inside the length is no key either.
  BOOST_TEST(!is_canonical_key(std::string_view("VCS.Na\0me", 10)));
  // At most COFFER_KEY_MAX_LENGTH characters in all.
  std::string longest = "A." + std::string(COFFER_KEY_MAX_LENGTH - 2, 'b');
  BOOST_TEST(is_canonical_key(longest));
  BOOST_TEST(!is_canonical_key(longest + "c"));
  // The C function reads only `length` characters.
  BOOST_TEST(coffer_is_canonical_key("VCS.Name.More", 8) != 0);
  BOOST_TEST(coffer_is_canonical_key(nullptr, 0) == 0);
}

BOOST_AUTO_TEST_CASE(edit_distance_ignores_case) {
  BOOST_TEST(edit_distance("history", "history") == 0u);
  BOOST_TEST(edit_distance("History", "history") == 0u);
  BOOST_TEST(edit_distance("histroy", "history") == 2u);
  BOOST_TEST(edit_distance("", "abc") == 3u);
  BOOST_TEST(edit_distance("kitten", "sitting") == 3u);
}

BOOST_AUTO_TEST_CASE(a_near_name_is_suggested_and_a_far_one_is_not) {
  const std::vector<std::string> fields{"path", "source", "prefix", "writable"};
  BOOST_TEST(nearest_name("pth", fields).value_or("") == "path");
  BOOST_TEST(nearest_name("writeable", fields).value_or("") == "writable");
  BOOST_TEST(nearest_name("PREFIX", fields).value_or("") == "prefix");
  BOOST_TEST(!nearest_name("completely_different", fields).has_value());
  BOOST_TEST(!nearest_name("x", std::vector<std::string>{}).has_value());
  // Short names allow two edits, but not all of what was typed.
  BOOST_TEST(nearest_name("abx", {"xyzw", "abcd"}).value_or("") == "abcd");
  BOOST_TEST(!nearest_name("ls", {"list"}).has_value());
}

BOOST_AUTO_TEST_CASE(a_unique_prefix_of_three_or_more_wins) {
  const std::array<std::string_view, 4> commands{"init", "rotate-master-key", "rekey", "verify"};
  BOOST_TEST(nearest_name("rot", commands).value_or("") == "rotate-master-key");
  BOOST_TEST(nearest_name("rekye", commands).value_or("") == "rekey");
  // "re" is too short for the prefix rule, and too far from every name.
  BOOST_TEST(!nearest_name("re", commands).has_value());
  // Two candidates start with "hist": the prefix rule does not choose.
  BOOST_TEST(!nearest_name("hist", {"history", "histogram"}).has_value());
  BOOST_TEST(nearest_name("histroy", {"history", "histogram"}).value_or("") == "history");
}

BOOST_AUTO_TEST_CASE(did_you_mean_is_a_clause_or_nothing) {
  BOOST_TEST(did_you_mean("verfy", {"verify", "rekey"}) == " (did you mean 'verify'?)");
  BOOST_TEST(did_you_mean("zzzzzz", {"verify", "rekey"}) == "");
}

BOOST_AUTO_TEST_CASE(hex_is_lower_case_two_digits_a_byte) {
  const std::array<unsigned char, 4> bytes{0x00, 0x0f, 0xa0, 0xff};
  BOOST_TEST(to_hex(bytes) == "000fa0ff");
  BOOST_TEST(to_hex(std::span<const unsigned char>()) == "");
}

BOOST_AUTO_TEST_CASE(json_strings_escape_what_json_forbids_and_keep_the_rest) {
  using coffer::provider::append_json_string;
  using coffer::provider::json_string_size;
  std::string out;
  const std::string text("q\"b\\s\b\f\n\r\t\x01\x1f\x7f gr\xc3\xbc\xc3\x9f", 20);
  append_json_string(out, text);
  BOOST_TEST(out == "\"q\\\"b\\\\s\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f gr\xc3\xbc\xc3\x9f\"");
  BOOST_TEST(json_string_size(text) == out.size());
  // Into secret memory, without an ordinary string on the way.
  coffer::provider::SecretBytes secret;
  append_json_string(secret, "a\nb");
  BOOST_TEST(secret.view() == "\"a\\nb\"");
  for (std::string_view sample : {"", "plain", "\"\"", "\x7f\x7f", "\\\\\\"}) {
    std::string written;
    append_json_string(written, sample);
    BOOST_TEST(json_string_size(sample) == written.size());
  }
}

BOOST_AUTO_TEST_CASE(utf8_is_checked_as_json_needs_it) {
  using coffer::provider::is_valid_utf8;
  BOOST_TEST(is_valid_utf8(""));
  BOOST_TEST(is_valid_utf8("gr\xc3\xbc\xc3\x9f \xf0\x9f\x94\x91"));
  BOOST_TEST(!is_valid_utf8("\xc3"));              // cut short
  BOOST_TEST(!is_valid_utf8("\xc0\xaf"));          // overlong
  BOOST_TEST(!is_valid_utf8("\xed\xa0\x80"));      // a surrogate
  BOOST_TEST(!is_valid_utf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
  BOOST_TEST(!is_valid_utf8("\xff"));
}
