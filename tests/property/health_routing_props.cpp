// Properties of the health rules and node selection, checked against a small independent model of
// ARCHITECTURE §4 (Health, Routing) over random layers, thresholds and sequences of check rounds.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "health/snapshot.hpp"
#include "routing/select.hpp"

namespace vixy::health {
namespace {

using config::Tier;

// ---- generators (called inside a property, so `*gen` draws from the current test case) ----

std::vector<Tier> gen_tiers(bool need_primary) {
  const auto n = *rc::gen::inRange<std::size_t>(1, 7);
  auto tiers = *rc::gen::container<std::vector<Tier>>(n, rc::gen::element(Tier::primary, Tier::backup));
  if (need_primary) tiers[*rc::gen::inRange<std::size_t>(0, n)] = Tier::primary;
  return tiers;
}

Thresholds gen_thresholds() {
  return {*rc::gen::inRange<std::uint64_t>(0, 8), *rc::gen::inRange<std::uint32_t>(1, 6)};
}

CheckResult gen_result(std::uint64_t max_height) {
  CheckResult r;
  // Mostly ok, so that rounds often end with several healthy nodes of both tiers.
  r.outcome = *rc::gen::weightedElement<CheckOutcome>(
      {{5, CheckOutcome::ok}, {1, CheckOutcome::syncing}, {2, CheckOutcome::failed}});
  r.height = *rc::gen::inRange<std::uint64_t>(0, max_height + 1);
  r.detail = *rc::gen::element(std::string{}, std::string{"timeout"});
  return r;
}

std::vector<CheckResult> gen_round(std::size_t n, std::uint64_t max_height = 12) {
  std::vector<CheckResult> round;
  for (std::size_t i = 0; i < n; ++i) round.push_back(gen_result(max_height));
  return round;
}

LayerHealth el_layer(const std::vector<Tier>& tiers) {
  std::vector<config::ElNode> nodes;
  for (std::size_t i = 0; i < tiers.size(); ++i) {
    nodes.push_back({"el" + std::to_string(i), "http://h", "ws://h", tiers[i]});
  }
  return initial_el(nodes);
}

// ---- the model: the rules restated as plainly as possible ----

struct ModelNode {
  std::optional<std::uint64_t> height;
  std::uint32_t failures = 0;
  bool answered = false;  // any check completed
  bool syncing = false;   // last answer was "syncing"
};

struct Model {
  std::vector<ModelNode> nodes;
  Thresholds thresholds;

  void step(const std::vector<CheckResult>& round) {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      auto& node = nodes[i];
      const auto& r = round[i];
      node.answered = true;
      node.syncing = r.outcome == CheckOutcome::syncing;
      if (r.outcome == CheckOutcome::failed) {
        node.failures += 1;
      } else {
        node.failures = 0;
        if (r.outcome == CheckOutcome::ok || r.height != 0) node.height = r.height;
      }
    }
  }
  std::uint64_t head() const {
    std::uint64_t best = 0;
    for (const auto& node : nodes) {
      if (node.height && *node.height > best) best = *node.height;
    }
    return best;
  }
  bool healthy(std::size_t i) const {
    const auto& node = nodes[i];
    return node.answered && !node.syncing && node.height && node.failures < thresholds.max_failures &&
           head() - *node.height <= thresholds.max_lag;
  }
};

// ---- checks shared by the EL and CL properties ----

void check_layer_matches_model(const LayerHealth& layer, const Model& model) {
  RC_ASSERT(layer.chain_head == model.head());
  std::size_t healthy = 0;
  for (std::size_t i = 0; i < layer.nodes.size(); ++i) {
    const auto& node = layer.nodes[i];
    RC_ASSERT(node.height == model.nodes[i].height);
    RC_ASSERT(node.consecutive_failures == model.nodes[i].failures);
    RC_ASSERT(node.lag <= layer.chain_head);  // never underflows
    RC_ASSERT(node.lag == (node.height ? model.head() - *node.height : 0));
    RC_ASSERT(node.healthy == model.healthy(i));
    healthy += model.healthy(i) ? 1 : 0;
  }
  RC_ASSERT(layer.healthy_count == healthy);
}

// Candidates hold each healthy node exactly once, ordered by (tier, config index).
void check_candidates(const std::vector<std::size_t>& candidates, const std::vector<Tier>& tiers,
                      const Model& model) {
  std::vector<int> seen(tiers.size(), 0);
  for (auto i : candidates) {
    RC_ASSERT(i < tiers.size());
    RC_ASSERT(model.healthy(i));
    ++seen[i];
  }
  for (std::size_t i = 0; i < tiers.size(); ++i) RC_ASSERT(seen[i] == (model.healthy(i) ? 1 : 0));
  auto rank = [&](std::size_t i) { return std::make_pair(tiers[i] == Tier::backup, i); };
  for (std::size_t k = 1; k < candidates.size(); ++k) {
    RC_ASSERT(rank(candidates[k - 1]) < rank(candidates[k]));
  }
}

std::optional<std::size_t> first_healthy(const std::vector<Tier>& tiers, const Model& model, Tier tier) {
  for (std::size_t i = 0; i < tiers.size(); ++i) {
    if (tiers[i] == tier && model.healthy(i)) return i;
  }
  return std::nullopt;
}

RC_GTEST_PROP(HealthRoutingProps, ElLayerFollowsModelAndSelectionPrefersHealthyPrimaries, ()) {
  const auto tiers = gen_tiers(/*need_primary=*/true);
  Model model{std::vector<ModelNode>(tiers.size()), gen_thresholds()};
  auto layer = el_layer(tiers);
  const auto rounds = *rc::gen::inRange(1, 12);
  for (int r = 0; r < rounds; ++r) {
    const auto round = gen_round(tiers.size());
    layer = next_layer(layer, round, model.thresholds);
    model.step(round);
    check_layer_matches_model(layer, model);
    check_candidates(routing::el_candidates(layer), tiers, model);

    const auto primary = first_healthy(tiers, model, Tier::primary);
    const auto backup = first_healthy(tiers, model, Tier::backup);
    const auto best = routing::best_el(layer);
    if (best) RC_ASSERT(model.healthy(*best));
    RC_ASSERT(best == (primary ? primary : backup));  // a backup only when no primary is healthy
    RC_ASSERT(failover_active(layer) == (!primary && backup.has_value()));
  }
}

RC_GTEST_PROP(HealthRoutingProps, ClLayerFollowsModelAndCandidatesAreHealthyInOrder, ()) {
  const auto tiers = std::vector<Tier>(*rc::gen::inRange<std::size_t>(1, 7), Tier::primary);
  Model model{std::vector<ModelNode>(tiers.size()), gen_thresholds()};
  auto layer = initial_cl(std::vector<config::ClNode>(tiers.size(), config::ClNode{"cl", "http://h"}));
  const auto rounds = *rc::gen::inRange(1, 12);
  for (int r = 0; r < rounds; ++r) {
    const auto round = gen_round(tiers.size());
    layer = next_layer(layer, round, model.thresholds);
    model.step(round);
    check_layer_matches_model(layer, model);
    check_candidates(routing::cl_candidates(layer), tiers, model);
  }
}

// A healthy node that fails k rounds in a row, while nobody moves the head past its last height,
// is unhealthy exactly when k >= max_failures.
RC_GTEST_PROP(HealthRoutingProps, FailureThresholdCountsConsecutiveFailures, ()) {
  const auto tiers = gen_tiers(/*need_primary=*/true);
  const auto thresholds = gen_thresholds();
  const auto target = *rc::gen::inRange<std::size_t>(0, tiers.size());
  const auto height = *rc::gen::inRange<std::uint64_t>(0, 13);

  const std::vector<CheckResult> all_at_height(tiers.size(), {CheckOutcome::ok, height, ""});
  auto layer = next_layer(el_layer(tiers), all_at_height, thresholds);
  RC_ASSERT(layer.nodes[target].healthy);

  const auto k_max = *rc::gen::inRange<std::uint32_t>(1, 9);
  for (std::uint32_t k = 1; k <= k_max; ++k) {
    auto round = gen_round(tiers.size(), height);  // nobody reports above `height`
    round[target] = {CheckOutcome::failed, 0, "timeout"};
    layer = next_layer(layer, round, thresholds);
    RC_ASSERT(layer.nodes[target].consecutive_failures == k);
    RC_ASSERT(layer.nodes[target].healthy == (k < thresholds.max_failures));
  }
}

// After any history, a node whose latest check is ok is healthy iff it is within max_lag of the head.
RC_GTEST_PROP(HealthRoutingProps, OkNodeIsHealthyIffWithinLag, ()) {
  const auto tiers = gen_tiers(/*need_primary=*/true);
  Model model{std::vector<ModelNode>(tiers.size()), gen_thresholds()};
  auto layer = el_layer(tiers);
  const auto history = *rc::gen::inRange(0, 8);
  std::vector<CheckResult> round;
  for (int r = 0; r <= history; ++r) {
    round = gen_round(tiers.size());
    layer = next_layer(layer, round, model.thresholds);
    model.step(round);
  }
  for (std::size_t i = 0; i < tiers.size(); ++i) {
    if (round[i].outcome != CheckOutcome::ok) continue;
    RC_ASSERT(layer.chain_head >= round[i].height);
    RC_ASSERT(layer.nodes[i].healthy == (model.head() - round[i].height <= model.thresholds.max_lag));
  }
}

}  // namespace
}  // namespace vixy::health
