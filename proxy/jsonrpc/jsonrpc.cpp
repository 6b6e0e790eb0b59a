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

bool is_valid_request(const json& message, std::string* problem) {
  auto fail = [&](const char* why) {
    if (problem != nullptr) *problem = why;
    return false;
  };
  if (!message.is_object()) return fail("request must be a JSON object");
  auto method = message.find("method");
  if (method == message.end() || !method->is_string()) return fail("request needs a string \"method\"");
  auto id = message.find("id");
  if (id != message.end() && !(id->is_null() || id->is_number() || id->is_string())) {
    return fail("\"id\" must be a number, a string or null");
  }
  auto params = message.find("params");
  if (params != message.end() && !(params->is_array() || params->is_object())) {
    return fail("\"params\" must be an array or an object");
  }
  return true;
}

RequestShape inspect_request_body(std::string_view body) {
  auto parsed = parse(body);
  if (!parsed) {
    RequestShape shape;
    shape.kind = RequestShape::Kind::parse_error;
    shape.problem = "body is not valid JSON";
    return shape;
  }
  return inspect_request(*parsed);
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

RequestShape inspect_request(const json& document) {
  RequestShape shape;
  const json* parsed = &document;
  auto method_of = [](const json& m) -> std::string {
    if (m.is_object()) {
      auto it = m.find("method");
      if (it != m.end() && it->is_string()) return it->get<std::string>();
    }
    return {};
  };
  if (parsed->is_array()) {
    if (parsed->empty()) {
      shape.kind = RequestShape::Kind::invalid_request;
      shape.problem = "empty batch";
      return shape;
    }
    shape.kind = RequestShape::Kind::batch;
    shape.count = parsed->size();
    shape.methods.reserve(parsed->size());
    for (const auto& m : *parsed) shape.methods.push_back(method_of(m));
    return shape;
  }
  if (parsed->is_object()) {
    shape.kind = RequestShape::Kind::single;
    shape.count = 1;
    shape.methods.push_back(method_of(*parsed));
    return shape;
  }
  shape.kind = RequestShape::Kind::invalid_request;
  shape.problem = "request must be a JSON object or a batch array";
  return shape;
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
