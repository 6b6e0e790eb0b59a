#pragma once
// ANY /cl/*: beacon REST to the first healthy CL node, method, path, query, headers and body as
// sent, with the answer streamed back. Event streams for plain topic lists are shared: one stream
// per node and topic set, fanned out to every client asking for it (http/event_feed.hpp).

#include <deque>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "health/snapshot.hpp"
#include "http/event_feed.hpp"
#include "http/event_stream.hpp"
#include "http/upstreams.hpp"
#include "net/http_server.hpp"
#include "observability/proxy_metrics.hpp"
#include "routing/rate_limit.hpp"

namespace vixy::http {

class ClHandler {
 public:
  // `pools[i]` belongs to `nodes[i]`; all must outlive the handler. Event streams relayed here are
  // registered with `streams`, which ends them when their node stops being routable.
  // `limiter` (null: [limits] off) is the one /el spends from too: a client has one budget.
  ClHandler(const config::Global& settings, const std::vector<config::ClNode>& nodes, std::deque<NodePools>& pools,
            const health::PublishedSnapshot& health, EventStreams& streams, observability::ProxyMetrics& metrics,
            const config::Limits& limits, routing::RateLimiter* limiter);

  // `suffix` is the part of the target after "/cl" (path and query), e.g. "/eth/v1/events?topics=head".
  asio::awaitable<void> handle(net::HttpConnection& connection, net::Request& request, std::string_view suffix);
  // Shared event feeds still running (see EventFeeds::alive).
  std::size_t feeds_alive() const { return feeds_.alive(); }

 private:
  // The answers vixy gives itself, counted by reason in vixy_proxy_errors_total.
  enum Reason { method_not_allowed, bad_path, no_healthy_node, timeout, upstream_failed, kReasons };

  asio::awaitable<void> answer_error(net::HttpConnection& connection, const net::Request& request,
                                     bhttp::status status, std::string message, Reason reason);
  // An events request a shared feed can serve (cl_events.cpp): `nodes` are the routable ones, best first.
  asio::awaitable<void> serve_events(net::HttpConnection& connection, const net::Request& request,
                                     const std::string& topics, const std::vector<std::size_t>& nodes,
                                     Clock::time_point started);

  const config::Global& settings_;
  const std::vector<config::ClNode>& nodes_;
  std::deque<NodePools>& pools_;
  const health::PublishedSnapshot& health_;
  EventStreams& streams_;
  const config::Limits& limits_;
  routing::RateLimiter* limiter_;
  observability::Counter& refused_rate_limited_;
  EventFeeds feeds_;
  std::vector<observability::NodeRequestMetrics> node_metrics_;  // looked up once, not per request
  std::vector<observability::Counter*> errors_;  // by Reason
};

}  // namespace vixy::http
