#include "jsonrpc/jsonrpc.hpp"

#include <charconv>

namespace vixy::jsonrpc {

std::optional<json> parse(std::string_view text) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

json make_result(const json& id, json result) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json make_error(const json& id, int code, std::string_view message, const json* data) {
  json error{{"code", code}, {"message", message}};
  if (data != nullptr) error["data"] = *data;
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
}

json make_request(const json& id, std::string_view method, json params) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

json make_notification(std::string_view subscription_id, json result) {
  return json{{"jsonrpc", "2.0"},
              {"method", "eth_subscription"},
              {"params", {{"subscription", subscription_id}, {"result", std::move(result)}}}};
}

namespace {

// Both forms of the request check report the same problems.
constexpr const char* kNotObject = "request must be a JSON object";
constexpr const char* kNoMethod = "request needs a string \"method\"";
constexpr const char* kBadId = "\"id\" must be a number, a string or null";
constexpr const char* kBadParams = "\"params\" must be an array or an object";

bool fail(std::string* problem, const char* why) {
  if (problem != nullptr) *problem = why;
  return false;
}

}  // namespace

bool is_valid_request(const json& message, std::string* problem) {
  if (!message.is_object()) return fail(problem, kNotObject);
  auto method = message.find("method");
  if (method == message.end() || !method->is_string()) return fail(problem, kNoMethod);
  auto id = message.find("id");
  if (id != message.end() && !(id->is_null() || id->is_number() || id->is_string())) {
    return fail(problem, kBadId);
  }
  auto params = message.find("params");
  if (params != message.end() && !(params->is_array() || params->is_object())) {
    return fail(problem, kBadParams);
  }
  return true;
}

// In valid JSON a value's first byte tells its type.
bool is_id_text(std::string_view text) {
  char c = text.empty() ? '\0' : text.front();
  return c == 'n' || c == '"' || c == '-' || (c >= '0' && c <= '9');
}

bool is_valid_request(std::string_view text, const raw::MessageView& view, std::string* problem) {
  auto first = [&](const raw::Span& span) { return text[span.begin]; };
  if (!view.object) return fail(problem, kNotObject);
  if (!view.method || first(*view.method) != '"') return fail(problem, kNoMethod);
  if (view.id && !is_id_text(view.id->of(text))) return fail(problem, kBadId);
  if (view.params && first(*view.params) != '[' && first(*view.params) != '{') return fail(problem, kBadParams);
  return true;
}

RequestShape inspect_request_body(std::string_view body) {
  RequestShape shape;
  if (!raw::valid(body)) {
    shape.kind = RequestShape::Kind::parse_error;
    shape.problem = "body is not valid JSON";
    return shape;
  }
  char first = body[body.find_first_not_of(" \t\n\r")];
  if (first == '{') {
    shape.kind = RequestShape::Kind::single;
    shape.count = 1;
    return shape;
  }
  if (first == '[') {
    shape.count = raw::elements(body)->size();
    shape.kind = shape.count == 0 ? RequestShape::Kind::invalid_request : RequestShape::Kind::batch;
    if (shape.count == 0) shape.problem = "empty batch";
    return shape;
  }
  shape.kind = RequestShape::Kind::invalid_request;
  shape.problem = "request must be a JSON object or a batch array";
  return shape;
}

json error_for_each(const json& document, int code, std::string_view message) {
  auto one = [&](const json& request) -> std::optional<json> {
    if (!request.is_object()) return make_error(nullptr, code, message);
    auto id = request.find("id");
    if (id == request.end()) return std::nullopt;  // a notification expects no answer
    return make_error(*id, code, message);
  };
  if (document.is_array() && !document.empty()) {
    json answers = json::array();
    for (const auto& request : document) {
      if (auto answer = one(request)) answers.push_back(std::move(*answer));
    }
    return answers;
  }
  if (document.is_object()) return one(document).value_or(make_error(nullptr, code, message));
  return make_error(nullptr, code, message);
}

std::string to_quantity(std::uint64_t value) {
  char buf[2 + 16];
  buf[0] = '0';
  buf[1] = 'x';
  auto [end, ec] = std::to_chars(buf + 2, buf + sizeof buf, value, 16);
  (void)ec;
  return std::string(buf, end);
}

std::optional<std::uint64_t> from_quantity(std::string_view hex) {
  if (hex.size() < 3 || hex[0] != '0' || (hex[1] != 'x' && hex[1] != 'X')) return std::nullopt;
  hex.remove_prefix(2);
  if (hex.size() > 16) return std::nullopt;
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
  if (ec != std::errc{} || ptr != hex.data() + hex.size()) return std::nullopt;
  return value;
}

}  // namespace vixy::jsonrpc
