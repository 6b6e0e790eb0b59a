#include "monitor/checks.hpp"

#include <charconv>

#include "jsonrpc/jsonrpc.hpp"

namespace vixy::monitor {
using health::CheckOutcome;
using health::CheckResult;
namespace {

CheckResult failed(std::string detail) { return {CheckOutcome::failed, 0, std::move(detail)}; }

CheckResult from_transport(const http::UpstreamPool::Result& r) {
  if (r.failure == http::UpstreamFailure::timeout) return failed("timeout");
  return failed(std::string(http::to_string(r.failure)) + ": " + r.error.message());
}

http::bhttp::request<http::bhttp::string_body> make_request(http::bhttp::verb verb, std::string target) {
  http::bhttp::request<http::bhttp::string_body> request{verb, target, 11};
  request.set(http::bhttp::field::accept, "application/json");
  return request;
}

}  // namespace

CheckResult interpret_el_block_number(unsigned http_status, std::string_view body) {
  if (http_status != 200) return failed("http status " + std::to_string(http_status));
  auto doc = jsonrpc::parse(body);
  if (!doc || !doc->is_object()) return failed("answer is not a JSON-RPC object");
  if (auto error = doc->find("error"); error != doc->end()) {
    auto code = error->is_object() && error->contains("code") ? error->at("code").dump() : "?";
    return failed("json-rpc error " + code);
  }
  auto result = doc->find("result");
  if (result == doc->end() || !result->is_string()) return failed("answer has no block number");
  auto height = jsonrpc::from_quantity(result->get<std::string>());
  if (!height) return failed("block number is not a hex quantity");
  return {CheckOutcome::ok, *height, "ok"};
}

CheckResult interpret_cl_head(unsigned http_status, std::string_view body) {
  if (http_status != 200) return failed("head header: http status " + std::to_string(http_status));
  auto doc = jsonrpc::parse(body);
  const jsonrpc::json* slot = nullptr;
  if (doc && doc->is_object()) {
    auto ptr = jsonrpc::json::json_pointer("/data/header/message/slot");
    if (doc->contains(ptr)) slot = &doc->at(ptr);
  }
  if (slot == nullptr || !slot->is_string()) return failed("head header has no slot");
  const auto& text = slot->get_ref<const std::string&>();
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return failed("slot is not a decimal number");
  return {CheckOutcome::ok, value, "ok"};
}

boost::asio::awaitable<CheckResult> check_el(http::UpstreamPool& pool, http::Clock::time_point deadline) {
  auto request = make_request(http::bhttp::verb::post, pool.url().target());
  request.set(http::bhttp::field::content_type, "application/json");
  request.body() = R"({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]})";
  auto r = co_await pool.exchange(std::move(request), deadline, 64 * 1024);
  if (r.failure != http::UpstreamFailure::none) co_return from_transport(r);
  co_return interpret_el_block_number(r.response.result_int(), r.response.body());
}

boost::asio::awaitable<CheckResult> check_cl(http::UpstreamPool& pool, http::Clock::time_point deadline) {
  auto health = co_await pool.exchange(make_request(http::bhttp::verb::get, pool.url().target("eth/v1/node/health")),
                                       deadline, 64 * 1024);
  if (health.failure != http::UpstreamFailure::none) co_return from_transport(health);
  unsigned status = health.response.result_int();
  if (status == 206) co_return CheckResult{CheckOutcome::syncing, 0, "syncing (206)"};
  if (status != 200) co_return failed("node health: http status " + std::to_string(status));
  auto head = co_await pool.exchange(
      make_request(http::bhttp::verb::get, pool.url().target("eth/v1/beacon/headers/head")), deadline, 1024 * 1024);
  if (head.failure != http::UpstreamFailure::none) co_return from_transport(head);
  co_return interpret_cl_head(head.response.result_int(), head.response.body());
}

}  // namespace vixy::monitor
