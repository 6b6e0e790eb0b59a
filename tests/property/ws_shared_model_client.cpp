// The test clients of ws_shared_model.hpp: what they send, the checks on everything they receive
// (I1–I3, I7 as far as one chain without reorgs shows it), and the end of a sequence.
#include <algorithm>

#include "ws_shared_model.hpp"

namespace vixy::ws::shared_model {

using model::hex_quantity;
using model::parse_quantity;

// Ids collide on purpose: within a session (reuse, the same small numbers) and across sessions
// (every session uses "1", "x", null); the odd spellings must come back byte for byte.
std::string Cluster::fresh_id(Client& client, unsigned style, std::uint64_t seq) {
  switch (style % 8) {
    case 1: return std::to_string(1 + (style / 8) % 3);
    case 2: return "\"r-" + std::to_string(seq) + "\"";
    case 3: return "null";
    case 4: {
      if (client.used_ids.empty()) break;
      const auto& id = client.used_ids[(style / 8) % client.used_ids.size()];
      const bool unique = std::any_of(client.expects.begin(), client.expects.end(), [&](const Expect& e) {
        return e.id == id && e.kind != ExpectKind::plain;
      });
      if (!unique) return id;
      break;
    }
    case 5: return "\"x\"";
    case 6: return "123456789012345678901234567890";
    case 7: return "7e0";
    default: break;
  }
  return std::to_string(seq);
}

void Cluster::send_request(std::size_t session, Expect expect, const std::string& text) {
  auto& client = clients_[session];
  if (std::find(client.used_ids.begin(), client.used_ids.end(), expect.id) == client.used_ids.end()) {
    client.used_ids.push_back(expect.id);
  }
  expect.sent = now_;
  client.expects.push_back(std::move(expect));
  client.core->client_text(text, now_);
  settle();
}

void Cluster::request(unsigned session, unsigned method, unsigned id_style) {
  const auto i = live_session(session);
  if (i == clients_.size()) return;
  const auto seq = next_seq_++;
  const auto id = fresh_id(clients_[i], id_style, seq);
  const auto name = model::kMethods[method % std::size(model::kMethods)];
  // The seq rides in the params: the node echoes it, so an answer shows whose request it was.
  const auto params = R"([{"seq":)" + std::to_string(seq) + R"(,"s":)" + std::to_string(i) + "}]";
  const auto text = method % 2 == 0
                        ? R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":")" + std::string(name) + R"(","params":)" + params + "}"
                        : R"({"method":")" + std::string(name) + R"(", "params":)" + params + R"(, "id" : )" + id + "}";
  send_request(i, Expect{id, ExpectKind::plain, seq, {}, {}, {}}, text);
}

// Reads every session makes alike, so the multiplexer merges them (and with the cores' own fetches).
void Cluster::read_block(unsigned session, unsigned number) {
  const auto i = live_session(session);
  if (i == clients_.size()) return;
  const auto seq = next_seq_++;
  const auto id = "\"b" + std::to_string(seq) + "\"";
  const bool head = number % 9 == 8;
  const auto target = head ? std::string{} : hex_quantity(number % 9);
  const auto text = head ? R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":"eth_blockNumber","params":[]})"
                         : R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":"eth_getBlockByNumber","params":[")" +
                               target + R"(",false]})";
  send_request(i, Expect{id, ExpectKind::block, seq, target, {}, {}}, text);
}

void Cluster::subscribe(unsigned session, unsigned spec) {
  const auto i = live_session(session);
  if (i == clients_.size()) return;
  const auto seq = next_seq_++;
  const auto id = "\"s" + std::to_string(seq) + "\"";
  const auto& what = sub_specs()[spec % sub_specs().size()];
  const auto text = R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":"eth_subscribe","params":)" + what.params + "}";
  send_request(i, Expect{id, ExpectKind::subscribe, seq, {}, what.kind, {}}, text);
}

// Of a subscription the client holds, one it gave up, another client's (which must stay theirs),
// or an id shaped like what the nodes and the multiplexer hand out upstream.
void Cluster::unsubscribe(unsigned session, unsigned target) {
  const auto i = live_session(session);
  if (i == clients_.size()) return;
  auto& client = clients_[i];
  std::vector<std::string> live, gone, others;
  for (const auto& [tag, sub] : client.subs) (sub.unsubscribe_sent ? gone : live).push_back(sub.id);
  for (std::size_t j = 0; j < clients_.size(); ++j) {
    if (j == i) continue;
    for (const auto& [tag, sub] : clients_[j].subs) others.push_back(sub.id);
  }
  std::string name = target % 2 == 0 ? "0x1" : "0x2";
  bool known = false;
  const auto n = target / 5;
  if (target % 5 < 2 && !live.empty()) {
    name = live[n % live.size()];
    known = true;
  } else if (target % 5 == 2 && !gone.empty()) {
    name = gone[n % gone.size()];
  } else if (target % 5 == 3 && !others.empty()) {
    name = others[n % others.size()];
  }
  if (known) client.subs[client.sub_by_id[name]].unsubscribe_sent = true;
  const auto seq = next_seq_++;
  const auto id = "\"u" + std::to_string(seq) + "\"";
  const auto text = R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":"eth_unsubscribe","params":[")" + name + "\"]}";
  send_request(i, Expect{id, known ? ExpectKind::unsubscribe_known : ExpectKind::unsubscribe_unknown, seq, name, {}, {}},
               text);
}

// The client closes its socket: the adapter closes the session's channels and drops the core.
void Cluster::leave(unsigned session) {
  const auto i = live_session(session);
  if (i == clients_.size()) return;
  close_session(i);
  // Another client connects in its place: the number of clients stays, the churn goes on.
  add_session();
}

void Cluster::add_session() {
  // The salt is what keeps minted subscription ids apart across sessions.
  clients_.emplace_back();
  clients_.back().core = std::make_unique<SessionCore>(nodes(), settings_, 1000 + clients_.size());
  clients_.back().core->start(candidates_, now_);
  settle();
}

void Cluster::close_session(std::size_t i) {
  clients_[i].gone = true;
  for (auto it = channel_of_.begin(); it != channel_of_.end();) {
    if (it->first.first != i) {
      ++it;
      continue;
    }
    const ChannelId channel = it->second;
    const auto node = channels_.at(channel).node;
    channels_.erase(channel);
    it = channel_of_.erase(it);
    muxes_[node].close(channel);
  }
  clients_[i].core.reset();
  settle();
}

// ---- receiving ----

void Cluster::on_client(std::size_t session, const std::string& text) {
  const auto doc = json::parse(text, nullptr, false);
  if (!doc.is_object()) return fail("client " + std::to_string(session) + " got something that is not an object: " + text);
  if (doc.contains("method")) return on_client_notification(session, doc);
  on_client_answer(session, text, doc);
}

void Cluster::on_client_answer(std::size_t session, const std::string& text, const json& message) {
  auto& client = clients_[session];
  const auto who = "client " + std::to_string(session) + ": ";
  const auto id = model::raw_id(text);
  if (!id) return fail(who + "an answer without an id: " + text);
  const bool error = message.contains("error");
  if (error == message.contains("result")) return fail(who + "an answer needs one of result and error: " + text);
  const auto& result = error ? json() : message["result"];
  const auto unique = std::find_if(client.expects.begin(), client.expects.end(),
                                   [&](const Expect& e) { return e.id == *id && e.kind != ExpectKind::plain; });
  if (unique != client.expects.end()) {
    const Expect expect = *unique;
    client.expects.erase(unique);
    switch (expect.kind) {
      case ExpectKind::subscribe:
        if (error) {
          // A subscribe that timed out (or was cut off) may still be made on the node; one refused
          // for a limit (-32005) never left the proxy.
          client.may_orphan = client.may_orphan || message["error"].value("code", 0) != -32005;
          return;
        }
        if (!model::minted_shape(result) || !minted_.insert(result.get<std::string>()).second) {
          return fail(who + "I3: a subscription id that is not fresh and proxy-minted, or another client's: " + text);
        }
        client.subs[expect.seq].kind = expect.sub;
        client.subs[expect.seq].id = result.get<std::string>();
        client.sub_by_id[result.get<std::string>()] = expect.seq;
        return;
      case ExpectKind::unsubscribe_known:
        if (result != json(true)) return fail(who + "the unsubscribe of a held subscription is not answered true: " + text);
        client.subs[client.sub_by_id[expect.target]].unsubscribe_answered = true;
        return;
      case ExpectKind::unsubscribe_unknown:
        if (!error) return fail(who + "the unsubscribe of " + expect.target + ", not the client's, did not fail: " + text);
        return;
      case ExpectKind::block: {
        if (error || result.is_null()) return;
        const auto head = chain_.canonical().size() - 1;
        const bool fits = expect.target.empty()
                              ? parse_quantity(result).value_or(head + 1) <= head
                              : result.is_object() && result.value("number", "") == expect.target &&
                                    result.value("hash", "") == chain_.canonical()[*parse_quantity(json(expect.target))];
        if (!fits) fail(who + "I1: a read answered with another read's result: " + text);
        return;
      }
      case ExpectKind::plain: return;
    }
  }
  const auto count = [&] {
    return static_cast<std::size_t>(std::count_if(client.expects.begin(), client.expects.end(),
                                                  [&](const Expect& e) { return e.id == *id; }));
  };
  if (count() == 0) return fail(who + "I2: an answer to no open request: " + text);
  if (error) {
    ++client.credits[*id];
  } else {
    const auto seq = result.is_object() ? result.value("seq", std::uint64_t{0}) : 0;
    const auto it = std::find_if(client.expects.begin(), client.expects.end(),
                                 [&](const Expect& e) { return e.id == *id && e.seq == seq && seq != 0; });
    if (it == client.expects.end()) return fail(who + "I1: an answer under " + *id + " carries another request's result: " + text);
    client.expects.erase(it);
  }
  // Errors can belong to any request with that id; there are never more answers than requests.
  if (client.credits[*id] > count()) fail(who + "I1: a second answer for a request with id " + *id + ": " + text);
}

void Cluster::on_client_notification(std::size_t session, const json& message) {
  auto& client = clients_[session];
  const auto who = "client " + std::to_string(session) + ": ";
  if (message.value("method", std::string{}) != "eth_subscription") return fail(who + "got a request: " + message.dump());
  const auto& params = message["params"];
  const auto found = client.sub_by_id.find(params.value("subscription", std::string{}));
  if (found == client.sub_by_id.end()) return fail(who + "I3: a notification under an id it was never given: " + message.dump());
  auto& sub = client.subs[found->second];
  if (sub.unsubscribe_answered) return fail(who + "I3: a notification after the unsubscribe was answered: " + message.dump());
  sub.got = true;
  const auto& result = params["result"];
  switch (sub.kind) {
    case SubKind::heads: {
      const auto number = parse_quantity(result.value("number", json()));
      if (!number || *number >= chain_.canonical().size() || chain_.canonical()[*number] != result.value("hash", "")) {
        return fail(who + "I3: a newHeads notification that is no head of the chain: " + message.dump());
      }
      // One chain, no reorgs: heads come one height at a time, a jump only where the core counted a
      // gap it could not fill (beyond backfill_depth, a failed fetch) in this very step.
      const bool gap_counted = client.core->counters().gapless[0].gaps > client.heads_gaps;
      if (sub.last_height && (*number <= *sub.last_height || (*number != *sub.last_height + 1 && !gap_counted))) {
        fail(who + "I7: head " + std::to_string(*number) + " after head " + std::to_string(*sub.last_height) + ": " + message.dump());
      }
      sub.last_height = number;
      return;
    }
    case SubKind::logs:
      if (!result.is_object() || result.value("address", "") != model::Chain::addresses()[0] ||
          result.value("removed", false)) {
        return fail(who + "I3: a logs notification that the filter does not ask for: " + message.dump());
      }
      if (!sub.logs.emplace(result.value("blockHash", ""), result.value("logIndex", "")).second) {
        fail(who + "I7: a log delivered twice: " + message.dump());
      }
      return;
    case SubKind::pending:
      if (!result.is_string()) return fail(who + "I3: a pending-transaction notification that is no hash: " + message.dump());
      if (!sub.txs.insert(result.get<std::string>()).second) fail(who + "I2: a notification delivered twice: " + message.dump());
      return;
  }
}

void Cluster::check_expired(std::size_t session) {
  auto& client = clients_[session];
  if (client.gone) return;
  std::map<std::string, std::size_t> expired;
  for (const auto& e : client.expects) {
    if (now_ - e.sent <= kTimeout) continue;
    if (e.kind != ExpectKind::plain) return fail("client " + std::to_string(session) + ": I1: request " + e.id + " outlived request_timeout");
    ++expired[e.id];
  }
  for (const auto& [id, n] : expired) {
    if (n > client.credits[id]) return fail("client " + std::to_string(session) + ": I1: request " + id + " outlived request_timeout");
  }
}

}  // namespace vixy::ws::shared_model
