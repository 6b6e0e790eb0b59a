#include "jsonrpc/raw.hpp"

#include <charconv>
#include <cstring>

#include <nlohmann/json.hpp>

#include "text/ascii.hpp"

namespace vixy::jsonrpc::raw {
namespace {

std::size_t skip_space(std::string_view text, std::size_t pos) {
  while (pos < text.size() && text::is_json_space(text[pos])) ++pos;
  return pos;
}

// `pos` is at an opening quote; returns one past the closing quote.
// memchr jumps from quote to quote: long hex strings (a head's 512-digit logsBloom) are most of a
// notification, and every session's lookups skip them. A quote after an odd run of backslashes
// is escaped; runs end at the previous quote at the latest, so the look-back stays linear.
std::optional<std::size_t> skip_string(std::string_view text, std::size_t pos) {
  const std::size_t begin = pos + 1;
  for (std::size_t at = begin; at < text.size();) {
    const void* found = std::memchr(text.data() + at, '"', text.size() - at);
    if (found == nullptr) return std::nullopt;
    std::size_t quote = static_cast<std::size_t>(static_cast<const char*>(found) - text.data());
    std::size_t run = 0;
    while (quote - run > begin && text[quote - run - 1] == '\\') ++run;
    if (run % 2 == 0) return quote + 1;
    at = quote + 1;
  }
  return std::nullopt;
}

bool is_scalar_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+' || c == '.' || c == 'E';
}

}  // namespace

std::optional<std::size_t> skip_value(std::string_view text, std::size_t pos) {
  pos = skip_space(text, pos);
  if (pos >= text.size()) return std::nullopt;
  char c = text[pos];
  if (c == '"') return skip_string(text, pos);
  if (c != '{' && c != '[') {
    std::size_t end = pos;
    while (end < text.size() && is_scalar_char(text[end])) ++end;
    if (end == pos) return std::nullopt;
    return end;
  }
  // Containers: track nesting depth; strings are skipped whole so brackets inside them don't count.
  std::size_t depth = 0;
  while (pos < text.size()) {
    c = text[pos];
    if (c == '"') {
      auto end = skip_string(text, pos);
      if (!end) return std::nullopt;
      pos = *end;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return std::nullopt;
      if (--depth == 0) return pos + 1;
    }
    ++pos;
  }
  return std::nullopt;
}

namespace {

// Calls visit(name, value span) for each top-level member of the object `text`, in order; false
// when `text` is not an object or ends early.
template <typename Visit>
bool for_each_member(std::string_view text, Visit&& visit) {
  std::size_t pos = skip_space(text, 0);
  if (pos >= text.size() || text[pos] != '{') return false;
  pos = skip_space(text, pos + 1);
  while (pos < text.size() && text[pos] == '"') {
    auto key_end = skip_string(text, pos);
    if (!key_end) return false;
    std::string_view name = text.substr(pos + 1, *key_end - pos - 2);
    // Escaped names are rare but must match as the parser reads them, or "\u0069d" would hide an id.
    std::optional<std::string> decoded;
    if (name.find('\\') != std::string_view::npos) {
      decoded = string_value(text.substr(pos, *key_end - pos));
      if (!decoded) return false;
      name = *decoded;
    }
    pos = skip_space(text, *key_end);
    if (pos >= text.size() || text[pos] != ':') return false;
    std::size_t value_begin = skip_space(text, pos + 1);
    auto value_end = skip_value(text, value_begin);
    if (!value_end) return false;
    visit(name, Span{value_begin, *value_end});
    pos = skip_space(text, *value_end);
    if (pos < text.size() && text[pos] == ',') pos = skip_space(text, pos + 1);
  }
  return true;
}

}  // namespace

std::optional<Span> member(std::string_view text, std::string_view key) {
  std::optional<Span> found;
  bool object = for_each_member(text, [&](std::string_view name, Span value) {
    if (name == key) found = value;
  });
  if (!object) return std::nullopt;
  return found;
}

namespace {

bool same_ignoring_case(std::string_view name, std::string_view lower) {
  if (name.size() != lower.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

}  // namespace

MessageView view_message(std::string_view text) {
  MessageView view = view_message_before_break(text);
  if (!view.object) view = MessageView{};
  return view;
}

MessageView view_message_before_break(std::string_view text) {
  MessageView view;
  int seen[3] = {0, 0, 0};
  static constexpr std::string_view kNames[3] = {"id", "method", "params"};
  view.object = for_each_member(text, [&](std::string_view name, Span value) {
    if (name == "id") {
      view.id = value;
    } else if (name == "method") {
      view.method = value;
    } else if (name == "params") {
      view.params = value;
    } else if (name == "result") {
      view.result = true;
    } else if (name == "error") {
      view.error = true;
    }
    for (int i = 0; i < 3; ++i) {
      if (same_ignoring_case(name, kNames[i]) && ++seen[i] == 2 && view.repeated.empty()) view.repeated = kNames[i];
    }
  });
  return view;
}

std::string splice(std::string_view text, Span span, std::string_view replacement) {
  std::string out;
  out.reserve(text.size() - (span.end - span.begin) + replacement.size());
  out.append(text.substr(0, span.begin));
  out.append(replacement);
  out.append(text.substr(span.end));
  return out;
}

std::optional<std::uint64_t> uint_value(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::string> string_value(std::string_view quoted) {
  if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') return std::nullopt;
  std::string_view inner = quoted.substr(1, quoted.size() - 2);
  if (inner.find('\\') == std::string_view::npos) return std::string(inner);
  // Escapes are rare in the strings the proxy reads (method names, ids); the parser resolves them.
  auto value = nlohmann::json::parse(quoted, nullptr, /*allow_exceptions=*/false);
  if (!value.is_string()) return std::nullopt;
  return value.get<std::string>();
}

std::optional<std::size_t> count_elements(std::string_view text, std::size_t limit) {
  std::size_t pos = skip_space(text, 0);
  if (pos >= text.size() || text[pos] != '[') return std::nullopt;
  pos = skip_space(text, pos + 1);
  if (pos < text.size() && text[pos] == ']') return 0;
  std::size_t count = 0;
  while (pos < text.size() && count <= limit) {
    auto end = skip_value(text, pos);
    if (!end) return std::nullopt;
    ++count;
    pos = skip_space(text, *end);
    if (pos >= text.size() || text[pos] != ',') break;
    pos = skip_space(text, pos + 1);
  }
  return count;
}

std::optional<std::vector<Span>> elements(std::string_view text) {
  std::size_t pos = skip_space(text, 0);
  if (pos >= text.size() || text[pos] != '[') return std::nullopt;
  std::vector<Span> out;
  pos = skip_space(text, pos + 1);
  if (pos < text.size() && text[pos] == ']') return out;
  while (pos < text.size()) {
    auto end = skip_value(text, pos);
    if (!end) return std::nullopt;
    out.push_back(Span{pos, *end});
    pos = skip_space(text, *end);
    if (pos < text.size() && text[pos] == ',') {
      pos = skip_space(text, pos + 1);
    } else {
      break;
    }
  }
  if (pos >= text.size() || text[pos] != ']') return std::nullopt;
  return out;
}

}  // namespace vixy::jsonrpc::raw
