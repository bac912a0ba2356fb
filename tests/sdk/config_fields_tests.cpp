// <coffer/config_fields.hpp>: one reader for configuration objects, with one
// wording for unknown, repeated, mistyped and missing fields.
#define BOOST_TEST_MODULE sdk_config_fields
#include <coffer/config_fields.hpp>

#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>
#include <vector>

using coffer::provider::ConfigError;
using coffer::provider::ConfigFields;
using coffer::provider::ConfigPlace;
using coffer::provider::parse_config_text;

namespace {

// The error that `action` throws; fails the test when it throws none.
ConfigError error_of(const std::function<void()> &action) {
  try {
    action();
  } catch (const ConfigError &error) {
    return error;
  }
  BOOST_FAIL("no ConfigError thrown");
  throw std::logic_error("unreachable");
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

const std::vector<std::string> kFields{"url", "history", "tls"};

}  // namespace

BOOST_AUTO_TEST_CASE(an_unknown_field_is_named_with_the_nearest_known_one) {
  ConfigError error = error_of(
      [] { ConfigFields fields(parse_config_text(R"({"url": "x", "hisotry": 3})"), kFields); });
  BOOST_TEST(error.what() == std::string("unknown field 'hisotry' (did you mean 'history'?); "
                                         "known fields are url, history, tls"));
  BOOST_TEST(error.status() == COFFER_STATUS_INVALID_CONFIG);
  BOOST_TEST(error.path() == std::vector<std::string>{"hisotry"});
}

BOOST_AUTO_TEST_CASE(an_unknown_field_far_from_every_known_one_gets_the_list_only) {
  ConfigError error =
      error_of([] { ConfigFields fields(parse_config_text(R"({"zzzzzzzz": 1})"), kFields); });
  BOOST_TEST(error.what() ==
             std::string("unknown field 'zzzzzzzz'; known fields are url, history, tls"));
}

BOOST_AUTO_TEST_CASE(nested_objects_name_fields_by_their_whole_path) {
  boost::json::value value = parse_config_text(R"({"tls": {"ca_fiel": "/ca.pem"}})");
  ConfigFields top(value, kFields);
  ConfigError unknown = error_of([&] { (void)top.object("tls", {"ca_file", "verify"}); });
  BOOST_TEST(unknown.what() ==
             std::string("unknown field 'tls.ca_fiel' (did you mean 'tls.ca_file'?); known fields "
                         "are tls.ca_file, tls.verify"));
  BOOST_TEST(unknown.path() == (std::vector<std::string>{"tls", "ca_fiel"}));

  boost::json::value typed = parse_config_text(R"({"tls": {"ca_file": 7}})");
  auto tls = ConfigFields(typed, kFields).object("tls", {"ca_file"});
  BOOST_TEST_REQUIRE(tls.has_value());
  ConfigError wrong = error_of([&] { (void)tls->string("ca_file"); });
  BOOST_TEST(wrong.what() == std::string("field 'tls.ca_file' must be a string"));
  BOOST_TEST(wrong.path() == (std::vector<std::string>{"tls", "ca_file"}));

  boost::json::value scalar = parse_config_text(R"({"tls": true})");
  ConfigError not_object =
      error_of([&] { (void)ConfigFields(scalar, kFields).object("tls", {"ca_file"}); });
  BOOST_TEST(not_object.what() == std::string("field 'tls' must be a JSON object"));
  // An absent object is nothing, not an error.
  BOOST_TEST(!ConfigFields(parse_config_text("{}"), kFields).object("tls", {"x"}).has_value());
}

BOOST_AUTO_TEST_CASE(a_repeated_field_is_an_error_not_a_silent_replacement) {
  ConfigError top =
      error_of([] { (void)parse_config_text(R"({"url": "a", "history": 1, "url": "b"})"); });
  BOOST_TEST(top.what() == std::string("field 'url' appears twice in one object; one would "
                                       "silently replace the other: keep one"));
  BOOST_TEST(top.path() == std::vector<std::string>{"url"});
  ConfigError nested = error_of([] {
    (void)parse_config_text(R"({"tls": {"ca_file": "a", "ca_file": "b"}})",
                            ConfigPlace{.path = {"config"}});
  });
  BOOST_TEST(contains(nested.what(), "field 'config.tls.ca_file' appears twice"), nested.what());
  // The same name in two objects is no repetition.
  BOOST_TEST(parse_config_text(R"({"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 1}, {"x": 2}]})")
                 .is_object());
}

BOOST_AUTO_TEST_CASE(wrong_types_name_the_field_and_the_expected_type) {
  boost::json::value value = parse_config_text(
      R"({"url": 5, "history": "10", "tls": 1.5, "flag": "yes", "name": "a\u0000b", "empty": ""})");
  ConfigFields fields(value, {"url", "history", "tls", "flag", "name", "empty"});
  BOOST_TEST(error_of([&] { (void)fields.string("url"); }).what() ==
             std::string("field 'url' must be a string"));
  BOOST_TEST(error_of([&] { (void)fields.integer("history", 1, 1000); }).what() ==
             std::string("field 'history' must be an integer between 1 and 1000"));
  BOOST_TEST(error_of([&] { (void)fields.integer("tls", 1, 1000); }).what() ==
             std::string("field 'tls' must be an integer between 1 and 1000"));
  BOOST_TEST(error_of([&] { (void)fields.boolean("flag"); }).what() ==
             std::string("field 'flag' must be true or false"));
  BOOST_TEST(error_of([&] { (void)fields.string("name"); }).what() ==
             std::string("field 'name' must not contain a NUL character (\\u0000)"));
  BOOST_TEST(fields.string("empty").value_or("x").empty());
  BOOST_TEST(error_of([&] { (void)fields.non_empty_string("empty"); }).what() ==
             std::string("field 'empty' must not be empty"));
}

BOOST_AUTO_TEST_CASE(integers_are_checked_against_their_range) {
  boost::json::value value =
      parse_config_text(R"({"low": 0, "high": 1001, "huge": 18446744073709551615, "ok": 7})");
  ConfigFields fields(value, {"low", "high", "huge", "ok"});
  BOOST_TEST(error_of([&] { (void)fields.integer("low", 1, 1000); }).what() ==
             std::string("field 'low' must be between 1 and 1000 (got 0)"));
  BOOST_TEST(error_of([&] { (void)fields.integer("high", 1, 1000); }).what() ==
             std::string("field 'high' must be between 1 and 1000 (got 1001)"));
  BOOST_TEST(error_of([&] { (void)fields.integer("huge", 1, 1000); }).what() ==
             std::string("field 'huge' must be between 1 and 1000"));
  BOOST_TEST(fields.integer("ok", 1, 1000).value_or(0) == 7);
  BOOST_TEST(!fields.integer("absent", 1, 1000).has_value());
}

BOOST_AUTO_TEST_CASE(a_missing_required_field_is_named) {
  boost::json::value value = parse_config_text(R"({"tls": {}})");
  ConfigFields tls = *ConfigFields(value, kFields).object("tls", {"ca_file"});
  BOOST_TEST(error_of([&] { tls.missing("ca_file", "; e.g. \"/etc/ssl/ca.pem\""); }).what() ==
             std::string("field 'tls.ca_file' is required; e.g. \"/etc/ssl/ca.pem\""));
}

BOOST_AUTO_TEST_CASE(the_document_must_be_an_object_of_valid_json) {
  ConfigError array = error_of([] { ConfigFields fields(parse_config_text("[1, 2]"), kFields); });
  BOOST_TEST(array.what() == std::string("the configuration must be a JSON object"));
  BOOST_TEST(array.path().empty());
  ConfigError syntax = error_of([] {
    (void)parse_config_text("{\n  \"url\": \"x\"\n  \"history\": 1}",
                            ConfigPlace{.path = {}, .document = "the database provider's config"});
  });
  BOOST_TEST(contains(syntax.what(),
                      "the database provider's config is not valid JSON (line 3, "
                      "column 3)"),
             syntax.what());
  // Comments and trailing commas are accepted; empty text is an empty object.
  BOOST_TEST(parse_config_text("{\"url\": \"x\", // the store\n}").as_object().size() == 1u);
  BOOST_TEST(parse_config_text("").as_object().empty());
}

BOOST_AUTO_TEST_CASE(errors_carry_the_status_of_their_place) {
  const ConfigPlace arguments{
      .path = {}, .document = "the arguments", .status = COFFER_STATUS_INVALID_ARGUMENT};
  ConfigError unknown = error_of(
      [&] { ConfigFields fields(parse_config_text(R"({"x": 1})"), {"batch_size"}, arguments); });
  BOOST_TEST(unknown.status() == COFFER_STATUS_INVALID_ARGUMENT);
  ConfigError twice = error_of([&] { (void)parse_config_text(R"({"x": 1, "x": 2})", arguments); });
  BOOST_TEST(twice.status() == COFFER_STATUS_INVALID_ARGUMENT);
}
