// The invariant checks on hand-written histories: each invariant shown to hold and to be broken.
#include "chaos/checker.hpp"

#include <gtest/gtest.h>

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
  EXPECT_NE(r.find("I1")->first[0].message.find("never got an answer"), std::string::npos);
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
  EXPECT_DOUBLE_EQ(*r.stats.failback_ms, 300.0);
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
  EXPECT_DOUBLE_EQ(*back.stats.failback_ms, 400.0);  // from the last backup answer, not the first primary one
  auto stuck = run({probes({{1100, "p1"}, {1200, "b1"}, {1600, "b1"}})}, f);
  EXPECT_EQ(status(stuck, "I6"), "violated");
  EXPECT_EQ(stuck.stats.never_failed_back, 1u);
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

}  // namespace
}  // namespace vixy::chaos
