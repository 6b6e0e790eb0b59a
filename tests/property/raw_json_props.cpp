// The proxy decides "valid JSON or not" and "valid request or not" from text alone (jsonrpc::raw);
// these properties hold it to the parser's answers on generated documents, near-misses of them,
// and arbitrary bytes.

#include <algorithm>
#include <cctype>
#include <map>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "jsonrpc/jsonrpc.hpp"
#include "jsonrpc/raw.hpp"

namespace vixy::jsonrpc {
namespace {

std::string pick(std::initializer_list<const char*> options) {
  return *rc::gen::elementOf(std::vector<std::string>(options.begin(), options.end()));
}

std::string space() { return pick({"", "", "", " ", "\n", "\t ", "\r\n  "}); }

// `huge`: also numbers beyond a double, which the parser refuses.
std::string number_text(bool huge) {
  std::string text = pick({"", "", "-"});
  text += pick({"0", "1", "7", "42", "1234567890123456789012345"});
  // 309 digits: the longest integers a double holds, and the shortest it does not.
  if (huge && *rc::gen::inRange(0, 8) == 0) text = pick({"", "-"}) + pick({"1", "2"}) + std::string(308, '0');
  if (*rc::gen::inRange(0, 3) == 0) text += pick({".5", ".0", ".25"});
  if (*rc::gen::inRange(0, 4) == 0) {
    text += huge ? pick({"e1", "E+2", "e-999", "e308", "e999"}) : pick({"e1", "E+2", "e-3"});
  }
  return text;
}

std::string string_text() {
  std::string text = "\"";
  auto pieces = *rc::gen::inRange(0, 6);
  for (int i = 0; i < pieces; ++i) {
    text += pick({"a", "eth_call", "0x1f", " ", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\u0041", "\\u00e9",
                  "\\ud83d\\ude00", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "{", "]", ":"});
  }
  return text + "\"";
}

// Escaped spellings too: the parser (and a node) reads "\u0069d" as "id".
std::string key_text() {
  return pick({"\"id\"", "\"method\"", "\"params\"", "\"jsonrpc\"", "\"x\"", "\"\\u0069d\"", "\"m\\u0065thod\"",
               "\"p\\u0061rams\""});
}

// Any JSON document, with the request members likely so that the request checks see every case.
std::string value_text(int depth, bool huge) {
  int kind = *rc::gen::inRange(0, depth > 3 ? 6 : 8);
  switch (kind) {
    case 0: return number_text(huge);
    case 1: return string_text();
    case 2: return pick({"true", "false", "null"});
    case 3: return string_text();
    case 4: return pick({"\"eth_subscribe\"", "\"eth_call\""});
    case 5: return number_text(huge);
    case 6: {
      std::string text = "[" + space();
      auto n = *rc::gen::inRange(0, 4);
      for (int i = 0; i < n; ++i) text += (i ? "," + space() : "") + value_text(depth + 1, huge) + space();
      return text + "]";
    }
    default: {
      std::string text = "{" + space();
      auto n = *rc::gen::inRange(0, 5);
      for (int i = 0; i < n; ++i) {
        text += (i ? "," + space() : "") + key_text() + space() + ":" + space() + value_text(depth + 1, huge) + space();
      }
      return text + "}";
    }
  }
}

std::string document_text(bool huge = false) { return space() + value_text(0, huge) + space(); }

// Small edits that turn valid documents into the near-misses a validator gets wrong.
std::string mutated(std::string text) {
  static const std::vector<std::string> bytes = {"{", "}", "[", "]", ",", ":", "\"", "\\", "u", "0", "1", "e",
                                                 "-", ".", "t", "n", " ", "\x01", "\xc3", "\xa9", "\xed",
                                                 "\xa0", "\x80", "\xf4", "\x90", "d", "8", "\x7f",
                                                 std::string(1, '\0')};
  auto edits = *rc::gen::inRange(1, 4);
  for (int i = 0; i < edits; ++i) {
    auto at = *rc::gen::inRange<std::size_t>(0, text.size() + 1);
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        if (at < text.size()) text.erase(at, 1);
        break;
      case 1: text.insert(at, *rc::gen::elementOf(bytes)); break;
      default:
        if (at < text.size()) text.replace(at, 1, *rc::gen::elementOf(bytes));
        break;
    }
  }
  return text;
}

// The parser's verdict, but for the scan's two deliberate differences (jsonrpc/raw.hpp): the
// parser takes a NUL byte outside a string for the end of the input ("1\0garbage" passes) and
// skips a leading byte order mark; the scan refuses both.
bool parser_accepts(const std::string& text) {
  return json::accept(text) && text.find('\0') == std::string::npos && !text.starts_with("\xEF\xBB\xBF");
}

// A SAX handler that cares only about structure: every scalar is accepted and ignored.
struct StructureOnly : nlohmann::json_sax<json> {
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
};

// How deeply the text nests, as the parser's events tell it: not the depth of the tree it builds,
// where a repeated key keeps only its last value (a deep first one is then gone from the tree
// but was still nested in the text, which is what the bound is about).
std::size_t text_depth(const std::string& text) {
  struct Depth : StructureOnly {
    std::size_t now = 0, deepest = 0;
    bool open() {
      deepest = std::max(deepest, ++now);
      return true;
    }
    bool close() {
      --now;
      return true;
    }
    bool start_object(std::size_t) override { return open(); }
    bool key(string_t&) override { return true; }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override { return open(); }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
  } depth;
  json::sax_parse(text, &depth);
  return depth.deepest;
}

RC_GTEST_PROP(RawJsonProps, TooDeepExactlyWhenTheTreeIsDeeperThanTheBound, ()) {
  auto text = document_text();
  auto bound = *rc::gen::inRange<std::size_t>(0, 7);
  auto verdict = raw::check(text, bound);
  RC_ASSERT(verdict != raw::Verdict::not_json);
  RC_ASSERT((verdict == raw::Verdict::too_deep) == (text_depth(text) > bound));
}

RC_GTEST_PROP(RawJsonProps, GeneratedDocumentsAreValid, ()) {
  auto text = document_text();
  RC_ASSERT(parser_accepts(text));
  RC_ASSERT(raw::valid(text));
}

RC_GTEST_PROP(RawJsonProps, NearMissesAreJudgedLikeTheParser, ()) {
  auto text = mutated(document_text(true));
  RC_ASSERT(raw::valid(text) == parser_accepts(text));
}

RC_GTEST_PROP(RawJsonProps, ArbitraryBytesAreJudgedLikeTheParser, (std::string text)) {
  RC_ASSERT(raw::valid(text) == parser_accepts(text));
}

// Which requests of a document (the top-level object, or each element of a top-level array) name
// "id", "method" or "params" more than once in any case, as the parser's events tell it.
class RepeatedMembers : public StructureOnly {
 public:
  std::vector<bool> repeated;  // by request position: 1 for a single object, one per batch element

  bool key(string_t& name) override {
    if (!at_request()) return true;
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if ((lower == "id" || lower == "method" || lower == "params") && ++counts_.back()[lower] == 2) {
      repeated.back() = true;
    }
    return true;
  }
  bool start_object(std::size_t) override {
    open_.push_back('{');
    counts_.emplace_back();
    if (at_request()) repeated.push_back(false);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    open_.push_back('[');
    counts_.emplace_back();
    return true;
  }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  bool at_request() const {
    return (open_.size() == 1 && open_[0] == '{') || (open_.size() == 2 && open_[0] == '[' && open_[1] == '{');
  }
  bool close() {
    open_.pop_back();
    counts_.pop_back();
    return true;
  }
  std::string open_;
  std::vector<std::map<std::string, int>> counts_;
};

std::vector<bool> repeated_members(const std::string& text) {
  RepeatedMembers sax;
  json::sax_parse(text, &sax);
  return sax.repeated;
}

// On valid text, the request check from spans agrees with the check on the tree: the same verdict,
// the same problem, and the id, method and params the tree holds; except that the text form also
// refuses an id, method or params named twice (in any case), which the tree cannot show.
RC_GTEST_PROP(RawJsonProps, RequestViewAgreesWithTheTree, ()) {
  auto text = document_text();
  auto tree = json::parse(text);
  auto view = raw::view_message(text);
  auto from_text = is_valid_request(text, view);
  if (tree.is_object() && repeated_members(text).at(0)) {
    RC_ASSERT(!from_text);
    RC_ASSERT(from_text.problem().find("appears more than once") != std::string::npos);
    return;
  }
  auto from_tree = is_valid_request(tree);
  RC_ASSERT(from_text.ok() == from_tree.ok());
  RC_ASSERT(from_text.problem() == from_tree.problem());
  RC_ASSERT(view.object == tree.is_object());
  if (!tree.is_object()) return;
  RC_ASSERT(view.id.has_value() == tree.contains("id"));
  if (view.id) RC_ASSERT(json::parse(view.id->of(text)) == tree["id"]);
  RC_ASSERT(view.params.has_value() == tree.contains("params"));
  if (view.params) RC_ASSERT(json::parse(view.params->of(text)) == tree["params"]);
  if (view.method && tree["method"].is_string()) {
    RC_ASSERT(raw::string_value(view.method->of(text)) == tree["method"].get<std::string>());
  }
}

// The HTTP body check: same verdict as parsing, every request valid on the tree, and the batch
// size the tree has; a refused batch answers every id and every invalid request once.
RC_GTEST_PROP(RawJsonProps, BodyShapeAgreesWithTheTree, ()) {
  auto text = *rc::gen::inRange(0, 2) == 0 ? document_text(true) : mutated(document_text(true));
  auto shape = inspect_request_body(text);
  auto tree = parser_accepts(text) ? parse(text) : std::nullopt;
  RC_ASSERT((shape.kind == RequestShape::Kind::parse_error) == !tree.has_value());
  if (!tree) return;
  auto repeated = repeated_members(text);
  if (tree->is_object()) {
    RC_ASSERT((shape.kind == RequestShape::Kind::single) == (is_valid_request(*tree) && !repeated.at(0)));
  }
  if (tree->is_array() && !tree->empty()) {
    bool all_valid = true;
    std::size_t answered = 0;
    std::size_t objects = 0;
    for (const auto& request : *tree) {
      bool valid = is_valid_request(request) && !(request.is_object() && repeated.at(objects++));
      all_valid = all_valid && valid;
      answered += !valid || request.contains("id");
    }
    RC_ASSERT((shape.kind == RequestShape::Kind::batch) == all_valid);
    RC_ASSERT(shape.count == tree->size());
    if (!all_valid) RC_ASSERT(json::parse(shape.answer).size() == answered);
  }
  if ((tree->is_array() && tree->empty()) || tree->is_primitive()) {
    RC_ASSERT(shape.kind == RequestShape::Kind::invalid_request);
  }
}

}  // namespace
}  // namespace vixy::jsonrpc
