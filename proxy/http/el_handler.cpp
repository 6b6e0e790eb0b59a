#include "http/el_handler.hpp"

#include "http/relay.hpp"
#include "jsonrpc/jsonrpc.hpp"
#include "log/log.hpp"
#include "routing/select.hpp"

namespace vixy::http {

ElHandler::ElHandler(const config::Global& settings, const std::vector<config::ElNode>& nodes,
                     std::deque<NodePools>& pools, const health::PublishedSnapshot& health,
                     observability::ProxyMetrics& metrics)
    : settings_(settings), nodes_(nodes), pools_(pools), health_(health) {
  for (const auto& node : nodes_) node_metrics_.push_back(metrics.el_node(node.name, config::to_string(node.tier)));
  // In Reason's order.
  for (const char* reason : {"parse_error", "invalid_request", "no_healthy_node", "timeout", "upstream_failed"}) {
    errors_.push_back(&metrics.proxy_errors_total.with({"el", reason}));
  }
}

// `body` is "" for a batch of notifications only: JSON-RPC answers those with nothing at all.
asio::awaitable<void> ElHandler::answer_error(net::HttpConnection& connection, const net::Request& request,
                                              bhttp::status status, std::string body, Reason reason) {
  errors_[reason]->inc();
  co_await connection.respond(net::make_response(request, status, std::move(body)));
}

asio::awaitable<void> ElHandler::handle(net::HttpConnection& connection, net::Request& request) {
  auto started = Clock::now();
  const auto& global = settings_;
  auto shape = jsonrpc::inspect_request_body(request.body(), {global.max_json_depth, global.max_batch_size});
  if (shape.kind == jsonrpc::RequestShape::Kind::parse_error) {
    std::string body = jsonrpc::error_text("null", jsonrpc::kParseError, "parse error: " + shape.problem);
    co_await answer_error(connection, request, bhttp::status::bad_request, std::move(body), parse_error);
    co_return;
  }
  if (shape.kind == jsonrpc::RequestShape::Kind::invalid_request) {
    co_await answer_error(connection, request, bhttp::status::bad_request, std::move(shape.answer),
                          invalid_request);
    co_return;
  }

  auto snapshot = health_.get();
  std::vector<RelayTarget> targets;
  for (std::size_t index : routing::el_candidates(snapshot->el)) {
    auto& pool = pools_[index].requests;
    targets.push_back({&pool, index, pool.url().target()});
  }
  if (targets.empty()) {
    std::string body = jsonrpc::error_for_each(request.body(), jsonrpc::kServerError, "no healthy EL node available");
    co_await answer_error(connection, request, bhttp::status::service_unavailable, std::move(body),
                          no_healthy_node);
    co_return;
  }

  bhttp::request<bhttp::string_body> upstream{bhttp::verb::post, "/", 11};
  upstream.set(bhttp::field::content_type, "application/json");
  upstream.set(bhttp::field::accept, "application/json");
  upstream.body() = std::move(request.body());
  auto deadline = started + std::chrono::milliseconds(global.proxy_timeout_ms);
  auto outcome = co_await relay(connection, upstream, targets, global.max_retries, deadline);

  for (const auto& failure : outcome.failures) {
    const auto& node = nodes_[failure.node_index];
    node_metrics_[failure.node_index].upstream_errors.inc();
    log::warn("el upstream failed", {{"node", node.name},
                                     {"failure", to_string(failure.failure)},
                                     {"error", failure.error.message()}});
  }
  if (outcome.kind == RelayOutcome::Kind::relayed) {
    const auto& node = nodes_[outcome.node_index];
    if (outcome.client_too_slow) {
      log::warn("el client too slow: closed", {{"node", node.name},
                                                {"status", outcome.status},
                                                {"write_timeout_ms", connection.write_timeout().count()}});
    }
    node_metrics_[outcome.node_index].requests.inc();
    node_metrics_[outcome.node_index].duration.observe(std::chrono::duration<double>(Clock::now() - started).count());
    co_return;
  }
  // Nothing reached the client yet, so it gets a proper JSON-RPC answer for every request.
  bool timed_out = outcome.kind == RelayOutcome::Kind::timeout;
  std::string why = timed_out ? "upstream timeout after " + std::to_string(global.proxy_timeout_ms) + " ms"
                              : "every EL node tried failed (" + std::to_string(outcome.failures.size()) + " attempts)";
  std::string body = jsonrpc::error_for_each(upstream.body(), jsonrpc::kServerError, why);
  auto status = timed_out ? bhttp::status::gateway_timeout : bhttp::status::bad_gateway;
  co_await answer_error(connection, request, status, std::move(body), timed_out ? timeout : upstream_failed);
}

}  // namespace vixy::http
