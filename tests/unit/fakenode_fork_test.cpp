// Forks of the deterministic chain: a chain is a pure function of (seed, forks), so nodes given the
// same reorgs agree, a node given none keeps the original chain, and every fork block links to its
// parent.

#include <gtest/gtest.h>

#include "fakenodes/chain.hpp"
#include "fakenodes/filters.hpp"

namespace vixy::fakenodes {
namespace {

constexpr std::uint64_t kSeed = 7;
constexpr std::uint64_t kAt = 1'000'100;  // a fork point well above genesis

Chain chain(const std::vector<Fork>& forks = {}) { return Chain(ChainParams{kSeed, 1000, 1}, forks); }

std::string hex8(std::uint64_t h) {
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(h));
  return suffix;
}

TEST(FakeChainFork, WithoutForksTheChainIsTheOriginal) {
  Chain plain(ChainParams{kSeed, 1000, 1});
  Chain none = chain();
  EXPECT_EQ(none.tip(), 0u);
  for (std::uint64_t h = kAt - 2; h < kAt + 3; ++h) {
    EXPECT_EQ(none.block(h, true), plain.block(h, true));
    auto digest = sha256("vixy-block:7:" + std::to_string(h));
    EXPECT_EQ(none.block_hash(h), to_hex(digest.data(), 24) + hex8(h));
  }
}

TEST(FakeChainFork, ForkBlocksHaveTheSpecifiedHashes) {
  Chain base = chain();
  Chain forked = chain({{kAt, 9}});
  // The fork's tag: the seed and 8 bytes of SHA-256 over the parent's hash and the fork seed.
  auto tag_digest = sha256("vixy-fork:" + base.block_hash(kAt - 1) + ":9");
  std::string tag = "7/" + to_hex(tag_digest.data(), 8).substr(2);
  for (std::uint64_t h : {kAt, kAt + 1, kAt + 50}) {
    auto digest = sha256("vixy-block:" + tag + ":" + std::to_string(h));
    EXPECT_EQ(forked.block_hash(h), to_hex(digest.data(), 24) + hex8(h)) << h;
  }
}

TEST(FakeChainFork, ForkReplacesEveryBlockFromItsHeightAndLinksToTheOldChain) {
  Chain base = chain();
  Chain forked = chain({{kAt, 9}});
  for (std::uint64_t h = kAt - 3; h < kAt; ++h) EXPECT_EQ(forked.block(h, true), base.block(h, true)) << h;
  for (std::uint64_t h = kAt; h < kAt + 5; ++h) {
    EXPECT_NE(forked.block_hash(h), base.block_hash(h)) << h;
    json header = forked.header(h);
    EXPECT_EQ(header["hash"], forked.block_hash(h));
    EXPECT_EQ(header["number"], base.header(h)["number"]) << "same heights";
    EXPECT_EQ(header["parentHash"], h == kAt ? base.block_hash(kAt - 1) : forked.block_hash(h - 1));
    EXPECT_NE(forked.transaction_hashes(h), base.transaction_hashes(h));
    for (const auto& log : forked.logs(h)) EXPECT_EQ(log["blockHash"], forked.block_hash(h));
  }
  json block = forked.block(kAt, true);
  EXPECT_EQ(block["transactions"][0]["blockHash"], forked.block_hash(kAt));
  EXPECT_THROW(chain({{0, 1}}), std::invalid_argument);
}

TEST(FakeChainFork, LogsKeepAddressesAndSignaturesSoFiltersSelectTheSameIndices) {
  Chain base = chain();
  Chain forked = chain({{kAt, 9}});
  for (std::uint64_t i = 0; i < kLogsPerBlock; ++i) {
    json a = base.log(kAt, i), b = forked.log(kAt, i);
    EXPECT_EQ(a["address"], b["address"]);
    EXPECT_EQ(a["topics"][0], b["topics"][0]);
    EXPECT_NE(a["topics"][1], b["topics"][1]);
    EXPECT_NE(a["blockHash"], b["blockHash"]);
  }
}

TEST(FakeChainFork, SameForksAgreeAndOtherForksDisagree) {
  Chain a = chain({{kAt, 9}});
  Chain b = chain();
  b.fork({kAt, 9});
  Chain other_seed = chain({{kAt, 10}});
  Chain other_height = chain({{kAt + 1, 9}});
  for (std::uint64_t h = kAt; h < kAt + 4; ++h) {
    EXPECT_EQ(a.block(h, true), b.block(h, true)) << h;
    EXPECT_NE(a.block_hash(h), other_seed.block_hash(h));
    EXPECT_NE(a.block_hash(h + 1), other_height.block_hash(h + 1));
  }
  EXPECT_EQ(a.forks(), (std::vector<Fork>{{kAt, 9}}));
}

TEST(FakeChainFork, ForksStackOnEachOther) {
  Chain base = chain();
  Chain first = chain({{kAt, 1}});
  Chain above = chain({{kAt, 1}, {kAt + 5, 2}});  // a second reorg, shallower than the first
  for (std::uint64_t h = kAt; h < kAt + 5; ++h) EXPECT_EQ(above.block_hash(h), first.block_hash(h));
  EXPECT_NE(above.block_hash(kAt + 5), first.block_hash(kAt + 5));
  EXPECT_EQ(above.header(kAt + 5)["parentHash"], first.block_hash(kAt + 4));

  Chain below = chain({{kAt + 5, 1}, {kAt, 2}});  // a deeper reorg replaces the first fork too
  Chain only_second = chain({{kAt, 2}});
  for (std::uint64_t h = kAt; h < kAt + 8; ++h) EXPECT_EQ(below.block_hash(h), only_second.block_hash(h)) << h;
  EXPECT_EQ(below.header(kAt)["parentHash"], base.block_hash(kAt - 1));
}

TEST(FakeChainFork, ReplacedBlocksAreFoundByHashButAreNotCanonical) {
  Chain base = chain();
  Chain forked = chain({{kAt, 9}, {kAt + 2, 3}});
  std::string old_hash = base.block_hash(kAt + 1);
  auto found = forked.find_block(old_hash);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->height, kAt + 1);
  EXPECT_EQ(forked.block(*found, false), base.block(kAt + 1, false));
  EXPECT_EQ(forked.height_of_hash(old_hash), std::nullopt) << "not on the current chain";

  Chain first = chain({{kAt, 9}});
  auto middle = forked.find_block(first.block_hash(kAt + 3));  // replaced by the second fork
  ASSERT_TRUE(middle);
  EXPECT_EQ(forked.header(*middle), first.header(kAt + 3));
  EXPECT_EQ(forked.log(*middle, 1), first.log(kAt + 3, 1));

  EXPECT_EQ(forked.height_of_hash(forked.block_hash(kAt + 3)), kAt + 3);
  EXPECT_EQ(forked.find_block(chain({{kAt, 4}}).block_hash(kAt)), std::nullopt) << "a fork this chain never took";
}

TEST(FakeChainFork, LogRangeByHashNamesTheReplacedBlock) {
  Chain base = chain();
  Chain forked = chain({{kAt, 9}});
  auto range = resolve_log_range({{"blockHash", base.block_hash(kAt)}}, kAt + 10, forked, 10'000);
  ASSERT_TRUE(range.range);
  EXPECT_EQ(range.range->from, kAt);
  EXPECT_EQ(forked.log(Chain::BlockRef{kAt, range.version}, 0), base.log(kAt, 0));
  auto current = resolve_log_range({{"fromBlock", "latest"}}, kAt + 10, forked, 10'000);
  EXPECT_EQ(current.version, forked.tip());
}

}  // namespace
}  // namespace vixy::fakenodes
