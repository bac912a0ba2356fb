// The env file parser's own rules, beyond the upstream fixtures: comments
// inside values, BOM, line endings, error messages, expansion and the
// absence of command execution.
#define BOOST_TEST_MODULE env_file_parser
#include <boost/test/unit_test.hpp>

#include "dotenv_parser.hpp"
#include "temp_directory.hpp"

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

namespace {

using coffer::env_file::Document;
using coffer::env_file::parse;
using coffer::env_file::ParseOptions;
using coffer::env_file::SyntaxError;

std::map<std::string, std::string> values(std::string_view text, bool expand = false) {
  std::map<std::string, std::string> out;
  Document document = parse(text, ParseOptions{expand});
  for (const auto *statement : document.effective())
    out[statement->name] = std::string(statement->value.view());
  return out;
}

std::string value(std::string_view text, const std::string &name, bool expand = false) {
  auto all = values(text, expand);
  BOOST_REQUIRE_MESSAGE(all.count(name) == 1, name << " not parsed");
  return all[name];
}

// The message of the SyntaxError that parsing `text` throws.
std::string error_of(std::string_view text, bool expand = false) {
  try {
    parse(text, ParseOptions{expand});
  } catch (const SyntaxError &error) {
    return error.what();
  }
  BOOST_FAIL("no syntax error");
  return {};
}

// Whether `message` contains any 4-byte piece of `secret`.
bool leaks(const std::string &message, const std::string &secret) {
  for (std::size_t i = 0; i + 4 <= secret.size(); ++i)
    if (message.find(secret.substr(i, 4)) != std::string::npos) return true;
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(comments)

BOOST_AUTO_TEST_CASE(a_hash_inside_an_unquoted_value_stays) {
  BOOST_TEST(value("PASSWORD=abc#123\n", "PASSWORD") == "abc#123");
  BOOST_TEST(value("PASSWORD=abc#123", "PASSWORD") == "abc#123");
  BOOST_TEST(value("PASSWORD=#abc\n", "PASSWORD") == "#abc");
  BOOST_TEST(value("PASSWORD=a##b#\n", "PASSWORD") == "a##b#");
}

BOOST_AUTO_TEST_CASE(a_hash_after_a_space_or_tab_starts_a_comment) {
  BOOST_TEST(value("PASSWORD=abc #123\n", "PASSWORD") == "abc");
  BOOST_TEST(value("PASSWORD=abc\t#123\n", "PASSWORD") == "abc");
  BOOST_TEST(value("PASSWORD=abc def   # note\n", "PASSWORD") == "abc def");
}

BOOST_AUTO_TEST_CASE(quoted_values_keep_every_hash) {
  BOOST_TEST(value("PASSWORD=\"abc #123\" # note\n", "PASSWORD") == "abc #123");
  BOOST_TEST(value("PASSWORD='abc #123'#note\n", "PASSWORD") == "abc #123");
}

BOOST_AUTO_TEST_CASE(comment_lines_and_blank_lines_are_skipped) {
  auto all = values("# A=1\n\n   # B=2\n\t\nC=3\n#");
  BOOST_TEST(all.size() == 1u);
  BOOST_TEST(all["C"] == "3");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(encoding)

BOOST_AUTO_TEST_CASE(a_leading_bom_is_stripped) {
  Document document = parse("\xEF\xBB\xBFKEY=value\nOTHER=x\n");
  BOOST_TEST(document.has_bom);
  BOOST_REQUIRE(document.find("KEY") != nullptr);
  BOOST_TEST(document.find("KEY")->value.view() == "value");
  BOOST_TEST(document.find("\xEF\xBB\xBFKEY") == nullptr);
  BOOST_TEST(document.statements[0].begin == 3u);
}

BOOST_AUTO_TEST_CASE(a_bom_elsewhere_is_an_error_not_part_of_a_key) {
  BOOST_CHECK_THROW(parse("A=1\n\xEF\xBB\xBFKEY=value\n"), SyntaxError);
}

BOOST_AUTO_TEST_CASE(non_ascii_letters_are_key_characters) {
  BOOST_TEST(value("\xC3\xA1rv\xC3\xADz=1\n", "\xC3\xA1rv\xC3\xADz") == "1");
  BOOST_CHECK_THROW(parse("A\xC2\xA0"
                          "B=1\n"),
                    SyntaxError);                      // a no-break space
  BOOST_CHECK_THROW(parse("A\xFF=1\n"), SyntaxError);  // not UTF-8
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(line_endings)

BOOST_AUTO_TEST_CASE(crlf_never_leaves_a_carriage_return_in_a_value) {
  auto all = values("A=1\r\nB = two words \r\nC='x'\r\nD=\"y\" # c\r\n");
  BOOST_TEST(all["A"] == "1");
  BOOST_TEST(all["B"] == "two words");
  BOOST_TEST(all["C"] == "x");
  BOOST_TEST(all["D"] == "y");
}

BOOST_AUTO_TEST_CASE(crlf_inside_multi_line_quoted_values_becomes_lf) {
  BOOST_TEST(value("KEY=\"line 1\r\nline 2\r\n\r\nline 4\"\r\nNEXT=1\r\n", "KEY") ==
             "line 1\nline 2\n\nline 4");
  BOOST_TEST(value("KEY='line 1\r\nline 2'\r\n", "KEY") == "line 1\nline 2");
  BOOST_TEST(value("KEY=\"a\\\r\nb\"\r\n", "KEY") == "a\\\nb");
}

BOOST_AUTO_TEST_CASE(a_lone_carriage_return_ends_a_line) {
  auto all = values("A=1\rB=\"x\ry\"\rC=3");
  BOOST_TEST(all["A"] == "1");
  BOOST_TEST(all["B"] == "x\ny");
  BOOST_TEST(all["C"] == "3");
}

BOOST_AUTO_TEST_CASE(an_escaped_cr_is_the_only_way_to_a_cr) {
  BOOST_TEST(value("KEY=\"a\\rb\"\r\n", "KEY") == "a\rb");
}

BOOST_AUTO_TEST_CASE(line_numbers_count_crlf_once_and_lines_inside_quotes) {
  Document document = parse("A=1\r\nB=\"x\r\ny\"\r\nC=3\r\n");
  BOOST_TEST(document.find("C")->line == 4u);
  BOOST_TEST(error_of("A=1\r\nB=\"x\r\ny\"\r\nC D\r\n").find("line 4:") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(errors_name_the_line_and_what_was_expected) {
  std::string message = error_of("A=1\n\nPASSWORD=\"unterminated\nB=2\n");
  BOOST_TEST(message.find("line 3: unterminated quoted value") == 0u, message);
  BOOST_TEST(message.find("expected a closing \"") != std::string::npos, message);

  message = error_of("A=1\nB=\"x\"y\n");
  BOOST_TEST(message.find("line 2, column 6: unexpected text after the closing quote") == 0u,
             message);
  BOOST_TEST(message.find("expected a comment") != std::string::npos, message);

  BOOST_TEST(error_of("A B=1").find("line 1: key cannot contain a space") == 0u);
  BOOST_TEST(error_of("A=1\nNAME\n").find("line 2: missing '=' after the key") == 0u);
  BOOST_TEST(error_of("=1").find("line 1: missing key before '='") == 0u);
  BOOST_TEST(error_of("A$B=1").find("line 1, column 2: unexpected character in a key") == 0u);
}

BOOST_AUTO_TEST_CASE(error_messages_never_contain_any_part_of_a_value) {
  const std::string secret = "Sup3rS3cretPassw0rd";
  const std::string texts[] = {
      "PASSWORD=\"" + secret,                           // unterminated double quote
      "PASSWORD='" + secret + "\nB=2\n",                // unterminated single quote
      "PASSWORD=\"" + secret + "\"" + secret,           // text after the closing quote
      "PASSWORD='x'" + secret + "\n",                   // text after the closing quote
      "PASSWORD=x\n" + secret + " " + secret + "\n",    // a stray line with a space
      "PASSWORD=x\n" + secret + "\n",                   // a stray line without '='
      "PASSWORD=x\n" + secret + "%" + secret + "=y\n",  // a stray line, bad character
      "PASSWORD\xC2\xA0" + secret + "=1\n",
  };
  for (const std::string &text : texts) {
    std::string message = error_of(text);
    BOOST_TEST(!leaks(message, secret), "leaks: " << message);
  }
  const std::string expanded[] = {
      "PASSWORD=" + secret + "${" + secret,           // unterminated reference
      "PASSWORD=" + secret + "${1" + secret + "}",    // invalid reference
      "PASSWORD=" + secret + "${X:?" + secret + "}",  // required and missing
      "PASSWORD=\"" + secret + "${" + secret + ":*x}\"",
  };
  for (const std::string &text : expanded) {
    std::string message = error_of(text, true);
    BOOST_TEST(!leaks(message, secret), "leaks: " << message);
    BOOST_TEST(message.find("line 1:") == 0u, message);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(quoting)

BOOST_AUTO_TEST_CASE(double_quotes_decode_the_compose_escapes) {
  BOOST_TEST(value(R"(K="a\"b\\c\nd\te\$f")", "K") == "a\"b\\c\nd\te$f");
  BOOST_TEST(value(R"(K="\a\b\f\v\r")", "K") == "\a\b\f\v\r");
  BOOST_TEST(value(R"(K="\0101\0377\09\x41\u00e9\ z")", "K") == "A\xC3\xBF\\09\\x41\\u00e9\\ z");
}

BOOST_AUTO_TEST_CASE(single_quotes_are_literal_except_an_escaped_quote) {
  BOOST_TEST(value(R"(K='a\nb\\c\'d$e')", "K") == R"(a\nb\\c'd$e)");
}

BOOST_AUTO_TEST_CASE(unquoted_values_are_literal) {
  BOOST_TEST(value(R"(K=a\nb\"c'd"e`f`)", "K") == R"(a\nb\"c'd"e`f`)");
  BOOST_TEST(value("K= \t spaced out \t \n", "K") == "spaced out");
}

BOOST_AUTO_TEST_CASE(the_last_definition_wins_and_duplicates_are_reported) {
  Document document = parse("A=1\nB=2\nA=3\n");
  BOOST_TEST(document.find("A")->value.view() == "3");
  BOOST_REQUIRE(document.duplicates.size() == 1u);
  BOOST_TEST(document.duplicates[0].name == "A");
  BOOST_TEST(document.duplicates[0].previous_line == 1u);
  BOOST_TEST(document.duplicates[0].line == 3u);
  BOOST_TEST(document.effective().size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(expansion)

BOOST_AUTO_TEST_CASE(expansion_is_off_by_default) {
  auto all = values("A=x\nB=${A}\nC=\"${A:-d}\"\nD=P@$$w0rd\nE=\"\\$A\"\n");
  BOOST_TEST(all["B"] == "${A}");
  BOOST_TEST(all["C"] == "${A:-d}");
  BOOST_TEST(all["D"] == "P@$$w0rd");
  BOOST_TEST(all["E"] == "$A");
}

BOOST_AUTO_TEST_CASE(expansion_on_expands_the_braced_forms) {
  auto all = values(
      "A=x\nEMPTY=\n"
      "B=${A}\nC=${MISSING:-d}\nD=${EMPTY:-d}\nE=${EMPTY-d}\nF=${A:+alt}\nG=${EMPTY+alt}\n"
      "H=\"<${MISSING:-${A}}>\"\nI=P@$$w0rd\nJ=\"\\${A}\"\nK='${A}'\nL=${A?}\n",
      true);
  BOOST_TEST(all["B"] == "x");
  BOOST_TEST(all["C"] == "d");
  BOOST_TEST(all["D"] == "d");
  BOOST_TEST(all["E"] == "");
  BOOST_TEST(all["F"] == "alt");
  BOOST_TEST(all["G"] == "alt");
  BOOST_TEST(all["H"] == "<x>");
  BOOST_TEST(all["I"] == "P@$w0rd");
  BOOST_TEST(all["J"] == "${A}");
  BOOST_TEST(all["K"] == "${A}");
  BOOST_TEST(all["L"] == "x");
}

BOOST_AUTO_TEST_CASE(a_bare_dollar_name_is_never_expanded) {
  auto all = values("A=x\nB=pa$A\nC=\"$A and $ and $\"\n", true);
  BOOST_TEST(all["B"] == "pa$A");
  BOOST_TEST(all["C"] == "$A and $ and $");
}

BOOST_AUTO_TEST_CASE(expansion_sees_earlier_lines_only_never_the_process_environment) {
  ::setenv("COFFER_TEST_FROM_ENVIRONMENT", "leaked", 1);
  ::setenv("A", "from-environment", 1);
  auto all = values("B=${A}\nA=x\nC=${A}\nD=${COFFER_TEST_FROM_ENVIRONMENT}\n", true);
  BOOST_TEST(all["B"] == "");
  BOOST_TEST(all["C"] == "x");
  BOOST_TEST(all["D"] == "");
  ::unsetenv("COFFER_TEST_FROM_ENVIRONMENT");
  ::unsetenv("A");
}

BOOST_AUTO_TEST_CASE(required_references_fail_when_missing) {
  BOOST_TEST(error_of("A=${B:?set B}", true).find("line 1: required variable") == 0u);
  BOOST_TEST(error_of("B=\nA=${B:?}", true).find("line 2: required variable") == 0u);
  BOOST_TEST(value("B=\nA=${B?}", "A", true) == "");
}

BOOST_AUTO_TEST_CASE(malformed_references_are_errors) {
  BOOST_CHECK_THROW(parse("A=${B", {true}), SyntaxError);
  BOOST_CHECK_THROW(parse("A=${}", {true}), SyntaxError);
  BOOST_CHECK_THROW(parse("A=${1B}", {true}), SyntaxError);
  BOOST_CHECK_THROW(parse("A=${B:=x}", {true}), SyntaxError);
  BOOST_CHECK_NO_THROW(parse("A=${B", {false}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(commands)

BOOST_AUTO_TEST_CASE(command_substitution_is_never_executed) {
  const coffer::test::TempDirectory scratch("coffer-env-file-command");
  const std::filesystem::path marker = scratch / "touched";
  const std::string touch = "touch " + marker.string();
  const std::string text = "A=$(" + touch + ")\nB=\"$(" + touch + ")\"\nC=`" + touch +
                           "`\nD=\"${X:-$(" + touch + ")}\"\nE=$$(" + touch + ")\n";
  for (bool expand : {false, true}) {
    auto all = values(text, expand);
    BOOST_TEST(all["A"] == "$(" + touch + ")");
    BOOST_TEST(all["B"] == "$(" + touch + ")");
    BOOST_TEST(all["C"] == "`" + touch + "`");
    BOOST_TEST(all["D"] == (expand ? "$(" + touch + ")" : "${X:-$(" + touch + ")}"));
    BOOST_TEST(all["E"] == (expand ? "$(" + touch + ")" : "$$(" + touch + ")"));
  }
  BOOST_TEST(!std::filesystem::exists(marker));
}

BOOST_AUTO_TEST_SUITE_END()
