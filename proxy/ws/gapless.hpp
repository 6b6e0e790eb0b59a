#pragma once
// Gapless subscriptions (invariant I7): what a client's subscription stream has delivered, so that
// a switch of upstream neither skips nor repeats anything. One Stream per client subscription of a
// kind that can be checked; the session core feeds it the subscription's notifications (already
// carrying the client's subscription id) and carries out its Effects: texts for the client, and
// requests (Fetch) to send, with proxy-owned ids, on the upstream the subscription is bound to.
//
// Like the session core this is sans-I/O, so the model-based test can drive it through switches.
//
//  * newHeads: the hashes of the last `depth` delivered heads. A head whose parent was not
//    delivered starts a fill: the missing headers are fetched (by number, then by hash where a
//    reorg makes numbers ambiguous) and delivered first, oldest first, shaped like the head that
//    triggered it. Heads arriving meanwhile wait. A hash already delivered is dropped. A head that
//    replaces a delivered one (a reorg) is delivered, as a node would.
//  * logs: (blockHash, logIndex) of recent logs and how far the stream is known complete. After a
//    switch, eth_getLogs with the subscription's filter covers the blocks in between; delivered logs
//    that the new upstream's chain no longer has are sent again with "removed": true, as geth does.
//  * newPendingTransactions: duplicates within a recent window are dropped; nothing can be fetched.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace vixy::ws::gapless {

enum class Kind : std::uint8_t { new_heads, logs, pending_transactions, other };
inline constexpr std::size_t kCountedKinds = 3;  // every kind but `other`
// The subscription name a metric's `kind` label carries ("newHeads", "logs", ...).
const char* kind_label(Kind kind);

// What an eth_subscribe's params ask for; `filter` is the logs filter object ({} when absent).
struct Subscribed {
  Kind kind = Kind::other;
  nlohmann::json filter = nlohmann::json::object();
};
Subscribed classify(const nlohmann::json& params);

// Block hashes as 32 bytes, not 66 characters: a logs stream remembers the blocks of its recent
// logs (the newHeads history keeps only 8 bytes of each, see gapless_heads.cpp), and sessions are many.
using Hash = std::array<std::uint8_t, 32>;

struct HeadFields {
  std::uint64_t number = 0;
  Hash hash{};
  Hash parent{};
};
struct LogKey {
  Hash block{};
  std::uint64_t index = 0;
  bool operator==(const LogKey&) const = default;
};
struct LogFields {
  LogKey key;
  std::uint64_t number = 0;
  bool removed = false;
};

// What a notification's result says, as far as the streams follow it. Read once per node message
// by whoever hands it to many sessions (the node's multiplexer) instead of once per session.
// `result` views the text the facts were read from: valid while that text is.
struct Facts {
  std::optional<std::string_view> result;  // params.result; absent: nothing can be followed
  std::optional<HeadFields> head;          // newHeads: a header with number, hash and parentHash
  std::optional<LogFields> log;            // logs: a log with blockHash, logIndex and blockNumber
};
// The facts of a notification (`text` is the whole message) for a subscription of `kind`.
Facts facts_of(Kind kind, std::string_view text);

struct Fetch {
  std::uint64_t tag = 0;  // handed back with the answer
  std::string method;
  nlohmann::json params;
};

struct Effects {
  std::vector<std::string> deliver;  // to the client, in order
  std::vector<Fetch> fetch;          // to the subscription's current upstream
  std::uint64_t backfilled = 0;      // heads or logs delivered from a fetch
  std::uint64_t duplicates = 0;      // notifications dropped because the client had them
  std::uint64_t gaps = 0;            // gaps that could not be filled (beyond the bound, errors)
};

// Which upstream subscription a notification came over.
struct Via {
  // One the subscription has moved away from (make-before-break): delivered only if it adds something.
  bool retired = false;
  // The one the client's subscribe made, its first: what it sends sets where the stream began.
  bool first = false;
};

class Stream {
 public:
  virtual ~Stream() = default;
  // A notification of this subscription, and its facts (facts_of this kind, from `text` or from the
  // node's message it was made from).
  virtual void notification(std::string&& text, const Facts& facts, Via via, Effects& out) = 0;
  // The same, with the facts read from `text`.
  void notification(std::string text, Via via, Effects& out) {
    Facts facts = facts_of(kind(), text);
    notification(std::move(text), facts, via, out);
  }
  virtual Kind kind() const = 0;
  // The result of a Fetch this stream asked for; nullptr for an error answer.
  virtual void fetched(std::uint64_t tag, const nlohmann::json* result, Effects& out) = 0;
  // The subscription is confirmed: first on its upstream (moved = false), or re-established on
  // another one after a switch (moved = true).
  virtual void established(bool moved, Effects& out) = 0;
  // A Fetch will not be answered: its upstream is gone (lost), or it timed out.
  virtual void abandoned(std::uint64_t tag, bool lost, Effects& out) = 0;
};

// nullptr for Kind::other: nothing is tracked, notifications pass as they are.
std::unique_ptr<Stream> make_stream(const Subscribed& what, std::string client_subscription_id,
                                    std::size_t depth);

}  // namespace vixy::ws::gapless
