// `coffer rm` asks before it removes: on a terminal it says what goes and
// waits for a yes; elsewhere it needs --yes.
#include <boost/test/unit_test.hpp>

#include "cli_fixture.hpp"

using coffer::test::CliFixture;
using coffer::test::contains;
using coffer::test::describe;

namespace {

struct RmFixture : CliFixture {
  RmFixture() { write("coffer.json", env_policy()); }
  [[nodiscard]] bool still_there(const std::string &key) const {
    return run_policy({"get", key}).status == 0;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(rm_confirmation, RmFixture)

BOOST_AUTO_TEST_CASE(on_a_terminal_it_shows_what_goes_and_removes_on_yes) {
  auto r = run_on_terminal({"rm", "Email.SMTPPassword"}, "[y/N] ", "yes\n");
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(contains(r.err, "Email.SMTPPassword"), r.err);
  BOOST_TEST(contains(r.err, "provider 'p'"), r.err);
  BOOST_TEST(contains(r.err, "its name there: Email__SMTPPassword"), r.err);
  BOOST_TEST(contains(r.err, "every version"), r.err);
  BOOST_TEST(!still_there("Email.SMTPPassword"));
  BOOST_TEST(still_there("VCS.GithubAdminPAT"));
}

BOOST_AUTO_TEST_CASE(y_in_any_case_is_a_yes) {
  auto r = run_on_terminal({"rm", "Email.SMTPPassword"}, "[y/N] ", " Y \n");
  BOOST_TEST(r.status == 0, describe(r));
  BOOST_TEST(!still_there("Email.SMTPPassword"));
}

BOOST_AUTO_TEST_CASE(any_other_answer_removes_nothing_and_exits_6) {
  for (const std::string answer : {"n\n", "\n", "yess\n", "no way\n"}) {
    auto r = run_on_terminal({"rm", "Email.SMTPPassword"}, "[y/N] ", answer);
    BOOST_TEST(r.status == 6, describe(r));
    BOOST_TEST(contains(r.err, "not confirmed; Email.SMTPPassword was not removed"), r.err);
    BOOST_TEST(still_there("Email.SMTPPassword"), answer);
  }
}

BOOST_AUTO_TEST_CASE(the_end_of_input_is_a_no) {
  auto r = run_on_terminal({"rm", "Email.SMTPPassword"}, "[y/N] ", "\x04");
  BOOST_TEST(r.status == 6, describe(r));
  BOOST_TEST(still_there("Email.SMTPPassword"));
}

BOOST_AUTO_TEST_CASE(yes_skips_the_question_on_a_terminal) {
  for (const std::string flag : {"--yes", "-y"}) {
    write_env("secrets.env", coffer::test::stored_values());
    auto r = run_on_terminal({"rm", flag, "Email.SMTPPassword"});
    BOOST_TEST(r.status == 0, describe(r));
    BOOST_TEST(!contains(r.err, "[y/N]"), r.err);
    BOOST_TEST(!still_there("Email.SMTPPassword"), flag);
  }
}

BOOST_AUTO_TEST_CASE(without_a_terminal_it_refuses_unless_yes) {
  auto refused = run_policy({"rm", "Email.SMTPPassword"}, "yes\n");
  BOOST_TEST(refused.status == 2, describe(refused));
  BOOST_TEST(contains(refused.err, "pass --yes"), refused.err);
  BOOST_TEST(still_there("Email.SMTPPassword"));
  auto removed = run_policy({"rm", "--yes", "Email.SMTPPassword"});
  BOOST_TEST(removed.status == 0, describe(removed));
  BOOST_TEST(!still_there("Email.SMTPPassword"));
}

BOOST_AUTO_TEST_SUITE_END()
