// The model world of ws_model.hpp: the test client's bookkeeping and the fake upstream nodes.
#include "ws_model.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

namespace vixy::ws::model {
namespace {

std::string hex(std::uint64_t value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(value));
  return buffer;
}

}  // namespace

// ---- actions ----

std::vector<Action> World::pump() {
  auto actions = core_.take_actions();
  // I7: a head may skip its parent only in an event in which the core counted a newHeads gap.
  heads_gap_now_ = core_.counters().gapless[0].gaps > gaps_seen_[0];
  // WS_MODEL_TRACE=1 prints every action: with RC_PARAMS="reproduce=…" it shows what the core did.
  static const bool trace = std::getenv("WS_MODEL_TRACE") != nullptr;
  for (const auto& action : actions) {
    if (trace) {
      std::visit([](const auto& a) {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, SendUpstream>) std::fprintf(stderr, "  up[%llu] %s\n", static_cast<unsigned long long>(a.connection), a.text.c_str());
        else if constexpr (std::is_same_v<T, SendClient>) std::fprintf(stderr, "  client %s\n", a.text.c_str());
        else if constexpr (std::is_same_v<T, Connect>) std::fprintf(stderr, "  connect[%llu] node %zu\n", static_cast<unsigned long long>(a.connection), a.node);
        else std::fprintf(stderr, "  disconnect[%llu]\n", static_cast<unsigned long long>(a.connection));
      }, action);
    }
    if (const auto* send = std::get_if<SendUpstream>(&action)) {
      const auto it = conns_.find(send->connection);
      if (it == conns_.end() || it->second.state != ConnState::open) {
        fail("SendUpstream on connection " + std::to_string(send->connection) + " that is not open: " + send->text);
      } else {
        on_upstream(send->connection, send->text);
      }
    } else if (const auto* client = std::get_if<SendClient>(&action)) {
      step_client_.push_back(client->text);
      on_client(client->text);
    } else if (const auto* connect = std::get_if<Connect>(&action)) {
      if (conns_.count(connect->connection) != 0) fail("Connect reuses connection number");
      if (std::find(candidates_.begin(), candidates_.end(), connect->node) == candidates_.end()) {
        fail("Connect to node " + std::to_string(connect->node) + " that is not a healthy candidate");
      }
      conns_[connect->connection].node = connect->node;
    } else if (const auto* disconnect = std::get_if<Disconnect>(&action)) {
      const auto it = conns_.find(disconnect->connection);
      if (it == conns_.end()) {
        fail("Disconnect of an unknown connection");
      } else {
        it->second.state = ConnState::dead;
      }
    }
  }
  if (core_.pending_requests() > settings_.max_pending_requests) {
    fail("I5: pending_requests() " + std::to_string(core_.pending_requests()) + " > max");
  }
  // Queued client notifications take memory too: they count against the same bound.
  if (core_.queued_messages() > settings_.max_pending_requests) {
    fail("I5: queued_messages() " + std::to_string(core_.queued_messages()) + " > max_pending_requests");
  }
  check_gaps();
  return actions;
}

std::optional<ConnectionId> World::active_connection() const {
  const auto node = core_.active_node();
  if (!node) return std::nullopt;
  std::optional<ConnectionId> found;
  for (const auto& [id, conn] : conns_) {
    if (conn.state != ConnState::open || conn.node != *node) continue;
    if (found) return std::nullopt;  // ambiguous: no claim about which one carries traffic
    found = id;
  }
  return found;
}

// ---- the fake upstream nodes ----

void World::on_upstream(ConnectionId connection, const std::string& text) {
  const auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !(doc.is_object() || doc.is_array())) return fail("upstream got invalid JSON: " + text);
  auto& conn = conns_[connection];
  if (doc.is_object()) {
    if (const auto kind = internal_kind(conn, doc)) {
      if (!doc.contains("id") || !doc["id"].is_number_unsigned() || !conn.inbox_ids.insert(doc["id"].get<std::uint64_t>()).second) {
        return fail("I2: an internal fetch without a fresh proxy-owned id: " + text);
      }
      conn.inbox.push_back({doc, now_, kind});
      return;
    }
  }
  bool answerable = false;
  const auto each = [&](const json& request) {
    if (!request.is_object()) return fail("upstream got a batch element that is not an object: " + text);
    answerable = answerable || request.contains("id");
    on_upstream_request(conn, connection, request);
  };
  if (doc.is_array()) {
    for (const auto& request : doc) each(request);
  } else {
    each(doc);
  }
  if (answerable) conn.inbox.push_back({doc, now_, std::nullopt});
}

void World::on_upstream_request(FakeConn& conn, ConnectionId connection, const json& request) {
  const auto method = request.value("method", std::string{});
  if (const auto id = request.find("id"); id != request.end()) {
    if (!id->is_number_unsigned()) return fail("I2: upstream id is not a proxy-owned number: " + request.dump());
    if (!conn.inbox_ids.insert(id->get<std::uint64_t>()).second) {
      return fail("upstream id reused while the first is unanswered: " + request.dump());
    }
  }
  if (method == "eth_unsubscribe") {
    const auto& params = request["params"];
    if (!params.is_array() || params.empty() || !params[0].is_string()) return fail("bad upstream unsubscribe");
    if (conn.subscriptions.count(params[0].get<std::string>()) == 0) {
      return fail("upstream unsubscribe of an id this connection never gave: " + request.dump());
    }
    conn.retiring.insert(params[0].get<std::string>());
    return;
  }
  const auto seq = seq_of(request);
  if (!seq) return fail("upstream got a message the client never sent: " + request.dump());
  if (method == "eth_subscribe" && subs_.count(*seq) != 0) return;  // a replay of a live subscription
  if (!conn.seqs.insert(*seq).second) return fail("client message " + std::to_string(*seq) + " sent twice on one connection");
  auto& where = sent_on_[*seq];
  if (where.empty()) {
    if (*seq <= first_sent_) {
      fail("I4: client message " + std::to_string(*seq) + " reached upstream after message " + std::to_string(first_sent_));
    }
    first_sent_ = std::max(first_sent_, *seq);
  } else {
    if (!repeatable(method)) fail("unsafe " + method + " sent upstream twice: " + request.dump());
    for (const auto earlier : where) {
      if (conns_[earlier].state != ConnState::dead) fail("re-sent while its first upstream is still open: " + request.dump());
    }
  }
  where.push_back(connection);
}

json World::node_answer(FakeConn& conn, const json& request) {
  if (!request.contains("id")) return nullptr;
  conn.inbox_ids.erase(request["id"].get<std::uint64_t>());
  const auto method = request.value("method", std::string{});
  json result;
  if (method == "eth_subscribe") {
    const auto id = hex(conn.next_sub++);
    const auto seq = seq_of(request).value_or(0);
    conn.subscriptions[id] = seq;
    auto& meta = meta_[seq];
    conn.kinds.insert(meta.kind);
    if (!meta.start) meta.start = chain_.head_of(conn.node);
    result = id;
  } else if (method == "eth_unsubscribe") {
    const auto target = request["params"][0].get<std::string>();
    conn.retiring.erase(target);
    result = conn.subscriptions.erase(target) > 0;
  } else {
    result = {{"seq", seq_of(request).value_or(0)}, {"node", conn.node}};
  }
  return {{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", std::move(result)}};
}

void World::answer(unsigned pick, unsigned mode) {
  std::vector<std::pair<ConnectionId, std::size_t>> waiting;
  for (const auto& [id, conn] : conns_) {
    if (conn.state != ConnState::open) continue;
    for (std::size_t i = 0; i < conn.inbox.size(); ++i) waiting.emplace_back(id, i);
  }
  if (waiting.empty()) return;
  const auto [connection, index] = waiting[pick % waiting.size()];
  auto& conn = conns_[connection];
  const Inbox entry = conn.inbox[index];
  conn.inbox.erase(conn.inbox.begin() + static_cast<std::ptrdiff_t>(index));
  const json& request = entry.doc;
  json reply;
  if (entry.internal) {
    if (mode % 8 == 6) {
      conn.swallowed.push_back(entry);
      return;
    }
    reply = internal_answer(conn, request, *entry.internal, mode);
  } else if (request.is_array()) {
    reply = json::array();
    for (const auto& element : request) {
      if (auto one = node_answer(conn, element); !one.is_null()) reply.push_back(std::move(one));
    }
  } else {
    reply = node_answer(conn, request);
  }
  step_client_.clear();
  core_.upstream_text(connection, reply.dump(), now_);
  pump();
}

void World::notify(unsigned pick) {
  std::vector<std::pair<ConnectionId, std::string>> live;
  for (const auto& [id, conn] : conns_) {
    if (conn.state != ConnState::open) continue;
    for (const auto& [sub, tag] : conn.subscriptions) {
      if (conn.retiring.count(sub) == 0 && meta_[tag].kind == SubKind::other) live.emplace_back(id, sub);
    }
  }
  if (live.empty()) return;
  const auto& [connection, sub] = live[pick % live.size()];
  notify_on(connection, sub);
}

// Sends a notification and says whether the client got it. Liveness is demanded where the node
// holds exactly one subscription for the client's (a client subscribe that timed out can leave an
// orphan on the node, whose notifications the core rightly drops).
bool World::notify_on(ConnectionId connection, const std::string& sub) {
  const auto& conn = conns_[connection];
  const auto tag = conn.subscriptions.at(sub);
  const auto copies = std::count_if(conn.subscriptions.begin(), conn.subscriptions.end(), [&](const auto& entry) {
    return entry.second == tag && conn.retiring.count(entry.first) == 0;
  });
  const auto n = next_note_++;
  const json note = {{"jsonrpc", "2.0"},
                     {"method", "eth_subscription"},
                     {"params", {{"subscription", sub}, {"result", {{"tag", tag}, {"n", n}}}}}};
  step_client_.clear();
  core_.upstream_text(connection, note.dump(), now_);
  pump();
  const bool delivered = delivered_.count({tag, n}) != 0;
  const auto it = subs_.find(tag);
  if (copies == 1 && active_connection() == connection && it != subs_.end() && !it->second.unsubscribe_sent &&
      !delivered) {
    fail("I3: notification " + std::to_string(n) + " of subscription " + std::to_string(tag) +
         " from the active upstream did not reach the client");
  }
  return delivered;
}

void World::stray(unsigned which) {
  const auto open = conns_in(ConnState::open);
  if (open.empty()) return;
  static const std::string texts[] = {
      R"({"jsonrpc":"2.0","id":987654321,"result":"0x0"})",
      R"({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0xdead","result":{}}})",
      "not json {",
      R"({"jsonrpc":"2.0","id":"x","result":1})",
  };
  step_client_.clear();
  core_.upstream_text(open[which % open.size()], texts[(which / 8) % std::size(texts)], now_);
  pump();
  if (!step_client_.empty()) fail("I2: a stray upstream message reached the client: " + step_client_.front());
}

void World::connect_outcome(unsigned pick, bool ok) {
  const auto connecting = conns_in(ConnState::connecting);
  if (connecting.empty()) return;
  const auto connection = connecting[pick % connecting.size()];
  auto& conn = conns_[connection];
  step_client_.clear();
  if (ok) {
    conn.state = ConnState::open;
    core_.upstream_connected(connection, now_);
  } else {
    conn.state = ConnState::dead;
    failed_at_[conn.node] = now_;
    core_.upstream_lost(connection, now_);
  }
  pump();
}

void World::lose(unsigned pick) {
  const auto open = conns_in(ConnState::open);
  if (open.empty()) return;
  const auto connection = open[pick % open.size()];
  const bool was_active = active_connection() == connection;
  const bool others = open.size() > 1 || !conns_in(ConnState::connecting).empty();
  auto& conn = conns_[connection];
  conn.state = ConnState::dead;
  failed_at_[conn.node] = now_;
  // A logs stream whose head-at-subscription fetch dies with its connection cannot know where its
  // stream stood (I7): a reason for a gap.
  for (const auto* list : {&conn.inbox, &conn.swallowed}) {
    for (const auto& entry : *list) excuses_[1] += entry.internal == SubKind::logs ? 1 : 0;
  }
  step_client_.clear();
  core_.upstream_lost(connection, now_);
  const auto actions = pump();
  // Fail over at once: a healthy node that has not just failed (or the only one) gets a Connect.
  bool eligible = candidates_ == std::vector<std::size_t>{conn.node};
  for (const auto node : candidates_) eligible = eligible || !recently_failed(node);
  const bool connected = std::any_of(actions.begin(), actions.end(),
                                     [](const Action& a) { return std::holds_alternative<Connect>(a); });
  if (was_active && !others && eligible && !connected) fail("the active upstream was lost and no Connect followed");
}

void World::lose_active() {
  const auto active = active_connection();
  if (!active) return fail("no active upstream to lose");
  const auto open = conns_in(ConnState::open);
  lose(static_cast<unsigned>(std::find(open.begin(), open.end(), *active) - open.begin()));
}

void World::health(unsigned mask) {
  candidates_.clear();
  for (std::size_t node = 0; node < kNodes; ++node) {
    if ((mask >> node) & 1U) candidates_.push_back(node);
  }
  const auto active = core_.active_node();
  const bool connecting = !conns_in(ConnState::connecting).empty();
  const bool on_open_backup = active == std::size_t{2} && active_connection().has_value();
  step_client_.clear();
  core_.health_changed(candidates_, now_);
  const auto actions = pump();
  if (connecting || candidates_.empty() || recently_failed(candidates_.front())) return;
  const auto connect_to = [&](auto wanted) {
    return std::any_of(actions.begin(), actions.end(), [&](const Action& a) {
      return std::holds_alternative<Connect>(a) && wanted(std::get<Connect>(a).node);
    });
  };
  if (on_open_backup && candidates_.front() < 2 && !connect_to([](std::size_t n) { return n < 2; })) {
    fail("failback: a primary is healthy while on the backup, and no Connect to a primary followed");
  }
  if (!active && conns_in(ConnState::open).empty() && !connect_to([](std::size_t) { return true; })) {
    fail("no upstream at all, a healthy candidate appeared, and no Connect followed");
  }
}

void World::advance(milliseconds by) {
  // Like the adapter: tick only at the deadlines the core names, so a deadline it forgets to name
  // shows up as a request that outlived request_timeout.
  const auto target = now_ + by;
  for (int i = 0;; ++i) {
    const auto deadline = core_.next_deadline();
    if (!deadline || *deadline > target) break;
    if (i == 1000) return fail("next_deadline() does not move forward after tick()");
    now_ = std::max(now_, *deadline);
    excuse_timeouts();
    core_.tick(now_);
    pump();
  }
  now_ = target;
  check_expired();
  // I6: on an open backup while a primary is healthy and has not failed for a whole backoff, the
  // core must have started the move back by now (health changes are not the only trigger).
  if (core_.active_node() == std::size_t{2} && active_connection() && conns_in(ConnState::connecting).empty()) {
    for (const auto node : candidates_) {
      if (node < 2 && !recently_failed(node)) {
        return fail("I6: still on the backup while primary " + std::to_string(node) + " is healthy");
      }
    }
  }
}

}  // namespace vixy::ws::model
