#pragma once
// The simulation's world (chaos/sim.hpp): one scheduler with a virtual clock, one seeded generator,
// the simulated nodes, the proxy's cores with the adapter logic of ws/session.cpp and
// ws/node_mux.cpp (no I/O), and the clients that record what they see. Internal to chaos/sim_*.cpp.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chaos/history.hpp"
#include "chaos/sim.hpp"
#include "config/config.hpp"
#include "fakenodes/chain.hpp"
#include "fakenodes/el_rpc.hpp"
#include "health/snapshot.hpp"
#include "ws/multiplexer.hpp"
#include "ws/session_core.hpp"

namespace vixy::chaos::sim {

using Time = SteadyTime;
using Ms = std::chrono::milliseconds;

// splitmix64: the same numbers from the same seed on every platform and library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  bool one_in(std::uint64_t n) { return below(n) == 0; }
  Ms between(Ms low, Ms high) {
    return low + Ms(static_cast<Ms::rep>(below(static_cast<std::uint64_t>((high - low).count()) + 1)));
  }

 private:
  std::uint64_t state_;
};

// Events in time order; events at the same time in the order they were scheduled.
class Scheduler {
 public:
  explicit Scheduler(Time origin) : now_(origin) {}
  Time now() const { return now_; }
  void at(Time when, std::function<void()> event) { events_.emplace(std::max(when, now_), std::move(event)); }
  void after(Ms delay, std::function<void()> event) { at(now_ + delay, std::move(event)); }
  void run_until(Time end);

 private:
  Time now_;
  std::multimap<Time, std::function<void()>> events_;
};

// One direction of a connection: messages arrive in the order sent (TCP), each after its delay.
struct Pipe {
  Time last{};
  Time arrival(Time now, Ms delay) {
    last = std::max(last, now + delay);
    return last;
  }
};

struct NodeConn {  // a node's side of one of the proxy's sockets
  fakenodes::SubscriptionTable subscriptions;
  Pipe to_proxy;
};

struct Node {
  std::string name;
  config::Tier tier = config::Tier::primary;
  fakenodes::Chain chain;
  std::uint64_t announced = 0;
  std::uint64_t lag = 0;
  bool down = false;    // killed: connects refused, connections closed
  bool silent = false;  // reads, never answers, notifies or pongs (a stalled node)
  Ms spike{0};          // extra network delay to and from it
  Ms slow{0};           // answers wait up to this long, each on its own (the fake node's method delays)
  // When each kind of fault ends: overlapping faults of a kind end with the last of them.
  enum Fault { kill, silence, lag_fault, slow_fault, spike_fault, kFaults };
  std::array<Time, kFaults> until{};
  std::map<ws::mux::SocketId, NodeConn> conns;
  std::uint64_t next_subscription = 1;
};

struct ProxySocket {  // the proxy's side of one multiplexer socket
  bool open = false;
  Time last_heard{};
  Pipe to_node;
};

struct NodeSide {  // one node's multiplexer and the sockets it asked for
  explicit NodeSide(ws::mux::Settings settings) : mux(settings) {}
  ws::mux::Multiplexer mux;
  std::map<ws::mux::SocketId, ProxySocket> sockets;
  bool processing = false;
};

struct Session {
  Session(std::vector<ws::NodeInfo> nodes, ws::SessionSettings settings, std::uint64_t salt)
      : core(std::move(nodes), settings, salt) {}
  ws::SessionCore core;
  int client = 0;
  std::map<ws::ConnectionId, std::pair<std::size_t, ws::mux::ChannelId>> channels;  // -> node, channel
  Time armed = Time::max();
  std::uint64_t timer = 0;  // the armed timer's number: re-arming cancels the one before, as in ws/session.cpp
  bool processing = false;
  bool closed = false;
};

struct Client {
  int index = 0;
  std::optional<std::size_t> history;  // the open connection's record in World::histories
  std::uint64_t session = 0;           // its session in World::sessions
  Pipe to_proxy, to_client;
  std::uint64_t next_id = 100;  // fresh ids never collide with the reused "7"
  std::map<std::string, std::string> subscribing;  // raw id of a subscribe in flight -> its params
  std::map<std::string, std::string> held;         // client subscription id -> its subscribe params
  std::map<std::string, int> outstanding;          // raw id -> requests under it not answered yet
  bool closing = false;                            // a reconnection waits for its answers first
  bool stopped = false;                            // the end of the run: no new requests
};

class World {
 public:
  explicit World(const Options& options);
  Result run();

  // ---- the network and the nodes (sim_world.cpp) ----
  Ms link_delay(std::size_t node);
  void node_receive(std::size_t node, ws::mux::SocketId socket, const std::string& text);
  void node_send(std::size_t node, ws::mux::SocketId socket, std::string text);
  void answer(std::size_t node, ws::mux::SocketId socket, const std::string& text);
  void block_clock(std::size_t node);
  void reorg(std::uint64_t depth, std::uint64_t fork_seed);
  void kill(std::size_t node);
  std::uint64_t head(const Node& node) const;
  std::int64_t epoch_ms() const;

  // ---- the proxy (sim_proxy.cpp) ----
  void mux_process(std::size_t node);
  void open_socket(std::size_t node, ws::mux::SocketId socket);
  void proxy_receive(std::size_t node, ws::mux::SocketId socket, const std::string& text);
  void socket_lost(std::size_t node, ws::mux::SocketId socket);
  void watch_socket(std::size_t node, ws::mux::SocketId socket);
  void session_process(std::uint64_t session);
  void session_timer(std::uint64_t session, std::uint64_t timer);
  void health_round();
  std::uint64_t open_session(int client);  // and makes it the client's
  void close_session(std::uint64_t session);

  // ---- the clients (sim_clients.cpp) ----
  void client_connect(int client);
  void client_send(int client, std::string text);
  void client_receive(int client, std::size_t history, const std::string& text);
  void client_tick(int client);
  void client_close(int client);
  // A session's message for its client, while that connection is the client's open one (and the
  // bug, if one is asked for).
  void deliver_to_client(std::uint64_t session, std::string text);

  // ---- faults (sim.cpp) ----
  void draw_faults();
  // Starts a fault of `kind` on `node` at `at` for `length`: `on` now, `off` when the last fault of
  // that kind on the node ends.
  void fault(std::size_t node, Node::Fault kind, Time at, Ms length, std::function<void()> on,
             std::function<void()> off);

  Options options_;
  config::Config config_;  // the defaults vixy runs with: timeouts, health, the cores' settings
  ws::SessionSettings session_settings_;
  Rng rng_;
  Time origin_;
  Scheduler scheduler_;
  std::vector<Node> nodes_;
  std::vector<std::unique_ptr<NodeSide>> sides_;
  std::map<ws::mux::ChannelId, std::pair<std::uint64_t, ws::ConnectionId>> owners_;  // -> session, connection
  ws::mux::ChannelId next_channel_ = 1;
  std::map<std::uint64_t, std::unique_ptr<Session>> sessions_;
  std::uint64_t next_session_ = 1;
  health::LayerHealth el_;
  std::vector<std::size_t> candidates_;
  std::vector<Client> clients_;
  std::vector<ConnectionHistory> histories_;
  std::vector<fakenodes::Fork> forks_;
  std::vector<std::string> timeline_;
  std::optional<Time> primaries_healthy_since_;
  std::size_t messages_ = 0;
  std::uint64_t bug_count_ = 0;
  Time requests_end_{}, end_{};
};

inline constexpr std::uint64_t kBlockTimeMs = 1000;

}  // namespace vixy::chaos::sim
