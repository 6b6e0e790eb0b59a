#include "server/shard_generation.hpp"

#include <algorithm>

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
  hub_nodes_.el = generation_->config.el;
}

void ShardGeneration::apply(const health::SnapshotPtr& next) {
  health_.exchange(next);
  ws_hub_.on_snapshot(next);
  event_streams_.on_snapshot(next);
}

void ShardGeneration::extend(const config::Config& newer) {
  std::vector<config::ElNode> added;
  for (const auto& node : newer.el) {
    auto known = [&](const config::ElNode& n) { return config::same_node(n, node); };
    if (std::none_of(hub_nodes_.el.begin(), hub_nodes_.el.end(), known)) added.push_back(node);
  }
  if (added.empty()) return;
  hub_nodes_.el.insert(hub_nodes_.el.end(), added.begin(), added.end());
  ws_hub_.add_nodes(added);
}

void ShardGeneration::follow(const health::HealthSnapshot& next, const config::Config& of) {
  auto own = health::carry_over(next, of, config());
  health_.exchange(own);
  event_streams_.on_snapshot(own);
  ws_hub_.on_snapshot(hub_nodes_.el.size() == config().el.size() ? own : health::carry_over(next, of, hub_nodes_));
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
