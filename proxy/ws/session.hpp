#pragma once
// The Asio/Beast adapter around one SessionCore: it moves client and upstream frames into the
// core as events, carries out the core's actions, and arms one timer at the core's next deadline.
// It makes no decisions of its own; everything a client can observe is decided by the core.

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/http_server.hpp"
#include "net/ws_client.hpp"
#include "ws/session_core.hpp"

namespace vixy::ws {

class Hub;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Hub& hub, net::HttpConnection& connection, std::uint64_t salt);
  ~Session();

  // Runs until the client is gone; every upstream is closed when it returns.
  boost::asio::awaitable<void> run(net::Request& request);
  void health_changed(const std::vector<std::size_t>& candidates);
  void close_client(std::uint16_t code, std::string reason);

 private:
  struct Link;
  struct Client;

  boost::asio::awaitable<void> read_client();
  boost::asio::awaitable<void> write_client();
  boost::asio::awaitable<void> watch_client_writes();
  boost::asio::awaitable<void> run_timer();
  static boost::asio::awaitable<void> run_link(std::shared_ptr<Session> self, std::shared_ptr<Link> link);
  static boost::asio::awaitable<void> write_link(std::shared_ptr<Session> self, std::shared_ptr<Link> link);

  void process();  // carries out the core's actions until there are none
  void queue_for_client(std::string text);  // closes the client instead when it reads too slowly
  void open_link(ConnectionId connection, std::size_t node);
  void drop_link(ConnectionId connection);
  void publish_metrics();
  void rearm();
  void finish();

  Hub& hub_;
  net::HttpConnection& connection_;
  std::unique_ptr<Client> client_;
  SessionCore core_;
  std::map<ConnectionId, std::shared_ptr<Link>> links_;
  boost::asio::steady_timer timer_;
  TimePoint armed_ = TimePoint::max();
  bool processing_ = false;
  bool closed_ = false;

  // What has been reported to the process-wide metrics so far.
  SessionCounters reported_;
  std::size_t reported_subscriptions_ = 0;
  std::size_t reported_queue_ = 0;
  std::optional<std::size_t> reported_node_;
};

}  // namespace vixy::ws
