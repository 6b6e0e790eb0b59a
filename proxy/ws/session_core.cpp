// The client-facing half of the session core: client messages, answers, subscriptions and their
// replay. Connections, failover, failback and time are in session_links.cpp.
#include "ws/session_core.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "jsonrpc/jsonrpc.hpp"
#include "ws/notification.hpp"

namespace vixy::ws {
namespace {

using jsonrpc::json;
namespace raw = jsonrpc::raw;
using raw::splice;
using jsonrpc::error_text;
using jsonrpc::result_text;

}  // namespace

std::uint64_t SessionCore::mix(std::uint64_t x) {  // splitmix64: a bijection
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

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
  // Checked whole first, then read in place: the text goes upstream as it is (with its id
  // spliced), so a tree of it would be built only to be thrown away.
  auto refuse = [&](int code, const std::string& why) { actions_.push_back(SendClient{error_text("null", code, why)}); };
  switch (raw::check(text, settings_.max_json_depth)) {
    case raw::Verdict::not_json:
      refuse(jsonrpc::kParseError, "parse error: not valid JSON");
      return;
    case raw::Verdict::too_deep:
      refuse(jsonrpc::kInvalidRequest, "invalid request: JSON nested deeper than " +
                                           std::to_string(settings_.max_json_depth) + " levels (max_json_depth)");
      return;
    case raw::Verdict::ok:
      break;
  }
  auto count = raw::count_elements(text, settings_.max_batch_size);
  if (!count) {
    handle_message(text, 0, now);
    return;
  }
  if (*count == 0) {
    refuse(jsonrpc::kInvalidRequest, "invalid request: empty batch");
    return;
  }
  if (*count > settings_.max_batch_size) {
    refuse(jsonrpc::kInvalidRequest, "invalid request: batch of more than " +
                                         std::to_string(settings_.max_batch_size) + " requests (max_batch_size)");
    return;
  }
  auto spans = raw::elements(text);
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
  auto view = raw::view_message(text);
  auto valid = jsonrpc::is_valid_request(text, view);
  if (view.id) {
    pending.id_span = view.id;
    std::string_view id = view.id->of(text);
    pending.client_id = jsonrpc::is_id_text(id) ? std::string(id) : "null";
  }
  if (batch != 0 && (view.id || !valid)) {
    auto& slots = batches_[batch];
    pending.batch_slot = slots.slots.size();
    slots.slots.emplace_back();
    ++slots.waiting;
  }
  if (!valid) {
    if (pending.client_id.empty()) pending.client_id = "null";
    answer_error(pending, jsonrpc::kInvalidRequest, "invalid request: " + valid.problem());
    return;
  }
  pending.method = raw::string_value(view.method->of(text)).value_or("");
  if (settings_.methods && !settings_.methods->allows(pending.method)) {
    ++counters_.methods_refused;
    // A notification has no answer to carry the error; the counter records it.
    if (view.id) answer_error(pending, jsonrpc::kMethodNotFound, routing::refused_method_message(pending.method));
    return;
  }
  pending.text = std::string(text);
  pending.repeatable = safe_to_repeat(pending.method);
  if (!view.id) {
    pending.purpose = Purpose::client_notice;
  } else if (pending.method == "eth_subscribe") {
    pending.purpose = Purpose::client_subscribe;
    json params = view.params ? jsonrpc::parse(view.params->of(text), settings_.max_json_depth).value_or(json()) : json();
    pending.subscribed = gapless::classify(params);
  } else if (pending.method == "eth_unsubscribe") {
    std::string_view params = view.params ? view.params->of(text) : std::string_view("[]");
    handle_unsubscribe(std::move(pending), params);
    return;
  }
  admit(std::move(pending));
}

void SessionCore::handle_unsubscribe(Pending pending, std::string_view params_text) {
  // Answered by the proxy: the client's subscription ids exist only here, and the client must get
  // exactly one answer whether or not an upstream is connected right now.
  auto params = jsonrpc::parse(params_text, settings_.max_json_depth).value_or(json());
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
  std::string full;
  if (pending_count_ >= settings_.max_pending_requests) {
    full = "vixy: too many requests pending on this connection (limit " +
           std::to_string(settings_.max_pending_requests) + ")";
  } else if (pending_bytes_ + pending.text.size() > settings_.max_pending_bytes) {
    full = "vixy: too many bytes of requests pending on this connection (limit " +
           std::to_string(settings_.max_pending_bytes) + ")";
  }
  if (!full.empty()) {
    ++counters_.queue_full_errors;
    if (!notice) answer_error(pending, kLimitExceeded, full);
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
  pending_bytes_ += pending.text.size();
  std::uint64_t key = next_key_++;
  pending_.emplace(key, std::move(pending));
  queue_.push_back(key);
  flush_queue();
}

void SessionCore::release_client_slot(const Pending& pending) {
  --pending_count_;
  pending_bytes_ -= pending.text.size();
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
    // A notification gets an id too, so whatever the node answers is recognised and consumed. It
    // goes last: geth's decoder matches names case-insensitively and keeps the last match, so a
    // client's "ID" member must not override it. (The text is an object with a method, not "{}".)
    std::size_t brace = p.text.rfind('}');
    text = p.text.substr(0, brace) + ",\"id\":" + id + p.text.substr(brace);
  }
  actions_.push_back(SendUpstream{connection, std::move(text), p.purpose == Purpose::backfill});
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
  // A node's text reaches the client with only an id replaced, so what is not JSON must not pass.
  // Nodes nest deeper than clients may (call traces), and no tree is made of the whole text here.
  bool is_json = raw::valid(text, std::numeric_limits<std::size_t>::max());
  // One pass finds the id and the method (in a broken text, those before the break).
  auto view = raw::view_message_before_break(text);
  auto id = view.id;
  if (id && view.method) {
    // An id and a method: the node's own request, never an answer. The client's request stays
    // pending for its real answer (or its timeout).
    ++counters_.stray_upstream_messages;
    return;
  }
  if (id) {
    auto key = raw::uint_value(id->of(text));
    auto it = key ? pending_.find(*key) : pending_.end();
    if (it == pending_.end() || it->second.connection != connection) {
      ++counters_.stray_upstream_messages;  // a late answer to a request that timed out, or junk
      return;
    }
    if (!is_json) {
      on_broken_answer(*key, "was not valid JSON");
      return;
    }
    if (!view.result && !view.error) {
      on_broken_answer(*key, "had neither a result nor an error");
      return;
    }
    on_response(connection, *key, text);
    return;
  }
  if (!is_json) {
    ++counters_.invalid_upstream_messages;  // a broken notification: nobody can be told
    return;
  }
  on_notification(connection, text);
}

void SessionCore::on_broken_answer(std::uint64_t key, std::string_view what) {
  ++counters_.invalid_upstream_messages;
  Pending pending = std::move(pending_.at(key));
  pending_.erase(key);
  switch (pending.purpose) {
    case Purpose::client_request:
    case Purpose::client_subscribe:
      release_client_slot(pending);
      answer_error(pending, kProxyError, "vixy: the node's answer to " + pending.method + " " + std::string(what));
      break;
    case Purpose::client_notice:
      release_client_slot(pending);
      break;
    case Purpose::replay:
      // Stays unbound and is tried again, like a replay the node refused.
      if (auto sub = subscriptions_.find(pending.subscription); sub != subscriptions_.end()) {
        sub->second.replay_in_flight = false;
      }
      break;
    case Purpose::backfill:
      abandon_fetches({{pending.subscription, pending.tag}}, false);
      break;
    case Purpose::internal:
      break;
  }
  release_drained();
}

void SessionCore::on_response(ConnectionId connection, std::uint64_t key, std::string_view text) {
  Pending pending = std::move(pending_.at(key));
  pending_.erase(key);
  switch (pending.purpose) {
    case Purpose::client_request: {
      release_client_slot(pending);
      auto id = raw::member(text, "id");
      answer(pending, splice(text, *id, pending.client_id));
      break;
    }
    case Purpose::client_subscribe:
      release_client_slot(pending);
      on_subscribed(connection, pending, text);
      break;
    case Purpose::replay:
      on_replayed(connection, pending, text);
      break;
    case Purpose::client_notice:
      release_client_slot(pending);  // the node answered a notification (vixy gave it an id): nobody to tell
      break;
    case Purpose::backfill: {
      auto sub = subscriptions_.find(pending.subscription);
      if (sub == subscriptions_.end() || !sub->second.stream) break;  // unsubscribed meanwhile
      auto result_span = raw::member(text, "result");
      auto result = result_span ? jsonrpc::parse(result_span->of(text)) : std::nullopt;
      gapless::Effects effects;
      sub->second.stream->fetched(pending.tag, result ? &*result : nullptr, effects);
      apply(pending.subscription, std::move(effects));
      break;
    }
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
  sub.kind = pending.subscribed.kind;
  sub.stream = gapless::make_stream(pending.subscribed, sub.client_id, settings_.backfill_depth);
  subscription_by_client_id_[sub.client_id] = key;
  ++counters_.subscriptions_created;
  bind(key, connection, (*answer_json)["result"].get<std::string>());
  answer(pending, result_text(pending.client_id, json(sub.client_id).dump()));
  if (sub.stream) {
    gapless::Effects effects;
    sub.stream->established(false, effects);
    apply(key, std::move(effects));
  }
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
  if (it->second.stream) {
    gapless::Effects effects;
    it->second.stream->established(true, effects);
    apply(pending.subscription, std::move(effects));
  }
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
  auto target = notified(connection, upstream_id->get_ref<const std::string&>());
  if (!target) return;
  auto& [key, via] = *target;
  const Subscription& sub = subscriptions_.at(key);
  raw::Span absolute{params->begin + sub_span->begin, params->begin + sub_span->end};
  std::string client_text = splice(text, absolute, json(sub.client_id).dump());
  if (!sub.stream) {
    actions_.push_back(SendClient{std::move(client_text)});
    return;
  }
  gapless::Effects effects;
  sub.stream->notification(std::move(client_text), gapless::facts_of(sub.kind, text), via, effects);
  apply(key, std::move(effects));
}

void SessionCore::upstream_notification(ConnectionId connection, const Notification& note,
                                        std::string_view upstream_id, TimePoint now) {
  now_ = now;
  auto link = links_.find(connection);
  if (link == links_.end() || link->second.state != LinkState::open) return;
  ++counters_.upstream_messages;
  auto target = notified(connection, std::string(upstream_id));
  if (!target) return;
  auto& [key, via] = *target;
  const Subscription& sub = subscriptions_.at(key);
  if (!sub.stream) {
    actions_.push_back(SendClient{note.text_for(sub.client_id)});
    return;
  }
  gapless::Effects effects;
  sub.stream->notification(note.text_for(sub.client_id), note.facts(), via, effects);
  apply(key, std::move(effects));
}

std::optional<std::pair<std::uint64_t, gapless::Via>> SessionCore::notified(ConnectionId connection,
                                                                            const std::string& upstream_id) {
  const Link& link = links_.at(connection);
  std::optional<std::uint64_t> key;
  bool retired = false;
  if (auto found = link.subscriptions.find(upstream_id); found != link.subscriptions.end()) {
    key = found->second;
  } else if (auto old = link.retired.find(upstream_id); old != link.retired.end()) {
    key = old->second;
    retired = true;
  }
  auto sub = key ? subscriptions_.find(*key) : subscriptions_.end();
  if (sub == subscriptions_.end() || (!retired && sub->second.connection != connection) ||
      (retired && !sub->second.stream)) {
    ++counters_.stray_upstream_messages;
    return std::nullopt;
  }
  bool first = connection == sub->second.first_connection && upstream_id == sub->second.first_upstream_id;
  return std::pair{*key, gapless::Via{retired, first}};
}

void SessionCore::apply(std::uint64_t subscription, gapless::Effects effects) {
  auto sub = subscriptions_.find(subscription);
  if (sub == subscriptions_.end()) return;
  if (sub->second.kind != gapless::Kind::other) {
    auto& counts = counters_.gapless[static_cast<std::size_t>(sub->second.kind)];
    counts.backfilled += effects.backfilled;
    counts.duplicates += effects.duplicates;
    counts.gaps += effects.gaps;
  }
  for (std::string& text : effects.deliver) actions_.push_back(SendClient{std::move(text)});
  if (effects.fetch.empty()) return;
  auto link = links_.find(sub->second.connection);
  if (link != links_.end() && link->second.state == LinkState::open) {
    for (gapless::Fetch& fetch : effects.fetch) {
      send_internal(Purpose::backfill, link->first, fetch.method, std::move(fetch.params), subscription, fetch.tag);
    }
    return;
  }
  std::vector<std::pair<std::uint64_t, std::uint64_t>> unsendable;
  for (const gapless::Fetch& fetch : effects.fetch) unsendable.emplace_back(subscription, fetch.tag);
  abandon_fetches(unsendable, true);
}

void SessionCore::abandon_fetches(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& fetches, bool lost) {
  for (auto [subscription, tag] : fetches) {
    auto sub = subscriptions_.find(subscription);
    if (sub == subscriptions_.end() || !sub->second.stream) continue;
    gapless::Effects effects;
    sub->second.stream->abandoned(tag, lost, effects);
    apply(subscription, std::move(effects));
  }
}

void SessionCore::unsubscribe_upstream(ConnectionId connection, const std::string& upstream_id) {
  send_internal(Purpose::internal, connection, "eth_unsubscribe", json::array({upstream_id}));
}

void SessionCore::send_internal(Purpose purpose, ConnectionId connection, const std::string& method, json params,
                                std::uint64_t subscription, std::uint64_t tag) {
  Pending internal;
  internal.purpose = purpose;
  internal.method = method;
  internal.deadline = now_ + settings_.request_timeout;
  internal.text = jsonrpc::make_request(nullptr, method, std::move(params)).dump();
  internal.id_span = raw::member(internal.text, "id");
  internal.subscription = subscription;
  internal.tag = tag;
  std::uint64_t key = next_key_++;
  pending_.emplace(key, std::move(internal));
  send(key, connection);
}

void SessionCore::bind(std::uint64_t subscription, ConnectionId connection, std::string upstream_id) {
  Subscription& sub = subscriptions_.at(subscription);
  if (sub.stream && sub.connection != 0 && sub.connection != connection) {
    auto old = links_.find(sub.connection);
    if (old != links_.end()) old->second.retired[sub.upstream_id] = subscription;
  }
  unbind(subscription);
  if (sub.first_connection == 0) {
    sub.first_connection = connection;
    sub.first_upstream_id = upstream_id;
  }
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

std::string SessionCore::mint_subscription_id() {
  std::uint64_t high = mix(salt_ + ++minted_);
  std::uint64_t low = mix(high ^ salt_);
  char buffer[35];
  std::snprintf(buffer, sizeof buffer, "0x%016llx%016llx", static_cast<unsigned long long>(high),
                static_cast<unsigned long long>(low));
  return buffer;
}

}  // namespace vixy::ws
