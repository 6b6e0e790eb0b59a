// The simulated clients: each holds one WebSocket to the proxy at a time, subscribes to newHeads
// and logs, sends reads and web3_clientVersion probes (I6), now and then unsubscribes and
// subscribes again, reuses an id or reconnects, and records every message as the real-socket
// workload does (chaos/history.hpp), for the same checker.
#include <array>

#include "chaos/sim_world.hpp"
#include "jsonrpc/jsonrpc.hpp"

namespace vixy::chaos::sim {
namespace {

std::string request(const std::string& id, std::string_view method, const std::string& params) {
  return R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":")" + std::string(method) + R"(","params":)" + params + "}";
}

}  // namespace

// The WebSocket handshake through the proxy, then the subscriptions.
void World::client_connect(int index) {
  int connection = 0;
  for (const auto& history : histories_) connection += history.client == index ? 1 : 0;
  const Ms handshake = rng_.between(Ms(1), Ms(4));
  scheduler_.after(handshake, [this, index, connection] {
    Client& c = clients_[index];
    if (c.stopped) return;
    c.history = histories_.size();
    histories_.push_back(ConnectionHistory{index, connection, scheduler_.now(), {}});
    c.to_proxy = {};
    c.to_client = {};
    c.subscribing.clear();
    c.held.clear();
    c.outstanding.clear();
    c.closing = false;
    open_session(index);
    const std::string heads = R"(["newHeads"])";
    const std::string logs = R"(["logs",{"address":")" + std::string(fakenodes::kLogAddresses[index % 4]) + R"("}])";
    for (const auto& params : {heads, logs}) {
      const std::string id = std::to_string(c.next_id++);
      c.subscribing[id] = params;
      client_send(index, request(id, "eth_subscribe", params));
    }
    client_tick(index);
  });
}

void World::client_send(int index, std::string text) {
  Client& client = clients_[index];
  if (!client.history) return;
  const std::size_t history = *client.history;
  histories_[history].sent(text, scheduler_.now());
  if (auto id = jsonrpc::parse(text); id && id->contains("id")) ++client.outstanding[(*id)["id"].dump()];
  const std::uint64_t session = client.session;
  Time at = client.to_proxy.arrival(scheduler_.now(), rng_.between(Ms(0), Ms(2)));
  scheduler_.at(at, [this, session, text = std::move(text)] {
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return;
    it->second->core.client_text(text, scheduler_.now());
    session_process(session);
  });
}

void World::deliver_to_client(std::uint64_t session, std::string text) {
  const int index = sessions_.at(session)->client;
  Client& client = clients_[static_cast<std::size_t>(index)];
  if (!client.history || client.session != session) return;
  const bool answer = text.find(R"("result")") != std::string::npos && text.find("eth_subscription") == std::string::npos;
  const bool head = text.find("eth_subscription") != std::string::npos && text.find("parentHash") != std::string::npos;
  int copies = 1;
  if (options_.bug == "drop-answer" && answer && ++bug_count_ % 50 == 0) copies = 0;
  if (options_.bug == "repeat-head" && head && ++bug_count_ % 50 == 0) copies = 2;
  const std::size_t history = *client.history;
  for (int i = 0; i < copies; ++i) {
    Time at = client.to_client.arrival(scheduler_.now(), rng_.between(Ms(0), Ms(2)));
    scheduler_.at(at, [this, index, history, text] { client_receive(index, history, text); });
  }
}

void World::client_receive(int index, std::size_t history, const std::string& text) {
  Client& client = clients_[index];
  if (client.history != history) return;  // that connection is closed
  histories_[history].received(text, scheduler_.now());
  auto message = jsonrpc::parse(text);
  if (!message || !message->is_object() || !message->contains("id")) return;
  if (auto it = client.outstanding.find((*message)["id"].dump()); it != client.outstanding.end() && --it->second == 0) {
    client.outstanding.erase(it);
  }
  auto subscribing = client.subscribing.find((*message)["id"].dump());
  if (subscribing == client.subscribing.end()) return;
  if (auto result = message->find("result"); result != message->end() && result->is_string()) {
    client.held[result->get<std::string>()] = subscribing->second;
  }
  client.subscribing.erase(subscribing);
}

void World::client_tick(int index) {
  Client& client = clients_[index];
  if (client.stopped || !client.history) return;
  // A reconnection: as a well-behaved client, once every request has its answer.
  if (client.closing || rng_.one_in(400)) {
    client.closing = true;
    if (client.outstanding.empty()) {
      client_close(index);
      scheduler_.after(rng_.between(Ms(10), Ms(500)), [this, index] { client_connect(index); });
    } else {
      scheduler_.after(Ms(100), [this, index] { client_tick(index); });
    }
    return;
  }
  if (!client.held.empty() && rng_.one_in(150)) {  // unsubscribe, then subscribe to the same again
    auto it = client.held.begin();
    std::advance(it, static_cast<long>(rng_.below(client.held.size())));
    const std::string sub = it->first, params = it->second;
    client.held.erase(it);
    client_send(index, request(std::to_string(client.next_id++), "eth_unsubscribe", "[\"" + sub + "\"]"));
    const std::string id = std::to_string(client.next_id++);
    client.subscribing[id] = params;
    client_send(index, request(id, "eth_subscribe", params));
  } else {
    static constexpr std::array<std::string_view, 5> kMethods = {"eth_blockNumber", "web3_clientVersion", "eth_chainId",
                                                                 "eth_getBalance", "web3_clientVersion"};
    const auto method = kMethods[rng_.below(kMethods.size())];
    // Ids as clients use them: mostly fresh numbers, some strings, now and then one reused.
    std::string id = std::to_string(client.next_id++);
    if (rng_.one_in(10)) id = "\"r" + id + "\"";
    if (rng_.one_in(25) && !client.outstanding.contains("7")) id = "7";  // never two at once
    const std::string params =
        method == "eth_getBalance" ? R"(["0x1111111111111111111111111111111111111111","latest"])" : "[]";
    client_send(index, request(id, method, params));
  }
  scheduler_.after(rng_.between(Ms(20), Ms(300)), [this, index] { client_tick(index); });
}

void World::client_close(int index) {
  Client& client = clients_[index];
  if (!client.history) return;
  histories_[*client.history].closed(false, {}, scheduler_.now());
  client.history.reset();
  const std::uint64_t session = client.session;
  scheduler_.at(client.to_proxy.arrival(scheduler_.now(), rng_.between(Ms(0), Ms(2))),
                [this, session] { close_session(session); });
}

}  // namespace vixy::chaos::sim
