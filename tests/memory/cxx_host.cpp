// A small C++ host for the core-dump tests (dump_tests.cpp): reads keys
// through coffer::Store, frees them, and waits so that the test can look at
// its memory. Same command line and protocol as c_host.c:
//
//   memory_cxx_host POLICY [--copy-into-heap] [--copy-file FILE]... KEY...
//
// Prints "ready N" with the Store still open; then "close" on standard input
// closes it and prints "closed"; "exit" (or end of input) ends with 0.
// Never prints a value.
#include <sys/prctl.h>
#include <coffer/store.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

// Copies that the control runs leave in ordinary heap memory on purpose.
std::vector<std::unique_ptr<std::vector<char>>> *heap_copies =
    new std::vector<std::unique_ptr<std::vector<char>>>();

void leave_in_heap(std::string_view bytes) {
  heap_copies->push_back(std::make_unique<std::vector<char>>(bytes.begin(), bytes.end()));
}

bool wait_for(const std::string &command) {
  std::string line;
  return static_cast<bool>(std::getline(std::cin, line)) && line == command;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::cerr << "usage: memory_cxx_host POLICY [--copy-into-heap] [--copy-file FILE]... KEY...\n";
    return 2;
  }
  // Lets gcore attach where the Yama LSM would refuse a non-parent.
  ::prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
  try {
    std::optional<coffer::Store> store(coffer::Store::open(argv[1]));
    bool copy_values = false;
    int keys = 0;
    for (int i = 2; i < argc; ++i) {
      const std::string argument = argv[i];
      if (argument == "--copy-into-heap") {
        copy_values = true;
      } else if (argument == "--copy-file" && i + 1 < argc) {
        std::ifstream in(argv[++i], std::ios::binary);
        leave_in_heap(std::string(std::istreambuf_iterator<char>(in), {}));
      } else {
        coffer::Secret secret = store->get(argument);
        if (copy_values) leave_in_heap(secret.reveal());
        ++keys;
      }  // the Secret is wiped and freed here
    }
    std::cout << "ready " << keys << std::endl;
    if (wait_for("close")) {
      store.reset();
      std::cout << "closed" << std::endl;
      wait_for("exit");
    }
    return 0;
  } catch (const coffer::Error &error) {
    std::cerr << error.what() << "\n";
    return 1;
  }
}
