// The request scanner (jsonrpc/raw.hpp) against the parser: raw::valid accepts exactly what the
// parser accepts (but for the two refusals raw.hpp documents), and on valid text the locating
// functions give spans inside the text that hold the values the parser's tree has there.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "jsonrpc/jsonrpc.hpp"
#include "jsonrpc/raw.hpp"

namespace vixy::jsonrpc {
namespace {

// The one place the scan and the parser are called: when they take a depth bound, it goes here.
bool scan_accepts(std::string_view text) { return raw::valid(text); }
std::optional<json> tree_of(std::string_view text) { return parse(text); }

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

  auto shape = inspect_request_body(text);
  using Kind = RequestShape::Kind;
  if (tree.is_object()) {
    VIXY_FUZZ_CHECK(shape.kind == Kind::single && shape.count == 1, "inspect: single");
  } else if (tree.is_array() && !tree.empty()) {
    VIXY_FUZZ_CHECK(shape.kind == Kind::batch && shape.count == tree.size(), "inspect: batch");
  } else {
    VIXY_FUZZ_CHECK(shape.kind == Kind::invalid_request && !shape.problem.empty(), "inspect: invalid");
  }
  // The request check from spans agrees with the one on the tree.
  std::string from_text, from_tree;
  VIXY_FUZZ_CHECK(is_valid_request(text, view, &from_text) == is_valid_request(tree, &from_tree) &&
                      from_text == from_tree,
                  "is_valid_request: text and tree disagree");
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
    VIXY_FUZZ_CHECK(inspect_request_body(text).kind == RequestShape::Kind::parse_error, "inspect: parse error");
    return 0;
  }
  check_valid(text, *tree);
  return 0;
}
