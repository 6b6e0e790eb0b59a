// The request scanner (jsonrpc/raw.hpp) against the parser: raw::check without a depth bound
// accepts exactly what the parser accepts (but for the two refusals raw.hpp documents), with one it
// refuses exactly what nests deeper; on valid text the locating functions give spans inside the
// text that hold the values the parser's tree has there; and the body check (inspect_request_body)
// decides as the request rules say, computed here from the tree.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "jsonrpc/jsonrpc.hpp"
#include "jsonrpc/raw.hpp"

namespace vixy::jsonrpc {
namespace {

// Small bounds put both refusals within reach of short inputs (-max_len is 4096: the parser's
// recursion on such a tree is harmless).
constexpr std::size_t kDepth = 6;
constexpr std::size_t kBatch = 4;

bool scan_accepts(std::string_view text) { return raw::valid(text, SIZE_MAX); }
std::optional<json> tree_of(std::string_view text) {
  auto tree = json::parse(text, nullptr, false);
  if (tree.is_discarded()) return std::nullopt;
  return tree;
}

// Containers nested: 0 for a scalar, 1 for [] or {"a":1}.
std::size_t depth_of(const json& value) {
  std::size_t deepest = 0;
  if (value.is_structured()) {
    for (const auto& child : value) deepest = std::max(deepest, depth_of(child));
    return deepest + 1;
  }
  return 0;
}

bool valid_request_text(std::string_view text) { return is_valid_request(text, raw::view_message(text)).ok(); }

// A span must lie inside the text and hold one valid JSON value equal to `expected`.
void check_span(std::string_view text, const raw::Span& span, const json& expected, const char* what) {
  VIXY_FUZZ_CHECK(span.begin <= span.end && span.end <= text.size(), what);
  auto value = span.of(text);
  VIXY_FUZZ_CHECK(scan_accepts(value), what);
  auto tree = tree_of(value);
  VIXY_FUZZ_CHECK(tree.has_value() && *tree == expected, what);
}

bool leading_bom(std::string_view text) { return text.starts_with("\xEF\xBB\xBF"); }

void check_valid(std::string_view text, const json& tree) {
  auto first = text.find_first_not_of(" \t\n\r");
  auto end = raw::skip_value(text, 0);
  VIXY_FUZZ_CHECK(end && *end == text.find_last_not_of(" \t\n\r") + 1, "skip_value: not the document's end");

  auto view = raw::view_message(text);
  VIXY_FUZZ_CHECK(view.object == tree.is_object(), "view_message: object");
  auto member_check = [&](const std::optional<raw::Span>& span, const char* key) {
    auto it = tree.is_object() ? tree.find(key) : tree.end();
    bool present = tree.is_object() && it != tree.end();
    VIXY_FUZZ_CHECK(span.has_value() == present, key);
    if (present) check_span(text, *span, *it, key);
  };
  member_check(view.id, "id");
  member_check(view.method, "method");
  member_check(view.params, "params");

  auto elements = raw::elements(text);
  VIXY_FUZZ_CHECK(elements.has_value() == tree.is_array(), "elements: array");
  if (elements) {
    VIXY_FUZZ_CHECK(elements->size() == tree.size(), "elements: count");
    for (std::size_t i = 0; i < elements->size(); ++i) check_span(text, (*elements)[i], tree[i], "element");
  }

  if (tree.is_object()) {
    int checked = 0;  // a few keys are enough: every member goes through the same loop
    for (const auto& [key, value] : tree.items()) {
      if (++checked > 4) break;
      auto span = raw::member(text, key);
      VIXY_FUZZ_CHECK(span.has_value(), "member: key not found");
      check_span(text, *span, value, "member");
    }
  } else {
    VIXY_FUZZ_CHECK(!raw::member(text, "id").has_value(), "member of a non-object");
  }

  if (tree.is_string()) {
    auto value = raw::string_value(text.substr(first, *end - first));
    VIXY_FUZZ_CHECK(value && *value == tree.get<std::string>(), "string_value");
  }

  // The depth bound: refused exactly when the tree is deeper; the parse wrapper agrees.
  const bool too_deep = depth_of(tree) > kDepth;
  VIXY_FUZZ_CHECK((raw::check(text, kDepth) == raw::Verdict::too_deep) == too_deep, "check: depth verdict");
  VIXY_FUZZ_CHECK(parse(text, kDepth).has_value() == !too_deep, "parse: depth bound");

  auto shape = inspect_request_body(text, RequestLimits{kDepth, kBatch});
  using Kind = RequestShape::Kind;
  Kind expected = Kind::invalid_request;
  if (!too_deep && tree.is_object()) {
    if (valid_request_text(text)) expected = Kind::single;
  } else if (!too_deep && tree.is_array() && !tree.empty() && tree.size() <= kBatch) {
    expected = Kind::batch;
    for (const auto& span : *elements) {
      if (!valid_request_text(span.of(text))) expected = Kind::invalid_request;
    }
  }
  VIXY_FUZZ_CHECK(shape.kind == expected, "inspect: kind");
  if (expected == Kind::single) VIXY_FUZZ_CHECK(shape.count == 1, "inspect: single count");
  if (expected == Kind::batch) VIXY_FUZZ_CHECK(shape.count == tree.size(), "inspect: batch count");
  if (expected == Kind::invalid_request) {
    VIXY_FUZZ_CHECK(!shape.problem.empty(), "inspect: a refusal without a reason");
    auto answer = tree_of(shape.answer);
    VIXY_FUZZ_CHECK(answer && (answer->is_object() || (answer->is_array() && !answer->empty())),
                    "inspect: the refusal's answer is not an error or a batch of errors");
  }
  // The request check from spans agrees with the one on the tree, but for members named twice,
  // which only the text shows (and refuses).
  const auto from_text = is_valid_request(text, view);
  if (view.repeated.empty()) {
    const auto from_tree = is_valid_request(tree);
    VIXY_FUZZ_CHECK(from_text.ok() == from_tree.ok() && from_text.problem() == from_tree.problem(),
                    "is_valid_request: text and tree disagree");
  } else {
    VIXY_FUZZ_CHECK(!from_text, "is_valid_request: a member named twice was accepted");
  }
}

}  // namespace
}  // namespace vixy::jsonrpc

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vixy::jsonrpc;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  bool scanned = scan_accepts(text);
  auto tree = tree_of(text);
  // raw.hpp: a NUL byte anywhere and a leading byte order mark are refused, although the parser
  // may take them; everywhere else the two agree.
  if (text.find('\0') != std::string_view::npos || leading_bom(text)) {
    VIXY_FUZZ_CHECK(!scanned, "scan accepted a NUL byte or a byte order mark");
  } else {
    VIXY_FUZZ_CHECK(scanned == tree.has_value(), scanned ? "scan accepted what the parser refuses"
                                                          : "scan refused what the parser accepts");
  }
  if (!scanned) {
    // Invalid text: the locating functions tolerate it (no crash), and the body is a parse error.
    (void)raw::view_message(text);
    (void)raw::elements(text);
    (void)raw::member(text, "id");
    (void)raw::skip_value(text, 0);
    // The scan stops at the depth bound before it sees what is wrong further on.
    const auto kind = inspect_request_body(text, RequestLimits{kDepth, kBatch}).kind;
    const bool deep = raw::check(text, kDepth) == raw::Verdict::too_deep;
    VIXY_FUZZ_CHECK(kind == (deep ? RequestShape::Kind::invalid_request : RequestShape::Kind::parse_error),
                    "inspect: parse error");
    return 0;
  }
  check_valid(text, *tree);
  return 0;
}
