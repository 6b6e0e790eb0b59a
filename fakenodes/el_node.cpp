#include "fakenodes/el_node.hpp"

#include <algorithm>
#include <boost/beast/websocket/rfc6455.hpp>

#include "fakenodes/el_rpc.hpp"
#include "fakenodes/el_ws.hpp"
#include "jsonrpc/jsonrpc.hpp"

namespace vixy::fakenodes {

std::shared_ptr<ElNode> ElNode::create(asio::any_io_executor executor, NodeOptions options) {
  options.kind = NodeKind::el;
  return std::make_shared<ElNode>(std::move(executor), std::move(options));
}

ElNode::ElNode(asio::any_io_executor executor, NodeOptions options)
    : FakeNode(std::move(executor), std::move(options)) {}

asio::awaitable<void> ElNode::handle(HttpConnection& connection, Request& request) {
  // Responses are built outside co_await expressions throughout: GCC 12 may destroy temporaries of
  // a co_await expression twice.
  auto self = std::static_pointer_cast<ElNode>(shared_from_this());
  if (silent()) {
    co_await drain_silently(connection);
    co_return;
  }
  if (!healthy()) {
    Response response = net::make_jsonrpc_error_response(request, http::status::service_unavailable,
                                                            jsonrpc::kServerError, "node is unhealthy");
    co_await connection.respond(std::move(response));
    co_return;
  }
  if (beast::websocket::is_upgrade(request)) {
    co_await serve_websocket(self, connection, request);
    co_return;
  }
  if (request.method() != http::verb::post) {
    Response response = net::make_jsonrpc_error_response(
        request, http::status::method_not_allowed, jsonrpc::kInvalidRequest, "use POST for JSON-RPC");
    response.set(http::field::allow, "POST");
    co_await connection.respond(std::move(response));
    co_return;
  }
  InFlight in_flight(in_flight_);
  std::optional<json> answer;
  if (auto message = jsonrpc::parse(request.body())) {
    std::chrono::milliseconds delay = delay_for(*message);
    co_await sleep(delay);
    answer = answer_message(*message, nullptr);
  } else {
    answer = jsonrpc::make_error(nullptr, jsonrpc::kParseError, "parse error");
  }
  std::string body = answer ? answer->dump() : std::string();
  Response response = net::make_response(request, http::status::ok, std::move(body));
  co_await connection.respond(std::move(response));
}

std::chrono::milliseconds ElNode::delay_for(const json& message) const {
  std::chrono::milliseconds delay{0};
  auto consider = [&](const json& request) {
    if (!request.is_object()) return;
    auto method = request.find("method");
    if (method == request.end() || !method->is_string()) return;
    if (const auto* override = find_override(method->get_ref<const std::string&>())) {
      delay = std::max(delay, override->delay);
    }
  };
  if (message.is_array()) {
    for (const auto& request : message) consider(request);
  } else {
    consider(message);
  }
  return delay;
}

std::optional<json> ElNode::answer_message(const json& message, WsSession* session) {
  if (!message.is_array()) return answer(message, session);
  if (message.empty()) return jsonrpc::make_error(nullptr, jsonrpc::kInvalidRequest, "empty batch");
  json answers = json::array();
  for (const auto& request : message) {
    if (auto one = answer(request, session)) answers.push_back(std::move(*one));
  }
  if (answers.empty()) return std::nullopt;
  return answers;
}

std::optional<json> ElNode::answer(const json& request, WsSession* session) {
  if (auto valid = jsonrpc::is_valid_request(request); !valid) {
    json id = nullptr;
    if (request.is_object()) {
      auto it = request.find("id");
      if (it != request.end() && (it->is_number() || it->is_string())) id = *it;
    }
    return jsonrpc::make_error(id, jsonrpc::kInvalidRequest, valid.problem());
  }
  auto id = request.find("id");
  if (id == request.end()) return std::nullopt;  // a notification: no answer is wanted

  const auto& method = request["method"].get_ref<const std::string&>();
  if (session != nullptr) count_ws_call(method);
  if (const auto* override = find_override(method); override != nullptr && override->error_code) {
    return jsonrpc::make_error(*id, *override->error_code, override->error_message);
  }
  static const json no_params = json::array();
  auto params = request.find("params");
  const std::string version = version_string();
  const ElState state{chain(), head(), chain_height(), syncing(), version};
  SubscriptionScope scope;
  if (session != nullptr) scope = {&session->subscriptions(), next_subscription_id};
  return el_reply(state, method, params == request.end() ? no_params : *params, *id, scope);
}

void ElNode::on_new_head(std::uint64_t height) {
  if (silent() || sessions_.empty()) return;
  const BlockEvents block = block_events(chain(), height);
  for (WsSession* session : sessions_) session->publish(block);
}

void ElNode::on_reorg(std::size_t old_tip, std::uint64_t from, std::uint64_t removed_to, std::uint64_t added_to) {
  if (silent() || sessions_.empty()) return;
  const ReorgEvents events = reorg_events(chain(), old_tip, from, removed_to, added_to);
  for (WsSession* session : sessions_) session->publish(events);
}

void ElNode::drop_subscriptions() {
  for (WsSession* session : sessions_) session->subscriptions().clear();
}

std::size_t ElNode::subscription_count() const {
  std::size_t count = 0;
  for (const WsSession* session : sessions_) count += session->subscriptions().size();
  return count;
}

}  // namespace vixy::fakenodes
