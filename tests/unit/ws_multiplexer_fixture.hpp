#pragma once
// The scripted multiplexer tests' fixture: a Multiplexer, its actions collected, and what they
// sent to the node and to each channel.
#include <map>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ws/multiplexer.hpp"

namespace mux = vixy::ws::mux;
using nlohmann::json;

namespace {

struct Sent {
  mux::SocketId socket;
  json message;
};

class Mux : public ::testing::Test {
 protected:
  mux::Multiplexer m{mux::Settings{2}};
  std::vector<mux::Action> actions;

  void take() {
    auto more = m.take_actions();
    actions.insert(actions.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  template <class T>
  std::vector<T> drain() {
    take();
    std::vector<T> out;
    std::vector<mux::Action> rest;
    for (auto& action : actions) {
      if (auto* wanted = std::get_if<T>(&action)) {
        out.push_back(std::move(*wanted));
      } else {
        rest.push_back(std::move(action));
      }
    }
    actions = std::move(rest);
    return out;
  }
  std::vector<Sent> to_node() {
    std::vector<Sent> out;
    for (auto& send : drain<mux::ToSocket>()) out.push_back({send.socket, json::parse(send.text)});
    return out;
  }
  // What each channel received, as text, in order: a Notify as the text it stands for (the node's
  // message under the channel's alias).
  std::map<mux::ChannelId, std::vector<std::string>> to_channels() {
    take();
    std::map<mux::ChannelId, std::vector<std::string>> out;
    std::vector<mux::Action> rest;
    for (auto& action : actions) {
      if (auto* text = std::get_if<mux::ToChannel>(&action)) {
        out[text->channel].push_back(text->text);
      } else if (auto* note = std::get_if<mux::Notify>(&action)) {
        out[note->channel].push_back(note->note->text_for(note->alias));
      } else {
        rest.push_back(std::move(action));
      }
    }
    actions = std::move(rest);
    return out;
  }
  // Opens channels on a multiplexer with room for `sockets` sockets and brings every socket up.
  void open_all(std::initializer_list<mux::ChannelId> channels) {
    for (auto channel : channels) m.open(channel);
    for (auto& open : drain<mux::OpenSocket>()) m.socket_open(open.socket);
    EXPECT_EQ(drain<mux::ChannelUp>().size(), channels.size());
  }
  // One socket, channels 1 and 2 open, channel 1 subscribed to every log as node subscription
  // "0xup": the socket (0 when the node was not asked as expected).
  mux::SocketId one_socket_with_logs_subscription() {
    m = mux::Multiplexer{mux::Settings{1}};
    open_all({1, 2});
    m.send(1, request(1, "eth_subscribe", json::array({"logs", json::object()})));
    auto sent = to_node();
    EXPECT_EQ(sent.size(), 1u);
    if (sent.size() != 1) return 0;
    m.socket_text(sent[0].socket, answer(sent[0].message["id"], R"("0xup")"));
    return sent[0].socket;
  }
  static std::string request(int id, const std::string& method, const json& params) {
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
  }
  static std::string answer(const json& id, const std::string& result_json) {
    return R"({"jsonrpc":"2.0","id":)" + id.dump() + R"(,"result":)" + result_json + "}";
  }
  static std::string notification(const std::string& subscription, const std::string& result_json) {
    return R"({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":")" + subscription +
           R"(","result":)" + result_json + "}}";
  }
};

}  // namespace
