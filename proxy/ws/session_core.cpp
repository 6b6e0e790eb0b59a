#include "ws/session_core.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "jsonrpc/jsonrpc.hpp"

namespace vixy::ws {
namespace {

using jsonrpc::json;
namespace raw = jsonrpc::raw;

std::string error_text(std::string_view raw_id, int code, std::string_view message) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  out += raw_id;
  out += R"(,"error":)";
  out += json{{"code", code}, {"message", message}}.dump();
  out += '}';
  return out;
}

std::string result_text(std::string_view raw_id, std::string_view raw_result) {
  std::string out = R"({"jsonrpc":"2.0","id":)";
  out += raw_id;
  out += R"(,"result":)";
  out += raw_result;
  out += '}';
  return out;
}

std::string splice(std::string_view text, raw::Span span, std::string_view replacement) {
  std::string out;
  out.reserve(text.size() + replacement.size());
  out.append(text.substr(0, span.begin));
  out.append(replacement);
  out.append(text.substr(span.end));
  return out;
}

std::optional<std::uint64_t> read_key(std::string_view raw_id) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(raw_id.data(), raw_id.data() + raw_id.size(), value);
  if (ec != std::errc() || end != raw_id.data() + raw_id.size()) return std::nullopt;
  return value;
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64: a bijection, so distinct inputs stay distinct
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

bool safe_to_repeat(std::string_view method) {
  static constexpr std::string_view exact[] = {
      "eth_call",          "eth_estimateGas", "eth_blockNumber",     "eth_chainId",
      "eth_gasPrice",      "eth_feeHistory",  "eth_maxPriorityFeePerGas", "eth_syncing",
      "eth_blobBaseFee",   "eth_createAccessList", "eth_protocolVersion", "eth_accounts",
      "eth_sendRawTransaction", "eth_subscribe", "eth_coinbase", "eth_mining", "eth_hashrate"};
  if (std::find(std::begin(exact), std::end(exact), method) != std::end(exact)) return true;
  return method.starts_with("eth_get") || method.starts_with("net_") || method.starts_with("web3_") ||
         method.starts_with("debug_trace");
}

SessionCore::SessionCore(std::vector<NodeInfo> nodes, SessionSettings settings, std::uint64_t salt)
    : nodes_(std::move(nodes)), settings_(settings), salt_(salt), retry_(nodes_.size()) {}

std::vector<Action> SessionCore::take_actions() {
  std::vector<Action> out;
  out.swap(actions_);
  return out;
}

std::optional<std::size_t> SessionCore::active_node() const {
  auto it = links_.find(active_);
  if (it == links_.end() || it->second.state != LinkState::open) return std::nullopt;
  return it->second.node;
}

// ---------------------------------------------------------------------------------------------
// Client side

void SessionCore::client_binary(TimePoint now) {
  now_ = now;
  ++counters_.client_messages;
  actions_.push_back(SendClient{error_text("null", jsonrpc::kInvalidRequest,
                                           "binary frames are not supported: send JSON-RPC in text frames")});
}

void SessionCore::client_text(std::string_view text, TimePoint now) {
  now_ = now;
  ++counters_.client_messages;
  auto document = jsonrpc::parse(text);
  if (!document) {
    actions_.push_back(SendClient{error_text("null", jsonrpc::kParseError, "parse error: not valid JSON")});
    return;
  }
  if (!document->is_array()) {
    handle_message(text, 0, now);
    return;
  }
  auto spans = raw::elements(text);
  if (!spans || spans->empty()) {
    actions_.push_back(SendClient{error_text("null", jsonrpc::kInvalidRequest, "invalid request: empty batch")});
    return;
  }
  std::uint64_t batch = next_batch_++;
  batches_[batch];
  for (const auto& span : *spans) handle_message(span.of(text), batch, now);
  auto it = batches_.find(batch);
  it->second.building = false;
  if (it->second.slots.empty()) {
    batches_.erase(it);  // only notifications: JSON-RPC sends nothing back
  } else if (it->second.waiting == 0) {
    deliver(batch, 0, {});
  }
}

void SessionCore::handle_message(std::string_view text, std::uint64_t batch, TimePoint now) {
  Pending pending;
  pending.batch = batch;
  pending.deadline = now + settings_.request_timeout;
  auto message = jsonrpc::parse(text);
  bool has_id = message && message->is_object() && message->contains("id");
  if (has_id) {
    pending.id_span = raw::member(text, "id");
    pending.client_id = pending.id_span ? std::string(pending.id_span->of(text)) : (*message)["id"].dump();
    const json& id = (*message)["id"];
    if (!id.is_null() && !id.is_number() && !id.is_string()) pending.client_id = "null";
  }
  if (batch != 0 && (has_id || !message || !jsonrpc::is_valid_request(*message))) {
    auto& slots = batches_[batch];
    pending.batch_slot = slots.slots.size();
    slots.slots.emplace_back();
    ++slots.waiting;
  }
  std::string problem;
  if (!message || !jsonrpc::is_valid_request(*message, &problem)) {
    if (pending.client_id.empty()) pending.client_id = "null";
    answer_error(pending, jsonrpc::kInvalidRequest, "invalid request: " + problem);
    return;
  }
  pending.method = (*message)["method"].get<std::string>();
  pending.text = std::string(text);
  pending.repeatable = safe_to_repeat(pending.method);
  if (!has_id) {
    pending.purpose = Purpose::client_notice;
  } else if (pending.method == "eth_subscribe") {
    pending.purpose = Purpose::client_subscribe;
  } else if (pending.method == "eth_unsubscribe") {
    std::string params = message->contains("params") ? (*message)["params"].dump() : "[]";
    handle_unsubscribe(std::move(pending), params);
    return;
  }
  admit(std::move(pending));
}

void SessionCore::handle_unsubscribe(Pending pending, const std::string& params_text) {
  // Answered by the proxy: the client's subscription ids exist only here, and the client must get
  // exactly one answer whether or not an upstream is connected right now.
  auto params = json::parse(params_text, nullptr, false);
  if (!params.is_array() || params.size() != 1 || !params[0].is_string()) {
    answer_error(pending, jsonrpc::kInvalidParams, "invalid params: expected [subscription id]");
    return;
  }
  auto found = subscription_by_client_id_.find(params[0].get<std::string>());
  if (found == subscription_by_client_id_.end()) {
    answer_error(pending, kProxyError, "subscription not found");
    return;
  }
  std::uint64_t key = found->second;
  const Subscription& sub = subscriptions_.at(key);
  if (sub.connection != 0) unsubscribe_upstream(sub.connection, sub.upstream_id);
  unbind(key);
  subscription_by_client_id_.erase(found);
  subscriptions_.erase(key);
  answer(pending, result_text(pending.client_id, "true"));
}

void SessionCore::admit(Pending pending) {
  // Notifications count against the bound too: they wait in the same queue.
  bool notice = pending.purpose == Purpose::client_notice;
  if (pending_count_ >= settings_.max_pending_requests) {
    ++counters_.queue_full_errors;
    if (!notice) {
      answer_error(pending, kLimitExceeded,
                   "vixy: too many requests pending on this connection (limit " +
                       std::to_string(settings_.max_pending_requests) + ")");
    }
    return;  // a notification has no answer to carry the error; the counter records it
  }
  if (pending.purpose == Purpose::client_subscribe) {
    std::size_t subscribing = 0;
    for (const auto& [key, p] : pending_) subscribing += p.purpose == Purpose::client_subscribe;
    if (subscriptions_.size() + subscribing >= settings_.max_subscriptions) {
      answer_error(pending, kLimitExceeded,
                   "vixy: too many subscriptions on this connection (limit " +
                       std::to_string(settings_.max_subscriptions) + ")");
      return;
    }
  }
  ++pending_count_;
  std::uint64_t key = next_key_++;
  pending_.emplace(key, std::move(pending));
  queue_.push_back(key);
  flush_queue();
}

void SessionCore::answer(const Pending& pending, std::string text) {
  deliver(pending.batch, pending.batch_slot, std::move(text));
}

void SessionCore::answer_error(const Pending& pending, int code, std::string_view message) {
  answer(pending, error_text(pending.client_id, code, message));
}

void SessionCore::deliver(std::uint64_t batch, std::size_t slot, std::string text) {
  if (batch == 0) {
    actions_.push_back(SendClient{std::move(text)});
    return;
  }
  auto it = batches_.find(batch);
  if (it == batches_.end()) return;
  Batch& b = it->second;
  if (!text.empty() && slot < b.slots.size() && !b.slots[slot]) {
    b.slots[slot] = std::move(text);
    --b.waiting;
  }
  if (b.building || b.waiting > 0) return;
  std::string out = "[";
  for (std::size_t i = 0; i < b.slots.size(); ++i) {
    if (i > 0) out += ',';
    out += *b.slots[i];
  }
  out += ']';
  batches_.erase(it);
  actions_.push_back(SendClient{std::move(out)});
}

// ---------------------------------------------------------------------------------------------
// Sending upstream

void SessionCore::send(std::uint64_t key, ConnectionId connection) {
  Pending& p = pending_.at(key);
  p.connection = connection;
  std::string id = std::to_string(key);
  std::string text;
  if (p.id_span) {
    text = splice(p.text, *p.id_span, id);
  } else {
    // A notification gets an id too, so whatever the node answers is recognised and consumed.
    std::size_t brace = p.text.find('{');
    text = p.text.substr(0, brace + 1) + "\"id\":" + id + "," + p.text.substr(brace + 1);
  }
  actions_.push_back(SendUpstream{connection, std::move(text)});
}

void SessionCore::flush_queue() {
  auto link = links_.find(active_);
  if (link == links_.end() || link->second.state != LinkState::open) return;
  while (!queue_.empty()) {
    std::uint64_t key = queue_.front();
    queue_.pop_front();
    if (pending_.contains(key)) send(key, active_);
  }
}

// ---------------------------------------------------------------------------------------------
// Upstream side

void SessionCore::upstream_text(ConnectionId connection, std::string_view text, TimePoint now) {
  now_ = now;
  auto link = links_.find(connection);
  if (link == links_.end() || link->second.state != LinkState::open) return;
  ++counters_.upstream_messages;
  if (auto id = raw::member(text, "id")) {
    auto key = read_key(id->of(text));
    auto it = key ? pending_.find(*key) : pending_.end();
    if (it == pending_.end() || it->second.connection != connection) {
      ++counters_.stray_upstream_messages;  // a late answer to a request that timed out, or junk
      return;
    }
    on_response(connection, *key, text);
    return;
  }
  on_notification(connection, text);
}

void SessionCore::on_response(ConnectionId connection, std::uint64_t key, std::string_view text) {
  Pending pending = std::move(pending_.at(key));
  pending_.erase(key);
  switch (pending.purpose) {
    case Purpose::client_request: {
      --pending_count_;
      auto id = raw::member(text, "id");
      answer(pending, splice(text, *id, pending.client_id));
      break;
    }
    case Purpose::client_subscribe:
      --pending_count_;
      on_subscribed(connection, pending, text);
      break;
    case Purpose::replay:
      on_replayed(connection, pending, text);
      break;
    case Purpose::client_notice:
      --pending_count_;  // the node answered a notification (vixy gave it an id): nobody to tell
      break;
    case Purpose::internal:
      break;
  }
  release_drained();
}

void SessionCore::on_subscribed(ConnectionId connection, const Pending& pending, std::string_view text) {
  auto answer_json = jsonrpc::parse(text);
  if (!answer_json || !answer_json->is_object() || !answer_json->contains("result") ||
      !(*answer_json)["result"].is_string()) {
    auto id = raw::member(text, "id");
    answer(pending, splice(text, *id, pending.client_id));
    return;
  }
  std::uint64_t key = next_subscription_++;
  Subscription& sub = subscriptions_[key];
  sub.client_id = mint_subscription_id();
  sub.subscribe_text = pending.text;
  sub.id_span = pending.id_span;
  subscription_by_client_id_[sub.client_id] = key;
  ++counters_.subscriptions_created;
  bind(key, connection, (*answer_json)["result"].get<std::string>());
  answer(pending, result_text(pending.client_id, json(sub.client_id).dump()));
  // Established on an upstream that is being left: re-establish it where traffic now goes.
  if (connection != active_) replay_subscriptions(active_, now_);
}

void SessionCore::on_replayed(ConnectionId connection, const Pending& pending, std::string_view text) {
  auto answer_json = jsonrpc::parse(text);
  bool ok = answer_json && answer_json->is_object() && answer_json->contains("result") &&
            (*answer_json)["result"].is_string();
  auto it = subscriptions_.find(pending.subscription);
  if (it == subscriptions_.end()) {
    // The client unsubscribed while the replay was on its way: undo it on the node.
    if (ok) unsubscribe_upstream(connection, (*answer_json)["result"].get<std::string>());
    return;
  }
  it->second.replay_in_flight = false;
  if (!ok) return;  // stays unbound; tried again on the next upstream
  ++counters_.subscriptions_replayed;
  bind(pending.subscription, connection, (*answer_json)["result"].get<std::string>());
  // Traffic moved on while this replay was on its way (a second switch): follow it, or the
  // subscription stays on the old upstream and keeps it open for good.
  if (connection != active_) replay_subscriptions(active_, now_);
}

void SessionCore::on_notification(ConnectionId connection, std::string_view text) {
  auto params = raw::member(text, "params");
  if (!params) {
    ++counters_.stray_upstream_messages;
    return;
  }
  std::string_view params_text = params->of(text);
  auto sub_span = raw::member(params_text, "subscription");
  auto upstream_id = sub_span ? jsonrpc::parse(sub_span->of(params_text)) : std::nullopt;
  if (!upstream_id || !upstream_id->is_string()) {
    ++counters_.stray_upstream_messages;
    return;
  }
  const Link& link = links_.at(connection);
  auto found = link.subscriptions.find(upstream_id->get<std::string>());
  auto sub = found == link.subscriptions.end() ? subscriptions_.end() : subscriptions_.find(found->second);
  if (sub == subscriptions_.end() || sub->second.connection != connection) {
    ++counters_.stray_upstream_messages;
    return;
  }
  raw::Span absolute{params->begin + sub_span->begin, params->begin + sub_span->end};
  actions_.push_back(SendClient{splice(text, absolute, json(sub->second.client_id).dump())});
}

void SessionCore::unsubscribe_upstream(ConnectionId connection, const std::string& upstream_id) {
  Pending undo;
  undo.purpose = Purpose::internal;
  undo.method = "eth_unsubscribe";
  undo.deadline = now_ + settings_.request_timeout;
  undo.text = jsonrpc::make_request(nullptr, "eth_unsubscribe", json::array({upstream_id})).dump();
  undo.id_span = raw::member(undo.text, "id");
  std::uint64_t key = next_key_++;
  pending_.emplace(key, std::move(undo));
  send(key, connection);
}

void SessionCore::bind(std::uint64_t subscription, ConnectionId connection, std::string upstream_id) {
  unbind(subscription);
  Subscription& sub = subscriptions_.at(subscription);
  sub.connection = connection;
  sub.upstream_id = upstream_id;
  links_.at(connection).subscriptions[std::move(upstream_id)] = subscription;
}

void SessionCore::unbind(std::uint64_t subscription) {
  Subscription& sub = subscriptions_.at(subscription);
  auto link = links_.find(sub.connection);
  if (link != links_.end()) link->second.subscriptions.erase(sub.upstream_id);
  sub.connection = 0;
  sub.upstream_id.clear();
}

void SessionCore::replay_subscriptions(ConnectionId connection, TimePoint now) {
  auto link = links_.find(connection);
  if (link == links_.end() || link->second.state != LinkState::open) return;
  for (auto& [key, sub] : subscriptions_) {
    if (sub.connection == connection || sub.replay_in_flight) continue;
    Pending replay;
    replay.purpose = Purpose::replay;
    replay.method = "eth_subscribe";
    replay.text = sub.subscribe_text;
    replay.id_span = sub.id_span;
    replay.subscription = key;
    replay.deadline = now + settings_.request_timeout;
    sub.replay_in_flight = true;
    std::uint64_t pending_key = next_key_++;
    pending_.emplace(pending_key, std::move(replay));
    send(pending_key, connection);
  }
}

// ---------------------------------------------------------------------------------------------
// Connections

void SessionCore::start(const std::vector<std::size_t>& candidates, TimePoint now) {
  now_ = now;
  candidates_ = candidates;
  connect_best(now);
}

void SessionCore::open_link(std::size_t node, bool planned) {
  ConnectionId connection = next_connection_++;
  links_[connection] = Link{node, LinkState::connecting, {}};
  (planned ? planned_ : active_) = connection;
  actions_.push_back(Connect{connection, node});
}

void SessionCore::connect_best(TimePoint now) {
  switch_checked_ = now;
  if (auto node = pick_node(now, std::nullopt)) open_link(*node, false);
}

void SessionCore::upstream_connected(ConnectionId connection, TimePoint now) {
  now_ = now;
  auto link = links_.find(connection);
  if (link == links_.end() || link->second.state != LinkState::connecting) return;
  link->second.state = LinkState::open;
  ++counters_.connect_attempts_ok;
  retry_[link->second.node] = NodeRetry{};
  if (connection == planned_) {
    // Make before break: the new upstream takes the traffic now; the old one stays until its
    // answers are in and every subscription is re-established on the new one.
    auto old = links_.find(active_);
    if (old != links_.end() && rank(link->second.node) < rank(old->second.node)) ++counters_.failbacks;
    active_ = connection;
    planned_ = 0;
  } else if (connection != active_) {
    return;
  }
  if (had_open_upstream_) ++counters_.reconnections;
  had_open_upstream_ = true;
  replay_subscriptions(connection, now);
  flush_queue();
  release_drained();
  // A better node may have become healthy, or its backoff run out, while this link was
  // connecting (consider_switch waits for an open upstream); the monitor may never report a
  // change for it (a node restarted faster than it noticed), so look now (I6).
  consider_switch(now);
}

void SessionCore::upstream_lost(ConnectionId connection, TimePoint now) {
  now_ = now;
  if (!links_.contains(connection)) return;
  lose(connection, now);
  if (active_ == 0) {
    if (planned_ != 0) {
      active_ = planned_;
      planned_ = 0;
    } else {
      connect_best(now);
    }
  } else {
    // The failback target (or an old upstream) failed: another better node may be healthy, and
    // waiting for the failed one's backoff would retry only it, in candidate order, forever (I6).
    consider_switch(now);
  }
  flush_queue();
}

void SessionCore::lose(ConnectionId connection, TimePoint now) {
  Link& link = links_.at(connection);
  if (link.state == LinkState::connecting) ++counters_.connect_attempts_failed;
  NodeRetry& retry = retry_[link.node];
  ++retry.failures;
  std::chrono::milliseconds backoff = settings_.reconnect_backoff * (1LL << std::min<std::uint32_t>(retry.failures - 1, 16));
  backoff = std::min(backoff, settings_.reconnect_backoff_max);
  // Up to a quarter more, different per session: a thousand sessions that lost the same node
  // must not all knock on it in the same millisecond.
  backoff += backoff * static_cast<std::int64_t>(mix(salt_ + retry.failures) % 256) / 1024;
  retry.not_before = now + backoff;
  // A working upstream that dropped and is the only healthy node is tried again at once: waiting
  // would only hold the client's traffic, and a failed attempt from there on backs off as usual.
  if (link.state == LinkState::open && candidates_ == std::vector<std::size_t>{link.node}) retry.not_before = now;

  for (auto& [key, sub] : subscriptions_) {
    if (sub.connection == connection) {
      sub.connection = 0;
      sub.upstream_id.clear();
    }
  }
  std::vector<std::uint64_t> requeue;
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& p = it->second;
    if (p.connection != connection) {
      ++it;
      continue;
    }
    bool from_client = p.purpose == Purpose::client_request || p.purpose == Purpose::client_subscribe ||
                       p.purpose == Purpose::client_notice;
    if (from_client && p.repeatable) {
      p.connection = 0;
      requeue.push_back(it->first);
      ++counters_.requests_resent;
      ++it;
      continue;
    }
    if (p.purpose == Purpose::client_notice) {
      --pending_count_;  // not safe to repeat, and there is no answer to carry an error
    } else if (from_client) {
      --pending_count_;
      ++counters_.requests_outcome_unknown;
      answer_error(p, kProxyError,
                   "vixy: the upstream connection was lost before " + p.method +
                       " was answered; its outcome is unknown");
    } else if (p.purpose == Purpose::replay) {
      auto sub = subscriptions_.find(p.subscription);
      if (sub != subscriptions_.end()) sub->second.replay_in_flight = false;
    }
    it = pending_.erase(it);
  }
  // Keys grow in client order, so re-sent requests go out before anything the client sent later.
  queue_.insert(queue_.end(), requeue.begin(), requeue.end());
  std::sort(queue_.begin(), queue_.end());

  links_.erase(connection);
  if (connection == active_) active_ = 0;
  if (connection == planned_) planned_ = 0;
  // Subscriptions that lived on the lost link go wherever traffic goes now.
  replay_subscriptions(active_, now);
}

void SessionCore::health_changed(const std::vector<std::size_t>& candidates, TimePoint now) {
  now_ = now;
  for (std::size_t node : candidates) {
    // A node the monitor newly reports healthy has recovered: forget its connect failures, so
    // failback is not held back by a backoff from when it was down (I6).
    if (std::find(candidates_.begin(), candidates_.end(), node) == candidates_.end()) retry_[node] = NodeRetry{};
  }
  candidates_ = candidates;
  consider_switch(now);
}

void SessionCore::consider_switch(TimePoint now) {
  switch_checked_ = now;
  if (active_ == 0) {
    connect_best(now);
    return;
  }
  if (planned_ != 0) return;
  const Link& current = links_.at(active_);
  if (current.state != LinkState::open) return;
  bool current_healthy = std::find(candidates_.begin(), candidates_.end(), current.node) != candidates_.end();
  // A healthy upstream is left only for a better tier; an unhealthy one for any healthy node.
  auto target = pick_node(now, current_healthy ? std::optional<std::size_t>(current.node) : std::nullopt);
  if (target && *target != current.node) open_link(*target, true);
}

void SessionCore::tick(TimePoint now) {
  now_ = now;
  // Keys grow with creation time and every deadline is creation + request_timeout, so the expired
  // entries come first. A replay never expires: it is not the client's request, and giving up on
  // it while its upstream is alive meant sending it again, after which whichever answer came
  // first was dropped as stray and the node's notifications on it were lost to the client. A
  // silent upstream is detected (and lost) by the adapter's keep-alive instead.
  for (auto it = pending_.begin(); it != pending_.end() && it->second.deadline <= now;) {
    if (it->second.purpose == Purpose::replay) {
      ++it;
      continue;
    }
    Pending p = std::move(it->second);
    std::uint64_t key = it->first;
    it = pending_.erase(it);
    auto queued = std::find(queue_.begin(), queue_.end(), key);
    if (queued != queue_.end()) queue_.erase(queued);
    if (p.purpose == Purpose::client_notice) {
      --pending_count_;
    } else if (p.purpose == Purpose::client_request || p.purpose == Purpose::client_subscribe) {
      --pending_count_;
      ++counters_.requests_timed_out;
      answer_error(p, kProxyError,
                   "vixy: request timed out after " + std::to_string(settings_.request_timeout.count()) + " ms");
    }
  }
  consider_switch(now);
  replay_subscriptions(active_, now);
  release_drained();
}

bool SessionCore::in_flight_on(ConnectionId connection) const {
  return std::any_of(pending_.begin(), pending_.end(), [&](const auto& entry) {
    return entry.second.connection == connection && entry.second.purpose != Purpose::internal;
  });
}

void SessionCore::release_drained() {
  for (auto it = links_.begin(); it != links_.end();) {
    ConnectionId connection = it->first;
    bool old = connection != active_ && connection != planned_;
    if (!old || !it->second.subscriptions.empty() || in_flight_on(connection)) {
      ++it;
      continue;
    }
    for (auto p = pending_.begin(); p != pending_.end();) {
      p = p->second.connection == connection ? pending_.erase(p) : std::next(p);
    }
    actions_.push_back(Disconnect{connection});
    it = links_.erase(it);
  }
}

std::size_t SessionCore::rank(std::size_t node) const { return nodes_[node].tier == config::Tier::primary ? 0 : 1; }

std::optional<std::size_t> SessionCore::pick_node(TimePoint now, std::optional<std::size_t> better_than) const {
  for (std::size_t node : candidates_) {
    if (node >= nodes_.size() || retry_[node].not_before > now) continue;
    if (better_than && rank(node) >= rank(*better_than)) continue;
    return node;
  }
  return std::nullopt;
}

std::optional<TimePoint> SessionCore::next_deadline() const {
  std::optional<TimePoint> earliest;
  auto consider = [&](TimePoint t) {
    if (!earliest || t < *earliest) earliest = t;
  };
  auto expiring = std::find_if(pending_.begin(), pending_.end(),
                               [](const auto& entry) { return entry.second.purpose != Purpose::replay; });
  if (expiring != pending_.end()) consider(expiring->second.deadline);
  // A retry is due when a node we would use is only held back by its backoff.
  auto current = links_.find(active_);
  bool waiting_for_any = active_ == 0;
  for (std::size_t node : candidates_) {
    // Due until a switch decision has looked at it: other events may move time past a backoff's
    // end without anyone considering the node again.
    if (node >= nodes_.size() || retry_[node].not_before <= switch_checked_) continue;
    bool better = planned_ == 0 && current != links_.end() && rank(node) < rank(current->second.node);
    if (waiting_for_any || better) consider(retry_[node].not_before);
  }
  return earliest;
}

std::string SessionCore::mint_subscription_id() {
  std::uint64_t high = mix(salt_ + ++minted_);
  std::uint64_t low = mix(high ^ salt_);
  char buffer[35];
  std::snprintf(buffer, sizeof buffer, "0x%016llx%016llx", static_cast<unsigned long long>(high),
                static_cast<unsigned long long>(low));
  return buffer;
}

}  // namespace vixy::ws
