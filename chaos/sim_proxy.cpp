// The proxy in the simulation: the adapters of ws/session.cpp (Session::process), ws/node_mux.cpp
// (NodeMux::process), ws/hub.cpp (health to sessions) and the health monitor's round, with the
// network of sim_world.cpp in place of sockets. The cores themselves are the proxy's own.
#include "chaos/sim_world.hpp"
#include "routing/select.hpp"

namespace vixy::chaos::sim {
namespace {

Ms ms(std::uint64_t value) { return Ms(static_cast<Ms::rep>(value)); }

}  // namespace

void World::mux_process(std::size_t node) {
  NodeSide& side = *sides_[node];
  // A nested call (a session sending while it handles a message): the outer loop picks it up.
  if (side.processing) return;
  side.processing = true;
  const Time now = scheduler_.now();
  for (auto actions = side.mux.take_actions(); !actions.empty(); actions = side.mux.take_actions()) {
    for (auto& action : actions) {
      if (auto* to_socket = std::get_if<ws::mux::ToSocket>(&action)) {
        auto socket = side.sockets.find(to_socket->socket);
        if (socket == side.sockets.end()) continue;
        Time at = socket->second.to_node.arrival(now, link_delay(node));
        scheduler_.at(at, [this, node, s = to_socket->socket, text = std::move(to_socket->text)] {
          node_receive(node, s, text);
        });
        continue;
      }
      if (auto* open = std::get_if<ws::mux::OpenSocket>(&action)) {
        open_socket(node, open->socket);
        continue;
      }
      if (auto* close = std::get_if<ws::mux::CloseSocket>(&action)) {
        auto socket = side.sockets.find(close->socket);
        if (socket == side.sockets.end()) continue;
        // The close follows what was sent before it, as a FIN does.
        Time at = socket->second.to_node.arrival(now, link_delay(node));
        side.sockets.erase(socket);
        scheduler_.at(at, [this, node, s = close->socket] { nodes_[node].conns.erase(s); });
        continue;
      }
      // The rest go to a channel's session, looked up at delivery: an earlier one may have closed it.
      ws::mux::ChannelId channel = 0;
      std::visit([&](const auto& a) {
        if constexpr (requires { a.channel; }) channel = a.channel;
      }, action);
      auto owner = owners_.find(channel);
      if (owner == owners_.end()) continue;
      const auto [session_id, connection] = owner->second;
      Session& session = *sessions_.at(session_id);
      if (auto* to_channel = std::get_if<ws::mux::ToChannel>(&action)) {
        session.core.upstream_text(connection, to_channel->text, now);
      } else if (auto* notify = std::get_if<ws::mux::Notify>(&action)) {
        session.core.upstream_notification(connection, *notify->note, notify->alias, now);
      } else if (std::holds_alternative<ws::mux::ChannelUp>(action)) {
        session.core.upstream_connected(connection, now);
      } else if (std::holds_alternative<ws::mux::ChannelDown>(action)) {
        owners_.erase(owner);
        session.channels.erase(connection);
        session.core.upstream_lost(connection, now);
      }
      session_process(session_id);
    }
  }
  side.processing = false;
}

// A connect: refused by a killed node, never completed by a silent one (the connect timeout), else
// open after a handshake's round trips, if the node is still up by then.
void World::open_socket(std::size_t node, ws::mux::SocketId socket) {
  sides_[node]->sockets[socket] = ProxySocket{};
  auto fail = [this, node, socket] { socket_lost(node, socket); };
  if (nodes_[node].down) return scheduler_.after(link_delay(node), fail);
  const Ms connect_timeout = ms(config_.global.connect_timeout_ms);
  if (nodes_[node].silent) return scheduler_.after(connect_timeout, fail);
  scheduler_.after(link_delay(node) + link_delay(node), [this, node, socket, fail, connect_timeout] {
    auto& sockets = sides_[node]->sockets;
    auto it = sockets.find(socket);
    if (it == sockets.end()) return;  // the proxy gave up on it meanwhile
    if (nodes_[node].down) return fail();
    if (nodes_[node].silent) return scheduler_.after(connect_timeout, fail);
    nodes_[node].conns[socket] = NodeConn{};
    it->second.open = true;
    it->second.last_heard = scheduler_.now();
    NodeSide& side = *sides_[node];
    side.mux.advance(scheduler_.now());
    side.mux.socket_open(socket);
    mux_process(node);
    watch_socket(node, socket);
  });
}

void World::proxy_receive(std::size_t node, ws::mux::SocketId socket, const std::string& text) {
  NodeSide& side = *sides_[node];
  auto it = side.sockets.find(socket);
  if (it == side.sockets.end() || !it->second.open) return;
  ++messages_;
  it->second.last_heard = scheduler_.now();
  if (text == "pong") return;
  side.mux.advance(scheduler_.now());
  side.mux.socket_text(socket, text);
  mux_process(node);
}

void World::socket_lost(std::size_t node, ws::mux::SocketId socket) {
  nodes_[node].conns.erase(socket);
  NodeSide& side = *sides_[node];
  if (side.sockets.erase(socket) == 0) return;
  side.mux.advance(scheduler_.now());
  side.mux.socket_lost(socket);
  mux_process(node);
}

// The upstream WebSocket's keep-alive ([websocket] ping_interval_ms, pong_timeout_ms): a quiet
// socket is pinged, and dropped when the node stays quiet past the pong timeout.
void World::watch_socket(std::size_t node, ws::mux::SocketId socket) {
  scheduler_.after(Ms(1000), [this, node, socket] {
    auto& sockets = sides_[node]->sockets;
    auto it = sockets.find(socket);
    if (it == sockets.end()) return;
    const auto quiet = scheduler_.now() - it->second.last_heard;
    const Ms ping_after = ms(config_.websocket.ping_interval_ms);
    if (quiet >= ping_after + ms(config_.websocket.pong_timeout_ms)) return socket_lost(node, socket);
    if (quiet >= ping_after) {
      Time at = it->second.to_node.arrival(scheduler_.now(), link_delay(node));
      scheduler_.at(at, [this, node, socket] { node_receive(node, socket, "ping"); });
    }
    watch_socket(node, socket);
  });
}

void World::session_process(std::uint64_t session_id) {
  Session& session = *sessions_.at(session_id);
  if (session.processing || session.closed) return;
  session.processing = true;
  const Time now = scheduler_.now();
  for (auto actions = session.core.take_actions(); !actions.empty(); actions = session.core.take_actions()) {
    for (auto& action : actions) {
      if (auto* to_client = std::get_if<ws::SendClient>(&action)) {
        deliver_to_client(session_id, std::move(to_client->text));
      } else if (auto* to_node = std::get_if<ws::SendUpstream>(&action)) {
        auto channel = session.channels.find(to_node->connection);
        if (channel == session.channels.end()) continue;
        const auto [node, id] = channel->second;
        sides_[node]->mux.advance(now);
        sides_[node]->mux.send(id, to_node->text, to_node->backfill);
        mux_process(node);
      } else if (auto* connect = std::get_if<ws::Connect>(&action)) {
        const ws::mux::ChannelId id = next_channel_++;
        session.channels[connect->connection] = {connect->node, id};
        owners_[id] = {session_id, connect->connection};
        sides_[connect->node]->mux.advance(now);
        sides_[connect->node]->mux.open(id);
        mux_process(connect->node);
      } else if (auto* disconnect = std::get_if<ws::Disconnect>(&action)) {
        auto channel = session.channels.find(disconnect->connection);
        if (channel == session.channels.end()) continue;
        const auto [node, id] = channel->second;
        session.channels.erase(channel);
        owners_.erase(id);
        sides_[node]->mux.advance(now);
        sides_[node]->mux.close(id);
        mux_process(node);
      }
    }
  }
  session.processing = false;
  // Only an earlier deadline re-arms the timer; a later one is picked up when it fires early.
  const Time due = session.core.next_deadline().value_or(Time::max());
  if (due >= session.armed) return;
  session.armed = due;
  scheduler_.at(due, [this, session_id, timer = ++session.timer] { session_timer(session_id, timer); });
}

void World::session_timer(std::uint64_t session_id, std::uint64_t timer) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end() || it->second->closed || it->second->timer != timer) return;
  Session& session = *it->second;
  session.armed = Time::max();
  const Time now = scheduler_.now();
  if (auto due = session.core.next_deadline(); due && *due <= now) session.core.tick(now);
  session_process(session_id);
}

std::uint64_t World::open_session(int client) {
  std::vector<ws::NodeInfo> infos;
  for (const auto& node : nodes_) infos.push_back({node.name, node.tier});
  const std::uint64_t id = next_session_++;
  auto session = std::make_unique<Session>(std::move(infos), session_settings_, rng_.next());
  session->client = client;
  session->core.start(candidates_, scheduler_.now());
  sessions_[id] = std::move(session);
  clients_[static_cast<std::size_t>(client)].session = id;  // before anything it says reaches the client
  session_process(id);
  return id;
}

void World::close_session(std::uint64_t session_id) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  it->second->closed = true;
  const auto channels = std::move(it->second->channels);  // nothing a close sets off may touch them
  for (const auto& [connection, channel] : channels) {
    const auto [node, id] = channel;
    owners_.erase(id);
    sides_[node]->mux.advance(scheduler_.now());
    sides_[node]->mux.close(id);
    mux_process(node);
  }
  sessions_.erase(it);
}

// One round of the health monitor: every node checked at once over a connection of its own (a
// slow node's or network's answer may run into the timeout, a silent node's always does), the
// round ends with its slowest check, the layer is judged by health::next_layer, and sessions are
// told when the candidates change (ws/hub.cpp).
void World::health_round() {
  const Ms timeout = ms(config_.global.health_check_timeout_ms);
  std::vector<health::CheckResult> results;
  Ms took{0};
  for (std::size_t n = 0; n < nodes_.size(); ++n) {
    const Node& node = nodes_[n];
    health::CheckResult result;
    Ms latency = link_delay(n) + link_delay(n);
    if (node.slow > Ms(0)) latency += rng_.between(node.slow / 4, node.slow);
    if (node.down) {
      result.detail = "connection refused";
    } else if (node.silent || latency > timeout) {
      result.detail = "timed out";
      latency = timeout;
    } else {
      result.outcome = health::CheckOutcome::ok;
      result.height = head(node);
    }
    took = std::max(took, latency);
    results.push_back(std::move(result));
  }
  scheduler_.after(took, [this, results = std::move(results), took] {
    el_ = health::next_layer(el_, results,
                             {config_.global.max_el_lag_blocks, config_.global.health_check_max_failures});
    auto candidates = routing::el_candidates(el_);
    if (candidates != candidates_) {
      candidates_ = std::move(candidates);
      std::vector<std::uint64_t> ids;
      for (const auto& [id, session] : sessions_) ids.push_back(id);
      for (auto id : ids) {
        if (!sessions_.contains(id)) continue;
        sessions_[id]->core.health_changed(candidates_, scheduler_.now());
        session_process(id);
      }
    }
    const Ms interval = ms(config_.global.health_check_interval_ms);
    scheduler_.after(std::max(Ms(0), interval - took), [this] { health_round(); });
  });
}

}  // namespace vixy::chaos::sim
