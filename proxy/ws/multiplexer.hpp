#pragma once
// One node's WebSocket multiplexer: many sessions' upstream "connections" (channels) carried on a
// few real sockets, as a state machine with no sockets, no timers and no threads (ARCHITECTURE §4,
// "Sharing and threads"). The adapter feeds it channel and socket events and carries out the
// actions it returns.
//
// To every SessionCore a channel behaves exactly like a WebSocket of its own to the node: it sees
// answers under the ids it sent, and notifications under the subscription ids it was given. That is
// what keeps I1–I7 a per-session matter, proven by the session core's own model, while the node
// sees a handful of sockets:
//   * Ids. Every message a channel sends leaves under an id the multiplexer allocates, unique per
//     node; the answer is spliced back to the channel's id, byte for byte otherwise.
//   * Subscriptions. Channels on one socket asking for the same subscription (same canonical
//     params) share one upstream subscription. Each channel subscription gets an alias of its own
//     (a session may subscribe twice to the same thing), and a notification is checked and read
//     once, then handed to each alias as it is (Notify); the session splices in its client's id. The upstream subscription ends when its last
//     alias is unsubscribed or its channel leaves. An alias joining a logs subscription while a
//     block's logs are arriving starts with the next block (a client's first block is whole).
//   * Single flight. Identical fetches of the kinds sessions make after a switch (block headers,
//     logs, the block number) that are in flight at once go to the node once; every asker gets the
//     answer under its own id. This is what turns a failover's backfill herd into one fetch per
//     block. A fetch joins one in flight only if nothing has been read from the node since that
//     one was sent: its answer then reflects everything the joining session can have seen, as an
//     answer to a request of its own would (a head asked for before a block's logs arrived is
//     older than those logs, and a session that joined their subscription later would fill its
//     gap only up to that head and miss the block).
//   * Cache. A backfill's fetch that names its blocks (a header by number or hash, logs over a
//     numbered range or of one block) is answered from the answers the node gave in the last
//     cache_for, when one is there: sessions that move a few seconds apart fill the same gap with
//     one fetch per block, not one per session; and such a fetch joins an identical one in flight
//     whatever was read since, its answer being newer still. Only backfills read the cache: their streams check what
//     they are given (a header by number is taken only if its hash is the parent asked for; logs
//     are reconciled against what was delivered), so an answer from just before a reorg costs a
//     fetch by hash, not a wrong block. What can still go stale is dropped when the node shows a
//     reorg (a head at a known height with another hash, a removed log) or loses a socket.
//   * Loss. A socket that closes takes its channels with it (each gets ChannelDown, which the
//     session treats as upstream_lost and handles as it always did). A shared fetch whose socket
//     died is sent again on the socket of an asker that is still connected.
// Sharing is per socket, not per node: a channel's subscriptions then live and die with the socket
// its requests travel on, so losing a socket is exactly losing a dedicated connection.
//
// Why the invariants still hold per session: I1, every id a channel sends maps to exactly one entry
// here and its answer (or ChannelDown) reaches that channel once; I2, the multiplexer's own
// messages (unsubscribes of a subscription nobody uses) are answered to nobody; I3, notifications
// go only to aliases a channel holds, and an alias is dropped before its unsubscribe is answered;
// I4, a channel's messages all travel on its one socket, in order (a merged fetch is a read, whose
// order does not matter); I5, what is held here is bounded by what sessions hold (their pending
// bounds); I6 and I7 stay the session's decisions, fed the same answers a dedicated socket gives.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "jsonrpc/raw.hpp"
#include "ws/gapless.hpp"
#include "ws/notification.hpp"

namespace vixy::ws::mux {

using ChannelId = std::uint64_t;  // chosen by the adapter, unique while open
using SocketId = std::uint64_t;   // allocated here

using Clock = std::chrono::steady_clock;

struct Settings {
  std::size_t max_sockets = 4;  // [websocket] upstream_connections
  // A request unanswered this long after its last asker asked is forgotten (its late answer is
  // stray): by then every session has given up on it (request_timeout), and a node that answers
  // pings but never some requests must not grow the multiplexer without bound (I5).
  Clock::duration forget_after = std::chrono::minutes(2);
  Clock::duration cache_for = std::chrono::seconds(12);  // one mainnet slot
  std::size_t cache_bytes = std::size_t{4} << 20;         // answers kept, in all
};

// ---- actions ----
struct OpenSocket {  // connect; report socket_open or socket_lost
  SocketId socket;
};
struct CloseSocket {  // close; no event is expected back
  SocketId socket;
};
struct ToSocket {
  SocketId socket;
  std::string text;
};
struct ChannelUp {  // the channel's connection is open (upstream_connected)
  ChannelId channel;
};
struct ToChannel {  // a message from the node, as if on a connection of the channel's own
  ChannelId channel;
  std::string text;
};
struct Notify {  // a notification, read once (ws/notification.hpp), for the channel's subscription `alias`
  ChannelId channel;
  std::string alias;
  std::shared_ptr<const Notification> note;
};
struct ChannelDown {  // the channel's connection is gone (upstream_lost); the channel is forgotten
  ChannelId channel;
};
using Action = std::variant<OpenSocket, CloseSocket, ToSocket, ChannelUp, ToChannel, Notify, ChannelDown>;

struct Counters {
  std::uint64_t sent = 0;                // messages sent to the node
  std::uint64_t fetches_shared = 0;      // fetches answered by another channel's identical one
  std::uint64_t subscribes_shared = 0;   // subscribes answered by an existing upstream subscription
  std::uint64_t single_flight_sent = 0;  // fetches of the shareable kinds sent to the node
  std::uint64_t fetches_cached = 0;      // backfill fetches answered from the cache
  std::uint64_t stray = 0;               // node messages nobody waits for
  std::uint64_t forgotten = 0;           // requests dropped unanswered after forget_after
};

class Multiplexer {
 public:
  explicit Multiplexer(Settings settings);

  // ---- channel events (from sessions) ----
  void open(ChannelId channel);
  // One JSON-RPC message (an object with an id, as SessionCore sends them) on an open channel.
  // `backfill`: a subscription stream's fetch (SendUpstream::backfill), which the cache may answer.
  void send(ChannelId channel, std::string_view text, bool backfill = false);
  void close(ChannelId channel);  // no event is sent back; answers still due are dropped

  // ---- socket events (from the adapter's sockets) ----
  void socket_open(SocketId socket);
  void socket_text(SocketId socket, std::string_view text);
  void socket_lost(SocketId socket);

  std::vector<Action> take_actions();
  // The time now, before each batch of events: requests are stamped with it and, every so
  // often, those past forget_after are dropped. Without it nothing is ever forgotten.
  void advance(Clock::time_point now);

  // ---- observation ----
  std::size_t sockets() const { return sockets_.size(); }
  std::size_t channels() const { return channels_.size(); }
  std::size_t subscriptions() const { return shared_.size(); }  // distinct upstream subscriptions
  std::size_t subscribers() const { return aliases_.size(); }   // channel subscriptions on them
  std::size_t subscribers(gapless::Kind kind) const { return subscribers_by_kind_[static_cast<std::size_t>(kind)]; }
  std::size_t in_flight() const { return in_flight_.size(); }
  std::size_t cached() const { return cache_.size(); }
  const Counters& counters() const { return counters_; }

 private:
  struct Socket {
    bool open = false;
    std::set<ChannelId> channels;
    std::unordered_map<std::string, std::uint64_t> subscriptions;  // upstream sub id -> shared
  };
  struct Channel {
    SocketId socket = 0;
    bool up = false;
    std::set<std::string> aliases;
  };
  struct Asker {
    ChannelId channel = 0;
    std::string id;     // the channel's id, raw JSON text
    std::string alias;  // subscribe: what the channel is told its subscription is
    Clock::time_point at{};  // when it asked
  };
  enum class Kind : std::uint8_t { request, subscribe, internal };
  struct InFlight {
    Kind kind = Kind::request;
    SocketId socket = 0;
    std::vector<Asker> askers;
    std::string single_flight;  // its key in single_flight_; empty: not shared
    std::string text;           // single flight: the message, sent again if its socket dies
    std::size_t id_begin = 0, id_end = 0;  // where the id is in `text`
    std::uint64_t reads_before = 0;        // single flight: reads_ when it was sent
    Clock::time_point sent{};
    std::uint64_t shared = 0;   // subscribe: the upstream subscription it creates
    bool cacheable = false;     // a backfill asked: its answer goes to the cache
  };
  struct Cached {
    std::string text;         // the node's answer
    jsonrpc::raw::Span id;    // where its id is in `text`
    Clock::time_point at{};   // when it was read
    std::uint64_t order = 0;  // its place in cache_order_
  };
  struct Shared {
    SocketId socket = 0;
    std::string key;          // canonical params
    gapless::Kind kind = gapless::Kind::other;
    std::string upstream_id;  // empty until the node answered the subscribe
    std::uint64_t subscribing = 0;  // the subscribe in flight until then
    std::map<std::string, ChannelId> aliases;
    // logs: the blockHash of the last notification, and the aliases that joined after it came. A
    // node sends a block's logs one message each; an alias joining between two of them starts
    // with the next block, as the node's own subscription would start at a block's beginning.
    // A removed log is passed to every alias and ends the block (see on_notification).
    std::string block;
    std::set<std::string> joined_mid_block;
  };

  void subscribe(ChannelId channel, Channel& state, std::string id, std::string_view text,
                 std::string_view params);
  bool unsubscribe(Channel& state, std::string_view id, std::string_view params);
  void add_alias(std::uint64_t shared, const std::string& alias, ChannelId channel);
  void drop_alias(const std::string& alias);
  void end_shared(std::uint64_t shared, bool tell_node);
  std::uint64_t transmit(InFlight flight, std::string_view text, std::size_t id_begin, std::size_t id_end);
  void on_subscribed(InFlight& flight, std::string_view text, jsonrpc::raw::Span id);
  void on_notification(SocketId socket, std::string_view text);
  void remove_socket(SocketId socket);
  void resend_elsewhere(InFlight flight);
  void forget_stale();
  bool alive(const Asker& asker) const { return channels_.contains(asker.channel); }
  InFlight* joinable(const std::string& single_flight, bool any_age = false);
  void send_single_flight(InFlight flight);
  bool answer_from_cache(ChannelId channel, const std::string& id, const std::string& key);
  void remember(const std::string& key, std::string_view text, jsonrpc::raw::Span id);
  void trim_cache();
  void clear_cache();
  void watch_for_reorg(const Notification& note);
  SocketId pick_socket();
  std::string mint_alias();

  Settings settings_;
  std::map<SocketId, Socket> sockets_;
  std::map<ChannelId, Channel> channels_;
  std::map<std::uint64_t, InFlight> in_flight_;                    // by the id sent to the node
  std::unordered_map<std::string, std::uint64_t> single_flight_;  // method + params -> newest in flight
  std::uint64_t reads_ = 0;  // messages read from the node's sockets so far
  Clock::time_point now_{};
  Clock::time_point next_sweep_{};
  std::map<std::uint64_t, Shared> shared_;
  std::map<std::pair<SocketId, std::string>, std::uint64_t> shared_by_key_;
  std::unordered_map<std::string, std::uint64_t> aliases_;  // alias -> shared
  std::array<std::size_t, gapless::kCountedKinds + 1> subscribers_by_kind_{};
  std::unordered_map<std::string, Cached> cache_;                // by single-flight key
  std::deque<std::pair<std::string, std::uint64_t>> cache_order_;  // (key, order), oldest first
  std::size_t cache_bytes_ = 0;
  std::uint64_t next_cache_order_ = 1;
  std::map<std::uint64_t, std::array<std::uint8_t, 32>> recent_heads_;  // height -> hash, the last few
  SocketId next_socket_ = 1;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_shared_ = 1;
  std::uint64_t next_alias_ = 1;
  std::vector<Action> actions_;
  Counters counters_;
};

}  // namespace vixy::ws::mux
