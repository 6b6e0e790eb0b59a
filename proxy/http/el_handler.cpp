#include "http/el_handler.hpp"

#include "http/relay.hpp"
#include "jsonrpc/jsonrpc.hpp"
#include "log/log.hpp"
#include "routing/select.hpp"

namespace vixy::http {
namespace {

// `body` is "" for a batch of notifications only: JSON-RPC answers those with nothing at all.
asio::awaitable<void> answer_el_error(server::ProxyContext& context, server::HttpConnection& connection,
                                   const server::Request& request, bhttp::status status, std::string body,
                                   const char* reason) {
  context.metrics.proxy_errors_total.with({"el", reason}).inc();
  co_await connection.respond(server::make_response(request, status, std::move(body)));
}

}  // namespace

asio::awaitable<void> handle_el(server::ProxyContext& context, server::HttpConnection& connection,
                                server::Request& request) {
  auto started = Clock::now();
  const auto& global = context.config.global;
  auto shape = jsonrpc::inspect_request_body(request.body(), {global.max_json_depth, global.max_batch_size});
  if (shape.kind == jsonrpc::RequestShape::Kind::parse_error) {
    std::string body = jsonrpc::error_text("null", jsonrpc::kParseError, "parse error: " + shape.problem);
    co_await answer_el_error(context, connection, request, bhttp::status::bad_request, std::move(body), "parse_error");
    co_return;
  }
  if (shape.kind == jsonrpc::RequestShape::Kind::invalid_request) {
    co_await answer_el_error(context, connection, request, bhttp::status::bad_request, std::move(shape.answer),
                          "invalid_request");
    co_return;
  }

  auto snapshot = context.monitor.snapshot();
  std::vector<RelayTarget> targets;
  for (std::size_t index : routing::el_candidates(snapshot->el)) {
    auto& pool = context.upstreams.el[index].requests;
    targets.push_back({&pool, index, pool.url().target()});
  }
  if (targets.empty()) {
    std::string body = jsonrpc::error_for_each(request.body(), jsonrpc::kServerError, "no healthy EL node available");
    co_await answer_el_error(context, connection, request, bhttp::status::service_unavailable, std::move(body),
                          "no_healthy_node");
    co_return;
  }

  bhttp::request<bhttp::string_body> upstream{bhttp::verb::post, "/", 11};
  upstream.set(bhttp::field::content_type, "application/json");
  upstream.set(bhttp::field::accept, "application/json");
  upstream.body() = std::move(request.body());
  auto deadline = started + std::chrono::milliseconds(context.config.global.proxy_timeout_ms);
  auto outcome = co_await relay(connection, upstream, targets, context.config.global.max_retries, deadline);

  for (const auto& failure : outcome.failures) {
    const auto& node = context.config.el[failure.node_index];
    context.metrics.el_upstream_errors_total.with({node.name, config::to_string(node.tier)}).inc();
    log::warn("el upstream failed", {{"node", node.name},
                                     {"failure", to_string(failure.failure)},
                                     {"error", failure.error.message()}});
  }
  if (outcome.kind == RelayOutcome::Kind::relayed) {
    const auto& node = context.config.el[outcome.node_index];
    if (outcome.client_too_slow) {
      log::warn("el client too slow: closed", {{"node", node.name},
                                                {"status", outcome.status},
                                                {"write_timeout_ms", connection.write_timeout().count()}});
    }
    std::vector<std::string> labels{node.name, config::to_string(node.tier)};
    context.metrics.el_requests_total.with(labels).inc();
    context.metrics.el_request_duration_seconds.with(labels).observe(
        std::chrono::duration<double>(Clock::now() - started).count());
    co_return;
  }
  // Nothing reached the client yet, so it gets a proper JSON-RPC answer for every request.
  bool timed_out = outcome.kind == RelayOutcome::Kind::timeout;
  std::string why = timed_out ? "upstream timeout after " + std::to_string(global.proxy_timeout_ms) + " ms"
                              : "every EL node tried failed (" + std::to_string(outcome.failures.size()) + " attempts)";
  std::string body = jsonrpc::error_for_each(upstream.body(), jsonrpc::kServerError, why);
  auto status = timed_out ? bhttp::status::gateway_timeout : bhttp::status::bad_gateway;
  const char* reason = timed_out ? "timeout" : "upstream_failed";
  co_await answer_el_error(context, connection, request, status, std::move(body), reason);
}

}  // namespace vixy::http
