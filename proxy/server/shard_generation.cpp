#include "server/shard_generation.hpp"

namespace vixy::server {

ShardGeneration::ShardGeneration(boost::asio::any_io_executor executor, GenerationPtr generation,
                                 observability::ProxyMetrics& metrics, const health::SnapshotPtr& initial,
                                 ws::ProcessTotals& ws_totals, bool serve_metrics)
    : generation_(std::move(generation)),
      health_(initial),
      upstreams_(http::make_upstreams(executor, generation_->tls, generation_->config)),
      ws_hub_(executor, generation_->config, generation_->tls, metrics, initial, ws_totals,
              generation_->limiter.get()),
      event_streams_(generation_->config, metrics, initial),
      el_(generation_->config, upstreams_.el, health_, metrics, generation_->limiter.get()),
      cl_(generation_->config.global, generation_->config.cl, upstreams_.cl, health_, event_streams_, metrics,
          generation_->config.limits, generation_->limiter.get()),
      endpoints_{el_, cl_, ws_hub_, health_, generation_->config, metrics, serve_metrics} {
  ws_hub_.use_router(&el_.router());
}

void ShardGeneration::apply(const health::SnapshotPtr& next) {
  health_.exchange(next);
  ws_hub_.on_snapshot(next);
  event_streams_.on_snapshot(next);
}

void ShardGeneration::retire() {
  for (auto* layer : {&upstreams_.el, &upstreams_.cl}) {
    for (auto& node : *layer) {
      node.requests.retire();
      node.health.retire();
    }
  }
}

void ShardGeneration::shutdown() {
  ws_hub_.shutdown();
  event_streams_.shutdown();
}

}  // namespace vixy::server
