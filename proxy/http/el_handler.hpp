#pragma once
// POST /el: JSON-RPC (single or batch) to the best healthy EL node.

#include <deque>
#include <vector>

#include "config/config.hpp"
#include "health/snapshot.hpp"
#include "http/upstreams.hpp"
#include "net/http_server.hpp"
#include "observability/proxy_metrics.hpp"

namespace vixy::http {

class ElHandler {
 public:
  // `pools[i]` belongs to `nodes[i]`; all must outlive the handler.
  ElHandler(const config::Global& settings, const std::vector<config::ElNode>& nodes, std::deque<NodePools>& pools,
            const health::PublishedSnapshot& health, observability::ProxyMetrics& metrics);

  asio::awaitable<void> handle(net::HttpConnection& connection, net::Request& request);

 private:
  // The answers vixy gives itself, counted by reason in vixy_proxy_errors_total.
  enum Reason { parse_error, invalid_request, no_healthy_node, timeout, upstream_failed, kReasons };

  asio::awaitable<void> answer_error(net::HttpConnection& connection, const net::Request& request,
                                     bhttp::status status, std::string body, Reason reason);

  const config::Global& settings_;
  const std::vector<config::ElNode>& nodes_;
  std::deque<NodePools>& pools_;
  const health::PublishedSnapshot& health_;
  std::vector<observability::NodeRequestMetrics> node_metrics_;  // looked up once, not per request
  std::vector<observability::Counter*> errors_;  // by Reason
};

}  // namespace vixy::http
