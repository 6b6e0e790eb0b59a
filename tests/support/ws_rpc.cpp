#include "support/ws_rpc.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace vixy::testing {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::size_t skip_space(std::string_view text, std::size_t at) {
  while (at < text.size() && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r')) ++at;
  return at;
}

// The end of the JSON value starting at `at` (npos when it is cut short). Only its extent matters
// here: the text was produced by a JSON writer or is checked by the parser separately.
std::size_t skip_value(std::string_view text, std::size_t at) {
  if (at >= text.size()) return std::string_view::npos;
  if (text[at] == '"') {
    for (std::size_t i = at + 1; i < text.size(); ++i) {
      if (text[i] == '\\') {
        ++i;
      } else if (text[i] == '"') {
        return i + 1;
      }
    }
    return std::string_view::npos;
  }
  if (text[at] == '{' || text[at] == '[') {
    int depth = 0;
    for (std::size_t i = at; i < text.size(); ++i) {
      char c = text[i];
      if (c == '"') {
        i = skip_value(text, i);
        if (i == std::string_view::npos) return i;
        --i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return i + 1;
      }
    }
    return std::string_view::npos;
  }
  std::size_t i = at;
  while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']' && text[i] != ' ' &&
         text[i] != '\n' && text[i] != '\t' && text[i] != '\r')
    ++i;
  return i;
}

Clock::duration left(Clock::time_point deadline) { return std::max(Clock::duration::zero(), deadline - Clock::now()); }

}  // namespace

std::optional<std::string> raw_id(std::string_view text) {
  std::size_t at = skip_space(text, 0);
  if (at >= text.size() || text[at] != '{') return std::nullopt;
  at = skip_space(text, at + 1);
  while (at < text.size() && text[at] == '"') {
    std::size_t key_end = skip_value(text, at);
    if (key_end == std::string_view::npos) return std::nullopt;
    std::string_view key = text.substr(at, key_end - at);
    at = skip_space(text, key_end);
    if (at >= text.size() || text[at] != ':') return std::nullopt;
    at = skip_space(text, at + 1);
    std::size_t value_end = skip_value(text, at);
    if (value_end == std::string_view::npos) return std::nullopt;
    if (key == "\"id\"") return std::string(text.substr(at, value_end - at));
    at = skip_space(text, value_end);
    if (at < text.size() && text[at] == ',') at = skip_space(text, at + 1);
  }
  return std::nullopt;
}

std::string request_text(const std::string& raw, const std::string& method, const json& params) {
  return R"({"jsonrpc":"2.0","id":)" + raw + R"(,"method":)" + json(method).dump() + R"(,"params":)" +
         params.dump() + "}";
}

bool is_proxy_subscription_id(const json& value) {
  static const std::regex pattern("0x[0-9a-f]{32}");
  return value.is_string() && std::regex_match(value.get<std::string>(), pattern);
}

bool RpcWs::connect(std::uint16_t port, const std::string& target) {
  return !ws_.connect("127.0.0.1", port, target);
}

bool RpcWs::send(const std::string& text) { return !ws_.send(text); }

void RpcWs::record(std::string text) {
  Received message;
  message.body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  message.id = raw_id(text).value_or("");
  message.text = std::move(text);
  bool notification = message.body.is_object() && message.body.value("method", "") == "eth_subscription" &&
                      !message.body.contains("id");
  (notification ? notifications_ : answers_).push_back(std::move(message));
}

bool RpcWs::pump_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline || ws_.closed()) return false;
    auto text = ws_.receive(std::chrono::duration_cast<std::chrono::milliseconds>(left(deadline)) + 1ms);
    if (text) record(std::move(*text));
  }
  return true;
}

std::size_t RpcWs::observe(std::chrono::milliseconds window) {
  std::size_t before = answers_.size();
  pump_until([] { return false; }, window);
  return answers_.size() - before;
}

std::optional<json> RpcWs::call(const std::string& raw, const std::string& method, const json& params,
                                std::chrono::milliseconds timeout) {
  std::size_t before = answers_.size();
  if (!send(request_text(raw, method, params))) return std::nullopt;
  std::optional<json> answer;
  pump_until(
      [&] {
        for (std::size_t i = before; i < answers_.size(); ++i) {
          if (answers_[i].id == raw) {
            answer = answers_[i].body;
            return true;
          }
        }
        return false;
      },
      timeout);
  return answer;
}

std::string RpcWs::subscribe(const std::string& raw, const json& params) {
  auto answer = call(raw, "eth_subscribe", params);
  if (!answer || !answer->contains("result") || !(*answer)["result"].is_string()) {
    ADD_FAILURE() << "eth_subscribe " << params.dump() << " got " << (answer ? answer->dump() : "no answer");
    return "";
  }
  return (*answer)["result"].get<std::string>();
}

std::string RpcWs::upstream_name(const std::string& raw) {
  auto answer = call(raw, "web3_clientVersion");
  if (!answer || !answer->contains("result") || !(*answer)["result"].is_string()) return "";
  auto version = (*answer)["result"].get<std::string>();
  return version.substr(version.rfind('/') + 1);
}

std::size_t RpcWs::answer_count(const std::string& raw) const { return answers_with(raw).size(); }

std::vector<const Received*> RpcWs::answers_with(const std::string& raw) const {
  std::vector<const Received*> out;
  for (const auto& a : answers_) {
    if (a.id == raw) out.push_back(&a);
  }
  return out;
}

std::string subscription_of(const Received& notification) {
  const json& body = notification.body;
  if (!body.is_object()) return "";
  auto params = body.find("params");
  if (params == body.end() || !params->is_object()) return "";
  auto id = params->find("subscription");
  return id != params->end() && id->is_string() ? id->get<std::string>() : "";
}

std::vector<json> RpcWs::results_of(const std::string& subscription, std::size_t from) const {
  std::vector<json> out;
  for (std::size_t i = from; i < notifications_.size(); ++i) {
    if (subscription_of(notifications_[i]) == subscription) out.push_back(notifications_[i].body["params"].value("result", json()));
  }
  return out;
}

bool RpcWs::notified_after(const std::string& subscription, std::size_t from, std::chrono::milliseconds timeout) {
  return pump_until([&] { return !results_of(subscription, from).empty(); }, timeout);
}

::testing::AssertionResult RpcWs::answered_once(const std::vector<std::string>& raws) const {
  auto result = ::testing::AssertionSuccess();
  bool ok = true;
  for (const auto& raw : raws) {
    if (std::size_t count = answer_count(raw); count != 1) {
      if (ok) result = ::testing::AssertionFailure();
      ok = false;
      result << "id " << raw << " was answered " << count << " times; ";
    }
  }
  return result;
}

::testing::AssertionResult RpcWs::notified_only_under(const std::string& subscription) const {
  auto result = ::testing::AssertionSuccess();
  bool ok = true;
  for (const auto& n : notifications_) {
    if (subscription_of(n) == subscription) continue;
    if (ok) result = ::testing::AssertionFailure() << "notifications not under " << subscription << ": ";
    ok = false;
    result << n.text << " ";
  }
  return result;
}

double metric_sample(const std::string& metrics, const std::string& series) {
  auto at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + series.size() + 2));
}

double proxy_metric(chaos::Cluster& cluster, const std::string& series) {
  auto r = cluster.proxy_get("/metrics", 2s);
  if (r.status != 200) return -1;
  return metric_sample(r.body, series);
}

bool ws_upstream_is(chaos::Cluster& cluster, const std::string& node, const std::string& other) {
  auto series = [](const std::string& name) { return "vixy_ws_upstream_node{node=\"" + name + "\"}"; };
  auto metrics = cluster.proxy_get("/metrics", std::chrono::seconds(2)).body;
  return metric_sample(metrics, series(node)) == 1 && metric_sample(metrics, series(other)) != 1;
}

}  // namespace vixy::testing
