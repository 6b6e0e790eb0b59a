// Scripted stories of a node's WebSocket multiplexer: ids, shared subscriptions, single flight and
// socket loss, each seen from the channels (which must not tell a shared socket from their own) and
// from the node (which must see one subscription and one fetch where many sessions asked).
#include "ws/multiplexer.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ws/gapless_detail.hpp"
#include "ws_multiplexer_fixture.hpp"

namespace {

TEST_F(Mux, ChannelsBeyondTheSocketLimitShareSocketsAndComeUpWithThem) {
  for (mux::ChannelId channel = 1; channel <= 5; ++channel) m.open(channel);
  auto opened = drain<mux::OpenSocket>();
  ASSERT_EQ(opened.size(), 2u);
  EXPECT_TRUE(drain<mux::ChannelUp>().empty());
  m.socket_open(opened[0].socket);
  m.socket_open(opened[1].socket);
  auto up = drain<mux::ChannelUp>();
  EXPECT_EQ(up.size(), 5u);
  EXPECT_EQ(m.sockets(), 2u);
  m.open(6);  // a socket is open already: up at once
  EXPECT_EQ(drain<mux::ChannelUp>().size(), 1u);
  EXPECT_TRUE(drain<mux::OpenSocket>().empty());
}

TEST_F(Mux, TheSameIdFromTwoChannelsLeavesAsTwoIdsAndComesBackToEachByteForByte) {
  mux::Multiplexer one{mux::Settings{1}};
  m = std::move(one);
  open_all({1, 2});
  m.send(1, request(5, "eth_call", json::array({"a"})));
  m.send(2, request(5, "eth_call", json::array({"b"})));
  auto sent = to_node();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_NE(sent[0].message["id"], sent[1].message["id"]);
  EXPECT_EQ(sent[0].message["params"], json::array({"a"}));
  // Answers in the other order, with spacing a re-serialisation would lose.
  m.socket_text(sent[1].socket, R"({"jsonrpc":"2.0", "id":)" + sent[1].message["id"].dump() + R"(, "result":"0xB"})");
  m.socket_text(sent[0].socket, R"({"jsonrpc":"2.0", "id":)" + sent[0].message["id"].dump() + R"(, "result":"0xA"})");
  auto got = to_channels();
  EXPECT_EQ(got[1], std::vector<std::string>{R"({"jsonrpc":"2.0", "id":5, "result":"0xA"})"});
  EXPECT_EQ(got[2], std::vector<std::string>{R"({"jsonrpc":"2.0", "id":5, "result":"0xB"})"});
  EXPECT_EQ(m.in_flight(), 0u);
}

TEST_F(Mux, ChannelsAskingForTheSameSubscriptionShareOneUpstreamSubscription) {
  mux::Multiplexer one{mux::Settings{1}};
  m = std::move(one);
  open_all({1, 2, 3});
  m.send(1, R"({"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["logs",{"address":"0xa","topics":[]}]})");
  // The same filter with its members in another order, asked while the first subscribe is out.
  m.send(2, R"({"jsonrpc":"2.0","id":9,"method":"eth_subscribe","params":["logs",{"topics":[],"address":"0xa"}]})");
  auto sent = to_node();
  ASSERT_EQ(sent.size(), 1u);
  m.socket_text(sent[0].socket, answer(sent[0].message["id"], R"("0xUP")"));
  m.send(3, request(4, "eth_subscribe", json::array({"logs", {{"address", "0xa"}, {"topics", json::array()}}})));
  EXPECT_TRUE(to_node().empty());

  auto got = to_channels();
  std::map<mux::ChannelId, std::string> alias;
  for (auto [channel, id] : {std::pair{1, 1}, {2, 9}, {3, 4}}) {
    ASSERT_EQ(got[channel].size(), 1u) << channel;
    auto reply = json::parse(got[channel][0]);
    EXPECT_EQ(reply["id"], id);
    alias[channel] = reply["result"].get<std::string>();
  }
  EXPECT_NE(alias[1], alias[2]);
  EXPECT_NE(alias[2], alias[3]);
  EXPECT_EQ(m.subscriptions(), 1u);
  EXPECT_EQ(m.subscribers(), 3u);

  m.socket_text(sent[0].socket, notification("0xUP", R"({"n":1})"));
  got = to_channels();
  for (mux::ChannelId channel : {1, 2, 3}) {
    ASSERT_EQ(got[channel].size(), 1u);
    EXPECT_EQ(got[channel][0], notification(alias[channel], R"({"n":1})"));
  }

  // Leaving one by one: the node hears of it only when the last one goes.
  m.send(1, request(2, "eth_unsubscribe", json::array({alias[1]})));
  m.close(3);
  EXPECT_TRUE(to_node().empty());
  EXPECT_EQ(to_channels()[1], std::vector<std::string>{answer(2, "true")});
  m.send(2, request(10, "eth_unsubscribe", json::array({alias[2]})));
  auto unsubscribe = to_node();
  ASSERT_EQ(unsubscribe.size(), 1u);
  EXPECT_EQ(unsubscribe[0].message["method"], "eth_unsubscribe");
  EXPECT_EQ(unsubscribe[0].message["params"], json::array({"0xUP"}));
  EXPECT_EQ(to_channels()[2], std::vector<std::string>{answer(10, "true")});
  // Its answer is the multiplexer's own; a later notification reaches nobody.
  m.socket_text(unsubscribe[0].socket, answer(unsubscribe[0].message["id"], "true"));
  m.socket_text(sent[0].socket, notification("0xUP", "2"));
  EXPECT_TRUE(to_channels().empty());
  EXPECT_EQ(m.subscriptions(), 0u);
  EXPECT_EQ(m.in_flight(), 0u);
}

// A head reaches every subscriber as one shared reading: the same Notification object, with the
// fields the gapless check follows read from the node's text; a text that is not JSON goes to each
// as text instead (each session counts it as invalid, as on a socket of its own).
TEST_F(Mux, ANotificationIsReadOnceForEverySubscriberAndABrokenOneGoesAsText) {
  mux::Multiplexer one{mux::Settings{1}};
  m = std::move(one);
  open_all({1, 2});
  m.send(1, request(1, "eth_subscribe", json::array({"newHeads"})));
  m.send(2, request(1, "eth_subscribe", json::array({"newHeads"})));
  auto sent = to_node();
  ASSERT_EQ(sent.size(), 1u);
  m.socket_text(sent[0].socket, answer(sent[0].message["id"], R"("0xH")"));
  to_channels();
  const std::string hash = "0x" + std::string(63, '0') + "2";
  const std::string parent = "0x" + std::string(63, '0') + "1";
  const std::string head = R"({"number":"0x2a","parentHash":")" + parent + R"(","hash":")" + hash + R"("})";
  m.socket_text(sent[0].socket, notification("0xH", head));
  auto notes = drain<mux::Notify>();
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].note, notes[1].note);
  EXPECT_NE(notes[0].alias, notes[1].alias);
  const auto& facts = notes[0].note->facts();
  ASSERT_TRUE(facts.result && facts.head);
  EXPECT_EQ(*facts.result, head);
  EXPECT_EQ(facts.head->number, 0x2au);
  EXPECT_EQ(vixy::ws::gapless::detail::hash_hex(facts.head->hash), hash);
  EXPECT_EQ(vixy::ws::gapless::detail::hash_hex(facts.head->parent), parent);
  EXPECT_EQ(notes[1].note->text_for(notes[1].alias), notification(notes[1].alias, head));

  // Its members can be found (strings are skipped quote to quote), but "\q" is no JSON escape.
  m.socket_text(sent[0].socket, notification("0xH", R"("\q")"));
  EXPECT_TRUE(drain<mux::Notify>().empty());
  auto got = to_channels();
  EXPECT_EQ(got[1].size(), 1u);
  EXPECT_EQ(got[2].size(), 1u);
}

TEST_F(Mux, ASessionSubscribingTwiceToTheSameThingGetsTwoSubscriptions) {
  open_all({1});
  m.send(1, request(1, "eth_subscribe", json::array({"newHeads"})));
  auto sent = to_node();
  ASSERT_EQ(sent.size(), 1u);
  m.socket_text(sent[0].socket, answer(sent[0].message["id"], R"("0xH")"));
  m.send(1, request(2, "eth_subscribe", json::array({"newHeads"})));
  EXPECT_TRUE(to_node().empty());
  auto got = to_channels()[1];
  ASSERT_EQ(got.size(), 2u);
  auto first = json::parse(got[0])["result"].get<std::string>();
  auto second = json::parse(got[1])["result"].get<std::string>();
  EXPECT_NE(first, second);
  m.socket_text(sent[0].socket, notification("0xH", "7"));
  EXPECT_EQ(to_channels()[1], (std::vector<std::string>{notification(first, "7"), notification(second, "7")}));
}

TEST_F(Mux, ARefusedSubscribeReachesEveryAskerAndTheNextOneIsAskedAgain) {
  mux::Multiplexer one{mux::Settings{1}};
  m = std::move(one);
  open_all({1, 2});
  m.send(1, request(1, "eth_subscribe", json::array({"bogus"})));
  m.send(2, request(3, "eth_subscribe", json::array({"bogus"})));
  auto sent = to_node();
  ASSERT_EQ(sent.size(), 1u);
  std::string refusal = R"(,"error":{"code":-32602,"message":"no such subscription"}})";
  m.socket_text(sent[0].socket, R"({"jsonrpc":"2.0","id":)" + sent[0].message["id"].dump() + refusal);
  auto got = to_channels();
  EXPECT_EQ(got[1], std::vector<std::string>{R"({"jsonrpc":"2.0","id":1)" + refusal});
  EXPECT_EQ(got[2], std::vector<std::string>{R"({"jsonrpc":"2.0","id":3)" + refusal});
  EXPECT_EQ(m.subscriptions(), 0u);
  m.send(1, request(4, "eth_subscribe", json::array({"bogus"})));
  EXPECT_EQ(to_node().size(), 1u);
}

TEST_F(Mux, IdenticalFetchesInFlightGoToTheNodeOnceAndAnswerEveryAsker) {
  open_all({1, 2, 3});  // three channels on two sockets
  for (mux::ChannelId channel : {1, 2, 3}) {
    m.send(channel, request(static_cast<int>(channel) * 10, "eth_getBlockByNumber", json::array({"0x10", false})));
  }
  m.send(1, request(11, "eth_getBlockByNumber", json::array({"0x11", false})));
  auto sent = to_node();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(m.counters().fetches_shared, 2u);
  m.socket_text(sent[0].socket, answer(sent[0].message["id"], R"({"number":"0x10"})"));
  auto got = to_channels();
  for (mux::ChannelId channel : {1, 2, 3}) {
    EXPECT_EQ(got[channel], std::vector<std::string>{answer(static_cast<int>(channel) * 10, R"({"number":"0x10"})")});
  }
  // Answered: the next identical fetch goes to the node again (no stale answers are kept).
  m.send(2, request(21, "eth_getBlockByNumber", json::array({"0x10", false})));
  EXPECT_EQ(to_node().size(), 1u);
}

// The incident of a shared logs subscription: channel 1's head query goes out, then the logs of a
// new block arrive; channel 2, which joins the subscription only after them, asks for the head to
// fill its gap. Joining the first query would give it a head older than the block it never got.
TEST_F(Mux, AFetchDoesNotJoinOneSentBeforeAMessageWasRead) {
  mux::Multiplexer one{mux::Settings{1}};
  m = std::move(one);
  open_all({1, 2});
  m.send(1, request(1, "eth_subscribe", json::array({"logs", json::object()})));
  auto subscribe = to_node();
  ASSERT_EQ(subscribe.size(), 1u);
  m.socket_text(subscribe[0].socket, answer(subscribe[0].message["id"], R"("0xup")"));
  m.send(1, request(2, "eth_blockNumber", json::array()));
  auto first = to_node();
  ASSERT_EQ(first.size(), 1u);
  m.socket_text(first[0].socket, notification("0xup", R"({"blockNumber":"0x11","logIndex":"0x0"})"));
  m.send(2, request(1, "eth_subscribe", json::array({"logs", json::object()})));
  m.send(2, request(2, "eth_blockNumber", json::array()));
  auto second = to_node();
  ASSERT_EQ(second.size(), 1u) << "channel 2 joined a head query older than what it may have seen";
  EXPECT_EQ(second[0].message["method"], "eth_blockNumber");
  // With nothing read since, the next identical fetch joins the newest one.
  m.send(1, request(3, "eth_blockNumber", json::array()));
  EXPECT_TRUE(to_node().empty());
  m.socket_text(first[0].socket, answer(first[0].message["id"], R"("0x10")"));
  m.socket_text(second[0].socket, answer(second[0].message["id"], R"("0x11")"));
  auto got = to_channels();
  ASSERT_GE(got[1].size(), 2u);
  EXPECT_EQ(std::vector<std::string>(got[1].end() - 2, got[1].end()),
            (std::vector<std::string>{answer(2, R"("0x10")"), answer(3, R"("0x11")")}));
  ASSERT_FALSE(got[2].empty());
  EXPECT_EQ(got[2].back(), answer(2, R"("0x11")"));
}

// A node's own logs subscription starts at a block's beginning; a shared one joined between two
// logs of a block must too, or the client's first block lacks its first logs (I7).
TEST_F(Mux, AChannelJoiningLogsMidBlockStartsWithTheNextBlock) {
  mux::SocketId socket = one_socket_with_logs_subscription();
  ASSERT_NE(socket, 0u);
  auto log = [](const char* block, int index) {
    return R"({"blockHash":")" + std::string(block) + R"(","logIndex":")" + std::to_string(index) + R"("})";
  };
  m.socket_text(socket, notification("0xup", log("0xa", 0)));
  m.send(2, request(1, "eth_subscribe", json::array({"logs", json::object()})));
  EXPECT_TRUE(to_node().empty()) << "the subscription is shared";
  m.socket_text(socket, notification("0xup", log("0xa", 1)));
  m.socket_text(socket, notification("0xup", log("0xb", 0)));
  auto got = to_channels();
  auto logs_of = [](const std::vector<std::string>& texts) {
    std::vector<std::string> out;
    for (const auto& text : texts) {
      json body = json::parse(text);
      if (body.contains("params")) out.push_back(body["params"]["result"].dump());
    }
    return out;
  };
  EXPECT_EQ(logs_of(got[1]), (std::vector<std::string>{json::parse(log("0xa", 0)).dump(),
                                                        json::parse(log("0xa", 1)).dump(),
                                                        json::parse(log("0xb", 0)).dump()}));
  EXPECT_EQ(logs_of(got[2]), std::vector<std::string>{json::parse(log("0xb", 0)).dump()});
}

// A reorg removing the block a channel joined in the middle of is news to that channel too: the
// removal is passed on (the session's stream drops it if the client never had the log). Found by
// the simulation (seed 1931214336): a session that failed over onto a shared subscription got a
// block's log from its fill, then never its removal, and kept a replaced block's log.
TEST_F(Mux, AChannelJoiningLogsMidBlockIsToldWhenThatBlockIsRemoved) {
  mux::SocketId socket = one_socket_with_logs_subscription();
  ASSERT_NE(socket, 0u);
  auto log = [](const char* block, int index, bool removed) {
    return R"({"blockHash":")" + std::string(block) + R"(","logIndex":")" + std::to_string(index) +
           R"(","removed":)" + (removed ? "true" : "false") + "}";
  };
  m.socket_text(socket, notification("0xup", log("0xa", 0, false)));
  m.send(2, request(1, "eth_subscribe", json::array({"logs", json::object()})));
  m.socket_text(socket, notification("0xup", log("0xa", 0, true)));
  m.socket_text(socket, notification("0xup", log("0xa", 1, true)));
  m.socket_text(socket, notification("0xup", log("0xc", 0, false)));
  auto got = to_channels();
  std::vector<std::string> logs;
  for (const auto& text : got[2]) {
    json body = json::parse(text);
    if (body.contains("params")) logs.push_back(body["params"]["result"].dump());
  }
  EXPECT_EQ(logs, (std::vector<std::string>{json::parse(log("0xa", 0, true)).dump(), json::parse(log("0xa", 1, true)).dump(),
                                            json::parse(log("0xc", 0, false)).dump()}));
}

// A node that answers pings but never some requests: what the sessions gave up on must not stay
// in the multiplexer for the socket's life (I5). A request goes once its last asker asked longer
// ago than forget_after.
TEST_F(Mux, RequestsTheNodeNeverAnswersAreForgottenOnceEveryAskerHasGivenUp) {
  using namespace std::chrono_literals;
  mux::Multiplexer one{mux::Settings{1, 10s}};
  m = std::move(one);
  const mux::Clock::time_point t0{};
  m.advance(t0 + 1s);
  open_all({1, 2});
  m.send(1, request(1, "eth_getLogs", json::array({{{"fromBlock", "0x1"}}})));
  m.advance(t0 + 9s);
  m.send(2, request(1, "eth_getLogs", json::array({{{"fromBlock", "0x1"}}})));  // joins
  m.send(2, request(2, "eth_subscribe", json::array({"newHeads"})));
  auto sent = to_node();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(m.in_flight(), 2u);
  m.advance(t0 + 15s);
  EXPECT_EQ(m.in_flight(), 2u) << "channel 2 asked 6 s ago: still waiting";
  m.advance(t0 + 20s);
  EXPECT_EQ(m.in_flight(), 0u);
  EXPECT_EQ(m.counters().forgotten, 2u);
  EXPECT_EQ(m.subscriptions(), 0u);
  // Their late answers reach nobody, and the next subscribe is asked of the node afresh.
  m.socket_text(sent[0].socket, answer(sent[0].message["id"], "[]"));
  EXPECT_TRUE(to_channels().empty());
  EXPECT_EQ(m.counters().stray, 1u);
  m.send(1, request(3, "eth_subscribe", json::array({"newHeads"})));
  auto again = to_node();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].message["method"], "eth_subscribe");
}

TEST_F(Mux, OtherRequestsAreNeverMerged) {
  mux::Multiplexer one{mux::Settings{1}};
  m = std::move(one);
  open_all({1, 2});
  m.send(1, request(1, "eth_sendRawTransaction", json::array({"0xf8"})));
  m.send(2, request(1, "eth_sendRawTransaction", json::array({"0xf8"})));
  m.send(1, request(2, "eth_call", json::array({"x"})));
  m.send(2, request(2, "eth_call", json::array({"x"})));
  EXPECT_EQ(to_node().size(), 4u);
}

TEST_F(Mux, ALostSocketTakesItsChannelsAndItsFetchGoesOutAgainForAskersElsewhere) {
  open_all({1, 2});  // channel 1 on one socket, channel 2 on the other
  m.send(1, request(1, "eth_subscribe", json::array({"newHeads"})));
  m.send(1, request(2, "eth_getLogs", json::array({{{"fromBlock", "0x1"}}})));
  m.send(2, request(7, "eth_getLogs", json::array({{{"fromBlock", "0x1"}}})));
  auto sent = to_node();
  ASSERT_EQ(sent.size(), 2u);
  mux::SocketId first = sent[0].socket;
  ASSERT_EQ(sent[1].socket, first);  // the fetch went out on channel 1's socket

  m.socket_lost(first);
  auto down = drain<mux::ChannelDown>();
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].channel, 1u);
  auto again = to_node();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_NE(again[0].socket, first);
  EXPECT_EQ(again[0].message["method"], "eth_getLogs");
  EXPECT_EQ(m.subscriptions(), 0u);
  // A late message on the dead socket changes nothing.
  m.socket_text(first, answer(sent[1].message["id"], "[]"));
  EXPECT_TRUE(to_channels().empty());
  m.socket_text(again[0].socket, answer(again[0].message["id"], "[]"));
  EXPECT_EQ(to_channels()[2], std::vector<std::string>{answer(7, "[]")});
}

TEST_F(Mux, TheLastChannelLeavingClosesItsSocketAndItsAnswersAreDropped) {
  mux::Multiplexer one{mux::Settings{1}};
  m = std::move(one);
  open_all({1});
  m.send(1, request(1, "eth_call", json::array()));
  auto sent = to_node();
  m.close(1);
  auto closed = drain<mux::CloseSocket>();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].socket, sent[0].socket);
  EXPECT_EQ(m.sockets(), 0u);
  EXPECT_EQ(m.in_flight(), 0u);
  m.socket_text(sent[0].socket, answer(sent[0].message["id"], "1"));
  EXPECT_TRUE(to_channels().empty());
}

TEST_F(Mux, AnswersNobodyWaitsForAreCountedAsStray) {
  open_all({1});
  auto socket = m.sockets() == 1 ? mux::SocketId{1} : mux::SocketId{0};
  m.socket_text(socket, answer(999, "1"));
  m.socket_text(socket, notification("0xnobody", "1"));
  m.socket_text(socket, "not json");
  EXPECT_TRUE(to_channels().empty());
  EXPECT_EQ(m.counters().stray, 3u);
}

// A node's own request under an id the multiplexer is waiting on is no answer: taking it for one
// would leave the client's request to its timeout once the real answer came (then stray).
TEST_F(Mux, ANodeRequestUnderAPendingIdIsStrayAndTheAnswerStillComes) {
  open_all({1});
  m.send(1, request(4, "eth_call", json::array({"x"})));
  auto sent = to_node();
  ASSERT_EQ(sent.size(), 1u);
  json id = sent[0].message["id"];
  m.socket_text(sent[0].socket, R"({"jsonrpc":"2.0","id":)" + id.dump() + R"(,"method":"eth_call","params":[]})");
  EXPECT_TRUE(to_channels().empty());
  EXPECT_EQ(m.counters().stray, 1u);
  EXPECT_EQ(m.in_flight(), 1u);
  m.socket_text(sent[0].socket, answer(id, R"("0x01")"));
  EXPECT_EQ(to_channels()[1], std::vector<std::string>{answer(4, R"("0x01")")});
}

TEST_F(Mux, AChannelThatDoesNotOwnAnAliasHasItsUnsubscribeAnsweredByTheNode) {
  mux::Multiplexer one{mux::Settings{1}};
  m = std::move(one);
  open_all({1, 2});
  m.send(1, request(1, "eth_subscribe", json::array({"newHeads"})));
  auto sent = to_node();
  m.socket_text(sent[0].socket, answer(sent[0].message["id"], R"("0xH")"));
  auto alias = json::parse(to_channels()[1][0])["result"].get<std::string>();
  m.send(2, request(5, "eth_unsubscribe", json::array({alias})));
  auto forwarded = to_node();
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(forwarded[0].message["params"], json::array({alias}));
  EXPECT_EQ(m.subscribers(), 1u);  // channel 1 keeps its subscription
}

}  // namespace
