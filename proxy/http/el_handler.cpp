#include "http/el_handler.hpp"

#include "http/method_screen.hpp"
#include "http/rate_gate.hpp"
#include "jsonrpc/jsonrpc.hpp"
#include "jsonrpc/raw.hpp"
#include "log/log.hpp"
#include "routing/select.hpp"

namespace vixy::http {

ElHandler::ElHandler(const config::Config& config, std::deque<NodePools>& pools, const health::PublishedSnapshot& health,
                     observability::ProxyMetrics& metrics, routing::RateLimiter* limiter)
    : settings_(config.global),
      nodes_(config.el),
      pools_(pools),
      health_(health),
      methods_(config.methods),
      refused_methods_(metrics.refused_methods),
      // The largest answer read whole (a batch's part): the same bound as a node's WebSocket message.
      max_part_answer_bytes_(config.websocket.max_upstream_message_size),
      limits_(config.limits),
      limiter_(limiter),
      refused_rate_limited_(metrics.refused_rate_limited),
      // The config loader accepts only the strategies strategy_named knows.
      router_(routing::strategy_named(config.routing.strategy).value_or(routing::Strategy::priority), config.el.size()) {
  for (const auto& node : nodes_) {
    node_metrics_.push_back(metrics.el_node(node.name, config::to_string(node.tier)));
    auto& by_reason = routed_.emplace_back();
    for (std::size_t reason = 0; reason < static_cast<std::size_t>(routing::Reason::kCount); ++reason) {
      by_reason.push_back(
          &metrics.routing_requests_total.with({node.name, routing::to_string(static_cast<routing::Reason>(reason))}));
    }
  }
  node_header_.method(bhttp::verb::post);
  node_header_.set(bhttp::field::content_type, "application/json");
  node_header_.set(bhttp::field::accept, "application/json");
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

std::vector<RelayTarget> ElHandler::targets(std::string_view body) {
  auto snapshot = health_.get();
  // Reading the body for its block costs a scan; only worth it when there is a choice to make.
  bool choice = routing::ElRouter::has_choice(snapshot->el);
  auto decision = router_.order(snapshot->el, choice ? routing::request_block(body) : routing::RequestBlock{});
  std::vector<RelayTarget> targets;
  for (std::size_t index : decision.order) {
    auto& pool = pools_[index].requests;
    targets.push_back({&pool, index, pool.url().target()});
  }
  if (!targets.empty()) routed_[targets.front().node_index][static_cast<std::size_t>(decision.reason)]->inc();
  return targets;
}

asio::awaitable<bool> ElHandler::within_rate(net::HttpConnection& connection, const net::Request& request,
                                             std::size_t cost) {
  auto refusal = rate_refusal(*limiter_, limits_, connection, request, cost);
  if (!refusal) co_return true;
  refused_rate_limited_.inc(cost);
  auto response = net::make_response(request, bhttp::status::too_many_requests,
                                     jsonrpc::error_for_each(request.body(), jsonrpc::kLimitExceeded, refusal->message));
  response.set(bhttp::field::retry_after, std::to_string(refusal->retry_after_s));
  co_await connection.respond(std::move(response));
  co_return false;
}

void ElHandler::note_failure(std::size_t node_index, UpstreamFailure failure, const beast::error_code& error) {
  node_metrics_[node_index].upstream_errors.inc();
  // For least_latency a failed attempt is the slowest answer there is: the node is tried again
  // when exploration (or the others' slowness) comes back to it.
  router_.answered(node_index, std::chrono::milliseconds(settings_.proxy_timeout_ms));
  log::warn("el upstream failed",
            {{"node", nodes_[node_index].name}, {"failure", to_string(failure)}, {"error", error.message()}});
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
  if (limiter_ && !co_await within_rate(connection, request, shape.count)) co_return;
  if (!methods_.allows_everything()) {
    bool batch = shape.kind == jsonrpc::RequestShape::Kind::batch;
    auto screen = screen_methods(request.body(), batch, methods_);
    if (screen.refused > 0) {
      refused_methods_.inc(screen.refused);
      if (screen.forward.empty()) {
        // A JSON-RPC error, not an HTTP one, as a node answers a method it does not have.
        co_await connection.respond(net::make_response(request, bhttp::status::ok, refusals_only(screen, batch)));
      } else {
        co_await answer_part(connection, request, std::move(screen.forward), screen.answers, started);
      }
      co_return;
    }
  }

  auto targets = this->targets(request.body());
  if (targets.empty()) {
    std::string body = jsonrpc::error_for_each(request.body(), jsonrpc::kServerError, "no healthy EL node available");
    co_await answer_error(connection, request, bhttp::status::service_unavailable, std::move(body),
                          no_healthy_node);
    co_return;
  }

  auto deadline = started + std::chrono::milliseconds(global.proxy_timeout_ms);
  auto outcome = co_await relay(connection, node_header_, request.body(), targets, global.max_retries, deadline);

  for (const auto& failure : outcome.failures) note_failure(failure.node_index, failure.failure, failure.error);
  if (outcome.kind == RelayOutcome::Kind::relayed) {
    const auto& node = nodes_[outcome.node_index];
    if (outcome.client_too_slow) {
      log::warn("el client too slow: closed", {{"node", node.name},
                                                {"status", outcome.status},
                                                {"write_timeout_ms", connection.write_timeout().count()}});
    }
    auto took = Clock::now() - started;
    node_metrics_[outcome.node_index].requests.inc();
    node_metrics_[outcome.node_index].duration.observe(std::chrono::duration<double>(took).count());
    // least_latency measures how fast a node answers well: an error status, however quick, is
    // no reason to send it more.
    bool good = outcome.status == 200;
    router_.answered(outcome.node_index,
                     good ? outcome.answer_time : std::chrono::milliseconds(settings_.proxy_timeout_ms));
    co_return;
  }
  // Nothing reached the client yet, so it gets a proper JSON-RPC answer for every request.
  bool timed_out = outcome.kind == RelayOutcome::Kind::timeout;
  std::string why = timed_out ? "upstream timeout after " + std::to_string(global.proxy_timeout_ms) + " ms"
                              : "every EL node tried failed (" + std::to_string(outcome.failures.size()) + " attempts)";
  std::string body = jsonrpc::error_for_each(request.body(), jsonrpc::kServerError, why);
  auto status = timed_out ? bhttp::status::gateway_timeout : bhttp::status::bad_gateway;
  co_await answer_error(connection, request, status, std::move(body), timed_out ? timeout : upstream_failed);
}

// Rare (a batch mixing refused and allowed methods), so read whole rather than streamed: the
// client's answer is one array, and the node's part of it must be complete before vixy adds its own.
// Nodes are tried as relay() tries them: the next only when one failed before answering.
asio::awaitable<void> ElHandler::answer_part(net::HttpConnection& connection, const net::Request& request,
                                             std::string forward, const std::vector<std::string>& own,
                                             Clock::time_point started) {
  const auto& global = settings_;
  // A batch of notifications only is answered with nothing (JSON-RPC), by vixy and by nodes alike.
  const bool forward_has_ids = !jsonrpc::error_for_each(forward, jsonrpc::kServerError, "").empty();
  auto completed = [&](std::string_view part) -> std::optional<std::string> {
    bool nothing = part.find_first_not_of(" \t\r\n") == std::string_view::npos;
    auto merged = merge_batch_answer(nothing && !forward_has_ids ? "[]" : part, own);
    if (merged && jsonrpc::raw::count_elements(*merged, 1) == std::optional<std::size_t>(0)) return std::string();
    return merged;
  };
  auto with_own = [&](int code, const std::string& why) {
    return completed(jsonrpc::error_for_each(forward, code, why)).value_or("");
  };
  auto targets = this->targets(forward);
  if (targets.empty()) {
    co_await answer_error(connection, request, bhttp::status::service_unavailable,
                          with_own(jsonrpc::kServerError, "no healthy EL node available"), no_healthy_node);
    co_return;
  }
  auto deadline = started + std::chrono::milliseconds(global.proxy_timeout_ms);
  std::size_t attempts = std::min<std::size_t>(targets.size(), std::size_t{global.max_retries} + 1);
  UpstreamPool::Result result;
  std::size_t answered_by = 0;
  Clock::duration answer_time{};
  for (std::size_t i = 0; i < attempts; ++i) {
    const auto attempt_started = Clock::now();
    bhttp::request<bhttp::string_body> upstream{bhttp::verb::post, targets[i].target, 11};
    upstream.set(bhttp::field::content_type, "application/json");
    upstream.set(bhttp::field::accept, "application/json");
    upstream.body() = forward;
    result = co_await targets[i].pool->exchange(std::move(upstream), deadline, max_part_answer_bytes_);
    answered_by = targets[i].node_index;
    answer_time = Clock::now() - attempt_started;
    if (result.failure == UpstreamFailure::none) break;
    note_failure(answered_by, result.failure, result.error);
    bool elsewhere = result.failure == UpstreamFailure::connect || result.failure == UpstreamFailure::before_response;
    if (!elsewhere) break;
  }
  if (result.failure == UpstreamFailure::timeout) {
    co_await answer_error(connection, request, bhttp::status::gateway_timeout,
                          with_own(jsonrpc::kServerError,
                                   "upstream timeout after " + std::to_string(global.proxy_timeout_ms) + " ms"),
                          timeout);
    co_return;
  }
  if (result.failure != UpstreamFailure::none) {
    co_await answer_error(connection, request, bhttp::status::bad_gateway,
                          with_own(jsonrpc::kServerError, "every EL node tried failed"), upstream_failed);
    co_return;
  }
  auto took = Clock::now() - started;
  node_metrics_[answered_by].requests.inc();
  node_metrics_[answered_by].duration.observe(std::chrono::duration<double>(took).count());
  auto merged = result.response.result() == bhttp::status::ok ? completed(result.response.body()) : std::nullopt;
  router_.answered(answered_by, merged ? answer_time : std::chrono::milliseconds(global.proxy_timeout_ms));
  if (!merged) {
    log::warn("el upstream answered a batch with something other than a JSON array",
              {{"node", nodes_[answered_by].name}, {"status", result.response.result_int()}});
    co_await answer_error(connection, request, bhttp::status::bad_gateway,
                          with_own(jsonrpc::kServerError, "the node's answer to the batch was not a JSON array"),
                          upstream_failed);
    co_return;
  }
  co_await connection.respond(net::make_response(request, bhttp::status::ok, std::move(*merged)));
}

}  // namespace vixy::http
