#pragma once
// The proxy's metric set: Vixy's names (so existing dashboards keep working) plus vixy's additions.
// Node-labelled children are created at start-up for every configured node, so /metrics shows every
// node from the first scrape and request paths never allocate.

#include "config/config.hpp"
#include "health/snapshot.hpp"
#include "observability/metrics.hpp"

namespace vixy::observability {

// One node's request metrics (EL or CL), looked up once by a request handler.
struct NodeRequestMetrics {
  Counter& requests;
  Histogram& duration;
  Counter& upstream_errors;
};

class ProxyMetrics {
 public:
  explicit ProxyMetrics(const config::Config& config);
  ProxyMetrics(const ProxyMetrics&) = delete;
  ProxyMetrics& operator=(const ProxyMetrics&) = delete;

  Registry registry;

  // EL, labels {node, tier}
  Family<Counter>& el_requests_total;
  Family<Histogram>& el_request_duration_seconds;
  Family<Gauge>& el_node_block_number;
  Family<Gauge>& el_node_lag_blocks;
  Family<Gauge>& el_node_healthy;
  Family<Counter>& el_upstream_errors_total;  // {node, tier}: transport failures seen by requests
  Gauge& el_failover_active;
  Counter& el_failovers_total;  // failover_active went false -> true
  Gauge& el_chain_head;
  Gauge& el_healthy_nodes;

  // CL, labels {node}
  Family<Counter>& cl_requests_total;
  Family<Histogram>& cl_request_duration_seconds;
  Family<Gauge>& cl_node_slot;
  Family<Gauge>& cl_node_lag_slots;
  Family<Gauge>& cl_node_healthy;
  Family<Counter>& cl_upstream_errors_total;  // {node}
  Gauge& cl_chain_head;
  Gauge& cl_healthy_nodes;

  // Answers the proxy gave itself instead of a node's: {endpoint ("el"|"cl"), reason}, reason one
  // of no_healthy_node, timeout, upstream_failed, parse_error, invalid_request, body_too_large.
  Family<Counter>& proxy_errors_total;
  // Requests vixy refused by policy and answered itself, one per batch entry: {reason}, method or
  // rate_limit.
  Family<Counter>& refused_total;
  Counter& refused_methods;       // refused_total{reason="method"}, HTTP and WebSocket
  Counter& refused_rate_limited;  // refused_total{reason="rate_limit"}
  // HTTP EL requests by the node first chosen and why ([routing] strategy, block-aware routing).
  Family<Counter>& routing_requests_total;  // {node, reason}

  // WebSocket family (Vixy's names), filled by the WebSocket proxy.
  Gauge& ws_connections_active;
  Counter& ws_connections_total;
  Family<Counter>& ws_messages_total;                // {direction}: client_to_upstream, upstream_to_client
  Counter& ws_reconnections_total;
  Family<Counter>& ws_reconnection_attempts_total;  // {status}: success, failure
  Gauge& ws_subscriptions_active;
  Counter& ws_subscriptions_total;
  Family<Gauge>& ws_upstream_node;                   // {node}: 1 while any session uses the node
  // vixy's additions to the WebSocket family
  Gauge& ws_queue_depth;
  Counter& ws_queue_full_errors_total;
  Counter& ws_replayed_subscriptions_total;
  Counter& ws_resent_requests_total;
  Counter& ws_outcome_unknown_total;
  Counter& ws_request_timeouts_total;
  Counter& ws_failbacks_total;
  Counter& ws_stray_upstream_messages_total;
  Family<Counter>& ws_backfilled_total;          // {kind}: newHeads, logs (I7)
  Family<Counter>& ws_duplicates_dropped_total;  // {kind}: newHeads, logs, newPendingTransactions
  Family<Counter>& ws_unfilled_gaps_total;       // {kind}: newHeads, logs

  // Health checks: {layer ("el"|"cl"), node, outcome ("ok"|"syncing"|"failed")}
  Family<Counter>& health_checks_total;

  // CL event streams ended because their node left the routable candidates: {node}
  Family<Counter>& cl_streams_moved_total;
  Family<Gauge>& cl_event_upstreams;  // {node}: shared event streams open to the node
  Gauge& cl_event_listeners;          // client streams served from them

  // WebSocket clients closed for not reading: {reason} backlog (websocket.max_client_backlog_bytes),
  // write_timeout (server.client_write_timeout_ms), process_buffer (server.max_buffered_bytes)
  Family<Counter>& ws_slow_clients_closed_total;
  Gauge& ws_buffered_bytes;
  Counter& ws_invalid_upstream_messages_total;  // node messages that were not JSON
  // Shared upstreams (issue 13): every session's traffic to a node on a few pooled WebSockets.
  Family<Gauge>& ws_upstream_connections;      // {node}: open pooled WebSockets
  Family<Gauge>& ws_upstream_subscriptions;    // {node}: distinct upstream subscriptions
  Family<Gauge>& ws_shared_subscribers;        // {kind}: client subscriptions riding on them
  Family<Counter>& ws_backfill_requests_total;  // {node}: header, log and block-number fetches sent
  Family<Counter>& ws_backfill_cache_hits_total;  // {node}: backfill fetches answered from recent answers
  // Client connections against [server] max_connections / max_connections_per_ip.
  Gauge& connections_active;
  Family<Counter>& connections_refused_total;  // {reason}: max_connections, per_ip, overflow
  Counter& connections_evicted_total;          // idle connections closed to make room
  Family<Gauge>& config_info;                  // {sha256} of the configuration file: 1
  Family<Counter>& config_reloads_total;       // {result}: applied, unchanged, rejected
  Gauge& config_generations;                   // configurations alive (server::Generation)

  // A reload replaced `before` with `after`: children for the nodes `after` adds; the health gauges
  // of the nodes it removed leave the exposition; vixy_config_info names the new file's hash.
  void configuration_changed(const config::Config& before, const config::Config& after);

  // Mirror a freshly published snapshot into the gauges; counts a failover when `next` turns
  // failover on and `previous` had it off.
  void publish(const health::HealthSnapshot& previous, const health::HealthSnapshot& next);

  NodeRequestMetrics el_node(const std::string& name, const std::string& tier) {
    return {el_requests_total.with({name, tier}), el_request_duration_seconds.with({name, tier}),
            el_upstream_errors_total.with({name, tier})};
  }
  NodeRequestMetrics cl_node(const std::string& name) {
    return {cl_requests_total.with({name}), cl_request_duration_seconds.with({name}),
            cl_upstream_errors_total.with({name})};
  }

  std::string render() const { return registry.render(); }

 private:
  void add_nodes(const config::Config& config);
};

}  // namespace vixy::observability
