#pragma once
// The running proxy: the configuration generation, metrics, the health monitor and one shard per
// thread (each with its own io_context, listener, upstream pools and WebSocket sessions), with
// SIGTERM/SIGINT handled as a graceful shutdown and SIGHUP as a reload of the configuration file.

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "config/config.hpp"
#include "health/snapshot.hpp"
#include "monitor/health_monitor.hpp"
#include "net/http_server.hpp"
#include "observability/proxy_metrics.hpp"
#include "server/generation.hpp"
#include "server/memory_release.hpp"
#include "server/shard.hpp"
#include "server/process_signals.hpp"
#include "ws/process_totals.hpp"

namespace vixy::server {

// [server] threads, or when 0 the CPUs this process may run on (sched_getaffinity: a container's
// or taskset's CPU set, not the machine's).
std::size_t thread_count(const config::Server& server);

class App {
 public:
  // Throws std::runtime_error when a listener cannot be opened (start-up error).
  App(config::Config config, const tcp::endpoint& listen);
  ~App();
  // Serves until SIGTERM/SIGINT, then drains; returns the process exit code.
  int run();

 private:
  std::vector<std::unique_ptr<Shard>> make_shards(std::size_t count, bool serve_metrics);
  // The monitor of the current generation, its nodes' health pools those of the first shard's part.
  std::shared_ptr<monitor::HealthMonitor> make_monitor();
  void begin_shutdown(int signal_number);
  // SIGHUP: reads the file again and applies it, or keeps running as it is (see the .cpp).
  void reload();
  void reload_rejected(const std::string& why);
  // The first shard runs on the caller's thread, with the monitor and the metrics port.
  Shard& first() { return *shards_.front(); }

  // First: the signals are blocked before any member or shard starts a thread, so a SIGTERM that
  // arrives as soon as the port is announced waits for run() and means a graceful shutdown.
  ProcessSignals signals_;
  observability::ProxyMetrics metrics_;
  GenerationPtr generation_;  // the newest; replaced on the first shard's thread by a reload
  ws::ProcessTotals ws_totals_;
  // Declared before everything that holds sockets or timers on a shard's io_context.
  std::vector<std::unique_ptr<Shard>> shards_;
  std::shared_ptr<monitor::HealthMonitor> monitor_;
  std::shared_ptr<net::HttpServer> metrics_server_;
  std::shared_ptr<MemoryRelease> memory_release_;
  bool shutting_down_ = false;
};

}  // namespace vixy::server
