#pragma once
// One thread's share of the proxy: its io_context, upstream pools, WebSocket hub, CL event streams,
// request handlers and its listener on the proxy port. Nothing in a shard is touched from another
// thread: the App reaches it through post(), and what every shard shares (configuration, TLS
// context, metrics, process-wide counts) is read-only or thread-safe. The shard keeps its own copy
// of the health snapshot, replaced on its thread, so that its requests and sessions see snapshots
// in the same order and a request's look-up never contends with another thread's.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "config/config.hpp"
#include "health/snapshot.hpp"
#include "http/cl_handler.hpp"
#include "http/el_handler.hpp"
#include "http/event_stream.hpp"
#include "http/upstreams.hpp"
#include "net/http_server.hpp"
#include "observability/proxy_metrics.hpp"
#include "server/router.hpp"
#include "ws/hub.hpp"

namespace vixy::server {

namespace asio = net::asio;
using net::tcp;

class Shard {
 public:
  // `limiter`: [limits], shared by every shard; null when there is no limit.
  Shard(const config::Config& config, asio::ssl::context& tls, observability::ProxyMetrics& metrics,
        const health::SnapshotPtr& initial, ws::ProcessTotals& ws_totals, routing::RateLimiter* limiter);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Opens the proxy listener (with SO_REUSEPORT when `shared_port`, so that every shard listens on
  // the same port and the kernel spreads connections). `limits.shared_counts` are shared with the
  // other shards' listeners. Throws std::runtime_error when it cannot.
  void listen(const tcp::endpoint& endpoint, const net::ServerLimits& limits, bool shared_port);
  // The port the listener got (the first shard's, when the configuration asks for port 0).
  tcp::endpoint local_endpoint() const;

  asio::io_context& io() { return io_; }
  http::Upstreams& upstreams() { return upstreams_; }
  Endpoints& endpoints() { return endpoints_; }

  // From the monitor's thread: this shard takes the new snapshot and its sessions and streams hear
  // of it, at once when the monitor runs on this shard's thread, else in order through post().
  void publish(const health::SnapshotPtr& next);
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
  std::size_t session_count() const { return ws_hub_.session_count(); }
  // After run() returned: the connections the shutdown deadline cut off.
  std::size_t cut_connections() const { return cut_; }

 private:
  void apply(const health::SnapshotPtr& next);
  net::ConnectionEvents connection_events();

  struct IoContext : asio::io_context {
    using asio::io_context::io_context;
    void release_handlers() { shutdown(); }
  };

  const config::Config& config_;
  observability::ProxyMetrics& metrics_;
  // Declared first of what it serves so that it outlives every member holding its sockets and timers.
  IoContext io_;
  // Keeps run() going while the listener or a pool has nothing pending; reset by the shutdown.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  health::PublishedSnapshot health_;
  http::Upstreams upstreams_;
  ws::Hub ws_hub_;
  http::EventStreams event_streams_;
  http::ElHandler el_;
  http::ClHandler cl_;
  Endpoints endpoints_;
  std::shared_ptr<net::HttpServer> server_;
  std::size_t reported_served_ = 0;  // this shard's share of vixy_connections_active
  std::size_t cut_ = 0;
};

}  // namespace vixy::server
