// The end of a sequence of ws_shared_model.hpp: a healthy cluster that answers everything, after
// which nothing may be missing (I1), every live subscription must deliver (I3), and nothing may
// be left subscribed on the node once every client let go (the multiplexer's own promise).
#include <algorithm>
#include <tuple>

#include "ws_shared_model.hpp"

namespace vixy::ws::shared_model {

std::string Cluster::stats() const {
  mux::Counters sum;
  for (const auto& m : muxes_) {
    sum.sent += m.counters().sent;
    sum.fetches_shared += m.counters().fetches_shared;
    sum.fetches_cached += m.counters().fetches_cached;
    sum.subscribes_shared += m.counters().subscribes_shared;
    sum.stray += m.counters().stray;
  }
  std::size_t subs = 0, left = 0;
  for (const auto& client : clients_) {
    subs += client.subs.size();
    left += client.gone ? 1 : 0;
  }
  return "sessions " + std::to_string(clients_.size()) + " left " + std::to_string(left) + " channels " +
         std::to_string(next_channel_ - 1) + " subs " + std::to_string(subs) + " sent " + std::to_string(sum.sent) +
         " fetches_shared " + std::to_string(sum.fetches_shared) + " fetches_cached " +
         std::to_string(sum.fetches_cached) + " subscribes_shared " +
         std::to_string(sum.subscribes_shared) + " stray " + std::to_string(sum.stray) + " txs " +
         std::to_string(next_tx_ - 1) + " head " + std::to_string(chain_.canonical().size() - 1);
}

bool Cluster::settled() const {
  if (!sockets_where([](const NodeSocket& s) { return !s.open || !s.inbox.empty(); }).empty()) return false;
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    const auto& client = clients_[i];
    if (client.gone) continue;
    if (client.core->pending_requests() != 0 || client.core->queued_messages() != 0) return false;
    const bool subscribed = std::any_of(client.subs.begin(), client.subs.end(),
                                        [](const auto& entry) { return !entry.second.unsubscribe_sent; });
    const bool up = std::any_of(channels_.begin(), channels_.end(),
                                [&](const auto& entry) { return entry.second.session == i && entry.second.up; });
    if (subscribed && (!client.core->active_node() || !up)) return false;
  }
  return true;
}

void Cluster::quiesce() {
  for (int round = 0; round < 50 && violation_.empty(); ++round) {
    for (bool busy = true; busy && violation_.empty();) {
      busy = false;
      if (!sockets_where([](const NodeSocket& s) { return !s.open; }).empty()) {
        socket_open(0);
        busy = true;
      }
      if (!sockets_where([](const NodeSocket& s) { return s.open && !s.inbox.empty(); }).empty()) {
        answer(0);
        busy = true;
      }
    }
    if (settled()) return;
    // A node that failed last is retried after a backoff.
    advance(kBackoffMax + milliseconds(1));
  }
}

void Cluster::drain() {
  health(0b111);
  quiesce();
  advance(kTimeout + milliseconds(1));
  quiesce();
  for (std::size_t i = 0; i < clients_.size() && violation_.empty(); ++i) {
    auto& client = clients_[i];
    if (client.gone) continue;
    for (const auto& e : client.expects) {
      const auto n = std::count_if(client.expects.begin(), client.expects.end(), [&](const Expect& o) { return o.id == e.id; });
      if (e.kind != ExpectKind::plain || static_cast<std::size_t>(n) != client.credits[e.id]) {
        return fail("client " + std::to_string(i) + ": I1: after draining, request " + e.id + " never got an answer");
      }
    }
  }
  // Bounded by what the sessions hold: once everything is answered, the multiplexer keeps no
  // flight, and exactly the channels and sockets the sessions and the node still have.
  for (std::size_t node = 0; node < kNodes && violation_.empty(); ++node) {
    const auto open = static_cast<std::size_t>(std::count_if(
        channels_.begin(), channels_.end(), [&](const auto& entry) { return entry.second.node == node; }));
    const auto& m = muxes_[node];
    if (m.in_flight() != 0 || m.channels() != open || m.sockets() != sockets_[node].size()) {
      fail("the multiplexer of node " + std::to_string(node) + " holds " + std::to_string(m.in_flight()) +
           " flights, " + std::to_string(m.channels()) + " channels (" + std::to_string(open) + " open), " +
           std::to_string(m.sockets()) + " sockets (" + std::to_string(sockets_[node].size()) + " at the node) after draining");
    }
  }
}

void Cluster::check_live() {
  for (auto& client : clients_) {
    for (auto& [tag, sub] : client.subs) sub.got = false;
  }
  produce();
  std::vector<std::tuple<std::size_t, SocketId, std::string>> pending;
  for (std::size_t node = 0; node < kNodes; ++node) {
    for (const auto& [socket, state] : sockets_[node]) {
      for (const auto& [id, sub] : state.subs) {
        if (state.open && sub.kind == SubKind::pending) pending.emplace_back(node, socket, id);
      }
    }
  }
  for (unsigned i = 0; i < pending.size(); ++i) {
    const auto& [node, socket, id] = pending[i];
    notify(node, socket, id, "0x" + std::string(63, 'e') + std::to_string(i % 10));
  }
  settle();
  quiesce();  // fetches that fill a gap
  for (std::size_t i = 0; i < clients_.size() && violation_.empty(); ++i) {
    if (clients_[i].gone) continue;
    for (const auto& [tag, sub] : clients_[i].subs) {
      if (!sub.unsubscribe_sent && !sub.got) {
        return fail("client " + std::to_string(i) + ": I3: subscription " + sub.id + " (subscribe " +
                    std::to_string(tag) + ") delivers nothing after the drain");
      }
    }
  }
}

void Cluster::check_released() {
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    auto& client = clients_[i];
    if (client.gone) continue;
    // A subscribe the core gave up on may still be made on the node: like on a connection of its
    // own, it lasts as long as the channel does.
    if (client.may_orphan) {
      close_session(i);
      continue;
    }
    std::vector<std::string> held;
    for (auto& [tag, sub] : client.subs) {
      if (!sub.unsubscribe_sent) held.push_back(sub.id);
    }
    for (const auto& id : held) {
      client.subs[client.sub_by_id[id]].unsubscribe_sent = true;
      const auto seq = next_seq_++;
      const auto text = R"({"jsonrpc":"2.0","id":"u)" + std::to_string(seq) +
                        R"(","method":"eth_unsubscribe","params":[")" + id + "\"]}";
      send_request(i, Expect{"\"u" + std::to_string(seq) + "\"", ExpectKind::unsubscribe_known, seq, id, {}, {}}, text);
    }
  }
  quiesce();
  if (!violation_.empty()) return;
  for (std::size_t node = 0; node < kNodes; ++node) {
    for (const auto& [socket, state] : sockets_[node]) {
      if (!state.subs.empty()) {
        return fail("node " + std::to_string(node) + " still holds " + std::to_string(state.subs.size()) +
                    " subscriptions on socket " + std::to_string(socket) + " (first: " + state.subs.begin()->second.key +
                    ") after every client unsubscribed or left");
      }
    }
    if (muxes_[node].subscriptions() != 0 || muxes_[node].subscribers() != 0) {
      return fail("the multiplexer of node " + std::to_string(node) + " still holds subscriptions after every client let go");
    }
  }
}

}  // namespace vixy::ws::shared_model
