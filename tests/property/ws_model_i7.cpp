// I7 in the model world (ws_model.hpp): the fake nodes' chain events and their answers to the
// proxy's own fetches, and the checks on the heads and logs the client receives.
//
// The rules checked, per client subscription (the core's gapless streams, issue 4):
//  newHeads
//   * every head is a block some node had, shaped exactly like a newHeads header;
//   * no head is delivered while the same hash is on the client's current branch (a hash may come
//     again only after a reorg replaced it, as a node would send it);
//   * a head's parent is the head at the height below on the client's current branch (the
//     previous head, or, for a reorg, one delivered earlier), unless that height is below every
//     head the client got (a reorg under the subscription's start) or the core counted a newHeads
//     gap in that same event;
//   * the core counts no more gaps than the model gave it reasons for: a fetch answered with an
//     error or null, a fetch left unanswered past request_timeout, or a head whose nearest
//     delivered ancestor (among the last backfill_depth delivered) is more than backfill_depth
//     blocks below it, or absent;
//   * after a drain (every node healthy and following the canonical chain, every fetch answered)
//     and one more block, the client's last head is the active node's head.
//  logs
//   * every log is a log of a block some node had, byte for byte, and one the filter selects;
//   * no (blockHash, logIndex) is delivered twice unless a removed:true came in between;
//   * the core counts no more logs gaps than reasons: a failed or unanswered fetch (eth_blockNumber
//     or eth_getLogs), a connection lost with one of them unanswered (the head at subscription
//     time may then be unknown), or a range longer than backfill_depth to fetch;
//   * after a drain and one more block, when no logs gap was counted in the subscription's life
//     and no reorg deeper than backfill_depth happened in it (a fill checks that many blocks
//     below the first one it may have missed; deeper reorgs are excepted, not counted):
//     every log of the canonical chain above the subscribing node's head at subscription time that
//     the filter selects is held by the client, and no log of a block off the canonical chain is.
#include <algorithm>

#include "ws_model.hpp"

namespace vixy::ws::model {

std::optional<SubKind> World::internal_kind(const FakeConn& conn, const json& request) {
  const auto method = request.value("method", std::string{});
  const auto params = request.contains("params") ? request["params"] : json::array();
  std::optional<SubKind> kind;
  if (method == "eth_getBlockByNumber" || method == "eth_getBlockByHash") {
    kind = SubKind::heads;
  } else if (method == "eth_getLogs" || (method == "eth_blockNumber" && params == json::array())) {
    kind = SubKind::logs;
  }
  if (!kind) return std::nullopt;
  if (conn.kinds.count(*kind) == 0) fail("an internal fetch on a connection without a subscription it serves: " + request.dump());
  if (method == "eth_getLogs") {
    json filter = params.is_array() && !params.empty() ? params[0] : json();
    const bool ranged = filter.is_object() && parse_quantity(filter.value("fromBlock", json())) &&
                        parse_quantity(filter.value("toBlock", json()));
    if (ranged) {
      filter.erase("fromBlock");
      filter.erase("toBlock");
    }
    const auto seq = filter.is_object() ? filter.value("seq", std::uint64_t{0}) : 0;
    const auto it = meta_.find(seq);
    if (!ranged || it == meta_.end() || it->second.kind != SubKind::logs || it->second.filter != filter) {
      fail("eth_getLogs without a range and the subscription's own filter: " + request.dump());
    }
  }
  return kind;
}

json World::internal_answer(FakeConn& conn, const json& request, SubKind kind, unsigned mode) {
  conn.inbox_ids.erase(request["id"].get<std::uint64_t>());
  auto& excuses = excuses_[kind == SubKind::heads ? 0 : 1];
  json reply = {{"jsonrpc", "2.0"}, {"id", request["id"]}};
  if (mode % 8 == 7) {
    ++excuses;
    reply["error"] = {{"code", -32000}, {"message", "model: the node failed this fetch"}};
    return reply;
  }
  const auto method = request["method"].get<std::string>();
  const auto& params = request["params"];
  const auto& chain = chain_.chain_of(conn.node);
  const auto head = chain_.head_of(conn.node);
  json result;
  if (method == "eth_blockNumber") {
    result = hex_quantity(head);
    // A fill from below the subscription's start (or its highest delivered log) to this head
    // that is longer than the bound is cut, and counted.
    for (const auto& [tag, sub] : subs_) {
      if (meta_[tag].kind != SubKind::logs || !meta_[tag].start) continue;
      std::uint64_t from = *meta_[tag].start + 1;
      for (const auto& [key, held] : sub.logs) from = std::min(from, chain_.block(key.first).number);
      if (head + 1 > from + kBackfillDepth) ++excuses;
    }
  } else if (method == "eth_getBlockByNumber") {
    const auto n = params.is_array() && !params.empty() ? parse_quantity(params[0]) : std::nullopt;
    if (n && *n <= head) result = chain_.block_json(chain_.block(chain[*n]));
  } else if (method == "eth_getBlockByHash") {
    const auto* block = params.is_array() && !params.empty() && params[0].is_string()
                            ? chain_.find(params[0].get<std::string>()) : nullptr;
    // A node keeps the side blocks it saw; the model lets it know every block up to its height.
    if (block && block->number <= head) result = chain_.block_json(*block);
  } else {  // eth_getLogs, checked in internal_kind
    const auto& filter = params[0];
    const auto from = *parse_quantity(filter["fromBlock"]);
    const auto to = std::min(*parse_quantity(filter["toBlock"]), head);
    result = json::array();
    for (auto n = from; n <= to; ++n) {
      for (auto& log : chain_.logs(chain_.block(chain[n]))) {
        if (Chain::matches(filter, log)) result.push_back(std::move(log));
      }
    }
  }
  if (result.is_null()) ++excuses;
  reply["result"] = std::move(result);
  return reply;
}

// ---- chain events: what the nodes send their subscribers ----

void World::produce(bool every_head) { emit(chain_.produce(), every_head); }
void World::lag(unsigned node) { chain_.lag(node % Chain::kNodes); }

void World::catch_up(unsigned node, bool every_head) {
  std::array<Change, Chain::kNodes> changes;
  changes[node % Chain::kNodes] = chain_.catch_up(node % Chain::kNodes);
  emit(changes, every_head);
}

void World::reorg(unsigned depth, unsigned which, bool every_head) {
  const auto node = which % 4 == 3 ? std::nullopt : std::optional<std::size_t>(which % 4);
  if (depth > kBackfillDepth) {
    for (auto& [tag, sub] : subs_) sub.deep_reorg = true;
  }
  emit(chain_.reorg(depth, node), every_head);
}

// A node announces the blocks its chain took on: every one, or (a node catching up, or reporting a
// reorg) only the newest; and for logs, what a reorg took away (removed: true, as geth does),
// then the new blocks' logs.
void World::emit(const std::array<Change, Chain::kNodes>& changes, bool every_head) {
  std::vector<std::pair<ConnectionId, json>> notes;
  for (const auto& [connection, conn] : conns_) {
    if (conn.state != ConnState::open) continue;
    const auto& change = changes[conn.node];
    for (const auto& [upstream_sub, tag] : conn.subscriptions) {
      if (conn.retiring.count(upstream_sub) != 0) continue;
      const auto& meta = meta_[tag];
      // Structured bindings are captured through names of their own: clang 14 (the fuzz build)
      // cannot capture them.
      const auto note = [&, to = connection, &sub = upstream_sub](json result) {
        notes.emplace_back(to, json{{"jsonrpc", "2.0"},
                                    {"method", "eth_subscription"},
                                    {"params", {{"subscription", sub}, {"result", std::move(result)}}}});
      };
      if (meta.kind == SubKind::heads) {
        for (std::size_t i = 0; i < change.added.size(); ++i) {
          if (!every_head && i + 1 < change.added.size()) continue;
          const auto& block = chain_.block(change.added[i]);
          excuse_depth(tag, block);
          note(chain_.header_json(block));
        }
      } else if (meta.kind == SubKind::logs) {
        for (const auto& hash : change.removed) {
          auto logs = chain_.logs(chain_.block(hash));
          for (auto it = logs.rbegin(); it != logs.rend(); ++it) {
            (*it)["removed"] = true;
            if (Chain::matches(meta.filter, *it)) note(*it);
          }
        }
        for (const auto& hash : change.added) {
          for (auto& log : chain_.logs(chain_.block(hash))) {
            if (Chain::matches(meta.filter, log)) note(std::move(log));
          }
        }
      }
    }
  }
  for (const auto& [connection, note] : notes) {
    if (conns_[connection].state != ConnState::open) continue;
    step_client_.clear();
    core_.upstream_text(connection, note.dump(), now_);
    pump();
  }
}

// ---- excuses: reasons the model gives the core to count a gap ----

void World::excuse_timeouts() {
  for (auto& [connection, conn] : conns_) {
    if (conn.state != ConnState::open) continue;
    for (auto* list : {&conn.inbox, &conn.swallowed}) {
      for (auto& entry : *list) {
        if (!entry.internal || entry.excused || entry.sent + kTimeout > now_) continue;
        entry.excused = true;
        ++excuses_[*entry.internal == SubKind::heads ? 0 : 1];
      }
    }
  }
}

// Whether `head` links to `branch` (its last backfill_depth heads) only from more than
// backfill_depth blocks below, or not at all: a gap the core may count.
bool World::too_deep_for(const std::map<std::uint64_t, std::string>& branch, const Block& head) const {
  std::set<std::string> memory;
  for (auto b = branch.rbegin(); b != branch.rend() && memory.size() < kBackfillDepth; ++b) memory.insert(b->second);
  if (memory.count(head.hash) != 0) return false;
  const Block* low = &head;
  while (memory.count(low->parent) == 0) {
    if (low->number == 0 || head.number - low->number >= kBackfillDepth + 1) return true;
    low = &chain_.block(low->parent);
  }
  return head.number - chain_.block(low->parent).number - 1 > kBackfillDepth;
}

// Judged against the branch the client has now, and against the one the nodes announced for the
// subscription: a head held while a fill runs is taken against whatever branch that fill leaves.
void World::excuse_depth(std::uint64_t tag, const Block& head) {
  const auto it = subs_.find(tag);
  if (it == subs_.end() || it->second.branch.empty()) return;
  auto& announced = it->second.announced;
  const bool deep = too_deep_for(it->second.branch, head) || (!announced.empty() && too_deep_for(announced, head));
  // As a fill would leave it: the head, and its ancestors down to where they meet the branch.
  announced.erase(announced.lower_bound(head.number), announced.end());
  announced[head.number] = head.hash;
  const Block* low = &head;
  for (std::size_t step = 0; step < kBackfillDepth && low->number > 0; ++step) {
    low = &chain_.block(low->parent);
    const auto at = announced.find(low->number);
    if (at != announced.end() && at->second == low->hash) break;
    announced[low->number] = low->hash;
  }
  if (deep) ++excuses_[0];
}

void World::check_gaps() {
  for (std::size_t k = 0; k < 2; ++k) {
    const auto gaps = core_.counters().gapless[k].gaps;
    if (gaps > excuses_[k]) {
      fail(std::string("I7: the core counted ") + std::to_string(gaps) + (k == 0 ? " newHeads" : " logs") +
           " gaps; the model gave reasons for " + std::to_string(excuses_[k]));
    }
    gaps_seen_[k] = gaps;
  }
}

// ---- the client's checks ----

void World::check_head(ClientSub& sub, const json& result) {
  const auto* block = result.is_object() && result.contains("hash") && result["hash"].is_string()
                          ? chain_.find(result["hash"].get<std::string>()) : nullptr;
  if (block == nullptr) return fail("I7: a head no node ever had: " + result.dump());
  if (result != chain_.header_json(*block)) return fail("I7: a head not shaped like newHeads: " + result.dump());
  auto& branch = sub.branch;
  if (const auto same = branch.find(block->number); same != branch.end() && same->second == block->hash) {
    return fail("I7: head " + std::to_string(block->number) + " delivered twice to " + sub.id);
  }
  if (!branch.empty()) {
    const auto below = branch.find(block->number - 1);
    const bool linked = block->number > 0 && below != branch.end() && below->second == block->parent;
    // Below the lowest head the client got: its subscription started above (a reorg under it).
    const bool below_start = block->number == 0 || block->number - 1 < branch.begin()->first;
    if (!linked && !below_start && !heads_gap_now_) {
      return fail("I7: head " + std::to_string(block->number) + " delivered to " + sub.id +
                  " without its parent; last delivered " + std::to_string(branch.rbegin()->first) +
                  ", and no gap was counted");
    }
  }
  branch.erase(branch.lower_bound(block->number), branch.end());
  branch[block->number] = block->hash;
}

void World::check_log(ClientSub& sub, const json& result) {
  const auto* block = result.is_object() && result.contains("blockHash") && result["blockHash"].is_string()
                          ? chain_.find(result["blockHash"].get<std::string>()) : nullptr;
  const auto index = result.is_object() ? parse_quantity(result.value("logIndex", json())) : std::nullopt;
  if (block == nullptr || !index || *index >= Chain::kLogsPerBlock) return fail("I7: a log no node ever had: " + result.dump());
  auto expected = chain_.logs(*block)[*index];
  const bool removed = result.value("removed", false);
  expected["removed"] = removed;
  if (result != expected) return fail("I7: a log that is not the node's: " + result.dump());
  if (!Chain::matches(meta_[sub.tag].filter, expected)) {
    return fail("I3: a log the subscription's filter does not select, under " + sub.id + ": " + result.dump());
  }
  auto& held = sub.logs[{block->hash, *index}];
  if (!removed && held) return fail("I7: log " + result.dump() + " delivered twice to " + sub.id);
  held = !removed;
}

// After the drain: every node follows the canonical chain, one more block comes, every fetch is
// answered; then the heads and logs subscriptions must be complete.
void World::check_chain_live(const std::vector<std::uint64_t>& tags) {
  emit(chain_.heal(), true);
  produce(true);
  for (int round = 0; round < 20 && violation_.empty(); ++round) {
    bool any = false;
    for (const auto& [id, conn] : conns_) any = any || (conn.state == ConnState::open && !conn.inbox.empty());
    if (!any) break;
    for (int i = 0; i < 64; ++i) answer(0);
  }
  const auto active = active_connection();
  if (!violation_.empty() || !active) return;
  const auto& canonical = chain_.canonical();
  for (const auto tag : tags) {
    auto& sub = subs_[tag];
    const auto& meta = meta_[tag];
    if (meta.kind == SubKind::heads) {
      if (sub.branch.empty() || sub.branch.rbegin()->second != canonical.back()) {
        return fail("I7: newHeads subscription " + sub.id + " did not reach the head " + std::to_string(canonical.size() - 1));
      }
    } else if (meta.kind == SubKind::logs && meta.start && !sub.deep_reorg &&
               core_.counters().gapless[1].gaps == sub.log_gaps_at_start) {
      for (auto n = *meta.start + 1; n < canonical.size(); ++n) {
        for (const auto& log : chain_.logs(chain_.block(canonical[n]))) {
          const auto index = *parse_quantity(log["logIndex"]);
          if (Chain::matches(meta.filter, log) && !sub.logs[{canonical[n], index}]) {
            return fail("I7: logs subscription " + sub.id + " misses log " + std::to_string(index) + " of canonical block " +
                        std::to_string(n));
          }
        }
      }
      for (const auto& [key, held] : sub.logs) {
        const auto& block = chain_.block(key.first);
        if (held && block.number > *meta.start && canonical[block.number] != key.first) {
          return fail("I7: logs subscription " + sub.id + " holds a log of block " + std::to_string(block.number) +
                      " that a reorg removed, never sent again as removed");
        }
      }
    }
  }
}

}  // namespace vixy::ws::model
