// The gapless subscription streams (I7) on their own: what reaches the client and what is fetched,
// for heads and logs across gaps, duplicates, reorgs, lost upstreams and the backfill bound.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "ws/gapless.hpp"

namespace vixy::ws::gapless {
namespace {

using nlohmann::json;

// A test chain: the block at height h on fork f has hash 0x<f as 2 hex><h as 62 hex>. Fork f
// branches off the main chain (fork 0) below `fork_from`.
std::string hash(std::uint64_t h, int fork = 0) {
  char buffer[67];
  std::snprintf(buffer, sizeof buffer, "0x%02x%062llx", fork, static_cast<unsigned long long>(h));
  return buffer;
}
std::string hex(std::uint64_t n) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(n));
  return buffer;
}

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
  for (std::uint64_t h : {10, 11, 12}) stream->notification(head_note(h), false, fx);
  stream->notification(head_note(12), false, fx);
  stream->notification(head_note(11), false, fx);
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10, 11, 12}));
  EXPECT_EQ(fx.duplicates, 2u);
  EXPECT_TRUE(fx.fetch.empty());
}

TEST(GaplessHeads, AGapIsFetchedByNumberAndDeliveredFirstOldestFirst) {
  auto stream = heads();
  Effects fx;
  stream->notification(head_note(10), false, fx);
  stream->notification(head_note(13), false, fx);
  ASSERT_EQ(fx.fetch.size(), 2u);
  EXPECT_EQ(fx.fetch[0].method, "eth_getBlockByNumber");
  EXPECT_EQ(fx.fetch[0].params, json::array({"0xb", false}));
  EXPECT_EQ(fx.fetch[1].params, json::array({"0xc", false}));
  stream->notification(head_note(14), false, fx);  // arrives while the fill is under way: waits
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
  for (std::uint64_t h : {10, 11}) stream->notification(head_note(h), false, fx);
  // The new upstream is on fork 1, which branched off after 10: 11' and 12' are new.
  stream->notification(head_note(12, 1), false, fx);
  ASSERT_EQ(fx.fetch.size(), 1u);
  EXPECT_EQ(fx.fetch[0].method, "eth_getBlockByHash");
  EXPECT_EQ(fx.fetch[0].params, json::array({hash(11, 1), false}));
  json b11 = block(11, 1, 0);
  stream->fetched(fx.fetch[0].tag, &b11, fx);
  ASSERT_EQ(fx.deliver.size(), 4u);
  EXPECT_EQ(head_of(fx.deliver[2]), std::make_pair(std::uint64_t{11}, hash(11, 1)));
  EXPECT_EQ(head_of(fx.deliver[3]), std::make_pair(std::uint64_t{12}, hash(12, 1)));
  // The old branch's next head, still arriving over the upstream being left, is not delivered.
  stream->notification(head_note(12, 0), true, fx);
  EXPECT_EQ(fx.deliver.size(), 4u);
}

TEST(GaplessHeads, ByNumberAnswersThatDoNotLinkUpFallBackToHashes) {
  auto stream = heads();
  Effects fx;
  stream->notification(head_note(10), false, fx);
  stream->notification(head_note(12, 1, 1), false, fx);  // fork 1 from 11 on, parent 11'
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
  for (std::uint64_t h : {10, 11}) stream->notification(head_note(h), false, fx);
  stream->notification(head_note(11, 1, 0), false, fx);  // parent 10 was delivered
  stream->notification(head_note(12, 1), false, fx);
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10, 11, 11, 12}));
  EXPECT_TRUE(fx.fetch.empty());
}

TEST(GaplessHeads, AGapBeyondTheBoundIsCountedAndTheStreamContinues) {
  auto stream = heads(4);
  Effects fx;
  stream->notification(head_note(10), false, fx);
  stream->notification(head_note(20), false, fx);
  ASSERT_EQ(fx.fetch.size(), 4u);
  EXPECT_EQ(fx.fetch.front().params[0], "0x10");  // 16..19
  for (std::uint64_t i = 0; i < 4; ++i) {
    json b = block(16 + i);
    stream->fetched(fx.fetch[i].tag, &b, fx);
  }
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10, 16, 17, 18, 19, 20}));
  EXPECT_EQ(fx.gaps, 1u);
  stream->notification(head_note(21), false, fx);
  EXPECT_EQ(heights(fx).back(), 21u);
}

TEST(GaplessHeads, AFillWhoseUpstreamIsLostIsRedoneFromTheNextHead) {
  auto stream = heads();
  Effects fx;
  stream->notification(head_note(10), false, fx);
  stream->notification(head_note(12), false, fx);
  ASSERT_EQ(fx.fetch.size(), 1u);
  stream->abandoned(fx.fetch[0].tag, true, fx);
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10}));
  stream->notification(head_note(13), false, fx);  // from the new upstream
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
  stream->notification(head_note(10), false, fx);
  stream->notification(head_note(12), false, fx);
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
  stream->notification(head_note(10), false, fx);
  stream->notification(head_note(12), false, fx);
  stream->fetched(fx.fetch[0].tag, nullptr, fx);
  EXPECT_EQ(heights(fx), (std::vector<std::uint64_t>{10, 12}));
  EXPECT_EQ(fx.gaps, 1u);
}

TEST(GaplessHeads, NotificationsThatAreNotHeadersPassUnlessRetired) {
  auto stream = heads();
  Effects fx;
  std::string odd = R"({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0xc1","result":{"n":1}}})";
  stream->notification(odd, false, fx);
  stream->notification(odd, true, fx);
  ASSERT_EQ(fx.deliver.size(), 1u);
  EXPECT_EQ(fx.deliver[0], odd);
}

// ---- logs ----

std::string log_json(std::uint64_t h, std::uint64_t index, int fork = 0, bool removed = false) {
  return json{{"address", "0x1111"},         {"blockNumber", hex(h)},   {"blockHash", hash(h, fork)},
              {"logIndex", hex(index)},      {"data", "0x"},            {"removed", removed}}
      .dump();
}
std::string log_note(std::uint64_t h, std::uint64_t index, int fork = 0, bool removed = false) {
  return R"({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0xc2","result":)" +
         log_json(h, index, fork, removed) + "}}";
}
struct SeenLog {
  std::uint64_t height;
  std::uint64_t index;
  std::string block;
  bool removed;
  bool operator==(const SeenLog&) const = default;
};
std::vector<SeenLog> logs_of(const Effects& fx) {
  std::vector<SeenLog> out;
  for (const auto& text : fx.deliver) {
    json note = json::parse(text);
    EXPECT_EQ(note["method"], "eth_subscription");
    EXPECT_EQ(note["params"]["subscription"], "0xc2");
    const json& log = note["params"]["result"];
    out.push_back({std::stoull(log["blockNumber"].get<std::string>(), nullptr, 16),
                   std::stoull(log["logIndex"].get<std::string>(), nullptr, 16), log["blockHash"], log["removed"]});
  }
  return out;
}

std::unique_ptr<Stream> logs(std::size_t depth = 128) {
  return make_stream(classify(json::array({"logs", {{"address", "0x1111"}}})), "0xc2", depth);
}

TEST(GaplessLogs, ASwitchFetchesTheMissedRangeWithTheFilterAndDropsWhatWasDelivered) {
  auto stream = logs();
  Effects fx;
  stream->established(false, fx);
  ASSERT_EQ(fx.fetch.size(), 1u);
  EXPECT_EQ(fx.fetch[0].method, "eth_blockNumber");
  json mark = "0x64";  // subscribed at head 100
  stream->fetched(fx.fetch[0].tag, &mark, fx);
  stream->notification(log_note(101, 0), false, fx);
  stream->notification(log_note(101, 0), false, fx);
  EXPECT_EQ(fx.duplicates, 1u);

  stream->established(true, fx);  // re-established on another upstream
  ASSERT_EQ(fx.fetch.size(), 2u);
  EXPECT_EQ(fx.fetch[1].method, "eth_blockNumber");
  json head = "0x67";
  stream->fetched(fx.fetch[1].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 3u);
  EXPECT_EQ(fx.fetch[2].method, "eth_getLogs");
  // From the block of the last delivered log (it may have had more), to the new upstream's head.
  EXPECT_EQ(fx.fetch[2].params, json::array({{{"address", "0x1111"}, {"fromBlock", "0x65"}, {"toBlock", "0x67"}}}));
  stream->notification(log_note(104, 0), false, fx);  // live on the new upstream: waits for the fill
  json answer = json::array({json::parse(log_json(101, 0)), json::parse(log_json(101, 1)),
                             json::parse(log_json(103, 0))});
  stream->fetched(fx.fetch[2].tag, &answer, fx);
  std::vector<SeenLog> expected{{101, 0, hash(101), false}, {101, 1, hash(101), false},
                                {103, 0, hash(103), false}, {104, 0, hash(104), false}};
  EXPECT_EQ(logs_of(fx), expected);
  EXPECT_EQ(fx.backfilled, 2u);
  EXPECT_EQ(fx.duplicates, 2u);
}

TEST(GaplessLogs, LogsOfABlockTheNewUpstreamReorgedAwayAreSentAgainAsRemoved) {
  auto stream = logs();
  Effects fx;
  stream->established(false, fx);
  json mark = "0x64";
  stream->fetched(fx.fetch[0].tag, &mark, fx);
  stream->notification(log_note(101, 0), false, fx);
  stream->notification(log_note(102, 0), false, fx);
  stream->established(true, fx);
  json head = "0x66";
  stream->fetched(fx.fetch[1].tag, &head, fx);
  json answer = json::array({json::parse(log_json(101, 0)), json::parse(log_json(102, 0, 1))});
  stream->fetched(fx.fetch[2].tag, &answer, fx);
  std::vector<SeenLog> expected{{101, 0, hash(101), false}, {102, 0, hash(102), false},
                                {102, 0, hash(102), true},  {102, 0, hash(102, 1), false}};
  EXPECT_EQ(logs_of(fx), expected);
}

TEST(GaplessLogs, ARangeBeyondTheBoundIsCutAndCounted) {
  auto stream = logs(2);
  Effects fx;
  stream->established(false, fx);
  json mark = "0x64";
  stream->fetched(fx.fetch[0].tag, &mark, fx);
  stream->established(true, fx);
  json head = "0x6e";  // 110: blocks 101..110 missed, only 109..110 are fetched
  stream->fetched(fx.fetch[1].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 3u);
  EXPECT_EQ(fx.fetch[2].params[0]["fromBlock"], "0x6d");
  EXPECT_EQ(fx.gaps, 1u);
}

TEST(GaplessLogs, ANodesOwnRemovedNoticePassesOnceForADeliveredLog) {
  auto stream = logs();
  Effects fx;
  stream->notification(log_note(101, 0), false, fx);
  stream->notification(log_note(101, 0, 0, true), false, fx);
  stream->notification(log_note(101, 0, 0, true), false, fx);
  std::vector<SeenLog> expected{{101, 0, hash(101), false}, {101, 0, hash(101), true}};
  EXPECT_EQ(logs_of(fx), expected);
  EXPECT_EQ(fx.duplicates, 1u);
}

TEST(GaplessLogs, AFailedFetchCountsAGapAndReleasesHeldLogs) {
  auto stream = logs();
  Effects fx;
  stream->notification(log_note(101, 0), false, fx);
  stream->established(true, fx);
  ASSERT_EQ(fx.fetch.size(), 1u);
  stream->notification(log_note(105, 0), false, fx);
  EXPECT_EQ(fx.deliver.size(), 1u);
  stream->fetched(fx.fetch[0].tag, nullptr, fx);
  EXPECT_EQ(fx.gaps, 1u);
  EXPECT_EQ(logs_of(fx).back(), (SeenLog{105, 0, hash(105), false}));
}

// Found by the session model (a logs subscription, its upstream lost before the head at
// subscription time came, a block mined meanwhile): the switch filled nothing and counted nothing.
TEST(GaplessLogs, ASwitchBeforeTheHeadAtSubscriptionTimeWaitsForItOrCountsAGap) {
  {
    auto stream = logs();
    Effects fx;
    stream->established(false, fx);
    stream->established(true, fx);  // the mark is still on its way (old upstream still open)
    ASSERT_EQ(fx.fetch.size(), 1u);
    json mark = "0x64";
    stream->fetched(fx.fetch[0].tag, &mark, fx);
    ASSERT_EQ(fx.fetch.size(), 2u);
    EXPECT_EQ(fx.fetch[1].method, "eth_blockNumber");
    json head = "0x66";
    stream->fetched(fx.fetch[1].tag, &head, fx);
    ASSERT_EQ(fx.fetch.size(), 3u);
    EXPECT_EQ(fx.fetch[2].params[0]["fromBlock"], "0x65");
    EXPECT_EQ(fx.gaps, 0u);
  }
  {
    auto stream = logs();
    Effects fx;
    stream->established(false, fx);
    stream->abandoned(fx.fetch[0].tag, true, fx);  // the mark's upstream is lost
    stream->established(true, fx);
    EXPECT_EQ(fx.gaps, 1u);
    // The new upstream's head is where the stream is complete from: the next switch fills from there.
    ASSERT_EQ(fx.fetch.size(), 2u);
    EXPECT_EQ(fx.fetch[1].method, "eth_blockNumber");
    json mark = "0x70";
    stream->fetched(fx.fetch[1].tag, &mark, fx);
    stream->established(true, fx);
    ASSERT_EQ(fx.fetch.size(), 3u);
    json head = "0x71";
    stream->fetched(fx.fetch[2].tag, &head, fx);
    ASSERT_EQ(fx.fetch.size(), 4u);
    EXPECT_EQ(fx.fetch[3].params[0]["fromBlock"], "0x71");
    EXPECT_EQ(fx.gaps, 1u);
  }
  {
    auto stream = logs();
    Effects fx;
    stream->established(false, fx);
    stream->established(true, fx);
    stream->abandoned(fx.fetch[0].tag, false, fx);  // the mark timed out after the switch
    EXPECT_EQ(fx.gaps, 1u);
    ASSERT_EQ(fx.fetch.size(), 2u);
    EXPECT_EQ(fx.fetch[1].method, "eth_blockNumber");
  }
}

// Found by the session model: logs of block 6 delivered, the upstream lost, block 6 reorged
// away, and the new upstream still at 5 (lagging): the fill had nothing to fetch, and when the new
// upstream reached the new block 6 the client still held the old block's logs, never removed.
TEST(GaplessLogs, LogsAboveABehindUpstreamsHeadAreCheckedOnceItGetsThere) {
  auto stream = logs();
  Effects fx;
  stream->established(false, fx);
  json mark = "0x5";
  stream->fetched(fx.fetch[0].tag, &mark, fx);
  stream->notification(log_note(6, 0), false, fx);
  stream->established(true, fx);
  json behind = "0x5";
  stream->fetched(fx.fetch[1].tag, &behind, fx);
  EXPECT_EQ(fx.fetch.size(), 2u);  // nothing to fetch up to 5
  stream->notification(log_note(6, 0, 1), false, fx);  // block 6 of the new upstream's chain
  ASSERT_EQ(fx.fetch.size(), 3u);
  EXPECT_EQ(fx.fetch[2].method, "eth_blockNumber");
  json head = "0x6";
  stream->fetched(fx.fetch[2].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 4u);
  EXPECT_EQ(fx.fetch[3].params[0]["fromBlock"], "0x6");
  json answer = json::array({json::parse(log_json(6, 0, 1))});
  stream->fetched(fx.fetch[3].tag, &answer, fx);
  std::vector<SeenLog> expected{{6, 0, hash(6), false}, {6, 0, hash(6), true}, {6, 0, hash(6, 1), false}};
  EXPECT_EQ(logs_of(fx), expected);
  EXPECT_EQ(fx.gaps, 0u);
}

// Found by the session model: a fill's upstream lost while block 7's logs waited for it; they were
// delivered, so the next switch filled from 7 and block 6's logs never came.
TEST(GaplessLogs, AFillWhoseUpstreamIsLostLeavesItsRangeAndWhatWaitedToTheNextFill) {
  auto stream = logs();
  Effects fx;
  stream->established(false, fx);
  json mark = "0x5";
  stream->fetched(fx.fetch[0].tag, &mark, fx);
  stream->established(true, fx);
  ASSERT_EQ(fx.fetch.size(), 2u);
  stream->notification(log_note(7, 0), false, fx);  // waits for the fill
  stream->abandoned(fx.fetch[1].tag, true, fx);
  EXPECT_TRUE(fx.deliver.empty());
  EXPECT_EQ(fx.gaps, 0u);
  stream->established(true, fx);
  ASSERT_EQ(fx.fetch.size(), 3u);
  json head = "0x7";
  stream->fetched(fx.fetch[2].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 4u);
  EXPECT_EQ(fx.fetch[3].params[0]["fromBlock"], "0x6");
}

// Found by the session model: block 6's logs delivered, then the (backup) node reorged 6 away on
// its own (removed, and the new 6's logs), then failback to a primary whose chain has the old 6.
// The fill started above 6: the client kept the new 6's logs and never got the canonical ones.
TEST(GaplessLogs, ASwitchChecksTheLastBlocksBelowTheFillAgainButNothingBeforeTheSubscription) {
  auto stream = logs();
  Effects fx;
  stream->established(false, fx);
  stream->notification(log_note(6, 0), false, fx);
  json mark = "0x6";  // answered after block 6's logs came
  stream->fetched(fx.fetch[0].tag, &mark, fx);
  stream->notification(log_note(6, 0, 0, true), false, fx);
  stream->notification(log_note(6, 0, 1), false, fx);
  stream->established(true, fx);
  json head = "0x7";
  stream->fetched(fx.fetch[1].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 3u);
  EXPECT_EQ(fx.fetch[2].params[0]["fromBlock"], "0x6");  // not below the subscription (block 5)
  json answer = json::array({json::parse(log_json(6, 0)), json::parse(log_json(7, 0))});
  stream->fetched(fx.fetch[2].tag, &answer, fx);
  std::vector<SeenLog> expected{{6, 0, hash(6), false},    {6, 0, hash(6), true}, {6, 0, hash(6, 1), false},
                                {6, 0, hash(6, 1), true},  {6, 0, hash(6), false}, {7, 0, hash(7), false}};
  EXPECT_EQ(logs_of(fx), expected);
  EXPECT_EQ(fx.gaps, 0u);
}

// Found by the session model: a node's reorg sent logs of blocks far below its head (the new
// branch), the fill after a switch went back below the logs the stream still remembers and sent
// block 2's logs to the client a second time.
TEST(GaplessLogs, TheRecheckAfterASwitchStaysWithinWhatTheStreamRemembers) {
  auto stream = logs(4);
  Effects fx;
  stream->established(false, fx);
  for (std::uint64_t h : {2, 3, 4, 5, 6, 7}) stream->notification(log_note(h, 0), false, fx);
  json mark = "0x7";
  stream->fetched(fx.fetch[0].tag, &mark, fx);
  stream->established(true, fx);
  json head = "0x5";  // the new upstream is behind
  stream->fetched(fx.fetch[1].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 3u);
  EXPECT_EQ(fx.fetch[2].params[0]["fromBlock"], "0x4");  // 7 - 4 + 1: 2 and 3 are forgotten
}

TEST(GaplessPending, TheSameTransactionTwiceReachesTheClientOnce) {
  auto stream = make_stream(classify(json::array({"newPendingTransactions"})), "0xc3", 128);
  ASSERT_NE(stream, nullptr);
  Effects fx;
  auto note = [](const char* tx) {
    return std::string(R"({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0xc3","result":")") +
           tx + "\"}}";
  };
  stream->notification(note("0xaa"), false, fx);
  stream->notification(note("0xbb"), true, fx);
  stream->notification(note("0xaa"), true, fx);
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
