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

#include "fakenodes/filters.hpp"
#include "net/http_server.hpp"

namespace vixy::fakenodes {

class ElNode;

// "0x" + 32 hex digits, unique in this process and (random prefix) across processes.
std::string next_subscription_id();

struct Subscription {
  enum class Kind { new_heads, logs, pending_transactions } kind = Kind::new_heads;
  LogFilter filter;  // logs only
};

// What one new block means to subscribers, computed once per block for every session.
struct BlockEvents {
  std::uint64_t height = 0;
  json header;
  std::vector<json> logs;
  std::vector<std::string> pending_transactions;
};

// What a reorg means to subscribers, in the order geth sends it (core/blockchain.go reorg() and
// SetCanonical(), eth/filters/filter_system.go):
//  * logs: the replaced blocks' logs again with "removed": true, oldest block first (geth's
//    RemovedLogsEvent goes out "in forward order", kept for legacy reasons), then the new blocks'
//    logs, oldest first, the new head's last;
//  * newHeads: only the new head (geth sends ChainEvent for the block that becomes the head, not
//    for the fork blocks below it), so a subscriber sees a head at a height it already saw, whose
//    parent it never saw.
struct ReorgEvents {
  std::vector<json> removed_logs;
  std::vector<json> added_logs;
  std::optional<json> new_head;
};

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

  std::map<std::string, Subscription>& subscriptions() { return subscriptions_; }
  const std::map<std::string, Subscription>& subscriptions() const { return subscriptions_; }

 private:
  std::deque<std::string> outbox_;
  boost::asio::steady_timer wake_;  // never expires; cancelled when there is something to do
  std::map<std::string, Subscription> subscriptions_;
  bool closed_ = false;
};

// Takes over an upgrade request and runs the WebSocket JSON-RPC session until either side ends it.
boost::asio::awaitable<void> serve_websocket(std::shared_ptr<ElNode> node, net::HttpConnection& connection,
                                             net::Request& request);

}  // namespace vixy::fakenodes
