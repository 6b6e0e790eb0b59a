#include "server/shard.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "log/log.hpp"
#include "net/awaitable.hpp"
#include "net/listen_address.hpp"

namespace vixy::server {
namespace {
// How often a shard looks whether a retired part's last session, stream or request has ended.
constexpr std::chrono::seconds kReapInterval{1};
}  // namespace

Shard::Shard(observability::ProxyMetrics& metrics, ws::ProcessTotals& ws_totals, bool serve_metrics)
    : metrics_(metrics),
      ws_totals_(ws_totals),
      serve_metrics_(serve_metrics),
      io_(1),
      work_(asio::make_work_guard(io_)),
      reaper_(io_) {}

Shard::~Shard() = default;

void Shard::adopt(GenerationPtr generation, const health::SnapshotPtr& initial) {
  auto next = std::make_shared<ShardGeneration>(io_.get_executor(), std::move(generation), metrics_, initial,
                                                ws_totals_, serve_metrics_);
  if (current_) {
    current_->retire();
    retired_.push_back(std::move(current_));
    reap_later();
  }
  for (auto& part : retired_) {
    part->extend(next->config());
    part->follow(*initial, next->config());
  }
  current_ = std::move(next);
}

void Shard::listen(const tcp::endpoint& endpoint, const net::ServerLimits& limits, bool shared_port) {
  server_ = std::make_shared<net::HttpServer>(
      io_.get_executor(),
      [this](net::HttpConnection& c, net::Request& r) {
        // The part a request begins in serves it to its end, a WebSocket session's whole life.
        c.hold_for_request(current_);
        return route(current_->endpoints(), c, r);
      },
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

void Shard::publish(const health::SnapshotPtr& next, const Generation* generation) {
  if (io_.get_executor().running_in_this_thread()) {
    apply(next, generation);
  } else {
    asio::post(io_, [this, next, generation] { apply(next, generation); });
  }
}

void Shard::apply(const health::SnapshotPtr& next, const Generation* generation) {
  if (!current_ || &current_->generation() != generation) return;
  current_->apply(next);
  for (auto& part : retired_) part->follow(*next, current_->config());
}

// A retired part is destroyed on this thread once no request holds it (its last WebSocket session,
// event stream or relayed request has ended) and nothing it started runs on without one.
void Shard::reap_later() {
  reaper_.expires_after(kReapInterval);
  reaper_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    std::erase_if(retired_, [](const std::shared_ptr<ShardGeneration>& part) {
      return part.use_count() == 1 && part->quiet();
    });
    if (!retired_.empty()) reap_later();
  });
}

std::size_t Shard::session_count() const {
  std::size_t count = current_ ? current_->session_count() : 0;
  for (const auto& part : retired_) count += part->session_count();
  return count;
}

void Shard::begin_shutdown(std::chrono::steady_clock::time_point deadline,
                           std::vector<std::shared_ptr<net::HttpServer>> also) {
  asio::post(io_, [this, deadline, also = std::move(also)]() mutable {
    reaper_.cancel();
    if (current_) current_->shutdown();
    for (auto& part : retired_) part->shutdown();
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
