#pragma once
// The health monitor: every interval it checks all nodes at once (each check bounded by its
// timeout), folds the answers into a new immutable snapshot and publishes it atomically. Request
// paths read the latest snapshot without waiting; nothing is locked across I/O (the lesson of
// defects 3 and 4 in the incident record).

#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config/config.hpp"
#include "health/snapshot.hpp"
#include "http/upstreams.hpp"
#include "observability/proxy_metrics.hpp"

namespace vixy::monitor {

class HealthMonitor : public std::enable_shared_from_this<HealthMonitor> {
 public:
  // Called on the monitor's executor after each round with the new snapshot and the one before.
  using Listener = std::function<void(const health::SnapshotPtr& previous, const health::SnapshotPtr& next)>;

  // Each round's snapshot is published into `published`, which the caller owns and request paths read.
  // `owner` holds `config`, `upstreams` and `published`: the monitor keeps it alive until its last
  // check has ended, since a check may outlast stop() (a stuck name lookup, say).
  HealthMonitor(boost::asio::any_io_executor executor, const config::Config& config, http::Upstreams& upstreams,
                observability::ProxyMetrics& metrics, health::PublishedSnapshot& published,
                std::shared_ptr<const void> owner = nullptr);

  health::SnapshotPtr snapshot() const { return published_.get(); }
  void add_listener(Listener listener) { listeners_.push_back(std::move(listener)); }

  void start();  // first round at once, then one per interval (start to start)
  // No round starts and nothing is published after this (a round under way is dropped).
  void stop();

  // One round: all checks concurrently, then publish. Exposed for tests.
  boost::asio::awaitable<void> run_round();

 private:
  static boost::asio::awaitable<void> loop(std::shared_ptr<HealthMonitor> self);
  void publish(health::SnapshotPtr next);
  void log_changes(const health::HealthSnapshot& previous, const health::HealthSnapshot& next) const;

  boost::asio::any_io_executor executor_;
  const config::Config& config_;
  http::Upstreams& upstreams_;
  observability::ProxyMetrics& metrics_;
  health::PublishedSnapshot& published_;
  std::shared_ptr<const void> owner_;
  std::vector<Listener> listeners_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace vixy::monitor
