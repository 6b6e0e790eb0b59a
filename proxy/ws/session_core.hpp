#pragma once
// One client's JSON-RPC-over-WebSocket session, as a state machine with no sockets, no timers and
// no threads (ARCHITECTURE §4). The socket adapter feeds it events and carries out the actions it
// returns; everything a client can observe is decided here, which is what lets a model-based test
// drive it through millions of interleavings and check invariants I1–I5 after every step.
//
// Upstream connections are named by a connection number the core allocates when it asks for one
// (Connect). Events from a connection the core has already given up on are ignored, so the adapter
// never needs to filter late callbacks itself.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include <boost/container/deque.hpp>
#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "jsonrpc/jsonrpc.hpp"
#include "jsonrpc/raw.hpp"
#include "routing/method_policy.hpp"
#include "ws/gapless.hpp"

namespace vixy::ws {

class Notification;  // ws/notification.hpp

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using ConnectionId = std::uint64_t;

// Error codes the proxy itself answers with.
using jsonrpc::kLimitExceeded;
inline constexpr int kProxyError = jsonrpc::kServerError;

struct SessionSettings {
  std::size_t max_pending_requests = 1024;  // client requests queued or in flight, per session
  std::size_t max_subscriptions = 1024;     // live subscriptions per session
  std::chrono::milliseconds request_timeout{30'000};  // proxy_timeout_ms
  std::chrono::milliseconds reconnect_backoff{100};      // first retry delay of a node that failed
  std::chrono::milliseconds reconnect_backoff_max{5'000};  // the delay doubles up to this
  std::size_t backfill_depth = 128;  // blocks a subscription's gap is filled over (I7)
  std::size_t max_pending_bytes = 16 * 1024 * 1024;  // the bytes of the requests max_pending_requests counts
  std::size_t max_json_depth = jsonrpc::raw::kDefaultMaxDepth;  // deeper client messages are refused
  std::size_t max_batch_size = 1000;                            // larger client batches are refused
  // [methods]: refused methods are answered "method not found" here; null serves every method.
  std::shared_ptr<const routing::MethodPolicy> methods{};
};

struct NodeInfo {
  std::string name;
  config::Tier tier = config::Tier::primary;
};

// ---- actions: what the adapter must do, in order ----
struct SendUpstream {
  ConnectionId connection;
  std::string text;
  // A subscription stream's fetch (I7): its answer is checked by the stream (heads link by hash,
  // logs are reconciled), so an answer the node gave a moment ago to the same question serves it
  // as well as a fresh one. The node's multiplexer may answer it from its cache.
  bool backfill = false;
};
struct SendClient {
  std::string text;
};
// Open a WebSocket to node `node` (index into the session's node list). Report the outcome with
// upstream_connected(connection) or upstream_lost(connection).
struct Connect {
  ConnectionId connection;
  std::size_t node;
};
// Close this upstream connection; no event is expected back (later ones are ignored).
struct Disconnect {
  ConnectionId connection;
};
using Action = std::variant<SendUpstream, SendClient, Connect, Disconnect>;

// Cumulative per-session counts; the adapter turns their growth into process-wide metrics.
struct SessionCounters {
  std::uint64_t client_messages = 0;           // text frames from the client
  std::uint64_t upstream_messages = 0;         // text frames from upstreams
  std::uint64_t connect_attempts_ok = 0;
  std::uint64_t connect_attempts_failed = 0;
  std::uint64_t reconnections = 0;             // switches of the active upstream after the first
  std::uint64_t failbacks = 0;                 // planned switches to a better tier
  std::uint64_t subscriptions_created = 0;     // client subscriptions confirmed (not replays)
  std::uint64_t subscriptions_replayed = 0;    // re-established on a new upstream
  std::uint64_t requests_resent = 0;           // in flight on a lost upstream, sent again
  std::uint64_t requests_outcome_unknown = 0;  // in flight on a lost upstream, not safe to repeat
  std::uint64_t requests_timed_out = 0;
  std::uint64_t queue_full_errors = 0;
  std::uint64_t methods_refused = 0;           // requests refused by [methods], never sent upstream
  std::uint64_t stray_upstream_messages = 0;   // answers or notifications nobody waits for
  std::uint64_t invalid_upstream_messages = 0;  // not JSON: dropped (an answer's client gets an error)
  struct Gapless {
    std::uint64_t backfilled = 0;  // heads or logs fetched and delivered to close a gap
    std::uint64_t duplicates = 0;  // notifications dropped because the client had them
    std::uint64_t gaps = 0;        // gaps left open (beyond backfill_depth, failed fetches)
  };
  std::array<Gapless, gapless::kCountedKinds> gapless{};  // by gapless::Kind
};

class SessionCore {
 public:
  // `nodes`: every EL node in configuration order (the indexes Connect and candidates use).
  // `salt` makes the subscription ids this session mints differ from other sessions'.
  SessionCore(std::vector<NodeInfo> nodes, SessionSettings settings, std::uint64_t salt);

  // ---- events ----
  // Start: connect to the best of `candidates` (healthy nodes, best first, as routing::el_candidates).
  void start(const std::vector<std::size_t>& candidates, TimePoint now);
  void client_text(std::string_view text, TimePoint now);
  void client_binary(TimePoint now);  // answered with an error: JSON-RPC travels in text frames
  void upstream_connected(ConnectionId connection, TimePoint now);
  void upstream_text(ConnectionId connection, std::string_view text, TimePoint now);
  // A notification the node's multiplexer read once for every session it goes to, for the
  // subscription this connection knows as `upstream_id` (what upstream_text would have been given,
  // with that id spliced in, but without reading the message again).
  void upstream_notification(ConnectionId connection, const Notification& note, std::string_view upstream_id,
                             TimePoint now);
  // The connection closed, failed, timed out connecting or went silent.
  void upstream_lost(ConnectionId connection, TimePoint now);
  // A reload added nodes the session may move to; their indexes follow those it has.
  void add_nodes(const std::vector<NodeInfo>& added);
  // A new health snapshot: the healthy nodes, best first. May trigger failover or failback; before
  // start() it only notes them.
  void health_changed(const std::vector<std::size_t>& candidates, TimePoint now);
  // Time passed: request timeouts, retry of upstreams. Call at next_deadline() (or later).
  void tick(TimePoint now);

  // ---- results ----
  std::vector<Action> take_actions();  // everything produced since the last call, in order
  std::optional<TimePoint> next_deadline() const;

  // ---- observation (metrics, /status, tests) ----
  const SessionCounters& counters() const { return counters_; }
  std::optional<std::size_t> active_node() const;  // node of the open upstream client traffic uses
  std::size_t subscription_count() const { return subscriptions_.size(); }
  std::size_t pending_requests() const { return pending_count_; }  // client messages queued + in flight
  std::size_t pending_bytes() const { return pending_bytes_; }      // their texts' bytes
  std::size_t queued_messages() const { return queue_.size(); }

 private:
  enum class Purpose : std::uint8_t {
    client_request,    // answer goes to the client under its own id
    client_subscribe,  // a client's eth_subscribe: the answer creates the subscription
    client_notice,     // a client's JSON-RPC notification (no id): forwarded, never answered
    replay,            // a subscription re-issued on a new upstream: answer consumed internally
    internal,          // the proxy's own message (unsubscribe of a binding it dropped)
    backfill,          // a subscription stream's fetch (I7): answer goes to the stream
  };
  struct Pending {
    Purpose purpose = Purpose::client_request;
    std::string client_id;  // raw JSON text of the client's id, byte-exact
    std::string method;
    std::string text;       // the message; its id (or a new one) is written when sent
    std::optional<jsonrpc::raw::Span> id_span;  // where the client's id is in `text`
    bool repeatable = false;
    TimePoint deadline{};
    std::uint64_t subscription = 0;  // replay, backfill: the subscription it serves
    std::uint64_t tag = 0;           // backfill: the stream's name for the fetch
    gapless::Subscribed subscribed;  // client_subscribe: what it asks for, read when it was parsed
    std::uint64_t batch = 0;         // 0: not part of a batch
    std::size_t batch_slot = 0;
    ConnectionId connection = 0;     // 0 while queued
  };
  struct Batch {
    std::vector<std::optional<std::string>> slots;  // answers in request order; nullopt: waiting
    std::size_t waiting = 0;
    bool building = true;  // still reading the client's array: do not send yet
  };
  struct Subscription {
    std::string client_id;       // what the client was given (minted by the proxy)
    std::string subscribe_text;  // the client's eth_subscribe, re-issued on a new upstream
    std::optional<jsonrpc::raw::Span> id_span;
    ConnectionId connection = 0;  // the upstream it is established on; 0: none
    std::string upstream_id;      // its id there
    bool replay_in_flight = false;
    // Its first binding, the one the client's subscribe made: a stream tells where it began by
    // what came over it, which may still be coming after later moves (make-before-break).
    ConnectionId first_connection = 0;
    std::string first_upstream_id;
    gapless::Kind kind = gapless::Kind::other;
    std::unique_ptr<gapless::Stream> stream;  // what was delivered; null for kinds not tracked
  };
  enum class LinkState : std::uint8_t { connecting, open };
  struct Link {
    std::size_t node = 0;
    LinkState state = LinkState::connecting;
    std::unordered_map<std::string, std::uint64_t> subscriptions;  // upstream sub id -> key
    // Subscriptions that moved to another upstream while this one still works (make-before-break):
    // their notifications still count until the link is released, deduplicated by the stream.
    std::unordered_map<std::string, std::uint64_t> retired;
  };
  struct NodeRetry {
    std::uint32_t failures = 0;
    TimePoint not_before{};
  };

  void handle_message(std::string_view text, std::uint64_t batch, TimePoint now);
  void handle_unsubscribe(Pending pending, std::string_view params_text);
  void admit(Pending pending);
  void release_client_slot(const Pending& pending);  // a client message left pending_ (answered or not)
  void unsubscribe_upstream(ConnectionId connection, const std::string& upstream_id);
  void send_internal(Purpose purpose, ConnectionId connection, const std::string& method, nlohmann::json params,
                     std::uint64_t subscription = 0, std::uint64_t tag = 0);
  void apply(std::uint64_t subscription, gapless::Effects effects);
  void abandon_fetches(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& fetches, bool lost);
  void answer(const Pending& pending, std::string text);
  void answer_error(const Pending& pending, int code, std::string_view message);
  void deliver(std::uint64_t batch, std::size_t slot, std::string text);
  void send(std::uint64_t key, ConnectionId connection);
  void flush_queue();
  void on_response(ConnectionId connection, std::uint64_t key, std::string_view text);
  // The node's answer to `key` is no JSON-RPC answer (`what` says why, after "the node's answer to M").
  void on_broken_answer(std::uint64_t key, std::string_view what);
  void on_notification(ConnectionId connection, std::string_view text);
  // The subscription a notification under `upstream_id` on `connection` is for, and whether it came
  // over the upstream that subscription just left; nullopt (counted stray) when it is nobody's.
  std::optional<std::pair<std::uint64_t, gapless::Via>> notified(ConnectionId connection, const std::string& upstream_id);
  void on_subscribed(ConnectionId connection, const Pending& pending, std::string_view text);
  void on_replayed(ConnectionId connection, const Pending& pending, std::string_view text);
  void replay_subscriptions(ConnectionId connection, TimePoint now);
  void bind(std::uint64_t subscription, ConnectionId connection, std::string upstream_id);
  void unbind(std::uint64_t subscription);
  void lose(ConnectionId connection, TimePoint now);
  void open_link(std::size_t node, bool planned);
  void connect_best(TimePoint now);
  void consider_switch(TimePoint now);
  void recheck_subscriptions();  // on the active upstream, after it recovered (see health_changed)
  void release_drained();
  bool in_flight_on(ConnectionId connection) const;
  std::optional<std::size_t> pick_node(TimePoint now, std::optional<std::size_t> better_than) const;
  std::size_t rank(std::size_t node) const;
  std::string mint_subscription_id();
  static std::uint64_t mix(std::uint64_t x);

  std::vector<NodeInfo> nodes_;
  SessionSettings settings_;
  std::uint64_t salt_;
  std::vector<std::size_t> candidates_;
  std::vector<NodeRetry> retry_;
  TimePoint now_{};
  TimePoint switch_checked_{};  // when a failover/failback decision last looked at the candidates

  std::map<ConnectionId, Link> links_;
  ConnectionId active_ = 0;   // carries client traffic (connecting or open); 0: none
  ConnectionId planned_ = 0;  // a better upstream being connected; 0: none
  ConnectionId next_connection_ = 1;
  bool had_open_upstream_ = false;
  bool started_ = false;  // start() was called: health changes before it only note the candidates

  // Keys are the ids sent upstream and grow in the order the client sent its messages, so map
  // order is client order and the first entry has the earliest deadline.
  std::map<std::uint64_t, Pending> pending_;
  // Boost's deque allocates nothing while empty (std::deque takes 576 bytes): sessions are many,
  // and most of these stay empty.
  boost::container::deque<std::uint64_t> queue_;  // keys waiting for an open upstream, ascending
  std::size_t pending_count_ = 0;    // client messages queued or in flight (the I5 bound)
  std::size_t pending_bytes_ = 0;    // their texts' bytes (the same bound in bytes)
  std::map<std::uint64_t, Batch> batches_;
  std::map<std::uint64_t, Subscription> subscriptions_;
  std::unordered_map<std::string, std::uint64_t> subscription_by_client_id_;
  std::uint64_t next_key_ = 1;
  std::uint64_t next_batch_ = 1;
  std::uint64_t next_subscription_ = 1;
  std::uint64_t minted_ = 0;

  std::vector<Action> actions_;
  SessionCounters counters_;
};

// Methods that may be sent again to another node when the first node was lost before answering:
// reads, and eth_sendRawTransaction (a node accepts the same signed transaction once).
bool safe_to_repeat(std::string_view method);

}  // namespace vixy::ws
