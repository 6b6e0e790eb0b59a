#include "routing/select.hpp"

namespace vixy::routing {
namespace {

void append_healthy(const health::LayerHealth& layer, config::Tier tier, std::vector<std::size_t>& out) {
  for (std::size_t i = 0; i < layer.nodes.size(); ++i) {
    if (layer.nodes[i].healthy && layer.nodes[i].tier == tier) out.push_back(i);
  }
}

}  // namespace

std::vector<std::size_t> el_candidates(const health::LayerHealth& el) {
  // Tiers are filtered separately rather than trusting the configured order to be sorted by tier.
  std::vector<std::size_t> order;
  order.reserve(el.nodes.size());  // one allocation, not one per node added
  append_healthy(el, config::Tier::primary, order);
  append_healthy(el, config::Tier::backup, order);
  return order;
}

std::vector<std::size_t> cl_candidates(const health::LayerHealth& cl) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < cl.nodes.size(); ++i) {
    if (cl.nodes[i].healthy) order.push_back(i);
  }
  return order;
}

std::optional<std::size_t> best_el(const health::LayerHealth& el) {
  auto order = el_candidates(el);
  if (order.empty()) return std::nullopt;
  return order.front();
}

}  // namespace vixy::routing
