#include "jsonrpc/jsonrpc.hpp"

#include <algorithm>
#include <charconv>

namespace vixy::jsonrpc {

std::optional<json> parse(std::string_view text, std::size_t max_depth) {
  if (!raw::valid(text, max_depth)) return std::nullopt;
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

std::string error_text(std::string_view raw_id, int code, std::string_view message) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  out += raw_id;
  out += R"(,"error":)";
  out += json{{"code", code}, {"message", message}}.dump();
  out += '}';
  return out;
}

std::string result_text(std::string_view raw_id, std::string_view raw_result) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  out += raw_id;
  out += R"(,"result":)";
  out += raw_result;
  out += '}';
  return out;
}

namespace {

// Both forms of the request check report the same problems.
constexpr const char* kNotObject = "request must be a JSON object";
constexpr const char* kNoMethod = "request needs a string \"method\"";
constexpr const char* kBadId = "\"id\" must be a number, a string or null";
constexpr const char* kBadParams = "\"params\" must be an array or an object";

}  // namespace

Result<void> is_valid_request(const json& message) {
  if (!message.is_object()) return Problem{kNotObject};
  auto method = message.find("method");
  if (method == message.end() || !method->is_string()) return Problem{kNoMethod};
  auto id = message.find("id");
  if (id != message.end() && !(id->is_null() || id->is_number() || id->is_string())) {
    return Problem{kBadId};
  }
  auto params = message.find("params");
  if (params != message.end() && !(params->is_array() || params->is_object())) {
    return Problem{kBadParams};
  }
  return {};
}

// In valid JSON a value's first byte tells its type.
bool is_id_text(std::string_view text) {
  char c = text.empty() ? '\0' : text.front();
  return c == 'n' || c == '"' || c == '-' || (c >= '0' && c <= '9');
}

Result<void> is_valid_request(std::string_view text, const raw::MessageView& view) {
  auto first = [&](const raw::Span& span) { return text[span.begin]; };
  if (!view.object) return Problem{kNotObject};
  if (!view.repeated.empty()) return Problem{"member \"" + std::string(view.repeated) + "\" appears more than once"};
  if (!view.method || first(*view.method) != '"') return Problem{kNoMethod};
  if (view.id && !is_id_text(view.id->of(text))) return Problem{kBadId};
  if (view.params && first(*view.params) != '[' && first(*view.params) != '{') return Problem{kBadParams};
  return {};
}

namespace {

// The id to answer `message` under: its own when it is one a request may have, else null.
std::string_view answer_id(std::string_view message, const raw::MessageView& view) {
  if (!view.id || !is_id_text(view.id->of(message))) return "null";
  return view.id->of(message);
}

void refuse(RequestShape& shape, std::string problem, std::string answer = {}) {
  shape.kind = RequestShape::Kind::invalid_request;
  shape.answer = answer.empty() ? error_text("null", kInvalidRequest, "invalid request: " + problem) : std::move(answer);
  shape.problem = std::move(problem);
}

// Answers joined as a batch answer; "" when there are none (JSON-RPC sends nothing back then).
std::string batch_text(const std::vector<std::string>& answers) {
  if (answers.empty()) return {};
  std::string out = "[";
  for (const auto& answer : answers) {
    if (out.size() > 1) out += ',';
    out += answer;
  }
  return out + "]";
}

// A batch with invalid requests: each of those gets its error, and each valid one with an id is
// told why it was not sent, so that every id still gets exactly one answer.
void refuse_batch(RequestShape& shape, std::string_view body, const std::vector<raw::Span>& spans) {
  std::vector<std::optional<std::string>> problems(spans.size());
  std::size_t first_invalid = spans.size();
  for (std::size_t i = 0; i < spans.size(); ++i) {
    std::string_view message = spans[i].of(body);
    auto valid = is_valid_request(message, raw::view_message(message));
    if (valid) continue;
    problems[i] = valid.problem();
    first_invalid = std::min(first_invalid, i);
  }
  std::string not_sent = "not sent: request " + std::to_string(first_invalid + 1) + " of this batch is invalid";
  std::vector<std::string> answers;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    std::string_view message = spans[i].of(body);
    auto view = raw::view_message(message);
    if (problems[i]) {
      answers.push_back(error_text(answer_id(message, view), kInvalidRequest, "invalid request: " + *problems[i]));
    } else if (view.id) {
      answers.push_back(error_text(answer_id(message, view), kInvalidRequest, not_sent));
    }
  }
  refuse(shape, "request " + std::to_string(first_invalid + 1) + " of the batch: " + *problems[first_invalid],
         batch_text(answers));
}

}  // namespace

RequestShape inspect_request_body(std::string_view body, const RequestLimits& limits) {
  RequestShape shape;
  switch (raw::check(body, limits.max_depth)) {
    case raw::Verdict::not_json:
      shape.kind = RequestShape::Kind::parse_error;
      shape.problem = "body is not valid JSON";
      return shape;
    case raw::Verdict::too_deep:
      refuse(shape, "JSON nested deeper than " + std::to_string(limits.max_depth) + " levels (max_json_depth)");
      return shape;
    case raw::Verdict::ok:
      break;
  }
  char first = body[body.find_first_not_of(" \t\n\r")];
  if (first == '{') {
    shape.count = 1;
    auto view = raw::view_message(body);
    if (auto valid = is_valid_request(body, view); !valid) {
      refuse(shape, valid.problem(),
             error_text(answer_id(body, view), kInvalidRequest, "invalid request: " + valid.problem()));
      return shape;
    }
    shape.kind = RequestShape::Kind::single;
    return shape;
  }
  if (first != '[') {
    refuse(shape, "request must be a JSON object or a batch array");
    return shape;
  }
  shape.count = *raw::count_elements(body, limits.max_batch_size);
  if (shape.count == 0) {
    refuse(shape, "empty batch");
    return shape;
  }
  if (shape.count > limits.max_batch_size) {
    refuse(shape, "batch of more than " + std::to_string(limits.max_batch_size) + " requests (max_batch_size)");
    return shape;
  }
  auto spans = *raw::elements(body);
  for (const auto& span : spans) {
    std::string_view message = span.of(body);
    if (!is_valid_request(message, raw::view_message(message))) {
      refuse_batch(shape, body, spans);
      return shape;
    }
  }
  shape.kind = RequestShape::Kind::batch;
  return shape;
}

std::string error_for_each(std::string_view body, int code, std::string_view message) {
  auto one = [&](std::string_view request) -> std::optional<std::string> {
    auto view = raw::view_message(request);
    if (!view.object) return error_text("null", code, message);
    if (!view.id) return std::nullopt;  // a notification expects no answer
    return error_text(answer_id(request, view), code, message);
  };
  if (auto spans = raw::elements(body); spans && !spans->empty()) {
    std::vector<std::string> answers;
    for (const auto& span : *spans) {
      if (auto answer = one(span.of(body))) answers.push_back(std::move(*answer));
    }
    return batch_text(answers);
  }
  return one(body).value_or(error_text("null", code, message));
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
