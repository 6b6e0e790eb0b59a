// Which block a request needs (routing/request_block.hpp), as block-aware routing reads it.
#include <gtest/gtest.h>

#include <string>

#include "routing/request_block.hpp"

namespace vixy::routing {
namespace {

using Kind = RequestBlock::Kind;

RequestBlock of(const std::string& method, const std::string& params) {
  return request_block(R"({"jsonrpc":"2.0","id":1,"method":")" + method + R"(","params":)" + params + "}");
}

TEST(RequestBlock, NumbersTagsAndHashesInEachMethodsPlace) {
  EXPECT_EQ(of("eth_getBlockByNumber", R"(["0x10",false])").kind, Kind::number);
  EXPECT_EQ(of("eth_getBlockByNumber", R"(["0x10",false])").number, 16u);
  EXPECT_EQ(of("eth_getBalance", R"(["0xaa","0x2a"])").number, 42u);
  EXPECT_EQ(of("eth_getStorageAt", R"(["0xaa","0x0","0x3"])").number, 3u);
  EXPECT_EQ(of("eth_call", R"([{"to":"0xaa"},{"blockNumber":"0x5"}])").number, 5u);  // EIP-1898
  EXPECT_EQ(of("eth_call", R"([{"to":"0xaa"},{"blockHash":"0xbb"}])").kind, Kind::none);
  EXPECT_EQ(of("eth_call", R"([{"to":"0xaa"},"latest"])").kind, Kind::latest);
  EXPECT_EQ(of("eth_call", R"([{"to":"0xaa"}])").kind, Kind::latest) << "no block: the node's latest";
  EXPECT_EQ(of("eth_getBalance", R"(["0xaa","pending"])").kind, Kind::latest);
  for (const char* behind : {"earliest", "safe", "finalized"}) {
    EXPECT_EQ(of("eth_getBalance", std::string(R"(["0xaa",")") + behind + "\"]").kind, Kind::none) << behind;
  }
  EXPECT_EQ(of("eth_call", R"([{"to":"0xaa"},null])").kind, Kind::latest) << "null: the node's latest";
  EXPECT_EQ(of("trace_call", R"([{"to":"0xaa"},["trace"],"0x4"])").number, 4u);
  EXPECT_EQ(of("eth_chainId", "[]").kind, Kind::none);
  EXPECT_EQ(of("eth_getTransactionReceipt", R"(["0x01"])").kind, Kind::none);
  EXPECT_EQ(of("eth_getBalance", R"({"address":"0xaa"})").kind, Kind::none) << "named params: not read";
}

// A blockNumber is read one level deep and only as a string: nested objects would make each level
// scan the whole value again (a CPU amplifier in a 10 MB body).
TEST(RequestBlock, ABlockNumberThatIsNotAStringNamesNoBlock) {
  EXPECT_EQ(of("eth_call", R"([{},{"blockNumber":{"blockNumber":"0x1"}}])").kind, Kind::none);
  EXPECT_EQ(of("eth_call", R"([{},{"blockNumber":7}])").kind, Kind::none);
  EXPECT_EQ(of("eth_getLogs", R"([{"toBlock":null}])").kind, Kind::latest);
}

TEST(RequestBlock, LogsAskUpToTheirToBlock) {
  EXPECT_EQ(of("eth_getLogs", R"([{"fromBlock":"0x1","toBlock":"0x9"}])").number, 9u);
  EXPECT_EQ(of("eth_getLogs", R"([{"fromBlock":"0x1"}])").kind, Kind::latest);
  EXPECT_EQ(of("eth_getLogs", R"([{"blockHash":"0xbb"}])").kind, Kind::none);
  EXPECT_EQ(of("eth_getLogs", R"([])").kind, Kind::latest);
}

TEST(RequestBlock, ABatchNeedsTheMostAnyOfItsRequestsNeeds) {
  auto batch = request_block(R"([{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x7",false]},
                                 {"jsonrpc":"2.0","id":2,"method":"eth_getBalance","params":["0xaa","0x9"]},
                                 {"jsonrpc":"2.0","id":3,"method":"eth_chainId"}])");
  EXPECT_EQ(batch.kind, Kind::number);
  EXPECT_EQ(batch.number, 9u);
  auto with_latest = request_block(R"([{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x7",false]},
                                       {"jsonrpc":"2.0","id":2,"method":"eth_blockNumber"},
                                       {"jsonrpc":"2.0","id":3,"method":"eth_call","params":[{},"latest"]}])");
  EXPECT_EQ(with_latest.kind, Kind::latest);
}

}  // namespace
}  // namespace vixy::routing
