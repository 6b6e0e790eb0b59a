#pragma once
// CL event streams (GET /cl/eth/v1/events) are relayed from one node for as long as both sides stay.
// A node that keeps the connection open but stalls, lags or reports syncing would keep its
// listeners forever, although the monitor routes every new request elsewhere. So each open stream
// is watched: when its node is no longer a routable CL candidate, vixy ends the client's stream, and
// the client's EventSource-style reconnect goes through normal routing to a healthy node. Health
// changes are pushed here by the monitor, as to WebSocket sessions; nothing polls.
//
// Everything runs on the proxy's single io_context thread (the monitor's listeners included).

#include <cstddef>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "config/config.hpp"
#include "health/snapshot.hpp"
#include "observability/proxy_metrics.hpp"

namespace vixy::http {

class EventStreams {
 public:
  EventStreams(const config::Config& config, observability::ProxyMetrics& metrics, const health::SnapshotPtr& initial);
  EventStreams(const EventStreams&) = delete;
  EventStreams& operator=(const EventStreams&) = delete;

  // The health monitor's listener: ends every stream whose node left the CL candidates.
  void on_snapshot(const health::SnapshotPtr& next);
  // Graceful shutdown: every stream ends now, cleanly (its last chunk), and so does any stream
  // that starts later. Nothing else would end an event stream before the shutdown deadline cuts it.
  void shutdown();
  std::size_t open_count() const { return watches_.size(); }

  // One relayed stream, registered for as long as it lives. `end` is called at most once, when
  // `node` stops being routable (at once, from the constructor, if it already is not: the node may
  // have failed between routing and its answer). `end` must only start the ending (cancel the
  // upstream read, say); the relay sees ended() and finishes the client's response itself.
  class Watch {
   public:
    Watch(EventStreams& streams, std::size_t node, std::function<void()> end);
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    bool ended() const { return ended_; }
    std::size_t node() const { return node_; }

   private:
    friend class EventStreams;
    EventStreams& streams_;
    std::size_t node_;
    std::function<void()> end_;
    bool ended_ = false;
  };

 private:
  bool routable(std::size_t node) const;
  // Ends `watches` (all on `node`): one log line and one metric update for them together, so a
  // node with many listeners does not flood the log.
  void end(std::size_t node, const std::vector<Watch*>& watches);

  std::vector<std::string> names_;  // CL node names, for metrics and logs
  observability::ProxyMetrics& metrics_;
  std::vector<std::size_t> candidates_;
  std::unordered_set<Watch*> watches_;
  bool stopping_ = false;
};

}  // namespace vixy::http
