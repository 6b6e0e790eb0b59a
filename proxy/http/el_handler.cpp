#include "http/el_handler.hpp"

#include "http/relay.hpp"
#include "jsonrpc/jsonrpc.hpp"
#include "log/log.hpp"
#include "routing/select.hpp"

namespace vixy::http {
namespace {

asio::awaitable<void> answer_error(server::ProxyContext& context, server::HttpConnection& connection,
                                   const server::Request& request, bhttp::status status, const jsonrpc::json& body,
                                   const char* reason) {
  context.metrics.proxy_errors_total.with({"el", reason}).inc();
  co_await connection.respond(server::make_response(request, status, body.dump()));
}

// The body is valid JSON here (checked first), so the tree always parses.
jsonrpc::json body_tree(std::string_view body) { return jsonrpc::parse(body).value_or(nullptr); }

}  // namespace

asio::awaitable<void> handle_el(server::ProxyContext& context, server::HttpConnection& connection,
                                server::Request& request) {
  auto started = Clock::now();
  auto shape = jsonrpc::inspect_request_body(request.body());
  if (shape.kind == jsonrpc::RequestShape::Kind::parse_error) {
    co_await answer_error(context, connection, request, bhttp::status::bad_request,
                          jsonrpc::make_error(nullptr, jsonrpc::kParseError, "parse error: " + shape.problem),
                          "parse_error");
    co_return;
  }
  if (shape.kind == jsonrpc::RequestShape::Kind::invalid_request) {
    co_await answer_error(context, connection, request, bhttp::status::bad_request,
                          jsonrpc::make_error(nullptr, jsonrpc::kInvalidRequest, "invalid request: " + shape.problem),
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
    co_await answer_error(context, connection, request, bhttp::status::service_unavailable,
                          jsonrpc::error_for_each(body_tree(request.body()), jsonrpc::kServerError,
                                                  "no healthy EL node available"),
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
    std::vector<std::string> labels{node.name, config::to_string(node.tier)};
    context.metrics.el_requests_total.with(labels).inc();
    context.metrics.el_request_duration_seconds.with(labels).observe(
        std::chrono::duration<double>(Clock::now() - started).count());
    co_return;
  }
  // Nothing reached the client yet, so it gets a proper JSON-RPC answer for every request.
  auto document = body_tree(upstream.body());
  if (outcome.kind == RelayOutcome::Kind::timeout) {
    co_await answer_error(context, connection, request, bhttp::status::gateway_timeout,
                          jsonrpc::error_for_each(document, jsonrpc::kServerError,
                                                  "upstream timeout after " +
                                                      std::to_string(context.config.global.proxy_timeout_ms) + " ms"),
                          "timeout");
  } else {
    co_await answer_error(context, connection, request, bhttp::status::bad_gateway,
                          jsonrpc::error_for_each(document, jsonrpc::kServerError,
                                                  "every EL node tried failed (" +
                                                      std::to_string(outcome.failures.size()) + " attempts)"),
                          "upstream_failed");
  }
}

}  // namespace vixy::http
