#include "server/app.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <stdexcept>

#include "log/log.hpp"
#include "net/awaitable.hpp"
#include "net/descriptors.hpp"
#include "net/listen_address.hpp"

namespace vixy::server {
namespace {

using net::HttpConnection;
using net::HttpServer;
using net::Request;

// The metrics port is for a few scrapers; its connections come out of the descriptor reserve.
constexpr std::size_t kMetricsPortConnections = 16;

std::shared_ptr<HttpServer> open_server(asio::io_context& io, net::Handler handler, const net::ServerLimits& limits,
                                        const tcp::endpoint& endpoint, const char* what,
                                        net::ConnectionEvents events = {}) {
  auto server = std::make_shared<HttpServer>(io.get_executor(), std::move(handler), limits);
  if (auto ec = server->listen(endpoint)) {
    throw std::runtime_error(std::string("cannot listen on ") + net::to_string(endpoint) + " (" + what +
                             "): " + ec.message());
  }
  server->set_events(std::move(events));
  server->start();
  log::info("listening", {{"what", what},
                          {"addr", net::to_string(server->local_endpoint())},
                          {"max_connections", limits.caps.max_connections},
                          {"max_connections_per_ip", limits.caps.max_connections_per_ip},
                          {"descriptor_limit", net::descriptor_limit()}});
  return server;
}

}  // namespace

App::App(config::Config config, const tcp::endpoint& listen)
    : config_(std::move(config)),
      io_(1),
      signals_(io_, SIGTERM, SIGINT),
      tls_(http::make_client_tls_context(config_.tls.ca_file)),
      metrics_(config_),
      upstreams_(http::make_upstreams(io_.get_executor(), tls_, config_)),
      health_(health::initial_snapshot(config_)),
      monitor_(std::make_shared<monitor::HealthMonitor>(io_.get_executor(), config_, upstreams_, metrics_, health_)),
      ws_hub_(io_.get_executor(), config_, tls_, metrics_, health_.get()),
      event_streams_(config_, metrics_, health_.get()),
      el_(config_.global, config_.el, upstreams_.el, health_, metrics_),
      cl_(config_.global, config_.cl, upstreams_.cl, health_, event_streams_, metrics_),
      endpoints_{el_, cl_, ws_hub_, health_, config_, metrics_} {
  // WebSocket sessions and CL event streams hear about health changes as they happen instead of polling.
  monitor_->add_listener([this](const health::SnapshotPtr&, const health::SnapshotPtr& next) {
    ws_hub_.on_snapshot(next);
    event_streams_.on_snapshot(next);
  });
  bool separate_metrics = config_.metrics.enabled && config_.metrics.port.has_value();
  endpoints_.serve_metrics = config_.metrics.enabled && !separate_metrics;

  net::ServerLimits limits;
  limits.max_body_size = config_.global.max_body_size;
  limits.write_timeout = std::chrono::milliseconds(config_.server.client_write_timeout_ms);
  limits.caps.max_connections = config_.server.max_connections > 0
                                    ? config_.server.max_connections
                                    : net::connections_for_descriptors(net::descriptor_limit());
  limits.caps.max_connections_per_ip = config_.server.max_connections_per_ip;
  limits.always_served_path = "/health";
  server_ = open_server(
      io_, [this](HttpConnection& c, Request& r) { return route(endpoints_, c, r); }, limits, listen,
      "proxy", connection_events());
  if (separate_metrics) {
    tcp::endpoint metrics_endpoint(listen.address(), *config_.metrics.port);
    limits.caps.max_connections = std::min<std::size_t>(limits.caps.max_connections, kMetricsPortConnections);
    limits.always_served_path.clear();
    metrics_server_ = open_server(
        io_, [this](HttpConnection& c, Request& r) { return route_metrics_only(metrics_, c, r); }, limits,
        metrics_endpoint, "metrics");
  }
}

net::ConnectionEvents App::connection_events() {
  net::ConnectionEvents events;
  events.served_changed = [this](std::size_t served) {
    metrics_.connections_active.set(static_cast<double>(served));
  };
  events.refused = [this](net::Refusal refusal) { metrics_.connections_refused_total.with({to_string(refusal)}).inc(); };
  events.evicted = [this] { metrics_.connections_evicted_total.inc(); };
  return events;
}

int App::run() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal_number) {
    if (!ec) begin_shutdown(signal_number);
  });
  monitor_->start();
  log::info("started", {{"version", VIXY_VERSION},
                        {"el_nodes", config_.el.size()},
                        {"cl_nodes", config_.cl.size()},
                        {"health_interval_ms", config_.global.health_check_interval_ms}});
  io_.run();
  io_.release_handlers();
  // Both are 0 unless something outlived its connection's unwinding.
  log::info("stopped", {{"connections_left", server_->connection_count()}, {"sessions_left", ws_hub_.session_count()}});
  return 0;
}

void App::begin_shutdown(int signal_number) {
  if (shutting_down_) return;
  shutting_down_ = true;
  log::info("shutting down", {{"signal", signal_number},
                              {"open_connections", server_->connection_count()},
                              {"deadline_ms", config_.server.shutdown_timeout_ms}});
  monitor_->stop();
  ws_hub_.shutdown();
  event_streams_.shutdown();
  server_->shutdown_gracefully();
  if (metrics_server_) metrics_server_->shutdown_gracefully();
  // In-flight requests finish within the deadline; whatever is still open then is cut off.
  asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(config_.server.shutdown_timeout_ms);
        asio::steady_timer tick(io_);
        while (std::chrono::steady_clock::now() < deadline &&
               (server_->connection_count() > 0 || (metrics_server_ && metrics_server_->connection_count() > 0))) {
          tick.expires_after(std::chrono::milliseconds(10));
          co_await tick.async_wait(use_tuple);
        }
        if (server_->connection_count() > 0) {
          log::warn("shutdown deadline passed", {{"cut_connections", server_->connection_count()}});
        }
        io_.stop();
      },
      log::report_exception("shutdown deadline"));
}

}  // namespace vixy::server
