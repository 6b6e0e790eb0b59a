#include "health/snapshot.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace vixy::health {
namespace {

NodeHealth unchecked_node(const std::string& name, config::Tier tier) {
  NodeHealth node;
  node.name = name;
  node.tier = tier;
  return node;
}

// Folds one check into a node's running state; health itself is decided later, once the head of
// the whole layer is known.
void apply_result(NodeHealth& node, const CheckResult& result) {
  node.checked = true;
  node.last_outcome = result.outcome;
  switch (result.outcome) {
    case CheckOutcome::ok:
      node.height = result.height;
      node.consecutive_failures = 0;
      node.last_detail = result.detail.empty() ? "ok" : result.detail;
      break;
    case CheckOutcome::syncing:
      // A syncing node answered, so it is not failing; it is excluded through last_outcome.
      if (result.height != 0) node.height = result.height;
      node.consecutive_failures = 0;
      node.last_detail = result.detail.empty() ? "syncing" : result.detail;
      break;
    case CheckOutcome::failed:
      // The last height is kept so that a single blip does not drop the node from the head or
      // from rotation; max_failures decides when it stops counting.
      if (node.consecutive_failures < std::numeric_limits<std::uint32_t>::max()) {
        ++node.consecutive_failures;
      }
      node.last_detail = result.detail.empty() ? "failed" : result.detail;
      break;
  }
}

bool is_healthy(const NodeHealth& node, const Thresholds& thresholds) {
  return node.checked && node.last_outcome != CheckOutcome::syncing && node.height.has_value() &&
         node.consecutive_failures < thresholds.max_failures && node.lag <= thresholds.max_lag;
}

}  // namespace

SnapshotPtr initial_snapshot(const config::Config& config) {
  auto snapshot = std::make_shared<HealthSnapshot>();
  snapshot->el = initial_el(config.el);
  snapshot->cl = initial_cl(config.cl);
  return snapshot;
}

namespace {

template <class Node>
LayerHealth carry_layer(const LayerHealth& layer, const std::vector<Node>& from, const LayerHealth& unchecked,
                        const std::vector<Node>& to) {
  LayerHealth carried = unchecked;
  carried.chain_head = layer.chain_head;
  for (std::size_t i = 0; i < to.size(); ++i) {
    for (std::size_t j = 0; j < from.size() && j < layer.nodes.size(); ++j) {
      if (config::same_node(from[j], to[i])) {
        carried.nodes[i] = layer.nodes[j];
        break;
      }
    }
  }
  carried.healthy_count = static_cast<std::size_t>(
      std::count_if(carried.nodes.begin(), carried.nodes.end(), [](const NodeHealth& n) { return n.healthy; }));
  return carried;
}

}  // namespace

SnapshotPtr carry_over(const HealthSnapshot& snapshot, const config::Config& from, const config::Config& to) {
  auto carried = std::make_shared<HealthSnapshot>();
  carried->el = carry_layer(snapshot.el, from.el, initial_el(to.el), to.el);
  carried->cl = carry_layer(snapshot.cl, from.cl, initial_cl(to.cl), to.cl);
  carried->el_failover_active = failover_active(carried->el);
  carried->round = snapshot.round;
  return carried;
}

LayerHealth initial_el(const std::vector<config::ElNode>& nodes) {
  LayerHealth layer;
  for (const auto& node : nodes) layer.nodes.push_back(unchecked_node(node.name, node.tier));
  return layer;
}

LayerHealth initial_cl(const std::vector<config::ClNode>& nodes) {
  LayerHealth layer;
  for (const auto& node : nodes) layer.nodes.push_back(unchecked_node(node.name, config::Tier::primary));
  return layer;
}

LayerHealth next_layer(const LayerHealth& previous, const std::vector<CheckResult>& results,
                       const Thresholds& thresholds) {
  if (results.size() != previous.nodes.size()) {
    throw std::invalid_argument("next_layer: one check result per node is required");
  }
  LayerHealth layer = previous;
  layer.chain_head = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    apply_result(layer.nodes[i], results[i]);
    if (layer.nodes[i].height) layer.chain_head = std::max(layer.chain_head, *layer.nodes[i].height);
  }
  layer.healthy_count = 0;
  for (auto& node : layer.nodes) {
    node.lag = node.height ? layer.chain_head - *node.height : 0;
    node.healthy = is_healthy(node, thresholds);
    if (node.healthy) ++layer.healthy_count;
  }
  return layer;
}

bool failover_active(const LayerHealth& el) {
  auto healthy_in = [&](config::Tier tier) {
    return std::any_of(el.nodes.begin(), el.nodes.end(),
                       [&](const NodeHealth& node) { return node.healthy && node.tier == tier; });
  };
  return !healthy_in(config::Tier::primary) && healthy_in(config::Tier::backup);
}

const char* to_string(CheckOutcome outcome) {
  switch (outcome) {
    case CheckOutcome::ok: return "ok";
    case CheckOutcome::syncing: return "syncing";
    case CheckOutcome::failed: return "failed";
  }
  return "unknown";
}

}  // namespace vixy::health
