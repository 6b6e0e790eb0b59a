#pragma once
// The Asio/Beast adapter around one SessionCore: it moves client frames and its upstream
// channels' events into the core, carries out the core's actions, and arms one timer at the core's
// next deadline. The core's upstream connections are channels on the nodes' shared sockets
// (NodeMux). It makes no decisions of its own; everything a client can observe is decided by the core.

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/http_server.hpp"
#include "routing/rate_limit.hpp"
#include "ws/node_mux.hpp"
#include "ws/session_core.hpp"

namespace vixy::ws {

class Hub;

class Session final : public ChannelOwner {
 public:
  Session(Hub& hub, net::HttpConnection& connection, std::uint64_t salt);
  ~Session();

  // Runs until the client is gone; every upstream and the client connection are closed when it
  // returns. `self` is this session: the coroutine owns it, so no other frame is held around it.
  boost::asio::awaitable<void> run(std::unique_ptr<Session> self, net::Request& request);
  void health_changed(const std::vector<std::size_t>& candidates);
  void nodes_added(const std::vector<NodeInfo>& added) { core_.add_nodes(added); }
  void close_client(std::uint16_t code, std::string reason);

  // ChannelOwner: the events of the core's upstream connections.
  void channel_up(ConnectionId connection) override;
  void channel_text(ConnectionId connection, std::string_view text) override;
  void channel_notification(ConnectionId connection, const Notification& note, std::string_view alias) override;
  void channel_down(ConnectionId connection) override;

 private:
  struct Channel {
    std::size_t node;
    mux::ChannelId id;
  };
  struct Client;

  boost::asio::awaitable<void> read_client();
  // [limits]: whether the client may send this message now; if not, it has been answered -32005.
  bool within_rate(std::string_view text, routing::RateLimiter& limiter);
  // Writes, the closing handshake, the deadline timer and the write watchdog are plain callbacks,
  // started only when there is something to do: an idle session holds no coroutine and no pending
  // operation for them.
  void start_write(std::string text);
  void write_next();
  void start_close();
  void on_timer();
  void watch_write();
  template <typename Body>
  void guarded(Body&& body) noexcept;
  void stop();  // no more events in or out; what is under way ends
  boost::asio::awaitable<void> drain_callbacks();
  void release();  // after the callbacks ran: the client stream and the session's metrics go

  void process();  // carries out the core's actions until there are none
  void queue_for_client(std::string text);  // closes the client instead when it reads too slowly
  void open_link(ConnectionId connection, std::size_t node);
  void drop_link(ConnectionId connection);
  void publish_metrics();
  void rearm();

  Hub& hub_;
  net::HttpConnection& connection_;
  std::unique_ptr<Client> client_;
  SessionCore core_;
  std::map<ConnectionId, Channel> channels_;
  boost::asio::steady_timer timer_;
  TimePoint armed_ = TimePoint::max();
  std::uint64_t rate_key_ = 0;  // the client's address, as [limits] counts it
  std::uint64_t turn_ = 0;      // this session's turn in [routing] round_robin
  std::size_t callbacks_ = 0;  // timer callbacks not yet run: the session outlives them
  bool watching_write_ = false;
  bool processing_ = false;
  bool accepted_ = false;  // the client's handshake has been answered: writes to it may start
  bool closed_ = false;

  // What has been reported to the process-wide metrics so far.
  SessionCounters reported_;
  std::size_t reported_subscriptions_ = 0;
  std::size_t reported_queue_ = 0;
  std::optional<std::size_t> reported_node_;
};

}  // namespace vixy::ws
