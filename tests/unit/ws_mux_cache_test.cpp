// The multiplexer's cache of recent answers for gap fills: a backfill asked again a moment later is
// answered without the node, and nothing else is (a client's own request, a question about
// "latest", an answer the node did not have, one past its time or from before a reorg).
#include <gtest/gtest.h>

#include "ws_multiplexer_fixture.hpp"

namespace {

using namespace std::chrono_literals;

const json kHeader10 = json::array({"0x10", false});

class MuxCache : public Mux {
 protected:
  const mux::Clock::time_point t0{};

  void SetUp() override {
    mux::Multiplexer one{mux::Settings{1, 2min, 12s, 4096}};
    m = std::move(one);
    m.advance(t0);
    open_all({1, 2});
  }
  // Channel `channel` asks; the node is sent what it is sent (if anything) and answers `result`.
  std::size_t ask(mux::ChannelId channel, int id, const std::string& method, const json& params,
                  const std::string& result, bool backfill = true) {
    m.send(channel, request(id, method, params), backfill);
    auto sent = to_node();
    for (const auto& s : sent) m.socket_text(s.socket, answer(s.message["id"], result));
    return sent.size();
  }
  std::string last_answer_to(mux::ChannelId channel) {
    auto got = to_channels();
    return got[channel].empty() ? std::string() : got[channel].back();
  }
  // Channel 2 subscribes; the node's subscription id is `upstream`.
  void subscribe(const json& params, const std::string& upstream) {
    m.send(2, request(90, "eth_subscribe", params));
    auto sent = to_node();
    ASSERT_EQ(sent.size(), 1u);
    m.socket_text(sent[0].socket, answer(sent[0].message["id"], "\"" + upstream + "\""));
    to_channels();
  }
  static std::string hash(char digit) { return "0x" + std::string(64, digit); }
  // The node announces a head (the pool has one socket, the first).
  void head(const std::string& number, char hash_digit) {
    m.socket_text(1, notification("0xheads", json{{"number", number}, {"hash", hash(hash_digit)},
                                                  {"parentHash", hash('0')}}.dump()));
  }
};

TEST_F(MuxCache, ABackfillAskedAgainIsAnsweredFromTheNodesRecentAnswer) {
  ASSERT_EQ(ask(1, 7, "eth_getBlockByNumber", kHeader10, R"({"number":"0x10"})"), 1u);
  EXPECT_EQ(last_answer_to(1), answer(7, R"({"number":"0x10"})"));
  m.advance(t0 + 11s);
  EXPECT_EQ(ask(2, 8, "eth_getBlockByNumber", kHeader10, "{}"), 0u) << "sent to the node again";
  EXPECT_EQ(last_answer_to(2), answer(8, R"({"number":"0x10"})")) << "under channel 2's own id";
  EXPECT_EQ(m.counters().fetches_cached, 1u);
  // By hash and logs over a numbered range or of one block are kept too.
  const json by_hash = json::array({"0x" + std::string(64, 'a'), false});
  const json range = json::array({{{"fromBlock", "0x1"}, {"toBlock", "0x10"}, {"address", "0xab"}}});
  const json of_block = json::array({{{"blockHash", "0x" + std::string(64, 'b')}}});
  EXPECT_EQ(ask(1, 9, "eth_getBlockByHash", by_hash, R"({"number":"0x9"})"), 1u);
  EXPECT_EQ(ask(1, 10, "eth_getLogs", range, R"([{"logIndex":"0x0"}])"), 1u);
  EXPECT_EQ(ask(1, 11, "eth_getLogs", of_block, "[]"), 1u);
  EXPECT_EQ(ask(2, 12, "eth_getBlockByHash", by_hash, "{}"), 0u);
  EXPECT_EQ(ask(2, 13, "eth_getLogs", range, "[]"), 0u);
  EXPECT_EQ(ask(2, 14, "eth_getLogs", of_block, "[]"), 0u);
  EXPECT_EQ(m.counters().fetches_cached, 4u);
}

// Sessions on different sockets start their gap fills as each socket brings them the head: by then
// the first socket's message has been read, but a backfill still joins the fetch in flight.
TEST_F(MuxCache, ABackfillJoinsAFetchInFlightWhateverWasReadSince) {
  subscribe(json::array({"newHeads"}), "0xheads");
  m.send(1, request(1, "eth_getBlockByNumber", kHeader10), true);
  auto sent = to_node();
  ASSERT_EQ(sent.size(), 1u);
  head("0x11", 'a');
  m.send(2, request(2, "eth_getBlockByNumber", kHeader10), true);
  EXPECT_TRUE(to_node().empty());
  m.send(2, request(3, "eth_getBlockByNumber", kHeader10), /*backfill=*/false);
  EXPECT_EQ(to_node().size(), 1u) << "a client's own request waits for nothing older than what it saw";
  m.socket_text(sent[0].socket, answer(sent[0].message["id"], R"({"number":"0x10"})"));
  auto got = to_channels();
  EXPECT_EQ(got[1], std::vector<std::string>{answer(1, R"({"number":"0x10"})")});
  ASSERT_FALSE(got[2].empty());
  EXPECT_EQ(got[2].back(), answer(2, R"({"number":"0x10"})"));
}

TEST_F(MuxCache, OnlyBackfillsOfNamedBlocksWithAnAnswerAreKept) {
  // A client's own request neither reads nor fills the cache.
  EXPECT_EQ(ask(1, 1, "eth_getBlockByNumber", kHeader10, R"({"number":"0x10"})", /*backfill=*/false), 1u);
  EXPECT_EQ(ask(2, 2, "eth_getBlockByNumber", kHeader10, R"({"number":"0x10"})"), 1u);
  EXPECT_EQ(ask(1, 3, "eth_getBlockByNumber", kHeader10, R"({"number":"0x10"})", /*backfill=*/false), 1u);
  // Questions about the moment of asking.
  EXPECT_EQ(ask(1, 4, "eth_getBlockByNumber", json::array({"latest", false}), R"({"number":"0x10"})"), 1u);
  EXPECT_EQ(ask(2, 5, "eth_getBlockByNumber", json::array({"latest", false}), R"({"number":"0x11"})"), 1u);
  EXPECT_EQ(ask(1, 6, "eth_blockNumber", json::array(), R"("0x10")"), 1u);
  EXPECT_EQ(ask(2, 7, "eth_blockNumber", json::array(), R"("0x11")"), 1u);
  const json to_latest = json::array({{{"fromBlock", "0x1"}, {"toBlock", "latest"}}});
  EXPECT_EQ(ask(1, 8, "eth_getLogs", to_latest, "[]"), 1u);
  EXPECT_EQ(ask(2, 9, "eth_getLogs", to_latest, "[]"), 1u);
  // A block the node does not have yet, and an error.
  const json header11 = json::array({"0x11", false});
  EXPECT_EQ(ask(1, 10, "eth_getBlockByNumber", header11, "null"), 1u);
  EXPECT_EQ(ask(2, 11, "eth_getBlockByNumber", header11, R"({"number":"0x11"})"), 1u);
  m.send(1, request(12, "eth_getBlockByNumber", json::array({"0x12", false})), true);
  auto sent = to_node();
  ASSERT_EQ(sent.size(), 1u);
  m.socket_text(sent[0].socket, R"({"jsonrpc":"2.0","id":)" + sent[0].message["id"].dump() +
                                    R"(,"error":{"code":-32000,"message":"busy"},"result":{}})");
  EXPECT_EQ(ask(2, 13, "eth_getBlockByNumber", json::array({"0x12", false}), R"({"number":"0x12"})"), 1u);
  EXPECT_EQ(m.counters().fetches_cached, 0u);
  EXPECT_EQ(ask(1, 14, "eth_getBlockByNumber", header11, "{}"), 0u) << "the 0x11 header, once the node had it";
  EXPECT_EQ(m.counters().fetches_cached, 1u);
}

TEST_F(MuxCache, AnAnswerIsKeptForItsTimeWithinTheByteBound) {
  ASSERT_EQ(ask(1, 1, "eth_getBlockByNumber", kHeader10, R"({"number":"0x10"})"), 1u);
  m.advance(t0 + 13s);
  EXPECT_EQ(ask(2, 2, "eth_getBlockByNumber", kHeader10, R"({"number":"0x10"})"), 1u) << "kept past cache_for";
  // 4,096 bytes in all: an answer over a quarter of that is not kept, and older ones make room.
  const std::string big = "[\"" + std::string(1100, 'x') + "\"]";
  EXPECT_EQ(ask(1, 3, "eth_getLogs", json::array({{{"blockHash", "0x01"}}}), big), 1u);
  EXPECT_EQ(ask(2, 4, "eth_getLogs", json::array({{{"blockHash", "0x01"}}}), big), 1u);
  const std::string medium = "[\"" + std::string(900, 'x') + "\"]";
  for (int i = 0; i < 6; ++i) {
    ask(1, 10 + i, "eth_getLogs", json::array({{{"blockHash", "0x1" + std::to_string(i)}}}), medium);
  }
  EXPECT_LE(m.cached(), 4u);
  EXPECT_EQ(ask(2, 20, "eth_getLogs", json::array({{{"blockHash", "0x15"}}}), "[]"), 0u) << "the newest stays";
  EXPECT_EQ(ask(2, 21, "eth_getLogs", json::array({{{"blockHash", "0x10"}}}), "[]"), 1u) << "the oldest went";
}

TEST_F(MuxCache, AReorgOrALostSocketEmptiesIt) {
  subscribe(json::array({"newHeads"}), "0xheads");
  head("0x11", 'a');
  ASSERT_EQ(ask(1, 1, "eth_getBlockByNumber", kHeader10, R"({"number":"0x10"})"), 1u);
  head("0x11", 'a');  // the same head again (another socket brings it too): no reorg
  head("0x12", 'b');
  EXPECT_EQ(ask(2, 2, "eth_getBlockByNumber", kHeader10, "{}"), 0u);
  head("0x11", 'c');  // another block at a height seen: the chain moved under the cache
  EXPECT_EQ(m.cached(), 0u);
  EXPECT_EQ(ask(2, 3, "eth_getBlockByNumber", kHeader10, R"({"number":"0x10"})"), 1u);
  // A log the node takes back says the same.
  subscribe(json::array({"logs", json::object()}), "0xlogs");
  EXPECT_EQ(m.cached(), 1u);
  m.socket_text(1, notification("0xlogs", json{{"blockHash", hash('d')}, {"blockNumber", "0x10"},
                                               {"logIndex", "0x0"}, {"removed", true}}.dump()));
  EXPECT_EQ(m.cached(), 0u);
  EXPECT_EQ(ask(2, 4, "eth_getBlockByNumber", kHeader10, R"({"number":"0x10"})"), 1u);
  EXPECT_EQ(m.cached(), 1u);
  m.socket_lost(1);
  EXPECT_EQ(m.cached(), 0u);
}

}  // namespace
