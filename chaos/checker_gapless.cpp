#include "chaos/checker_gapless.hpp"

#include "chaos/bounded_json.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "fakenodes/filters.hpp"
#include "jsonrpc/jsonrpc.hpp"
#include "text/ascii.hpp"

namespace vixy::chaos {
namespace {

using nlohmann::json;
using fakenodes::Chain;
// More heights than this between a subscription's first and last log means nonsense numbers:
// those are reported, not walked.
constexpr std::uint64_t kMaxJudgedSpan = 100'000;

// A member of an object, or null: histories hold whatever the proxy sent, so nothing is assumed.
const json& field(const json& j, const char* key) {
  static const json null;
  if (!j.is_object()) return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

std::optional<std::uint64_t> quantity(const json& v) {
  if (!v.is_string()) return std::nullopt;
  return jsonrpc::from_quantity(v.get<std::string>());
}

std::string show(std::uint64_t height) { return std::to_string(height); }

struct Request {
  std::string method;
  json params;
};

struct LogStream {
  fakenodes::LogFilter filter;
  bool by_layout = false;  // the filter selects on address and topic 0 only
  std::map<std::pair<std::string, std::uint64_t>, std::uint64_t> standing;  // (blockHash, logIndex) -> height
  std::map<std::uint64_t, SteadyTime> first_seen;                            // height -> first log there
  std::optional<std::uint64_t> lo, hi;
  // The lowest height of the removals the stream ended with (none when a log came after them): a
  // reorg's removals and new logs come as one burst, which the end of a connection may cut.
  std::optional<std::uint64_t> removals_since;
};

struct HeadStream {
  std::optional<std::uint64_t> last;
  std::string last_hash;
  std::set<std::string> seen;
};

struct Sub {
  bool heads = true;  // else logs
  HeadStream head_stream;
  LogStream log_stream;
};

class Checker {
 public:
  Checker(const GaplessSpec& spec, GaplessReport& report) : spec_(spec), r_(report) {
    if (spec.chain_seed) truth_ = std::make_unique<Chain>(fakenodes::ChainParams{*spec.chain_seed, 1000, 1}, spec.forks);
  }

  void connection(const ConnectionHistory& h) {
    h_ = &h;
    outstanding_.clear();
    subs_.clear();
    SteadyTime end = h.opened;
    for (const auto& e : h.events) {
      end = e.at;
      if (e.kind == EventKind::closed_by_peer || e.kind == EventKind::closed_by_client) break;
      json message = parse_bounded(e.text);  // a message too deep to judge is I2's finding
      if (message.is_discarded()) continue;
      if (!message.is_array()) message = json::array({std::move(message)});
      for (const auto& m : message) {
        if (!m.is_object()) continue;
        if (e.kind == EventKind::sent) {
          on_sent(m);
        } else {
          on_received(m, e.at);
        }
      }
    }
    for (auto& [id, sub] : subs_) finish(id, sub, end);
  }

 private:
  void violation(SteadyTime at, std::string message) { r_.violations.push_back({h_, at, std::move(message)}); }

  void on_sent(const json& m) {
    if (!m.contains("id") || !m.contains("method") || !m["method"].is_string()) return;
    outstanding_[m["id"].dump()].push_back({m["method"].get<std::string>(), field(m, "params")});
  }

  void on_received(const json& m, SteadyTime at) {
    if (field(m, "method") == "eth_subscription") {
      const json& subscription = field(field(m, "params"), "subscription");
      if (!subscription.is_string()) return;
      auto sub = subs_.find(subscription.get<std::string>());
      if (sub == subs_.end()) return;  // not a subscription this client holds: I2 and I3 judge that
      const json& result = field(field(m, "params"), "result");
      if (sub->second.heads) {
        on_head(sub->second.head_stream, result, at);
      } else {
        on_log(sub->second.log_stream, result, at);
      }
      return;
    }
    if (!m.contains("id")) return;
    auto queue = outstanding_.find(m["id"].dump());
    if (queue == outstanding_.end() || queue->second.empty()) return;
    Request request = std::move(queue->second.front());
    queue->second.pop_front();
    const json& result = field(m, "result");
    if (request.method == "eth_subscribe" && result.is_string()) {
      start(result.get<std::string>(), request.params);
    } else if (request.method == "eth_unsubscribe" && result == true && request.params.is_array() &&
               !request.params.empty() && request.params[0].is_string()) {
      auto sub = subs_.find(request.params[0].get<std::string>());
      if (sub != subs_.end()) {
        finish(sub->first, sub->second, at);
        subs_.erase(sub);
      }
    }
  }

  void start(const std::string& id, const json& params) {
    if (!params.is_array() || params.empty() || !params[0].is_string()) return;
    const auto& kind = params[0].get_ref<const std::string&>();
    Sub sub;
    if (kind == "newHeads") {
      ++r_.head_subscriptions;
    } else if (kind == "logs") {
      auto filter = fakenodes::parse_log_filter(params.size() > 1 ? params[1] : json());
      if (!filter) return;
      sub.heads = false;
      sub.log_stream.filter = std::move(*filter);
      const auto& topics = sub.log_stream.filter.topics;
      sub.log_stream.by_layout =
          std::all_of(topics.begin() + std::min<std::ptrdiff_t>(1, static_cast<std::ptrdiff_t>(topics.size())),
                      topics.end(), [](const auto& alternatives) { return alternatives.empty(); });
      ++r_.log_subscriptions;
    } else {
      return;
    }
    subs_[id] = std::move(sub);
  }

  void on_head(HeadStream& s, const json& head, SteadyTime at) {
    std::optional<std::uint64_t> number = quantity(field(head, "number"));
    if (!number || !field(head, "hash").is_string()) {
      violation(at, "a newHeads notification without a number and a hash: " + head.dump().substr(0, 120));
      return;
    }
    ++r_.heads;
    std::string hash = text::lowercase(head["hash"].get<std::string>());
    if (truth_) {
      auto block = truth_->find_block(hash);
      if (!block || block->height != *number) {
        violation(at, "head " + hash + " at height " + show(*number) + " is no block of the chain");
      }
    }
    if (!s.seen.insert(hash).second) {
      violation(at, "head " + hash + " at height " + show(*number) + " delivered again");
      return;
    }
    if (s.last && *number > *s.last + 1) {
      std::uint64_t missing = *number - *s.last - 1;
      if (missing > spec_.bound) {
        ++r_.unfilled_gaps;
      } else {
        violation(at, "heights " + show(*s.last + 1) + (missing > 1 ? ".." + show(*number - 1) : "") +
                          " missing: head " + show(*number) + " came after head " + show(*s.last));
      }
    } else if (s.last && *number <= *s.last) {
      ++r_.reorgs;
      if (*s.last - *number + 1 > spec_.bound) ++r_.deep_reorgs;
    } else if (const json& parent = field(head, "parentHash");
               s.last && (!parent.is_string() || text::lowercase(parent.get<std::string>()) != s.last_hash)) {
      // No height is missing, yet the client never saw this head's parent: a reorg it was not
      // told of. Logs show it (two blocks' logs at a height); for heads it is only counted.
      ++r_.unlinked;
    }
    s.last = *number;
    s.last_hash = hash;
  }

  void on_log(LogStream& s, const json& log, SteadyTime at) {
    std::optional<std::uint64_t> height = quantity(field(log, "blockNumber"));
    std::optional<std::uint64_t> index = quantity(field(log, "logIndex"));
    if (!height || !index || !field(log, "blockHash").is_string() || !field(log, "topics").is_array()) {
      violation(at, "a logs notification without blockNumber, blockHash, logIndex and topics: " + log.dump().substr(0, 120));
      return;
    }
    std::pair<std::string, std::uint64_t> key{text::lowercase(log["blockHash"].get<std::string>()), *index};
    std::string what = "log " + show(*index) + " of block " + key.first + " (height " + show(*height) + ")";
    if (field(log, "removed") == true) {
      ++r_.removed_logs;
      s.removals_since = std::min(s.removals_since.value_or(*height), *height);
      s.standing.erase(key);  // a removal of a log never delivered is what geth sends too: no harm
      return;
    }
    ++r_.logs;
    s.removals_since.reset();
    bool matched = false;
    try {
      matched = fakenodes::matches(s.filter, log);
    } catch (const json::exception&) {  // an address or a topic that is not a string
    }
    if (!matched) violation(at, what + " does not match the subscription's filter");
    if (truth_) {
      auto block = truth_->find_block(key.first);
      if (!block || block->height != *height) {
        violation(at, what + " names no block of the chain");
      } else {
        json expected = truth_->log(*block, *index);
        for (const char* name : {"address", "topics", "data", "transactionHash"}) {
          if (field(log, name) != expected[name]) violation(at, what + " differs from the chain's in " + name);
        }
      }
    }
    if (!s.standing.emplace(key, *height).second) {
      violation(at, what + " delivered again");
      return;
    }
    s.first_seen.emplace(*height, at);
    s.lo = std::min(s.lo.value_or(*height), *height);
    s.hi = std::max(s.hi.value_or(*height), *height);
  }

  // Which of a block's logs the filter selects; nullopt when that cannot be known.
  std::optional<std::set<std::uint64_t>> expected(const LogStream& s, std::uint64_t height,
                                                  const std::string* block_hash) const {
    std::set<std::uint64_t> indices;
    if (truth_) {
      std::optional<Chain::BlockRef> block = Chain::BlockRef{height, truth_->tip()};
      if (block_hash != nullptr) block = truth_->find_block(*block_hash);
      if (!block) return std::nullopt;  // already reported
      for (std::uint64_t i = 0; i < fakenodes::kLogsPerBlock; ++i) {
        if (fakenodes::matches(s.filter, truth_->log(*block, i))) indices.insert(i);
      }
      return indices;
    }
    if (!s.by_layout) return std::nullopt;
    for (std::uint64_t i = 0; i < fakenodes::kLogsPerBlock; ++i) {
      if (fakenodes::may_match(s.filter, Chain::log_address(height, i), Chain::log_signature(i))) indices.insert(i);
    }
    return indices;
  }

  void finish(const std::string& id, const Sub& sub, SteadyTime end) {
    if (sub.heads) return;
    const LogStream& s = sub.log_stream;
    if (!s.lo) return;
    if (!truth_ && !s.by_layout) ++r_.unjudged_filters;
    if (*s.hi - *s.lo > kMaxJudgedSpan) {
      violation(end, "subscription " + id + " delivered logs from height " + show(*s.lo) + " to " + show(*s.hi) +
                         ", too far apart to be one stream");
      return;
    }
    std::map<std::uint64_t, std::map<std::string, std::set<std::uint64_t>>> by_height;
    for (const auto& [key, height] : s.standing) by_height[height][key.first].insert(key.second);
    // The last height's burst may have been cut, and so may a reorg's the stream ended inside.
    const std::uint64_t judged_below = std::min(*s.hi, s.removals_since.value_or(*s.hi));
    for (std::uint64_t h = *s.lo; h < judged_below; ++h) {
      auto seen_after = s.first_seen.upper_bound(h);
      SteadyTime at = seen_after == s.first_seen.end() ? end : seen_after->second;
      const auto& blocks = by_height[h];
      if (blocks.size() > 1) {
        std::string hashes;
        for (const auto& [hash, indices] : blocks) hashes += (hashes.empty() ? "" : ", ") + hash;
        violation(at, "subscription " + id + ": logs of " + std::to_string(blocks.size()) + " blocks stand at height " +
                          show(h) + " (" + hashes + "): a replaced block's logs were not removed");
        continue;
      }
      const std::string* hash = blocks.empty() ? nullptr : &blocks.begin()->first;
      auto wanted = expected(s, h, hash);
      if (!wanted) continue;
      std::string missing;
      for (std::uint64_t i : *wanted) {
        if (blocks.empty() || !blocks.begin()->second.count(i)) missing += (missing.empty() ? "" : ", ") + show(i);
      }
      if (!missing.empty()) {
        violation(at, "subscription " + id + ": log(s) " + missing + " of height " + show(h) + " never delivered");
      }
    }
  }

  const GaplessSpec& spec_;
  GaplessReport& r_;
  std::unique_ptr<Chain> truth_;
  const ConnectionHistory* h_ = nullptr;
  std::map<std::string, std::deque<Request>> outstanding_;
  std::map<std::string, Sub> subs_;
};

}  // namespace

std::string GaplessReport::note() const {
  std::string out = std::to_string(head_subscriptions) + " newHeads subscription(s) (" + std::to_string(heads) +
                    " heads), " + std::to_string(log_subscriptions) + " logs subscription(s) (" +
                    std::to_string(logs) + " logs, " + std::to_string(removed_logs) + " removed); " +
                    std::to_string(reorgs) + " reorg(s) seen, " + std::to_string(deep_reorgs) +
                    " deeper than " + std::to_string(bound) + "; " + std::to_string(unfilled_gaps) +
                    " gap(s) wider than " + std::to_string(bound);
  if (unlinked > 0) out += "; " + std::to_string(unlinked) + " head(s) whose parent was not the head before";
  if (unjudged_filters > 0) {
    out += "; " + std::to_string(unjudged_filters) +
           " logs subscription(s) checked for duplicates only (a filter on topics past the first, and no chain given)";
  }
  return out;
}

GaplessReport check_gapless(const std::vector<ConnectionHistory>& histories, const GaplessSpec& spec) {
  GaplessReport report;
  report.bound = spec.bound;
  Checker checker(spec, report);
  for (const auto& h : histories) checker.connection(h);
  return report;
}

}  // namespace vixy::chaos
