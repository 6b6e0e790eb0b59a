// The gapless logs stream (I7) on its own: fills after a switch with the subscription's filter,
// removed logs after reorgs, duplicates, lost upstreams and the backfill bound.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "unit/gapless_fixture.hpp"
#include "jsonrpc/jsonrpc.hpp"
#include "ws/gapless.hpp"

namespace vixy::ws::gapless {
namespace {

using nlohmann::json;
using testing::hash;
using testing::hex;
using testing::kFirst;
using testing::kLater;
using testing::kLeft;
using testing::kLeftLater;

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
void PrintTo(const SeenLog& log, std::ostream* os) {
  *os << log.height << "/" << log.index << (log.removed ? " removed " : " ") << log.block.substr(0, 10) << "..";
}
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

// The subscription is confirmed and its upstream says the head was `head` at that moment.
void subscribed_at(Stream& stream, Effects& fx, const char* head) {
  stream.established(false, fx);
  ASSERT_FALSE(fx.fetch.empty());
  EXPECT_EQ(fx.fetch.back().method, "eth_blockNumber");
  json mark = head;
  stream.fetched(fx.fetch.back().tag, &mark, fx);
}

// The subscription is re-established on another upstream, whose head is `head` when asked.
void moved_to(Stream& stream, Effects& fx, const char* head) {
  stream.established(true, fx);
  ASSERT_FALSE(fx.fetch.empty());
  EXPECT_EQ(fx.fetch.back().method, "eth_blockNumber");
  json answer = head;
  stream.fetched(fx.fetch.back().tag, &answer, fx);
}

// A fill's eth_getLogs was answered: its confirming eth_blockNumber (the last fetch) gets `head`.
void confirmed(Stream& stream, Effects& fx, const char* head) {
  ASSERT_FALSE(fx.fetch.empty());
  ASSERT_EQ(fx.fetch.back().method, "eth_blockNumber");
  json answer = head;
  stream.fetched(fx.fetch.back().tag, &answer, fx);
}

// A switch came before the head at subscription time: that head (`mark`, the first fetch) and
// then the new upstream's (`head`, the second) are answered. Returns where the fill's eth_getLogs
// starts (the third fetch), null if the fetches were not those.
json fill_from_after_late_mark(Stream& stream, Effects& fx, const char* mark, const char* head) {
  json answers[] = {mark, head};
  for (std::size_t i = 0; i < 2; ++i) {
    if (fx.fetch.size() != i + 1 || fx.fetch[i].method != "eth_blockNumber") {
      ADD_FAILURE() << "fetch " << i << " is not the eth_blockNumber expected (" << fx.fetch.size() << " fetches)";
      return json();
    }
    stream.fetched(fx.fetch[i].tag, &answers[i], fx);
  }
  if (fx.fetch.size() != 3u || fx.fetch[2].method != "eth_getLogs") {
    ADD_FAILURE() << "no eth_getLogs after the heads (" << fx.fetch.size() << " fetches)";
    return json();
  }
  return fx.fetch[2].params[0]["fromBlock"];
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
  stream->notification(log_note(101, 0), kFirst, fx);
  stream->notification(log_note(101, 0), kFirst, fx);
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
  stream->notification(log_note(104, 0), kLater, fx);  // live on the new upstream: waits for the fill
  json answer = json::array({json::parse(log_json(101, 0)), json::parse(log_json(101, 1)),
                             json::parse(log_json(103, 0))});
  stream->fetched(fx.fetch[2].tag, &answer, fx);
  confirmed(*stream, fx, "0x67");
  std::vector<SeenLog> expected{{101, 0, hash(101), false}, {101, 1, hash(101), false},
                                {103, 0, hash(103), false}, {104, 0, hash(104), false}};
  EXPECT_EQ(logs_of(fx), expected);
  EXPECT_EQ(fx.backfilled, 2u);
  EXPECT_EQ(fx.duplicates, 2u);
}

// A node that lags announces logs of blocks older than the stream remembers: the client had them
// (as with heads, found by the libFuzzer target over the session core).
TEST(GaplessLogs, LogsBelowTheRememberedBlocksAreDropped) {
  auto stream = logs(4);
  Effects fx;
  subscribed_at(*stream, fx, "0x9");
  for (std::uint64_t h = 10; h <= 16; ++h) stream->notification(log_note(h, 0), kFirst, fx);
  for (std::uint64_t h = 10; h <= 16; ++h) stream->notification(log_note(h, 0), kFirst, fx);
  stream->notification(log_note(17, 0), kFirst, fx);
  std::vector<std::uint64_t> heights;
  for (const auto& log : logs_of(fx)) heights.push_back(log.height);
  EXPECT_EQ(heights, (std::vector<std::uint64_t>{10, 11, 12, 13, 14, 15, 16, 17}));
  EXPECT_EQ(fx.duplicates, 7u);
}

TEST(GaplessLogs, LogsOfABlockTheNewUpstreamReorgedAwayAreSentAgainAsRemoved) {
  auto stream = logs();
  Effects fx;
  subscribed_at(*stream, fx, "0x64");
  stream->notification(log_note(101, 0), kFirst, fx);
  stream->notification(log_note(102, 0), kFirst, fx);
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
  subscribed_at(*stream, fx, "0x64");
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
  stream->notification(log_note(101, 0), kFirst, fx);
  stream->notification(log_note(101, 0, 0, true), kFirst, fx);
  stream->notification(log_note(101, 0, 0, true), kFirst, fx);
  std::vector<SeenLog> expected{{101, 0, hash(101), false}, {101, 0, hash(101), true}};
  EXPECT_EQ(logs_of(fx), expected);
  EXPECT_EQ(fx.duplicates, 1u);
}

// A node that sends another block's logs at a height the client holds logs of, with no removal
// first: it never had the client's block (it came from another upstream, or from another node
// behind the same address), so it never says it is gone. The client is told, as a reorg notice
// would, before the new block's logs; a removal coming after all is then a duplicate. Found by the
// simulation (seed 50433: a failback fill, then a reorg of a block the node had not announced).
TEST(GaplessLogs, AnotherBlocksLogAtAHeightTheClientHoldsRemovesTheOldBlocksLogsFirst) {
  auto stream = logs();
  Effects fx;
  subscribed_at(*stream, fx, "0x64");
  stream->notification(log_note(101, 0), kFirst, fx);
  stream->notification(log_note(102, 0), kFirst, fx);
  stream->notification(log_note(102, 1), kFirst, fx);
  stream->notification(log_note(102, 0, 1), kFirst, fx);
  stream->notification(log_note(102, 0, 0, true), kFirst, fx);
  stream->notification(log_note(103, 0, 1), kFirst, fx);
  std::vector<SeenLog> expected{{101, 0, hash(101), false},   {102, 0, hash(102), false},
                                {102, 1, hash(102), false},   {102, 0, hash(102), true},
                                {102, 1, hash(102), true},    {102, 0, hash(102, 1), false},
                                {103, 0, hash(103, 1), false}};
  EXPECT_EQ(logs_of(fx), expected);
  EXPECT_EQ(fx.duplicates, 1u);
}

TEST(GaplessLogs, AFailedFetchCountsAGapAndReleasesHeldLogs) {
  auto stream = logs();
  Effects fx;
  stream->notification(log_note(101, 0), kFirst, fx);
  stream->established(true, fx);
  ASSERT_EQ(fx.fetch.size(), 1u);
  stream->notification(log_note(105, 0), kLater, fx);
  EXPECT_EQ(fx.deliver.size(), 1u);
  stream->fetched(fx.fetch[0].tag, nullptr, fx);
  EXPECT_EQ(fx.gaps, 1u);
  EXPECT_EQ(logs_of(fx).back(), (SeenLog{105, 0, hash(105), false}));
}

// A fill's fetch that timed out is asked once more before the range counts as a gap: it may have
// joined an identical fetch the node never got (sent into a path that dropped it, which the node
// multiplexer cannot tell until it reads from the node again). Found by the chaos fuzzer (a
// blackholed node: every logs subscription's recheck after it joined a lost eth_blockNumber).
TEST(GaplessLogs, AFillWhoseFetchTimedOutIsAskedOnceMoreBeforeAGapIsCounted) {
  auto stream = logs();
  Effects fx;
  subscribed_at(*stream, fx, "0x64");
  stream->notification(log_note(101, 0), kFirst, fx);
  stream->established(true, fx);
  ASSERT_EQ(fx.fetch.size(), 2u);
  stream->notification(log_note(104, 0), kFirst, fx);  // waits for the fill
  stream->abandoned(fx.fetch[1].tag, false, fx);      // its head timed out
  EXPECT_EQ(fx.gaps, 0u);
  ASSERT_EQ(fx.fetch.size(), 3u);
  EXPECT_EQ(fx.fetch[2].method, "eth_blockNumber");
  json head = "0x68";
  stream->fetched(fx.fetch[2].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 4u);
  EXPECT_EQ(fx.fetch[3].method, "eth_getLogs");
  stream->abandoned(fx.fetch[3].tag, false, fx);  // and timed out again: a gap, and what waited goes
  EXPECT_EQ(fx.gaps, 1u);
  EXPECT_EQ(logs_of(fx), (std::vector<SeenLog>{{101, 0, hash(101), false}, {104, 0, hash(104), false}}));

  // The next fill may retry once again.
  stream->established(true, fx);
  ASSERT_EQ(fx.fetch.size(), 5u);
  stream->abandoned(fx.fetch[4].tag, false, fx);
  EXPECT_EQ(fx.gaps, 1u);
  EXPECT_EQ(fx.fetch.size(), 6u);
}

// Found by the session model (a logs subscription, its upstream lost before the head at
// subscription time came, a block mined meanwhile): the switch filled nothing and counted nothing.
TEST(GaplessLogs, ASwitchBeforeTheHeadAtSubscriptionTimeWaitsForItOrCountsAGap) {
  {
    auto stream = logs();
    Effects fx;
    stream->established(false, fx);
    stream->established(true, fx);  // the mark is still on its way (old upstream still open)
    EXPECT_EQ(fill_from_after_late_mark(*stream, fx, "0x64", "0x66"), "0x65");
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

// Found by long session-model runs: the head at subscription time answered only after two
// switches, and in a block the subscribing upstream's logs had already come from (over its link,
// left twice behind by then). Only that upstream's logs say the subscription began below them; an
// upstream moved to in between may be catching up from before the subscription and says nothing.
TEST(GaplessLogs, TheFirstUpstreamsLogsCapTheHeadAtSubscriptionTimeAfterTwoSwitches) {
  for (bool from_first : {true, false}) {
    SCOPED_TRACE(from_first ? "the subscribing upstream's log" : "an in-between upstream's log");
    auto stream = logs();
    Effects fx;
    stream->established(false, fx);
    stream->established(true, fx);
    stream->established(true, fx);  // the head at subscription time is still on its way
    stream->notification(log_note(from_first ? 0x65 : 0x60, 0), from_first ? kLeft : kLeftLater, fx);
    EXPECT_EQ(fill_from_after_late_mark(*stream, fx, "0x65", "0x66"), from_first ? "0x65" : "0x66");
  }
}

// Found by the session model: logs of block 6 delivered, the upstream lost, block 6 reorged
// away, and the new upstream still at 5 (lagging): the fill had nothing to fetch, and when the new
// upstream reached the new block 6 the client still held the old block's logs, never removed.
TEST(GaplessLogs, LogsAboveABehindUpstreamsHeadAreCheckedOnceItGetsThere) {
  auto stream = logs();
  Effects fx;
  subscribed_at(*stream, fx, "0x5");
  stream->notification(log_note(6, 0), kFirst, fx);
  stream->established(true, fx);
  json behind = "0x5";
  stream->fetched(fx.fetch[1].tag, &behind, fx);
  EXPECT_EQ(fx.fetch.size(), 2u);  // nothing to fetch up to 5
  stream->notification(log_note(6, 0, 1), kLater, fx);  // block 6 of the new upstream's chain
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

// Found by the session model (a node whose eth_blockNumber lags its own notifications): the check
// the log of block 6 started saw head 5 again and started itself again, without end.
TEST(GaplessLogs, ACheckStartedByALogCoversItsBlockEvenIfTheNodeSaysItIsBehind) {
  auto stream = logs();
  Effects fx;
  subscribed_at(*stream, fx, "0x4");
  stream->notification(log_note(7, 0), kFirst, fx);
  stream->established(true, fx);
  json behind = "0x5";
  stream->fetched(fx.fetch[1].tag, &behind, fx);  // logs up to 5 are fetched, 6..7 wait for the node
  ASSERT_EQ(fx.fetch.size(), 3u);
  json none = json::array();
  stream->fetched(fx.fetch[2].tag, &none, fx);
  confirmed(*stream, fx, "0x5");
  stream->notification(log_note(6, 0), kLater, fx);  // the node got to 6...
  ASSERT_EQ(fx.fetch.size(), 5u);
  json still_behind = "0x5";                         // ...but says 5
  stream->fetched(fx.fetch[4].tag, &still_behind, fx);
  ASSERT_EQ(fx.fetch.size(), 6u);
  EXPECT_EQ(fx.fetch[5].method, "eth_getLogs");
  EXPECT_EQ(fx.fetch[5].params[0]["toBlock"], "0x6");
  json answer = json::array({json::parse(log_json(6, 0))});
  stream->fetched(fx.fetch[5].tag, &answer, fx);
  confirmed(*stream, fx, "0x5");  // still behind, but it sent block 6's log
  EXPECT_EQ(fx.fetch.size(), 7u) << "the log of block 6 started another check";
  std::vector<SeenLog> expected{{7, 0, hash(7), false}, {6, 0, hash(6), false}};
  EXPECT_EQ(logs_of(fx), expected);
}

// Found by the session model: a fill's upstream lost while block 7's logs waited for it; they were
// delivered, so the next switch filled from 7 and block 6's logs never came.
TEST(GaplessLogs, AFillWhoseUpstreamIsLostLeavesItsRangeAndWhatWaitedToTheNextFill) {
  auto stream = logs();
  Effects fx;
  subscribed_at(*stream, fx, "0x5");
  stream->established(true, fx);
  ASSERT_EQ(fx.fetch.size(), 2u);
  stream->notification(log_note(7, 0), kLater, fx);  // waits for the fill
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
  stream->notification(log_note(6, 0), kFirst, fx);
  json mark = "0x6";  // answered after block 6's logs came
  stream->fetched(fx.fetch[0].tag, &mark, fx);
  stream->notification(log_note(6, 0, 0, true), kFirst, fx);
  stream->notification(log_note(6, 0, 1), kFirst, fx);
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
// branch), the fill after a switch went back below the logs whose texts the stream still keeps
// and sent block 2's logs to the client a second time. Their keys are kept longer: the re-check
// may go back that far and delivers nothing the client has.
TEST(GaplessLogs, TheRecheckAfterASwitchDeliversNothingTheClientHas) {
  auto stream = logs(4);
  Effects fx;
  stream->established(false, fx);
  for (std::uint64_t h : {2, 3, 4, 5, 6, 7}) stream->notification(log_note(h, 0), kFirst, fx);
  json mark = "0x7";
  stream->fetched(fx.fetch[0].tag, &mark, fx);
  std::size_t delivered = fx.deliver.size();
  moved_to(*stream, fx, "0x5");  // the new upstream is behind
  ASSERT_EQ(fx.fetch.size(), 3u);
  EXPECT_EQ(fx.fetch[2].params[0]["fromBlock"], "0x2");
  json answer = json::array();
  for (std::uint64_t h : {2, 3, 4, 5}) answer.push_back(json::parse(log_json(h, 0)));
  stream->fetched(fx.fetch[2].tag, &answer, fx);
  EXPECT_EQ(fx.deliver.size(), delivered);
  EXPECT_EQ(fx.duplicates, 4u);
}

// Found by the libFuzzer target over the session core (CI, 2026-12-04): during a failback's fill,
// the backup being left reorged blocks 6..7 onto a fork of its own; what it said was held with
// the fill and delivered after it: removed for the canonical 6 and 7 the fill had just confirmed,
// then the fork's logs. The client ended on the fork, and nothing would ever remove it.
TEST(GaplessLogs, WhatTheUpstreamBeingLeftSaysAboutBlocksTheFillCoveredIsDropped) {
  auto stream = logs();
  Effects fx;
  subscribed_at(*stream, fx, "0x5");
  stream->notification(log_note(6, 0), kFirst, fx);
  stream->established(true, fx);  // failback: the new upstream fills
  ASSERT_EQ(fx.fetch.size(), 2u);
  stream->notification(log_note(6, 0, 0, true), kLeft, fx);  // the old upstream's own fork
  stream->notification(log_note(6, 0, 1), kLeft, fx);
  stream->notification(log_note(7, 0, 1), kLeft, fx);
  json head = "0x7";
  stream->fetched(fx.fetch[1].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 3u);
  json answer = json::array({json::parse(log_json(6, 0)), json::parse(log_json(7, 0))});
  stream->fetched(fx.fetch[2].tag, &answer, fx);
  std::vector<SeenLog> expected{{6, 0, hash(6), false}, {7, 0, hash(7), false}};
  EXPECT_EQ(logs_of(fx), expected);
  EXPECT_EQ(fx.gaps, 0u);
}

// The upstream being left may be ahead of the new one: its logs above what the fill covered still
// reach the client at once, and are checked against the new upstream's chain once it gets there.
TEST(GaplessLogs, TheUpstreamBeingLeftAheadOfTheFillIsDeliveredAndCheckedLater) {
  auto stream = logs();
  Effects fx;
  subscribed_at(*stream, fx, "0x5");
  stream->established(true, fx);
  json head = "0x6";
  stream->fetched(fx.fetch[1].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 3u);
  json none = json::array();
  stream->fetched(fx.fetch[2].tag, &none, fx);
  confirmed(*stream, fx, "0x6");
  stream->notification(log_note(7, 0, 1), kLeft, fx);  // the old upstream, ahead, on a fork of its own
  stream->notification(log_note(7, 0), kLater, fx);     // the new upstream gets to 7: its chain is checked
  ASSERT_EQ(fx.fetch.size(), 5u);
  EXPECT_EQ(fx.fetch[4].method, "eth_blockNumber");
  json seven = "0x7";
  stream->fetched(fx.fetch[4].tag, &seven, fx);
  ASSERT_EQ(fx.fetch.size(), 6u);
  json answer = json::array({json::parse(log_json(7, 0))});
  stream->fetched(fx.fetch[5].tag, &answer, fx);
  confirmed(*stream, fx, "0x7");
  std::vector<SeenLog> expected{{7, 0, hash(7, 1), false}, {7, 0, hash(7, 1), true}, {7, 0, hash(7), false}};
  EXPECT_EQ(logs_of(fx), expected);
  EXPECT_EQ(fx.gaps, 0u);
}

// Found by the session model (longer sequences): subscribed at 9 and block 10's logs delivered,
// a switch to a node at 5 left 6..10 to check; the failback to a node at 10 then fetched 6..10,
// longer than the bound: a gap counted, and logs of 7..9, from before the subscription, delivered.
TEST(GaplessLogs, ANodeFarBehindLeavesNothingToCheckBelowTheSubscription) {
  auto stream = logs(4);
  Effects fx;
  subscribed_at(*stream, fx, "0x9");
  stream->notification(log_note(10, 0), kFirst, fx);
  stream->established(true, fx);
  json behind = "0x5";
  stream->fetched(fx.fetch[1].tag, &behind, fx);
  ASSERT_EQ(fx.fetch.size(), 2u);  // nothing up to 5 is the client's
  stream->established(true, fx);
  json head = "0xa";
  stream->fetched(fx.fetch[2].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 4u);
  EXPECT_EQ(fx.fetch[3].params[0]["fromBlock"], "0xa");
  EXPECT_EQ(fx.gaps, 0u);
}

// Found by the session model (longer sequences): the head at subscription time lost with its
// upstream after a switch (a gap, counted), then the mark asked in its place lost too, then
// another switch: one stretch of not knowing where the stream stood was counted as two gaps.
TEST(GaplessLogs, AStreamThatNeverKnewWhereItStoodCountsOneGapHoweverManySwitches) {
  auto stream = logs();
  Effects fx;
  stream->established(false, fx);
  stream->established(true, fx);                 // waits for the mark
  stream->abandoned(fx.fetch[0].tag, true, fx);  // which is lost: a gap
  EXPECT_EQ(fx.gaps, 1u);
  ASSERT_EQ(fx.fetch.size(), 2u);
  stream->abandoned(fx.fetch[1].tag, true, fx);  // the mark asked in its place is lost too
  stream->established(true, fx);
  ASSERT_EQ(fx.fetch.size(), 3u);
  EXPECT_EQ(fx.fetch[2].method, "eth_blockNumber");
  json mark = "0x70";
  stream->fetched(fx.fetch[2].tag, &mark, fx);
  stream->established(true, fx);  // from here on the stream knows where it stands
  json head = "0x71";
  stream->fetched(fx.fetch[3].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 5u);
  EXPECT_EQ(fx.fetch[4].params[0]["fromBlock"], "0x71");
  EXPECT_EQ(fx.gaps, 1u);
}

// Found by the session model (longer sequences): after that gap, the head asked in place of the
// lost one came from a node far behind (5, the subscription was made at 9); the next switch, to a
// node at 10, found 6..10 longer than the bound and counted it as a second gap, though it is the
// same stretch of not knowing.
TEST(GaplessLogs, ARangeTooLongBecauseTheStreamNeverKnewWhereItStoodIsTheSameGap) {
  auto stream = logs(4);
  Effects fx;
  stream->established(false, fx);
  stream->abandoned(fx.fetch[0].tag, true, fx);
  stream->established(true, fx);
  EXPECT_EQ(fx.gaps, 1u);
  json behind = "0x5";
  stream->fetched(fx.fetch[1].tag, &behind, fx);
  stream->established(true, fx);
  json head = "0xa";
  stream->fetched(fx.fetch[2].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 4u);
  EXPECT_EQ(fx.fetch[3].params[0]["fromBlock"], "0x7");
  json none = json::array();
  stream->fetched(fx.fetch[3].tag, &none, fx);
  confirmed(*stream, fx, "0xa");
  EXPECT_EQ(fx.gaps, 1u);
  // Once a fill has covered the stream, a range beyond the bound is a gap of its own.
  stream->established(true, fx);
  json far = "0x14";
  stream->fetched(fx.fetch[5].tag, &far, fx);
  EXPECT_EQ(fx.gaps, 2u);
}

// Found by the session model (longer sequences): a fill from a node on a fork of its own removed
// blocks 6..8; the node being left, ahead, delivered 10 and 11; then the fork's node went back to
// the canonical chain and sent 6..8 again. Block 6 looked older than everything remembered (11 -
// 4) and was dropped as a repeat, though the client had been told it was removed.
TEST(GaplessLogs, ALogSentAsRemovedIsDeliveredAgainWhenItsBlockComesBackHoweverOld) {
  auto stream = logs(4);
  Effects fx;
  subscribed_at(*stream, fx, "0x5");
  for (std::uint64_t h : {6, 7, 8}) stream->notification(log_note(h, 0), kFirst, fx);
  stream->established(true, fx);
  json head = "0x8";
  stream->fetched(fx.fetch[1].tag, &head, fx);
  json fork = json::array();
  for (std::uint64_t h : {6, 7, 8}) fork.push_back(json::parse(log_json(h, 0, 1)));
  stream->fetched(fx.fetch[2].tag, &fork, fx);
  confirmed(*stream, fx, "0x8");
  for (std::uint64_t h : {10, 11}) stream->notification(log_note(h, 0), kLeft, fx);  // the node being left
  for (std::uint64_t h : {8, 7, 6}) stream->notification(log_note(h, 0, 1, true), kLater, fx);
  for (std::uint64_t h : {6, 7, 8}) stream->notification(log_note(h, 0), kLater, fx);
  std::vector<SeenLog> expected{
      {6, 0, hash(6), false},    {7, 0, hash(7), false},    {8, 0, hash(8), false},     // live
      {6, 0, hash(6), true},     {7, 0, hash(7), true},     {8, 0, hash(8), true},      // the fill
      {6, 0, hash(6, 1), false}, {7, 0, hash(7, 1), false}, {8, 0, hash(8, 1), false},
      {10, 0, hash(10), false},  {11, 0, hash(11), false},                              // ahead
      {8, 0, hash(8, 1), true},  {7, 0, hash(7, 1), true},  {6, 0, hash(6, 1), true},   // back
      {6, 0, hash(6), false},    {7, 0, hash(7), false},    {8, 0, hash(8), false}};
  EXPECT_EQ(logs_of(fx), expected);
}

// Found by the session model (longer sequences): the same, but while the node was on its fork a
// reorg of the whole network replaced block 6, so the canonical chain it went back to has a block
// 6 the client never saw. For the stream that reorg was 3 blocks deep (the fork's 8 to 6), within
// the bound; only the node being left had run ahead to 11. The new log was dropped as a lagging
// node's repeat (older than 11 - 4); it is told from one by its key now.
TEST(GaplessLogs, ANewLogBelowWhereAnotherUpstreamRanAheadIsDelivered) {
  auto stream = logs(4);
  Effects fx;
  subscribed_at(*stream, fx, "0x5");
  stream->notification(log_note(6, 0), kFirst, fx);
  moved_to(*stream, fx, "0x8");
  json fork = json::array();
  for (std::uint64_t h : {6, 7, 8}) fork.push_back(json::parse(log_json(h, 0, 1)));
  stream->fetched(fx.fetch[2].tag, &fork, fx);
  confirmed(*stream, fx, "0x8");
  for (std::uint64_t h : {10, 11}) stream->notification(log_note(h, 0), kLeft, fx);  // the node being left
  for (std::uint64_t h : {8, 7, 6}) stream->notification(log_note(h, 0, 1, true), kLater, fx);
  stream->notification(log_note(6, 0, 2), kLater, fx);
  for (std::uint64_t h : {7, 8}) stream->notification(log_note(h, 0), kLater, fx);
  std::vector<SeenLog> expected{
      {6, 0, hash(6), false},                                                            // live
      {6, 0, hash(6), true},     {6, 0, hash(6, 1), false}, {7, 0, hash(7, 1), false},  // the fill
      {8, 0, hash(8, 1), false},
      {10, 0, hash(10), false},  {11, 0, hash(11), false},                              // ahead
      {8, 0, hash(8, 1), true},  {7, 0, hash(7, 1), true},  {6, 0, hash(6, 1), true},   // back
      {6, 0, hash(6, 2), false}, {7, 0, hash(7), false},    {8, 0, hash(8), false}};
  EXPECT_EQ(logs_of(fx), expected);
}

// Found by the session model (longer sequences): subscribed on a node far behind (its head 5), the
// session failed back before that head came; block 10's log from the new upstream was delivered at
// once, so the fill started from 10 and, within the bound, went back only to 7: block 6 was lost
// and nothing counted it. Held with the fill, the log leaves 6..10 to fill: longer than the bound
// of 4, so cut to 7..10 and counted.
TEST(GaplessLogs, LogsWaitWhileASwitchWaitsForTheHeadAtSubscriptionTime) {
  auto stream = logs(4);
  Effects fx;
  stream->established(false, fx);
  stream->established(true, fx);  // before the head at subscription time came
  stream->notification(log_note(10, 0), kLater, fx);
  EXPECT_TRUE(fx.deliver.empty());
  EXPECT_EQ(fill_from_after_late_mark(*stream, fx, "0x5", "0xa"), "0x7");
  EXPECT_EQ(fx.gaps, 1u);
  json answer = json::array({json::parse(log_json(7, 0)), json::parse(log_json(10, 0))});
  stream->fetched(fx.fetch[2].tag, &answer, fx);
  std::vector<SeenLog> expected{{7, 0, hash(7), false}, {10, 0, hash(10), false}};
  EXPECT_EQ(logs_of(fx), expected);
}

// Found by the session model (longer sequences): subscribed at 5; block 6's logs came (held: the
// session was switching) before the head at subscription time was answered, as 6. The switch's
// upstream was then lost, taking what waited with it, and the next fill started above 6.
TEST(GaplessLogs, TheHeadAtSubscriptionTimeNeverCoversLogsThatAlreadyCame) {
  auto stream = logs();
  Effects fx;
  stream->established(false, fx);
  stream->established(true, fx);
  stream->notification(log_note(6, 0), kLeft, fx);
  stream->notification(log_note(6, 0), kLater, fx);
  json late = "0x6";
  stream->fetched(fx.fetch[0].tag, &late, fx);
  ASSERT_EQ(fx.fetch.size(), 2u);
  stream->abandoned(fx.fetch[1].tag, true, fx);  // the new upstream is lost
  stream->established(true, fx);
  ASSERT_EQ(fx.fetch.size(), 3u);
  json head = "0x6";
  stream->fetched(fx.fetch[2].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 4u);
  EXPECT_EQ(fx.fetch[3].params[0]["fromBlock"], "0x6");
  json answer = json::array({json::parse(log_json(6, 0))});
  stream->fetched(fx.fetch[3].tag, &answer, fx);
  std::vector<SeenLog> expected{{6, 0, hash(6), false}};
  EXPECT_EQ(logs_of(fx), expected);
  EXPECT_EQ(fx.gaps, 0u);
}

// Found by the session model: a fill on the backup waited for an answer that never came; meanwhile
// the backup reorged block 6 onto a fork of its own (held with the fill). The session failed back
// and filled 6 from the primary; then what the backup had said was delivered as if it came from
// the primary: block 6 removed, and the fork's logs in its place.
TEST(GaplessLogs, WhatWaitedForAFillIsFromTheUpstreamBeingLeftOnceTheSessionMovesAgain) {
  auto stream = logs();
  Effects fx;
  subscribed_at(*stream, fx, "0x5");
  stream->established(true, fx);  // the backup; its head never comes
  stream->notification(log_note(6, 0), kLater, fx);
  stream->notification(log_note(6, 0, 0, true), kLater, fx);
  stream->notification(log_note(6, 0, 1), kLater, fx);
  stream->established(true, fx);  // failback
  ASSERT_EQ(fx.fetch.size(), 3u);
  json head = "0x6";
  stream->fetched(fx.fetch[2].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 4u);
  json answer = json::array({json::parse(log_json(6, 0))});
  stream->fetched(fx.fetch[3].tag, &answer, fx);
  std::vector<SeenLog> expected{{6, 0, hash(6), false}};
  EXPECT_EQ(logs_of(fx), expected);
}

// Found by the session model: while a switch waited for the head at subscription time (5), the
// upstream being left reorged blocks 1..5 and sent their logs again; block 1's log made the
// stream take the subscription for older than block 1 and count the range as a gap.
TEST(GaplessLogs, AReorgsRepeatedLogsSayNothingAboutWhenTheSubscriptionStarted) {
  auto stream = logs(4);
  Effects fx;
  stream->established(false, fx);
  stream->established(true, fx);
  stream->notification(log_note(5, 0, 0, true), kLeft, fx);
  for (std::uint64_t h = 1; h <= 5; ++h) stream->notification(log_note(h, 0, 1), kLeft, fx);
  json mark = "0x5";
  stream->fetched(fx.fetch[0].tag, &mark, fx);
  ASSERT_EQ(fx.fetch.size(), 2u);
  json head = "0x5";
  stream->fetched(fx.fetch[1].tag, &head, fx);
  EXPECT_EQ(fx.fetch.size(), 2u) << "nothing after the subscription to fetch";
  EXPECT_EQ(fx.gaps, 0u);
}

// Found by the session model (longer sequences): the head at subscription time (5) was asked late
// and came as 6, after a reorg of block 5 and a new block 6 on the upstream being left. The reorg
// notice used to stop the new logs from capping it, so the fill after the next switch started at
// 7 and block 6 (whose logs were held, then dropped with the lost fill) was never fetched. Only
// logs up to the reorg's old tip (5) are its new branch resent; block 6 is new and caps the head.
TEST(GaplessLogs, ANewBlockAboveAReorgsOldTipStillSaysWhereTheSubscriptionStarted) {
  auto stream = logs(4);
  Effects fx;
  stream->established(false, fx);
  stream->established(true, fx);  // before the head at subscription time came
  stream->notification(log_note(5, 0, 0, true), kLeft, fx);
  stream->notification(log_note(5, 0, 1), kLeft, fx);
  stream->notification(log_note(6, 0, 1), kLeft, fx);
  json mark = "0x6";
  stream->fetched(fx.fetch[0].tag, &mark, fx);
  ASSERT_EQ(fx.fetch.size(), 2u);
  stream->abandoned(fx.fetch[1].tag, true, fx);  // the fill's upstream is lost, and what it held
  moved_to(*stream, fx, "0x6");
  ASSERT_EQ(fx.fetch.size(), 4u);
  EXPECT_EQ(fx.fetch[3].params[0]["fromBlock"], "0x6");
  json answer = json::array({json::parse(log_json(6, 0, 1))});
  stream->fetched(fx.fetch[3].tag, &answer, fx);
  EXPECT_EQ(logs_of(fx), (std::vector<SeenLog>{{6, 0, hash(6, 1), false}}));
  EXPECT_EQ(fx.gaps, 0u);
}

// Found by the session model (longer sequences): the session moved on from an upstream before its
// fill ended; that upstream's log of block 10 made the next fill start at 10, as if the stream had
// followed it through 6..9. It had not: its subscription began at its own head, above the blocks
// the fill was to cover. 6..10 is longer than the bound of 4: the fill is cut to 7..10 and the gap
// counted, where it used to be silent.
TEST(GaplessLogs, ALogFromAnUpstreamLeftBeforeItsFillEndedSaysNothingAboutTheBlocksBelowIt) {
  auto stream = logs(4);
  Effects fx;
  subscribed_at(*stream, fx, "0x5");
  stream->established(true, fx);
  ASSERT_EQ(fx.fetch.size(), 2u);                    // its head, never answered
  stream->notification(log_note(10, 0), kLater, fx);  // waits for that fill, and goes with it
  moved_to(*stream, fx, "0x5");
  EXPECT_EQ(logs_of(fx), (std::vector<SeenLog>{{10, 0, hash(10), false}}));
  moved_to(*stream, fx, "0xa");
  ASSERT_EQ(fx.fetch.size(), 5u);
  EXPECT_EQ(fx.fetch[4].params[0]["fromBlock"], "0x7");
  EXPECT_EQ(fx.gaps, 1u);
}

// Found by the session model (longer sequences): the same upstream left mid-fill sent block 11's
// log ahead of the one the session is on; that one's own logs of 6 and 7 then looked older than
// every block the stream follows reorgs in (11 - 4) and were dropped as a lagging node's repeats.
TEST(GaplessLogs, LogsBelowOneFromAnUpstreamLeftMidFillAreStillDelivered) {
  auto stream = logs(4);
  Effects fx;
  subscribed_at(*stream, fx, "0x5");
  stream->established(true, fx);
  stream->notification(log_note(11, 0), kLater, fx);
  moved_to(*stream, fx, "0x5");
  stream->notification(log_note(6, 0), kLater, fx);
  stream->notification(log_note(7, 0), kLater, fx);
  EXPECT_EQ(logs_of(fx), (std::vector<SeenLog>{{11, 0, hash(11), false}, {6, 0, hash(6), false}, {7, 0, hash(7), false}}));
  EXPECT_EQ(fx.duplicates, 0u);
}

// Found by the session model (longer sequences): a fill's upstream was lost and what waited for it
// with it, the old upstream's logs of 6..9 among them; its next log (10) was taken to say 6..9 had
// none, so the next fill started at 10 and never asked for them. They are missed: counted.
TEST(GaplessLogs, AfterALostFillTheOldUpstreamsLogsNoLongerFollowOn) {
  auto stream = logs(4);
  Effects fx;
  subscribed_at(*stream, fx, "0x5");
  stream->established(true, fx);
  for (std::uint64_t h = 6; h <= 9; ++h) stream->notification(log_note(h, 0), kLeft, fx);
  stream->abandoned(fx.fetch[1].tag, true, fx);
  stream->notification(log_note(10, 0), kLeft, fx);
  moved_to(*stream, fx, "0xa");
  ASSERT_EQ(fx.fetch.size(), 4u);
  EXPECT_EQ(fx.fetch[3].params[0]["fromBlock"], "0x7");
  EXPECT_EQ(fx.gaps, 1u);
}

// Found by the session model (longer sequences): as above, but the head at subscription time never
// came, so the stream knew where it stood only from the logs delivered (6); the fill then started
// from the highest delivered log (11, from the old upstream after the loss) and block 7 was missed
// without a count. It starts from the highest log of an upstream followed (6): longer than the
// bound, so the gap is counted.
TEST(GaplessLogs, WithoutTheHeadAtSubscriptionTimeAFillStartsFromTheLogsFollowed) {
  auto stream = logs(4);
  Effects fx;
  stream->established(false, fx);  // its head at subscription time never comes
  stream->notification(log_note(6, 0), kFirst, fx);
  stream->established(true, fx);
  ASSERT_EQ(fx.fetch.size(), 2u);
  stream->notification(log_note(7, 0), kLater, fx);
  stream->abandoned(fx.fetch[1].tag, true, fx);
  for (std::uint64_t h = 9; h <= 11; ++h) stream->notification(log_note(h, 0), kLeft, fx);
  moved_to(*stream, fx, "0xb");
  ASSERT_EQ(fx.fetch.size(), 4u);
  EXPECT_EQ(fx.fetch[3].params[0]["fromBlock"], "0x8");
  EXPECT_EQ(fx.gaps, 1u);
}

// Found by the session model (longer sequences): a fill from a node behind, on a fork of its own,
// replaced 6 and 7 with the fork's; back on the canonical chain (10), the re-check stopped at 7,
// the lowest block whose text the stream keeps (10 - 4 + 1), and block 6 stayed on the fork.
TEST(GaplessLogs, TheRecheckReachesBlocksAForkReplacedBelowTheTextsKept) {
  auto stream = logs(4);
  Effects fx;
  subscribed_at(*stream, fx, "0x5");
  for (std::uint64_t h = 6; h <= 9; ++h) stream->notification(log_note(h, 0), kFirst, fx);
  moved_to(*stream, fx, "0x7");
  ASSERT_EQ(fx.fetch.size(), 3u);
  json fork = json::array({json::parse(log_json(6, 0, 1)), json::parse(log_json(7, 0, 1))});
  stream->fetched(fx.fetch[2].tag, &fork, fx);
  confirmed(*stream, fx, "0x7");
  stream->notification(log_note(10, 0), kLeft, fx);  // the upstream being left, canonical and ahead
  moved_to(*stream, fx, "0xa");
  ASSERT_EQ(fx.fetch.size(), 6u);
  EXPECT_EQ(fx.fetch[5].params[0]["fromBlock"], "0x6");
  json canonical = json::array();
  for (std::uint64_t h = 6; h <= 10; ++h) canonical.push_back(json::parse(log_json(h, 0)));
  stream->fetched(fx.fetch[5].tag, &canonical, fx);
  auto seen = logs_of(fx);
  ASSERT_GE(seen.size(), 4u);
  std::vector<SeenLog> last(seen.end() - 4, seen.end());
  EXPECT_EQ(last, (std::vector<SeenLog>{{6, 0, hash(6, 1), true}, {7, 0, hash(7, 1), true},
                                        {6, 0, hash(6), false}, {7, 0, hash(7), false}}));
}

// Found by the session model (longer sequences): the subscription moved before the head at
// subscription time came, to a node catching up from block 6; its logs of 6..9 capped that head
// at 5, though they are from before the subscription (on the node it was made on, at 9), and the
// fill from 6 was longer than the bound: a gap counted for nothing. Only logs of the upstream the
// subscription was made on cap it.
TEST(GaplessLogs, ANodeCatchingUpSaysNothingAboutWhenTheSubscriptionStarted) {
  auto stream = logs(4);
  Effects fx;
  stream->established(false, fx);
  stream->established(true, fx);  // before the head at subscription time came
  for (std::uint64_t h = 6; h <= 9; ++h) stream->notification(log_note(h, 0), kLater, fx);
  stream->notification(log_note(10, 0), kLeft, fx);  // the node the subscription was made on
  EXPECT_EQ(fill_from_after_late_mark(*stream, fx, "0xa", "0xa"), "0xa");
  EXPECT_EQ(fx.gaps, 0u);
}

// The upstream the subscription began on was followed from its start: its log of block 10, sent
// while the session was leaving it, says blocks 6..9 had none; the next fill checks them again
// (the re-check of delivered blocks) and counts no gap.
TEST(GaplessLogs, ALogFromTheUpstreamTheSubscriptionBeganOnCoversTheBlocksBelowIt) {
  auto stream = logs(4);
  Effects fx;
  subscribed_at(*stream, fx, "0x5");
  moved_to(*stream, fx, "0x5");
  ASSERT_EQ(fx.fetch.size(), 2u) << "nothing to fill below a node at the subscription's start";
  stream->notification(log_note(10, 0), kLeft, fx);  // the upstream being left, ahead
  moved_to(*stream, fx, "0xa");
  ASSERT_EQ(fx.fetch.size(), 4u);
  EXPECT_EQ(fx.fetch[3].params[0]["fromBlock"], "0x6");
  EXPECT_EQ(fx.gaps, 0u);
}

// Found by the session model: logs of 6..10 delivered, a switch to a node at 5 (they wait to be
// checked against its chain), then to one at 10. Checking 6..10 again is longer than the bound,
// and was counted as a gap, though nothing in it was missed: only the check is cut short.
TEST(GaplessLogs, ACheckOfDeliveredBlocksCutToTheBoundIsNoGap) {
  auto stream = logs(4);
  Effects fx;
  subscribed_at(*stream, fx, "0x5");
  for (std::uint64_t h = 6; h <= 10; ++h) stream->notification(log_note(h, 0), kFirst, fx);
  stream->established(true, fx);
  json behind = "0x5";
  stream->fetched(fx.fetch[1].tag, &behind, fx);
  ASSERT_EQ(fx.fetch.size(), 2u);
  stream->established(true, fx);
  json head = "0xa";
  stream->fetched(fx.fetch[2].tag, &head, fx);
  ASSERT_EQ(fx.fetch.size(), 4u);
  EXPECT_EQ(fx.fetch[3].params[0]["fromBlock"], "0x6");  // every block delivered since the start
  EXPECT_EQ(fx.gaps, 0u);
}

// Found by the deterministic simulation (seed 3): the fill's node said head 9, then answered
// eth_getLogs from a head that had gone back (a lagging node's, a load balancer's other node): up
// to 7. It never notifies 8 and 9 again. The confirming eth_blockNumber says 7: blocks 8 and 9 are
// checked again when a log of this upstream reaches them.
TEST(GaplessLogs, ALogsAnswerFromAHeadThatWentBackIsCheckedAgainWhenTheNodeGetsThere) {
  auto stream = logs();
  Effects fx;
  subscribed_at(*stream, fx, "0x5");
  stream->notification(log_note(6, 0), kFirst, fx);
  moved_to(*stream, fx, "0x9");
  ASSERT_EQ(fx.fetch.size(), 3u);
  EXPECT_EQ(fx.fetch[2].params[0]["toBlock"], "0x9");
  json up_to_seven = json::array({json::parse(log_json(6, 0)), json::parse(log_json(7, 0))});
  stream->fetched(fx.fetch[2].tag, &up_to_seven, fx);
  confirmed(*stream, fx, "0x7");
  ASSERT_EQ(fx.fetch.size(), 4u);
  stream->notification(log_note(10, 0), kLater, fx);  // the node is past 9 again
  ASSERT_EQ(fx.fetch.size(), 5u) << "a log above the unconfirmed blocks starts their check";
  json ten = "0xa";
  stream->fetched(fx.fetch[4].tag, &ten, fx);
  ASSERT_EQ(fx.fetch.size(), 6u);
  ASSERT_EQ(fx.fetch[5].method, "eth_getLogs");
  const auto from = vixy::jsonrpc::from_quantity(fx.fetch[5].params[0]["fromBlock"].get<std::string>()).value_or(99);
  EXPECT_LE(from, 8u);
  json rest = json::array();
  for (std::uint64_t h = from; h <= 10; ++h) rest.push_back(json::parse(log_json(h, 0)));
  stream->fetched(fx.fetch[5].tag, &rest, fx);
  confirmed(*stream, fx, "0xa");
  std::vector<SeenLog> expected{{6, 0, hash(6), false}, {7, 0, hash(7), false}, {8, 0, hash(8), false},
                                {9, 0, hash(9), false}, {10, 0, hash(10), false}};
  EXPECT_EQ(logs_of(fx), expected);
  EXPECT_EQ(fx.gaps, 0u);
}

}  // namespace
}  // namespace vixy::ws::gapless
