#pragma once
// What the WebSocket sessions of every thread's hub hold together. The process-wide bound on bytes
// queued for clients ([server] max_buffered_bytes, BacklogLimits::process) and each client's fair
// share of it count all sessions of the process, and vixy_ws_upstream_node says whether any session
// of the process is on a node; a hub's own count would multiply both by the number of threads.

#include <atomic>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "observability/proxy_metrics.hpp"

namespace vixy::ws {

class ProcessTotals {
 public:
  explicit ProcessTotals(std::vector<std::string> node_names)
      : node_names_(std::move(node_names)), per_node_(node_names_.size()) {}
  ProcessTotals(const ProcessTotals&) = delete;
  ProcessTotals& operator=(const ProcessTotals&) = delete;

  std::size_t buffered_bytes() const { return buffered_bytes_.load(std::memory_order_relaxed); }
  void buffered(std::size_t added, std::size_t written) {
    buffered_bytes_.fetch_add(added, std::memory_order_relaxed);
    buffered_bytes_.fetch_sub(written, std::memory_order_relaxed);
  }
  std::size_t sessions() const { return sessions_.load(std::memory_order_relaxed); }
  void session_opened() { sessions_.fetch_add(1, std::memory_order_relaxed); }
  void session_closed() { sessions_.fetch_sub(1, std::memory_order_relaxed); }

  // A session left node `from` and/or went to node `to`. The gauge flips only when a node's count
  // across all threads leaves or reaches zero; a session moves on a failover or failback, not per
  // message, so the lock that keeps the count and the gauge in step costs nothing on the hot path.
  void session_moved(std::optional<std::size_t> from, std::optional<std::size_t> to,
                     observability::ProxyMetrics& metrics) {
    std::lock_guard lock(mutex_);
    if (from && *from < per_node_.size() && --per_node_[*from] == 0) {
      metrics.ws_upstream_node.with({node_names_[*from]}).set(0);
    }
    if (to && *to < per_node_.size() && per_node_[*to]++ == 0) {
      metrics.ws_upstream_node.with({node_names_[*to]}).set(1);
    }
  }

 private:
  std::atomic<std::size_t> buffered_bytes_{0};
  std::atomic<std::size_t> sessions_{0};
  std::mutex mutex_;
  std::vector<std::string> node_names_;
  std::vector<std::size_t> per_node_;
};

}  // namespace vixy::ws
