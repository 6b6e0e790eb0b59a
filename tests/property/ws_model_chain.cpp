// The chain model of ws_model_chain.hpp.
#include "ws_model_chain.hpp"

#include <algorithm>
#include <cstdio>

namespace vixy::ws::model {

std::string hex_quantity(std::uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(value));
  return buffer;
}

std::optional<std::uint64_t> parse_quantity(const json& value) {
  if (!value.is_string()) return std::nullopt;
  const auto& text = value.get_ref<const std::string&>();
  if (text.size() < 3 || text.size() > 18 || !text.starts_with("0x")) return std::nullopt;
  std::uint64_t out = 0;
  for (std::size_t i = 2; i < text.size(); ++i) {
    const char c = text[i];
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    out = out * 16 + static_cast<std::uint64_t>(digit);
  }
  return out;
}

const std::array<std::string, 2>& Chain::addresses() {
  static const std::array<std::string, 2> values{"0x" + std::string(39, 'a') + "1", "0x" + std::string(39, 'b') + "2"};
  return values;
}

const std::array<std::string, 2>& Chain::topics() {
  static const std::array<std::string, 2> values{"0x" + std::string(63, 'c') + "1", "0x" + std::string(63, 'd') + "2"};
  return values;
}

Chain::Chain() {
  canonical_.push_back(make(0, "0x" + std::string(64, '0')));
  for (std::uint64_t n = 1; n <= 5; ++n) canonical_.push_back(make(n, canonical_.back()));
  for (auto& node : nodes_) node.chain = canonical_;
}

const std::string& Chain::make(std::uint64_t number, const std::string& parent) {
  char buffer[67];
  const auto serial = ++serial_;
  // The serial up front keeps every hash distinct; the rest only makes it look like a hash.
  std::snprintf(buffer, sizeof buffer, "0x%016llx%016llx%032llx", static_cast<unsigned long long>(serial),
                static_cast<unsigned long long>(number), static_cast<unsigned long long>(serial * 0x9e3779b97f4a7c15ULL));
  auto [it, fresh] = registry_.emplace(buffer, Block{number, buffer, parent, serial});
  return it->second.hash;
}

Change Chain::take(Node& node, const std::vector<std::string>& target) {
  std::size_t common = 0;
  while (common < node.chain.size() && common < target.size() && node.chain[common] == target[common]) ++common;
  Change change;
  for (std::size_t i = node.chain.size(); i > common; --i) change.removed.push_back(node.chain[i - 1]);
  change.added.assign(target.begin() + static_cast<std::ptrdiff_t>(common), target.end());
  node.chain = target;
  return change;
}

std::array<Change, Chain::kNodes> Chain::produce() {
  canonical_.push_back(make(canonical_.size(), canonical_.back()));
  std::array<Change, kNodes> out;
  for (std::size_t i = 0; i < kNodes; ++i) {
    if (!nodes_[i].lagging) out[i] = take(nodes_[i], canonical_);
  }
  return out;
}

Change Chain::catch_up(std::size_t node) {
  nodes_[node].lagging = false;
  return take(nodes_[node], canonical_);
}

std::array<Change, Chain::kNodes> Chain::reorg(std::uint64_t depth, std::optional<std::size_t> node) {
  std::array<Change, kNodes> out;
  auto fork = [&](std::vector<std::string> chain) {
    const std::uint64_t head = chain.size() - 1;
    depth = std::min(depth, head);  // genesis stays
    chain.resize(head - depth + 1);
    for (std::uint64_t n = head - depth + 1; n <= head; ++n) chain.push_back(make(n, chain.back()));
    return chain;
  };
  if (node) {
    out[*node] = take(nodes_[*node], fork(nodes_[*node].chain));
    return out;
  }
  canonical_ = fork(canonical_);
  for (std::size_t i = 0; i < kNodes; ++i) {
    if (!nodes_[i].lagging) out[i] = take(nodes_[i], canonical_);
  }
  return out;
}

std::array<Change, Chain::kNodes> Chain::heal() {
  std::array<Change, kNodes> out;
  for (std::size_t i = 0; i < kNodes; ++i) out[i] = catch_up(i);
  return out;
}

std::vector<json> Chain::logs(const Block& block) const {
  std::vector<json> out;
  for (std::uint64_t i = 0; i < kLogsPerBlock; ++i) {
    char tx[67];
    std::snprintf(tx, sizeof tx, "0x%016llx%048llx", static_cast<unsigned long long>(block.serial),
                  static_cast<unsigned long long>(i + 1));
    out.push_back({{"address", addresses()[(block.serial + i) % 2]},
                   {"topics", json::array({topics()[(block.serial / 2 + i) % 2]})},
                   {"data", "0x"},
                   {"blockNumber", hex_quantity(block.number)},
                   {"blockHash", block.hash},
                   {"transactionHash", tx},
                   {"transactionIndex", hex_quantity(i)},
                   {"logIndex", hex_quantity(i)},
                   {"removed", false}});
  }
  return out;
}

bool Chain::matches(const json& filter, const json& log) {
  const auto one_of = [](const json& wanted, const json& value) {
    if (wanted.is_null()) return true;
    if (wanted.is_array()) return std::find(wanted.begin(), wanted.end(), value) != wanted.end();
    return wanted == value;
  };
  if (filter.contains("address") && !one_of(filter["address"], log["address"])) return false;
  if (filter.contains("topics")) {
    const auto& wanted = filter["topics"];
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      if (wanted[i].is_null()) continue;
      if (i >= log["topics"].size() || !one_of(wanted[i], log["topics"][i])) return false;
    }
  }
  return true;
}

json Chain::header_json(const Block& block) const {
  return {{"number", hex_quantity(block.number)}, {"hash", block.hash},
          {"parentHash", block.parent},           {"miner", addresses()[0]},
          {"timestamp", hex_quantity(1'700'000'000 + 12 * block.number)}, {"gasLimit", "0x1c9c380"}};
}

json Chain::block_json(const Block& block) const {
  json out = header_json(block);
  out["transactions"] = json::array();
  out["uncles"] = json::array();
  out["size"] = "0x220";
  return out;
}

}  // namespace vixy::ws::model
