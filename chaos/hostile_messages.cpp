#include "chaos/hostile_messages.hpp"

#include <algorithm>

namespace vixy::chaos {

using nlohmann::json;

namespace {

std::string repeated(std::string_view unit, int times) {
  std::string out;
  out.reserve(unit.size() * static_cast<std::size_t>(std::max(times, 0)));
  for (int i = 0; i < times; ++i) out += unit;
  return out;
}

std::string quoted(const std::string& text) { return json(text).dump(); }

std::string error_words(const json& answer) {
  const json& code = answer["error"].is_object() ? answer["error"].value("code", json()) : json();
  return code.is_number_integer() ? "error " + std::to_string(code.get<long long>()) : "an error without a code";
}

}  // namespace

std::string nested_params_request(const std::string& id, int depth) {
  return R"({"jsonrpc":"2.0","id":)" + quoted(id) + R"(,"method":"eth_blockNumber","params":)" + repeated("[", depth) +
         repeated("]", depth) + "}";
}

std::string nested_id_request(int depth) {
  return R"({"jsonrpc":"2.0","method":"eth_blockNumber","params":[],"id":)" + repeated(R"({"a":)", depth - 1) + "{}" +
         repeated("}", depth - 1) + "}";
}

std::string nested_logs_subscribe(const std::string& id, int depth) {
  return R"({"jsonrpc":"2.0","id":)" + quoted(id) + R"(,"method":"eth_subscribe","params":["logs",{"address":)" +
         repeated("[", depth) + repeated("]", depth) + "}]}";
}

std::string huge_batch(const std::string& id, int size) {
  std::string out = "[";
  for (int i = 0; i < size; ++i) {
    if (i > 0) out += ',';
    out += R"({"jsonrpc":"2.0","id":)" + quoted(id + "-" + std::to_string(i)) + R"(,"method":"eth_blockNumber"})";
  }
  return out + "]";
}

std::string describe_answer(std::string_view text) {
  if (std::size_t depth = nesting_depth(text); depth > kMaxParsedDepth) {
    return "an answer nested " + std::to_string(depth) + " deep";
  }
  json answer = json::parse(text, nullptr, false);
  if (answer.is_discarded()) return text.empty() ? "an empty body" : "not JSON";
  if (answer.is_object()) {
    if (answer.contains("error")) return error_words(answer);
    if (answer.contains("result")) return "a result";
    return "an object that is no answer";
  }
  if (!answer.is_array()) return "a JSON value that is no answer";
  if (answer.empty()) return "an empty batch answer";
  std::size_t errors = 0;
  std::string first_error;
  for (const auto& one : answer) {
    if (!one.is_object() || !one.contains("error")) continue;
    if (errors++ == 0) first_error = error_words(one);
  }
  std::string out = std::to_string(answer.size()) + " answers";
  if (errors > 0) out += " (" + std::to_string(errors) + " errors, first " + first_error + ")";
  return out;
}

std::string describe_http(const HttpResult& result) {
  if (result.ec) return "transport error: " + result.ec.message();
  return "HTTP " + std::to_string(result.status) + ", " + describe_answer(result.body);
}

}  // namespace vixy::chaos
