// A validating scan of JSON text, as strict as nlohmann's parser (which jsonrpc::parse uses), so
// the proxy can refuse what it would refuse without building a tree of every request it forwards.
// A tree costs an allocation per value and copies every string byte by byte (bench/micro:
// BM_HttpInspect_* against BM_TreeParse_*).

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "text/ascii.hpp"

#include "jsonrpc/raw.hpp"

namespace vixy::jsonrpc::raw {
namespace {

// One bit per open container (set: object). The first 256 levels need no allocation: the scan
// runs on every request, and the caller bounds the depth.
class ContainerStack {
 public:
  bool empty() const { return depth_ == 0; }
  std::size_t depth() const { return depth_; }
  bool top_is_object() const {
    std::size_t level = depth_ - 1;
    std::size_t index = level / 64;
    std::uint64_t bits = index < inline_.size() ? inline_[index] : spill_[index - inline_.size()];
    return (bits >> (level % 64)) & 1U;
  }
  void pop() { --depth_; }
  void push(bool object) {
    std::size_t index = depth_ / 64;
    if (index >= inline_.size() && index - inline_.size() >= spill_.size()) spill_.push_back(0);
    std::uint64_t& bits = index < inline_.size() ? inline_[index] : spill_[index - inline_.size()];
    std::uint64_t mask = std::uint64_t{1} << (depth_ % 64);
    bits = object ? (bits | mask) : (bits & ~mask);
    ++depth_;
  }

 private:
  std::array<std::uint64_t, 4> inline_{};
  std::vector<std::uint64_t> spill_;
  std::size_t depth_ = 0;
};

bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

class Scanner {
 public:
  Scanner(std::string_view text, std::size_t max_depth) : text_(text), max_depth_(max_depth) {}

  // A leading byte order mark is refused, although nlohmann skips one: nodes (Go's encoding/json)
  // refuse it, so the client is better told here.
  Verdict document() {
    skip_space();
    if (!value_sequence()) return too_deep_ ? Verdict::too_deep : Verdict::not_json;
    skip_space();
    return pos_ == text_.size() ? Verdict::ok : Verdict::not_json;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  unsigned char peek() const { return static_cast<unsigned char>(text_[pos_]); }
  void skip_space() {
    while (!at_end() && text::is_json_space(peek())) ++pos_;
  }
  bool consume(char c) {
    if (at_end() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  // One value, with every container opened inside it closed again: iterative, so nesting depth
  // cannot exhaust the stack.
  bool value_sequence() {
    ContainerStack open;
    for (;;) {
      skip_space();
      if (at_end()) return false;
      unsigned char c = peek();
      if (c == '{' || c == '[') {
        // An empty container counts as a level too: "[[]]" is two deep.
        if (open.depth() == max_depth_) {
          too_deep_ = true;
          return false;
        }
        ++pos_;
        skip_space();
        if (!consume(c == '{' ? '}' : ']')) {
          open.push(c == '{');
          if (c == '{' && !key()) return false;
          continue;
        }
      } else if (!scalar()) {
        return false;
      }
      switch (after_value(open)) {
        case Next::fail: return false;
        case Next::done: return true;
        case Next::value: break;
      }
    }
  }

  enum class Next { fail, value, done };

  // After a complete value: closes the containers it completes and steps over the separator (and
  // an object's next key) before the next value.
  Next after_value(ContainerStack& open) {
    for (;;) {
      if (open.empty()) return Next::done;
      skip_space();
      bool object = open.top_is_object();
      if (consume(',')) return !object || key() ? Next::value : Next::fail;
      if (!consume(object ? '}' : ']')) return Next::fail;
      open.pop();
    }
  }

  // An object member's key and its colon.
  bool key() {
    skip_space();
    if (at_end() || peek() != '"' || !scan_string()) return false;
    skip_space();
    return consume(':');
  }

  bool scalar() {
    unsigned char c = peek();
    if (c == '"') return scan_string();
    if (c == '-' || is_digit(c)) return number();
    if (c == 't') return literal("true");
    if (c == 'f') return literal("false");
    if (c == 'n') return literal("null");
    return false;
  }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool digits() {
    std::size_t start = pos_;
    while (!at_end() && is_digit(peek())) ++pos_;
    return pos_ > start;
  }

  bool number() {
    std::size_t start = pos_;
    consume('-');
    bool leading_zero = consume('0');  // stands alone: "01" is not a number
    if (!leading_zero && (at_end() || peek() < '1' || peek() > '9' || !digits())) return false;
    if (consume('.') && !digits()) return false;
    bool exponent = !at_end() && (peek() == 'e' || peek() == 'E');
    if (exponent) {
      ++pos_;
      if (!consume('+')) consume('-');
      if (!digits()) return false;
    }
    // The parser refuses a number too large for a double; only an exponent or 309 digits make one.
    if (exponent || pos_ - start >= 309) return finite(text_.substr(start, pos_ - start));
    return true;
  }

  // strtod reads '.' as the decimal point in the C locale, which the proxy never changes.
  static bool finite(std::string_view number) {
    std::string terminated(number);
    return std::isfinite(std::strtod(terminated.c_str(), nullptr));
  }

  // `pos_` at the opening quote.
  bool scan_string() {
    ++pos_;
    while (!at_end()) {
      unsigned char c = peek();
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (!escape()) return false;
      } else if (c < 0x20) {
        return false;
      } else if (c < 0x80) {
        ++pos_;
      } else if (!utf8_sequence()) {
        return false;
      }
    }
    return false;
  }

  bool escape() {
    ++pos_;
    if (at_end()) return false;
    unsigned char c = peek();
    ++pos_;
    if (c == 'u') {
      int unit = code_unit();
      if (unit < 0) return false;
      if (unit >= 0xDC00 && unit <= 0xDFFF) return false;  // a low surrogate cannot come first
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        if (!consume('\\') || !consume('u')) return false;
        int low = code_unit();
        return low >= 0xDC00 && low <= 0xDFFF;
      }
      return true;
    }
    return c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't';
  }

  // Four hex digits after "\u"; -1 when they are not.
  int code_unit() {
    if (text_.size() - pos_ < 4) return -1;
    int unit = 0;
    for (int i = 0; i < 4; ++i) {
      int digit = text::hex_digit_value(peek());
      if (digit < 0) return -1;
      unit = unit * 16 + digit;
      ++pos_;
    }
    return unit;
  }

  // RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
  bool utf8_sequence() {
    unsigned char lead = peek();
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;  // bounds of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      return false;
    }
    if (text_.size() - pos_ < length) return false;
    auto second = static_cast<unsigned char>(text_[pos_ + 1]);
    if (second < low || second > high) return false;
    for (std::size_t i = 2; i < length; ++i) {
      auto next = static_cast<unsigned char>(text_[pos_ + i]);
      if (next < 0x80 || next > 0xBF) return false;
    }
    pos_ += length;
    return true;
  }

  std::string_view text_;
  std::size_t max_depth_;
  std::size_t pos_ = 0;
  bool too_deep_ = false;
};

}  // namespace

Verdict check(std::string_view text, std::size_t max_depth) { return Scanner(text, max_depth).document(); }

}  // namespace vixy::jsonrpc::raw
