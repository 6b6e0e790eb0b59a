// The logs stream: every log of the canonical chain once, across upstream switches (I7).
#include <algorithm>
#include <cstring>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <boost/container/deque.hpp>

#include "jsonrpc/jsonrpc.hpp"
#include "ws/gapless_detail.hpp"

namespace vixy::ws::gapless::detail {
namespace {

using nlohmann::json;

struct LogKeyHash {
  std::size_t operator()(const LogKey& key) const {
    std::uint64_t prefix = 0;
    std::memcpy(&prefix, key.block.data(), sizeof prefix);  // a hash's bytes are already uniform
    return static_cast<std::size_t>(prefix ^ (key.index * 0x9e3779b97f4a7c15ULL));
  }
};

// At most this many recent logs are remembered per subscription (with their text, to send them
// again as removed after a reorg): about 1 MiB for a filter that matches everything.
constexpr std::size_t kMaxRecent = 4096;
// The keys of the last this many delivered logs are remembered whatever their block's age (texts
// only within the backfill depth; keys about 0.6 MiB at most): a log the client never got is told
// from a node's repeat by its key, so a reorg the client's stream saw as shallow is delivered whole
// however far another upstream had run ahead.
constexpr std::size_t kMaxKnown = kMaxRecent;
constexpr std::size_t kMaxHeldLogs = 16384;
// Blocks below the first one a switch may have missed that are fetched again after it (within the
// backfill depth): deeper than any reorg seen on mainnet since the merge.
constexpr std::uint64_t kRecheck = 16;

class LogStream final : public Stream {
 public:
  LogStream(json filter, std::string client_id, std::size_t depth)
      : filter_(std::move(filter)), client_id_(std::move(client_id)), depth_(std::max<std::size_t>(depth, 1)) {}

  using Stream::notification;
  void notification(std::string&& text, const Facts& facts, Via via, Effects& out) override {
    if (facts.log) note_seen(*facts.log, via.first);
    if (filling_) {
      held_.push_back({std::move(text), via.retired});  // its facts are read again when its turn comes
      if (held_.size() > kMaxHeldLogs) {
        ++out.gaps;
        finish(out);
      }
      return;
    }
    accept(std::move(text), facts, via.retired, out);
  }
  Kind kind() const override { return Kind::logs; }

  void fetched(std::uint64_t tag, const json* result, Effects& out) override {
    auto asked = asked_.find(tag);
    if (asked == asked_.end()) return;  // from a fill given up since
    Phase phase = asked->second;
    asked_.erase(asked);
    std::optional<std::uint64_t> height;
    if (result && result->is_string()) height = jsonrpc::from_quantity(result->get_ref<const std::string&>());
    switch (phase) {
      case Phase::mark:
        // The head when the subscription was made: logs of blocks up to here predate it. It is
        // asked once the subscribe is answered, so it may count blocks whose logs already came.
        if (height && lowest_seen_ && *lowest_seen_ > 0) height = std::min(*height, *lowest_seen_ - 1);
        if (height) checked_ = std::max(checked_.value_or(0), *height);
        if (height) lower_floor(*height);
        if (fill_after_mark_) {
          fill_after_mark_ = false;
          if (!checked_ && !highest_) {
            unanchored(out);
            return finish(out);
          }
          start_fill(out);
        }
        return;
      case Phase::head:
        if (!height) return give_up(out);
        return ask_logs(*height, out);
      case Phase::logs:
        if (!result || !result->is_array()) return give_up(out);
        reconcile(*result, out);
        ask(Phase::confirm, "eth_blockNumber", json::array(), out);
        return;
      case Phase::confirm:
        confirm(height, out);
        return finish(out);
    }
  }

  void established(bool moved, Effects& out) override {
    if (!moved) {
      ask(Phase::mark, "eth_blockNumber", json::array(), out);
      return;
    }
    // The upstream being left was followed from a complete point (the subscription's start, or
    // its own fill's end) unless its fill is still pending: only then do its logs, now and later,
    // say the blocks below them were covered.
    left_followed_ = !filling_;
    // Whatever still waits came before this upstream answered the subscribe, so from upstreams
    // being left (a node answers a subscribe before it notifies on it).
    for (auto& entry : held_) entry.second = true;
    if (!checked_ && !highest_) {
      // Without a delivered log or the head at subscription time there is no telling where the
      // stream stood: wait for the head at subscription time if it is still coming (a switch
      // right after the subscribe), else the logs the switch missed are a gap, counted.
      bool marking = std::any_of(asked_.begin(), asked_.end(), [](const auto& entry) { return entry.second == Phase::mark; });
      if (marking) {
        // Logs wait with the fill: one delivered now would make the fill start above blocks
        // that were never filled.
        fill_after_mark_ = true;
        filling_ = true;
      } else {
        unanchored(out);
      }
      return;
    }
    start_fill(out);
  }

  void abandoned(std::uint64_t tag, bool lost, Effects& out) override {
    auto asked = asked_.find(tag);
    if (asked == asked_.end()) return;
    Phase phase = asked->second;
    asked_.erase(asked);
    if (phase == Phase::mark) {
      if (fill_after_mark_) {
        fill_after_mark_ = false;
        unanchored(out);  // a switch is waiting for a head at subscription time that will not come
        finish(out);
      }
      return;
    }
    if (!filling_) return;
    if (lost) {
      // The switch this forces fills the range again from the next upstream, and what waited
      // for this fill with it: delivering it now would move the stream past the unfilled range.
      // What upstreams being left sent was among it: their later logs no longer follow on.
      held_.clear();
      left_followed_ = false;
      filling_ = false;
      std::erase_if(asked_, [](const auto& entry) { return entry.second != Phase::mark; });
      return;
    }
    // Timed out. Asked once more first: the fetch may have joined an identical one the node
    // never got (sent into a path that dropped it), which the multiplexer stops joining once it
    // reads from the node again. Then the range stays unfilled.
    if (!retried_) {
      retried_ = true;
      start_fill(out);
      return;
    }
    ++out.gaps;
    finish(out);
  }

 private:
  enum class Phase : std::uint8_t { mark, head, logs, confirm };
  struct Entry {
    LogKey key;
    std::uint64_t number = 0;
    std::string text;  // the log object, to send again as removed
  };

  void ask(Phase phase, const char* method, json params, Effects& out) {
    std::uint64_t tag = next_tag_++;
    asked_[tag] = phase;
    out.fetch.push_back(Fetch{tag, method, std::move(params)});
  }

  // A switch with no telling what the old upstream missed: the gap is counted, and the new
  // upstream's head becomes the point the stream is complete from, so the next switch can fill.
  // Until it knows, every further switch is the same stretch of not knowing: one gap.
  void unanchored(Effects& out) {
    if (!unanchored_open_) ++out.gaps;
    unanchored_open_ = true;
    ask(Phase::mark, "eth_blockNumber", json::array(), out);
  }

  void start_fill(Effects& out) {
    std::erase_if(asked_, [](const auto& entry) { return entry.second != Phase::mark; });
    filling_ = true;
    ask(Phase::head, "eth_blockNumber", json::array(), out);
  }

  void ask_logs(std::uint64_t head, Effects& out) {
    // A node that sent a log of block N has block N, whatever its eth_blockNumber said (a node
    // answering from behind its own notifications): without this, the log that started a check
    // would start it again, forever.
    if (reached_) head = std::max(head, *reached_);
    proven_ = reached_;
    reached_.reset();
    // The highest block with a log from an upstream the stream followed may have had more logs it
    // never sent. Not a log from an upstream left before its fill ended: it may be ahead of every
    // block the stream covered.
    std::uint64_t from = checked_ ? *checked_ + 1 : followed_.value_or(*highest_);
    if (followed_) from = std::max(from, *followed_);
    from = std::min(from, head + 1);
    // Logs the client got above an earlier upstream's head are checked against this one's chain
    // now: delivered, so not missing (a check cut to the bound is no gap).
    std::uint64_t recheck_from = verify_from_ ? std::min(from, *verify_from_) : from;
    // Logs the client got above this upstream's head (from an upstream that was ahead) cannot be
    // checked against its chain yet: they are, once it reaches them (a reorg may have replaced
    // those blocks, and this upstream will never say "removed" for blocks it never had).
    // Never below the subscription's start: a node far behind would otherwise turn the blocks
    // before it into a range to fill, longer than the bound (a gap counted for nothing, and logs
    // the client never subscribed to).
    verify_from_.reset();
    if (highest_ && *highest_ > head) verify_from_ = std::max(head + 1, floor_ ? *floor_ + 1 : 0);
    std::uint64_t missing = head + 1 - from;
    if (missing > depth_) {
      if (!unanchored_open_) ++out.gaps;
      from = head + 1 - depth_;
    } else {
      // The upstreams may disagree below `from` too: a reorg on either may have replaced blocks
      // whose logs the client holds (or lacks). The last few are checked again, never below the
      // subscription's start: its logs before that are not the client's.
      // Nor below the keys the stream remembers: logs there could not be told from new ones.
      std::uint64_t back = std::min<std::uint64_t>({kRecheck, depth_, recheck_from});
      from = recheck_from - back;
      if (floor_) from = std::max(from, *floor_ + 1);
      if (forgotten_through_) from = std::max(from, *forgotten_through_ + 1);
    }
    if (from > head) return finish(out);
    range_ = {from, head};
    json filter = filter_;
    filter["fromBlock"] = jsonrpc::to_quantity(from);
    filter["toBlock"] = jsonrpc::to_quantity(head);
    filter.erase("blockHash");
    ask(Phase::logs, "eth_getLogs", json::array({std::move(filter)}), out);
  }

  void give_up(Effects& out) {
    ++out.gaps;
    finish(out);
  }

  // What the new upstream's chain says about the fill range: delivered logs it no longer has were
  // reorged away (it would return them, they match the same filter), so the client is told they
  // are removed; logs the client has not seen are delivered.
  void reconcile(const json& logs, Effects& out) {
    std::unordered_set<LogKey, LogKeyHash> present;
    std::vector<std::pair<LogFields, std::string>> found;
    for (const auto& log : logs) {
      std::string text = log.dump();
      auto fields = log_fields(text);
      if (!fields || fields->removed) continue;
      present.insert(fields->key);
      found.emplace_back(*fields, std::move(text));
    }
    for (auto it = recent_.begin(); it != recent_.end();) {
      bool in_range = it->number >= range_.first && it->number <= range_.second;
      if (!in_range || present.contains(it->key)) {
        ++it;
        continue;
      }
      tell_removed(*it, out);
      it = recent_.erase(it);
    }
    for (auto& [fields, text] : found) {
      if (known_.contains(fields.key)) {
        ++out.duplicates;
        continue;
      }
      out.deliver.push_back(notification_text(client_id_, text));
      record(fields, std::move(text));
      ++out.backfilled;
    }
  }

  // The client is told a log it holds is gone (the caller drops its entry from recent_).
  void tell_removed(const Entry& entry, Effects& out) {
    json removed = jsonrpc::parse(entry.text).value_or(json());
    if (removed.is_object()) {
      removed["removed"] = true;
      out.deliver.push_back(notification_text(client_id_, removed.dump()));
      note_removed(entry.key, entry.number);
    }
    known_.erase(entry.key);
  }

  // The logs the client holds of another block at this log's height (see accept).
  void remove_replaced(const LogFields& log, Effects& out) {
    for (auto it = recent_.begin(); it != recent_.end();) {
      if (it->number != log.number || it->key.block == log.key.block) {
        ++it;
        continue;
      }
      tell_removed(*it, out);
      it = recent_.erase(it);
    }
  }

  // eth_getLogs answers up to the node's head, not up to toBlock: a node whose head went back
  // after it gave the fill's head (nodes behind one load balancer, a node reset to a peer's
  // chain) answered for fewer blocks than asked, and will never notify the ones it skipped. The
  // range counts as checked up to the head the node has after answering; the rest is checked
  // again once a log of this upstream reaches it (see accept). Found by the simulation.
  void confirm(std::optional<std::uint64_t> head, Effects& out) {
    std::uint64_t covered = range_.second;
    if (head && proven_) head = std::max(*head, *proven_);  // as in ask_logs
    if (!head) {
      ++out.gaps;  // no telling what the answer covered
    } else if (*head < covered) {
      covered = *head;
      verify_from_ = std::min(verify_from_.value_or(covered + 1), covered + 1);
    }
    checked_ = std::max(checked_.value_or(0), covered);
    filled_to_ = std::max(filled_to_.value_or(0), range_.second);
    unanchored_open_ = false;
  }

  // `facts` may view `text`: it is moved only on the way out.
  void accept(std::string&& text, const Facts& facts, bool retired, Effects& out) {
    const auto& fields = facts.log;
    if (!fields) {
      if (!retired) out.deliver.push_back(std::move(text));  // not a log we can follow
      return;
    }
    if (verify_from_ && !retired && !fields->removed && fields->number >= *verify_from_) {
      // This upstream reached blocks the client got from another: check them now (see ask_logs).
      verify_from_.reset();
      reached_ = fields->number;
      held_.push_front({std::move(text), retired});
      start_fill(out);
      return;
    }
    // The upstream being left says nothing about blocks the new one's fill covered: that chain is
    // authoritative there, and a reorg of the old one's own (or its fork's logs) would put the
    // client on a branch nobody will ever remove.
    if (retired && filled_to_ && fields->number <= *filled_to_) return;
    if (fields->removed) {
      // A node's own reorg notice: passed on for a log the client has, dropped when it was
      // already reported removed (by a fill) or never delivered.
      if (known_.erase(fields->key) == 0 && !unknowable(fields->number)) {
        ++out.duplicates;
        return;
      }
      recent_.erase(std::remove_if(recent_.begin(), recent_.end(), [&](const Entry& entry) { return entry.key == fields->key; }),
                    recent_.end());
      note_removed(fields->key, fields->number);
      out.deliver.push_back(std::move(text));
      return;
    }
    // A log the client has, or one it cannot be told from (older than every key remembered), or
    // one older than the blocks the stream follows reorgs in: a lagging node failed back to
    // repeats them, and a node catching up sends logs from before the subscription. Unless the
    // client was told a log of that block or height was removed: that block is back (a reorg
    // undone), or the height has a new block (a reorg the stream saw as shallow, while another
    // upstream had run ahead), however old.
    bool back = removed_.contains(fields->key);
    bool old = followed_ && fields->number + depth_ < *followed_ && !reorged_heights_.contains(fields->number);
    if (known_.contains(fields->key) || (!back && (unknowable(fields->number) || old))) {
      ++out.duplicates;
      return;
    }
    // Another block's log at a height the client holds logs of: this upstream's chain replaced
    // that block without saying so, because it never had it (the client got it from another
    // upstream, or another node behind the same address answered a fill). The client is told, as a
    // reorg notice would. Looked for only where a log below the newest height starts a block.
    if (!retired && highest_ && fields->number <= *highest_ && !recent_.empty() &&
        recent_.back().key.block != fields->key.block) {
      remove_replaced(*fields, out);
    }
    // Ahead of what the new upstream covered: the client gets it now, and it is checked against
    // the new upstream's chain once that gets there (see ask_logs).
    if (retired) verify_from_ = std::min(verify_from_.value_or(fields->number), fields->number);
    if (!retired || left_followed_) followed_ = std::max(followed_.value_or(0), fields->number);
    record(*fields, std::string(*facts.result));
    out.deliver.push_back(std::move(text));
  }

  // The blocks of new logs from the upstream the subscription was made on, until the head at
  // subscription time is known (another upstream may be behind, catching up from before the
  // subscription), but not up to the highest block a reorg notice named: a reorg sends the logs
  // of its new branch from where it forked, maybe from before the subscription; only blocks above
  // the old tip are new.
  void note_seen(const LogFields& log, bool from_first_upstream) {
    if (checked_ || !from_first_upstream) return;  // only the head at subscription time is capped
    if (log.removed) {
      reorged_through_ = std::max(reorged_through_.value_or(0), log.number);
      return;
    }
    if (reorged_through_ && log.number <= *reorged_through_) return;
    lowest_seen_ = std::min(lowest_seen_.value_or(log.number), log.number);
  }

  void note_removed(const LogKey& key, std::uint64_t number) {
    reorged_heights_.insert(number);
    if (reorged_heights_.size() > kMaxRecent) reorged_heights_.erase(reorged_heights_.begin());
    if (!removed_.insert(key).second) return;
    removed_order_.push_back(key);
    if (removed_order_.size() > kMaxRecent) {
      removed_.erase(removed_order_.front());
      removed_order_.pop_front();
    }
  }

  // The mark can come after the first logs (it is answered late): whichever is lower counts.
  void lower_floor(std::uint64_t height) { floor_ = std::min(floor_.value_or(height), height); }

  void record(const LogFields& fields, std::string text) {
    unanchored_open_ = false;
    removed_.erase(fields.key);  // its order entry goes when it reaches the front
    if (fields.number > 0) lower_floor(fields.number - 1);
    highest_ = std::max(highest_.value_or(0), fields.number);
    remember_key(fields.key, fields.number);
    recent_.push_back(Entry{fields.key, fields.number, std::move(text)});
    while (!recent_.empty() && (recent_.size() > kMaxRecent || recent_.front().number + depth_ < *highest_)) {
      recent_.pop_front();
    }
  }

  void remember_key(const LogKey& key, std::uint64_t number) {
    std::uint64_t serial = ++key_serial_;
    known_[key] = serial;
    keys_.push_back(KeyEntry{key, number, serial});
    if (keys_.size() <= kMaxKnown) return;
    const KeyEntry& oldest = keys_.front();
    // A key delivered again since (its block came back) has a later entry: that one counts.
    if (auto it = known_.find(oldest.key); it != known_.end() && it->second == oldest.serial) known_.erase(it);
    forgotten_through_ = std::max(forgotten_through_.value_or(0), oldest.number);
    keys_.pop_front();
  }

  // Whether a log of this block could have been delivered and its key forgotten since.
  bool unknowable(std::uint64_t number) const { return forgotten_through_ && number <= *forgotten_through_; }

  void finish(Effects& out) {
    filling_ = false;
    retried_ = false;
    std::erase_if(asked_, [](const auto& entry) { return entry.second != Phase::mark; });
    while (!filling_ && !held_.empty()) {
      auto [text, retired] = std::move(held_.front());
      held_.pop_front();
      Facts facts = facts_of(Kind::logs, text);
      accept(std::move(text), facts, retired, out);
    }
  }

  json filter_;
  std::string client_id_;
  std::size_t depth_;
  std::optional<std::uint64_t> floor_;  // the head at subscription time: nothing below is the client's
  std::optional<std::uint64_t> checked_;  // every log up to this block was delivered or predates the subscription
  std::optional<std::uint64_t> highest_;  // the highest block a delivered log came from
  std::optional<std::uint64_t> followed_;  // the same among logs of upstreams followed (see established)
  bool left_followed_ = true;
  // The highest block a fill checked against the upstream the stream is on. Not the head at
  // subscription time: that one is asked after the subscribe is answered, and may already count
  // blocks whose logs came as notifications.
  std::optional<std::uint64_t> filled_to_;
  std::optional<std::uint64_t> lowest_seen_;  // the lowest block of a log that came (note_seen)
  std::optional<std::uint64_t> reorged_through_;  // the highest block of a removed log (note_seen)
  // Boost's deque allocates nothing while empty (std::deque takes 576 bytes): sessions are many.
  boost::container::deque<Entry> recent_;
  struct KeyEntry {
    LogKey key;
    std::uint64_t number = 0;
    std::uint64_t serial = 0;
  };
  // Delivered and not since removed: key -> the serial of its latest entry in keys_ (the newest
  // kMaxKnown deliveries).
  std::unordered_map<LogKey, std::uint64_t, LogKeyHash> known_;
  boost::container::deque<KeyEntry> keys_;
  std::uint64_t key_serial_ = 0;
  std::optional<std::uint64_t> forgotten_through_;  // the highest block of a key no longer in keys_
  // Logs the client was last told are removed (the newest kMaxRecent): if their block comes back
  // they are delivered again, never taken for a lagging node's repeats.
  std::unordered_set<LogKey, LogKeyHash> removed_;
  boost::container::deque<LogKey> removed_order_;
  std::set<std::uint64_t> reorged_heights_;  // of the logs in removed_, and a few more

  bool filling_ = false;
  bool retried_ = false;  // the fill under way was started again after a fetch timed out
  bool fill_after_mark_ = false;  // a switch came before the head at subscription time
  // The gap of not knowing where the stream stood is counted, and no log or fill has ended it yet:
  // the head asked in its place may be far below the subscription's real start (a node behind),
  // so a range from there longer than the bound is part of that same gap.
  bool unanchored_open_ = false;
  std::optional<std::uint64_t> verify_from_;  // logs above the upstream's head, not yet checked
  std::optional<std::uint64_t> reached_;      // the block of the log that started that check
  std::optional<std::uint64_t> proven_;       // the same for the fill under way (its confirm)
  std::pair<std::uint64_t, std::uint64_t> range_{};
  boost::container::deque<std::pair<std::string, bool>> held_;
  std::unordered_map<std::uint64_t, Phase> asked_;
  std::uint64_t next_tag_ = 1;
};

}  // namespace

std::unique_ptr<Stream> make_log_stream(json filter, std::string client_subscription_id, std::size_t depth) {
  return std::make_unique<LogStream>(std::move(filter), std::move(client_subscription_id), depth);
}

}  // namespace vixy::ws::gapless::detail
