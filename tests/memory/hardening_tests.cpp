// coffer::harden_process() and coffer_harden_process(): no core dumps
// (RLIMIT_CORE 0, soft and hard) and no ptrace by processes of the same user
// (PR_SET_DUMPABLE 0), for the C++ and the C API, and in the coffer CLI.
//
// The effect is observed as the kernel enforces it: another process of the
// same user tries PTRACE_ATTACH and opening /proc/PID/mem. Root may do both
// anyway (CAP_SYS_PTRACE), so when the test runs as root the processes
// involved drop to the user "nobody" (65534) first.
#define BOOST_TEST_MODULE memory_hardening_tests
#include <coffer/coffer.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <coffer/process.hpp>

#include <boost/test/unit_test.hpp>

#include "temp_directory.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uid_t kNobody = 65534;

// Becomes the unprivileged test user when running as root. In a child only.
bool drop_privileges() {
  if (::geteuid() != 0) return true;
  return ::setgroups(0, nullptr) == 0 && ::setresgid(kNobody, kNobody, kNobody) == 0 &&
         ::setresuid(kNobody, kNobody, kNobody) == 0;
}

// Reads one line from `fd` (the child's report).
std::string read_report(int fd) {
  std::string text;
  char c = 0;
  while (::read(fd, &c, 1) == 1 && c != '\n') text.push_back(c);
  return text;
}

void write_report(int fd, const std::string &text) {
  const std::string line = text + "\n";
  (void)!::write(fd, line.data(), line.size());
}

enum class Hardening { none, cxx_api, c_api };

// A process of the test user that hardens itself as asked, reports its core
// limit and dumpable flag ("SOFT HARD DUMPABLE" or "error ..."), and waits
// until destroyed.
class Target {
 public:
  explicit Target(Hardening hardening) {
    int report[2], hold[2];
    if (::pipe(report) != 0 || ::pipe(hold) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::close(report[0]);
      ::close(hold[1]);
      if (!drop_privileges()) {
        write_report(report[1], "error cannot become the test user");
        ::_exit(1);
      }
      // Changing ids made the process non-dumpable: start from dumpable, as a
      // process that never changed ids is.
      ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
      ::prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);  // for the Yama LSM
      std::string failure;
      if (hardening == Hardening::cxx_api) {
        try {
          coffer::harden_process();
        } catch (const std::exception &error) {
          failure = error.what();
        }
      } else if (hardening == Hardening::c_api) {
        coffer_error *error = nullptr;
        if (coffer_harden_process(&error) != COFFER_OK) failure = coffer_error_message(error);
        coffer_error_free(error);
      }
      struct rlimit core {};
      ::getrlimit(RLIMIT_CORE, &core);
      if (!failure.empty())
        write_report(report[1], "error " + failure);
      else
        write_report(report[1], std::to_string(core.rlim_cur) + " " +
                                    std::to_string(core.rlim_max) + " " +
                                    std::to_string(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0)));
      char c = 0;
      (void)!::read(hold[0], &c, 1);  // until the test closes its end
      ::_exit(0);
    }
    ::close(report[1]);
    ::close(hold[0]);
    hold_ = hold[1];
    report_ = read_report(report[0]);
    ::close(report[0]);
  }
  ~Target() {
    ::close(hold_);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Target(const Target &) = delete;
  Target &operator=(const Target &) = delete;
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] const std::string &report() const { return report_; }

 private:
  pid_t pid_ = -1;
  int hold_ = -1;
  std::string report_;
};

// What another process of the test user gets when it tries to look inside
// `target`: 0 for success, else the errno.
struct Access {
  int attach = -1;
  int memory = -1;
};

Access probe(pid_t target) {
  int report[2];
  if (::pipe(report) != 0) throw std::runtime_error("pipe failed");
  pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    ::close(report[0]);
    if (!drop_privileges()) ::_exit(1);
    int attach = 0;
    if (::ptrace(PTRACE_ATTACH, target, nullptr, nullptr) != 0) {
      attach = errno;
    } else {
      ::waitpid(target, nullptr, __WALL);
      ::ptrace(PTRACE_DETACH, target, nullptr, nullptr);
    }
    const std::string mem = "/proc/" + std::to_string(target) + "/mem";
    int fd = ::open(mem.c_str(), O_RDONLY);
    const int memory = fd < 0 ? errno : 0;
    if (fd >= 0) ::close(fd);
    write_report(report[1], std::to_string(attach) + " " + std::to_string(memory));
    ::_exit(0);
  }
  ::close(report[1]);
  std::istringstream line(read_report(report[0]));
  ::close(report[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  Access access;
  line >> access.attach >> access.memory;
  return access;
}

// "SOFT HARD" of the core-size line of /proc/PID/limits, or "" when unreadable.
std::string core_limits(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max core file size", 0) != 0) continue;
    std::istringstream fields(line.substr(18));
    std::string soft, hard;
    fields >> soft >> hard;
    return soft + " " + hard;
  }
  return {};
}

void check_hardened(Hardening hardening) {
  Target target(hardening);
  BOOST_TEST_REQUIRE(target.report() == "0 0 0");
  Access access = probe(target.pid());
  BOOST_TEST(access.attach == EPERM);
  BOOST_TEST((access.memory == EACCES || access.memory == EPERM),
             "open /proc/PID/mem: " << access.memory);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(harden_process)

// The control: without hardening, a process of the same user gets in.
BOOST_AUTO_TEST_CASE(an_ordinary_process_can_be_attached_and_read) {
  Target target(Hardening::none);
  BOOST_TEST_REQUIRE(target.report().rfind("error", 0) != 0, target.report());
  BOOST_TEST(target.report().substr(target.report().rfind(' ') + 1) == "1");
  Access access = probe(target.pid());
  BOOST_TEST(access.attach == 0);
  BOOST_TEST(access.memory == 0);
}

BOOST_AUTO_TEST_CASE(the_cxx_api_turns_dumps_and_ptrace_off) {
  check_hardened(Hardening::cxx_api);
}

BOOST_AUTO_TEST_CASE(the_c_api_turns_dumps_and_ptrace_off) {
  check_hardened(Hardening::c_api);
}

// The CLI hardens itself before it does anything: seen while `put` waits for
// its value on standard input.
BOOST_AUTO_TEST_CASE(the_cli_runs_hardened) {
  const char *cli = std::getenv("COFFER_CLI");
  BOOST_TEST_REQUIRE(cli != nullptr, "COFFER_CLI is not set (run via ctest)");
  const coffer::test::TempDirectory scratch("coffer-hardening");
  const fs::path &directory = scratch.path();
  fs::permissions(directory, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                 fs::perms::others_read | fs::perms::others_exec);
  const fs::path policy = directory / "coffer.json";
  std::ofstream(policy) << R"({"coffer": 1, "providers": {}, "routes": {}})";
  fs::permissions(policy, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                              fs::perms::others_read);

  int input[2];
  BOOST_TEST_REQUIRE(::pipe(input) == 0);
  pid_t child = ::fork();
  BOOST_TEST_REQUIRE(child >= 0);
  if (child == 0) {
    ::dup2(input[0], 0);
    ::close(input[0]);
    ::close(input[1]);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    if (!drop_privileges()) ::_exit(126);
    ::execl(cli, cli, "--policy", policy.c_str(), "put", "VCS.GithubAdminPAT",
            static_cast<char *>(nullptr));
    ::_exit(127);
  }
  ::close(input[0]);
  // The CLI hardens itself first thing; give it until the deadline to get
  // there (a CLI that never does fails here, it does not hang).
  Access access;
  const auto until = Clock::now() + std::chrono::seconds(10);
  std::string limits;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    limits = core_limits(child);
    if (limits == "0 0") access = probe(child);
  } while (access.attach != EPERM && Clock::now() < until);
  ::close(input[1]);  // end of input: put refuses the empty value and exits
  int status = 0;
  ::waitpid(child, &status, 0);
  BOOST_TEST(limits == "0 0");
  BOOST_TEST(access.attach == EPERM);
  BOOST_TEST((access.memory == EACCES || access.memory == EPERM));
}

BOOST_AUTO_TEST_SUITE_END()
