#pragma once
// Parsing what the proxy sent without trusting its shape. A JSON tree is copied, compared and
// printed recursively, so a document nested deep enough (what a hostile client sends, and what a
// broken proxy may echo to someone else) would overflow the harness's stack: its depth is
// measured on the text first.

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vixy::chaos {

// Deeper than this, a text is not parsed into a tree by the harness.
inline constexpr std::size_t kMaxParsedDepth = 256;

// The deepest nesting of arrays and objects in a JSON text (brackets inside strings excluded).
std::size_t nesting_depth(std::string_view text);
// The JSON value of `text`, or a discarded value when it is not JSON or nests deeper than max_depth.
nlohmann::json parse_bounded(std::string_view text, std::size_t max_depth = kMaxParsedDepth);

}  // namespace vixy::chaos
