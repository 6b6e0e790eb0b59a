#include "net/redact.hpp"

#include <gtest/gtest.h>

namespace vixy::net {
namespace {

TEST(Redact, PathIsMaskedWhateverItsLength) {
  EXPECT_EQ(redact_url("https://mainnet.infura.io/v3/9aa3d95b3bc440fa88ea12eaa4456161"), "https://mainnet.infura.io/***");
  EXPECT_EQ(redact_url("https://eth-mainnet.g.alchemy.com/v2/Xk3b_9Qz-2mYpL7wR4tV"), "https://eth-mainnet.g.alchemy.com/***");
  // Short keys were shown by the old "looks like a key" rule.
  EXPECT_EQ(redact_url("http://host/key/APIKEY123"), "http://host/***");
  EXPECT_EQ(redact_url("https://node.example.com/v2/short123"), "https://node.example.com/***");
  EXPECT_EQ(redact_url("https://node.example.com/eth/mainnet/rpc/"), "https://node.example.com/***");
  EXPECT_EQ(redact_url("http://[::1]:8545/rpc"), "http://[::1]:8545/***");
  EXPECT_EQ(redact_url("https://node.example.com/%41bc"), "https://node.example.com/***");
}

TEST(Redact, UserinfoIsMaskedWhole) {
  EXPECT_EQ(redact_url("https://alice:s3cret@node.example.com/rpc"), "https://***@node.example.com/***");
  EXPECT_EQ(redact_url("https://tokenonly@node.example.com/"), "https://***@node.example.com/");
  EXPECT_EQ(redact_url("https://a:b@node.example.com:8545"), "https://***@node.example.com:8545");
}

TEST(Redact, QueryIsMaskedAndFragmentDropped) {
  EXPECT_EQ(redact_url("https://rpc.example.com/eth?apikey=abc123&x=1"), "https://rpc.example.com/***");
  EXPECT_EQ(redact_url("https://rpc.example.com/?k=1"), "https://rpc.example.com/***");
  EXPECT_EQ(redact_url("https://rpc.example.com?k=1"), "https://rpc.example.com/***");
  EXPECT_EQ(redact_url("https://rpc.example.com/eth?apikey=abc#frag"), "https://rpc.example.com/***");
  EXPECT_EQ(redact_url("https://rpc.example.com/#token=abc"), "https://rpc.example.com/");
  EXPECT_EQ(redact_url("https://rpc.example.com/eth?"), "https://rpc.example.com/***");
}

TEST(Redact, UrlWithNothingToHideIsUnchanged) {
  EXPECT_EQ(redact_url("http://localhost:8545"), "http://localhost:8545");
  EXPECT_EQ(redact_url("http://127.0.0.1:5052/"), "http://127.0.0.1:5052/");
  EXPECT_EQ(redact_url("ws://geth.internal:8546"), "ws://geth.internal:8546");
  EXPECT_EQ(redact_url("wss://[::1]:443/"), "wss://[::1]:443/");
}

TEST(Redact, SchemesAndPortsKept) {
  EXPECT_EQ(redact_url("wss://mainnet.infura.io:443/ws/v3/9aa3d95b3bc440fa88ea12eaa4456161"),
            "wss://mainnet.infura.io:443/***");
  EXPECT_EQ(redact_url("https://beacon.example:5052/KEY/"), "https://beacon.example:5052/***");
}

TEST(Redact, GarbageIsMaskedWhole) {
  EXPECT_EQ(redact_url("not a url"), "***");
  EXPECT_EQ(redact_url(""), "***");
  EXPECT_EQ(redact_url("http://exa mple.com/"), "***");
  // Parses as scheme "localhost" with no authority: we cannot tell its parts apart, so mask it.
  EXPECT_EQ(redact_url("localhost:8545"), "***");
}

}  // namespace
}  // namespace vixy::net
