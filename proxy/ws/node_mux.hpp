#pragma once
// The Asio adapter around one node's Multiplexer: it owns that node's few pooled WebSockets, feeds
// their events into the multiplexer and carries out its actions. Sessions use it in place of a
// socket of their own: a session's upstream connection becomes a channel here, and the channel's
// events reach the session (a ChannelOwner) exactly as a dedicated socket's would, so SessionCore
// decides everything a client sees as before (see ws/multiplexer.hpp for why I1–I7 hold per
// session). Like the multiplexer it makes no decisions; it adds only I/O.
//
// A session that stops reading does not stall a shared socket: what reaches it is queued in its
// own bounded outbox (Session::queue_for_client), and the socket's reader never waits for it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "ws/multiplexer.hpp"
#include "ws/session_core.hpp"

namespace vixy::ws {

class Hub;

// The session side of a channel: the events of its upstream connection `connection`.
class ChannelOwner {
 public:
  virtual void channel_up(ConnectionId connection) = 0;
  virtual void channel_text(ConnectionId connection, std::string_view text) = 0;
  // A notification for the channel's subscription `alias` (what channel_text would carry with that
  // id spliced in), read once for every channel it goes to.
  virtual void channel_notification(ConnectionId connection, const Notification& note, std::string_view alias) = 0;
  virtual void channel_down(ConnectionId connection) = 0;  // the channel is forgotten; close() not needed

 protected:
  ~ChannelOwner() = default;
};

class NodeMux {
 public:
  NodeMux(Hub& hub, std::size_t node, mux::Settings settings);
  ~NodeMux();
  NodeMux(const NodeMux&) = delete;
  NodeMux& operator=(const NodeMux&) = delete;

  // `channel` must be new (Hub::next_channel); its events go to `owner` under `connection` until
  // channel_down or close().
  void open(mux::ChannelId channel, ChannelOwner& owner, ConnectionId connection);
  void send(mux::ChannelId channel, std::string_view text, bool backfill);  // see Multiplexer::send
  void close(mux::ChannelId channel);

  const mux::Multiplexer& state() const { return core_; }

 private:
  struct Socket;
  struct Owner {
    ChannelOwner* owner;
    ConnectionId connection;
  };

  static boost::asio::awaitable<void> run_socket(std::shared_ptr<Socket> socket);
  static boost::asio::awaitable<void> write_socket(std::shared_ptr<Socket> socket);
  void process();  // carries out the multiplexer's actions until there are none
  void open_socket(mux::SocketId id);
  void close_socket(mux::SocketId id);
  void socket_lost(Socket& socket);
  void publish_metrics();

  Hub& hub_;
  std::size_t node_;
  mux::Multiplexer core_;
  std::map<mux::SocketId, std::shared_ptr<Socket>> sockets_;
  std::map<mux::ChannelId, Owner> owners_;
  bool processing_ = false;

  // What has been reported to the process-wide metrics so far.
  std::size_t reported_connections_ = 0;
  std::size_t reported_subscriptions_ = 0;
  std::array<std::size_t, gapless::kCountedKinds + 1> reported_subscribers_{};
  std::uint64_t reported_fetches_ = 0;
  std::uint64_t reported_cache_hits_ = 0;
};

}  // namespace vixy::ws
