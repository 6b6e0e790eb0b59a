#pragma once
// POST /el: JSON-RPC (single or batch) to the best healthy EL node.

#include <deque>
#include <vector>

#include "config/config.hpp"
#include "health/snapshot.hpp"
#include "http/relay.hpp"
#include "http/upstreams.hpp"
#include "net/http_server.hpp"
#include "observability/proxy_metrics.hpp"
#include "routing/el_router.hpp"
#include "routing/method_policy.hpp"
#include "routing/rate_limit.hpp"

namespace vixy::http {

class ElHandler {
 public:
  // `pools[i]` belongs to `nodes[i]`; all must outlive the handler. `limiter`: [limits], shared by
  // every thread's handlers; null when there is no limit.
  ElHandler(const config::Config& config, std::deque<NodePools>& pools, const health::PublishedSnapshot& health,
            observability::ProxyMetrics& metrics, routing::RateLimiter* limiter);

  asio::awaitable<void> handle(net::HttpConnection& connection, net::Request& request);
  // The Hub of this thread tells it the heads its sessions see (and places sessions by it).
  routing::ElRouter& router() { return router_; }

 private:
  // The answers vixy gives itself, counted by reason in vixy_proxy_errors_total.
  enum Reason { parse_error, invalid_request, no_healthy_node, timeout, upstream_failed, kReasons };

  asio::awaitable<void> answer_error(net::HttpConnection& connection, const net::Request& request,
                                     bhttp::status status, std::string body, Reason reason);
  // A batch with refused methods: its allowed part goes to a node, whose whole answer is read and
  // completed with `own` (the refusals) before the client gets it.
  asio::awaitable<void> answer_part(net::HttpConnection& connection, const net::Request& request, std::string forward,
                                    const std::vector<std::string>& own, Clock::time_point started);
  // The nodes to try for `body`, in order ([routing] strategy, block-aware), counted by the first.
  std::vector<RelayTarget> targets(std::string_view body);
  // Whether the client may send `cost` more requests now; if not, it has been answered with 429.
  asio::awaitable<bool> within_rate(net::HttpConnection& connection, const net::Request& request, std::size_t cost);
  void note_failure(std::size_t node_index, UpstreamFailure failure, const beast::error_code& error);

  const config::Global& settings_;
  const std::vector<config::ElNode>& nodes_;
  std::deque<NodePools>& pools_;
  const health::PublishedSnapshot& health_;
  routing::MethodPolicy methods_;
  observability::Counter& refused_methods_;
  std::uint64_t max_part_answer_bytes_;
  const config::Limits& limits_;
  routing::RateLimiter* limiter_;
  observability::Counter& refused_rate_limited_;
  routing::ElRouter router_;
  // What every request to a node carries (the node adds its own Host and length).
  bhttp::request_header<> node_header_;
  std::vector<std::vector<observability::Counter*>> routed_;  // by node, then routing::Reason
  std::vector<observability::NodeRequestMetrics> node_metrics_;  // looked up once, not per request
  std::vector<observability::Counter*> errors_;  // by Reason
};

}  // namespace vixy::http
