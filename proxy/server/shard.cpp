#include "server/shard.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "log/log.hpp"
#include "net/awaitable.hpp"
#include "net/listen_address.hpp"

namespace vixy::server {

Shard::Shard(const config::Config& config, asio::ssl::context& tls, observability::ProxyMetrics& metrics,
             const health::SnapshotPtr& initial, ws::ProcessTotals& ws_totals, routing::RateLimiter* limiter)
    : config_(config),
      metrics_(metrics),
      io_(1),
      work_(asio::make_work_guard(io_)),
      health_(initial),
      upstreams_(http::make_upstreams(io_.get_executor(), tls, config)),
      ws_hub_(io_.get_executor(), config, tls, metrics, initial, ws_totals, limiter),
      event_streams_(config, metrics, initial),
      el_(config, upstreams_.el, health_, metrics, limiter),
      cl_(config.global, config.cl, upstreams_.cl, health_, event_streams_, metrics, config.limits, limiter),
      endpoints_{el_, cl_, ws_hub_, health_, config, metrics} {
  ws_hub_.use_router(&el_.router());
}

Shard::~Shard() = default;

void Shard::listen(const tcp::endpoint& endpoint, const net::ServerLimits& limits, bool shared_port) {
  server_ = std::make_shared<net::HttpServer>(
      io_.get_executor(), [this](net::HttpConnection& c, net::Request& r) { return route(endpoints_, c, r); },
      limits);
  if (auto ec = server_->listen(endpoint, shared_port)) {
    throw std::runtime_error("cannot listen on " + net::to_string(endpoint) + " (proxy): " + ec.message());
  }
  server_->set_events(connection_events());
  server_->start();
}

tcp::endpoint Shard::local_endpoint() const { return server_->local_endpoint(); }

net::ConnectionEvents Shard::connection_events() {
  net::ConnectionEvents events;
  // Every shard adds what changed of its own share: the gauge is the process's.
  events.served_changed = [this](std::size_t served) {
    metrics_.connections_active.add(static_cast<double>(served) - static_cast<double>(reported_served_));
    reported_served_ = served;
  };
  events.refused = [this](net::Refusal refusal) { metrics_.connections_refused_total.with({to_string(refusal)}).inc(); };
  events.evicted = [this] { metrics_.connections_evicted_total.inc(); };
  return events;
}

void Shard::publish(const health::SnapshotPtr& next) {
  if (io_.get_executor().running_in_this_thread()) {
    apply(next);
  } else {
    asio::post(io_, [this, next] { apply(next); });
  }
}

void Shard::apply(const health::SnapshotPtr& next) {
  health_.exchange(next);
  ws_hub_.on_snapshot(next);
  event_streams_.on_snapshot(next);
}

void Shard::begin_shutdown(std::chrono::steady_clock::time_point deadline,
                           std::vector<std::shared_ptr<net::HttpServer>> also) {
  asio::post(io_, [this, deadline, also = std::move(also)]() mutable {
    ws_hub_.shutdown();
    event_streams_.shutdown();
    if (server_) server_->shutdown_gracefully();
    for (auto& server : also) server->shutdown_gracefully();
    // In-flight requests finish within the deadline; whatever is still open then is cut off.
    asio::co_spawn(
        io_,
        [this, deadline, also = std::move(also)]() -> asio::awaitable<void> {
          auto open = [&] {
            std::size_t count = connection_count();
            for (auto& server : also) count += server->connection_count();
            return count;
          };
          asio::steady_timer tick(io_);
          while (std::chrono::steady_clock::now() < deadline && open() > 0) {
            tick.expires_after(std::chrono::milliseconds(10));
            co_await tick.async_wait(use_tuple);
          }
          cut_ = connection_count();
          work_.reset();
          io_.stop();
        },
        log::report_exception("shutdown deadline"));
  });
}

void Shard::run() { io_.run(); }

void Shard::release_handlers() { io_.release_handlers(); }

}  // namespace vixy::server
