#include "fakenodes/el_rpc.hpp"

#include <algorithm>

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

json logs_of(const Chain& chain, std::uint64_t head, const json& params) {
  const json& filter_json = param(params, 0);
  auto filter = parse_log_filter(filter_json);
  if (!filter) throw RpcError{jsonrpc::kInvalidParams, filter.problem()};
  auto range = resolve_log_range(filter_json, head, chain, kMaxLogRange);
  if (range.error_code != 0) throw RpcError{range.error_code, range.error};
  json logs = json::array();
  if (!range.range) return logs;
  for (std::uint64_t h = range.range->from; h <= range.range->to; ++h) {
    for (std::uint64_t i = 0; i < kLogsPerBlock; ++i) {
      // Most of a wide range is usually filtered out: skip those logs before building them.
      if (!may_match(*filter, Chain::log_address(h, i), Chain::log_signature(i))) continue;
      json log = chain.log(Chain::BlockRef{h, range.version}, i);
      if (matches(*filter, log)) logs.push_back(std::move(log));
    }
  }
  return logs;
}

json subscribe(const json& params, const json& id, const SubscriptionScope& scope) {
  if (scope.table == nullptr) throw RpcError{jsonrpc::kMethodNotFound, "notifications not supported"};
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
  std::string subscription_id = scope.mint();
  scope.table->emplace(subscription_id, std::move(subscription));
  return jsonrpc::make_result(id, subscription_id);
}

json call(const ElState& state, const std::string& method, const json& params, const json& id,
          const SubscriptionScope& scope) {
  using jsonrpc::make_result;
  using jsonrpc::to_quantity;
  const Chain& chain = state.chain;
  const std::uint64_t head = state.head;

  if (method == "eth_blockNumber") return make_result(id, to_quantity(head));
  if (method == "eth_chainId") return make_result(id, to_quantity(chain.params().chain_id));
  if (method == "net_version") return make_result(id, std::to_string(chain.params().chain_id));
  if (method == "web3_clientVersion") return make_result(id, std::string(state.version));
  if (method == "eth_syncing") {
    if (!state.syncing) return make_result(id, false);
    std::uint64_t highest = std::max(state.chain_height, head + 1);
    return make_result(id, json{{"startingBlock", to_quantity(head - std::min<std::uint64_t>(head, 100))},
                                {"currentBlock", to_quantity(head)},
                                {"highestBlock", to_quantity(highest)}});
  }
  if (method == "eth_getBlockByNumber") {
    auto height = resolve_block_tag(param(params, 0), head);
    if (!height) throw RpcError{jsonrpc::kInvalidParams, "invalid argument 0: expected a block number or tag"};
    bool full = bool_param(params, 1);
    if (*height > head) return make_result(id, nullptr);
    return make_result(id, chain.block(*height, full));
  }
  if (method == "eth_getBlockByHash") {
    const auto& hash = string_param(params, 0, "block hash");
    bool full = bool_param(params, 1);
    // A block a reorg replaced is still found by its hash, as geth finds side-chain blocks.
    auto block = chain.find_block(hash);
    if (!block || block->height > head) return make_result(id, nullptr);
    return make_result(id, chain.block(*block, full));
  }
  if (method == "eth_getLogs") return make_result(id, logs_of(chain, head, params));
  if (method == "eth_getBalance") return make_result(id, chain.balance(string_param(params, 0, "address")));
  if (method == "eth_subscribe") return subscribe(params, id, scope);
  if (method == "eth_unsubscribe") {
    if (scope.table == nullptr) throw RpcError{jsonrpc::kMethodNotFound, "notifications not supported"};
    return make_result(id, scope.table->erase(string_param(params, 0, "subscription id")) > 0);
  }
  throw RpcError{jsonrpc::kMethodNotFound, "the method " + method + " does not exist/is not available"};
}

}  // namespace

json el_reply(const ElState& state, const std::string& method, const json& params, const json& id,
              const SubscriptionScope& scope) {
  try {
    return call(state, method, params, id, scope);
  } catch (const RpcError& error) {
    return jsonrpc::make_error(id, error.code, error.message);
  }
}

BlockEvents block_events(const Chain& chain, std::uint64_t height) {
  return BlockEvents{height, chain.header(height), chain.logs(height), chain.pending_transaction_hashes(height)};
}

ReorgEvents reorg_events(const Chain& chain, std::size_t old_tip, std::uint64_t from, std::uint64_t removed_to,
                         std::uint64_t added_to) {
  ReorgEvents events;
  for (std::uint64_t h = from; h <= removed_to; ++h) {
    for (auto& log : chain.logs(Chain::BlockRef{h, old_tip})) {
      log["removed"] = true;
      events.removed_logs.push_back(std::move(log));
    }
  }
  for (std::uint64_t h = from; h <= added_to; ++h) {
    for (auto& log : chain.logs(h)) events.added_logs.push_back(std::move(log));
  }
  if (added_to >= from) events.new_head = chain.header(added_to);
  return events;
}

void for_each_notification(const SubscriptionTable& subscriptions, const BlockEvents& block,
                           const std::function<void(std::string)>& send) {
  for (const auto& [id, subscription] : subscriptions) {
    switch (subscription.kind) {
      case Subscription::Kind::new_heads:
        send(jsonrpc::make_notification(id, block.header).dump());
        break;
      case Subscription::Kind::logs:
        for (const auto& log : block.logs) {
          if (matches(subscription.filter, log)) send(jsonrpc::make_notification(id, log).dump());
        }
        break;
      case Subscription::Kind::pending_transactions:
        for (const auto& hash : block.pending_transactions) send(jsonrpc::make_notification(id, hash).dump());
        break;
    }
  }
}

void for_each_notification(const SubscriptionTable& subscriptions, const ReorgEvents& reorg,
                           const std::function<void(std::string)>& send) {
  for (const auto& [id, subscription] : subscriptions) {
    if (subscription.kind == Subscription::Kind::new_heads && reorg.new_head) {
      send(jsonrpc::make_notification(id, *reorg.new_head).dump());
    } else if (subscription.kind == Subscription::Kind::logs) {
      for (const auto* logs : {&reorg.removed_logs, &reorg.added_logs}) {
        for (const auto& log : *logs) {
          if (matches(subscription.filter, log)) send(jsonrpc::make_notification(id, log).dump());
        }
      }
    }
  }
}

}  // namespace vixy::fakenodes
