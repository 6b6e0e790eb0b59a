#pragma once
// Many WebSocket sessions (ws::SessionCore) sharing one node multiplexer (ws::mux::Multiplexer) per
// node, wired as the production adapter wires them, for the model-based test of issue 13
// (ws_shared_props.cpp). The single-session model (ws_model.hpp) proves I1–I7 for one core on
// connections of its own; this one proves that carrying many cores' connections as channels on a
// few shared sockets changes nothing any client can see.
//
// The fake nodes see sockets, not sessions: they answer what reaches a socket in any order, hand out
// upstream subscription ids "0x1", "0x2", … per socket (colliding across sockets on purpose), push
// newHeads and logs notifications as one shared chain (ws_model_chain.hpp) grows, and pending
// transactions on demand. Each client remembers what it asked and checks what it gets; the test
// also watches each channel (between core and multiplexer) and each socket. Expectations come from
// the contracts in ws/session_core.hpp, ws/multiplexer.hpp and ARCHITECTURE §4–5, never from the
// code under test.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ws/multiplexer.hpp"
#include "ws/session_core.hpp"
#include "ws_model.hpp"
#include "ws_model_chain.hpp"

namespace vixy::ws::shared_model {

using json = nlohmann::json;
using mux::ChannelId;
using mux::SocketId;
using std::chrono::milliseconds;

enum class SubKind { heads, logs, pending };

// What the clients subscribe to: a small set, so that identical subscriptions across sessions (and
// within one) are common; the two logs spellings are one subscription by value.
struct SubSpec {
  SubKind kind;
  std::string params;
};
const std::vector<SubSpec>& sub_specs();
// What a subscribe's params ask for, from the params alone (nodes and channels both need it).
std::optional<SubKind> sub_kind(const json& params);

enum class ExpectKind { plain, block, subscribe, unsubscribe_known, unsubscribe_unknown };

struct Expect {  // a client request waiting for its one answer
  std::string id;  // raw, byte-exact
  ExpectKind kind = ExpectKind::plain;
  std::uint64_t seq = 0;  // plain: its place in client order, echoed in the node's result
  std::string target;     // unsubscribe: the subscription id it names; block: the number asked for
  SubKind sub = SubKind::heads;
  TimePoint sent{};
};

struct ClientSub {
  SubKind kind = SubKind::heads;
  std::string id;  // as the client was given it
  bool unsubscribe_sent = false;
  bool unsubscribe_answered = false;
  std::optional<std::uint64_t> last_height;           // heads: the last delivered
  std::set<std::pair<std::string, std::string>> logs;  // logs: (blockHash, logIndex) delivered
  std::set<std::string> txs;                           // pending: delivered
  bool got = false;                                    // something arrived since the last mark
};

struct Client {
  std::unique_ptr<SessionCore> core;
  bool gone = false;  // the client closed its socket: the core is gone, its channels closed
  std::vector<Expect> expects;
  std::map<std::string, std::size_t> credits;  // error answers per raw id not yet tied to a request
  std::map<std::uint64_t, ClientSub> subs;     // by the seq of its eth_subscribe
  std::map<std::string, std::uint64_t> sub_by_id;
  std::vector<std::string> used_ids;
  std::uint64_t first_sent = 0;   // I4: highest seq that reached a node for the first time
  std::uint64_t heads_gaps = 0;   // the core's newHeads gap count when last looked at
  bool may_orphan = false;        // a subscribe failed late: the node may keep it (no unsubscribe)
};

// What the test sees of one channel, between its session and its multiplexer.
struct ChannelTrack {
  std::size_t session = 0;
  ConnectionId connection = 0;
  std::size_t node = 0;
  bool up = false;
  std::set<std::string> waiting;                    // raw ids sent and not answered yet
  std::map<std::string, SubKind> subscribing;       // raw id of an eth_subscribe sent -> kind
  std::map<std::string, std::string> unsubscribing;  // raw id of an eth_unsubscribe -> alias
  std::map<std::string, SubKind> aliases;           // subscription ids the channel holds
  std::optional<SocketId> socket;                   // where its messages were seen to arrive
};

struct UpSub {  // a subscription a node holds on a socket
  SubKind kind = SubKind::heads;
  std::string key;  // canonical params
  json filter;      // logs
};

struct NodeSocket {
  bool open = false;
  std::vector<json> inbox;                  // requests not answered yet
  std::map<std::string, UpSub> subs;        // upstream id -> what it is
  std::set<std::string> retiring;           // an eth_unsubscribe for it arrived, not yet answered
  std::multiset<std::string> subscribing;   // keys of eth_subscribes not answered yet
  std::uint64_t next_sub = 1;
};

class Cluster {
 public:
  static constexpr std::size_t kNodes = 3;  // 0, 1: primaries; 2: backup
  static constexpr milliseconds kTimeout{1'000}, kBackoff{100}, kBackoffMax{800};
  static constexpr std::size_t kBackfillDepth = 4;

  Cluster(std::size_t sessions, std::size_t max_pending, std::size_t max_sockets, unsigned health_mask);

  const std::string& violation() const { return violation_; }
  // What the sequence exercised (WS_SHARED_STATS=1 prints it): a test that passes should show why.
  std::string stats() const;

  // ---- clients ----
  void request(unsigned session, unsigned method, unsigned id_style);
  void read_block(unsigned session, unsigned number);
  void subscribe(unsigned session, unsigned spec);
  void unsubscribe(unsigned session, unsigned target);
  void leave(unsigned session);
  // ---- nodes ----
  void socket_open(unsigned pick);
  void socket_lost(unsigned pick);
  // `refuse`: a JSON-RPC error instead of the result (never for subscribes and unsubscribes, whose
  // refusal would leave the liveness and clean-up checks nothing to hold on to).
  void answer(unsigned pick, bool refuse = false);
  void produce();
  // Something nobody waits for: an answer to an id never sent, a notification of no subscription.
  void stray(unsigned pick, unsigned which);
  void notify_pending(unsigned pick);
  void health(unsigned mask);
  void advance(milliseconds by);
  // ---- the end ----
  // Every node healthy and answering everything until quiet: then every request has its answer and
  // every live subscription delivers.
  void drain();
  void check_live();
  // Every client unsubscribes what it holds (and those that may have left an orphan leave): then no
  // node holds a subscription on a socket that is still open.
  void check_released();

 private:
  // wiring (ws_shared_model.cpp)
  void settle();
  // Open every socket and answer everything until nothing waits (ws_shared_model_end.cpp).
  void quiesce();
  bool settled() const;
  bool run_session(std::size_t session);
  bool run_mux(std::size_t node);
  void to_channel(ChannelId channel, const std::string& text);
  void on_channel_send(ChannelTrack& track, ChannelId channel, const std::string& text);
  // nodes (ws_shared_model_node.cpp)
  void on_socket(std::size_t node, SocketId socket, const std::string& text);
  json node_result(std::size_t node, SocketId socket, NodeSocket& state, const json& request);
  void notify(std::size_t node, SocketId socket, const std::string& upstream_id, const json& result);
  std::vector<std::pair<std::size_t, SocketId>> sockets_where(bool (*wanted)(const NodeSocket&)) const;
  // clients (ws_shared_model_client.cpp)
  static std::vector<NodeInfo> nodes();
  void add_session();
  void close_session(std::size_t session);
  void send_request(std::size_t session, Expect expect, const std::string& text);
  void on_client(std::size_t session, const std::string& text);
  void on_client_answer(std::size_t session, const std::string& text, const json& message);
  void on_client_notification(std::size_t session, const json& message);
  void check_bounds();
  void check_expired(std::size_t session);
  std::string fresh_id(Client& client, unsigned style, std::uint64_t seq);
  void fail(std::string message) {
    if (violation_.empty()) violation_ = std::move(message);
  }
  std::size_t live_session(unsigned pick) const;  // clients_.size() when none

  SessionSettings settings_;
  std::vector<Client> clients_;
  std::vector<mux::Multiplexer> muxes_;
  std::vector<std::map<SocketId, NodeSocket>> sockets_;  // by node
  std::vector<std::set<std::uint64_t>> node_ids_;        // ids in flight at each node
  std::map<ChannelId, ChannelTrack> channels_;
  std::map<std::pair<std::size_t, ConnectionId>, ChannelId> channel_of_;
  ChannelId next_channel_ = 1;
  std::map<std::uint64_t, ChannelId> seq_channel_;  // I4: the channel a client message last left on
  std::set<std::uint64_t> seq_seen_;                // client messages that reached a node
  std::set<std::string> minted_;                    // every subscription id any client was given
  std::vector<std::size_t> candidates_;
  model::Chain chain_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_tx_ = 1;
  std::uint64_t channel_messages_ = 0;  // ToChannel and Notify actions carried out
  TimePoint now_ = TimePoint{} + std::chrono::hours(1000);
  std::string violation_;
};

}  // namespace vixy::ws::shared_model
