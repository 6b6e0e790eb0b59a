#pragma once
// Byte-level text helpers that the JSON scanners, the URL code, the fake nodes and the harness all
// need, written once (locale-free: protocol text is ASCII).

#include <string>
#include <string_view>

namespace vixy::text {

// JSON's four whitespace bytes (RFC 8259), no others.
inline bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// 0-15 for a hexadecimal digit, -1 for anything else.
inline int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ASCII letters lowered; every other byte as it was.
inline std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace vixy::text
