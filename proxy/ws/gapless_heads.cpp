// The newHeads stream: no missing height and no repeated hash across upstream switches (I7).
#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <unordered_map>

#include <boost/container/deque.hpp>

#include "jsonrpc/jsonrpc.hpp"
#include "ws/gapless_detail.hpp"

namespace vixy::ws::gapless::detail {
namespace {

using nlohmann::json;
namespace raw = jsonrpc::raw;


std::optional<HeadFields> head_fields(const json& block) {
  if (!block.is_object()) return std::nullopt;
  auto text = [&](const char* key) -> std::string_view {
    auto it = block.find(key);
    return it != block.end() && it->is_string() ? std::string_view(it->get_ref<const std::string&>()) : "";
  };
  auto number = jsonrpc::from_quantity(text("number"));
  auto hash = parse_hash(text("hash"));
  auto parent = parse_hash(text("parentHash"));
  if (!number || !hash || !parent) return std::nullopt;
  return HeadFields{*number, *hash, *parent};
}

struct Fetched {
  HeadFields fields;
  json block;
};

// A node holds back at most this many heads while a fill is under way; a fill that falls this
// far behind is given up (counted as a gap) rather than buffering without bound.
constexpr std::size_t kMaxHeldHeads = 1024;

class HeadStream final : public Stream {
 public:
  explicit HeadStream(std::size_t depth) : depth_(std::max<std::size_t>(depth, 1)) {}

  using Stream::notification;
  // Heads need only know whether an upstream was left: a head says where it stands by itself.
  void notification(std::string&& text, const Facts& facts, Via via, Effects& out) override {
    if (filling_) {
      held_.push_back({std::move(text), via.retired});  // its facts are read again when its turn comes
      if (held_.size() > kMaxHeldHeads) finish(false, out);
      return;
    }
    accept(std::move(text), facts, via.retired, out);
  }
  Kind kind() const override { return Kind::new_heads; }

  void fetched(std::uint64_t tag, const json* result, Effects& out) override {
    auto asked = asked_.find(tag);
    if (!filling_ || asked == asked_.end()) return;  // from a fill given up since
    std::optional<std::uint64_t> number = asked->second;
    asked_.erase(asked);
    auto fields = result ? head_fields(*result) : std::nullopt;
    if (!fields || (number && fields->number != *number)) {
      failed_ = true;  // null (the node does not have it), an error, or not a block
    } else if (number) {
      by_number_[*number] = Fetched{*fields, *result};
    } else {
      chain_.push_back(Fetched{*fields, *result});
    }
    advance(out);
  }

  void established(bool, Effects&) override {}  // the next head shows whether anything is missing

  void abandoned(std::uint64_t tag, bool lost, Effects& out) override {
    if (!filling_ || asked_.erase(tag) == 0) return;
    if (lost) {
      // The node that owed the answers is gone. Nothing of this fill was delivered, so forgetting
      // it (and the heads it held back) leaves the next head from the new upstream to fill the
      // whole gap from there.
      reset_fill();
      held_.clear();
      return;
    }
    failed_ = true;
    asked_.clear();
    advance(out);
  }

 private:
  // A block's hash commits to its number, so only the delivered head at that height can match
  // (every head is checked against every session's history: no scan of all `depth` hashes).
  bool delivered(std::uint64_t number, const Hash& hash) const {
    // Mostly a new head on top of the last one: settled by the newest entry.
    if (delivered_.empty() || number > delivered_.back().number) return false;
    if (number == delivered_.back().number) return delivered_.back().hash == fingerprint(hash);
    auto at = std::lower_bound(delivered_.begin(), delivered_.end(), number,
                               [](const Delivered& head, std::uint64_t n) { return head.number < n; });
    return at != delivered_.end() && at->number == number && at->hash == fingerprint(hash);
  }

  void record(const HeadFields& head) {
    // A head at a height already delivered replaces that branch (a reorg).
    while (!delivered_.empty() && delivered_.back().number >= head.number) delivered_.pop_back();
    lowest_ = std::min(lowest_, head.number);
    delivered_.push_back({head.number, fingerprint(head.hash)});
    while (delivered_.size() > depth_) delivered_.pop_front();
  }

  // `facts` may view `text`: it is moved only on the way out.
  void accept(std::string&& text, const Facts& facts, bool retired, Effects& out) {
    const auto& head = facts.head;
    if (!head) {
      if (!retired) out.deliver.push_back(std::move(text));  // not a header we can follow
      return;
    }
    if (delivered(head->number, head->hash)) {
      ++out.duplicates;
      return;
    }
    // Below every head remembered: a node that lags (often one just failed back to) announcing
    // heights the client already has. Taking it would send the client back down the chain and
    // then through every height again; the node's head at the client's height is checked instead.
    if (!delivered_.empty() && head->number < delivered_.front().number) {
      ++out.duplicates;
      return;
    }
    if (delivered_.empty() || (head->number > 0 && delivered(head->number - 1, head->parent))) {
      record(*head);
      out.deliver.push_back(std::move(text));
      return;
    }
    // The upstream being left is not asked to fill anything: the new one is authoritative, and
    // its own next head fills whatever this one would have.
    if (retired) return;
    start_fill(std::move(text), *head, out);
  }

  void start_fill(std::string text, const HeadFields& head, Effects& out) {
    filling_ = true;
    target_ = head;
    target_text_ = std::move(text);
    std::uint64_t last = delivered_.back().number;
    if (head.number > last + 1) {
      // Ask for the whole missing range at once; heights are only a guess at the parent chain
      // (the node may have reorged it), which advance() checks hash by hash.
      std::uint64_t low = std::max<std::uint64_t>(last + 1, head.number > depth_ ? head.number - depth_ : 0);
      for (std::uint64_t n = low; n < head.number; ++n) {
        ask(n, {"eth_getBlockByNumber", json::array({jsonrpc::to_quantity(n), false})}, out);
      }
    }
    advance(out);
  }

  void ask(std::optional<std::uint64_t> number, std::pair<const char*, json> call, Effects& out) {
    std::uint64_t tag = next_tag_++;
    asked_[tag] = number;
    out.fetch.push_back(Fetch{tag, call.first, std::move(call.second)});
  }

  // Walks down from the target through its parents until one was delivered (anchored), asking for
  // blocks by hash where the by-number answers do not link up.
  void advance(Effects& out) {
    while (true) {
      const HeadFields& low = chain_.empty() ? target_ : chain_.back().fields;
      if (low.number > 0 && delivered(low.number - 1, low.parent)) return finish(true, out);
      // Below the lowest head the client ever got (the subscription's start, or a reorg under
      // it): nothing there is the client's, so nothing is missing.
      if (low.number == 0 || low.number - 1 < lowest_) return finish(true, out);
      bool below_memory = low.number == 0 || low.number - 1 < delivered_.front().number;
      if (failed_ || chain_.size() >= depth_ || below_memory) return finish(false, out);
      auto it = by_number_.find(low.number - 1);
      if (it != by_number_.end() && it->second.fields.hash == low.parent) {
        chain_.push_back(std::move(it->second));
        by_number_.erase(it);
        continue;
      }
      if (!asked_.empty()) return;  // more answers are on their way
      ask(std::nullopt, {"eth_getBlockByHash", json::array({hash_hex(low.parent), false})}, out);
      return;
    }
  }

  // Delivers what the fill found, oldest first, then the head that started it, then what waited.
  void finish(bool anchored, Effects& out) {
    if (!anchored) ++out.gaps;
    json shape = jsonrpc::parse(result_span(target_text_)->of(target_text_)).value_or(json());
    for (auto it = chain_.rbegin(); it != chain_.rend(); ++it) {
      out.deliver.push_back(shaped(*it, shape));
      record(it->fields);
      ++out.backfilled;
    }
    record(target_);
    out.deliver.push_back(std::move(target_text_));
    reset_fill();
    while (!filling_ && !held_.empty()) {
      auto [text, retired] = std::move(held_.front());
      held_.pop_front();
      Facts facts = facts_of(Kind::new_heads, text);
      accept(std::move(text), facts, retired, out);
    }
  }

  // A fetched block shaped like the head notification that started the fill: the same envelope
  // and subscription id, and only the fields the node puts in its newHeads (a block also carries
  // transactions, uncles, size, ...).
  std::string shaped(const Fetched& fetched, const json& shape) const {
    json header = json::object();
    if (shape.is_object()) {
      for (const auto& [key, value] : fetched.block.items()) {
        if (shape.contains(key)) header[key] = value;
      }
    } else {
      header = fetched.block;
    }
    auto span = *result_span(target_text_);
    std::string out = target_text_.substr(0, span.begin);
    out += header.dump();
    out += std::string_view(target_text_).substr(span.end);
    return out;
  }

  void reset_fill() {
    filling_ = false;
    failed_ = false;
    asked_.clear();
    by_number_.clear();
    chain_.clear();
  }

  // A delivered head is remembered by its number and 8 of its hash's 32 bytes: a session keeps
  // `depth` of them per subscription (2 KiB at 128, not 5), and a false match needs two blocks at
  // one height whose hashes agree in those 64 bits. A hash's bytes are already uniform.
  static std::uint64_t fingerprint(const Hash& hash) {
    std::uint64_t out = 0;
    std::memcpy(&out, hash.data(), sizeof out);
    return out;
  }
  struct Delivered {
    std::uint64_t number = 0;
    std::uint64_t hash = 0;  // fingerprint()
  };
  std::size_t depth_;
  // Boost's deque allocates nothing while empty (std::deque takes 576 bytes): sessions are many.
  boost::container::deque<Delivered> delivered_;  // the delivered branch, ascending heights, at most depth_
  std::uint64_t lowest_ = std::numeric_limits<std::uint64_t>::max();  // the lowest height ever delivered

  bool filling_ = false;
  bool failed_ = false;
  HeadFields target_;
  std::string target_text_;
  boost::container::deque<std::pair<std::string, bool>> held_;  // (notification, retired) waiting for the fill
  std::unordered_map<std::uint64_t, std::optional<std::uint64_t>> asked_;  // tag -> height, or by hash
  std::map<std::uint64_t, Fetched> by_number_;
  std::vector<Fetched> chain_;  // the target's ancestors found so far, newest first
  std::uint64_t next_tag_ = 1;
};

}  // namespace

std::unique_ptr<Stream> make_head_stream(std::size_t depth) { return std::make_unique<HeadStream>(depth); }

}  // namespace vixy::ws::gapless::detail
