// Asking the operator before an act that cannot be undone (`coffer rm`).
//
// The question goes to standard error and the answer is read from standard
// input, which must be a terminal: a script that pipes input into the tool
// cannot answer by accident, it says --yes instead.
#ifndef COFFER_CLI_CONFIRMATION_HPP
#define COFFER_CLI_CONFIRMATION_HPP

#include <string_view>

namespace coffer::cli {

// Whether standard input is a terminal someone can answer on.
bool can_ask();

// Prints `question` (which should end in "[y/N] ") on standard error and
// reads one line from standard input. True only for "y" or "yes", in any
// case, blanks around it ignored; false for anything else and for end of
// input. Throws coffer::Error (internal) when standard input cannot be read.
bool confirm(std::string_view question);

}  // namespace coffer::cli

#endif  // COFFER_CLI_CONFIRMATION_HPP
