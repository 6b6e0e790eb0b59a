#include "monitor/health_monitor.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "monitor/checks.hpp"
#include "log/log.hpp"
#include "net/awaitable.hpp"

namespace vixy::monitor {
namespace asio = boost::asio;
using health::CheckOutcome;
using health::CheckResult;
using health::HealthSnapshot;
using health::LayerHealth;
using health::SnapshotPtr;
namespace {

// Results of one round, shared with the check coroutines: a check that overruns its deadline
// (a stuck DNS lookup, say) may finish after the round has moved on, and must find this alive.
struct RoundResults {
  std::vector<CheckResult> el;
  std::vector<CheckResult> cl;
  std::size_t pending = 0;
  asio::steady_timer done;
  explicit RoundResults(asio::any_io_executor ex, std::size_t el_count, std::size_t cl_count)
      : el(el_count, CheckResult{CheckOutcome::failed, 0, "timeout"}),
        cl(cl_count, CheckResult{CheckOutcome::failed, 0, "timeout"}),
        pending(el_count + cl_count),
        done(ex, asio::steady_timer::time_point::max()) {}
};

}  // namespace

HealthMonitor::HealthMonitor(asio::any_io_executor executor, const config::Config& config,
                             http::Upstreams& upstreams, observability::ProxyMetrics& metrics,
                             health::PublishedSnapshot& published, std::shared_ptr<const void> owner)
    : executor_(executor),
      config_(config),
      upstreams_(upstreams),
      metrics_(metrics),
      published_(published),
      owner_(std::move(owner)),
      timer_(executor) {}

void HealthMonitor::start() { asio::co_spawn(executor_, loop(shared_from_this()), log::report_exception("health monitor")); }

void HealthMonitor::stop() {
  stopped_ = true;
  timer_.cancel();
}

asio::awaitable<void> HealthMonitor::loop(std::shared_ptr<HealthMonitor> self) {
  auto interval = std::chrono::milliseconds(self->config_.global.health_check_interval_ms);
  while (!self->stopped_) {
    auto started = std::chrono::steady_clock::now();
    co_await self->run_round();
    if (self->stopped_) break;
    self->timer_.expires_at(started + interval);
    co_await self->timer_.async_wait(use_tuple);
  }
}

asio::awaitable<void> HealthMonitor::run_round() {
  auto timeout = std::chrono::milliseconds(config_.global.health_check_timeout_ms);
  auto deadline = http::Clock::now() + timeout;
  auto results = std::make_shared<RoundResults>(executor_, upstreams_.el.size(), upstreams_.cl.size());

  auto spawn_check = [&](std::vector<CheckResult> RoundResults::*slot, std::size_t index, auto check,
                         http::UpstreamPool& pool) {
    asio::co_spawn(
        executor_,
        [](std::shared_ptr<HealthMonitor> /*kept alive*/, std::shared_ptr<RoundResults> r,
           std::vector<CheckResult> RoundResults::*s, std::size_t i, decltype(check) c, http::UpstreamPool& p,
           http::Clock::time_point d) -> asio::awaitable<void> {
          CheckResult result = co_await c(p, d);
          ((*r).*s)[i] = std::move(result);
          if (--r->pending == 0) r->done.cancel();
        }(shared_from_this(), results, slot, index, check, pool, deadline),
        log::report_exception("health check"));
  };
  for (std::size_t i = 0; i < upstreams_.el.size(); ++i) {
    spawn_check(&RoundResults::el, i, &check_el, upstreams_.el[i].health);
  }
  for (std::size_t i = 0; i < upstreams_.cl.size(); ++i) {
    spawn_check(&RoundResults::cl, i, &check_cl, upstreams_.cl[i].health);
  }
  if (results->pending > 0) {
    // Every check enforces the deadline itself; the grace only covers steps it cannot bound.
    results->done.expires_at(deadline + std::chrono::milliseconds(200));
    co_await results->done.async_wait(use_tuple);
  }
  if (stopped_) co_return;  // replaced by a reload's monitor: these nodes' view is no longer wanted

  auto previous = snapshot();
  auto next = std::make_shared<HealthSnapshot>();
  next->el = next_layer(previous->el, results->el, {config_.global.max_el_lag_blocks,
                                                    config_.global.health_check_max_failures});
  next->cl = next_layer(previous->cl, results->cl, {config_.global.max_cl_lag_slots,
                                                    config_.global.health_check_max_failures});
  next->el_failover_active = failover_active(next->el);
  next->round = previous->round + 1;
  for (std::size_t i = 0; i < results->el.size(); ++i) {
    metrics_.health_checks_total.with({"el", config_.el[i].name, to_string(results->el[i].outcome)}).inc();
  }
  for (std::size_t i = 0; i < results->cl.size(); ++i) {
    metrics_.health_checks_total.with({"cl", config_.cl[i].name, to_string(results->cl[i].outcome)}).inc();
  }
  publish(std::move(next));
}

void HealthMonitor::publish(SnapshotPtr next) {
  auto previous = published_.exchange(next);
  metrics_.publish(*previous, *next);
  log_changes(*previous, *next);
  for (const auto& listener : listeners_) listener(previous, next);
}

void HealthMonitor::log_changes(const HealthSnapshot& previous, const HealthSnapshot& next) const {
  auto log_layer = [](const char* layer, const LayerHealth& before, const LayerHealth& after) {
    for (std::size_t i = 0; i < after.nodes.size(); ++i) {
      const auto& n = after.nodes[i];
      bool was = i < before.nodes.size() && before.nodes[i].healthy;
      if (n.healthy == was) continue;
      log::write(n.healthy ? log::Level::info : log::Level::warn, n.healthy ? "node healthy" : "node unhealthy",
                 {{"layer", layer},
                  {"node", n.name},
                  {"tier", config::to_string(n.tier)},
                  {"height", n.height.value_or(0)},
                  {"lag", n.lag},
                  {"failures", n.consecutive_failures},
                  {"check", to_string(n.last_outcome)},
                  {"detail", n.last_detail}});
    }
  };
  log_layer("el", previous.el, next.el);
  log_layer("cl", previous.cl, next.cl);
  if (next.el_failover_active != previous.el_failover_active) {
    log::write(next.el_failover_active ? log::Level::warn : log::Level::info,
               next.el_failover_active ? "el failover active: serving from backup" : "el failover over: primary back",
               {{"healthy_el", next.el.healthy_count}});
  }
  if (next.el.healthy_count == 0 && previous.el.healthy_count != 0) {
    log::error("no healthy el node", {{"round", next.round}});
  }
}

}  // namespace vixy::monitor
