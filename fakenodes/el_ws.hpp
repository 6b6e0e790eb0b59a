#pragma once
// The EL node's WebSocket side: one session per connection with its subscriptions and an outgoing
// queue (Beast allows one write at a time per stream, so every message goes through the queue and
// one writer drains it in order), and the fan-out of each new block to the subscriptions.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fakenodes/el_rpc.hpp"
#include "net/http_server.hpp"

namespace vixy::fakenodes {

class ElNode;

// "0x" + 32 hex digits, unique in this process and (random prefix) across processes.
std::string next_subscription_id();

class WsSession {
 public:
  explicit WsSession(boost::asio::any_io_executor executor);

  // Queues a text message; the writer sends queued messages in order.
  void send(std::string text);
  void publish(const BlockEvents& block);
  void publish(const ReorgEvents& reorg);
  void close();  // the connection is over: the writer stops, later sends are dropped
  bool closed() const { return closed_; }
  void discard_queued() { outbox_.clear(); }

  // The writer's side of the queue: the next message, or nullopt when there is none yet.
  std::optional<std::string> next_message();
  // Completes when a message was queued or the session closed (or at once if either is true).
  boost::asio::awaitable<void> wait_for_work();

  SubscriptionTable& subscriptions() { return subscriptions_; }
  const SubscriptionTable& subscriptions() const { return subscriptions_; }

 private:
  std::deque<std::string> outbox_;
  boost::asio::steady_timer wake_;  // never expires; cancelled when there is something to do
  SubscriptionTable subscriptions_;
  bool closed_ = false;
};

// Takes over an upgrade request and runs the WebSocket JSON-RPC session until either side ends it.
boost::asio::awaitable<void> serve_websocket(std::shared_ptr<ElNode> node, net::HttpConnection& connection,
                                             net::Request& request);

}  // namespace vixy::fakenodes
