#pragma once
// Everything WebSocket sessions share: the node list and URLs, the settings, the TLS context, the
// metrics, each node's pooled upstream connections (NodeMux), and the set of live sessions that
// health changes are pushed to (sessions never poll).

#include <cstdint>
#include <memory>
#include <unordered_set>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include "config/config.hpp"
#include "health/snapshot.hpp"
#include "net/http_server.hpp"
#include "net/upstream_url.hpp"
#include "net/ws_client.hpp"
#include "observability/proxy_metrics.hpp"
#include "routing/el_router.hpp"
#include "routing/rate_limit.hpp"
#include "ws/backlog.hpp"
#include "ws/multiplexer.hpp"
#include "ws/process_totals.hpp"
#include "ws/session_core.hpp"
#include "ws/session_metrics.hpp"

namespace vixy::ws {

class NodeMux;
class Session;

class Hub {
 public:
  // `totals` and `limiter` ([limits]; null: no limit) are shared with the hubs of the other threads.
  Hub(boost::asio::any_io_executor executor, const config::Config& config, boost::asio::ssl::context& tls,
      observability::ProxyMetrics& metrics, health::SnapshotPtr initial, ProcessTotals& totals,
      routing::RateLimiter* limiter = nullptr);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // GET /el/ws: upgrades the connection and runs the session until the client leaves.
  boost::asio::awaitable<void> serve(net::HttpConnection& connection, net::Request& request);

  // The health monitor's listener: pushes a changed candidate list to every session.
  void on_snapshot(const health::SnapshotPtr& next);
  // A reload added these nodes; this hub's sessions (of an older configuration) may move to them.
  // Their indexes follow the hub's nodes; snapshots given to on_snapshot cover them from now on.
  void add_nodes(const std::vector<config::ElNode>& added);
  // SIGTERM: every client is closed with 1001 (going away).
  void shutdown();
  std::size_t session_count() const { return sessions_.size(); }  // this hub's (thread's)

  // For sessions.
  boost::asio::any_io_executor executor() const { return executor_; }
  boost::asio::ssl::context& tls() { return tls_; }
  observability::ProxyMetrics& metrics() { return metrics_; }
  SessionMetrics& session_metrics() { return session_metrics_; }
  const std::vector<NodeInfo>& nodes() const { return nodes_; }
  const net::UpstreamUrl& url(std::size_t node) const { return urls_.at(node); }
  const SessionSettings& settings() const { return settings_; }
  const net::WsClientOptions& socket_options() const { return socket_options_; }
  std::uint64_t max_client_message_size() const { return max_client_message_size_; }
  const std::vector<std::size_t>& candidates() const { return candidates_; }
  // The candidates in the order session `turn` tries them ([routing] strategy within the best tier).
  std::vector<std::size_t> candidates_for(std::uint64_t turn) const {
    return routing::session_order(candidates_, tiers_, strategy_, turn, router_);
  }
  std::uint64_t next_turn() { return next_turn_++; }
  // least_latency places sessions by the answer times this thread's HTTP requests measured.
  void use_router(routing::ElRouter* router) { router_ = router; }
  // A node's newHeads notification: this thread's HTTP routing counts it as the node's head until
  // the next health round's snapshot reaches on_snapshot.
  void head_seen(std::size_t node, std::uint64_t number) {
    if (router_ != nullptr) router_->head_seen(node, number);
  }
  routing::RateLimiter* limiter() const { return limiter_; }
  const config::Limits& limits() const { return limits_; }
  // The node's shared upstream connections, and a channel id for a session's connection on one.
  NodeMux& mux(std::size_t node) { return *muxes_.at(node); }
  mux::ChannelId next_channel() { return next_channel_++; }
  // Sessions on each node, for vixy_ws_upstream_node.
  void session_moved(std::optional<std::size_t> from, std::optional<std::size_t> to) {
    totals_.session_moved(from ? &nodes_.at(*from).name : nullptr, to ? &nodes_.at(*to).name : nullptr, metrics_);
  }
  // Bytes queued for clients over all sessions of the process (the process-wide bound of
  // BacklogLimits), and how many sessions share it.
  const BacklogLimits& backlog_limits() const { return backlog_limits_; }
  std::size_t process_buffered_bytes() const { return totals_.buffered_bytes(); }
  std::size_t process_sessions() const { return totals_.sessions(); }
  void buffered(std::size_t added, std::size_t written);
  // A session is registered for as long as it exists.
  void joined(Session& session) {
    sessions_.insert(&session);
    totals_.session_opened();
  }
  void left(Session& session) {
    if (sessions_.erase(&session) > 0) totals_.session_closed();
  }

 private:
  boost::asio::awaitable<void> run_session(net::HttpConnection& connection, net::Request& request);
  boost::asio::any_io_executor executor_;
  boost::asio::ssl::context& tls_;
  observability::ProxyMetrics& metrics_;
  SessionMetrics session_metrics_;
  std::vector<NodeInfo> nodes_;
  std::vector<config::Tier> tiers_;  // by node
  routing::Strategy strategy_ = routing::Strategy::priority;
  routing::ElRouter* router_ = nullptr;
  std::uint64_t next_turn_ = 0;
  std::vector<net::UpstreamUrl> urls_;
  SessionSettings settings_;
  net::WsClientOptions socket_options_;
  std::uint64_t max_client_message_size_;
  std::vector<std::size_t> candidates_;
  BacklogLimits backlog_limits_;
  ProcessTotals& totals_;
  routing::RateLimiter* limiter_;
  const config::Limits& limits_;
  std::unordered_set<Session*> sessions_;  // this hub's; sessions live on its executor (one thread)
  bool stopping_ = false;
  mux::ChannelId next_channel_ = 1;
  mux::Settings mux_settings_;
  std::vector<std::unique_ptr<NodeMux>> muxes_;  // by node
};

}  // namespace vixy::ws
