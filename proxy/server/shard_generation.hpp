#pragma once
// One thread's part of a generation (server/generation.hpp): the upstream pools, WebSocket hub, CL
// event streams and request handlers built from that configuration, on that thread's executor.
// The shard sends new requests to its newest part; each request holds the part it began in
// (HttpConnection::hold_for_request), so a part retired by a reload serves its sessions, streams
// and requests to their end, with its own settings and node list, and is destroyed after.

#include <cstddef>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "health/snapshot.hpp"
#include "http/cl_handler.hpp"
#include "http/el_handler.hpp"
#include "http/event_stream.hpp"
#include "http/upstreams.hpp"
#include "observability/proxy_metrics.hpp"
#include "server/generation.hpp"
#include "server/router.hpp"
#include "ws/hub.hpp"
#include "ws/process_totals.hpp"

namespace vixy::server {

class ShardGeneration {
 public:
  ShardGeneration(boost::asio::any_io_executor executor, GenerationPtr generation,
                  observability::ProxyMetrics& metrics, const health::SnapshotPtr& initial,
                  ws::ProcessTotals& ws_totals, bool serve_metrics);
  ShardGeneration(const ShardGeneration&) = delete;
  ShardGeneration& operator=(const ShardGeneration&) = delete;

  const Generation& generation() const { return *generation_; }
  const config::Config& config() const { return generation_->config; }
  http::Upstreams& upstreams() { return upstreams_; }
  Endpoints& endpoints() { return endpoints_; }

  // A new snapshot of this part's nodes (in its configuration's order): sessions and streams hear of it.
  void apply(const health::SnapshotPtr& next);
  // For a part a reload replaced. `newer`'s EL nodes that its hub does not have are added to it, so
  // that its sessions may move to them (to a primary that replaced theirs, say).
  void extend(const config::Config& newer);
  // For a part a reload replaced: a snapshot of `of`'s nodes (the newest configuration's monitor),
  // carried over to this part's nodes for its handlers and streams, and to its hub's for its sessions.
  void follow(const health::HealthSnapshot& next, const config::Config& of);
  // A newer part takes the new requests: pooled connections to the nodes are not kept any more
  // (those of requests under way close once they are done).
  void retire();
  // SIGTERM: closes every WebSocket client (1001) and ends every event stream.
  void shutdown();
  std::size_t session_count() const { return ws_hub_.session_count(); }
  // Nothing started from this part runs detached from a request any more: it may be destroyed once
  // no request holds it.
  bool quiet() const { return cl_.feeds_alive() == 0; }

 private:
  GenerationPtr generation_;
  config::Config hub_nodes_;  // the hub's EL nodes by index (its configuration's, then those extend added)
  health::PublishedSnapshot health_;
  http::Upstreams upstreams_;
  ws::Hub ws_hub_;
  http::EventStreams event_streams_;
  http::ElHandler el_;
  http::ClHandler cl_;
  Endpoints endpoints_;
};

}  // namespace vixy::server
