// Reading a secret value from standard input for `coffer put`.
//
// From a pipe or file: everything up to end of input, then one trailing
// newline ("\n" or "\r\n") is removed unless `raw`. From a terminal: a prompt
// on standard error, the line read with echo off, and a second entry to
// confirm it. Every buffer that held the value is wiped before it is freed.
#ifndef COFFER_CLI_SECRET_INPUT_HPP
#define COFFER_CLI_SECRET_INPUT_HPP

#include <coffer/secret.hpp>

#include <cstddef>
#include <string>

namespace coffer::cli {

struct SecretInput {
  std::string key;                  // named in the prompt
  bool raw = false;                 // keep the bytes exactly
  std::size_t limit = 1024 * 1024;  // the largest value accepted
};

// Reads the value. Throws coffer::Error: invalid_argument for a value over
// the limit or two terminal entries that differ, internal for a read error.
Secret read_secret(const SecretInput &input);

}  // namespace coffer::cli

#endif  // COFFER_CLI_SECRET_INPUT_HPP
