#include "fakenodes/el_node.hpp"

#include <algorithm>
#include <boost/beast/websocket/rfc6455.hpp>

#include "fakenodes/el_ws.hpp"
#include "fakenodes/filters.hpp"
#include "jsonrpc/jsonrpc.hpp"

namespace vixy::fakenodes {
namespace {

constexpr std::uint64_t kMaxLogRange = 10'000;

// A JSON-RPC failure inside a method; turned into an error answer with the request's id.
struct RpcError {
  int code;
  std::string message;
};

const json& param(const json& params, std::size_t index) {
  static const json null;
  return params.is_array() && index < params.size() ? params[index] : null;
}

const std::string& string_param(const json& params, std::size_t index, const char* what) {
  const json& value = param(params, index);
  if (!value.is_string()) throw RpcError{jsonrpc::kInvalidParams, std::string("invalid argument: ") + what};
  return value.get_ref<const std::string&>();
}

bool bool_param(const json& params, std::size_t index) {
  const json& value = param(params, index);
  if (value.is_null()) return false;
  if (!value.is_boolean()) throw RpcError{jsonrpc::kInvalidParams, "invalid argument: expected a boolean"};
  return value.get<bool>();
}

}  // namespace

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
  try {
    return call(method, params == request.end() ? no_params : *params, *id, session);
  } catch (const RpcError& error) {
    return jsonrpc::make_error(*id, error.code, error.message);
  }
}

json ElNode::call(const std::string& method, const json& params, const json& id, WsSession* session) {
  using jsonrpc::make_result;
  using jsonrpc::to_quantity;
  const std::uint64_t head_now = head();

  if (method == "eth_blockNumber") return make_result(id, to_quantity(head_now));
  if (method == "eth_chainId") return make_result(id, to_quantity(chain().params().chain_id));
  if (method == "net_version") return make_result(id, std::to_string(chain().params().chain_id));
  if (method == "web3_clientVersion") return make_result(id, version_string());
  if (method == "eth_syncing") {
    if (!syncing()) return make_result(id, false);
    std::uint64_t highest = std::max(chain_height(), head_now + 1);
    return make_result(id,
                       json{{"startingBlock", to_quantity(head_now - std::min<std::uint64_t>(head_now, 100))},
                            {"currentBlock", to_quantity(head_now)},
                            {"highestBlock", to_quantity(highest)}});
  }
  if (method == "eth_getBlockByNumber") {
    auto height = resolve_block_tag(param(params, 0), head_now);
    if (!height)
      throw RpcError{jsonrpc::kInvalidParams, "invalid argument 0: expected a block number or tag"};
    bool full = bool_param(params, 1);
    if (*height > head_now) return make_result(id, nullptr);
    return make_result(id, chain().block(*height, full));
  }
  if (method == "eth_getBlockByHash") {
    const auto& hash = string_param(params, 0, "block hash");
    bool full = bool_param(params, 1);
    // A block a reorg replaced is still found by its hash, as geth finds side-chain blocks.
    auto block = chain().find_block(hash);
    if (!block || block->height > head_now) return make_result(id, nullptr);
    return make_result(id, chain().block(*block, full));
  }
  if (method == "eth_getLogs") {
    const json& filter_json = param(params, 0);
    auto filter = parse_log_filter(filter_json);
    if (!filter) throw RpcError{jsonrpc::kInvalidParams, filter.problem()};
    auto range = resolve_log_range(filter_json, head_now, chain(), kMaxLogRange);
    if (range.error_code != 0) throw RpcError{range.error_code, range.error};
    json logs = json::array();
    if (range.range) {
      for (std::uint64_t h = range.range->from; h <= range.range->to; ++h) {
        for (std::uint64_t i = 0; i < kLogsPerBlock; ++i) {
          // Most of a wide range is usually filtered out: skip those logs before building them.
          if (!may_match(*filter, Chain::log_address(h, i), Chain::log_signature(i))) continue;
          json log = chain().log(Chain::BlockRef{h, range.version}, i);
          if (matches(*filter, log)) logs.push_back(std::move(log));
        }
      }
    }
    return make_result(id, std::move(logs));
  }
  if (method == "eth_getBalance") return make_result(id, chain().balance(string_param(params, 0, "address")));
  if (method == "eth_subscribe") {
    if (session == nullptr) throw RpcError{jsonrpc::kMethodNotFound, "notifications not supported"};
    const auto& kind = string_param(params, 0, "subscription kind");
    Subscription subscription;
    if (kind == "newHeads") {
      subscription.kind = Subscription::Kind::new_heads;
    } else if (kind == "newPendingTransactions") {
      subscription.kind = Subscription::Kind::pending_transactions;
    } else if (kind == "logs") {
      subscription.kind = Subscription::Kind::logs;
      auto filter = parse_log_filter(param(params, 1));
      if (!filter) throw RpcError{jsonrpc::kInvalidParams, filter.problem()};
      subscription.filter = std::move(*filter);
    } else {
      throw RpcError{jsonrpc::kInvalidParams, "unsupported subscription type " + kind};
    }
    std::string subscription_id = next_subscription_id();
    session->subscriptions().emplace(subscription_id, std::move(subscription));
    return make_result(id, subscription_id);
  }
  if (method == "eth_unsubscribe") {
    if (session == nullptr) throw RpcError{jsonrpc::kMethodNotFound, "notifications not supported"};
    return make_result(id, session->subscriptions().erase(string_param(params, 0, "subscription id")) > 0);
  }
  throw RpcError{jsonrpc::kMethodNotFound, "the method " + method + " does not exist/is not available"};
}

void ElNode::on_new_head(std::uint64_t height) {
  if (silent() || sessions_.empty()) return;
  BlockEvents block{height, chain().header(height), chain().logs(height),
                    chain().pending_transaction_hashes(height)};
  for (WsSession* session : sessions_) session->publish(block);
}

void ElNode::on_reorg(std::size_t old_tip, std::uint64_t from, std::uint64_t removed_to, std::uint64_t added_to) {
  if (silent() || sessions_.empty()) return;
  ReorgEvents events;
  for (std::uint64_t h = from; h <= removed_to; ++h) {
    for (auto& log : chain().logs(Chain::BlockRef{h, old_tip})) {
      log["removed"] = true;
      events.removed_logs.push_back(std::move(log));
    }
  }
  for (std::uint64_t h = from; h <= added_to; ++h) {
    for (auto& log : chain().logs(h)) events.added_logs.push_back(std::move(log));
  }
  if (added_to >= from) events.new_head = chain().header(added_to);
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
