// Small helpers that providers (and the core and the CLI) share, so that each
// rule is stated once: the key grammar, the "did you mean" suggestion for a
// misspelt name and lower-case hex.
//
// Header-only, C++20, no dependency beyond the standard library. Stateless:
// every function may be called from many threads at once.
#ifndef COFFER_PROVIDER_HELPERS_HPP
#define COFFER_PROVIDER_HELPERS_HPP

#include <coffer/provider.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coffer::provider {

// Whether `key` is a canonical key, `Category.Name` (the grammar and its
// length limit are in <coffer/provider.h>: coffer_is_canonical_key).
inline bool is_canonical_key(std::string_view key) noexcept {
  return coffer_is_canonical_key(key.data(), key.size()) != 0;
}

// Levenshtein distance (insertions, deletions, substitutions), ignoring
// ASCII case.
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The candidate that `word` most plausibly misspells, for "did you mean":
//  - the only candidate that starts with `word`, when `word` has 3 or more
//    characters ("rek" -> "rekey");
//  - else the candidate at the smallest edit distance (the first of equals),
//    when that distance is at most a third of the longer of the two (2 for
//    short names) and less than the length of `word` (something of what was
//    typed remains);
//  - else nothing: a suggestion far from what was typed misleads.
// `candidates` is any range of what converts to std::string_view.
template <class Range>
std::optional<std::string> nearest_name(std::string_view word, const Range &candidates) {
  if (word.size() >= 3) {
    std::optional<std::string> only;
    bool several = false;
    for (const auto &candidate : candidates) {
      std::string_view name(candidate);
      if (!name.starts_with(word)) continue;
      several = only.has_value();
      only = std::string(name);
      if (several) break;
    }
    if (only && !several) return only;
  }
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const auto &candidate : candidates) {
    std::string_view name(candidate);
    const std::size_t distance = edit_distance(word, name);
    if (!best || distance < best_distance) {
      best = std::string(name);
      best_distance = distance;
    }
  }
  if (!best) return std::nullopt;
  const std::size_t limit = std::max<std::size_t>(2, std::max(word.size(), best->size()) / 3);
  if (best_distance > limit || best_distance >= word.size()) return std::nullopt;
  return best;
}

inline std::optional<std::string> nearest_name(std::string_view word,
                                               std::initializer_list<std::string_view> candidates) {
  return nearest_name(word,
                      std::span<const std::string_view>(candidates.begin(), candidates.size()));
}

// " (did you mean 'X'?)", or "" when no candidate is near enough.
template <class Range>
std::string did_you_mean(std::string_view word, const Range &candidates) {
  auto near = nearest_name(word, candidates);
  return near ? " (did you mean '" + *near + "'?)" : std::string();
}

inline std::string did_you_mean(std::string_view word,
                                std::initializer_list<std::string_view> candidates) {
  return did_you_mean(word,
                      std::span<const std::string_view>(candidates.begin(), candidates.size()));
}

// Lower-case hex of `bytes`, two digits a byte. Not for secret bytes: the
// result is an ordinary string (use it for ids, digests, nonces).
inline std::string to_hex(std::span<const unsigned char> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 0x0f]);
  }
  return out;
}

// The JSON escape of a byte that may not stand raw in a JSON string with a
// short form (quote, backslash, \b \f \n \r \t); nullptr otherwise.
constexpr const char *json_short_escape(unsigned char byte) noexcept {
  switch (byte) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return nullptr;
  }
}

// How many bytes a byte takes in a JSON string literal: 1 as it is, 2 with
// a short escape, 6 as \u00XX (other control bytes and DEL). A table: the
// agent writes every value it serves through these.
inline constexpr auto kJsonByteSize = [] {
  struct Table {
    unsigned char size[256];
  } table{};
  for (unsigned byte = 0; byte < 256; ++byte)
    table.size[byte] = json_short_escape(static_cast<unsigned char>(byte)) != nullptr ? 2
                       : (byte < 0x20 || byte == 0x7f)                                ? 6
                                                                                      : 1;
  return table;
}();

// How many bytes append_json_string adds for `text`, so that a buffer in
// secret memory can be reserved once, before any part of a value goes in.
inline std::size_t json_string_size(std::string_view text) noexcept {
  std::size_t size = 2;
  for (unsigned char byte : text) size += kJsonByteSize.size[byte];
  return size;
}

// Appends `text` to `out` as a JSON string literal, quotes included: the
// short escapes above, other control bytes and DEL as \u00XX, every other
// byte as it is (check is_valid_utf8 first: JSON text is UTF-8). `Out` is a
// buffer with append(std::string_view) and push_back(char), such as
// SecretBytes: a value is copied straight into secret memory, never into an
// ordinary string on its way.
template <class Out>
void append_json_string(Out &out, std::string_view text) {
  static constexpr char digits[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t plain = 0;  // start of the run of bytes copied as they are
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (kJsonByteSize.size[byte] == 1) continue;
    out.append(text.substr(plain, i - plain));
    if (const char *escape = json_short_escape(byte); escape != nullptr) {
      out.append(std::string_view(escape));
    } else {
      const char unicode[6] = {'\\', 'u', '0', '0', digits[byte >> 4], digits[byte & 0x0f]};
      out.append(std::string_view(unicode, sizeof unicode));
    }
    plain = i + 1;
  }
  out.append(text.substr(plain));
  out.push_back('"');
}

// Whether `text` is well-formed UTF-8: no overlong forms, no surrogates,
// nothing beyond U+10FFFF (what a JSON string may carry).
inline bool is_valid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t code = 0;
    if (byte < 0x80) {
      ++i;
      continue;
    }
    if ((byte & 0xe0) == 0xc0) {
      extra = 1;
      code = byte & 0x1f;
    } else if ((byte & 0xf0) == 0xe0) {
      extra = 2;
      code = byte & 0x0f;
    } else if ((byte & 0xf8) == 0xf0) {
      extra = 3;
      code = byte & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    if ((extra == 1 && code < 0x80) || (extra == 2 && code < 0x800) ||
        (extra == 3 && (code < 0x10000 || code > 0x10ffff)) || (code >= 0xd800 && code <= 0xdfff))
      return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace coffer::provider

#endif  // COFFER_PROVIDER_HELPERS_HPP
