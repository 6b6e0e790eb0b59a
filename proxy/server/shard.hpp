#pragma once
// One thread's share of the proxy: its io_context, its listener on the proxy port, and its part of
// each live configuration generation (upstream pools, WebSocket hub, CL event streams, request
// handlers: server/shard_generation.hpp). Nothing in a shard is touched from another thread: the
// App reaches it through post(), and what every shard shares (a generation's configuration, TLS
// context and limiter, metrics, process-wide counts) is read-only or thread-safe. Each part keeps
// its own copy of the health snapshot, replaced on this thread, so that its requests and sessions
// see snapshots in the same order and a request's look-up never contends with another thread's.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "health/snapshot.hpp"
#include "net/http_server.hpp"
#include "observability/proxy_metrics.hpp"
#include "server/generation.hpp"
#include "server/shard_generation.hpp"
#include "ws/process_totals.hpp"

namespace vixy::server {

namespace asio = net::asio;
using net::tcp;

class Shard {
 public:
  // `serve_metrics`: /metrics on the proxy port.
  Shard(observability::ProxyMetrics& metrics, ws::ProcessTotals& ws_totals, bool serve_metrics);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // On the shard's thread, or before run(): new requests go to this generation's part from now on.
  // The part they replace keeps what it serves, with `initial` carried over to its own nodes (so
  // its sessions leave a node the new configuration no longer has, make-before-break), and is
  // destroyed once nothing it serves is left.
  void adopt(GenerationPtr generation, const health::SnapshotPtr& initial);
  // The newest part (its health pools are the monitor's).
  const std::shared_ptr<ShardGeneration>& current() const { return current_; }

  // Opens the proxy listener (with SO_REUSEPORT when `shared_port`, so that every shard listens on
  // the same port and the kernel spreads connections). `limits.shared_counts` are shared with the
  // other shards' listeners. Throws std::runtime_error when it cannot.
  void listen(const tcp::endpoint& endpoint, const net::ServerLimits& limits, bool shared_port);
  // The port the listener got (the first shard's, when the configuration asks for port 0).
  tcp::endpoint local_endpoint() const;

  asio::io_context& io() { return io_; }

  // From the monitor's thread: this shard takes the monitor's new snapshot of `generation`'s nodes
  // and its sessions and streams hear of it, at once when the monitor runs on this shard's thread,
  // else in order through post(). Parts of earlier generations get it carried over to their nodes;
  // a snapshot of a generation that is no longer the newest (a replaced monitor's last) is dropped.
  void publish(const health::SnapshotPtr& next, const Generation* generation);
  // From any thread: closes this shard's clients gracefully, waits (on its own thread) until its
  // connections and those of `also` are gone or `deadline` passes, then stops its io_context.
  void begin_shutdown(std::chrono::steady_clock::time_point deadline, std::vector<std::shared_ptr<net::HttpServer>> also);
  // Runs the shard until begin_shutdown stops it.
  void run();
  // After run() returned on every shard (no thread runs any shard any more): destroys what the
  // shutdown deadline cut off (coroutine frames still waiting), while everything they refer to
  // is alive. ~io_context would do the same after the members are gone.
  void release_handlers();

  // On the shard's own thread, or when no thread runs it (before run, after it returned).
  std::size_t connection_count() const { return server_ ? server_->connection_count() : 0; }
  std::size_t session_count() const;
  // Parts of earlier generations not destroyed yet.
  std::size_t retired_count() const { return retired_.size(); }
  // After run() returned: the connections the shutdown deadline cut off.
  std::size_t cut_connections() const { return cut_; }

 private:
  void apply(const health::SnapshotPtr& next, const Generation* generation);
  void reap_later();
  net::ConnectionEvents connection_events();

  struct IoContext : asio::io_context {
    using asio::io_context::io_context;
    void release_handlers() { shutdown(); }
  };

  observability::ProxyMetrics& metrics_;
  ws::ProcessTotals& ws_totals_;
  bool serve_metrics_;
  // Declared first of what it serves so that it outlives every member holding its sockets and timers.
  IoContext io_;
  // Keeps run() going while the listener or a pool has nothing pending; reset by the shutdown.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::shared_ptr<ShardGeneration> current_;
  std::vector<std::shared_ptr<ShardGeneration>> retired_;
  asio::steady_timer reaper_;
  std::shared_ptr<net::HttpServer> server_;
  std::size_t reported_served_ = 0;  // this shard's share of vixy_connections_active
  std::size_t cut_ = 0;
};

}  // namespace vixy::server
