// Prints whether the process runs in secure mode (setuid/setgid, AT_SECURE)
// and then the plugin directories the core would search by default, one per
// line. Driven by setuid_plugin_path_test.sh.
#include <sys/auxv.h>
#include <coffer/plugins.hpp>

#include <iostream>

// In an ASan build: LeakSanitizer cannot run in a setuid process (it cannot
// stop the world there), and a setuid process ignores ASAN_OPTIONS. Unused
// otherwise.
extern "C" const char *__asan_default_options() {
  return "detect_leaks=0";
}

int main() {
  std::cout << "secure " << (::getauxval(AT_SECURE) != 0 ? 1 : 0) << "\n";
  for (const auto &dir : coffer::default_plugin_dirs()) std::cout << "dir " << dir.string() << "\n";
  return 0;
}
