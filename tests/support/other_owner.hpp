// Test support for the file ownership rules: files owned by another user,
// which only root can make. Cases that need them take
// `* boost::unit_test::precondition(coffer::test::running_as_root)` and are
// reported as skipped, with the reason, when the suite runs as another user.
#ifndef COFFER_TESTS_OTHER_OWNER_HPP
#define COFFER_TESTS_OTHER_OWNER_HPP

#include <sys/types.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>

namespace coffer::test {

// "nobody": neither root nor the user the tests run as.
inline constexpr uid_t kOtherUser = 65534;

inline boost::test_tools::assertion_result running_as_root(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result result(::geteuid() == 0);
  result.message() << "skipped: only root can make files owned by another user (uid " << kOtherUser
                   << ")";
  return result;
}

// Gives `path` (a symbolic link itself, not its target) to kOtherUser.
inline void give_to_other_user(const std::filesystem::path &path) {
  BOOST_REQUIRE_MESSAGE(::lchown(path.c_str(), kOtherUser, static_cast<gid_t>(-1)) == 0,
                        "lchown " << path);
}

}  // namespace coffer::test

#endif  // COFFER_TESTS_OTHER_OWNER_HPP
