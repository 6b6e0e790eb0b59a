// The simulated network and nodes: what a fake EL node does on its sockets (fakenodes/el_node.cpp,
// el_ws.cpp, node.cpp's block clock and reorg), with the chain and the answers of el_rpc.hpp.
#include <algorithm>

#include "chaos/sim_world.hpp"
#include "jsonrpc/jsonrpc.hpp"

namespace vixy::chaos::sim {

void Scheduler::run_until(Time end) {
  while (!events_.empty() && events_.begin()->first <= end) {
    auto first = events_.begin();
    now_ = first->first;
    auto event = std::move(first->second);
    events_.erase(first);
    event();
  }
  now_ = std::max(now_, end);
}

// Loopback-like delays with an occasional slow message, plus the node's spike while one is on.
Ms World::link_delay(std::size_t node) {
  Ms delay = rng_.between(Ms(1), Ms(3));
  if (rng_.one_in(40)) delay += rng_.between(Ms(5), Ms(60));
  return delay + nodes_[node].spike;
}

// An hour after the chain's epoch: the fake chain's heights are a function of this clock.
std::int64_t World::epoch_ms() const {
  return fakenodes::kEpochMs + 3'600'000 +
         std::chrono::duration_cast<Ms>(scheduler_.now() - origin_).count();
}

// A lagging node stopped importing: its head stays where it was until the chain is `lag` ahead,
// then follows that far behind, and catches up (announcing every block it skipped) when the lag
// ends. It never goes back. (The socket fake node's lag does move its head back and does not
// announce those heights again, which a subscriber that joins meanwhile sees as skipped blocks.)
std::uint64_t World::head(const Node& node) const {
  const std::uint64_t height = node.chain.height_at(epoch_ms());
  return std::max(height > node.lag ? height - node.lag : 0, node.announced);
}

void World::node_send(std::size_t node, ws::mux::SocketId socket, std::string text) {
  auto conn = nodes_[node].conns.find(socket);
  if (conn == nodes_[node].conns.end()) return;
  Time at = conn->second.to_proxy.arrival(scheduler_.now(), link_delay(node));
  scheduler_.at(at, [this, node, socket, text = std::move(text)] { proxy_receive(node, socket, text); });
}

void World::node_receive(std::size_t node_index, ws::mux::SocketId socket, const std::string& text) {
  Node& node = nodes_[node_index];
  auto conn = node.conns.find(socket);
  if (node.down || node.silent || conn == node.conns.end()) return;
  ++messages_;
  if (text == "ping") {
    node_send(node_index, socket, "pong");
    return;
  }
  if (node.slow > Ms(0)) {  // answered later, on its own: answers on one connection may overtake
    scheduler_.after(rng_.between(node.slow / 4, node.slow), [this, node_index, socket, text] {
      answer(node_index, socket, text);
    });
    return;
  }
  answer(node_index, socket, text);
}

void World::answer(std::size_t node_index, ws::mux::SocketId socket, const std::string& text) {
  Node& node = nodes_[node_index];
  auto conn = node.conns.find(socket);
  if (node.down || node.silent || conn == node.conns.end()) return;
  auto message = jsonrpc::parse(text);
  if (!message || !message->is_object() || !message->contains("id") || !message->contains("method")) return;
  static const nlohmann::json no_params = nlohmann::json::array();
  const nlohmann::json& params = message->contains("params") ? (*message)["params"] : no_params;
  const std::string version = "vixy-fakenode/sim/" + node.name;
  const fakenodes::ElState state{node.chain, head(node), node.chain.height_at(epoch_ms()), false, version};
  // Ids as a node would make them: per node, never repeated, the same in every replay of a seed.
  const fakenodes::SubscriptionScope scope{&conn->second.subscriptions, [&node, node_index] {
    return "0x" + std::to_string(node_index) + "00" + std::to_string(node.next_subscription++);
  }};
  nlohmann::json reply = fakenodes::el_reply(state, (*message)["method"].get<std::string>(), params, (*message)["id"], scope);
  node_send(node_index, socket, reply.dump());
}

// The block clock of every node, once per block: each announces the heights its head has passed
// (a lagging node fewer, catching up all at once), to subscribers only while it talks at all.
void World::block_clock(std::size_t) {
  for (std::size_t n = 0; n < nodes_.size(); ++n) {
    Node& node = nodes_[n];
    const std::uint64_t now_head = head(node);
    const bool talks = !node.down && !node.silent && !node.conns.empty();
    for (std::uint64_t height = node.announced + 1; talks && height <= now_head; ++height) {
      const auto block = fakenodes::block_events(node.chain, height);
      for (auto& [socket, conn] : node.conns) {
        fakenodes::for_each_notification(conn.subscriptions, block,
                                         [&, s = socket](std::string text) { node_send(n, s, std::move(text)); });
      }
    }
    node.announced = std::max(node.announced, now_head);
  }
  const auto height = nodes_.front().chain.height_at(epoch_ms());
  const auto next = nodes_.front().chain.next_block_ms(height);
  scheduler_.after(Ms(next - epoch_ms()), [this] { block_clock(0); });
}

// A network-wide reorg replacing the last `depth` blocks of the lowest head, on every node at once.
void World::reorg(std::uint64_t depth, std::uint64_t fork_seed) {
  std::uint64_t lowest = UINT64_MAX;
  for (const auto& node : nodes_) lowest = std::min(lowest, head(node));
  if (lowest <= depth) return;
  const fakenodes::Fork fork{lowest - depth + 1, fork_seed};
  forks_.push_back(fork);
  for (std::size_t n = 0; n < nodes_.size(); ++n) {
    Node& node = nodes_[n];
    const std::size_t old_tip = node.chain.tip();
    node.chain.fork(fork);
    const std::uint64_t told = node.announced;
    node.announced = std::min(node.announced, head(node));
    if (node.down || node.silent) continue;
    const auto events = fakenodes::reorg_events(node.chain, old_tip, fork.from_height, told, node.announced);
    for (auto& [socket, conn] : node.conns) {
      fakenodes::for_each_notification(conn.subscriptions, events,
                                       [&, s = socket](std::string text) { node_send(n, s, std::move(text)); });
    }
  }
}

// Killed: every connection closes (the proxy hears of it one delay later) and connects are refused.
void World::kill(std::size_t node) {
  nodes_[node].down = true;
  for (auto& [socket, conn] : nodes_[node].conns) {
    // The close follows what the node sent before it, as a FIN does.
    scheduler_.at(conn.to_proxy.arrival(scheduler_.now(), link_delay(node)),
                  [this, node, s = socket] { socket_lost(node, s); });
  }
  nodes_[node].conns.clear();
}

}  // namespace vixy::chaos::sim
