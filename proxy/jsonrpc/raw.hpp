#pragma once
// Byte-level access to JSON text without re-serialising it. The WebSocket core rewrites ids in
// messages it relays: a client's id must come back byte-exact (a number like
// 123456789012345678901234567890 does not survive a round trip through a double), and splicing
// an id is far cheaper than parsing and dumping a node's multi-megabyte answer.
//
// `valid` checks a whole document as strictly as the parser (jsonrpc::parse); the other functions
// only locate values and expect text that is valid, or at least tolerate garbage without crashing.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vixy::jsonrpc::raw {

struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;  // one past the value's last byte
  std::string_view of(std::string_view text) const { return text.substr(begin, end - begin); }
};

// How deeply objects and arrays may nest in JSON the proxy reads, unless configured otherwise
// (`[global] max_json_depth`). Trees are copied and printed recursively (nlohmann), so every text
// that may become a tree is checked against a bound first; JSON-RPC itself needs a handful of levels.
inline constexpr std::size_t kDefaultMaxDepth = 128;

enum class Verdict {
  ok,
  not_json,  // not exactly one JSON value
  too_deep,  // JSON, but nested deeper than allowed (the scan stops there)
};

// Whether `text` is exactly one JSON value (RFC 8259, UTF-8) with only whitespace around it, with at
// most `max_depth` objects and arrays open at once: what jsonrpc::parse accepts, found without
// building a tree. Two deliberate differences from nlohmann's parser: a NUL byte anywhere and a
// leading byte order mark are refused (the parser ends the input at a NUL outside a string, and
// skips a byte order mark, which nodes refuse).
Verdict check(std::string_view text, std::size_t max_depth = kDefaultMaxDepth);
inline bool valid(std::string_view text, std::size_t max_depth = kDefaultMaxDepth) {
  return check(text, max_depth) == Verdict::ok;
}

// End of the JSON value that starts at `pos` (leading whitespace skipped); nullopt when the text
// there is not a complete value.
std::optional<std::size_t> skip_value(std::string_view text, std::size_t pos);

// The value of `key` in the object `text` (top level only; the last one wins when a key repeats,
// as with the parser). Keys are compared by value: "\u0069d" is "id", as the parser and nodes read it.
std::optional<Span> member(std::string_view text, std::string_view key);

// The elements of the array `text`; nullopt when `text` is not an array.
std::optional<std::vector<Span>> elements(std::string_view text);
// How many elements the array `text` has, counting no further than `limit + 1` (a million-entry
// batch is refused without a million spans); nullopt when `text` is not an array.
std::optional<std::size_t> count_elements(std::string_view text, std::size_t limit);

// The members of a JSON-RPC message that the proxy reads, located in one pass over valid JSON
// text. A member that appears twice is the last one, as with the parser.
struct MessageView {
  bool object = false;  // the text is an object; the spans are empty otherwise
  std::optional<Span> id;
  std::optional<Span> method;
  std::optional<Span> params;
  bool result = false;  // an answer's members: whether it has them (read in the same pass)
  bool error = false;
  // "id", "method" or "params" when that member appears more than once, its name compared without
  // case: nodes disagree on which one counts (Go's decoder takes the last of any case, others the
  // first), so the proxy could splice its id into one and get the answer under the other.
  std::string_view repeated;
};
MessageView view_message(std::string_view text);
// The same for text that may break off or go wrong later: the members read before the break, with
// `object` false when there was one. Only for telling what a broken message was, never for passing it on.
MessageView view_message_before_break(std::string_view text);

// `text` with the bytes of `span` replaced by `replacement`: how an id or a subscription id is
// rewritten in a message that is otherwise passed on byte for byte.
std::string splice(std::string_view text, Span span, std::string_view replacement);

// The value of a JSON number `text` that is a non-negative integer written plainly (no sign, no
// fraction or exponent) and fits 64 bits: the ids the proxy allocates. nullopt otherwise.
std::optional<std::uint64_t> uint_value(std::string_view text);

// The value of a JSON string `quoted` (with its quotes), escapes resolved; nullopt when it is not
// a string.
std::optional<std::string> string_value(std::string_view quoted);

}  // namespace vixy::jsonrpc::raw
