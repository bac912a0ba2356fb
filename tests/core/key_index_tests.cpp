// The route index of the cache-hit path: every name it was built with is
// found, nothing else is, whatever the length of the name.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "policy/key_index.hpp"

using coffer::detail::KeyIndex;

namespace {

struct Built {
  std::vector<std::string> names;
  std::vector<int> values;
  KeyIndex<int> index;
};

Built build(std::vector<std::string> names) {
  Built b;
  b.names = std::move(names);
  b.values.resize(b.names.size());
  std::vector<std::pair<std::string_view, const int *>> items;
  for (std::size_t i = 0; i < b.names.size(); ++i) {
    b.values[i] = static_cast<int>(i);
    items.emplace_back(b.names[i], &b.values[i]);
  }
  b.index = KeyIndex<int>(items);
  return b;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(key_index)

BOOST_AUTO_TEST_CASE(finds_every_name_of_every_length) {
  std::vector<std::string> names;
  for (std::size_t n = 0; n <= 40; ++n) names.push_back(std::string(n, 'k'));
  names.push_back("VCS.GithubAdminPAT");
  names.push_back("VCS.GithubAdminPAU");  // differs in the last byte
  names.push_back("VCS.GithubXdminPAT");  // in the middle
  names.push_back("WCS.GithubAdminPAT");  // in the first
  auto b = build(names);
  for (std::size_t i = 0; i < b.names.size(); ++i) {
    const int *found = b.index.find(b.names[i]);
    BOOST_TEST_REQUIRE(found != nullptr, "not found: '" << b.names[i] << "'");
    BOOST_TEST(*found == static_cast<int>(i));
  }
}

BOOST_AUTO_TEST_CASE(finds_nothing_it_was_not_built_with) {
  auto b = build({"VCS.GithubAdminPAT", "Email.SMTPPassword", "A.B"});
  for (const char *absent : {"", "VCS.GithubAdminPA", "VCS.GithubAdminPATs", "VCS.GithubAdminPAt",
                             "Email.SMTPPasswore", "A.C", "A.", "B.A"})
    BOOST_TEST(b.index.find(absent) == nullptr, "found: '" << absent << "'");
}

BOOST_AUTO_TEST_CASE(many_names_with_shared_prefixes) {
  std::vector<std::string> names;
  for (int i = 0; i < 2000; ++i) names.push_back("Category.Name" + std::to_string(i));
  auto b = build(names);
  for (std::size_t i = 0; i < b.names.size(); ++i) {
    const int *found = b.index.find(b.names[i]);
    BOOST_TEST_REQUIRE(found != nullptr);
    BOOST_TEST_REQUIRE(*found == static_cast<int>(i));
  }
  BOOST_TEST(b.index.find("Category.Name2000") == nullptr);
}

BOOST_AUTO_TEST_CASE(an_empty_index_finds_nothing) {
  KeyIndex<int> empty;
  BOOST_TEST(empty.find("VCS.GithubAdminPAT") == nullptr);
  auto b = build({});
  BOOST_TEST(b.index.find("") == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
