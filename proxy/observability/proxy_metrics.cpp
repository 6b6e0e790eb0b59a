#include "observability/proxy_metrics.hpp"

#include <algorithm>

namespace vixy::observability {

namespace {

enum class Labels { none, node_tier, node, direction, status, endpoint_reason, layer_node_outcome, kind, reason, node_reason, sha256, result };

std::vector<std::string> label_names(Labels labels) {
  switch (labels) {
    case Labels::none: return {};
    case Labels::node_tier: return {"node", "tier"};
    case Labels::node: return {"node"};
    case Labels::direction: return {"direction"};
    case Labels::status: return {"status"};
    case Labels::endpoint_reason: return {"endpoint", "reason"};
    case Labels::layer_node_outcome: return {"layer", "node", "outcome"};
    case Labels::kind: return {"kind"};
    case Labels::reason: return {"reason"};
    case Labels::node_reason: return {"node", "reason"};
    case Labels::sha256: return {"sha256"};
    case Labels::result: return {"result"};
  }
  return {};
}

struct Spec {
  MetricType type;
  const char* name;
  const char* help;
  Labels labels;
};

using T = MetricType;
// Vixy's names, labels and order, so its dashboards and alerts keep working; vixy's additions last.
constexpr Spec kElRequests{T::counter, "vixy_el_requests_total", "Total EL requests proxied", Labels::node_tier};
constexpr Spec kElDuration{T::histogram, "vixy_el_request_duration_seconds", "EL request latency in seconds",
                           Labels::node_tier};
constexpr Spec kElBlock{T::gauge, "vixy_el_node_block_number", "Last block number the EL node reported",
                        Labels::node_tier};
constexpr Spec kElLag{T::gauge, "vixy_el_node_lag_blocks", "Blocks the EL node is behind the chain head",
                      Labels::node_tier};
constexpr Spec kElHealthy{T::gauge, "vixy_el_node_healthy", "EL node health (1 healthy, 0 not)", Labels::node_tier};
constexpr Spec kElFailoverActive{T::gauge, "vixy_el_failover_active",
                                 "EL traffic is served by a backup node (1) or a primary (0)", Labels::none};
constexpr Spec kElFailovers{T::counter, "vixy_el_failovers_total", "Times EL traffic failed over to a backup",
                            Labels::none};
constexpr Spec kElChainHead{T::gauge, "vixy_el_chain_head", "Highest block number seen across EL nodes",
                            Labels::none};
constexpr Spec kElHealthyNodes{T::gauge, "vixy_el_healthy_nodes", "Number of healthy EL nodes", Labels::none};
constexpr Spec kClRequests{T::counter, "vixy_cl_requests_total", "Total CL requests proxied", Labels::node};
constexpr Spec kClDuration{T::histogram, "vixy_cl_request_duration_seconds", "CL request latency in seconds",
                           Labels::node};
constexpr Spec kClSlot{T::gauge, "vixy_cl_node_slot", "Last slot the CL node reported", Labels::node};
constexpr Spec kClLag{T::gauge, "vixy_cl_node_lag_slots", "Slots the CL node is behind the chain head",
                      Labels::node};
constexpr Spec kClHealthy{T::gauge, "vixy_cl_node_healthy", "CL node health (1 healthy, 0 not)", Labels::node};
constexpr Spec kClChainHead{T::gauge, "vixy_cl_chain_head", "Highest slot seen across CL nodes", Labels::none};
constexpr Spec kClHealthyNodes{T::gauge, "vixy_cl_healthy_nodes", "Number of healthy CL nodes", Labels::none};
constexpr Spec kWsActive{T::gauge, "vixy_ws_connections_active", "Open client WebSocket connections",
                         Labels::none};
constexpr Spec kWsTotal{T::counter, "vixy_ws_connections_total", "Client WebSocket connections accepted",
                        Labels::none};
constexpr Spec kWsMessages{T::counter, "vixy_ws_messages_total", "WebSocket messages relayed", Labels::direction};
constexpr Spec kWsReconnections{T::counter, "vixy_ws_reconnections_total",
                                "Successful upstream WebSocket reconnections", Labels::none};
constexpr Spec kWsReconnectionAttempts{T::counter, "vixy_ws_reconnection_attempts_total",
                                       "Upstream WebSocket reconnection attempts", Labels::status};
constexpr Spec kWsSubscriptionsActive{T::gauge, "vixy_ws_subscriptions_active", "Live client subscriptions",
                                      Labels::none};
constexpr Spec kWsSubscriptionsTotal{T::counter, "vixy_ws_subscriptions_total", "Client subscriptions created",
                                     Labels::none};
constexpr Spec kWsUpstreamNode{T::gauge, "vixy_ws_upstream_node",
                               "EL node WebSocket sessions are connected to (1) or not (0)", Labels::node};
constexpr Spec kElUpstreamErrors{T::counter, "vixy_el_upstream_errors_total",
                                 "EL requests that failed at the transport level", Labels::node_tier};
constexpr Spec kClUpstreamErrors{T::counter, "vixy_cl_upstream_errors_total",
                                 "CL requests that failed at the transport level", Labels::node};
constexpr Spec kProxyErrors{T::counter, "vixy_proxy_errors_total",
                            "Error answers the proxy gave itself instead of a node's", Labels::endpoint_reason};
constexpr Spec kRefused{T::counter, "vixy_refused_total",
                        "Client requests vixy refused by policy ([methods]: method, [limits]: rate_limit), never sent to a node",
                        Labels::reason};
constexpr Spec kRouting{T::counter, "vixy_routing_requests_total",
                        "HTTP EL requests by the node first chosen and why: priority, round_robin, least_latency, "
                        "explore (least_latency measuring another node), block (the only nodes known to have the block)",
                        Labels::node_reason};
constexpr Spec kWsQueueDepth{T::gauge, "vixy_ws_queue_depth",
                             "Client messages waiting for an upstream, over all sessions", Labels::none};
constexpr Spec kWsQueueFull{T::counter, "vixy_ws_queue_full_errors_total",
                            "Client requests answered with an error because the session's bound was reached",
                            Labels::none};
constexpr Spec kWsReplayed{T::counter, "vixy_ws_replayed_subscriptions_total",
                           "Subscriptions re-established on a new upstream (not counted as new)", Labels::none};
constexpr Spec kWsResent{T::counter, "vixy_ws_resent_requests_total",
                         "Requests in flight on a lost upstream that were sent again", Labels::none};
constexpr Spec kWsOutcomeUnknown{T::counter, "vixy_ws_outcome_unknown_total",
                                 "Requests in flight on a lost upstream, not safe to repeat, answered with an error",
                                 Labels::none};
constexpr Spec kWsTimeouts{T::counter, "vixy_ws_request_timeouts_total",
                           "WebSocket requests answered with a timeout error", Labels::none};
constexpr Spec kWsFailbacks{T::counter, "vixy_ws_failbacks_total",
                            "Sessions moved back to a better-tier upstream", Labels::none};
constexpr Spec kWsStray{T::counter, "vixy_ws_stray_upstream_messages_total",
                        "Upstream messages nobody waited for (late answers, unknown subscriptions), dropped",
                        Labels::none};
constexpr Spec kWsBackfilled{T::counter, "vixy_ws_backfilled_total",
                             "Heads or logs a subscription missed during a switch, fetched and delivered", Labels::kind};
constexpr Spec kWsDuplicates{T::counter, "vixy_ws_duplicates_dropped_total",
                             "Subscription notifications dropped because the client already had them", Labels::kind};
constexpr Spec kWsUnfilledGaps{T::counter, "vixy_ws_unfilled_gaps_total",
                               "Subscription gaps left open (beyond websocket.backfill_blocks, or fetches failed)",
                               Labels::kind};
// vixy's additions for clients that read too slowly (issue: one such client must not hold the rest).
constexpr Spec kWsSlowClientsClosed{T::counter, "vixy_ws_slow_clients_closed_total",
                                    "WebSocket clients closed because they did not read what was sent to them",
                                    Labels::reason};
constexpr Spec kWsInvalidUpstream{T::counter, "vixy_ws_invalid_upstream_messages_total",
                                  "Upstream messages that were not JSON, dropped (a request's client gets an error)",
                                  Labels::none};
constexpr Spec kWsBufferedBytes{T::gauge, "vixy_ws_buffered_bytes",
                                "Bytes queued for WebSocket clients and not yet written, over all sessions",
                                Labels::none};
// vixy's additions for shared upstreams: sessions' traffic to a node rides a few pooled WebSockets.
constexpr Spec kClEventUpstreams{T::gauge, "vixy_cl_event_upstreams",
                                 "Event streams open to the CL node, each shared by every listener for its topics",
                                 Labels::node};
constexpr Spec kClEventListeners{T::gauge, "vixy_cl_event_listeners",
                                 "Client event streams served from the shared node streams", Labels::none};
constexpr Spec kWsUpstreamConnections{T::gauge, "vixy_ws_upstream_connections",
                                      "Pooled WebSocket connections open to the EL node, shared by every session",
                                      Labels::node};
constexpr Spec kWsUpstreamSubscriptions{T::gauge, "vixy_ws_upstream_subscriptions",
                                        "Distinct subscriptions vixy holds on the EL node, each shared by its clients",
                                        Labels::node};
constexpr Spec kWsSharedSubscribers{T::gauge, "vixy_ws_shared_subscribers",
                                    "Client subscriptions served from shared upstream subscriptions", Labels::kind};
constexpr Spec kWsBackfillRequests{T::counter, "vixy_ws_backfill_requests_total",
                                   "Block, header, log and block-number fetches sent to the EL node on WebSocket; "
                                   "identical ones in flight at once are sent once",
                                   Labels::node};
constexpr Spec kWsBackfillCacheHits{T::counter, "vixy_ws_backfill_cache_hits_total",
                                    "Backfill fetches of headers and logs answered from the EL node's recent answers "
                                    "instead of being sent again",
                                    Labels::node};
// vixy's addition for CL event streams: ended because their node left the routable candidates, so
// listeners reconnect to a healthy node.
constexpr Spec kClStreamsMoved{T::counter, "vixy_cl_streams_moved_total",
                               "CL event streams ended because their node stopped being healthy (clients reconnect)",
                               Labels::node};
// vixy's connection caps.
constexpr Spec kConnectionsActive{T::gauge, "vixy_connections_active",
                                  "Open client connections counted against max_connections", Labels::none};
constexpr Spec kConnectionsRefused{T::counter, "vixy_connections_refused_total",
                                   "Client connections refused past a cap (max_connections and per_ip get a short "
                                   "error answer, overflow is closed at once)",
                                   Labels::reason};
constexpr Spec kConnectionsEvicted{T::counter, "vixy_connections_evicted_total",
                                   "Idle client connections closed to make room for new ones", Labels::none};
constexpr Spec kHealthChecks{T::counter, "vixy_health_checks_total", "Completed health checks by outcome",
                             Labels::layer_node_outcome};

// Which configuration a running vixy has, to compare replicas and to see that a deploy took.
constexpr Spec kConfigInfo{T::gauge, "vixy_config_info", "1, labelled with the SHA-256 of the configuration file read",
                           Labels::sha256};
constexpr Spec kConfigReloads{T::counter, "vixy_config_reloads_total",
                              "Configuration reloads (SIGHUP) by result: applied, unchanged (the file's bytes were "
                              "the running ones), rejected (the file would not load; the running configuration stays)",
                              Labels::result};
constexpr Spec kConfigGenerations{T::gauge, "vixy_config_generations",
                                  "Configurations in use: the running one, plus each one a reload replaced while "
                                  "sessions, event streams or requests begun under it last",
                                  Labels::none};

constexpr const Spec* kRenderOrder[] = {
    &kElRequests,     &kElDuration,        &kElBlock,          &kElLag,
    &kElHealthy,      &kElFailoverActive,  &kElFailovers,      &kElChainHead,
    &kElHealthyNodes, &kClRequests,        &kClDuration,       &kClSlot,
    &kClLag,          &kClHealthy,         &kClChainHead,      &kClHealthyNodes,
    &kWsActive,       &kWsTotal,           &kWsMessages,       &kWsReconnections,
    &kWsReconnectionAttempts, &kWsSubscriptionsActive, &kWsSubscriptionsTotal, &kWsUpstreamNode,
    &kElUpstreamErrors, &kClUpstreamErrors, &kProxyErrors,     &kHealthChecks,
    &kWsQueueDepth,   &kWsQueueFull,       &kWsReplayed,       &kWsResent,
    &kWsOutcomeUnknown, &kWsTimeouts,      &kWsFailbacks,      &kWsStray,  &kWsBackfilled, &kWsDuplicates, &kWsUnfilledGaps,
    &kClStreamsMoved, &kWsSlowClientsClosed, &kWsBufferedBytes, &kWsInvalidUpstream,
    &kConnectionsActive, &kConnectionsRefused, &kConnectionsEvicted,
    &kWsUpstreamConnections, &kWsUpstreamSubscriptions, &kWsSharedSubscribers, &kWsBackfillRequests, &kWsBackfillCacheHits,
    &kClEventUpstreams, &kClEventListeners, &kRefused, &kRouting, &kConfigInfo, &kConfigReloads, &kConfigGenerations,
};

Family<Counter>& counter(Registry& registry, const Spec& spec) {
  return registry.counter(spec.name, spec.help, label_names(spec.labels));
}
Family<Gauge>& gauge(Registry& registry, const Spec& spec) {
  return registry.gauge(spec.name, spec.help, label_names(spec.labels));
}
Family<Histogram>& histogram(Registry& registry, const Spec& spec) {
  return registry.histogram(spec.name, spec.help, label_names(spec.labels));
}

// Members bind in declaration order, which groups them for readers; registering every family up
// front (registration is get-or-create) makes /metrics follow Vixy's order instead.
Registry& register_in_render_order(Registry& registry) {
  for (const Spec* spec : kRenderOrder) {
    switch (spec->type) {
      case T::counter: counter(registry, *spec); break;
      case T::gauge: gauge(registry, *spec); break;
      case T::histogram: histogram(registry, *spec); break;
    }
  }
  return registry;
}

// Local rather than config::to_string so this file does not depend on the config loader.
std::string tier_label(config::Tier tier) { return tier == config::Tier::backup ? "backup" : "primary"; }

constexpr const char* kOutcomes[] = {"ok", "syncing", "failed"};
constexpr const char* kProxyErrorReasons[] = {"no_healthy_node", "timeout",         "upstream_failed",
                                              "parse_error",     "invalid_request", "body_too_large",
                                              "bad_path",        "method_not_allowed"};

double as_gauge(bool flag) { return flag ? 1.0 : 0.0; }

}  // namespace

ProxyMetrics::ProxyMetrics(const config::Config& config)
    : el_requests_total(counter(register_in_render_order(registry), kElRequests)),
      el_request_duration_seconds(histogram(registry, kElDuration)),
      el_node_block_number(gauge(registry, kElBlock)),
      el_node_lag_blocks(gauge(registry, kElLag)),
      el_node_healthy(gauge(registry, kElHealthy)),
      el_upstream_errors_total(counter(registry, kElUpstreamErrors)),
      el_failover_active(gauge(registry, kElFailoverActive).get()),
      el_failovers_total(counter(registry, kElFailovers).get()),
      el_chain_head(gauge(registry, kElChainHead).get()),
      el_healthy_nodes(gauge(registry, kElHealthyNodes).get()),
      cl_requests_total(counter(registry, kClRequests)),
      cl_request_duration_seconds(histogram(registry, kClDuration)),
      cl_node_slot(gauge(registry, kClSlot)),
      cl_node_lag_slots(gauge(registry, kClLag)),
      cl_node_healthy(gauge(registry, kClHealthy)),
      cl_upstream_errors_total(counter(registry, kClUpstreamErrors)),
      cl_chain_head(gauge(registry, kClChainHead).get()),
      cl_healthy_nodes(gauge(registry, kClHealthyNodes).get()),
      proxy_errors_total(counter(registry, kProxyErrors)),
      refused_total(counter(registry, kRefused)),
      refused_methods(refused_total.with({"method"})),
      refused_rate_limited(refused_total.with({"rate_limit"})),
      routing_requests_total(counter(registry, kRouting)),
      ws_connections_active(gauge(registry, kWsActive).get()),
      ws_connections_total(counter(registry, kWsTotal).get()),
      ws_messages_total(counter(registry, kWsMessages)),
      ws_reconnections_total(counter(registry, kWsReconnections).get()),
      ws_reconnection_attempts_total(counter(registry, kWsReconnectionAttempts)),
      ws_subscriptions_active(gauge(registry, kWsSubscriptionsActive).get()),
      ws_subscriptions_total(counter(registry, kWsSubscriptionsTotal).get()),
      ws_upstream_node(gauge(registry, kWsUpstreamNode)),
      ws_queue_depth(gauge(registry, kWsQueueDepth).get()),
      ws_queue_full_errors_total(counter(registry, kWsQueueFull).get()),
      ws_replayed_subscriptions_total(counter(registry, kWsReplayed).get()),
      ws_resent_requests_total(counter(registry, kWsResent).get()),
      ws_outcome_unknown_total(counter(registry, kWsOutcomeUnknown).get()),
      ws_request_timeouts_total(counter(registry, kWsTimeouts).get()),
      ws_failbacks_total(counter(registry, kWsFailbacks).get()),
      ws_stray_upstream_messages_total(counter(registry, kWsStray).get()),
      ws_backfilled_total(counter(registry, kWsBackfilled)),
      ws_duplicates_dropped_total(counter(registry, kWsDuplicates)),
      ws_unfilled_gaps_total(counter(registry, kWsUnfilledGaps)),
      health_checks_total(counter(registry, kHealthChecks)),
      cl_streams_moved_total(counter(registry, kClStreamsMoved)),
      cl_event_upstreams(gauge(registry, kClEventUpstreams)),
      cl_event_listeners(gauge(registry, kClEventListeners).get()),
      ws_slow_clients_closed_total(counter(registry, kWsSlowClientsClosed)),
      ws_buffered_bytes(gauge(registry, kWsBufferedBytes).get()),
      ws_invalid_upstream_messages_total(counter(registry, kWsInvalidUpstream).get()),
      ws_upstream_connections(gauge(registry, kWsUpstreamConnections)),
      ws_upstream_subscriptions(gauge(registry, kWsUpstreamSubscriptions)),
      ws_shared_subscribers(gauge(registry, kWsSharedSubscribers)),
      ws_backfill_requests_total(counter(registry, kWsBackfillRequests)),
      ws_backfill_cache_hits_total(counter(registry, kWsBackfillCacheHits)),
      connections_active(gauge(registry, kConnectionsActive).get()),
      connections_refused_total(counter(registry, kConnectionsRefused)),
      connections_evicted_total(counter(registry, kConnectionsEvicted).get()),
      config_info(gauge(registry, kConfigInfo)),
      config_reloads_total(counter(registry, kConfigReloads)),
      config_generations(gauge(registry, kConfigGenerations).get()) {
  config_info.with({config.sha256}).set(1);
  for (const char* result : {"applied", "unchanged", "rejected"}) config_reloads_total.with({result});
  for (const char* reason : {"backlog", "write_timeout", "process_buffer"}) ws_slow_clients_closed_total.with({reason});
  for (const char* reason : {"max_connections", "per_ip", "overflow"}) connections_refused_total.with({reason});
  for (const char* direction : {"client_to_upstream", "upstream_to_client"}) ws_messages_total.with({direction});
  for (const char* status : {"success", "failure"}) ws_reconnection_attempts_total.with({status});
  for (const char* kind : {"newHeads", "logs", "newPendingTransactions"}) {
    ws_backfilled_total.with({kind});
    ws_duplicates_dropped_total.with({kind});
    ws_unfilled_gaps_total.with({kind});
    ws_shared_subscribers.with({kind});
  }
  add_nodes(config);
  for (const char* endpoint : {"el", "cl"}) {
    for (const char* reason : kProxyErrorReasons) proxy_errors_total.with({endpoint, reason});
  }
}

// Children that exist from the first scrape: dashboards see every node, and rate() sees the first
// increment of every counter.
void ProxyMetrics::add_nodes(const config::Config& config) {
  for (const auto& node : config.el) {
    const std::vector<std::string> labels{node.name, tier_label(node.tier)};
    el_requests_total.with(labels);
    el_request_duration_seconds.with(labels);
    el_node_block_number.with(labels);
    el_node_lag_blocks.with(labels);
    el_node_healthy.with(labels);
    el_upstream_errors_total.with(labels);
    ws_upstream_node.with({node.name});
    ws_upstream_connections.with({node.name});
    ws_upstream_subscriptions.with({node.name});
    ws_backfill_requests_total.with({node.name});
    ws_backfill_cache_hits_total.with({node.name});
    for (const char* outcome : kOutcomes) health_checks_total.with({"el", node.name, outcome});
    for (const char* reason : {"priority", "round_robin", "least_latency", "explore", "block"}) {
      routing_requests_total.with({node.name, reason});
    }
  }
  for (const auto& node : config.cl) {
    const std::vector<std::string> labels{node.name};
    cl_requests_total.with(labels);
    cl_request_duration_seconds.with(labels);
    cl_node_slot.with(labels);
    cl_node_lag_slots.with(labels);
    cl_node_healthy.with(labels);
    cl_upstream_errors_total.with(labels);
    cl_streams_moved_total.with(labels);
    cl_event_upstreams.with(labels);
    for (const char* outcome : kOutcomes) health_checks_total.with({"cl", node.name, outcome});
  }
}

void ProxyMetrics::configuration_changed(const config::Config& before, const config::Config& after) {
  add_nodes(after);
  // A node that left keeps its counters (rate() needs no more of them), but not its health gauges:
  // a removed node frozen at "unhealthy" would keep its alert firing, one frozen at "healthy" lie.
  for (const auto& node : before.el) {
    bool kept = std::any_of(after.el.begin(), after.el.end(),
                            [&](const config::ElNode& n) { return n.name == node.name && n.tier == node.tier; });
    if (kept) continue;
    const std::vector<std::string> labels{node.name, tier_label(node.tier)};
    el_node_block_number.remove(labels);
    el_node_lag_blocks.remove(labels);
    el_node_healthy.remove(labels);
  }
  for (const auto& node : before.cl) {
    bool kept = std::any_of(after.cl.begin(), after.cl.end(), [&](const config::ClNode& n) { return n.name == node.name; });
    if (kept) continue;
    cl_node_slot.remove({node.name});
    cl_node_lag_slots.remove({node.name});
    cl_node_healthy.remove({node.name});
  }
  if (before.sha256 != after.sha256) {
    config_info.remove({before.sha256});
    config_info.with({after.sha256}).set(1);
  }
}

void ProxyMetrics::publish(const health::HealthSnapshot& previous, const health::HealthSnapshot& next) {
  for (const auto& node : next.el.nodes) {
    const std::vector<std::string> labels{node.name, tier_label(node.tier)};
    el_node_block_number.with(labels).set(static_cast<double>(node.height.value_or(0)));
    el_node_lag_blocks.with(labels).set(static_cast<double>(node.lag));
    el_node_healthy.with(labels).set(as_gauge(node.healthy));
  }
  for (const auto& node : next.cl.nodes) {
    const std::vector<std::string> labels{node.name};
    cl_node_slot.with(labels).set(static_cast<double>(node.height.value_or(0)));
    cl_node_lag_slots.with(labels).set(static_cast<double>(node.lag));
    cl_node_healthy.with(labels).set(as_gauge(node.healthy));
  }
  el_chain_head.set(static_cast<double>(next.el.chain_head));
  cl_chain_head.set(static_cast<double>(next.cl.chain_head));
  el_healthy_nodes.set(static_cast<double>(next.el.healthy_count));
  cl_healthy_nodes.set(static_cast<double>(next.cl.healthy_count));
  el_failover_active.set(as_gauge(next.el_failover_active));
  if (next.el_failover_active && !previous.el_failover_active) el_failovers_total.inc();
}

}  // namespace vixy::observability
