// The node multiplexer must be invisible to each channel: whatever many channels do on a few shared
// sockets, in any interleaving with the node's answers, notifications and socket losses, each
// channel sees what a connection of its own would show it. Checked after every action:
//   * an answer carries an id the channel is waiting on, and the result of its own request;
//   * a subscribe is answered with an id the channel holds nowhere else, an unsubscribe with true;
//   * notifications come only under ids the channel holds;
//   * nothing reaches a channel that is not up, was closed, or was told its connection is down;
// and once the node has answered everything, every channel that is still up has all its answers,
// and the node holds exactly the distinct subscriptions the channels still use.

#include <map>
#include <set>
#include <tuple>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "check_many.hpp"
#include "ws/multiplexer.hpp"

namespace vixy::ws::mux {
namespace {

using nlohmann::json;

struct NodeSocket {
  bool open = false;
  std::vector<json> inbox;                // messages the node has not answered yet
  std::map<std::string, std::string> subscriptions;  // live upstream subscriptions -> what they are
  unsigned next_subscription = 1;
};

struct Waiting {
  enum Kind { request, subscribe, unsubscribe } kind = request;
  json expected;       // request: the result; subscribe: what it asks for (canonical params)
  std::string alias;   // unsubscribe: what it ends
};

struct ChannelModel {
  bool closed = false;
  bool up = false;
  bool down = false;
  std::map<std::string, Waiting> waiting;  // by the raw id the channel sent
  std::map<std::string, std::string> subscriptions;  // alias -> what it is
  unsigned next_id = 1;
};

const json kParams[] = {json::array({"0x10", false}), json::array({"0x11", false}), json::array()};
const char* const kMethods[] = {"eth_getBlockByNumber", "eth_call", "eth_blockNumber"};
const json kSubscribes[] = {json::array({"newHeads"}), json::parse(R"(["logs",{"a":1,"b":[2]}])"),
                            json::parse(R"(["logs",{"b":[2],"a":1}])")};

class World {
 public:
  Multiplexer mux{Settings{2}};
  std::map<SocketId, NodeSocket> sockets;
  std::map<ChannelId, ChannelModel> channels;
  ChannelId next_channel = 1;
  std::set<std::string> all_aliases;  // every subscription id a channel was ever given

  void run() {
    for (auto& action : mux.take_actions()) std::visit([this](auto& a) { on(a); }, action);
  }

  void on(const OpenSocket& a) {
    RC_ASSERT(!sockets.contains(a.socket));
    sockets[a.socket];
  }
  void on(const CloseSocket& a) { sockets.erase(a.socket); }
  void on(const ToSocket& a) {
    auto it = sockets.find(a.socket);
    RC_ASSERT(it != sockets.end());
    RC_ASSERT(it->second.open);
    auto message = json::parse(a.text, nullptr, false);
    RC_ASSERT(message.is_object());
    it->second.inbox.push_back(std::move(message));
  }
  void on(const ChannelUp& a) {
    auto& c = channels.at(a.channel);
    RC_ASSERT(!c.closed && !c.down && !c.up);
    c.up = true;
  }
  void on(const ChannelDown& a) {
    auto& c = channels.at(a.channel);
    RC_ASSERT(!c.closed && !c.down);
    c.down = true;
    c.waiting.clear();
    c.subscriptions.clear();
  }
  void on(const Notify& a) {
    // Read once for every channel: what it says must be what its text says.
    std::string text = a.note->text_for(a.alias);
    auto message = json::parse(text, nullptr, false);
    RC_ASSERT(message.is_object());
    RC_ASSERT(a.note->facts().result.has_value());
    RC_ASSERT(json::parse(*a.note->facts().result) == message["params"]["result"]);
    on(ToChannel{a.channel, std::move(text)});
  }
  void on(const ToChannel& a) {
    auto& c = channels.at(a.channel);
    RC_ASSERT(!c.closed && !c.down && c.up);
    auto message = json::parse(a.text, nullptr, false);
    RC_ASSERT(message.is_object());
    if (!message.contains("id")) {
      // Under an id the channel holds, and a notification of what that subscription asked for.
      auto held = c.subscriptions.find(message["params"]["subscription"].get<std::string>());
      RC_ASSERT(held != c.subscriptions.end());
      RC_ASSERT(message["params"]["result"]["of"] == held->second);
      return;
    }
    auto found = c.waiting.find(message["id"].dump());
    RC_ASSERT(found != c.waiting.end());
    Waiting waiting = std::move(found->second);
    c.waiting.erase(found);
    switch (waiting.kind) {
      case Waiting::request:
        RC_ASSERT(message["result"] == waiting.expected);
        break;
      case Waiting::subscribe: {
        RC_ASSERT(message["result"].is_string());
        auto alias = message["result"].get<std::string>();
        RC_ASSERT(all_aliases.insert(alias).second);
        c.subscriptions[alias] = waiting.expected.get<std::string>();
        break;
      }
      case Waiting::unsubscribe:
        RC_ASSERT(message["result"] == true);
        c.subscriptions.erase(waiting.alias);
        break;
    }
  }

  template <class Map>
  static auto pick(Map& map, unsigned n, auto&& usable) -> typename Map::iterator {
    std::vector<typename Map::iterator> options;
    for (auto it = map.begin(); it != map.end(); ++it)
      if (usable(it->second)) options.push_back(it);
    return options.empty() ? map.end() : options[n % options.size()];
  }
  std::map<ChannelId, ChannelModel>::iterator usable_channel(unsigned n) {
    return pick(channels, n, [](const ChannelModel& c) { return !c.closed && !c.down && c.up; });
  }

  void send(ChannelId channel, ChannelModel& c, const std::string& method, const json& params, Waiting waiting) {
    std::string id = std::to_string(c.next_id++);
    c.waiting[id] = std::move(waiting);
    mux.send(channel, json{{"jsonrpc", "2.0"}, {"id", std::stoull(id)}, {"method", method}, {"params", params}}.dump());
  }

  // The node's answer to one message: subscriptions get fresh ids, everything else an echo.
  void answer(SocketId socket, NodeSocket& node, std::size_t index) {
    json message = std::move(node.inbox[index]);
    node.inbox.erase(node.inbox.begin() + static_cast<std::ptrdiff_t>(index));
    json result;
    std::string method = message["method"];
    if (method == "eth_subscribe") {
      std::string id = "0xs" + std::to_string(socket) + "_" + std::to_string(node.next_subscription++);
      node.subscriptions[id] = message["params"].dump();
      result = id;
    } else if (method == "eth_unsubscribe") {
      result = node.subscriptions.erase(message["params"][0].get<std::string>()) == 1;
    } else {
      result = method + message["params"].dump();
    }
    mux.socket_text(socket, json{{"jsonrpc", "2.0"}, {"id", message["id"]}, {"result", result}}.dump());
  }

  void step(unsigned op, unsigned a, unsigned b) {
    switch (op % 10) {
      case 0: {
        ChannelId id = next_channel++;
        channels[id];
        mux.open(id);
        break;
      }
      case 1: {
        auto it = pick(channels, a, [](const ChannelModel& c) { return !c.closed && !c.down; });
        if (it == channels.end()) break;
        it->second.closed = true;
        mux.close(it->first);
        break;
      }
      case 2: case 3: {
        auto it = usable_channel(a);
        if (it == channels.end()) break;
        const char* method = kMethods[b % 3];
        const json& params = kParams[(b / 3) % 3];
        send(it->first, it->second, method, params, Waiting{Waiting::request, method + params.dump(), {}});
        break;
      }
      case 4: {
        auto it = usable_channel(a);
        if (it == channels.end()) break;
        const json& params = kSubscribes[b % 3];
        send(it->first, it->second, "eth_subscribe", params, Waiting{Waiting::subscribe, params.dump(), {}});
        break;
      }
      case 5: {
        auto it = usable_channel(a);
        if (it == channels.end() || it->second.subscriptions.empty()) break;
        auto alias = std::next(it->second.subscriptions.begin(),
                               static_cast<std::ptrdiff_t>(b % it->second.subscriptions.size()))->first;
        send(it->first, it->second, "eth_unsubscribe", json::array({alias}), Waiting{Waiting::unsubscribe, {}, alias});
        break;
      }
      case 6: case 7: {
        auto it = pick(sockets, a, [](const NodeSocket& s) { return s.open && !s.inbox.empty(); });
        if (it == sockets.end()) break;
        answer(it->first, it->second, b % it->second.inbox.size());
        break;
      }
      case 8: {
        auto it = pick(sockets, a, [](const NodeSocket& s) { return s.open && !s.subscriptions.empty(); });
        if (it == sockets.end()) break;
        const auto& [subscription, what] = *std::next(it->second.subscriptions.begin(),
                                                      static_cast<std::ptrdiff_t>(b % it->second.subscriptions.size()));
        json result{{"of", what}, {"n", b}};
        mux.socket_text(it->first, json{{"jsonrpc", "2.0"}, {"method", "eth_subscription"},
                                        {"params", {{"subscription", subscription}, {"result", result}}}}.dump());
        break;
      }
      case 9: {
        auto it = pick(sockets, a, [](const NodeSocket&) { return true; });
        if (it == sockets.end()) break;
        if (!it->second.open && b % 3 != 0) {
          it->second.open = true;
          mux.socket_open(it->first);
        } else {
          SocketId socket = it->first;
          sockets.erase(it);
          mux.socket_lost(socket);
        }
        break;
      }
    }
    run();
  }

  // The node opens every socket and answers everything, until nothing is left.
  void settle() {
    for (bool busy = true; busy;) {
      busy = false;
      for (auto& [socket, node] : sockets) {
        if (!node.open) {
          node.open = true;
          mux.socket_open(socket);
          busy = true;
        } else if (!node.inbox.empty()) {
          answer(socket, node, 0);
          busy = true;
        }
        run();
        if (busy) break;  // the map may have changed
      }
    }
  }
};

// 2,000 sequences of up to 150 steps: about ten seconds under ASan.
TEST(WsMultiplexerProps, EveryChannelSeesAConnectionOfItsOwn) {
  vixy::testing::check_many(2'000, 150, [](const std::vector<std::tuple<unsigned, unsigned, unsigned>>& steps) {
  World world;
  for (const auto& [op, a, b] : steps) world.step(op, a, b);
  world.settle();
  std::size_t held = 0;
  for (const auto& [id, c] : world.channels) {
    if (c.closed || c.down) continue;
    RC_ASSERT(c.up);
    RC_ASSERT(c.waiting.empty());
    held += c.subscriptions.size();
  }
  RC_ASSERT(world.mux.subscribers() == held);
  std::size_t at_node = 0;
  for (const auto& [socket, node] : world.sockets) at_node += node.subscriptions.size();
  RC_ASSERT(world.mux.subscriptions() == at_node);
  RC_ASSERT(world.mux.in_flight() == 0u);
  // No subscription on the node without a channel using it, and none shared beyond need: at most
  // one per distinct subscription (two kinds here) per socket.
  RC_ASSERT(at_node <= 2 * world.sockets.size());
  if (held == 0) RC_ASSERT(at_node == 0u);
  });
}

}  // namespace
}  // namespace vixy::ws::mux
