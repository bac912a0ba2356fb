#include "cpu_budget.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace coffer::agent {

std::optional<unsigned> cpus_of_quota(std::string_view cpu_max) {
  while (!cpu_max.empty() && (cpu_max.back() == '\n' || cpu_max.back() == ' '))
    cpu_max.remove_suffix(1);
  auto space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto quota_text = cpu_max.substr(0, space);
  auto period_text = cpu_max.substr(space + 1);
  unsigned long long quota = 0, period = 0;
  auto quota_parsed =
      std::from_chars(quota_text.data(), quota_text.data() + quota_text.size(), quota);
  auto period_parsed =
      std::from_chars(period_text.data(), period_text.data() + period_text.size(), period);
  if (quota_parsed.ec != std::errc() || quota_parsed.ptr != quota_text.data() + quota_text.size() ||
      period_parsed.ec != std::errc() ||
      period_parsed.ptr != period_text.data() + period_text.size() || period == 0)
    return std::nullopt;  // "max" (no quota) or not cpu.max at all
  return static_cast<unsigned>(std::max<unsigned long long>(1, (quota + period - 1) / period));
}

namespace {

std::string read_all(const std::filesystem::path &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// This process's cgroup v2 path ("0::/some/path"), relative to the mount.
std::optional<std::filesystem::path> own_cgroup() {
  std::istringstream lines(read_all("/proc/self/cgroup"));
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind("0::", 0) == 0) return std::filesystem::path(line.substr(3)).relative_path();
  return std::nullopt;
}

}  // namespace

unsigned cpu_budget() {
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (::sched_getaffinity(0, sizeof mask, &mask) == 0) cpus = std::max(1, CPU_COUNT(&mask));
  if (auto cgroup = own_cgroup()) {
    const std::filesystem::path mount = "/sys/fs/cgroup";
    for (auto path = *cgroup;; path = path.parent_path()) {
      if (auto quota = cpus_of_quota(read_all(mount / path / "cpu.max")))
        cpus = std::min(cpus, *quota);
      if (path.empty() || path == path.parent_path()) break;
    }
  }
  return cpus;
}

unsigned default_io_threads() {
  unsigned cpus = cpu_budget();
  return cpus > 1 ? cpus - 1 : 1;
}

}  // namespace coffer::agent
