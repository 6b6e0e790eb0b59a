#include "http/cl_handler.hpp"

#include <nlohmann/json.hpp>

#include "http/cl_target.hpp"
#include "http/rate_gate.hpp"
#include "http/relay.hpp"
#include "log/log.hpp"
#include "routing/select.hpp"

namespace vixy::http {
namespace {

// What a beacon API uses. TRACE (which Beast cannot even forward with a body), CONNECT and
// extension methods never reach a node.
constexpr std::string_view kAllowed = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

bool is_allowed(bhttp::verb method) {
  switch (method) {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::post:
    case bhttp::verb::put:
    case bhttp::verb::patch:
    case bhttp::verb::delete_:
    case bhttp::verb::options:
      return true;
    default:
      return false;
  }
}

}  // namespace

ClHandler::ClHandler(const config::Global& settings, const std::vector<config::ClNode>& nodes,
                     std::deque<NodePools>& pools, const health::PublishedSnapshot& health, EventStreams& streams,
                     observability::ProxyMetrics& metrics, const config::Limits& limits,
                     routing::RateLimiter* limiter)
    : settings_(settings),
      nodes_(nodes),
      pools_(pools),
      health_(health),
      streams_(streams),
      limits_(limits),
      limiter_(limiter),
      refused_rate_limited_(metrics.refused_rate_limited),
      feeds_(pools, streams, metrics, [&nodes] {
        std::vector<std::string> names;
        for (const auto& node : nodes) names.push_back(node.name);
        return names;
      }()) {
  for (const auto& node : nodes_) node_metrics_.push_back(metrics.cl_node(node.name));
  // In Reason's order.
  for (const char* reason : {"method_not_allowed", "bad_path", "no_healthy_node", "timeout", "upstream_failed"}) {
    errors_.push_back(&metrics.proxy_errors_total.with({"cl", reason}));
  }
}

// Beacon API errors are {"code":..,"message":..}, not JSON-RPC.
asio::awaitable<void> ClHandler::answer_error(net::HttpConnection& connection, const net::Request& request,
                                              bhttp::status status, std::string message, Reason reason) {
  errors_[reason]->inc();
  nlohmann::json body{{"code", static_cast<unsigned>(status)}, {"message", std::move(message)}};
  auto response = net::make_response(request, status, body.dump());
  if (status == bhttp::status::method_not_allowed) response.set(bhttp::field::allow, kAllowed);
  co_await connection.respond(std::move(response));
}

asio::awaitable<void> ClHandler::handle(net::HttpConnection& connection, net::Request& request,
                                        std::string_view suffix) {
  auto started = Clock::now();
  if (!is_allowed(request.method())) {
    std::string message = "method " + std::string(request.method_string()) + " not allowed on /cl";
    co_await answer_error(connection, request, bhttp::status::method_not_allowed, std::move(message),
                          method_not_allowed);
    co_return;
  }
  // Refused before any node is asked: a path that could leave the node URL's own path.
  if (auto problem = cl_path_problem(suffix)) {
    std::string message = std::move(*problem);
    co_await answer_error(connection, request, bhttp::status::bad_request, std::move(message), bad_path);
    co_return;
  }
  if (limiter_ != nullptr) {
    if (auto refusal = rate_refusal(*limiter_, limits_, connection, request, 1)) {
      refused_rate_limited_.inc();
      nlohmann::json body{{"code", 429}, {"message", refusal->message}};
      auto response = net::make_response(request, bhttp::status::too_many_requests, body.dump());
      response.set(bhttp::field::retry_after, std::to_string(refusal->retry_after_s));
      co_await connection.respond(std::move(response));
      co_return;
    }
  }

  auto snapshot = health_.get();
  if (request.method() == bhttp::verb::get) {
    if (auto topics = shared_event_topics(suffix)) {
      auto nodes = routing::cl_candidates(snapshot->cl);
      if (nodes.empty()) {
        co_await answer_error(connection, request, bhttp::status::service_unavailable,
                              "no healthy CL node available", no_healthy_node);
      } else {
        co_await serve_events(connection, request, *topics, nodes, started);
      }
      co_return;
    }
  }
  std::vector<RelayTarget> targets;
  for (std::size_t index : routing::cl_candidates(snapshot->cl)) {
    auto& pool = pools_[index].requests;
    if (auto target = cl_upstream_target(pool.url(), suffix)) targets.push_back({&pool, index, std::move(*target)});
  }
  if (targets.empty()) {
    co_await answer_error(connection, request, bhttp::status::service_unavailable,
                          "no healthy CL node available", no_healthy_node);
    co_return;
  }

  bhttp::request_header<> upstream;
  upstream.method(request.method());
  for (const auto& field : request.base()) {
    if (!is_hop_by_hop(field.name())) upstream.insert(field.name_string(), field.value());
  }
  auto deadline = started + std::chrono::milliseconds(settings_.proxy_timeout_ms);
  // Event streams are watched so that they end when their node stops being healthy (ordinary
  // answers are not affected: the watch only starts on a text/event-stream answer).
  auto outcome = co_await relay(connection, upstream, request.body(), targets, settings_.max_retries, deadline,
                                &streams_);

  for (const auto& failure : outcome.failures) {
    const auto& node = nodes_[failure.node_index];
    node_metrics_[failure.node_index].upstream_errors.inc();
    log::warn("cl upstream failed", {{"node", node.name},
                                     {"failure", to_string(failure.failure)},
                                     {"error", failure.error.message()}});
  }
  if (outcome.kind == RelayOutcome::Kind::relayed) {
    const auto& node = nodes_[outcome.node_index];
    if (outcome.client_too_slow) {
      log::warn("cl client too slow: closed", {{"node", node.name},
                                                {"status", outcome.status},
                                                {"write_timeout_ms", connection.write_timeout().count()}});
    }
    node_metrics_[outcome.node_index].requests.inc();
    node_metrics_[outcome.node_index].duration.observe(std::chrono::duration<double>(Clock::now() - started).count());
    co_return;
  }
  if (outcome.kind == RelayOutcome::Kind::timeout) {
    co_await answer_error(connection, request, bhttp::status::gateway_timeout,
                          "upstream timeout after " + std::to_string(settings_.proxy_timeout_ms) + " ms",
                          timeout);
  } else {
    co_await answer_error(connection, request, bhttp::status::bad_gateway, "every CL node tried failed",
                          upstream_failed);
  }
}

}  // namespace vixy::http
