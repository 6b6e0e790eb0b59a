#pragma once
// The running proxy: configuration, metrics, upstream pools, health monitor and listeners, wired
// together on one io_context, with SIGTERM/SIGINT handled as a graceful shutdown.

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>

#include "config/config.hpp"
#include "health/snapshot.hpp"
#include "http/cl_handler.hpp"
#include "http/el_handler.hpp"
#include "http/event_stream.hpp"
#include "http/upstreams.hpp"
#include "monitor/health_monitor.hpp"
#include "net/http_server.hpp"
#include "observability/proxy_metrics.hpp"
#include "server/router.hpp"
#include "ws/hub.hpp"

namespace vixy::server {

namespace asio = net::asio;
using net::tcp;

class App {
 public:
  // Throws std::runtime_error when a listener cannot be opened (start-up error).
  App(config::Config config, const tcp::endpoint& listen);
  // Serves until SIGTERM/SIGINT, then drains; returns the process exit code.
  int run();

 private:
  void begin_shutdown(int signal_number);
  net::ConnectionEvents connection_events();  // the proxy listener's connections, into metrics_

  // Declared first so that it outlives every member holding its sockets and timers; but what the
  // shutdown deadline cut off (coroutine frames of connections and sessions still waiting) refers
  // to the members declared after it. release_handlers() destroys those frames while the members
  // are alive, which ~io_context would otherwise do after they are gone.
  struct IoContext : asio::io_context {
    using asio::io_context::io_context;
    void release_handlers() { shutdown(); }
  };

  config::Config config_;
  IoContext io_;
  // Installed before any listener opens: a SIGTERM that arrives as soon as the port is announced
  // must still mean a graceful shutdown, not the default action.
  asio::signal_set signals_;
  asio::ssl::context tls_;
  observability::ProxyMetrics metrics_;
  http::Upstreams upstreams_;
  health::PublishedSnapshot health_;
  std::shared_ptr<monitor::HealthMonitor> monitor_;
  ws::Hub ws_hub_;
  http::EventStreams event_streams_;
  http::ElHandler el_;
  http::ClHandler cl_;
  Endpoints endpoints_;
  std::shared_ptr<net::HttpServer> server_;
  std::shared_ptr<net::HttpServer> metrics_server_;
  bool shutting_down_ = false;
};

}  // namespace vixy::server
