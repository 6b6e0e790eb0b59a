// The deterministic chain, log filters and CLI parsing of the fake nodes: pure functions.

#include <gtest/gtest.h>

#include <set>

#include "fakenodes/chain.hpp"
#include "fakenodes/filters.hpp"
#include "fakenodes/options.hpp"

namespace vixy::fakenodes {
namespace {

constexpr std::int64_t kEpoch = 1'767'225'600'000;  // 2026-01-01T00:00:00Z, from the spec

Chain chain_with_seed(std::uint64_t seed, std::uint64_t block_time_ms = 1000) {
  return Chain(ChainParams{seed, block_time_ms, 1});
}

TEST(FakeChain, HeightFollowsTheClockFromTheEpoch) {
  EXPECT_EQ(height_at(kEpoch, 1000), 1'000'000u);
  EXPECT_EQ(height_at(kEpoch + 999, 1000), 1'000'000u);
  EXPECT_EQ(height_at(kEpoch + 1000, 1000), 1'000'001u);
  EXPECT_EQ(height_at(kEpoch + 12'000 * 5, 12'000), 1'000'005u);
  EXPECT_EQ(height_at(kEpoch + 250, 50), 1'000'005u);
  EXPECT_EQ(height_at(kEpoch - 1'000'000, 1000), 1'000'000u) << "clamped before the epoch";
}

TEST(FakeChain, NextBlockIsAtTheNextBoundary) {
  Chain chain = chain_with_seed(1, 1000);
  EXPECT_EQ(chain.next_block_ms(1'000'000), kEpoch + 1000);
  EXPECT_EQ(chain.next_block_ms(1'000'041), kEpoch + 42'000);
}

TEST(FakeChain, HashIsDeterministicAndEncodesTheHeight) {
  Chain a = chain_with_seed(42);
  Chain b = chain_with_seed(42);
  for (std::uint64_t h : {0ull, 1ull, 1'000'000ull, 1'234'567ull, 0xdeadbeefull}) {
    std::string hash = a.block_hash(h);
    ASSERT_EQ(hash.size(), 66u);
    EXPECT_EQ(hash.substr(0, 2), "0x");
    EXPECT_EQ(hash, b.block_hash(h));
    char suffix[17];
    std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(h));
    EXPECT_EQ(hash.substr(50), suffix) << "the last 8 bytes are the height, big-endian";
    EXPECT_EQ(a.height_of_hash(hash), h);
  }
}

TEST(FakeChain, HashPrefixIsSha256OfTheSpecifiedInput) {
  Chain chain = chain_with_seed(7);
  auto digest = sha256("vixy-block:7:1000000");
  std::string expected = to_hex(digest.data(), 24);
  EXPECT_EQ(chain.block_hash(1'000'000).substr(0, 50), expected);
  // SHA-256("abc"), the FIPS 180-2 test vector, pins the digest itself.
  auto abc = sha256("abc");
  EXPECT_EQ(to_hex(abc.data(), abc.size()),
            "0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(FakeChain, DifferentSeedsGiveDifferentChains) {
  Chain a = chain_with_seed(1);
  Chain b = chain_with_seed(2);
  EXPECT_NE(a.block_hash(1'000'500), b.block_hash(1'000'500));
  EXPECT_EQ(b.height_of_hash(a.block_hash(1'000'500)), std::nullopt) << "a foreign hash is not ours";
}

TEST(FakeChain, ForgedOrMalformedHashesAreRejected) {
  Chain chain = chain_with_seed(3);
  std::string hash = chain.block_hash(1'000'010);
  std::string forged = hash;
  forged[10] = forged[10] == '0' ? '1' : '0';
  EXPECT_EQ(chain.height_of_hash(forged), std::nullopt);
  EXPECT_EQ(chain.height_of_hash(hash.substr(0, 65)), std::nullopt);
  EXPECT_EQ(chain.height_of_hash("0x" + std::string(64, 'z')), std::nullopt);
  std::string upper = hash;
  for (std::size_t i = 2; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  EXPECT_EQ(chain.height_of_hash(upper), 1'000'010u) << "hex is case-insensitive";
}

TEST(FakeChain, BlocksLinkToTheirParents) {
  Chain chain = chain_with_seed(9);
  for (std::uint64_t h = 1'000'100; h < 1'000'110; ++h) {
    json block = chain.block(h, false);
    json parent = chain.block(h - 1, false);
    EXPECT_EQ(block["parentHash"], parent["hash"]);
    EXPECT_EQ(
        block["number"], "0x" + [&] {
          char text[20];
          std::snprintf(text, sizeof text, "%llx", static_cast<unsigned long long>(h));
          return std::string(text);
        }());
  }
}

TEST(FakeChain, BlockHasGethShape) {
  Chain chain(ChainParams{5, 2000, 1});
  json block = chain.block(1'000'010, false);
  for (const char* field : {"number",        "hash",      "parentHash",       "nonce",
                            "sha3Uncles",    "logsBloom", "transactionsRoot", "stateRoot",
                            "receiptsRoot",  "miner",     "difficulty",       "extraData",
                            "size",          "gasLimit",  "gasUsed",          "timestamp",
                            "baseFeePerGas", "mixHash",   "uncles",           "transactions"}) {
    EXPECT_TRUE(block.contains(field)) << field;
  }
  EXPECT_EQ(block["difficulty"], "0x0");
  EXPECT_EQ(block["extraData"], "0x");
  EXPECT_EQ(block["logsBloom"].get<std::string>().size(), 2u + 512u);
  EXPECT_EQ(block["timestamp"], "0x6955b914") << "1767225600 + 10 blocks * 2 s = 1767225620";
  ASSERT_EQ(block["transactions"].size(), 2u);
  EXPECT_TRUE(block["transactions"][0].is_string());
  EXPECT_NE(block["transactions"][0], block["transactions"][1]);

  json full = chain.block(1'000'010, true);
  ASSERT_TRUE(full["transactions"][0].is_object());
  EXPECT_EQ(full["transactions"][0]["hash"], block["transactions"][0]);
  EXPECT_EQ(full["transactions"][0]["blockHash"], block["hash"]);

  json header = chain.header(1'000'010);
  EXPECT_FALSE(header.contains("transactions"));
  EXPECT_FALSE(header.contains("uncles"));
  EXPECT_FALSE(header.contains("size"));
  EXPECT_EQ(header["hash"], block["hash"]);
}

TEST(FakeChain, LogsArePerBlockAndDeterministic) {
  Chain chain = chain_with_seed(11);
  auto logs = chain.logs(1'000'001);
  ASSERT_EQ(logs.size(), 3u);
  for (std::size_t i = 0; i < logs.size(); ++i) {
    EXPECT_EQ(logs[i]["logIndex"], "0x" + std::to_string(i));
    EXPECT_EQ(logs[i]["address"], kLogAddresses[(1'000'001 + i) % 4]);
    EXPECT_EQ(logs[i]["topics"][0], kLogSignatures[i % 2]);
    EXPECT_EQ(logs[i]["blockHash"], chain.block_hash(1'000'001));
    EXPECT_EQ(logs[i]["removed"], false);
  }
  EXPECT_EQ(logs, chain_with_seed(11).logs(1'000'001));
  EXPECT_NE(logs[0]["topics"][1], chain_with_seed(12).logs(1'000'001)[0]["topics"][1]);
}

TEST(FakeChain, PendingHashesAndBalancesAreDeterministic) {
  Chain chain = chain_with_seed(4);
  auto pending = chain.pending_transaction_hashes(1'000'003);
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_NE(pending[0], pending[1]);
  EXPECT_EQ(pending, chain_with_seed(4).pending_transaction_hashes(1'000'003));
  EXPECT_NE(pending, chain.pending_transaction_hashes(1'000'004));
  std::string address = "0x00000000000000000000000000000000000000aa";
  EXPECT_EQ(chain.balance(address), chain_with_seed(99).balance(address));
  EXPECT_NE(chain.balance(address), chain.balance("0x00000000000000000000000000000000000000ab"));
  EXPECT_EQ(chain.balance(address).substr(0, 2), "0x");
}

// ---- filters ----

json log_with(std::string address, std::vector<std::string> topics) {
  return json{{"address", address}, {"topics", topics}};
}

LogFilter parse(const json& filter) {
  auto parsed = parse_log_filter(filter);
  EXPECT_TRUE(parsed) << parsed.problem();
  return parsed ? *parsed : LogFilter{};
}

TEST(FakeLogFilter, AddressAsStringOrArrayCaseInsensitive) {
  json log = log_with("0xAbCd000000000000000000000000000000000001", {"0x01"});
  EXPECT_TRUE(matches(parse(json::object()), log));
  EXPECT_TRUE(matches(parse({{"address", "0xabcd000000000000000000000000000000000001"}}), log));
  EXPECT_FALSE(matches(parse({{"address", "0xabcd000000000000000000000000000000000002"}}), log));
  EXPECT_TRUE(matches(parse({{"address", {"0x02", "0xABCD000000000000000000000000000000000001"}}}), log));
  EXPECT_FALSE(matches(parse({{"address", {"0x02", "0x03"}}}), log));
}

TEST(FakeLogFilter, TopicsWithNullsAndAlternatives) {
  json log = log_with("0x01", {"0xaa", "0xbb", "0xcc"});
  EXPECT_TRUE(matches(parse({{"topics", {"0xaa"}}}), log));
  EXPECT_FALSE(matches(parse({{"topics", {"0xbb"}}}), log));
  EXPECT_TRUE(matches(parse({{"topics", {nullptr, "0xbb"}}}), log));
  EXPECT_TRUE(matches(parse({{"topics", {nullptr, nullptr, {"0x00", "0xCC"}}}}), log));
  EXPECT_FALSE(matches(parse({{"topics", {nullptr, nullptr, {"0x00", "0x01"}}}}), log));
  EXPECT_TRUE(matches(parse({{"topics", {json::array(), "0xbb"}}}), log)) << "[] is a wildcard too";
  EXPECT_FALSE(matches(parse({{"topics", {nullptr, nullptr, nullptr, nullptr}}}), log))
      << "more positions than the log has topics";
}

TEST(FakeLogFilter, PrefilterNeverDropsAMatch) {
  Chain chain = chain_with_seed(21);
  std::vector<json> filters = {
      json::object(),
      {{"address", std::string(kLogAddresses[1])}},
      {{"address", {std::string(kLogAddresses[0]), std::string(kLogAddresses[3])}}},
      {{"topics", json::array({std::string(kLogSignatures[1])})}},
      {{"topics", {nullptr, "0x00"}}},
      {{"address", std::string(kLogAddresses[2])},
       {"topics", json::array({json::array({std::string(kLogSignatures[0]), "0x01"})})}},
  };
  int matched = 0, skipped = 0;
  for (const auto& filter_json : filters) {
    LogFilter filter = parse(filter_json);
    for (std::uint64_t h = 1'000'000; h < 1'000'008; ++h) {
      for (std::uint64_t i = 0; i < kLogsPerBlock; ++i) {
        json log = chain.log(h, i);
        EXPECT_EQ(log["address"], Chain::log_address(h, i));
        EXPECT_EQ(log["topics"][0], Chain::log_signature(i));
        bool may = may_match(filter, Chain::log_address(h, i), Chain::log_signature(i));
        if (matches(filter, log)) {
          EXPECT_TRUE(may) << filter_json.dump();
          ++matched;
        }
        if (!may) ++skipped;
      }
    }
  }
  EXPECT_GT(matched, 0);
  EXPECT_GT(skipped, 0);
}

TEST(FakeLogFilter, BadFiltersAreRejected) {
  auto bad_address = parse_log_filter(json{{"address", 5}});
  EXPECT_FALSE(bad_address);
  EXPECT_NE(bad_address.problem().find("address"), std::string::npos);
  EXPECT_FALSE(parse_log_filter(json{{"topics", "0xaa"}}));
  EXPECT_FALSE(parse_log_filter(json{{"topics", {5}}}));
  EXPECT_FALSE(parse_log_filter(json::array()));
}

TEST(FakeLogFilter, BlockTags) {
  EXPECT_EQ(resolve_block_tag("earliest", 500), 0u);
  for (const char* tag : {"latest", "pending", "safe", "finalized"})
    EXPECT_EQ(resolve_block_tag(tag, 500), 500u);
  EXPECT_EQ(resolve_block_tag("0x10", 500), 16u);
  EXPECT_EQ(resolve_block_tag("10", 500), std::nullopt);
  EXPECT_EQ(resolve_block_tag(16, 500), std::nullopt);
}

TEST(FakeLogFilter, RangesAreCutAtTheHeadAndLimited) {
  Chain chain = chain_with_seed(1);
  auto range = resolve_log_range(json::object(), 2000, chain, 10'000);
  ASSERT_TRUE(range.range);
  EXPECT_EQ(range.range->from, 2000u);
  EXPECT_EQ(range.range->to, 2000u);

  range = resolve_log_range({{"fromBlock", "0x64"}, {"toBlock", "0x10000"}}, 2000, chain, 10'000);
  ASSERT_TRUE(range.range);
  EXPECT_EQ(range.range->from, 100u);
  EXPECT_EQ(range.range->to, 2000u);

  range = resolve_log_range({{"fromBlock", "earliest"}}, 20'000, chain, 10'000);
  EXPECT_FALSE(range.range);
  EXPECT_EQ(range.error_code, -32005);

  range = resolve_log_range({{"fromBlock", "0x1000"}}, 100, chain, 10'000);
  EXPECT_FALSE(range.range);
  EXPECT_EQ(range.error_code, 0) << "a range wholly in the future is empty, not an error";

  range = resolve_log_range({{"fromBlock", "bogus"}}, 100, chain, 10'000);
  EXPECT_EQ(range.error_code, -32602);
}

TEST(FakeLogFilter, BlockHashSelectsOneKnownBlock) {
  Chain chain = chain_with_seed(1);
  auto range = resolve_log_range({{"blockHash", chain.block_hash(1500)}}, 2000, chain, 10'000);
  ASSERT_TRUE(range.range);
  EXPECT_EQ(range.range->from, 1500u);
  EXPECT_EQ(range.range->to, 1500u);
  EXPECT_NE(resolve_log_range({{"blockHash", chain.block_hash(2001)}}, 2000, chain, 10'000).error_code, 0)
      << "a block beyond the head is unknown";
  EXPECT_EQ(
      resolve_log_range({{"blockHash", chain.block_hash(1500)}, {"fromBlock", "0x1"}}, 2000, chain, 10'000)
          .error_code,
      -32602);
}

// ---- command line ----

ParsedOptions parse_args(std::vector<std::string_view> args) { return parse_options(args); }

TEST(FakeNodeOptions, ParsesAFullElCommandLine) {
  auto parsed =
      parse_args({"el", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:9999", "--chain-seed", "12",
                  "--block-time-ms", "50", "--chain-id", "5", "--name", "primary", "--log-level", "warn"});
  ASSERT_TRUE(parsed.options) << parsed.error;
  EXPECT_EQ(parsed.options->kind, NodeKind::el);
  EXPECT_EQ(parsed.options->admin.port(), 9999);
  EXPECT_EQ(parsed.options->chain.seed, 12u);
  EXPECT_EQ(parsed.options->chain.block_time_ms, 50u);
  EXPECT_EQ(parsed.options->chain.chain_id, 5u);
  EXPECT_EQ(parsed.options->name, "primary");
  EXPECT_EQ(parsed.options->log_level, log::Level::warn);
  EXPECT_FALSE(parsed.options->tls);
}

TEST(FakeNodeOptions, ErrorsNameTheArgument) {
  struct Case {
    std::vector<std::string_view> args;
    std::string names;
  };
  std::vector<Case> cases = {
      {{}, "el or cl"},
      {{"xl", "--listen", "127.0.0.1:0"}, "xl"},
      {{"el"}, "--listen"},
      {{"el", "--listen", "nowhere"}, "--listen"},
      {{"el", "--listen", "127.0.0.1:0", "--admin", "10.1.2.3:80"}, "--admin"},
      {{"el", "--listen", "127.0.0.1:0", "--block-time-ms", "0"}, "--block-time-ms"},
      {{"el", "--listen", "127.0.0.1:0", "--chain-seed", "-4"}, "--chain-seed"},
      {{"el", "--listen", "127.0.0.1:0", "--frobnicate", "1"}, "--frobnicate"},
      {{"el", "--listen", "127.0.0.1:0", "--name"}, "--name"},
      {{"el", "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0"}, "--tls-cert"},
      {{"cl", "--listen", "127.0.0.1:0", "--tls-key", "k.pem"}, "--tls-key"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_args(c.args);
    EXPECT_FALSE(parsed.options);
    EXPECT_NE(parsed.error.find(c.names), std::string::npos)
        << "error '" << parsed.error << "' should name " << c.names;
  }
  EXPECT_TRUE(parse_args({"el", "--help"}).help);
}

TEST(FakeNodeOptions, Endpoints) {
  EXPECT_EQ(parse_endpoint("localhost:8545")->address().to_string(), "127.0.0.1");
  EXPECT_EQ(parse_endpoint("[::1]:80")->port(), 80);
  EXPECT_FALSE(parse_endpoint("127.0.0.1:65536"));
  EXPECT_FALSE(parse_endpoint("127.0.0.1"));
  EXPECT_EQ(format_endpoint(*parse_endpoint("127.0.0.1:8545")), "127.0.0.1:8545");
}

}  // namespace
}  // namespace vixy::fakenodes
