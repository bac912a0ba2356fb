// Memory that may hold secret material (values, access tokens, client
// assertions, client secrets): the SDK's secret memory (excluded from core
// dumps, wiped when freed) for standard and Beast containers and for
// Boost.JSON values, and JSON functions that read and write such text without
// stray copies. Thread-safe; the memory resource is stateless.
#ifndef COFFER_AZURE_SECRET_MEMORY_HPP
#define COFFER_AZURE_SECRET_MEMORY_HPP

#include <coffer/provider.hpp>
#include <coffer/provider_helpers.hpp>

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace coffer::azure {

using coffer::provider::SecretAllocator;

// A string in secret memory (for headers carrying tokens).
using SecretString = std::basic_string<char, std::char_traits<char>, SecretAllocator<char>>;

// Storage in secret memory for Boost.JSON values parsed from secret-bearing
// documents.
boost::json::storage_ptr secret_storage() noexcept;

// Parses JSON whose strings may be secret. The value and every temporary
// buffer live in secret storage (or on the stack, wiped). Returns a null value and sets `error` on
// malformed input.
boost::json::value parse_secret_json(std::string_view text, boost::system::error_code &error);

// JSON strings into secret memory and the UTF-8 check: the SDK's rules,
// which the agent shares.
using coffer::provider::append_json_string;
using coffer::provider::is_valid_utf8;

// Wipes a standard string's characters and empties it.
void wipe_string(std::string &text) noexcept;

}  // namespace coffer::azure

#endif  // COFFER_AZURE_SECRET_MEMORY_HPP
