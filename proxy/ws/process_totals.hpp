#pragma once
// What the WebSocket sessions of every thread's hub hold together. The process-wide bound on bytes
// queued for clients ([server] max_buffered_bytes, BacklogLimits::process) and each client's fair
// share of it count all sessions of the process, and vixy_ws_upstream_node says whether any session
// of the process is on a node; a hub's own count would multiply both by the number of threads.

#include <atomic>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "observability/proxy_metrics.hpp"

namespace vixy::ws {

class ProcessTotals {
 public:
  ProcessTotals() = default;
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

  // A session left the node named `from` and/or went to the node named `to` (null: none). The gauge
  // flips only when a node's count across all threads leaves or reaches zero; a session moves on a
  // failover or failback, not per message, so the lock that keeps the count and the gauge in step
  // costs nothing on the hot path. By name, not by index: after a reload the sessions of the
  // configuration before and of the one after count together, and a node's index may differ.
  void session_moved(const std::string* from, const std::string* to, observability::ProxyMetrics& metrics) {
    std::lock_guard lock(mutex_);
    if (from != nullptr) {
      auto it = per_node_.find(*from);
      if (it != per_node_.end() && --it->second == 0) {
        per_node_.erase(it);
        metrics.ws_upstream_node.with({*from}).set(0);
      }
    }
    if (to != nullptr && per_node_[*to]++ == 0) metrics.ws_upstream_node.with({*to}).set(1);
  }

 private:
  std::atomic<std::size_t> buffered_bytes_{0};
  std::atomic<std::size_t> sessions_{0};
  std::mutex mutex_;
  std::map<std::string, std::size_t, std::less<>> per_node_;  // nodes with sessions on them
};

}  // namespace vixy::ws
