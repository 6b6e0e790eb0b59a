// The gapless subscription streams (I7) on their own: what reaches the client and what is fetched,
// for newHeads across gaps, duplicates, reorgs, lost upstreams and the backfill bound; and the
// newPendingTransactions dedupe. The logs stream is in ws_gapless_logs_test.cpp.
#include <gtest/gtest.h>

#include <string>

#include "unit/gapless_fixture.hpp"
#include "ws/gapless.hpp"

namespace vixy::ws::gapless {
namespace {

using nlohmann::json;
using testing::hash;
using testing::hex;
using testing::kFirst;
using testing::kLeft;

json block(std::uint64_t h, int fork = 0, int parent_fork = -1) {
  if (parent_fork < 0) parent_fork = fork;
  return json{{"number", hex(h)},        {"hash", hash(h, fork)}, {"parentHash", hash(h - 1, parent_fork)},
              {"miner", "0xabc"},        {"transactions", json::array({"0x01"})}, {"size", "0x220"}};
}
std::string head_note(std::uint64_t h, int fork = 0, int parent_fork = -1) {
  json result = block(h, fork, parent_fork);
  result.erase("transactions");
  result.erase("size");
  return json{{"jsonrpc", "2.0"}, {"method", "eth_subscription"}, {"params", {{"subscription", "0xc1"}, {"result", result}}}}
      .dump();
}
// Height and hash of a head notification the client got, checking its envelope.
std::pair<std::uint64_t, std::string> head_of(const std::string& text) {
  json note = json::parse(text);
  EXPECT_EQ(note["params"]["subscription"], "0xc1");
  const json& result = note["params"]["result"];
  EXPECT_FALSE(result.contains("transactions")) << "a backfilled head must look like newHeads: " << text;
  EXPECT_FALSE(result.contains("size")) << text;
  EXPECT_TRUE(result.contains("miner")) << text;
  return {std::stoull(result["number"].get<std::string>(), nullptr, 16), result["hash"]};
}
std::vector<std::uint64_t> heights(const Effects& fx) {
  std::vector<std::uint64_t> out;
  for (const auto& text : fx.deliver) out.push_back(head_of(text).first);
  return out;
}

std::unique_ptr<Stream> heads(std::size_t depth = 128) {
  return make_stream(classify(json::array({"newHeads"})), "0xc1", depth);
}

TEST(GaplessHeads, ConsecutiveHeadsPassAndARepeatedHashIsDropped) {
  auto stream = heads();
  Effects fx;
  for (std::uint64_t h : {10, 11, 12}) stream->notification(head_note(h), kFirst, fx);
  stream->notification(head_note(12), kFirst, fx);
  stream->notification(head_note(11), kFirst, fx);
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10, 11, 12}));
  EXPECT_EQ(fx.duplicates, 2u);
  EXPECT_TRUE(fx.fetch.empty());
}

TEST(GaplessHeads, AGapIsFetchedByNumberAndDeliveredFirstOldestFirst) {
  auto stream = heads();
  Effects fx;
  stream->notification(head_note(10), kFirst, fx);
  stream->notification(head_note(13), kFirst, fx);
  ASSERT_EQ(fx.fetch.size(), 2u);
  EXPECT_EQ(fx.fetch[0].method, "eth_getBlockByNumber");
  EXPECT_EQ(fx.fetch[0].params, json::array({"0xb", false}));
  EXPECT_EQ(fx.fetch[1].params, json::array({"0xc", false}));
  stream->notification(head_note(14), kFirst, fx);  // arrives while the fill is under way: waits
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10}));
  json b12 = block(12), b11 = block(11);
  stream->fetched(fx.fetch[1].tag, &b12, fx);  // answers in any order
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10}));
  stream->fetched(fx.fetch[0].tag, &b11, fx);
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10, 11, 12, 13, 14}));
  EXPECT_EQ(fx.backfilled, 2u);
  EXPECT_EQ(fx.gaps, 0u);
}

TEST(GaplessHeads, AReorgUnderTheGapIsFollowedByHash) {
  auto stream = heads();
  Effects fx;
  for (std::uint64_t h : {10, 11}) stream->notification(head_note(h), kFirst, fx);
  // The new upstream is on fork 1, which branched off after 10: 11' and 12' are new.
  stream->notification(head_note(12, 1), kFirst, fx);
  ASSERT_EQ(fx.fetch.size(), 1u);
  EXPECT_EQ(fx.fetch[0].method, "eth_getBlockByHash");
  EXPECT_EQ(fx.fetch[0].params, json::array({hash(11, 1), false}));
  json b11 = block(11, 1, 0);
  stream->fetched(fx.fetch[0].tag, &b11, fx);
  ASSERT_EQ(fx.deliver.size(), 4u);
  EXPECT_EQ(head_of(fx.deliver[2]), std::make_pair(std::uint64_t{11}, hash(11, 1)));
  EXPECT_EQ(head_of(fx.deliver[3]), std::make_pair(std::uint64_t{12}, hash(12, 1)));
  // The old branch's next head, still arriving over the upstream being left, is not delivered.
  stream->notification(head_note(12, 0), kLeft, fx);
  EXPECT_EQ(fx.deliver.size(), 4u);
}

TEST(GaplessHeads, ByNumberAnswersThatDoNotLinkUpFallBackToHashes) {
  auto stream = heads();
  Effects fx;
  stream->notification(head_note(10), kFirst, fx);
  stream->notification(head_note(12, 1, 1), kFirst, fx);  // fork 1 from 11 on, parent 11'
  ASSERT_EQ(fx.fetch.size(), 1u);
  json stale = block(11, 0);  // the node answered by number from before its reorg
  stream->fetched(fx.fetch[0].tag, &stale, fx);
  ASSERT_EQ(fx.fetch.size(), 2u);
  EXPECT_EQ(fx.fetch[1].params, json::array({hash(11, 1), false}));
  json b11 = block(11, 1, 0);
  stream->fetched(fx.fetch[1].tag, &b11, fx);
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10, 11, 12}));
  EXPECT_EQ(head_of(fx.deliver[1]).second, hash(11, 1));
}

TEST(GaplessHeads, AHeadReplacingADeliveredOneIsDelivered) {
  auto stream = heads();
  Effects fx;
  for (std::uint64_t h : {10, 11}) stream->notification(head_note(h), kFirst, fx);
  stream->notification(head_note(11, 1, 0), kFirst, fx);  // parent 10 was delivered
  stream->notification(head_note(12, 1), kFirst, fx);
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10, 11, 11, 12}));
  EXPECT_TRUE(fx.fetch.empty());
}

// A node that lags (one failed back to) announces heights below everything remembered: taking
// them would walk the client down the chain and up through every height again (found by the
// libFuzzer target over the session core).
TEST(GaplessHeads, HeadsBelowTheRememberedOnesAreDroppedAndTheStreamGoesOn) {
  auto stream = heads(4);
  Effects fx;
  for (std::uint64_t h = 10; h <= 16; ++h) stream->notification(head_note(h), kFirst, fx);
  for (std::uint64_t h = 11; h <= 16; ++h) stream->notification(head_note(h), kFirst, fx);
  stream->notification(head_note(17), kFirst, fx);
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10, 11, 12, 13, 14, 15, 16, 17}));
  EXPECT_EQ(fx.duplicates, 6u);
  EXPECT_EQ(fx.gaps, 0u);
  EXPECT_TRUE(fx.fetch.empty());
}

// Found by the libFuzzer target over the session core: subscribed at 6, the node reorged 5..8
// onto a fork and back. Each fill walked down to the block below the first head the client ever
// got, and counted a gap there, though nothing below the subscription's start is the client's.
TEST(GaplessHeads, AFillThatReachesBelowTheSubscriptionsFirstHeadIsComplete) {
  auto stream = heads(4);
  Effects fx;
  for (std::uint64_t h : {6, 7, 8}) stream->notification(head_note(h), kFirst, fx);
  stream->notification(head_note(8, 1), kFirst, fx);  // fork 1 from 5 on
  ASSERT_EQ(fx.fetch.size(), 1u);
  json b7 = block(7, 1);
  stream->fetched(fx.fetch[0].tag, &b7, fx);
  ASSERT_EQ(fx.fetch.size(), 2u);
  json b6 = block(6, 1);
  stream->fetched(fx.fetch[1].tag, &b6, fx);
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{6, 7, 8, 6, 7, 8}));
  EXPECT_EQ(head_of(fx.deliver[3]).second, hash(6, 1));
  EXPECT_EQ(fx.gaps, 0u);
}

TEST(GaplessHeads, AGapBeyondTheBoundIsCountedAndTheStreamContinues) {
  auto stream = heads(4);
  Effects fx;
  stream->notification(head_note(10), kFirst, fx);
  stream->notification(head_note(20), kFirst, fx);
  ASSERT_EQ(fx.fetch.size(), 4u);
  EXPECT_EQ(fx.fetch.front().params[0], "0x10");  // 16..19
  for (std::uint64_t i = 0; i < 4; ++i) {
    json b = block(16 + i);
    stream->fetched(fx.fetch[i].tag, &b, fx);
  }
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10, 16, 17, 18, 19, 20}));
  EXPECT_EQ(fx.gaps, 1u);
  stream->notification(head_note(21), kFirst, fx);
  EXPECT_EQ(heights(fx).back(), 21u);
}

TEST(GaplessHeads, AFillWhoseUpstreamIsLostIsRedoneFromTheNextHead) {
  auto stream = heads();
  Effects fx;
  stream->notification(head_note(10), kFirst, fx);
  stream->notification(head_note(12), kFirst, fx);
  ASSERT_EQ(fx.fetch.size(), 1u);
  stream->abandoned(fx.fetch[0].tag, true, fx);
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10}));
  stream->notification(head_note(13), kFirst, fx);  // from the new upstream
  ASSERT_EQ(fx.fetch.size(), 3u);
  json b11 = block(11), b12 = block(12);
  stream->fetched(fx.fetch[1].tag, &b11, fx);
  stream->fetched(fx.fetch[2].tag, &b12, fx);
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10, 11, 12, 13}));
  EXPECT_EQ(fx.gaps, 0u);
}

TEST(GaplessHeads, AFillThatTimesOutDeliversTheHeadAndCountsTheGap) {
  auto stream = heads();
  Effects fx;
  stream->notification(head_note(10), kFirst, fx);
  stream->notification(head_note(12), kFirst, fx);
  stream->abandoned(fx.fetch[0].tag, false, fx);
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10, 12}));
  EXPECT_EQ(fx.gaps, 1u);
  json late = block(11);
  stream->fetched(fx.fetch[0].tag, &late, fx);  // a late answer changes nothing
  EXPECT_EQ(fx.deliver.size(), 2u);
}

TEST(GaplessHeads, ANullAnswerEndsTheFillAsAGap) {
  auto stream = heads();
  Effects fx;
  stream->notification(head_note(10), kFirst, fx);
  stream->notification(head_note(12), kFirst, fx);
  stream->fetched(fx.fetch[0].tag, nullptr, fx);
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10, 12}));
  EXPECT_EQ(fx.gaps, 1u);
}

TEST(GaplessHeads, NotificationsThatAreNotHeadersPassUnlessRetired) {
  auto stream = heads();
  Effects fx;
  std::string odd = R"({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0xc1","result":{"n":1}}})";
  stream->notification(odd, kFirst, fx);
  stream->notification(odd, kLeft, fx);
  ASSERT_EQ(fx.deliver.size(), 1u);
  EXPECT_EQ(fx.deliver[0], odd);
}

TEST(GaplessPending, TheSameTransactionTwiceReachesTheClientOnce) {
  auto stream = make_stream(classify(json::array({"newPendingTransactions"})), "0xc3", 128);
  ASSERT_NE(stream, nullptr);
  Effects fx;
  auto note = [](const char* tx) {
    return std::string(R"({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0xc3","result":")") +
           tx + "\"}}";
  };
  stream->notification(note("0xaa"), kFirst, fx);
  stream->notification(note("0xbb"), kLeft, fx);
  stream->notification(note("0xaa"), kLeft, fx);
  EXPECT_EQ(fx.deliver, (std::vector<std::string>{note("0xaa"), note("0xbb")}));
  EXPECT_EQ(fx.duplicates, 1u);
}

TEST(GaplessKinds, OtherSubscriptionsAreNotTracked) {
  EXPECT_EQ(make_stream(classify(json::array({"syncing"})), "0x1", 128), nullptr);
  EXPECT_EQ(classify(json::array({"logs"})).filter, json::object());
  EXPECT_EQ(classify(json("newHeads")).kind, Kind::other);
}

}  // namespace
}  // namespace vixy::ws::gapless
