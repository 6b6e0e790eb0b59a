// I7 on hand-written histories: heads and logs taken from the fake chain (and a fork of it), each
// check shown to hold and to be broken.
#include <gtest/gtest.h>

#include "chaos/checker.hpp"
#include "chaos/checker_gapless.hpp"
#include "chaos/runner_faults.hpp"
#include "chaos/scenario.hpp"
#include "fakenodes/chain.hpp"

namespace vixy::chaos {
namespace {

using nlohmann::json;
using fakenodes::Chain;

const SteadyTime kRunStart{};
constexpr std::uint64_t H = 1'000'200;  // the first height the client sees
const std::string kSub = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string kAddress = "0x2222222222222222222222222222222222222222";

Chain base() { return Chain(fakenodes::ChainParams{7, 1000, 1}); }
Chain forked() { return Chain(fakenodes::ChainParams{7, 1000, 1}, {{H + 2, 5}}); }

// One connection: the client subscribes with `params`, then receives `results` as notifications.
class Stream {
 public:
  explicit Stream(const json& params) {
    h_.opened = kRunStart;
    h_.sent(json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "eth_subscribe"}, {"params", params}}.dump(), at());
    h_.received(json{{"jsonrpc", "2.0"}, {"id", 1}, {"result", kSub}}.dump(), at());
  }
  Stream& push(const json& result) {
    json note{{"jsonrpc", "2.0"}, {"method", "eth_subscription"}, {"params", {{"subscription", kSub}, {"result", result}}}};
    h_.received(note.dump(), at());
    return *this;
  }
  Stream& heads(const Chain& chain, std::uint64_t from, std::uint64_t to) {
    for (std::uint64_t h = from; h <= to; ++h) push(chain.header(h));
    return *this;
  }
  // The block's logs the address filter selects (by their address, not by the checker's logic).
  Stream& logs(const Chain& chain, std::uint64_t from, std::uint64_t to, bool removed = false) {
    for (std::uint64_t h = from; h <= to; ++h) {
      for (auto log : chain.logs(h)) {
        if (log["address"] != kAddress) continue;
        log["removed"] = removed;
        push(log);
      }
    }
    return *this;
  }
  Stream& unsubscribe() {
    h_.sent(json{{"jsonrpc", "2.0"}, {"id", 2}, {"method", "eth_unsubscribe"}, {"params", {kSub}}}.dump(), at());
    h_.received(json{{"jsonrpc", "2.0"}, {"id", 2}, {"result", true}}.dump(), at());
    return *this;
  }
  ConnectionHistory done() {
    h_.closed(false, "", at());
    return h_;
  }

 private:
  SteadyTime at() { return kRunStart + std::chrono::milliseconds(++ms_); }
  ConnectionHistory h_;
  int ms_ = 0;
};

const json kHeads = json::array({"newHeads"});
const json kLogs = json::array({"logs", {{"address", kAddress}}});

GaplessReport check(ConnectionHistory h, GaplessSpec spec = {}) { return check_gapless({std::move(h)}, spec); }

std::string messages(const GaplessReport& r) {
  std::string out;
  for (const auto& v : r.violations) out += v.message + "\n";
  return out;
}

TEST(CheckerGapless, ConsecutiveHeadsHoldAndAreReportedThroughCheckHistories) {
  auto h = Stream(kHeads).heads(base(), H, H + 5).done();
  auto report = check_histories({h}, kRunStart, {}, {"I7"});
  ASSERT_NE(report.find("I7"), nullptr);
  EXPECT_EQ(report.find("I7")->status, "held") << report.find("I7")->note;
  EXPECT_NE(report.find("I7")->note.find("1 newHeads subscription(s) (6 heads)"), std::string::npos);

  auto none = check_histories({Stream(json::array({"newPendingTransactions"})).done()}, kRunStart, {}, {"I7"});
  EXPECT_EQ(none.find("I7")->status, "not checked");
}

TEST(CheckerGapless, AMissingHeightIsAViolation) {
  auto h = Stream(kHeads).heads(base(), H, H + 1).heads(base(), H + 3, H + 4).done();
  auto report = check_histories({h}, kRunStart, {}, {"I7"});
  EXPECT_EQ(report.find("I7")->status, "violated");
  ASSERT_EQ(report.find("I7")->violation_count, 1u);
  EXPECT_NE(report.find("I7")->first[0].message.find(std::to_string(H + 2) + " missing"), std::string::npos)
      << report.find("I7")->first[0].message;
}

TEST(CheckerGapless, AGapWiderThanTheBoundIsCountedNotAViolation) {
  GaplessSpec spec;
  spec.bound = 3;
  auto wide = check(Stream(kHeads).heads(base(), H, H).heads(base(), H + 5, H + 6).done(), spec);
  EXPECT_TRUE(wide.violations.empty()) << messages(wide);
  EXPECT_EQ(wide.unfilled_gaps, 1u);
  auto narrow = check(Stream(kHeads).heads(base(), H, H).heads(base(), H + 4, H + 4).done(), spec);
  EXPECT_EQ(narrow.violations.size(), 1u) << "3 missing heights are within the bound";
}

TEST(CheckerGapless, ARepeatedHeadIsAViolation) {
  auto r = check(Stream(kHeads).heads(base(), H, H + 2).heads(base(), H + 2, H + 2).heads(base(), H + 3, H + 3).done());
  ASSERT_EQ(r.violations.size(), 1u) << messages(r);
  EXPECT_NE(r.violations[0].message.find("delivered again"), std::string::npos);
  auto back = check(Stream(kHeads).heads(base(), H, H + 2).heads(base(), H + 1, H + 1).done());
  EXPECT_EQ(back.violations.size(), 1u) << "an old head again is no reorg: its hash was delivered";
}

TEST(CheckerGapless, AReorgIsAllowedAndTheStreamContinuesFromIt) {
  // geth's way: only the fork's new head, at a height already seen, then the fork goes on.
  auto r = check(Stream(kHeads).heads(base(), H, H + 3).heads(forked(), H + 3, H + 5).done());
  EXPECT_TRUE(r.violations.empty()) << messages(r);
  EXPECT_EQ(r.reorgs, 1u);
  EXPECT_EQ(r.deep_reorgs, 0u);
  EXPECT_EQ(r.unlinked, 0u);
  auto untold = check(Stream(kHeads).heads(base(), H, H + 3).heads(forked(), H + 4, H + 5).done());
  EXPECT_TRUE(untold.violations.empty()) << "no height missing, no hash repeated";
  EXPECT_EQ(untold.unlinked, 1u) << "but the fork's head at H + 3 was never delivered";

  GaplessSpec shallow;
  shallow.bound = 1;
  auto deep = check(Stream(kHeads).heads(base(), H, H + 3).heads(forked(), H + 2, H + 4).done(), shallow);
  EXPECT_TRUE(deep.violations.empty()) << messages(deep);
  EXPECT_EQ(deep.deep_reorgs, 1u) << "2 heights replaced, bound 1";
}

TEST(CheckerGapless, LogsAcrossAReorgHold) {
  auto r = check(Stream(kLogs)
                     .logs(base(), H, H + 3)
                     .logs(base(), H + 2, H + 3, true)  // the replaced blocks' logs taken back
                     .logs(forked(), H + 2, H + 5)
                     .done());
  EXPECT_TRUE(r.violations.empty()) << messages(r);
  EXPECT_GT(r.removed_logs, 0u);
  EXPECT_EQ(r.log_subscriptions, 1u);
}

// The client closed while a reorg's removals were arriving: what the node sent next (the rest of
// the removals, the new blocks' logs) was cut, as the last height's burst may be.
TEST(CheckerGapless, AStreamEndingInsideAReorgsRemovalsIsJudgedBelowThem) {
  auto r = check(Stream(kLogs)
                     .logs(base(), H, H + 4)
                     .logs(base(), H + 2, H + 3, true)  // removals (of 4 heights, 3 have one), then the close
                     .done());
  EXPECT_TRUE(r.violations.empty()) << messages(r);
}

TEST(CheckerGapless, RemovedLogsNeverReplacedBeforeANewBlockAreAViolation) {
  Stream s(kLogs);
  s.logs(base(), H, H + 3).logs(base(), H + 2, H + 3, true);  // the fork's H + 2, H + 3 never come
  s.logs(forked(), H + 4, H + 5);
  auto r = check(s.done());
  ASSERT_FALSE(r.violations.empty());
  EXPECT_NE(r.violations[0].message.find("never delivered"), std::string::npos) << messages(r);
}

TEST(CheckerGapless, ADuplicateLogIsAViolation) {
  auto r = check(Stream(kLogs).logs(base(), H, H + 2).logs(base(), H + 1, H + 1).logs(base(), H + 3, H + 4).done());
  ASSERT_FALSE(r.violations.empty());
  EXPECT_NE(r.violations[0].message.find("delivered again"), std::string::npos) << messages(r);
}

TEST(CheckerGapless, AMissingLogIsAViolation) {
  Chain chain = base();
  Stream s(kLogs);
  s.logs(chain, H, H + 1);
  bool dropped = false;
  for (std::uint64_t h = H + 2; h <= H + 5; ++h) {
    for (const auto& log : chain.logs(h)) {
      if (log["address"] != kAddress) continue;
      if (!dropped) {
        dropped = true;  // the first selected log after H + 1 never arrives
        continue;
      }
      s.push(log);
    }
  }
  ASSERT_TRUE(dropped);
  auto r = check(s.done());
  ASSERT_EQ(r.violations.size(), 1u) << messages(r);
  EXPECT_NE(r.violations[0].message.find("never delivered"), std::string::npos);
}

TEST(CheckerGapless, ReplacedLogsNotTakenBackAreAViolation) {
  auto r = check(Stream(kLogs).logs(base(), H, H + 3).logs(forked(), H + 2, H + 5).done());
  ASSERT_FALSE(r.violations.empty());
  EXPECT_NE(r.violations[0].message.find("were not removed"), std::string::npos) << messages(r);
}

TEST(CheckerGapless, ALogOutsideTheFilterIsAViolation) {
  json stray = base().log(H, 0);
  stray["address"] = "0x9999999999999999999999999999999999999999";
  auto r = check(Stream(kLogs).push(stray).done());
  ASSERT_EQ(r.violations.size(), 1u) << messages(r);
  EXPECT_NE(r.violations[0].message.find("filter"), std::string::npos);
}

TEST(CheckerGapless, WithTheChainEveryHeadAndLogMustBeItsBlock) {
  GaplessSpec spec;
  spec.chain_seed = 7;
  spec.forks = {{H + 2, 5}};
  auto good = check(Stream(kHeads).heads(base(), H, H + 3).heads(forked(), H + 3, H + 4).done(), spec);
  EXPECT_TRUE(good.violations.empty()) << messages(good);
  Chain stranger(fakenodes::ChainParams{8, 1000, 1});
  auto bad = check(Stream(kHeads).heads(base(), H, H).heads(stranger, H + 1, H + 1).done(), spec);
  ASSERT_EQ(bad.violations.size(), 1u) << messages(bad);
  EXPECT_NE(bad.violations[0].message.find("no block of the chain"), std::string::npos);

  // A filter on the second topic can only be judged with the chain: a missing log is then found.
  Chain chain = base();
  json topic_filter = json::array({"logs", {{"topics", {nullptr, chain.log(H + 1, 2)["topics"][1]}}}});
  auto unjudged = check(Stream(topic_filter).push(chain.log(H, 0)).push(chain.log(H + 2, 0)).done());
  EXPECT_EQ(unjudged.unjudged_filters, 1u);
  spec.forks.clear();
  auto judged = check(Stream(topic_filter).push(chain.log(H, 0)).push(chain.log(H + 2, 0)).done(), spec);
  EXPECT_FALSE(judged.violations.empty()) << "logs outside the filter, and log 2 of H + 1 never delivered";
  EXPECT_NE(messages(judged).find("2 of height " + std::to_string(H + 1) + " never delivered"), std::string::npos)
      << messages(judged);
}

TEST(CheckerGapless, UnsubscribeEndsTheStreamAndMalformedNotificationsAreReported) {
  auto ended = check(Stream(kHeads).heads(base(), H, H + 1).unsubscribe().done());
  EXPECT_TRUE(ended.violations.empty()) << messages(ended);
  auto odd = check(Stream(kLogs).push(json{{"blockNumber", 5}}).push(base().log(H, 0)).done());
  EXPECT_FALSE(odd.violations.empty());
  json bad_topics = base().log(H, 1);
  bad_topics["topics"] = json::array({1, 2});
  EXPECT_NO_THROW(check(Stream(kLogs).push(bad_topics).done()));
  EXPECT_EQ(check(Stream(kHeads).push(json{{"number", 5}}).done()).violations.size(), 1u);
}

// ---- what the runner gives the check: the reorg action and the chain it leaves ----

Scenario with_timeline(const json& timeline, const json& workload = json::object()) {
  return parse_scenario({{"name", "t"},
                         {"topology", {{"el_primaries", {"p"}}, {"el_backups", {"b"}}, {"cl_nodes", {"c"}}}},
                         {"workload", workload},
                         {"timeline", timeline}});
}

std::string scenario_error(const json& timeline, const json& workload = json::object()) {
  try {
    with_timeline(timeline, workload);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

TEST(CheckerGapless, ReorgActionsAndLogsFiltersAreValidated) {
  Scenario s = with_timeline(json::parse(R"([{"at_ms":100,"action":"reorg","target":"p","args":{"depth":2,"fork_seed":3}}])"),
                             {{"logs_filter", {{"address", kAddress}}}});
  ASSERT_EQ(s.timeline.size(), 1u);
  EXPECT_EQ(s.workload.logs_filter["address"], kAddress);
  EXPECT_EQ(scenario_to_json(s)["workload"]["logs_filter"]["address"], kAddress);
  EXPECT_EQ(scenario_error(json::parse(R"([{"at_ms":1,"action":"reorg","target":"p"}])")).rfind("timeline[0].args.depth: missing", 0), 0u);
  EXPECT_EQ(scenario_error(json::parse(R"([{"at_ms":1,"action":"reorg","target":"p","args":{"depth":0}}])"))
                .rfind("timeline[0].args.depth: must be between 1 and 1024", 0), 0u);
  EXPECT_EQ(scenario_error(json::parse(R"([{"at_ms":1,"action":"reorg","target":"c","args":{"depth":1}}])"))
                .rfind("timeline[0].target: only an EL node reorgs", 0), 0u);
  EXPECT_EQ(scenario_error(json::parse(R"([{"at_ms":1,"action":"reorg","target":"p","args":{"depth":1,"blocks":2}}])"))
                .rfind("timeline[0].args.blocks: unknown key", 0), 0u);
  EXPECT_EQ(scenario_error(json::array(), {{"logs_filter", {{"adress", kAddress}}}}).rfind("workload.logs_filter.adress: unknown key", 0), 0u);
  EXPECT_EQ(scenario_error(json::array(), {{"logs_filter", {{"address", 5}}}}).rfind("workload.logs_filter: address must be", 0), 0u);
}

TEST(CheckerGapless, TheChainIsGivenOnlyWhenEveryReorgTookEveryNode) {
  Scenario s = with_timeline(json::array());
  std::vector<AppliedReorg> wide{{"p", 100, H + 2, 5}, {"b", 100, H + 2, 5}, {"b", 900, H + 9, 6}, {"p", 900, H + 9, 6}};
  GaplessSpec spec = gapless_spec(s, wide);
  ASSERT_TRUE(spec.chain_seed);
  EXPECT_EQ(*spec.chain_seed, s.topology.chain_seed);
  EXPECT_EQ(spec.forks, (std::vector<fakenodes::Fork>{{H + 2, 5}, {H + 9, 6}}));
  EXPECT_FALSE(gapless_spec(s, {{"p", 100, H + 2, 5}}).chain_seed) << "the backup stayed on the old chain";
  EXPECT_FALSE(gapless_spec(s, {{"p", 100, H + 2, 5}, {"b", 100, H + 3, 5}}).chain_seed) << "two different forks";
  EXPECT_TRUE(gapless_spec(s, {}).chain_seed) << "no reorg: the plain chain";
}

}  // namespace
}  // namespace vixy::chaos
