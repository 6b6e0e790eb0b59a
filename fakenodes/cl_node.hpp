#pragma once
// The fake consensus-layer (beacon) node: node health, syncing, version, the head header and the
// /eth/v1/events Server-Sent Events stream, plus /vixy-test/echo for proxy forwarding tests. The
// slot follows the same clock as the EL head, with the block time as slot time.

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_set>

#include "fakenodes/node.hpp"

namespace vixy::fakenodes {

class ClNode final : public FakeNode {
 public:
  static std::shared_ptr<ClNode> create(asio::any_io_executor executor, NodeOptions options);
  ClNode(asio::any_io_executor executor, NodeOptions options);

  void drop_subscriptions() override;  // ends every event stream
  std::size_t subscription_count() const override { return event_streams_.size(); }

 protected:
  asio::awaitable<void> handle(HttpConnection& connection, Request& request) override;
  void on_new_head(std::uint64_t slot) override;
  void on_stop() override;

 private:
  // Every endpoint but the event stream (nullopt for that one).
  std::optional<Response> rest_response(const Request& request, std::string_view path) const;
  asio::awaitable<void> serve_events(HttpConnection& connection, Request& request);
  std::string head_event(std::uint64_t slot) const;
  std::string head_header(std::uint64_t slot) const;  // the JSON text, fields in beacon API order

  asio::steady_timer new_slot_;  // never expires; cancelled to wake the event streams
  std::unordered_set<HttpConnection*> event_streams_;
};

}  // namespace vixy::fakenodes
