// Variable expansion in env file values (the `expand: true` option).
//
// The braced forms of Docker Compose's interpolation, and nothing that runs
// anything:
//   ${NAME}          the value of NAME, empty when NAME is undefined
//   ${NAME:-word}    word when NAME is undefined or empty
//   ${NAME-word}     word when NAME is undefined
//   ${NAME:?word}    an error when NAME is undefined or empty
//   ${NAME?word}     an error when NAME is undefined
//   ${NAME:+word}    word when NAME is defined and not empty, else empty
//   ${NAME+word}     word when NAME is defined, else empty
//   $$               a literal $
// `word` may itself contain references. A `$` followed by anything else,
// including a bare `$NAME` and `$(command)`, stays as written. NAME is
// [A-Za-z_][A-Za-z0-9_]*.
//
// Threading: a pure function.
#ifndef COFFER_ENV_FILE_VARIABLE_EXPANSION_HPP
#define COFFER_ENV_FILE_VARIABLE_EXPANSION_HPP

#include <coffer/provider.hpp>

#include <cstddef>
#include <functional>
#include <string_view>

namespace coffer::env_file {

// Finds the value of a name defined earlier, or returns nullptr.
using VariableLookup = std::function<const coffer::provider::SecretBytes *(std::string_view name)>;

// Expands `text`. Throws SyntaxError for `line` on a malformed or unterminated
// reference and on a failed ${NAME:?...} / ${NAME?...}.
coffer::provider::SecretBytes expand_variables(std::string_view text, const VariableLookup &lookup,
                                               std::size_t line);

}  // namespace coffer::env_file

#endif  // COFFER_ENV_FILE_VARIABLE_EXPANSION_HPP
