#include "net/redact.hpp"

#include <gtest/gtest.h>

namespace vixy::net {
namespace {

TEST(Redact, InfuraProjectIdInPath) {
  EXPECT_EQ(redact_url("https://mainnet.infura.io/v3/9aa3d95b3bc440fa88ea12eaa4456161"),
            "https://mainnet.infura.io/v3/***");
}

TEST(Redact, AlchemyKeyInPath) {
  EXPECT_EQ(redact_url("https://eth-mainnet.g.alchemy.com/v2/Xk3b_9Qz-2mYpL7wR4tV"),
            "https://eth-mainnet.g.alchemy.com/v2/***");
}

TEST(Redact, UserinfoIsMaskedWhole) {
  EXPECT_EQ(redact_url("https://alice:s3cret@node.example.com/rpc"), "https://***@node.example.com/rpc");
  EXPECT_EQ(redact_url("https://tokenonly@node.example.com/"), "https://***@node.example.com/");
}

TEST(Redact, QueryIsMaskedAndFragmentDropped) {
  EXPECT_EQ(redact_url("https://rpc.example.com/eth?apikey=abc123&x=1"), "https://rpc.example.com/eth?***");
  EXPECT_EQ(redact_url("https://rpc.example.com/eth?apikey=abc#frag"), "https://rpc.example.com/eth?***");
  EXPECT_EQ(redact_url("https://rpc.example.com/eth#token=abc"), "https://rpc.example.com/eth");
  EXPECT_EQ(redact_url("https://rpc.example.com/eth?"), "https://rpc.example.com/eth");
}

TEST(Redact, PlainLocalUrlIsUnchanged) {
  EXPECT_EQ(redact_url("http://localhost:8545"), "http://localhost:8545");
  EXPECT_EQ(redact_url("http://127.0.0.1:5052/"), "http://127.0.0.1:5052/");
  EXPECT_EQ(redact_url("http://[::1]:8545/rpc"), "http://[::1]:8545/rpc");
}

TEST(Redact, WebSocketSchemesAndPortsKept) {
  EXPECT_EQ(redact_url("ws://geth.internal:8546"), "ws://geth.internal:8546");
  EXPECT_EQ(redact_url("wss://mainnet.infura.io:443/ws/v3/9aa3d95b3bc440fa88ea12eaa4456161"),
            "wss://mainnet.infura.io:443/ws/v3/***");
}

TEST(Redact, OrdinarySegmentsKept) {
  EXPECT_EQ(redact_url("https://node.example.com/eth/mainnet/rpc/"), "https://node.example.com/eth/mainnet/rpc/");
  EXPECT_EQ(redact_url("https://node.example.com/v2/short123"), "https://node.example.com/v2/short123");
}

TEST(Redact, PercentEncodedKeyIsStillFound) {
  // %41 is 'A': decoded, this is a 20-char key.
  EXPECT_EQ(redact_url("https://node.example.com/v2/%41bcdefgh12345678901"), "https://node.example.com/v2/***");
}

TEST(Redact, GarbageIsMaskedWhole) {
  EXPECT_EQ(redact_url("not a url"), "***");
  EXPECT_EQ(redact_url(""), "***");
  EXPECT_EQ(redact_url("http://exa mple.com/"), "***");
  // Parses as scheme "localhost" with no authority: we cannot tell its parts apart, so mask it.
  EXPECT_EQ(redact_url("localhost:8545"), "***");
}

TEST(Redact, LooksLikeApiKey) {
  EXPECT_TRUE(looks_like_api_key("9aa3d95b3bc440fa88ea12eaa4456161"));
  EXPECT_TRUE(looks_like_api_key("Xk3b_9Qz-2mYpL7wR4tV"));
  EXPECT_TRUE(looks_like_api_key("abcdefgh12345678"));          // 16: the shortest mixed key
  EXPECT_TRUE(looks_like_api_key("deadbeefdeadbeefdeadbeefdeadbeef"));  // 32 letters-only hex
  EXPECT_TRUE(looks_like_api_key("12345678901234567890123456789012"));  // 32 digits
  EXPECT_TRUE(looks_like_api_key("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"));  // 32 letters
  EXPECT_TRUE(looks_like_api_key("f47ac10b-58cc-4372-a567-0e02b2c3d479"));  // a UUID

  EXPECT_FALSE(looks_like_api_key("abcdefg1234567"));  // 14: too short
  EXPECT_FALSE(looks_like_api_key("abcdefgh1234567"));  // 15: too short
  for (const char* route : {"v3", "v2", "eth", "mainnet", "rpc", "ws", ""}) {
    EXPECT_FALSE(looks_like_api_key(route)) << route;
  }
  EXPECT_FALSE(looks_like_api_key("ethereum-mainnet-archive"));  // long, but no digit
  EXPECT_FALSE(looks_like_api_key("abcdefgh12345678.json"));     // '.' is not a key character
  EXPECT_FALSE(looks_like_api_key("1234567890123456"));            // 16 digits: could be a number
}

}  // namespace
}  // namespace vixy::net
