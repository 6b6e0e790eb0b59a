// The test client of ws_model.hpp: what it sends, and the checks on everything it receives.
#include <algorithm>

#include "ws_model.hpp"

namespace vixy::ws::model {

// ---- sending ----

std::string World::fresh_id(unsigned style, std::uint64_t seq) {
  const auto n = std::to_string(seq);
  switch (style % 10) {
    case 1: {  // reuse an id the client used before (the incident: a request reusing a subscribe's id)
      if (used_ids_.empty()) return n;
      const auto& id = used_ids_[(style / 10) % used_ids_.size()];
      return outstanding_unique(id) ? n : id;
    }
    case 2: return "\"r-" + n + "\"";
    case 3: return "null";
    case 4: return "123456789012345678901234567890";
    case 5: return "-" + n;
    case 6: return n + ".5";
    case 7: return "\"q\\\"" + n + "\\u00e9\"";
    case 8: return n + "e0";
    case 9: return "\"\"";
    default: return n;
  }
}

std::string World::request_text(const std::string& id, std::string_view method, const std::string& params,
                                unsigned layout) const {
  const std::string m = "\"" + std::string(method) + "\"";
  const std::string id_member = id.empty() ? "" : "\"id\":" + id + ",";
  switch (layout % 3) {
    case 1: return "{\"method\":" + m + ",\"params\":" + params + (id.empty() ? "" : ",\"id\":" + id) + "}";
    case 2:
      return "{ \"jsonrpc\" : \"2.0\" ,\n \"params\" : " + params + (id.empty() ? "" : " , \"id\" : " + id) +
             " , \"method\" : " + m + " }";
    default: return "{\"jsonrpc\":\"2.0\"," + id_member + "\"method\":" + m + ",\"params\":" + params + "}";
  }
}

namespace {
std::string seq_params(std::uint64_t seq) { return "[{\"seq\":" + std::to_string(seq) + "}]"; }

bool is_error_for(const std::string& text, const std::string& id, std::optional<int> code) {
  const auto doc = json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.contains("error") || raw_id(text) != id) return false;
  return !code || doc["error"].value("code", 0) == *code;
}
}  // namespace

// Sends one request with an id and checks the bound: beyond max_pending_requests the answer is an
// immediate error (-32005 for plain requests), and -32005 never comes while there is room.
void World::send_request(Expect expect, const std::string& text) {
  const auto pending = core_.pending_requests();
  remember_id(expect.id);
  expects_.push_back(expect);
  step_client_.clear();
  core_.client_text(text, now_);
  pump();
  bool refused = false, overflow = false;
  for (const auto& t : step_client_) {
    if (!is_error_for(t, expect.id, std::nullopt)) continue;
    refused = true;
    overflow = overflow || is_error_for(t, expect.id, -32005);
  }
  // eth_unsubscribe is answered by the proxy itself and takes no room.
  const bool takes_room = expect.kind == Kind::plain || expect.kind == Kind::subscribe;
  if (pending >= settings_.max_pending_requests && takes_room && !refused) {
    fail("I5: request beyond max_pending_requests was not answered with an error at once: " + text);
  }
  // A subscribe may be refused with -32005 for max_subscriptions; a plain request only when full.
  if (pending < settings_.max_pending_requests && overflow && expect.kind == Kind::plain) {
    fail("-32005 while pending requests had room: " + text);
  }
}

void World::request(std::string_view method, unsigned id_style, unsigned layout) {
  const auto seq = next_seq_++;
  const auto id = fresh_id(id_style, seq);
  send_request({id, Kind::plain, seq, {}, now_}, request_text(id, method, seq_params(seq), layout));
}

void World::client_notification(std::string_view method) {
  const auto seq = next_seq_++;
  step_client_.clear();
  core_.client_text(request_text("", method, seq_params(seq), 0), now_);
  pump();
  if (!step_client_.empty()) fail("a client notification got an answer: " + step_client_.front());
}

void World::subscribe(unsigned kind, unsigned layout) {
  const auto seq = next_seq_++;
  const auto id = layout % 2 == 0 ? std::to_string(seq) : "\"sub-" + std::to_string(seq) + "\"";
  // The seq rides in the params (the logs filter) so that the fake nodes recognise replays.
  auto& meta = meta_[seq];
  meta.kind = kind % 3 == 0 ? SubKind::heads : kind % 3 == 1 ? SubKind::logs : SubKind::other;
  meta.filter = {{"seq", seq}};
  if (kind / 3 % 3 == 1) meta.filter["address"] = Chain::addresses()[0];
  if (kind / 3 % 3 == 2) meta.filter["topics"] = json::array({Chain::topics()[1]});
  const char* name = meta.kind == SubKind::heads ? "newHeads" : meta.kind == SubKind::logs ? "logs" : "syncing";
  const auto params = "[\"" + std::string(name) + "\"," + meta.filter.dump() + "]";
  send_request({id, Kind::subscribe, seq, {}, now_}, request_text(id, "eth_subscribe", params, layout / 2));
}

void World::unsubscribe(unsigned target) {
  std::vector<std::string> live, gone;
  for (const auto& [tag, sub] : subs_) (sub.unsubscribe_sent ? gone : live).push_back(sub.id);
  std::string name;
  bool known = false;
  if (target % 4 < 2 && !live.empty()) {
    name = live[(target / 4) % live.size()];
    known = true;
  } else if (target % 4 == 2 && !gone.empty()) {
    name = gone[(target / 4) % gone.size()];
  } else {
    // An upstream's own id is not a client's: "0x1" is what every fake node hands out first.
    name = target % 2 == 0 ? "0x1" : "0x" + std::string(32, 'f');
  }
  if (known) subs_[sub_by_id_[name]].unsubscribe_sent = true;
  const auto seq = next_seq_++;
  const auto id = "\"unsub-" + std::to_string(seq) + "\"";
  send_request({id, known ? Kind::unsubscribe_known : Kind::unsubscribe_unknown, seq, name, now_},
               request_text(id, "eth_unsubscribe", "[\"" + name + "\"]", target));
}

void World::batch(unsigned size, unsigned styles) {
  std::string text = "[";
  BatchExpect expect{{}, now_};
  for (unsigned i = 0; i < size % 5; ++i) {
    const auto seq = next_seq_++;
    const auto kind = (styles >> (2 * i)) & 3U;
    const auto method = kMethods[((styles >> 8) + i) % std::size(kMethods)];
    auto id = kind == 0 ? std::string{} : fresh_id(kind == 1 ? 0 : kind == 2 ? 1 + 10 * i : 3, seq);
    // Ids reused across outstanding batches would make two batches' error answers (a timeout, an
    // unknown outcome) indistinguishable to the checker; within a batch and with single requests
    // they are reused freely.
    const auto taken = [&](const BatchExpect& b) {
      return std::any_of(b.elements.begin(), b.elements.end(), [&](const auto& e) { return e.first == id; });
    };
    if (!id.empty() && std::any_of(batches_.begin(), batches_.end(), taken)) id = std::to_string(seq);
    if (!id.empty()) {
      expect.elements.emplace_back(id, seq);
      remember_id(id);
    }
    text += (i == 0 ? "" : ",") + request_text(id, method, seq_params(seq), i);
  }
  text += "]";
  if (size % 5 == 0) return garbage_like(text, std::nullopt);
  if (!expect.elements.empty()) batches_.push_back(expect);
  step_client_.clear();
  sending_batch_ = !expect.elements.empty();
  core_.client_text(text, now_);
  pump();
  sending_batch_ = false;
}

void World::garbage(unsigned which) {
  static const std::string texts[] = {"{", "not json", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"eth_call\"",
                                      "[1,2", "", "{\"id\":1}}"};
  garbage_like(texts[which % std::size(texts)], -32700);
}

void World::binary() { garbage_like({}, std::nullopt); }

// Text (or a binary frame when `text` is empty and `code` is unset) that is no request: exactly one
// error with a null id, at once.
void World::garbage_like(const std::string& text, std::optional<int> code) {
  expects_.push_back({"null", Kind::plain, 0, {}, now_});
  step_client_.clear();
  if (text.empty() && !code) {
    core_.client_binary(now_);
  } else {
    core_.client_text(text, now_);
  }
  pump();
  if (step_client_.size() != 1 || !is_error_for(step_client_.front(), "null", code)) {
    fail("not one error with id null" + (code ? " and code " + std::to_string(*code) : std::string{}) +
         " for '" + text + "'; got " + std::to_string(step_client_.size()) + " messages" +
         (step_client_.empty() ? "" : ": " + step_client_.front()));
  }
}

// ---- receiving ----

void World::on_client(const std::string& text) {
  const auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !(doc.is_object() || doc.is_array())) return fail("client got invalid JSON: " + text);
  if (doc.is_array()) return on_client_batch(text, doc);
  if (doc.contains("method")) return on_client_notification(doc);
  on_client_answer(text, doc);
}

void World::on_client_answer(const std::string& text, const json& message) {
  const auto id = raw_id(text);
  if (!id) return fail("client got an answer without an id: " + text);
  const bool error = message.contains("error");
  if (error == message.contains("result")) return fail("answer needs exactly one of result/error: " + text);
  const auto unique = std::find_if(expects_.begin(), expects_.end(),
                                   [&](const Expect& e) { return e.id == *id && e.kind != Kind::plain; });
  if (unique != expects_.end()) {
    const auto& result = message.contains("result") ? message["result"] : json();
    if (unique->kind == Kind::subscribe && !error) {
      if (!minted_shape(result) || sub_by_id_.count(result.get<std::string>()) != 0) {
        return fail("subscription id is not a fresh proxy-minted 0x+32 hex id: " + text);
      }
      auto& sub = subs_[unique->seq];
      sub.tag = unique->seq;
      sub.id = result.get<std::string>();
      sub.log_gaps_at_start = core_.counters().gapless[1].gaps;
      sub_by_id_[result.get<std::string>()] = unique->seq;
    } else if (unique->kind == Kind::unsubscribe_known) {
      if (result != json(true)) return fail("unsubscribe of a live subscription not answered true: " + text);
      subs_[sub_by_id_[unique->target]].unsubscribe_answered = true;
    } else if (unique->kind == Kind::unsubscribe_unknown && !error) {
      return fail("unsubscribe of an unknown id " + unique->target + " not answered with an error: " + text);
    }
    expects_.erase(unique);
    return;
  }
  const auto count = [&] {
    return static_cast<std::size_t>(std::count_if(expects_.begin(), expects_.end(),
                                                  [&](const Expect& e) { return e.id == *id; }));
  };
  if (count() == 0) return fail("I2: answer to no outstanding request: " + text);
  if (error) {
    ++credits_[*id];
  } else {
    const auto& result = message["result"];
    const auto seq = result.is_object() ? result.value("seq", std::uint64_t{0}) : 0;
    const auto it = std::find_if(expects_.begin(), expects_.end(),
                                 [&](const Expect& e) { return e.id == *id && e.seq == seq && seq != 0; });
    if (it == expects_.end()) return fail("I1: answer under id " + *id + " carries another request's result: " + text);
    expects_.erase(it);
  }
  // Errors can belong to any request with that id; there must never be more answers than requests.
  if (credits_[*id] > count()) fail("I1: a second answer for a request with id " + *id + ": " + text);
}

void World::on_client_batch(const std::string& text, const json& message) {
  const auto parts = raw_parts(text);
  const auto matches = [&](const BatchExpect& b) {
    if (b.elements.size() != parts.size()) return false;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto& answer = message[i];
      if (!answer.is_object() || raw_id(parts[i].second) != b.elements[i].first) return false;
      if (answer.contains("error") == answer.contains("result")) return false;
      if (answer.contains("result") && answer["result"].value("seq", std::uint64_t{0}) != b.elements[i].second) {
        return false;
      }
    }
    return true;
  };
  // An answer while the client is sending a batch is that batch's (refused at once); otherwise the
  // oldest batch that fits, since errors (timeouts) cannot tell two batches with the same ids apart.
  const auto it = sending_batch_ ? (matches(batches_.back()) ? batches_.end() - 1 : batches_.end())
                                 : std::find_if(batches_.begin(), batches_.end(), matches);
  if (it == batches_.end()) return fail("I1/I2: batch answer matches no outstanding batch: " + text);
  batches_.erase(it);
}

void World::on_client_notification(const json& message) {
  if (message.value("method", std::string{}) != "eth_subscription") return fail("client got a request: " + message.dump());
  const auto& params = message["params"];
  const auto sub = params.value("subscription", std::string{});
  const auto it = sub_by_id_.find(sub);
  if (it == sub_by_id_.end()) return fail("I3: notification under an id the client was never given: " + message.dump());
  auto& mine = subs_[it->second];
  if (mine.unsubscribe_answered) return fail("I3: notification after the unsubscribe was answered: " + message.dump());
  const auto kind = meta_[mine.tag].kind;
  if (kind == SubKind::heads) return check_head(mine, params["result"]);
  if (kind == SubKind::logs) return check_log(mine, params["result"]);
  const auto tag = params["result"].value("tag", std::uint64_t{0});
  if (tag != mine.tag) return fail("I3: another subscription's notification under " + sub + ": " + message.dump());
  if (!delivered_.insert({tag, params["result"].value("n", std::uint64_t{0})}).second) {
    fail("I2: notification delivered twice: " + message.dump());
  }
}

void World::check_expired() {
  std::map<std::string, std::size_t> expired;
  for (const auto& e : expects_) {
    if (now_ - e.sent <= kTimeout) continue;
    if (e.kind != Kind::plain) return fail("request " + e.id + " outlived request_timeout unanswered");
    ++expired[e.id];
  }
  for (const auto& [id, n] : expired) {
    if (n > credits_[id]) return fail("request " + id + " outlived request_timeout unanswered");
  }
  for (const auto& b : batches_) {
    if (now_ - b.sent > kTimeout) return fail("a batch outlived request_timeout unanswered");
  }
}

// ---- draining ----

void World::drain() {
  health(0b111);
  for (int round = 0; round < 50 && violation_.empty(); ++round) {
    while (!conns_in(ConnState::connecting).empty()) connect_outcome(0, true);
    for (bool any = true; any;) {
      any = false;
      for (const auto& [id, conn] : conns_) any = any || (conn.state == ConnState::open && !conn.inbox.empty());
      if (any) answer(0);
    }
    // Settled: nothing waits, nothing connects, and live subscriptions have an upstream (when
    // every node failed last, the core waits out a backoff before connecting again).
    const bool subscribed = std::any_of(subs_.begin(), subs_.end(), [](const auto& entry) { return !entry.second.unsubscribe_sent; });
    if (core_.pending_requests() == 0 && core_.queued_messages() == 0 && conns_in(ConnState::connecting).empty() &&
        (!subscribed || active_connection())) {
      break;
    }
    advance(kBackoffLongest + milliseconds(1));
  }
  advance(kTimeout + milliseconds(1));
  for (const auto& e : expects_) {
    if (e.kind != Kind::plain) return fail("after draining, request " + e.id + " never got an answer");
    const auto n = std::count_if(expects_.begin(), expects_.end(), [&](const Expect& o) { return o.id == e.id; });
    if (static_cast<std::size_t>(n) != credits_[e.id]) return fail("after draining, a request " + e.id + " never got an answer");
  }
  if (!batches_.empty()) return fail("after draining, a batch never got an answer");
  check_subscriptions_live();
}

void World::check_subscriptions_live() {
  std::vector<std::uint64_t> chained;
  for (const auto& [tag, sub] : subs_) {
    if (!sub.unsubscribe_sent && meta_[tag].kind != SubKind::other) chained.push_back(tag);
  }
  if (!chained.empty()) check_chain_live(chained);
  for (const auto& [tag, sub] : subs_) {
    if (sub.unsubscribe_sent || meta_[tag].kind != SubKind::other) continue;
    const auto active = active_connection();
    if (!active) return fail("a live subscription but no active upstream");
    std::vector<std::string> candidates;
    for (const auto& [upstream_sub, t] : conns_[*active].subscriptions) {
      if (t == tag && conns_[*active].retiring.count(upstream_sub) == 0) candidates.push_back(upstream_sub);
    }
    if (!std::any_of(candidates.begin(), candidates.end(), [&](const auto& s) { return notify_on(*active, s); })) {
      return fail("I3: subscription " + sub.id + " does not deliver from the active upstream");
    }
  }
}

}  // namespace vixy::ws::model
