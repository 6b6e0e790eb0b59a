#pragma once
// The fake execution-layer node: JSON-RPC over HTTP POST (any path) and WebSocket (upgrade on any
// path) on one port, answering from the deterministic chain and from the admin's overrides.

#include <chrono>
#include <memory>
#include <optional>
#include <unordered_set>

#include "fakenodes/node.hpp"

namespace vixy::fakenodes {

class WsSession;

class ElNode final : public FakeNode {
 public:
  static std::shared_ptr<ElNode> create(asio::any_io_executor executor, NodeOptions options);
  ElNode(asio::any_io_executor executor, NodeOptions options);

  // The answer to a whole message (one request or a batch); nullopt when nothing is to be sent
  // back (notifications only). `session` is the WebSocket it came on, nullptr for HTTP.
  std::optional<json> answer_message(const json& message, WsSession* session);
  // How long the admin wants this message held before it is answered (the longest in a batch).
  std::chrono::milliseconds delay_for(const json& message) const;

  // A WebSocket request waiting out its admin delay counts as in flight in /state, so a test can
  // act (kill the node, say) once it knows the request has arrived.
  void ws_request_started() { ++in_flight_; }
  void ws_request_finished() { --in_flight_; }

  void add_session(WsSession* session) { sessions_.insert(session); }
  void remove_session(WsSession* session) { sessions_.erase(session); }
  void drop_subscriptions() override;
  std::size_t subscription_count() const override;
  std::size_t ws_connection_count() const override { return sessions_.size(); }

 protected:
  asio::awaitable<void> handle(HttpConnection& connection, Request& request) override;
  void on_new_head(std::uint64_t height) override;
  void on_reorg(std::size_t old_tip, std::uint64_t from, std::uint64_t removed_to, std::uint64_t added_to) override;

 private:
  std::optional<json> answer(const json& request, WsSession* session);

  std::unordered_set<WsSession*> sessions_;
};

}  // namespace vixy::fakenodes
