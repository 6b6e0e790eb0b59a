// The fake nodes of ws_shared_model.hpp: sockets that answer in any order, hold subscriptions,
// push notifications, connect, fail and drop; and the checks on what reaches them.
#include <algorithm>
#include <cstdio>
#include <tuple>

#include "ws_shared_model.hpp"

namespace vixy::ws::shared_model {

using model::hex_quantity;
using model::parse_quantity;

std::vector<std::pair<std::size_t, SocketId>> Cluster::sockets_where(bool (*wanted)(const NodeSocket&)) const {
  std::vector<std::pair<std::size_t, SocketId>> out;
  for (std::size_t node = 0; node < kNodes; ++node) {
    for (const auto& [socket, state] : sockets_[node]) {
      if (wanted(state)) out.emplace_back(node, socket);
    }
  }
  return out;
}

void Cluster::on_socket(std::size_t node, SocketId socket, const std::string& text) {
  const auto doc = json::parse(text, nullptr, false);
  if (!doc.is_object()) return fail("a node got something that is not a JSON object: " + text);
  if (!doc.contains("id")) return;  // a client's notification: nothing to answer
  // Every session numbers its messages from 1: only ids the multiplexer owns keep them apart.
  if (!doc["id"].is_number_unsigned() || !node_ids_[node].insert(doc["id"].get<std::uint64_t>()).second) {
    return fail("a node got an id that is not a fresh multiplexer-owned number: " + text);
  }
  auto& state = sockets_[node].at(socket);
  const auto method = doc.value("method", std::string{});
  const auto& params = doc.value("params", json::array());
  if (method == "eth_subscribe") {
    const auto key = params.dump();  // nlohmann orders members: the canonical params
    const bool live = std::any_of(state.subs.begin(), state.subs.end(), [&](const auto& entry) {
      return entry.second.key == key && !state.retiring.contains(entry.first);
    });
    if (live || state.subscribing.contains(key)) {
      fail("a socket was asked for a second upstream subscription to " + key + " while it has one");
    }
    state.subscribing.insert(key);
  } else if (method == "eth_unsubscribe" && params.is_array() && !params.empty() && params[0].is_string()) {
    if (state.subs.contains(params[0].get<std::string>())) state.retiring.insert(params[0].get<std::string>());
  } else if (const auto seq = model::seq_of(doc)) {
    const auto session = params[0].value("s", std::size_t{0});
    auto& client = clients_.at(session);
    // I4 as far as a node can see it: a channel's messages all travel on one socket, and a
    // session's messages arrive in client order (only safe ones come again, after a loss).
    if (const auto channel = seq_channel_.find(*seq); channel != seq_channel_.end()) {
      if (auto track = channels_.find(channel->second); track != channels_.end()) {
        if (track->second.socket && *track->second.socket != socket) fail("I4: one channel's messages on two sockets");
        track->second.socket = socket;
      }
    }
    if (seq_seen_.insert(*seq).second) {
      if (*seq <= client.first_sent) {
        fail("I4: message " + std::to_string(*seq) + " of session " + std::to_string(session) +
             " reached a node after its message " + std::to_string(client.first_sent));
      }
      client.first_sent = *seq;
    } else if (!model::repeatable(method)) {
      fail("unsafe " + method + " reached a node twice: " + text);
    }
  }
  state.inbox.push_back(doc);
}

json Cluster::node_result(std::size_t node, SocketId socket, NodeSocket& state, const json& request) {
  const auto method = request.value("method", std::string{});
  const auto& params = request.value("params", json::array());
  const auto head = chain_.canonical().size() - 1;
  if (method == "eth_subscribe") {
    const auto key = params.dump();
    if (const auto it = state.subscribing.find(key); it != state.subscribing.end()) state.subscribing.erase(it);
    const auto id = hex_quantity(state.next_sub++);
    const auto kind = sub_kind(params).value_or(SubKind::pending);
    state.subs[id] = UpSub{kind, key, kind == SubKind::logs && params.size() > 1 ? params[1] : json::object()};
    return id;
  }
  if (method == "eth_unsubscribe") {
    const auto target = params.at(0).get<std::string>();
    state.retiring.erase(target);
    return state.subs.erase(target) > 0;
  }
  if (const auto seq = model::seq_of(request)) {
    return {{"seq", *seq}, {"s", params[0].value("s", 0)}, {"node", node}, {"socket", socket}};
  }
  if (method == "eth_blockNumber") return hex_quantity(head);
  if (method == "eth_getBlockByNumber") {
    const auto number = parse_quantity(params.at(0)).value_or(head);
    return number <= head ? chain_.block_json(chain_.block(chain_.canonical()[number])) : json();
  }
  if (method == "eth_getBlockByHash") {
    const auto* block = chain_.find(params.at(0).get<std::string>());
    return block == nullptr ? json() : chain_.block_json(*block);
  }
  if (method == "eth_getLogs") {
    const auto& filter = params.at(0);
    std::uint64_t from = parse_quantity(filter.value("fromBlock", json())).value_or(head);
    std::uint64_t to = std::min<std::uint64_t>(parse_quantity(filter.value("toBlock", json())).value_or(head), head);
    if (filter.contains("blockHash")) {
      const auto* block = chain_.find(filter["blockHash"].get<std::string>());
      from = block == nullptr ? 1 : block->number;
      to = block == nullptr ? 0 : block->number;
    }
    json logs = json::array();
    for (auto n = from; n <= to; ++n) {
      for (auto& log : chain_.logs(chain_.block(chain_.canonical()[n]))) {
        if (model::Chain::matches(filter, log)) logs.push_back(std::move(log));
      }
    }
    return logs;
  }
  return nullptr;
}

void Cluster::answer(unsigned pick, bool refuse) {
  std::vector<std::tuple<std::size_t, SocketId, std::size_t>> waiting;
  for (std::size_t node = 0; node < kNodes; ++node) {
    for (const auto& [socket, state] : sockets_[node]) {
      if (!state.open) continue;
      for (std::size_t i = 0; i < state.inbox.size(); ++i) waiting.emplace_back(node, socket, i);
    }
  }
  if (waiting.empty()) return;
  const auto [node, socket, index] = waiting[pick % waiting.size()];
  auto& state = sockets_[node].at(socket);
  const json request = std::move(state.inbox[index]);
  state.inbox.erase(state.inbox.begin() + static_cast<std::ptrdiff_t>(index));
  node_ids_[node].erase(request["id"].get<std::uint64_t>());
  const auto method = request.value("method", std::string{});
  json reply = {{"jsonrpc", "2.0"}, {"id", request["id"]}};
  if (refuse && method != "eth_subscribe" && method != "eth_unsubscribe") {
    reply["error"] = {{"code", -32000}, {"message", "refused"}};
  } else {
    reply["result"] = node_result(node, socket, state, request);
  }
  muxes_[node].socket_text(socket, reply.dump());
  settle();
}

void Cluster::stray(unsigned pick, unsigned which) {
  const auto open = sockets_where([](const NodeSocket& s) { return s.open; });
  if (open.empty()) return;
  const auto [node, socket] = open[pick % open.size()];
  static const std::string texts[] = {
      R"({"jsonrpc":"2.0","id":987654321,"result":"0x0"})",
      R"({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0xdead","result":"0x1"}})",
      R"({"jsonrpc":"2.0","id":"x","result":1})",
  };
  const auto before = channel_messages_;
  muxes_[node].socket_text(socket, texts[which % std::size(texts)]);
  settle();
  if (channel_messages_ != before) fail("I2: a message nobody waits for reached a channel: " + texts[which % std::size(texts)]);
}

void Cluster::notify(std::size_t node, SocketId socket, const std::string& upstream_id, const json& result) {
  const json note = {{"jsonrpc", "2.0"},
                     {"method", "eth_subscription"},
                     {"params", {{"subscription", upstream_id}, {"result", result}}}};
  muxes_[node].socket_text(socket, note.dump());
}

// Every node follows the one chain and pushes the new head (and its logs) to every subscription on
// every open socket at once, including those whose unsubscribe it has not processed yet.
void Cluster::produce() {
  chain_.produce();
  const auto& block = chain_.block(chain_.canonical().back());
  for (std::size_t node = 0; node < kNodes; ++node) {
    for (const auto& [socket, state] : sockets_[node]) {
      if (!state.open) continue;
      for (const auto& [id, sub] : state.subs) {
        if (sub.kind == SubKind::heads) notify(node, socket, id, chain_.header_json(block));
        if (sub.kind != SubKind::logs) continue;
        for (const auto& log : chain_.logs(block)) {
          if (model::Chain::matches(sub.filter, log)) notify(node, socket, id, log);
        }
      }
    }
  }
  settle();
}

void Cluster::notify_pending(unsigned pick) {
  std::vector<std::tuple<std::size_t, SocketId, std::string>> live;
  for (std::size_t node = 0; node < kNodes; ++node) {
    for (const auto& [socket, state] : sockets_[node]) {
      if (!state.open) continue;
      for (const auto& [id, sub] : state.subs) {
        if (sub.kind == SubKind::pending) live.emplace_back(node, socket, id);
      }
    }
  }
  if (live.empty()) return;
  const auto& [node, socket, id] = live[pick % live.size()];
  char tx[67];
  std::snprintf(tx, sizeof tx, "0x%064llx", static_cast<unsigned long long>(next_tx_++));
  notify(node, socket, id, tx);
  settle();
}

void Cluster::socket_open(unsigned pick) {
  const auto connecting = sockets_where([](const NodeSocket& s) { return !s.open; });
  if (connecting.empty()) return;
  const auto [node, socket] = connecting[pick % connecting.size()];
  sockets_[node].at(socket).open = true;
  muxes_[node].socket_open(socket);
  settle();
}

// A connect that fails, or an open socket that drops.
void Cluster::socket_lost(unsigned pick) {
  const auto all = sockets_where([](const NodeSocket&) { return true; });
  if (all.empty()) return;
  const auto [node, socket] = all[pick % all.size()];
  for (const auto& request : sockets_[node].at(socket).inbox) node_ids_[node].erase(request["id"].get<std::uint64_t>());
  sockets_[node].erase(socket);
  muxes_[node].socket_lost(socket);
  settle();
}

void Cluster::health(unsigned mask) {
  candidates_.clear();
  for (std::size_t node = 0; node < kNodes; ++node) {
    if ((mask >> node) & 1U) candidates_.push_back(node);
  }
  for (auto& client : clients_) {
    if (!client.gone) client.core->health_changed(candidates_, now_);
  }
  settle();
}

// Like the adapter: each core is ticked at the deadline it names, so a deadline it forgets shows
// up as a request that outlived request_timeout.
void Cluster::advance(milliseconds by) {
  const auto target = now_ + by;
  for (int round = 0;; ++round) {
    if (round == 10'000) return fail("next_deadline() does not move forward after tick()");
    std::optional<TimePoint> next;
    for (const auto& client : clients_) {
      if (client.gone) continue;
      if (const auto deadline = client.core->next_deadline(); deadline && (!next || *deadline < *next)) next = deadline;
    }
    if (!next || *next > target) break;
    now_ = std::max(now_, *next);
    for (auto& client : clients_) {
      if (client.gone) continue;
      if (const auto deadline = client.core->next_deadline(); deadline && *deadline <= now_) client.core->tick(now_);
    }
    settle();
  }
  now_ = target;
  for (std::size_t i = 0; i < clients_.size(); ++i) check_expired(i);
}

}  // namespace vixy::ws::shared_model
