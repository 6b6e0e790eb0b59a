#pragma once
// Byte-level access to JSON text without re-serialising it. The WebSocket core rewrites ids in
// messages it relays: a client's id must come back byte-exact (a number like
// 123456789012345678901234567890 does not survive a round trip through a double), and splicing
// an id is far cheaper than parsing and dumping a node's multi-megabyte answer.
//
// These functions only locate values; validating a document is the parser's job (jsonrpc::parse).

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace vixy::jsonrpc::raw {

struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;  // one past the value's last byte
  std::string_view of(std::string_view text) const { return text.substr(begin, end - begin); }
};

// End of the JSON value that starts at `pos` (leading whitespace skipped); nullopt when the text
// there is not a complete value.
std::optional<std::size_t> skip_value(std::string_view text, std::size_t pos);

// The value of `key` in the object `text` (top level only; the last one wins when a key repeats,
// as with the parser). Keys are compared as written, so an escaped spelling of `key` is not found.
std::optional<Span> member(std::string_view text, std::string_view key);

// The elements of the array `text`; nullopt when `text` is not an array.
std::optional<std::vector<Span>> elements(std::string_view text);

}  // namespace vixy::jsonrpc::raw
