// The invariant checks on hand-written histories: each invariant shown to hold and to be broken.
#include "chaos/checker.hpp"
#include "chaos/checker_sse.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace vixy::chaos {
namespace {

using namespace std::chrono_literals;

const SteadyTime t0{};  // the start of the run

// A connection written as (milliseconds, direction, text) lines; '>' sent, '<' received.
struct Line {
  int ms;
  char dir;
  std::string text;
};

ConnectionHistory history(std::vector<Line> lines, bool closed_by_peer = false, int client = 0) {
  ConnectionHistory h;
  h.client = client;
  h.opened = t0;
  for (auto& l : lines) {
    if (l.dir == '>') h.sent(l.text, t0 + std::chrono::milliseconds(l.ms));
    else h.received(l.text, t0 + std::chrono::milliseconds(l.ms));
  }
  int end = lines.empty() ? 0 : lines.back().ms + 1;
  h.closed(closed_by_peer, "", t0 + std::chrono::milliseconds(end));
  return h;
}

std::string req(const std::string& id, const std::string& method, const std::string& params = "[]") {
  return R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":")" + method + R"(","params":)" + params + "}";
}
std::string ans(const std::string& id, const std::string& result) {
  return R"({"jsonrpc":"2.0","id":)" + id + R"(,"result":)" + result + "}";
}
std::string err(const std::string& id) {
  return R"({"jsonrpc":"2.0","id":)" + id + R"(,"error":{"code":-32000,"message":"x"}})";
}
std::string note(const std::string& sub) {
  return R"({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":")" + sub +
         R"(","result":{"number":"0x1"}}})";
}

CheckReport run(std::vector<ConnectionHistory> hs, FailbackSpec f = {}) {
  return check_histories(hs, t0, f, {"I1", "I2", "I3", "I4", "I6"});
}

std::string status(const CheckReport& r, const std::string& name) { return r.find(name)->status; }

TEST(Checker, ReusedIdsMatchedInOrderHoldEveryInvariant) {
  auto h = history({{0, '>', req("1", "eth_subscribe", R"(["newHeads"])")},
                    {5, '<', ans("1", R"("0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")")},
                    {10, '<', note("0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")},
                    {20, '>', req("1", "eth_blockNumber")},
                    {21, '>', req("1", "eth_chainId")},
                    {30, '<', ans("1", R"("0x10")")},
                    {31, '<', err("1")},
                    {40, '>', req(R"("s")", "web3_clientVersion")},
                    {45, '<', ans(R"("s")", R"("vixy-fakenode/v1/el-primary")")}});
  auto r = run({h});
  EXPECT_TRUE(r.ok());
  for (const char* name : {"I1", "I2", "I3"}) EXPECT_EQ(status(r, name), "held") << name;
  EXPECT_EQ(status(r, "I4"), "not checked");
  EXPECT_EQ(r.stats.requests, 4u);
  EXPECT_EQ(r.stats.answers, 4u);
  EXPECT_EQ(r.stats.error_answers, 1u);
  EXPECT_EQ(r.stats.notifications, 1u);
  EXPECT_EQ(r.stats.probe_answers_by_node.at("el-primary"), 1u);
  EXPECT_DOUBLE_EQ(percentile(r.stats.latencies_ms, 100), 10.0);
}

TEST(Checker, I1MissingAnswerIsAViolationUnlessTheProxyClosed) {
  std::vector<Line> lines{{0, '>', req("1", "eth_blockNumber")}, {1, '>', req("1", "eth_blockNumber")},
                          {5, '<', ans("1", R"("0x10")")}};
  auto r = run({history(lines)});
  EXPECT_EQ(status(r, "I1"), "violated");
  ASSERT_EQ(r.find("I1")->first.size(), 1u);
  EXPECT_EQ(r.find("I1")->first[0].message,
            "request id 1 (eth_blockNumber) never got an answer; the client waited 5 ms before it closed the connection");
  EXPECT_DOUBLE_EQ(r.find("I1")->first[0].at_ms, 1.0);

  auto closed = run({history(lines, /*closed_by_peer=*/true)});
  EXPECT_EQ(status(closed, "I1"), "held");
  EXPECT_EQ(closed.stats.unanswered_at_peer_close, 1u);
}

TEST(Checker, I1ViolationsAreListedOldestFirst) {
  auto late = history({{5, '>', req("2", "eth_blockNumber")}, {6, '>', req("10", "eth_blockNumber")}}, false, 0);
  auto early = history({{1, '>', req("9", "eth_blockNumber")}}, false, 1);
  auto r = run({late, early});
  ASSERT_EQ(r.find("I1")->first.size(), 3u);
  EXPECT_DOUBLE_EQ(r.find("I1")->first[0].at_ms, 1.0);
  EXPECT_DOUBLE_EQ(r.find("I1")->first[1].at_ms, 5.0);
  EXPECT_DOUBLE_EQ(r.find("I1")->first[2].at_ms, 6.0);
}

TEST(Checker, I1AndI2DuplicateAnswer) {
  auto r = run({history({{0, '>', req("7", "eth_blockNumber")}, {5, '<', ans("7", R"("0x10")")},
                         {6, '<', ans("7", R"("0x10")")}})});
  EXPECT_EQ(status(r, "I1"), "violated");
  EXPECT_EQ(status(r, "I2"), "violated");
  EXPECT_NE(r.find("I1")->first[0].message.find("more than once"), std::string::npos);
}

TEST(Checker, I2AnswerNeverAskedFor) {
  auto r = run({history({{0, '<', ans("3", R"("0x10")")}})});
  EXPECT_EQ(status(r, "I1"), "held");
  EXPECT_EQ(status(r, "I2"), "violated");
  EXPECT_NE(r.find("I2")->first[0].message.find("never asked for"), std::string::npos);
}

TEST(Checker, I2ReplayedSubscribeAnswerTakingAReusedIdsPlace) {
  // The incident: id 1 was a subscribe long ago and now names an eth_blockNumber; the proxy
  // forwards a replayed subscribe answer with id 1.
  auto r = run({history({{0, '>', req("1", "eth_subscribe", R"(["newHeads"])")},
                         {1, '<', ans("1", R"("0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")")},
                         {10, '>', req("1", "eth_blockNumber")},
                         {11, '<', ans("1", R"("0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")")},
                         {12, '<', ans("1", R"("0x10")")}})});
  EXPECT_EQ(status(r, "I2"), "violated");
  EXPECT_NE(r.find("I2")->first[0].message.find("does not fit"), std::string::npos);
  EXPECT_DOUBLE_EQ(r.find("I2")->first[0].at_ms, 11.0);
}

TEST(Checker, I2NonJsonAndStrayRequests) {
  auto r = run({history({{0, '<', "hello"}, {1, '<', req("9", "eth_blockNumber")}})});
  EXPECT_EQ(r.find("I2")->violation_count, 2u);
}

TEST(Checker, I2AMessageNestedDeeperThanAnyRequestIsJudgedUnparsed) {
  // A hostile client's document reaching a well-behaved one: judged from its text, never parsed
  // into a tree (printing or comparing one that deep would overflow the harness's stack).
  std::string deep = R"({"jsonrpc":"2.0","id":)" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  auto r = run({history({{0, '>', req("1", "eth_blockNumber")}, {1, '<', deep}, {2, '<', ans("1", R"("0x10")")}})});
  EXPECT_EQ(status(r, "I1"), "held");
  EXPECT_EQ(status(r, "I2"), "violated");
  EXPECT_EQ(r.find("I2")->first[0].message.rfind("a message nested 100001 deep: ", 0), 0u) << r.find("I2")->first[0].message;
}

HttpSample http_sample(int sent_ms, bool wrong_id, std::string detail = "") {
  HttpSample h;
  h.sent = t0 + std::chrono::milliseconds(sent_ms);
  h.status = 200;
  h.wrong_id = wrong_id;
  h.detail = std::move(detail);
  return h;
}

TEST(Checker, I2HttpAnswersThatBelongToAnotherRequest) {
  auto r = run({});
  check_http({http_sample(10, false), http_sample(20, false)}, t0, r);
  EXPECT_EQ(status(r, "I2"), "held");

  check_http({http_sample(10, false), http_sample(30, true, "request id 4 answered with id 3"),
              http_sample(40, true, "request id 5 answered with a batch of 2 answers")},
             t0, r);
  EXPECT_EQ(status(r, "I2"), "violated");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.find("I2")->violation_count, 2u);
  EXPECT_EQ(r.find("I2")->first[0].where, "http client");
  EXPECT_DOUBLE_EQ(r.find("I2")->first[0].at_ms, 30.0);
  EXPECT_EQ(r.find("I2")->first[1].message, "request id 5 answered with a batch of 2 answers");

  // Without I2 among the wanted invariants there is nothing to add it to.
  auto only_i1 = check_histories({}, t0, {}, {"I1"});
  check_http({http_sample(10, true, "x")}, t0, only_i1);
  EXPECT_TRUE(only_i1.ok());
}

TEST(Checker, I3NotificationUnderAnIdNeverGiven) {
  auto r = run({history({{0, '>', req("1", "eth_subscribe", R"(["newHeads"])")},
                         {1, '<', ans("1", R"("0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")")},
                         {5, '<', note("0xcccccccccccccccccccccccccccccccc")}})});
  EXPECT_EQ(status(r, "I3"), "violated");
  EXPECT_EQ(status(r, "I2"), "violated");
  EXPECT_NE(r.find("I3")->first[0].message.find("0xcccc"), std::string::npos);
}

TEST(Checker, I3NotificationAfterUnsubscribeAnswered) {
  std::string sub = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  std::vector<Line> lines{{0, '>', req("1", "eth_subscribe", R"(["newHeads"])")},
                          {1, '<', ans("1", "\"" + sub + "\"")},
                          {10, '>', req("2", "eth_unsubscribe", "[\"" + sub + "\"]")},
                          {11, '<', note(sub)},  // in flight while unsubscribing: allowed
                          {12, '<', ans("2", "true")}};
  EXPECT_EQ(status(run({history(lines)}), "I3"), "held");
  lines.push_back({20, '<', note(sub)});
  auto r = run({history(lines)});
  EXPECT_EQ(status(r, "I3"), "violated");
  EXPECT_NE(r.find("I3")->first[0].message.find("8 ms after"), std::string::npos);
}

// A proxy that forwards the client's subscription id untranslated after moving to another node:
// that node does not know the id and says false, and the subscription it does hold keeps sending.
TEST(Checker, I3UnsubscribeOfAHeldSubscriptionAnsweredFalse) {
  std::string sub = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  std::vector<Line> lines{{0, '>', req("1", "eth_subscribe", R"(["newHeads"])")},
                          {1, '<', ans("1", "\"" + sub + "\"")},
                          {10, '>', req("2", "eth_unsubscribe", "[\"" + sub + "\"]")},
                          {12, '<', ans("2", "false")}};
  auto r = run({history(lines)});
  EXPECT_EQ(status(r, "I3"), "violated");
  ASSERT_EQ(r.find("I3")->violation_count, 1u);
  EXPECT_NE(r.find("I3")->first[0].message.find("answered false"), std::string::npos);
  lines.push_back({20, '<', note(sub)});
  EXPECT_EQ(run({history(lines)}).find("I3")->violation_count, 2u);  // and the notification after it
}

// false is the right answer once the subscription is gone, or for an id the client never held.
TEST(Checker, I3UnsubscribeAnsweredFalseForAnIdNoLongerHeld) {
  std::string sub = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  auto r = run({history({{0, '>', req("1", "eth_subscribe", R"(["newHeads"])")},
                         {1, '<', ans("1", "\"" + sub + "\"")},
                         {10, '>', req("2", "eth_unsubscribe", "[\"" + sub + "\"]")},
                         {12, '<', ans("2", "true")},
                         {20, '>', req("3", "eth_unsubscribe", "[\"" + sub + "\"]")},
                         {22, '<', ans("3", "false")},
                         {30, '>', req("4", "eth_unsubscribe", R"(["0xbbbb"])")},
                         {32, '<', ans("4", "false")}})});
  EXPECT_EQ(status(r, "I3"), "held");
}

TEST(Checker, BatchesAreMatchedElementByElement) {
  auto r = run({history({{0, '>', "[" + req("1", "eth_blockNumber") + "," + req("2", "eth_chainId") + "]"},
                         {5, '<', "[" + ans("2", R"("0x1")") + "," + ans("1", R"("0x10")") + "]"}})});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.stats.answers, 2u);
}

ConnectionHistory probes(std::vector<std::pair<int, std::string>> answers) {
  std::vector<Line> lines;
  int id = 0;
  for (auto& [ms, node] : answers) {
    std::string i = std::to_string(++id);
    lines.push_back({ms - 1, '>', req(i, "web3_clientVersion")});
    lines.push_back({ms, '<', ans(i, "\"vixy-fakenode/v1/" + node + "\"")});
  }
  return history(lines);
}

TEST(Checker, I6FailbackWithinTheBound) {
  FailbackSpec f{{"p1"}, t0 + 1000ms, "", 500ms};
  auto r = run({probes({{100, "p1"}, {600, "b1"}, {1200, "b1"}, {1300, "p1"}, {1700, "p1"}})}, f);
  EXPECT_EQ(status(r, "I6"), "held");
  ASSERT_TRUE(r.stats.failback_ms.has_value());
  EXPECT_DOUBLE_EQ(*r.stats.failback_ms, 299.0);  // the first all-primary probe was sent at 1299
  EXPECT_DOUBLE_EQ(r.stats.max_time_on_backup_ms, 700.0);  // 600 -> 1300
}

TEST(Checker, I6NeverFailsBack) {
  FailbackSpec f{{"p1"}, t0 + 1000ms, "", 500ms};
  auto r = run({probes({{600, "b1"}, {1400, "b1"}, {1600, "b1"}, {1700, "b1"}})}, f);
  EXPECT_EQ(status(r, "I6"), "violated");
  EXPECT_EQ(r.find("I6")->violation_count, 1u);  // the first late probe per connection
  EXPECT_DOUBLE_EQ(r.find("I6")->first[0].at_ms, 1600.0);
  EXPECT_FALSE(r.stats.failback_ms.has_value());
  EXPECT_EQ(r.stats.never_failed_back, 1u);
}

TEST(Checker, I6AConnectionKnockedToABackupAfterRecoveryMustComeBack) {
  FailbackSpec f{{"p1"}, t0 + 1000ms, "", 500ms};
  auto back = run({probes({{1100, "p1"}, {1200, "b1"}, {1400, "p1"}, {1800, "p1"}})}, f);
  EXPECT_EQ(status(back, "I6"), "held");
  EXPECT_DOUBLE_EQ(*back.stats.failback_ms, 399.0);  // after the last backup probe, not the first primary one
  auto stuck = run({probes({{1100, "p1"}, {1200, "b1"}, {1600, "b1"}})}, f);
  EXPECT_EQ(status(stuck, "I6"), "violated");
  EXPECT_EQ(stuck.stats.never_failed_back, 1u);
}

// I6 judges where a request went by when it was sent: a probe sent before the recovery may be
// answered late by the backup; one sent after the deadline may not.
TEST(Checker, I6JudgesProbesByWhenTheyWereSent) {
  FailbackSpec f{{"p1"}, t0 + 1000ms, "", 500ms};
  std::vector<Line> late_answer{{900, '>', req("1", "web3_clientVersion")},
                                {1200, '>', req("2", "web3_clientVersion")},
                                {1250, '<', ans("2", R"("vixy-fakenode/v1/p1")")},
                                {1600, '>', req("3", "web3_clientVersion")},
                                {1610, '<', ans("3", R"("vixy-fakenode/v1/p1")")},
                                {1700, '<', ans("1", R"("vixy-fakenode/v1/b1")")}};
  auto r = run({history(late_answer)}, f);
  EXPECT_EQ(status(r, "I6"), "held");
  EXPECT_DOUBLE_EQ(*r.stats.failback_ms, 200.0);
  std::vector<Line> sent_late{{1200, '>', req("1", "web3_clientVersion")},
                              {1250, '<', ans("1", R"("vixy-fakenode/v1/p1")")},
                              {1600, '>', req("2", "web3_clientVersion")},
                              {1610, '<', ans("2", R"("vixy-fakenode/v1/b1")")}};
  auto bad = run({history(sent_late)}, f);
  EXPECT_EQ(status(bad, "I6"), "violated");
  EXPECT_DOUBLE_EQ(bad.find("I6")->first[0].at_ms, 1610.0);
}

TEST(Checker, I6NotCheckedWithoutRecoveryOrProbes) {
  FailbackSpec none{{"p1"}, std::nullopt, "p1 is still down at the end", 500ms};
  auto r = run({probes({{600, "b1"}})}, none);
  EXPECT_EQ(status(r, "I6"), "not checked");
  EXPECT_EQ(r.find("I6")->note, "p1 is still down at the end");
  FailbackSpec late{{"p1"}, t0 + 1000ms, "", 500ms};
  EXPECT_EQ(status(run({probes({{600, "b1"}})}, late), "I6"), "not checked");
}

TEST(Checker, AnswerShapes) {
  using nlohmann::json;
  EXPECT_TRUE(answer_fits("eth_blockNumber", "0x10"));
  EXPECT_FALSE(answer_fits("eth_blockNumber", "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
  EXPECT_FALSE(answer_fits("eth_subscribe", true));
  EXPECT_FALSE(answer_fits("web3_clientVersion", "0x10"));
  EXPECT_TRUE(answer_fits("eth_getBlockByNumber", nullptr));
  EXPECT_TRUE(answer_fits("some_unknown_method", 5));
}

TEST(Checker, Percentiles) {
  EXPECT_EQ(percentile({}, 99), 0);
  EXPECT_EQ(percentile({5, 1, 3, 2, 4}, 50), 3);
  EXPECT_EQ(percentile({5, 1, 3, 2, 4}, 100), 5);
  EXPECT_EQ(percentile({5, 1, 3, 2, 4}, 0), 1);
}

// ---- CL event-stream listeners ----

std::string root(char c) { return "0x" + std::string(64, c); }
std::string head(int slot, char block = 'b') {
  return R"({"slot":")" + std::to_string(slot) + R"(","block":")" + root(block) + R"(","state":")" + root('5') + R"("})";
}

// A 200 event stream opened at `opened` ms with head events (ms, slot), ended at `ended` ms.
SseStreamHistory stream(int listener, int n, int opened, std::vector<std::pair<int, int>> heads, int ended,
                        bool by_peer = true) {
  SseStreamHistory h;
  h.listener = listener;
  h.stream = n;
  h.opened = t0 + std::chrono::milliseconds(opened);
  h.status = 200;
  h.content_type = "text/event-stream";
  for (auto [ms, slot] : heads) h.events.push_back({t0 + std::chrono::milliseconds(ms), "head", head(slot)});
  h.ended = t0 + std::chrono::milliseconds(ended);
  h.ended_by_peer = by_peer;
  return h;
}

SseCheckSpec sse_spec(int stopped_ms, std::optional<int> max_gap_ms = 2000) {
  SseCheckSpec spec;
  spec.stopped = t0 + std::chrono::milliseconds(stopped_ms);
  if (max_gap_ms) spec.max_gap = std::chrono::milliseconds(*max_gap_ms);
  return spec;
}

TEST(CheckerSse, ReconnectingListenerWithinTheBoundHolds) {
  // The node dies at 1200 ms: the stream ends, the listener comes back 1000 ms later on another node.
  std::vector<SseStreamHistory> streams{stream(0, 0, 0, {{500, 10}, {1000, 11}}, 1200),
                                        stream(0, 1, 2200, {{2400, 14}, {2900, 15}}, 3000, false)};
  SseStats stats;
  auto r = check_sse(streams, t0, sse_spec(3000), stats);
  EXPECT_EQ(r.name, "SSE");
  EXPECT_EQ(r.status, "held") << (r.first.empty() ? "" : r.first[0].message);
  EXPECT_EQ(stats.listeners, 1u);
  EXPECT_EQ(stats.streams, 2u);
  EXPECT_EQ(stats.reconnections, 1u);
  EXPECT_EQ(stats.ended_by_proxy, 1u);
  EXPECT_EQ(stats.head_events, 4u);
  EXPECT_DOUBLE_EQ(stats.longest_gap_ms, 1400);  // 1000 -> 2400
  EXPECT_EQ(stats.longest_gap_where, "listener 0, 1000-2400 ms");
}

TEST(CheckerSse, AGapBeyondTheBoundIsAViolationUnlessEveryNodeWasDown) {
  std::vector<SseStreamHistory> streams{stream(0, 0, 0, {{500, 10}}, 600), stream(0, 1, 1600, {}, 1600),
                                        stream(0, 2, 2600, {{3600, 17}}, 4000, false)};
  SseStats stats;
  auto r = check_sse(streams, t0, sse_spec(4000), stats);
  EXPECT_EQ(r.status, "violated");
  ASSERT_EQ(r.first.size(), 1u);
  EXPECT_EQ(r.first[0].message, "no head event for 3100 ms (until 3600 ms; bound 2000 ms)");
  EXPECT_DOUBLE_EQ(r.first[0].at_ms, 500);
  EXPECT_EQ(stats.failed_opens, 0u);
  // Every CL node down from 400 to 2000 ms: only 2000 -> 3600 is owed, within the bound.
  auto spec = sse_spec(4000);
  spec.outages = {{t0 + 400ms, t0 + 2000ms}};
  SseStats again;
  EXPECT_EQ(check_sse(streams, t0, spec, again).status, "held");
  EXPECT_DOUBLE_EQ(again.longest_gap_ms, 1600);
  // Without a bound the gap is reported, not judged.
  SseStats unbounded;
  auto free = check_sse(streams, t0, sse_spec(4000, std::nullopt), unbounded);
  EXPECT_EQ(free.status, "held");
  EXPECT_DOUBLE_EQ(unbounded.longest_gap_ms, 3100);
}

TEST(CheckerSse, AListenerThatNeverHearsAgainIsCaughtAtTheEnd) {
  // The stream ended and every later attempt failed to open: nothing until the listeners stopped.
  SseStreamHistory refused;
  refused.listener = 0;
  refused.stream = 1;
  refused.opened = t0 + 1500ms;
  refused.error = "Connection refused";
  refused.ended = refused.opened;
  refused.ended_by_peer = true;
  std::vector<SseStreamHistory> streams{stream(0, 0, 0, {{500, 10}}, 1000), refused};
  SseStats stats;
  auto r = check_sse(streams, t0, sse_spec(6000), stats);
  EXPECT_EQ(r.status, "violated");
  ASSERT_FALSE(r.first.empty());
  EXPECT_EQ(r.first[0].message, "no head event for 5500 ms (until 6000 ms; bound 2000 ms)");
  EXPECT_EQ(stats.failed_opens, 1u);
}

TEST(CheckerSse, MalformedAndInconsistentEventsAreViolations) {
  auto bad = [](std::function<void(SseStreamHistory&)> change) {
    std::vector<SseStreamHistory> streams{stream(0, 0, 0, {{100, 10}, {400, 11}}, 500, false),
                                          stream(1, 0, 0, {{150, 10}, {450, 11}}, 500, false)};
    change(streams[1]);
    SseStats stats;
    auto r = check_sse(streams, t0, sse_spec(500), stats);
    return r.first.empty() ? std::string("(held)") : r.first[0].message;
  };
  EXPECT_EQ(bad([](SseStreamHistory&) {}), "(held)");
  EXPECT_EQ(bad([](SseStreamHistory& h) { h.events[1].data = "{not json"; }),
            "a head event whose data is not a JSON object: {not json");
  EXPECT_EQ(bad([](SseStreamHistory& h) { h.events[1].data = R"({"slot":11,"block":"0x1","state":"0x2"})"; }),
            R"(a malformed head event: {"slot":11,"block":"0x1","state":"0x2"})");
  EXPECT_EQ(bad([](SseStreamHistory& h) { h.events[1].event = "chain_reorg"; }).rfind(
                "an event of topic \"chain_reorg\", which the listener did not ask for", 0),
            0u);
  EXPECT_EQ(bad([](SseStreamHistory& h) { h.events[1].data = head(10); }), "head slot 10 after slot 10 on the same stream");
  EXPECT_EQ(bad([](SseStreamHistory& h) { h.events[1].data = head(11, 'c'); }),
            "head slot 11 with block " + root('c') + ", another stream had " + root('b'));
  EXPECT_EQ(bad([](SseStreamHistory& h) { h.content_type = "application/json"; }),
            "a 200 answer of type \"application/json\", not an event stream");
}

}  // namespace
}  // namespace vixy::chaos
