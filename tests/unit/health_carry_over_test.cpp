// What a reload keeps of the nodes' health: health::carry_over between two configurations drawn
// from a small pool of nodes, so that both share some nodes, differ in others, and have nodes of
// the same name that moved to another URL or tier.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "health/snapshot.hpp"

namespace vixy::health {
namespace {

using config::Tier;

// Nodes named a..d, each with one of two URLs and either tier: the same name can be the same node
// or another one.
config::ElNode el_node(int name, int url, bool backup) {
  std::string n(1, static_cast<char>('a' + name));
  std::string host = "http://" + n + std::to_string(url) + ".test:8545";
  return config::ElNode{n, host, "ws://" + n + std::to_string(url) + ".test:8546",
                        backup ? Tier::backup : Tier::primary};
}

config::ClNode cl_node(int name, int url) {
  std::string n(1, static_cast<char>('p' + name));
  return config::ClNode{n, "http://" + n + std::to_string(url) + ".test:5052"};
}

// A configuration with distinct names (as the loader requires), drawn from the pool.
rc::Gen<config::Config> configs() {
  return rc::gen::exec([] {
    config::Config config;
    std::set<int> el_names, cl_names;
    auto el_count = *rc::gen::inRange(0, 5);
    for (int i = 0; i < el_count; ++i) {
      int name = *rc::gen::inRange(0, 4);
      if (!el_names.insert(name).second) continue;
      config.el.push_back(el_node(name, *rc::gen::inRange(0, 2), *rc::gen::arbitrary<bool>()));
    }
    auto cl_count = *rc::gen::inRange(0, 4);
    for (int i = 0; i < cl_count; ++i) {
      int name = *rc::gen::inRange(0, 3);
      if (!cl_names.insert(name).second) continue;
      config.cl.push_back(cl_node(name, *rc::gen::inRange(0, 2)));
    }
    return config;
  });
}

NodeHealth checked(const std::string& name, Tier tier, std::uint64_t height, bool healthy) {
  NodeHealth node;
  node.name = name;
  node.tier = tier;
  node.height = height;
  node.checked = true;
  node.last_outcome = CheckOutcome::ok;
  node.last_detail = "ok";
  node.healthy = healthy;
  return node;
}

// A snapshot of `config`'s nodes in which every node has been checked, some healthy.
HealthSnapshot checked_snapshot(const config::Config& config) {
  HealthSnapshot snapshot;
  for (const auto& node : config.el) {
    snapshot.el.nodes.push_back(checked(node.name, node.tier, *rc::gen::inRange(100, 200), *rc::gen::arbitrary<bool>()));
  }
  for (const auto& node : config.cl) {
    snapshot.cl.nodes.push_back(checked(node.name, Tier::primary, *rc::gen::inRange(100, 200), *rc::gen::arbitrary<bool>()));
  }
  snapshot.el.chain_head = 250;
  snapshot.cl.chain_head = 260;
  snapshot.round = 7;
  return snapshot;
}

const config::ElNode* find(const std::vector<config::ElNode>& nodes, const config::ElNode& wanted) {
  for (const auto& n : nodes) {
    if (n.name == wanted.name && n.http_url == wanted.http_url && n.ws_url == wanted.ws_url && n.tier == wanted.tier) {
      return &n;
    }
  }
  return nullptr;
}

const config::ClNode* find(const std::vector<config::ClNode>& nodes, const config::ClNode& wanted) {
  for (const auto& n : nodes) {
    if (n.name == wanted.name && n.url == wanted.url) return &n;
  }
  return nullptr;
}

RC_GTEST_PROP(HealthCarryOver, ANodeKeepsItsHealthExactlyWhenItIsTheSameNodeInBoth, ()) {
  auto from = *configs();
  auto to = *configs();
  auto snapshot = checked_snapshot(from);
  auto carried = carry_over(snapshot, from, to);

  RC_ASSERT(carried->el.nodes.size() == to.el.size());
  RC_ASSERT(carried->cl.nodes.size() == to.cl.size());
  for (std::size_t i = 0; i < to.el.size(); ++i) {
    const auto& node = carried->el.nodes[i];
    RC_ASSERT(node.name == to.el[i].name);
    RC_ASSERT(node.tier == to.el[i].tier);
    if (const auto* same = find(from.el, to.el[i])) {
      const auto& before = snapshot.el.nodes[static_cast<std::size_t>(same - from.el.data())];
      RC_ASSERT(node.checked);
      RC_ASSERT(node.healthy == before.healthy);
      RC_ASSERT(node.height == before.height);
    } else {
      RC_ASSERT(!node.checked);
      RC_ASSERT(!node.healthy);
    }
  }
  for (std::size_t i = 0; i < to.cl.size(); ++i) {
    const auto& node = carried->cl.nodes[i];
    RC_ASSERT(node.name == to.cl[i].name);
    if (const auto* same = find(from.cl, to.cl[i])) {
      RC_ASSERT(node.healthy == snapshot.cl.nodes[static_cast<std::size_t>(same - from.cl.data())].healthy);
    } else {
      RC_ASSERT(!node.healthy);
    }
  }
}

RC_GTEST_PROP(HealthCarryOver, CountsAndFailoverAgreeWithTheCarriedNodes, ()) {
  auto from = *configs();
  auto to = *configs();
  auto carried = carry_over(checked_snapshot(from), from, to);
  auto healthy = [](const LayerHealth& layer) {
    return static_cast<std::size_t>(
        std::count_if(layer.nodes.begin(), layer.nodes.end(), [](const NodeHealth& n) { return n.healthy; }));
  };
  RC_ASSERT(carried->el.healthy_count == healthy(carried->el));
  RC_ASSERT(carried->cl.healthy_count == healthy(carried->cl));
  RC_ASSERT(carried->el_failover_active == failover_active(carried->el));
  // The chains did not change with the configuration.
  RC_ASSERT(carried->el.chain_head == 250u);
  RC_ASSERT(carried->cl.chain_head == 260u);
  RC_ASSERT(carried->round == 7u);
}

TEST(HealthCarryOver, TheSameConfigurationKeepsEverything) {
  config::Config config;
  config.el = {el_node(0, 0, false), el_node(1, 0, false), el_node(2, 1, true)};
  config.cl = {cl_node(0, 0)};
  HealthSnapshot snapshot;
  snapshot.el.nodes = {checked("a", Tier::primary, 10, false), checked("b", Tier::primary, 12, true),
                       checked("c", Tier::backup, 12, true)};
  snapshot.el.healthy_count = 2;
  snapshot.cl.nodes = {checked("p", Tier::primary, 40, true)};
  snapshot.cl.healthy_count = 1;
  auto carried = carry_over(snapshot, config, config);
  EXPECT_EQ(carried->el.healthy_count, 2u);
  EXPECT_FALSE(carried->el_failover_active);
  ASSERT_EQ(carried->el.nodes.size(), 3u);
  EXPECT_FALSE(carried->el.nodes[0].healthy);
  EXPECT_TRUE(carried->el.nodes[1].healthy);
  EXPECT_EQ(carried->cl.nodes[0].height, 40u);
}

TEST(HealthCarryOver, ANodeThatMovedToAnotherUrlStartsUnchecked) {
  config::Config before, after;
  before.el = {el_node(0, 0, false), el_node(1, 0, true)};
  after.el = {el_node(0, 1, false), el_node(1, 0, true)};
  HealthSnapshot snapshot;
  snapshot.el.nodes = {checked("a", Tier::primary, 10, true), checked("b", Tier::backup, 10, true)};
  auto carried = carry_over(snapshot, before, after);
  EXPECT_FALSE(carried->el.nodes[0].healthy);
  EXPECT_FALSE(carried->el.nodes[0].checked);
  EXPECT_TRUE(carried->el.nodes[1].healthy);
  // Only the backup is left healthy: traffic is on the backup tier until the moved primary is checked.
  EXPECT_TRUE(carried->el_failover_active);
}

}  // namespace
}  // namespace vixy::health
