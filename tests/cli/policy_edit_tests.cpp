// Re-routing a policy file by editing its text (policy_edit.hpp): the bytes
// that change and the ones that must not, refusals, and replacing the file.
#define BOOST_TEST_MODULE cli_unit_tests
#include "policy_edit.hpp"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "temp_directory.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

using coffer::cli::edit_routes;
using coffer::cli::PolicyEdit;
using coffer::cli::replace_file_atomically;
using coffer::cli::RouteChange;
using Target = coffer::cli::RouteChange::Target;
namespace fs = std::filesystem;

namespace {

RouteChange category(std::string name, std::string from = "db", std::string to = "vault") {
  return RouteChange{Target::category, std::move(name), std::move(from), std::move(to)};
}

RouteChange key(std::string name, std::string from = "db", std::string to = "vault") {
  return RouteChange{Target::key, std::move(name), std::move(from), std::move(to)};
}

PolicyEdit edit(const std::string &text, const std::vector<RouteChange> &changes) {
  return edit_routes("coffer.json", text, changes);
}

// Applies `changes`, expects `expected` byte for byte, and expects a second run
// on the result to change nothing.
PolicyEdit expect_edit(const std::string &text, const std::vector<RouteChange> &changes,
                       const std::string &expected) {
  PolicyEdit result = edit(text, changes);
  BOOST_TEST(result.possible, result.refusal);
  BOOST_TEST(result.text == expected);
  PolicyEdit again = edit(result.text, changes);
  BOOST_TEST(again.possible);
  BOOST_TEST(again.text == result.text);
  BOOST_TEST(again.done.empty());
  return result;
}

// Expects a refusal with the text unchanged; returns it for its messages.
PolicyEdit expect_refusal(const std::string &text, const std::vector<RouteChange> &changes) {
  PolicyEdit result = edit(text, changes);
  BOOST_TEST(!result.possible);
  BOOST_TEST(result.text == text);
  BOOST_TEST(result.done.empty());
  BOOST_TEST(!result.refusal.empty());
  BOOST_TEST(!result.instructions.empty());
  return result;
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

void write_file(const fs::path &path, const std::string &text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string read_file(const fs::path &path) {
  std::ostringstream out;
  out << std::ifstream(path, std::ios::binary).rdbuf();
  return out.str();
}

std::vector<std::string> names_in(const fs::path &directory) {
  std::vector<std::string> names;
  for (const auto &entry : fs::directory_iterator(directory))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replacing_a_provider_name)

BOOST_AUTO_TEST_CASE(a_string_route_changes_only_its_literal) {
  const std::string before = R"({
  "coffer": 1,
  // routes: which provider serves what
  "routes": {
    /* version control */ "VCS": /* was "db" */ "db", // "db" for now
    "*": "db"
  }
}
)";
  const std::string after = R"({
  "coffer": 1,
  // routes: which provider serves what
  "routes": {
    /* version control */ "VCS": /* was "db" */ "vault", // "db" for now
    "*": "db"
  }
}
)";
  PolicyEdit result = expect_edit(before, {category("VCS")}, after);
  BOOST_TEST(
      result.done == std::vector<std::string>{R"(coffer.json:5: routes.VCS: "db" -> "vault")"},
      boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_array_route) {
  expect_edit(R"({ "routes": { "Email": ["db", "local"] } })", {category("Email")},
              R"({ "routes": { "Email": ["vault", "local"] } })");
}

BOOST_AUTO_TEST_CASE(an_object_chain_with_a_providers_array) {
  const std::string before = R"({
  "routes": {
    "CIAdmin": { "providers": ["local", "db"],
                 "on": { "denied": "continue" },
                 "deny": ["CIAdmin.AzureAuthSecret"] },
  },
})";
  const std::string after = R"({
  "routes": {
    "CIAdmin": { "providers": ["local", "vault"],
                 "on": { "denied": "continue" },
                 "deny": ["CIAdmin.AzureAuthSecret"] },
  },
})";
  PolicyEdit result = expect_edit(before, {category("CIAdmin")}, after);
  BOOST_TEST(
      result.done ==
          std::vector<std::string>{R"(coffer.json:3: routes.CIAdmin.providers: "db" -> "vault")"},
      boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_object_chain_with_a_providers_string) {
  expect_edit(R"({"routes": {"VCS": {"providers": "db", "on": {"denied": "continue"}}}})",
              {category("VCS")},
              R"({"routes": {"VCS": {"providers": "vault", "on": {"denied": "continue"}}}})");
}

BOOST_AUTO_TEST_CASE(a_member_name_written_with_an_escape_still_matches) {
  expect_edit(R"({"routes": {"V\u0043S": "db"}})", {category("VCS")},
              R"({"routes": {"V\u0043S": "vault"}})");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(chains_that_already_name_the_new_provider)

BOOST_AUTO_TEST_CASE(the_old_provider_is_removed_when_it_comes_first) {
  PolicyEdit result = expect_edit(R"({"routes": {"Email": ["db", "vault"]}})", {category("Email")},
                                  R"({"routes": {"Email": ["vault"]}})");
  BOOST_TEST(result.done ==
                 std::vector<std::string>{
                     R"(coffer.json:1: routes.Email: removed "db" ("vault" is already in it))"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_old_provider_is_removed_when_it_comes_last) {
  expect_edit(R"({"routes": {"Email": ["vault", "db"]}})", {category("Email")},
              R"({"routes": {"Email": ["vault"]}})");
}

BOOST_AUTO_TEST_CASE(an_element_on_its_own_line_goes_with_its_line) {
  expect_edit("{\"routes\": {\"Email\": [\n    \"db\",\n    \"vault\"\n  ]}}", {category("Email")},
              "{\"routes\": {\"Email\": [\n    \"vault\"\n  ]}}");
  expect_edit("{\"routes\": {\"Email\": [\n    \"local\",\n    \"vault\",\n    \"db\"\n  ]}}",
              {category("Email")},
              "{\"routes\": {\"Email\": [\n    \"local\",\n    \"vault\"\n  ]}}");
}

BOOST_AUTO_TEST_CASE(a_chain_naming_only_the_new_provider_is_left_alone) {
  const std::string text = R"({"routes": {"VCS": ["vault", "local"]}})";
  PolicyEdit result = edit(text, {category("VCS")});
  BOOST_TEST(result.possible);
  BOOST_TEST(result.text == text);
  BOOST_TEST(result.done.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(adding_a_route)

BOOST_AUTO_TEST_CASE(before_the_default_route_with_its_indentation) {
  const std::string before = R"({
  "routes": {
    "Email": "local",
    "*":     "db"
  }
})";
  const std::string after = R"({
  "routes": {
    "Email": "local",
    "VCS": "vault",
    "*":     "db"
  }
})";
  PolicyEdit result = expect_edit(before, {category("VCS")}, after);
  BOOST_TEST(result.done ==
                 std::vector<std::string>{
                     R"(coffer.json:4: routes.VCS: added "vault" (was served by routes."*"))"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(after_a_last_member_with_a_trailing_comma) {
  const std::string before = "{\n  \"routes\": {\n    \"Email\": \"local\",\n  },\n}\n";
  const std::string after =
      "{\n  \"routes\": {\n    \"Email\": \"local\",\n    \"VCS\": \"vault\",\n  },\n}\n";
  expect_edit(before, {category("VCS")}, after);
}

BOOST_AUTO_TEST_CASE(after_a_last_member_without_a_comma_and_with_a_comment) {
  const std::string before = "{\n  \"routes\": {\n    \"Email\": \"local\" // mail\n  }\n}\n";
  const std::string after =
      "{\n  \"routes\": {\n    \"Email\": \"local\", // mail\n    \"VCS\": \"vault\"\n  }\n}\n";
  expect_edit(before, {category("VCS")}, after);
}

BOOST_AUTO_TEST_CASE(inline_in_a_single_line_routes_object) {
  expect_edit(R"({"routes": { "*": "db" }})", {category("VCS")},
              R"({"routes": { "VCS": "vault", "*": "db" }})");
  expect_edit(R"({"routes": { "Email": "db" }})", {category("VCS")},
              R"({"routes": { "Email": "db", "VCS": "vault" }})");
  expect_edit(R"({"routes": {}, "keys": {"Email.X": "db"}})", {category("VCS")},
              R"({"routes": { "VCS": "vault" }, "keys": {"Email.X": "db"}})");
}

BOOST_AUTO_TEST_CASE(not_when_the_default_route_has_settings_a_new_route_would_drop) {
  PolicyEdit result =
      expect_refusal(R"({"routes": {"*": {"providers": "db", "deny": ["VCS.AzureAuthSecret"]}}})",
                     {category("VCS")});
  BOOST_TEST(contains(result.refusal, R"("deny")"), result.refusal);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(keys)

BOOST_AUTO_TEST_CASE(key_overrides_of_the_category_move_with_it) {
  const std::string before = R"({
  "routes": { "VCS": "db", "*": "local" },
  "keys": {
    "VCS.GithubAdminPAT": ["db", "local"],
    "VCS.AzureAuthSecret": "local",
    "VCSX.Other": "db",
    "Email.SMTPPassword": "db"
  }
})";
  const std::string after = R"({
  "routes": { "VCS": "vault", "*": "local" },
  "keys": {
    "VCS.GithubAdminPAT": ["vault", "local"],
    "VCS.AzureAuthSecret": "local",
    "VCSX.Other": "db",
    "Email.SMTPPassword": "db"
  }
})";
  PolicyEdit result = expect_edit(before, {category("VCS")}, after);
  BOOST_TEST(result.done == (std::vector<std::string>{
                                R"(coffer.json:2: routes.VCS: "db" -> "vault")",
                                R"(coffer.json:4: keys.VCS.GithubAdminPAT: "db" -> "vault")"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(key_overrides_move_when_the_route_is_added) {
  expect_edit(
      R"({"routes": {"*": "db"}, "keys": {"VCS.GithubAdminPAT": "db"}})", {category("VCS")},
      R"({"routes": {"VCS": "vault", "*": "db"}, "keys": {"VCS.GithubAdminPAT": "vault"}})");
}

BOOST_AUTO_TEST_CASE(a_key_in_an_existing_keys_object) {
  expect_edit(R"({"routes": {"*": "db"}, "keys": {"VCS.GithubAdminPAT": "db"}})",
              {key("VCS.GithubAdminPAT")},
              R"({"routes": {"*": "db"}, "keys": {"VCS.GithubAdminPAT": "vault"}})");
  const std::string before = R"({
  "routes": { "*": "db" },
  "keys": {
    "Email.SMTPPassword": "local"
  }
})";
  const std::string after = R"({
  "routes": { "*": "db" },
  "keys": {
    "Email.SMTPPassword": "local",
    "VCS.GithubAdminPAT": "vault"
  }
})";
  PolicyEdit result = expect_edit(before, {key("VCS.GithubAdminPAT")}, after);
  BOOST_TEST(
      result.done ==
          std::vector<std::string>{R"(coffer.json:5: keys.VCS.GithubAdminPAT: added "vault")"},
      boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_keys_object_is_added_after_routes) {
  const std::string before = R"({
  "coffer": 1,
  "routes": { "*": "db" },
  "timeout_ms": 30000
})";
  const std::string after = R"({
  "coffer": 1,
  "routes": { "*": "db" },
  "keys": { "VCS.GithubAdminPAT": "vault" },
  "timeout_ms": 30000
})";
  PolicyEdit result = expect_edit(before, {key("VCS.GithubAdminPAT")}, after);
  BOOST_TEST(result.done ==
                 std::vector<std::string>{
                     R"(coffer.json:4: keys: added with "VCS.GithubAdminPAT": "vault")"},
             boost::test_tools::per_element());
  // routes as the last member, without a comma.
  expect_edit("{\n  \"coffer\": 1,\n  \"routes\": { \"*\": \"db\" }\n}\n",
              {key("VCS.GithubAdminPAT")},
              "{\n  \"coffer\": 1,\n  \"routes\": { \"*\": \"db\" },\n"
              "  \"keys\": { \"VCS.GithubAdminPAT\": \"vault\" }\n}\n");
}

BOOST_AUTO_TEST_CASE(a_keys_entry_that_does_not_name_the_old_provider_is_refused) {
  PolicyEdit result =
      expect_refusal(R"({"routes": {"*": "db"}, "keys": {"VCS.GithubAdminPAT": "local"}})",
                     {key("VCS.GithubAdminPAT")});
  BOOST_TEST(
      result.refusal ==
          R"(coffer.json:1:56: keys.VCS.GithubAdminPAT does not name provider "db" (it names "local"))",
      result.refusal);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(several_changes)

BOOST_AUTO_TEST_CASE(lines_in_done_are_those_of_the_result) {
  const std::string before = R"({
  "routes": {
    "*": "db"
  },
  "cache": { "ttl_s": 60 }
})";
  const std::string after = R"({
  "routes": {
    "VCS": "vault",
    "Email": "vault",
    "*": "db"
  },
  "keys": { "CIAdmin.AzureAuthSecret": "vault" },
  "cache": { "ttl_s": 60 }
})";
  PolicyEdit result = expect_edit(
      before, {key("CIAdmin.AzureAuthSecret"), category("VCS"), category("Email")}, after);
  BOOST_TEST(result.done ==
                 (std::vector<std::string>{
                     R"(coffer.json:7: keys: added with "CIAdmin.AzureAuthSecret": "vault")",
                     R"(coffer.json:3: routes.VCS: added "vault" (was served by routes."*"))",
                     R"(coffer.json:4: routes.Email: added "vault" (was served by routes."*"))"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_refusal_points_into_the_input_not_the_text_edited_so_far) {
  const std::string before = R"({
  "routes": {
    "*": "db",
    "VCS": "local"
  }
})";
  PolicyEdit result = expect_refusal(before, {category("Email"), category("VCS")});
  BOOST_TEST(result.refusal.starts_with("coffer.json:4:12: routes.VCS does not name"),
             result.refusal);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(refusals)

BOOST_AUTO_TEST_CASE(a_route_that_does_not_use_the_old_provider) {
  const std::string text = "{\n  \"routes\": {\n    \"VCS\": \"local\"\n  }\n}\n";
  PolicyEdit result = expect_refusal(text, {category("VCS")});
  BOOST_TEST(result.refusal ==
                 R"(coffer.json:3:12: routes.VCS does not name provider "db" (it names "local"))",
             result.refusal);
  BOOST_TEST(contains(result.instructions, R"(make routes.VCS name "vault")"), result.instructions);
}

BOOST_AUTO_TEST_CASE(no_routes_object) {
  PolicyEdit result = expect_refusal(R"({"coffer": 1, "providers": {}})", {category("VCS")});
  BOOST_TEST(contains(result.refusal, R"(no "routes" object)"), result.refusal);
  BOOST_TEST(contains(result.instructions, R"("VCS": "vault")"), result.instructions);
  expect_refusal(R"({"routes": ["db"]})", {category("VCS")});
}

BOOST_AUTO_TEST_CASE(text_that_does_not_parse_with_line_and_column) {
  const std::string text = "{\n  \"routes\": {\n    \"VCS\": \"db\"\n    \"*\": \"db\"\n  }\n}\n";
  PolicyEdit result = expect_refusal(text, {category("VCS")});
  BOOST_TEST(
      result.refusal == "coffer.json:4:5: invalid JSON: expected ',' or '}' after an object member",
      result.refusal);
  PolicyEdit unclosed = expect_refusal("{\"routes\": {\"VCS\": \"db\"", {category("VCS")});
  BOOST_TEST(unclosed.refusal.starts_with("coffer.json:1:24: invalid JSON: unexpected end"),
             unclosed.refusal);
}

BOOST_AUTO_TEST_CASE(boost_json_placing_its_error_past_the_end) {
  // Boost.JSON 1.81 refuses this valid text ("/***/" after a "//" comment) and
  // reports a position past its end; the refusal points at the end instead.
  const std::string text = "{\"routes\": {\"VCS\": \"db\"}, //\n\"a\": {/**/\"b\": /***/\"c\"}}";
  PolicyEdit result = expect_refusal(text, {category("VCS")});
  BOOST_TEST(result.refusal.starts_with("coffer.json:2:26: invalid JSON"), result.refusal);
}

BOOST_AUTO_TEST_CASE(what_the_policy_loader_would_not_read_either) {
  // Invalid UTF-8, which the scanner lets through: it is not the only judge.
  PolicyEdit result =
      expect_refusal("{\"routes\": {\"VCS\": \"db\"}, \"note\": \"\xC3\x28\"}", {category("VCS")});
  BOOST_TEST(result.refusal.starts_with("coffer.json:1:"), result.refusal);
  BOOST_TEST(contains(result.refusal, "invalid JSON"), result.refusal);
}

BOOST_AUTO_TEST_CASE(an_escape_in_the_literal_to_replace) {
  PolicyEdit result = expect_refusal(R"({"routes": {"VCS": "d\u0062"}})", {category("VCS")});
  BOOST_TEST(contains(result.refusal, "escape"), result.refusal);
  BOOST_TEST(contains(result.instructions, R"(Replace "d\u0062" in routes.VCS with "vault")"),
             result.instructions);
}

BOOST_AUTO_TEST_CASE(a_chain_of_an_unexpected_shape) {
  expect_refusal(R"({"routes": {"VCS": 42}})", {category("VCS")});
  expect_refusal(R"({"routes": {"VCS": ["db", 1]}})", {category("VCS")});
  expect_refusal(R"({"routes": {"VCS": {"on": {}}}})", {category("VCS")});
  expect_refusal(R"({"routes": {"*": "db"}, "keys": {"VCS.X": null}})", {category("VCS")});
}

BOOST_AUTO_TEST_CASE(duplicate_members_and_names) {
  expect_refusal(R"({"routes": {"VCS": "db", "VCS": "local"}})", {category("VCS")});
  expect_refusal(R"({"routes": {"VCS": ["db", "local", "db"]}})", {category("VCS")});
}

BOOST_AUTO_TEST_CASE(changes_that_are_not_changes) {
  const std::string text = R"({"routes": {"VCS": "db"}})";
  expect_refusal(text, {category("VCS", "db", "db")});
  expect_refusal(text, {category("VCS.GithubAdminPAT")});
  expect_refusal(text, {key("VCS")});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(what_is_not_touched)

BOOST_AUTO_TEST_CASE(routes_in_a_comment_a_string_and_a_provider_config) {
  const std::string before = R"({
  // "routes": { "VCS": "db" },
  /* "routes": { "VCS": "db" }, */
  "description": "\"routes\": {\"VCS\": \"db\"} \u0041 \\",
  "providers": {
    "db": { "plugin": "database", "config": { "routes": { "VCS": "db" }, "keys": { "VCS.X": "db" } } }
  },
  "routes": { "VCS": "db" }
}
)";
  const std::string after = R"({
  // "routes": { "VCS": "db" },
  /* "routes": { "VCS": "db" }, */
  "description": "\"routes\": {\"VCS\": \"db\"} \u0041 \\",
  "providers": {
    "db": { "plugin": "database", "config": { "routes": { "VCS": "db" }, "keys": { "VCS.X": "db" } } }
  },
  "routes": { "VCS": "vault" }
}
)";
  expect_edit(before, {category("VCS")}, after);
}

BOOST_AUTO_TEST_CASE(routes_only_inside_a_provider_config_is_no_routes) {
  expect_refusal(
      R"({"providers": {"db": {"plugin": "database", "config": {"routes": {"VCS": "db"}}}}})",
      {category("VCS")});
}

BOOST_AUTO_TEST_CASE(a_comment_between_a_name_and_its_colon) {
  expect_edit(R"({"routes" /* c */ : {"VCS" // c
                : "db"}})",
              {category("VCS")}, R"({"routes" /* c */ : {"VCS" // c
                : "vault"}})");
}

BOOST_AUTO_TEST_CASE(a_crlf_file_stays_crlf) {
  const std::string before = "{\r\n  \"routes\": {\r\n    \"*\": \"db\"\r\n  }\r\n}\r\n";
  const std::string after =
      "{\r\n  \"routes\": {\r\n    \"VCS\": \"vault\",\r\n    \"*\": \"db\"\r\n  }\r\n}\r\n";
  expect_edit(before, {category("VCS")}, after);
  const std::string no_keys = "{\r\n  \"routes\": { \"*\": \"db\" } // all\r\n}\r\n";
  expect_edit(no_keys, {key("VCS.X")},
              "{\r\n  \"routes\": { \"*\": \"db\" }, // all\r\n"
              "  \"keys\": { \"VCS.X\": \"vault\" }\r\n}\r\n");
}

BOOST_AUTO_TEST_CASE(a_byte_order_mark_stays) {
  expect_edit("\xEF\xBB\xBF{\"routes\": {\"VCS\": \"db\"}}", {category("VCS")},
              "\xEF\xBB\xBF{\"routes\": {\"VCS\": \"vault\"}}");
  PolicyEdit result =
      expect_refusal("\xEF\xBB\xBF{\"routes\": {\"VCS\": \"local\"}}", {category("VCS")});
  BOOST_TEST(result.refusal.starts_with("coffer.json:1:20: "), result.refusal);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(replacing_the_file)

BOOST_AUTO_TEST_CASE(keeps_the_mode_and_leaves_no_temporary_file) {
  coffer::test::TempDirectory dir{"policy_edit"};
  const fs::path policy = dir.path() / "coffer.json";
  write_file(policy, "old");
  BOOST_REQUIRE(::chmod(policy.c_str(), 0640) == 0);
  replace_file_atomically(policy, "new\ntext\n");
  BOOST_TEST(read_file(policy) == "new\ntext\n");
  struct stat status {};
  BOOST_REQUIRE(::stat(policy.c_str(), &status) == 0);
  BOOST_TEST((status.st_mode & 07777) == 0640U);
  BOOST_TEST(names_in(dir.path()) == std::vector<std::string>{"coffer.json"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(refuses_a_symbolic_link) {
  coffer::test::TempDirectory dir{"policy_edit"};
  const fs::path target = dir.path() / "real.json";
  const fs::path link = dir.path() / "coffer.json";
  write_file(target, "old");
  fs::create_symlink(target, link);
  try {
    replace_file_atomically(link, "new");
    BOOST_FAIL("expected a refusal");
  } catch (const std::runtime_error &e) {
    BOOST_TEST(contains(e.what(), link.string()), e.what());
    BOOST_TEST(contains(e.what(), "symbolic link"), e.what());
  }
  BOOST_TEST(read_file(target) == "old");
  BOOST_TEST(fs::is_symlink(link));
  BOOST_TEST(names_in(dir.path()) == (std::vector<std::string>{"coffer.json", "real.json"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_an_error_naming_it) {
  coffer::test::TempDirectory dir{"policy_edit"};
  const fs::path missing = dir.path() / "coffer.json";
  BOOST_CHECK_EXCEPTION(
      replace_file_atomically(missing, "new"), std::runtime_error,
      [&](const std::runtime_error &e) { return contains(e.what(), missing.string()); });
  BOOST_TEST(names_in(dir.path()).empty());
}

BOOST_AUTO_TEST_SUITE_END()
