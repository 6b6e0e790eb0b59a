#include "ws/node_mux.hpp"

#include <deque>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>

#include "log/log.hpp"
#include "net/awaitable.hpp"
#include "net/ws_client.hpp"
#include "ws/hub.hpp"

namespace vixy::ws {

namespace asio = boost::asio;

struct NodeMux::Socket {
  Socket(NodeMux& owner_, mux::SocketId id_)
      : owner(&owner_),
        id(id_),
        client(owner_.hub_.executor(), &owner_.hub_.tls()),
        wake(owner_.hub_.executor(), asio::steady_timer::time_point::max()) {}
  NodeMux* owner;  // null once the multiplexer has forgotten the socket: its coroutines then stop
  mux::SocketId id;
  net::WsClient client;
  std::deque<std::string> outbox;
  asio::steady_timer wake;  // cancelled when there is something to write or the socket goes
  bool open = false;
};

NodeMux::NodeMux(Hub& hub, std::size_t node, mux::Settings settings)
    : hub_(hub), node_(node), core_(settings) {}

NodeMux::~NodeMux() {
  for (auto& [id, socket] : sockets_) {
    socket->owner = nullptr;
    socket->client.abort();
    socket->wake.cancel();
  }
}

void NodeMux::open(mux::ChannelId channel, ChannelOwner& owner, ConnectionId connection) {
  owners_[channel] = Owner{&owner, connection};
  core_.advance(mux::Clock::now());
  core_.open(channel);
  process();
}

void NodeMux::send(mux::ChannelId channel, std::string_view text, bool backfill) {
  core_.advance(mux::Clock::now());
  core_.send(channel, text, backfill);
  process();
}

void NodeMux::close(mux::ChannelId channel) {
  owners_.erase(channel);
  core_.advance(mux::Clock::now());
  core_.close(channel);
  process();
}

void NodeMux::process() {
  // A nested call (an owner's callback sending or closing): the outer loop picks the actions up.
  if (processing_) return;
  processing_ = true;
  for (auto actions = core_.take_actions(); !actions.empty(); actions = core_.take_actions()) {
    for (auto& action : actions) {
      if (auto* to_socket = std::get_if<mux::ToSocket>(&action)) {
        auto socket = sockets_.find(to_socket->socket);
        if (socket == sockets_.end()) continue;
        socket->second->outbox.push_back(std::move(to_socket->text));
        socket->second->wake.cancel();
      } else if (auto* to_channel = std::get_if<mux::ToChannel>(&action)) {
        // Looked up at delivery: an earlier callback in this loop may have closed the channel.
        auto owner = owners_.find(to_channel->channel);
        if (owner != owners_.end()) owner->second.owner->channel_text(owner->second.connection, to_channel->text);
      } else if (auto* notify = std::get_if<mux::Notify>(&action)) {
        if (const auto& head = notify->note->facts().head) hub_.head_seen(node_, head->number);
        auto owner = owners_.find(notify->channel);
        if (owner != owners_.end()) {
          owner->second.owner->channel_notification(owner->second.connection, *notify->note, notify->alias);
        }
      } else if (auto* up = std::get_if<mux::ChannelUp>(&action)) {
        auto owner = owners_.find(up->channel);
        if (owner != owners_.end()) owner->second.owner->channel_up(owner->second.connection);
      } else if (auto* down = std::get_if<mux::ChannelDown>(&action)) {
        auto owner = owners_.find(down->channel);
        if (owner == owners_.end()) continue;
        Owner gone = owner->second;
        owners_.erase(owner);
        gone.owner->channel_down(gone.connection);
      } else if (auto* open = std::get_if<mux::OpenSocket>(&action)) {
        open_socket(open->socket);
      } else if (auto* close = std::get_if<mux::CloseSocket>(&action)) {
        close_socket(close->socket);
      }
    }
  }
  processing_ = false;
  publish_metrics();
}

void NodeMux::open_socket(mux::SocketId id) {
  auto socket = std::make_shared<Socket>(*this, id);
  sockets_[id] = socket;
  asio::co_spawn(hub_.executor(), run_socket(socket), log::report_exception("websocket upstream"));
}

void NodeMux::close_socket(mux::SocketId id) {
  auto it = sockets_.find(id);
  if (it == sockets_.end()) return;
  it->second->owner = nullptr;
  it->second->client.abort();
  it->second->wake.cancel();
  sockets_.erase(it);
}

// The socket failed to connect, closed or went silent: the multiplexer moves its channels' owners
// on (each session fails over as from a lost connection of its own).
void NodeMux::socket_lost(Socket& socket) {
  socket.owner = nullptr;
  socket.client.abort();
  socket.wake.cancel();
  sockets_.erase(socket.id);
  core_.advance(mux::Clock::now());
  core_.socket_lost(socket.id);
  process();
}

asio::awaitable<void> NodeMux::run_socket(std::shared_ptr<Socket> socket) {
  {
    NodeMux& self = *socket->owner;
    auto ec = co_await socket->client.connect(self.hub_.url(self.node_), self.hub_.socket_options());
    if (!socket->owner) co_return;
    if (ec) {
      log::warn("websocket upstream connect failed",
                {{"node", self.hub_.nodes()[self.node_].name}, {"error", ec.message()}});
      self.socket_lost(*socket);
      co_return;
    }
    socket->open = true;
    asio::co_spawn(self.hub_.executor(), write_socket(socket), log::report_exception("websocket upstream writer"));
    self.core_.advance(mux::Clock::now());
    self.core_.socket_open(socket->id);
    self.process();
  }
  for (;;) {
    auto [ec, text] = co_await socket->client.read();
    NodeMux* self = socket->owner;
    if (!self) co_return;
    if (ec) {
      log::warn("websocket upstream lost", {{"node", self->hub_.nodes()[self->node_].name}, {"error", ec.message()}});
      self->socket_lost(*socket);
      co_return;
    }
    self->core_.advance(mux::Clock::now());
    self->core_.socket_text(socket->id, text);
    self->process();
  }
}

asio::awaitable<void> NodeMux::write_socket(std::shared_ptr<Socket> socket) {
  while (socket->owner) {
    if (socket->outbox.empty()) {
      co_await socket->wake.async_wait(use_tuple);
      continue;
    }
    std::string text = std::move(socket->outbox.front());
    socket->outbox.pop_front();
    if (auto ec = co_await socket->client.write(text)) {
      socket->client.abort();  // the reader sees the failure and reports the loss
      co_return;
    }
  }
}

void NodeMux::publish_metrics() {
  auto& metrics = hub_.metrics();
  const std::string& name = hub_.nodes()[node_].name;
  std::size_t connections = 0;
  for (const auto& [id, socket] : sockets_) connections += socket->open ? 1 : 0;
  // Every thread's hub has a multiplexer per node: each adds what changed of its own share.
  if (connections != reported_connections_) {
    metrics.ws_upstream_connections.with({name}).add(static_cast<double>(connections) -
                                                      static_cast<double>(reported_connections_));
    reported_connections_ = connections;
  }
  if (core_.subscriptions() != reported_subscriptions_) {
    metrics.ws_upstream_subscriptions.with({name}).add(static_cast<double>(core_.subscriptions()) -
                                                        static_cast<double>(reported_subscriptions_));
    reported_subscriptions_ = core_.subscriptions();
  }
  for (std::size_t kind = 0; kind < reported_subscribers_.size(); ++kind) {
    std::size_t now = core_.subscribers(static_cast<gapless::Kind>(kind));
    if (now == reported_subscribers_[kind]) continue;
    metrics.ws_shared_subscribers.with({gapless::kind_label(static_cast<gapless::Kind>(kind))})
        .add(static_cast<double>(now) - static_cast<double>(reported_subscribers_[kind]));
    reported_subscribers_[kind] = now;
  }
  if (core_.counters().single_flight_sent > reported_fetches_) {
    metrics.ws_backfill_requests_total.with({name}).inc(core_.counters().single_flight_sent - reported_fetches_);
    reported_fetches_ = core_.counters().single_flight_sent;
  }
  if (core_.counters().fetches_cached > reported_cache_hits_) {
    metrics.ws_backfill_cache_hits_total.with({name}).inc(core_.counters().fetches_cached - reported_cache_hits_);
    reported_cache_hits_ = core_.counters().fetches_cached;
  }
}

}  // namespace vixy::ws
