#pragma once
// The chain model behind the fake upstreams of the session model (ws_model.hpp), for I7: one
// canonical chain shared by every node, nodes that follow it, lag behind it, jump back to it, or
// reorg on their own. Every block ever made stays in a registry (hash -> number, parent), so the
// test can check that what the client got are real blocks and walk any block's ancestry.
//
// Hashes are made from a serial number, never reused: a reorg always produces new hashes, so a
// hash the client sees twice is the same block twice.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vixy::ws::model {

using json = nlohmann::json;

std::string hex_quantity(std::uint64_t value);
std::optional<std::uint64_t> parse_quantity(const json& value);

struct Block {
  std::uint64_t number = 0;
  std::string hash;
  std::string parent;
  std::uint64_t serial = 0;  // picks the block's logs
};

// What one node's chain did in one event: blocks it dropped (a reorg; newest first) and blocks it
// took on (ascending).
struct Change {
  std::vector<std::string> removed;
  std::vector<std::string> added;
};

class Chain {
 public:
  static constexpr std::size_t kNodes = 3;
  static constexpr std::uint64_t kLogsPerBlock = 3;
  // The addresses and topics logs carry; filters pick among them.
  static const std::array<std::string, 2>& addresses();
  static const std::array<std::string, 2>& topics();

  Chain();

  const Block& block(const std::string& hash) const { return registry_.at(hash); }
  const Block* find(const std::string& hash) const {
    const auto it = registry_.find(hash);
    return it == registry_.end() ? nullptr : &it->second;
  }
  const std::vector<std::string>& canonical() const { return canonical_; }
  const std::vector<std::string>& chain_of(std::size_t node) const { return nodes_[node].chain; }
  std::uint64_t head_of(std::size_t node) const { return nodes_[node].chain.size() - 1; }
  bool lagging(std::size_t node) const { return nodes_[node].lagging; }

  // One more canonical block; every node that is not lagging takes the canonical chain.
  std::array<Change, kNodes> produce();
  // A node stops following (lags) or follows again (takes the canonical chain at once).
  void lag(std::size_t node) { nodes_[node].lagging = true; }
  Change catch_up(std::size_t node);
  // New hashes for the last `depth` heights: of the canonical chain (and every following node),
  // or of one node's chain only (a private fork it leaves when it next follows the canonical one).
  std::array<Change, kNodes> reorg(std::uint64_t depth, std::optional<std::size_t> node);
  // Every node follows the canonical chain again (the drain: a healthy cluster).
  std::array<Change, kNodes> heal();

  // The logs of a block, as eth_getLogs returns them (removed: false).
  std::vector<json> logs(const Block& block) const;
  static bool matches(const json& filter, const json& log);
  // The block as eth_getBlockBy* returns it (no transactions: they were asked for as hashes, and
  // the model has none), and the header a newHeads notification carries (no transactions, no size).
  json block_json(const Block& block) const;
  json header_json(const Block& block) const;

 private:
  struct Node {
    std::vector<std::string> chain;  // hash by height, 0 .. head
    bool lagging = false;
  };
  const std::string& make(std::uint64_t number, const std::string& parent);
  Change take(Node& node, const std::vector<std::string>& target);

  std::map<std::string, Block> registry_;
  std::vector<std::string> canonical_;
  std::array<Node, kNodes> nodes_;
  std::uint64_t serial_ = 0;
};

}  // namespace vixy::ws::model
