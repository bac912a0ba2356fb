// Base64 (standard and URL-safe alphabets), for skip tokens and JWT payloads.
#ifndef COFFER_AZURE_EMULATOR_ENCODING_HPP
#define COFFER_AZURE_EMULATOR_ENCODING_HPP

#include <optional>
#include <string>
#include <string_view>

namespace coffer::emulator {

std::string base64_encode(std::string_view data, bool url_safe, bool pad);
// Accepts either alphabet, with or without padding; nullopt when invalid.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace coffer::emulator

#endif
