#include "http/method_screen.hpp"

#include "jsonrpc/jsonrpc.hpp"
#include "jsonrpc/raw.hpp"

#include <limits>

namespace vixy::http {

namespace raw = jsonrpc::raw;

namespace {

// Whether `entry` (a valid request object) is refused; its error answer goes to `screen` when it has an id.
bool refuse(std::string_view entry, const routing::MethodPolicy& policy, MethodScreen& screen) {
  auto view = raw::view_message(entry);
  std::string method = view.method ? raw::string_value(view.method->of(entry)).value_or("") : "";
  if (policy.allows(method)) return false;
  ++screen.refused;
  if (view.id) {
    std::string_view id = view.id->of(entry);
    screen.answers.push_back(jsonrpc::error_text(jsonrpc::is_id_text(id) ? id : "null", jsonrpc::kMethodNotFound,
                                                 routing::refused_method_message(method)));
  }
  return true;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += ',';
    out += part;
  }
  return out;
}

}  // namespace

MethodScreen screen_methods(std::string_view body, bool batch, const routing::MethodPolicy& policy) {
  MethodScreen screen;
  if (!batch) {
    refuse(body, policy, screen);
    return screen;
  }
  auto entries = raw::elements(body).value_or(std::vector<raw::Span>{});
  std::vector<std::string_view> allowed;
  for (const auto& span : entries) {
    std::string_view entry = span.of(body);
    if (!refuse(entry, policy, screen)) allowed.push_back(entry);
  }
  if (screen.refused == 0 || allowed.empty()) return screen;
  screen.forward = "[";
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0) screen.forward += ',';
    screen.forward += allowed[i];
  }
  screen.forward += ']';
  return screen;
}

std::string refusals_only(const MethodScreen& screen, bool batch) {
  if (screen.answers.empty()) return "";
  return batch ? "[" + joined(screen.answers) + "]" : screen.answers.front();
}

std::optional<std::string> merge_batch_answer(std::string_view node_answer, const std::vector<std::string>& answers) {
  // No depth limit of the client's kind: the node's answer is its own, and the scan does not recurse.
  if (raw::check(node_answer, std::numeric_limits<std::size_t>::max()) != raw::Verdict::ok) return std::nullopt;
  auto count = raw::count_elements(node_answer, 1);
  if (!count) return std::nullopt;
  if (answers.empty()) return std::string(node_answer);
  if (*count == 0) return "[" + joined(answers) + "]";
  // Spliced in before the closing bracket: an eth_getLogs answer can be megabytes, copied once.
  auto close = node_answer.find_last_of(']');
  std::string out;
  out.reserve(node_answer.size() + 64 * answers.size());
  out.append(node_answer.substr(0, close));
  out += ',';
  out += joined(answers);
  out += ']';
  return out;
}

}  // namespace vixy::http
