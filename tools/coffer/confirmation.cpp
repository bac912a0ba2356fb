#include "confirmation.hpp"

#include <unistd.h>
#include <coffer/error.hpp>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <string>

namespace coffer::cli {

bool can_ask() {
  return ::isatty(STDIN_FILENO) == 1;
}

bool confirm(std::string_view question) {
  std::fwrite(question.data(), 1, question.size(), stderr);
  std::fflush(stderr);
  // One byte at a time, so nothing past the line is taken from the input.
  std::string answer;
  constexpr std::size_t kLongest = 64;  // an answer longer than this is no "yes"
  for (;;) {
    char c = 0;
    ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(Code::internal, "cannot read the answer from standard input");
    if (n == 0) {
      std::fputs("\n", stderr);  // end of input (Ctrl-D): the line the terminal did not end
      break;
    }
    if (c == '\n') break;
    if (answer.size() < kLongest) answer.push_back(c);
  }
  auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!answer.empty() && blank(answer.back())) answer.pop_back();
  std::size_t start = 0;
  while (start < answer.size() && blank(answer[start])) ++start;
  std::string word;
  for (char c : answer.substr(start))
    word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return word == "y" || word == "yes";
}

}  // namespace coffer::cli
