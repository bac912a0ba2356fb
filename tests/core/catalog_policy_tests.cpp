#define BOOST_TEST_MODULE core_unit_tests
#include <coffer/catalog.hpp>
#include <coffer/error.hpp>

#include <boost/test/unit_test.hpp>

#include "base/json_text.hpp"
#include "policy/policy.hpp"
#include "temp_directory.hpp"
#include "test_policy.hpp"

using coffer::Code;
using coffer::Error;
namespace detail = coffer::detail;

namespace {

// The message of the Error that `body` throws, checking its code.
template <class Body>
std::string error_of(Body &&body, Code expected = Code::invalid_config) {
  try {
    body();
  } catch (const Error &e) {
    BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(expected));
    return e.what();
  }
  BOOST_FAIL("expected an error");
  return {};
}

detail::Policy parse(const std::string &text) {
  return detail::parse_policy("policy.json", text, "/etc/coffer");
}

const std::string kMinimal =
    R"({"coffer": 1, "providers": {"p": {"plugin": "memory"}}, "routes": {"*": "p"}})";

}  // namespace

BOOST_AUTO_TEST_SUITE(catalog)

BOOST_AUTO_TEST_CASE(builtin_catalog_has_the_thirty_platform_keys) {
  auto catalog = coffer::Catalog::builtin();
  BOOST_TEST(catalog.entries().size() == 30u);
  BOOST_TEST(catalog.categories().size() == 11u);
  BOOST_TEST(catalog.contains("VCS.BitbucketProjectAdminPAT"));
  BOOST_TEST(catalog.contains("Email.SMTPPassword"));
  BOOST_TEST(catalog.find("CIAdmin.AzureAwsS3SK")->category == "CIAdmin");
  BOOST_TEST(!catalog.contains("vcs.GithubAdminPAT"));  // names are case-sensitive
}

BOOST_AUTO_TEST_CASE(builtin_catalog_groups_keys_as_the_platform_does) {
  auto catalog = coffer::Catalog::builtin();
  const auto *github = catalog.find("VCS.GithubAdminPAT");
  BOOST_TEST(github->group == "Version Control");
  BOOST_TEST(github->service == "GitHub");
  BOOST_TEST(catalog.find("VCS.BitbucketProjectAdminPAT")->service == "Bitbucket");
  BOOST_TEST(catalog.find("VCS.GitlabAdminPAT")->service == "GitLab");
  BOOST_TEST(catalog.find("VCS.AzureDevOpsOrgAdminPAT")->service == "Azure DevOps");
  BOOST_TEST(catalog.find("OCIRegistry.PrivateRegistryPassword")->group ==
             "Kubernetes build settings");
  BOOST_TEST(catalog.find("CIAdmin.JenkinsTriggerAuthToken")->group == "Build cluster settings");
  BOOST_TEST(catalog.find("ClusterSettings.GrafanaAPIKey")->group == "Cluster manager");
  BOOST_TEST(catalog.find("Email.SMTPPassword")->group == "Email");
  std::vector<std::string> expected = {"Version Control",
                                       "Kubernetes build settings",
                                       "Build cluster settings",
                                       "Cluster manager",
                                       "Marketplace",
                                       "Email"};
  BOOST_TEST(catalog.groups() == expected, boost::test_tools::per_element());
  for (const auto &entry : catalog.entries()) {
    BOOST_TEST(!entry.group.empty(), entry.key);
    BOOST_TEST(!entry.service.empty(), entry.key);
  }
}

BOOST_AUTO_TEST_CASE(host_catalog_group_and_service_default_to_the_category) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("extra.json", R"({"keys": [
      {"key": "Billing.StripeKey", "group": "Payments", "service": "Stripe"},
      {"key": "Billing.WebhookSecret"}]})");
  coffer::Catalog catalog;
  catalog.add_file(file);
  BOOST_TEST(catalog.find("Billing.StripeKey")->group == "Payments");
  BOOST_TEST(catalog.find("Billing.StripeKey")->service == "Stripe");
  BOOST_TEST(catalog.find("Billing.WebhookSecret")->group == "Billing");
  BOOST_TEST(catalog.find("Billing.WebhookSecret")->service == "Billing");
  coffer::CatalogEntry pager;
  pager.key = "Ops.PagerKey";
  catalog.add(pager);
  BOOST_TEST(catalog.find("Ops.PagerKey")->group == "Ops");
}

BOOST_AUTO_TEST_CASE(a_catalog_group_that_is_not_a_string_is_an_error_at_its_line) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("bad.json", "{\"keys\": [\n  {\"key\": \"A.B\",\n   \"group\": 7}]}\n");
  coffer::Catalog catalog;
  std::string message = error_of([&] { catalog.add_file(file); });
  BOOST_TEST(message.find(file.string() + ":3:") != std::string::npos, message);
  BOOST_TEST(message.find("\"group\"") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(nearest_key_for_a_typo) {
  auto catalog = coffer::Catalog::builtin();
  BOOST_TEST(catalog.nearest("VCS.GitHubAdminPat").value() == "VCS.GithubAdminPAT");
  BOOST_TEST(catalog.nearest("Email.SMTPPasword").value() == "Email.SMTPPassword");
  BOOST_TEST(!catalog.nearest("Completely.Different").has_value());
}

// A temporary catalog's entries outlive it in a range-for (AddressSanitizer
// reports the use after free a reference to them would be).
BOOST_AUTO_TEST_CASE(a_temporary_catalogs_entries_can_be_iterated) {
  std::size_t count = 0;
  bool has_smtp = false;
  for (const auto &entry : coffer::Catalog::builtin().entries()) {
    ++count;
    has_smtp = has_smtp || entry.key == "Email.SMTPPassword";
  }
  BOOST_TEST(count == coffer::Catalog::builtin().entries().size());
  BOOST_TEST(count == 30u);
  BOOST_TEST(has_smtp);
}

BOOST_AUTO_TEST_CASE(host_catalog_file_adds_keys) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("extra.json", R"({
    // a host's own credentials
    "coffer_catalog": 1,
    "keys": [
      {"key": "Billing.StripeKey", "description": "Stripe API key"},
      {"key": "Billing.WebhookSecret"},
    ]
  })");
  auto catalog = coffer::Catalog::builtin();
  catalog.add_file(file);
  BOOST_TEST(catalog.entries().size() == 32u);
  BOOST_TEST(catalog.find("Billing.StripeKey")->source == file.string());
}

BOOST_AUTO_TEST_CASE(catalog_errors_name_file_line_and_entry) {
  coffer::test::TempDirectory dir;
  auto file = dir.write("bad.json", "{\n  \"keys\": [\n    {\"key\": \"NoDot\"}\n  ]\n}\n");
  coffer::Catalog catalog;
  std::string message = error_of([&] { catalog.add_file(file); });
  BOOST_TEST(message.find(file.string() + ":3:5:") != std::string::npos, message);
  BOOST_TEST(message.find("NoDot") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(canonical_key_form) {
  BOOST_TEST(coffer::is_canonical_key("VCS.GithubAdminPAT"));
  BOOST_TEST(!coffer::is_canonical_key("VCS"));
  BOOST_TEST(!coffer::is_canonical_key("VCS."));
  BOOST_TEST(!coffer::is_canonical_key(".Name"));
  BOOST_TEST(!coffer::is_canonical_key("VCS.Github.Admin"));
  BOOST_TEST(!coffer::is_canonical_key("VCS.Github-Admin"));
  BOOST_TEST(!coffer::is_canonical_key("1VCS.Name"));
  BOOST_TEST(coffer::category_of("Email.SMTPPassword") == "Email");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(code_names)

BOOST_AUTO_TEST_CASE(every_code_has_one_name_that_reads_back_as_the_code) {
  auto names = coffer::code_names();
  BOOST_TEST(names.size() == static_cast<std::size_t>(Code::data_error) + 1);
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto code = static_cast<Code>(i);
    BOOST_TEST(coffer::to_string(code) == names[i]);
    BOOST_TEST_REQUIRE(coffer::code_named(names[i]).has_value(), names[i]);
    BOOST_TEST(static_cast<int>(*coffer::code_named(names[i])) == static_cast<int>(i));
    BOOST_TEST(names[i].data()[names[i].size()] == '\0', "NUL-terminated: " << names[i]);
  }
  BOOST_TEST(names[0] == "ok");
  BOOST_TEST(coffer::to_string(Code::not_found) == "not_found");
  BOOST_TEST(coffer::to_string(Code::data_error) == "data_error");
}

BOOST_AUTO_TEST_CASE(other_text_and_other_numbers_are_no_code) {
  BOOST_TEST(!coffer::code_named("").has_value());
  BOOST_TEST(!coffer::code_named("Not_Found").has_value());
  BOOST_TEST(!coffer::code_named("not_found ").has_value());
  BOOST_TEST(coffer::to_string(static_cast<Code>(10)) == "internal");
  BOOST_TEST(coffer::to_string(static_cast<Code>(-1)) == "internal");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(policy)

BOOST_AUTO_TEST_CASE(comments_and_trailing_commas_are_accepted) {
  auto p = parse(R"({
    // the format version
    "coffer": 1,
    /* two providers */
    "providers": {
      "a": {"plugin": "memory", "config": {"values": {}},},
      "b": {"plugin": "memory"},
    },
    "routes": {"VCS": ["a", "b"], "*": "b",},
    "keys": {"Email.SMTPPassword": "a"},
    "cache": {"ttl_s": 60, "stale_if_error_s": 600},
  })");
  BOOST_TEST(p.providers.size() == 2u);
  BOOST_TEST(p.providers[0].config_json == R"({"values":{}})");
  BOOST_TEST(p.routes.at("VCS").chain.providers.size() == 2u);
  BOOST_TEST(p.keys.at("Email.SMTPPassword").providers.front() == "a");
  BOOST_TEST(p.cache.ttl.count() == 60000);
}

BOOST_AUTO_TEST_CASE(syntax_error_gives_file_line_and_column) {
  std::string message = error_of([] { parse("{\n  \"coffer\": 1,\n  \"providers\": {,}\n}"); });
  BOOST_TEST(message.find("policy.json:3:") == 0u, message);
  BOOST_TEST(message.find("invalid JSON") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(truncated_document_says_so) {
  std::string message = error_of([] { parse("{\"coffer\": 1, \"providers\": {"); });
  BOOST_TEST(message.find("end of the document") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(unknown_field_names_the_nearest_known_one_and_where) {
  std::string message = error_of([] {
    parse(
        "{\n  \"coffer\": 1,\n  \"providers\": {\"p\": {\"plugin\": \"memory\"}},\n"
        "  \"rotes\": {\"*\": \"p\"}\n}");
  });
  BOOST_TEST(message.find("policy.json:4:3:") == 0u, message);
  BOOST_TEST(message.find("did you mean 'routes'") != std::string::npos, message);
  std::string nested = error_of([] {
    parse(
        R"({"coffer": 1, "providers": {"p": {"plugin": "memory", "confg": {}}}, "routes": {"*": "p"}})");
  });
  BOOST_TEST(nested.find("providers.p.confg") != std::string::npos, nested);
  BOOST_TEST(nested.find("did you mean 'config'") != std::string::npos, nested);
}

BOOST_AUTO_TEST_CASE(route_to_a_missing_provider_is_an_error) {
  std::string message = error_of([] {
    parse(
        "{\"coffer\": 1,\n \"providers\": {\"vault\": {\"plugin\": \"memory\"}},\n"
        " \"routes\": {\"VCS\": [\"vault\", \"valt2\"], \"*\": \"vault\"}}");
  });
  BOOST_TEST(message.find("policy.json:3:") == 0u, message);
  BOOST_TEST(message.find("routes.VCS[1]") != std::string::npos, message);
  BOOST_TEST(message.find("no provider named 'valt2'") != std::string::npos, message);
  BOOST_TEST(message.find("did you mean 'vault'") != std::string::npos, message);
  std::string in_keys = error_of([] {
    parse(
        R"({"coffer": 1, "providers": {"p": {"plugin": "memory"}}, "keys": {"VCS.GithubAdminPAT": "q"}})");
  });
  BOOST_TEST(in_keys.find("keys.VCS.GithubAdminPAT") != std::string::npos, in_keys);
}

BOOST_AUTO_TEST_CASE(format_version_is_required_and_checked) {
  BOOST_TEST(error_of([] {
               parse(R"({"providers": {"p": {"plugin": "memory"}}, "routes": {"*": "p"}})");
             }).find("\"coffer\": 1") != std::string::npos);
  BOOST_TEST(
      error_of([] {
        parse(R"({"coffer": 2, "providers": {"p": {"plugin": "memory"}}, "routes": {"*": "p"}})");
      }).find("format version") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(values_of_the_wrong_type_say_what_was_expected) {
  BOOST_TEST(error_of([] {
               parse(R"({"coffer": 1, "providers": {"p": {"plugin": 7}}, "routes": {"*": "p"}})");
             }).find("expected \"plugin\"") != std::string::npos);
  BOOST_TEST(
      error_of([] {
        parse(R"({"coffer": 1, "providers": {"p": {"plugin": "../evil"}}, "routes": {"*": "p"}})");
      }).find("lower-case letters") != std::string::npos);
  BOOST_TEST(
      error_of([] {
        parse(
            R"({"coffer": 1, "providers": {"p": {"plugin": "memory", "sha256": "abc"}}, "routes": {"*": "p"}})");
      }).find("64 hexadecimal") != std::string::npos);
  BOOST_TEST(
      error_of([] {
        parse(
            R"({"coffer": 1, "providers": {"p": {"plugin": "memory"}}, "routes": {"*": {"providers": "p", "on": {"denied": "maybe"}}}})");
      }).find("\"continue\" or \"stop\"") != std::string::npos);
  BOOST_TEST(
      error_of([] {
        parse(
            R"({"coffer": 1, "providers": {"p": {"plugin": "memory"}}, "routes": {"VCS": {"providers": "p", "allow": ["Email.SMTPPassword"]}}})");
      }).find("not a key of category VCS") != std::string::npos);
  BOOST_TEST(
      error_of([] {
        parse(
            R"({"coffer": 1, "providers": {"p": {"plugin": "memory"}}, "routes": {"*": "p"}, "cache": {"ttl_s": -1}})");
      }).find("zero or more") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(chain_actions_default_and_override) {
  auto p =
      parse(R"({"coffer": 1, "providers": {"a": {"plugin": "memory"}, "b": {"plugin": "memory"}},
    "routes": {"*": {"providers": ["a", "b"], "on": {"denied": "continue", "not_found": "stop"}}}})");
  const auto &chain = p.routes.at("*").chain;
  BOOST_TEST((chain.action(Code::denied) == detail::OnFailure::next));
  BOOST_TEST((chain.action(Code::not_found) == detail::OnFailure::stop));
  BOOST_TEST((chain.action(Code::unavailable) == detail::OnFailure::next));
  BOOST_TEST((chain.action(Code::data_error) == detail::OnFailure::stop));
  BOOST_TEST((detail::default_action(Code::denied) == detail::OnFailure::stop));
}

BOOST_AUTO_TEST_CASE(a_chain_action_names_a_failure_by_its_code_name) {
  auto on = [](const std::string &status) {
    return error_of([&] {
      parse(R"({"coffer": 1, "providers": {"p": {"plugin": "memory"}},
                "routes": {"*": {"providers": "p", "on": {")" +
            status + R"(": "stop"}}}})");
    });
  };
  BOOST_TEST(
      on("not_fuond").find("unknown status (did you mean 'not_found'?)") != std::string::npos,
      on("not_fuond"));
  // "ok" is a code's name but no failure.
  BOOST_TEST(on("ok").find("unknown status") != std::string::npos, on("ok"));
  for (std::string_view name : coffer::code_names().subspan(1)) {
    auto p = parse(R"({"coffer": 1, "providers": {"p": {"plugin": "memory"}},
                       "routes": {"*": {"providers": "p", "on": {")" +
                   std::string(name) + R"(": "stop"}}}})");
    BOOST_TEST(
        (p.routes.at("*").chain.action(*coffer::code_named(name)) == detail::OnFailure::stop),
        name);
  }
}

BOOST_AUTO_TEST_CASE(relative_plugin_dirs_resolve_against_the_policy_directory) {
  auto p = parse(
      R"({"coffer": 1, "plugin_dirs": ["plugins", "/opt/x"], "providers": {"p": {"plugin": "memory"}}, "routes": {"*": "p"}})");
  BOOST_TEST(p.plugin_dirs[0] == std::filesystem::path("/etc/coffer/plugins"));
  BOOST_TEST(p.plugin_dirs[1] == std::filesystem::path("/opt/x"));
}

BOOST_AUTO_TEST_CASE(minimal_policy_parses) {
  BOOST_TEST(parse(kMinimal).providers.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
